"""The store port over SQLAlchemy (SQLite or PostgreSQL): ``SqlUnitOfWork`` and its transactions.

``write()`` / ``read()`` open a transaction on the database (``db``: SQLite's single writer, PostgreSQL's row
locks) and yield a ``SqlTransaction`` whose concerns are the repositories of this package, all over that one
connection. Row locks (``FOR UPDATE`` / ``FOR SHARE``) are rendered on PostgreSQL and are no-ops on SQLite,
where the write transaction already holds the database's write lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables
from canister_factory.store.callers import SqlCallers
from canister_factory.store.chunk_stores import SqlChunkStores
from canister_factory.store.counters import SqlCounters
from canister_factory.store.creations import SqlCreations, SqlSpares
from canister_factory.store.db import Database
from canister_factory.store.modules import SqlModules
from canister_factory.store.settings import SqlSettings
from canister_factory.store.spends import SqlSpends
from canister_factory.store.uploads import SqlUploads

if TYPE_CHECKING:
    from canister_factory.unit_of_work import UnitOfWork


class SqlTransaction:
    """The concerns of one transaction, each a repository over ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counters = SqlCounters(conn)
        self.settings = SqlSettings(conn, self.counters)
        self.modules = SqlModules(conn, self.counters)
        self.uploads = SqlUploads(conn, self.counters, self.modules)
        self.callers = SqlCallers(conn, self.counters)
        self.creations = SqlCreations(conn)
        self.spares = SqlSpares(conn)
        self.spends = SqlSpends(conn)
        self.chunk_stores = SqlChunkStores(conn)


class SqlUnitOfWork:
    """``UnitOfWork`` on a database; migrates the factory's tables on construction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("factory", factory_tables.MIGRATIONS)

    @contextlib.contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        with self.db.write() as conn:
            yield SqlTransaction(conn)

    @contextlib.contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self.db.read() as conn:
            yield SqlTransaction(conn)


if TYPE_CHECKING:  # mypy proves that this implements the port
    _IMPLEMENTS: UnitOfWork = SqlUnitOfWork(Database.open("sqlite://"))
