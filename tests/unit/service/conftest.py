"""The use cases on the in-memory store and an in-process IC: the real ``icp_local.LocalIc`` through
``EmbeddedManagement`` (in a temporary SQLite file, about 10 ms per creation), wrapped in ``ScriptedIc``.

The clock is a ``FakeClock`` and the host a ``FakeHost`` on that clock, so nothing sleeps and leases lapse when a
test moves the clock. Each test gets a fresh factory (``env``), or one deployed with the defaults and funded
(``deployed``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory.ic.embedded import EmbeddedManagement
from canister_factory.ports import FakeClock, FakeHost
from canister_factory.service.context import Context
from canister_factory.service.installer import Installer
from canister_factory.store.memory import MemoryUnitOfWork
from icp_client.principal import Principal
from icp_local import LocalIc
from tests.support.wasm_modules import counter_wasm
from tests.unit.service.helpers import FACTORY, Env, principal, upload
from tests.unit.service.scripted_ic import ScriptedIc


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """A factory that is not deployed yet (``env.deploy(...)`` deploys it)."""
    clock = FakeClock()
    host = FakeHost(clock=clock)
    local = LocalIc.for_state_dir(tmp_path, clock=clock)
    ic = ScriptedIc(EmbeddedManagement(local, FACTORY))
    ctx = Context(store=MemoryUnitOfWork(), ic=ic, clock=clock, host=host)  # type: ignore[arg-type]
    try:
        yield Env(ctx, Installer(ctx), ic, local, clock, host, principal(0xAD))
    finally:
        local.close()


@pytest.fixture
def deployed(env: Env) -> Env:
    """The factory deployed with the defaults and funded."""
    env.deploy()
    return env


@pytest.fixture
def alice() -> Principal:
    return principal(0xA1)


@pytest.fixture
def bob() -> Principal:
    return principal(0xB0)


@pytest.fixture
def counter() -> bytes:
    return counter_wasm()


@pytest.fixture
def alice_upload(deployed: Env, alice: Principal, counter: bytes) -> int:
    """Alice's committed upload of the counter."""
    return upload(deployed, alice, counter)
