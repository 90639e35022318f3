"""Fixtures for the factory's integration tests: a deployed, funded factory on the embedded IC in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canister_factory._core.config import InitArg
from canister_factory.service.factory import Factory
from icp_client.principal import Principal
from tests.support.factory import Harness, deploy, new_principal, upload_module
from tests.support.wasm_modules import counter_wasm


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = deploy(tmp_path / "state")
    yield harness
    harness.app.close()


@pytest.fixture
def factory(h: Harness) -> Factory:
    return h.factory


@pytest.fixture
def alice() -> Principal:
    return new_principal()


@pytest.fixture
def bob() -> Principal:
    return new_principal()


@pytest.fixture
def counter_upload(factory: Factory, alice: Principal) -> int:
    """Alice's committed upload of the counter module."""
    return upload_module(factory, alice, counter_wasm())


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """``make(InitArg(...), funding=...)``: a factory deployed with other options (closed after the test)."""
    opened: list[Harness] = []

    def _make(init: InitArg | None = None, **kwargs: Any) -> Harness:
        harness = deploy(tmp_path / f"state{len(opened)}", init, **kwargs)
        opened.append(harness)
        return harness

    yield _make
    for harness in opened:
        harness.app.close()
