"""Fixtures for the embedded IC's unit tests: a fresh SQLite database per test and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory._core.principal import Principal
from canister_factory.ic.embedded import EmbeddedIc, SubnetConfig
from canister_factory.ports import FakeClock
from canister_factory.store.db import Database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ic.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{db_path}")
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> SubnetConfig:
    return SubnetConfig()


@pytest.fixture
def ic(db: Database, clock: FakeClock, config: SubnetConfig) -> EmbeddedIc:
    return EmbeddedIc(db, clock=clock, config=config)


@pytest.fixture
def alice() -> Principal:
    return Principal.self_authenticating(b"alice's public key")


@pytest.fixture
def bob() -> Principal:
    return Principal.self_authenticating(b"bob's public key")
