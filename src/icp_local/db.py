"""The local IC's database: one SQLAlchemy engine on SQLite or PostgreSQL, its transactions and its schema.

The local IC keeps every canister, module, chunk and ledger account in one database, so processes that open the
same database share one IC. It may be the same database as an application's own (the factory keeps its tables
beside ours, all of ours prefixed ``ic_``); each opens its own engine and never spans a transaction across both.

* SQLite: a write transaction starts with ``BEGIN IMMEDIATE`` (two writers never interleave; WAL lets readers
  go on), ``busy_timeout`` makes a second writer wait, and ``synchronous=FULL`` makes a returned transaction
  durable, so an acknowledged call survives a power cut.
* PostgreSQL: READ COMMITTED with row locks (``SELECT ... FOR UPDATE``) on the rows a call reads and then writes;
  reads are REPEATABLE READ (one snapshot).

The schema is versioned in ``ic_schema_version``; :meth:`IcDatabase.migrate` applies the missing steps at open
and refuses a database written by a newer local IC rather than guess at its layout.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

metadata = sa.MetaData()

_schema_version = sa.Table(
    "ic_schema_version",
    metadata,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
_COMPONENT = "icp_local"
STATE_FILE_NAME = "ic.sqlite3"


class StorageError(Exception):
    """The local IC's database failed, or holds a schema this program cannot use; the message says which."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema's history: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


class IcDatabase:
    """An engine plus the transaction discipline above. Open one per process with :meth:`open`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str) -> IcDatabase:
        """Open ``sqlite:///path`` or ``postgresql://...`` (``postgresql+psycopg`` is implied)."""
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite"):
            return cls(_sqlite_engine(url))
        return cls(sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10))

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> IcDatabase:
        """The local IC's own SQLite file, ``ic.sqlite3``, in ``state_dir`` (created if missing)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(f"sqlite:///{state_dir / STATE_FILE_NAME}")

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed if the block returns, rolled back if it raises."""
        with self._translate(), self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction with a consistent snapshot (PostgreSQL: REPEATABLE READ, so a query that
        reads a canister's version and then its pages sees one committed state)."""
        with self._translate(), self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")
            else:
                conn.execution_options(isolation_level="REPEATABLE READ")
                conn.begin()
            try:
                yield conn
            finally:
                conn.rollback()

    def migrate(self, steps: list[Migration]) -> None:
        """Bring the schema up to the last of ``steps``; a no-op when it already is.

        Raises:
            StorageError: the database was written by a newer local IC (its version is above the last step).
        """
        if self._migrated:
            return
        with self._lock, self.write() as conn:
            _schema_version.create(conn, checkfirst=True)
            current = _stored_version(conn)
            latest = steps[-1].version if steps else 0
            if current > latest:
                raise StorageError(
                    f"the local IC's state has schema version {current}, newer than this program's {latest}; "
                    "upgrade the program to open it"
                )
            for step in steps:
                if step.version > current:
                    step.apply(conn)
            conn.execute(sa.delete(_schema_version).where(_schema_version.c.component == _COMPONENT))
            conn.execute(
                sa.insert(_schema_version).values(component=_COMPONENT, version=max(current, latest))
            )
        self._migrated = True

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StorageError(f"local IC database error: {exc.__class__.__name__}: {exc}") from exc


def _stored_version(conn: Connection) -> int:
    found = conn.execute(
        sa.select(_schema_version.c.version).where(_schema_version.c.component == _COMPONENT)
    ).scalar()
    return int(found or 0)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    return engine
