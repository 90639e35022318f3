"""Hundreds of requests with invented methods and paths do not add a single series to ``/metrics``."""

from __future__ import annotations

import random
import string
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from canister_factory.api import ServiceOptions
from canister_factory.client import FactoryClient
from icp_client.identity import generate_identity
from tests.support.attacks import Attack
from tests.support.backends import open_backend

REQUESTS = 400
OPTIONS = ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False)
KNOWN_PATHS = ["/v1/uploads", "/v1/uploads/7", "/v1/canisters", "/v1/config", "/v1/admin/cleanup", "/metrics"]


def _series(http: httpx.Client, url: str) -> tuple[int, int]:
    """How many series ``/metrics`` exposes, and how many bytes it is."""
    text = http.get(url + "/metrics").text
    return sum(len(f.samples) for f in text_string_to_metric_families(text)), len(text)


def _word(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def test_random_methods_and_paths_leave_the_series_unchanged(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"{REQUESTS} requests, unsigned and signed, with random invented HTTP methods and random or known paths",
        "the number of /metrics series does not change (method becomes 'other', route 'unmatched')",
    )
    rng = random.Random(9)
    with open_backend("http-sqlite", tmp_path, options=OPTIONS) as backend, httpx.Client() as http:
        assert backend.url
        before, size_before = _series(http, backend.url)
        signer = FactoryClient(backend.url, generate_identity())
        statuses: set[int] = set()
        for i in range(REQUESTS):
            method = (
                _word(rng, string.ascii_uppercase, 3, 12) if i % 3 else rng.choice(["GET", "POST", "PATCH"])
            )
            path = (
                rng.choice(KNOWN_PATHS) if i % 2 else "/" + _word(rng, string.ascii_letters + "/%._-", 1, 40)
            )
            if i % 5 == 0:
                request = signer.build_request(method, path, content=b"x")
            else:
                request = http.build_request(method, backend.url + path, content=b"x")
            statuses.add(http.send(request).status_code)
        signer.close()
        after, size_after = _series(http, backend.url)
        attack.saw(
            f"{before} series before, {after} after ({size_before} and {size_after} bytes); "
            f"statuses seen: {sorted(statuses)}"
        )
        assert after == before
        assert 500 not in statuses
