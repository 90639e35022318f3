"""Fixtures: the embedded IC on a fresh SQLite database, served by the HTTP front on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory.ic.network import NetworkManagement
from icp_client.agent import Agent
from icp_client.identity import Identity, generate_identity
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import RunningFront, generate_front_keys, running_front

T = 1_000_000_000_000


@pytest.fixture
def db(tmp_path: Path) -> Iterator[IcDatabase]:
    database = IcDatabase.open(f"sqlite:///{tmp_path / 'ic.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture
def engine(db: IcDatabase) -> LocalIc:
    return LocalIc(db)


@pytest.fixture
def front(engine: LocalIc) -> Iterator[RunningFront]:
    with running_front(engine, generate_front_keys()) as running:
        yield running


@pytest.fixture
def identity() -> Identity:
    return generate_identity("ed25519")


@pytest.fixture
def agent(front: RunningFront, identity: Identity) -> Iterator[Agent]:
    with Agent(front.url, identity, front.root_key_der, timeout=10, poll_timeout=30) as client:
        yield client


@pytest.fixture
def network(agent: Agent, engine: LocalIc) -> NetworkManagement:
    engine.mint(agent.sender, 100 * T)
    return NetworkManagement(agent, creation_fee=engine.config.creation_fee)
