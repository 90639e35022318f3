"""Fixtures for the embedded IC's unit tests: a fresh SQLite database per test and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory.ports import FakeClock
from icp_client.principal import Principal
from icp_local import LocalIc, SubnetConfig
from icp_local.db import IcDatabase


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ic.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[IcDatabase]:
    database = IcDatabase.open(f"sqlite:///{db_path}")
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> SubnetConfig:
    return SubnetConfig()


@pytest.fixture
def ic(db: IcDatabase, clock: FakeClock, config: SubnetConfig) -> LocalIc:
    return LocalIc(db, clock=clock, config=config)


@pytest.fixture
def alice() -> Principal:
    return Principal.self_authenticating(b"alice's public key")


@pytest.fixture
def bob() -> Principal:
    return Principal.self_authenticating(b"bob's public key")
