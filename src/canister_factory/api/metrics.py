"""Prometheus metrics, written by hand in the text exposition format (version 0.0.4).

Counters live in this process (each service process exports its own); the factory gauges are read from the
shared database at scrape time, so every process reports the same values for them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canister_factory._core.model import FactoryStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The service's counters. Thread-safe: routes run in a threadpool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.creations: Counter[str] = Counter()
        self.upload_bytes = 0
        self.auth_failures = 0
        self.started = time.time()

    def count_request(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1

    def count_creation(self, outcome: str) -> None:
        with self._lock:
            self.creations[outcome] += 1

    def add_upload_bytes(self, count: int) -> None:
        with self._lock:
            self.upload_bytes += count

    def count_auth_failure(self) -> None:
        with self._lock:
            self.auth_failures += 1

    def render(self, stats: FactoryStats | None) -> str:
        """The exposition text; ``stats`` None (no factory deployed) leaves the factory gauges out."""
        with self._lock:
            lines = [
                *_family(
                    "cf_http_requests_total",
                    "counter",
                    "HTTP requests by method, route and status",
                    (
                        (f'method="{m}",route="{_esc(r)}",status="{s}"', n)
                        for (m, r, s), n in sorted(self.requests.items())
                    ),
                ),
                *_family(
                    "cf_creations_total",
                    "counter",
                    "create_and_install_with calls by outcome",
                    ((f'outcome="{_esc(o)}"', n) for o, n in sorted(self.creations.items())),
                ),
                *_family(
                    "cf_upload_bytes_total", "counter", "chunk bytes accepted", [("", self.upload_bytes)]
                ),
                *_family(
                    "cf_auth_failures_total",
                    "counter",
                    "requests refused with 401",
                    [("", self.auth_failures)],
                ),
            ]
        lines += _family(
            "cf_process_start_time_seconds", "gauge", "when this process started", [("", int(self.started))]
        )
        if stats is not None:
            lines += _gauges(stats)
        return "\n".join(lines) + "\n"


def _gauges(stats: FactoryStats) -> list[str]:
    out: list[str] = []
    for name, value, text in (
        ("cf_canisters_created", stats.total_canisters_created, "canisters the factory created"),
        ("cf_uploads_total", stats.total_uploads, "uploads ever started"),
        ("cf_uploads_active", stats.active_uploads, "uploads not yet cleaned up"),
        ("cf_factory_cycles_balance", stats.factory_cycles_balance, "the factory's cycles balance"),
        ("cf_unique_callers", stats.unique_callers, "callers that created at least one canister"),
    ):
        out += _family(name, "gauge", text, [("", value)])
    return out


def _family(name: str, kind: str, text: str, samples: Iterable[tuple[str, int]]) -> list[str]:
    lines = [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{{{labels}}} {value}" if labels else f"{name} {value}" for labels, value in samples]
    return lines


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class RequestCounter:
    """ASGI middleware: count every request by method, route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.count_request(scope["method"], route, status)
            if status == 401:
                self.metrics.count_auth_failure()
