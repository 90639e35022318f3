"""The scenario suite's fixtures: one deployed, funded factory per test, reached through each of four backends.

``backend`` is parametrized over ``inproc``, ``http-sqlite``, ``http-postgres`` and ``network`` (see
``tests/support/backends.py``). A test that needs other deploy options says so with
``@pytest.mark.factory(init=InitArg(...), funding=...)``. A known bug of one backend is marked with
``@pytest.mark.xfail_on("http-postgres", reason=...)`` (strict: the test must fail there until it is fixed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from icp_client.identity import Identity, generate_identity
from tests.support.backends import DEFAULT_FUNDING, Backend, open_backend


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "factory(init=None, funding=...): deploy options for the scenario suite's backend"
    )
    config.addinivalue_line(
        "markers", "xfail_on(*backends, reason): a known bug, strict xfail on those scenario backends only"
    )


@pytest.fixture(
    params=[
        "inproc",
        "http-sqlite",
        pytest.param("http-postgres", marks=pytest.mark.postgres),
        "network",
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    for known in request.node.iter_markers("xfail_on"):
        if request.param in known.args:
            request.applymarker(pytest.mark.xfail(strict=True, reason=known.kwargs["reason"]))
    marker = request.node.get_closest_marker("factory")
    options = dict(marker.kwargs) if marker else {}
    with open_backend(
        str(request.param),
        tmp_path,
        options.get("init"),
        funding=options.get("funding", DEFAULT_FUNDING),
    ) as opened:
        yield opened


@pytest.fixture
def alice() -> Identity:
    return generate_identity("ed25519")


@pytest.fixture
def bob() -> Identity:
    return generate_identity("ed25519")
