"""Fixtures for the store port's contract: one ``UnitOfWork`` per backend (memory, SQLite, PostgreSQL).

PostgreSQL runs in a fresh schema per test on the test server (``CANISTER_FACTORY_TEST_PG``, else
``CANISTER_FACTORY_TEST_POSTGRES``, else the local default); its tests are skipped, with the reason shown, when
the server cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory.store.db import Database
from canister_factory.store.memory import MemoryUnitOfWork
from canister_factory.store.sql import SqlUnitOfWork
from canister_factory.unit_of_work import UnitOfWork

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_url() -> str:
    return (
        os.environ.get("CANISTER_FACTORY_TEST_PG")
        or os.environ.get("CANISTER_FACTORY_TEST_POSTGRES")
        or DEFAULT_PG
    )


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh schema on the test server, as a URL whose connections use it; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    url = _pg_url()
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {url}: {exc}")
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWork]:
    """The store port on each backend, empty."""
    if request.param == "memory":
        yield MemoryUnitOfWork()
        return
    if request.param == "sqlite":
        db = Database.open(f"sqlite:///{tmp_path / 'factory.sqlite3'}")
    else:
        db = Database.open(request.getfixturevalue("pg_schema_url"))
    try:
        yield SqlUnitOfWork(db)
    finally:
        db.dispose()
