"""The database: one SQLAlchemy engine for SQLite or PostgreSQL, transactions, and schema migrations.

Every table of the factory and of the embedded IC lives in one database, so processes that share the database
share one factory and one IC. Write transactions are serialised where it matters:

* SQLite: every write transaction starts with ``BEGIN IMMEDIATE``, taking the database's write lock at once, so
  two writers never interleave (WAL mode lets readers go on meanwhile). ``busy_timeout`` makes a second writer
  wait instead of failing. ``synchronous=FULL``: a transaction that returned has reached the disk (fsync), so an
  acknowledged chunk, commit or creation step survives a power cut, not only a killed process.
* PostgreSQL: transactions run at READ COMMITTED and take row locks (``SELECT ... FOR UPDATE`` / ``FOR SHARE``)
  on the rows a rule reads before it writes: the factory's settings row for emergency stop and admin changes, a
  caller's quota row for reservations. Row locks rather than SERIALIZABLE because they make a conflicting writer
  wait instead of failing with a serialization error that every caller would have to retry.

Migrations are a linear list of steps per component (the factory's tables, the request nonces), applied in order
at start under the write lock and recorded in ``schema_version``. A database whose recorded version is above the
program's last step was written by a newer program: it is refused with both versions named (``SchemaTooNew``),
never opened, because a downgrade would read and write a layout it does not know.

Why this runner and not Alembic: the schema is created and upgraded by the program itself when it opens the
database, under the same write lock that serialises every other writer, so several processes starting at once on
one PostgreSQL database migrate it exactly once; there is no operator-run step to forget. Alembic's strengths do
not apply here: we never downgrade (we refuse instead), we do not autogenerate (each step is a few lines of
SQLAlchemy that run on both dialects), and its environment (``env.py``, a ``versions/`` folder, one
``alembic_version`` table per component, its own locking) would be more code than the forty lines below, while the
local IC (``icp_local.db``) keeps its own table with the same rule. A version-1 database holding data is
upgraded to the latest version in the tests, on SQLite and on PostgreSQL.
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

from canister_factory._core.errors import StoreError

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


class SchemaTooNew(StoreError):
    """The database's schema is newer than this program's: it was written by a later version."""

    code = "schema_too_new"

    def __init__(self, component: str, found: int, supported: int) -> None:
        super().__init__(
            f"the database's {component} schema is version {found}, newer than this program's version "
            f"{supported}; upgrade canister-factory to open it (nothing was changed)"
        )
        self.component = component
        self.found = found
        self.supported = supported


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a component's schema history: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


class Database:
    """An engine plus the transaction discipline above. Build one per process with ``Database.open``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._migrated: set[str] = set()
        self._lock = threading.Lock()
        self._checkpointer = _Checkpointer(engine) if engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str) -> Database:
        """Open ``sqlite:///path`` or ``postgresql://...`` (``postgresql+psycopg`` is implied)."""
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite"):
            return cls(_sqlite_engine(url))
        return cls(sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10))

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> Database:
        """The default store: one SQLite file, ``factory.sqlite3``, in the state directory."""
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(f"sqlite:///{state_dir / 'factory.sqlite3'}")

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed if the block returns, rolled back if it raises."""
        with self._translate(), self.engine.connect() as conn:
            if self._checkpointer is not None:
                self._checkpointer.start()
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
        """A read-only transaction with a consistent snapshot."""
        with self._translate(), self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")
            else:
                conn.begin()
            try:
                yield conn
            finally:
                conn.rollback()

    def migrate(self, component: str, steps: list[Migration]) -> None:
        """Bring ``component``'s tables up to the last of ``steps``; a no-op when they already are.

        Raises:
            SchemaTooNew: the database was written by a newer program (its version is above the last step).
        """
        if component in self._migrated:
            return
        with self._lock:
            with self.write() as conn:
                schema_version.create(conn, checkfirst=True)
                current = conn.execute(
                    sa.select(schema_version.c.version).where(schema_version.c.component == component)
                ).scalar()
                current = current or 0
                latest = steps[-1].version if steps else 0
                if current > latest:
                    raise SchemaTooNew(component, current, latest)
                for step in steps:
                    if step.version <= current:
                        continue
                    step.apply(conn)
                    current = step.version
                conn.execute(sa.delete(schema_version).where(schema_version.c.component == component))
                conn.execute(sa.insert(schema_version).values(component=component, version=current))
            self._migrated.add(component)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc


class _Checkpointer:
    """Copies SQLite's write-ahead log into the database file in a background thread.

    SQLite's default is to checkpoint inside whichever commit finds the log over 1,000 pages, so that one request
    pays for copying everyone's writes. Here a thread does it (``PRAGMA wal_checkpoint(PASSIVE)``, which never
    blocks a writer) once the log passes ``THRESHOLD`` bytes, as a database server's background writer would;
    ``wal_autocheckpoint`` stays on, higher, as the backstop should the thread fall behind. A process that ends
    without it (a short CLI command) leaves the log to SQLite, which checkpoints when the last connection closes.
    """

    THRESHOLD = 8 * 1024 * 1024
    INTERVAL_S = 0.2

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._wal = Path(f"{engine.url.database}-wal") if engine.url.database else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    def start(self) -> None:
        if self._thread is not None or self._wal is None:
            return
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        assert self._wal is not None
        while not self._stop.wait(self.INTERVAL_S):
            try:
                if self._wal.exists() and self._wal.stat().st_size > self.THRESHOLD:
                    with self._engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # a background helper: the backstop checkpoint still runs
                continue


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA page_size=32768")  # before the first table: 1 MiB chunks span fewer pages
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA wal_autocheckpoint=4096")  # the backstop; _Checkpointer does it sooner
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine
