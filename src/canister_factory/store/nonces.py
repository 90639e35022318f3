"""Replay protection for signed HTTP requests: every (principal, nonce) pair is accepted once.

The table lives in the factory's database, so every service process sharing that database refuses a nonce that
any of them has seen. The primary key makes the check atomic: the insert is ``ON CONFLICT DO NOTHING`` and a
replay is the insert that changed no row (no read-then-write race, on SQLite or PostgreSQL). Rows are kept until
their request's ``expires`` has passed (plus the clock skew the verifier allows); after that the request is refused
as expired anyway, so :meth:`NonceStore.prune` may delete them.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from canister_factory.store.db import Database, Migration, metadata

COMPONENT = "request_nonces"
KEEP_AFTER_EXPIRY_S = 120
"""Rows outlive their request's expiry by this much, more than any clock skew the verifier tolerates."""

request_nonces = sa.Table(
    "request_nonces",
    metadata,
    sa.Column("principal", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(128), primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)


def _create(conn: Connection) -> None:
    request_nonces.create(conn, checkfirst=True)


MIGRATIONS = [Migration(1, "request_nonces table", _create)]


class NonceStore:
    """The nonces of signed requests, in the factory's database. One per process; thread-safe."""

    def __init__(self, db: Database, *, prune_every_s: int = 60) -> None:
        self.db = db
        self._prune_every_s = prune_every_s
        self._last_prune = 0
        self._lock = threading.Lock()
        db.migrate(COMPONENT, MIGRATIONS)

    def remember(self, principal: str, nonce: str, expires_at: int, *, now_s: int) -> bool:
        """Record a nonce; True if it was new, False if some request already used it (a replay).

        Raises:
            StoreError: the database failed.
        """
        self._maybe_prune(now_s)
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(request_nonces)
            .values(principal=principal, nonce=nonce, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["principal", "nonce"])
            .returning(request_nonces.c.nonce)
        )
        with self.db.write() as conn:
            return conn.execute(statement).first() is not None

    def prune(self, now_s: int) -> int:
        """Delete the nonces of requests that can no longer be accepted; returns how many went."""
        cutoff = now_s - KEEP_AFTER_EXPIRY_S
        with self.db.write() as conn:
            return conn.execute(
                sa.delete(request_nonces).where(request_nonces.c.expires_at < cutoff)
            ).rowcount

    def count(self) -> int:
        """How many nonces are recorded (for tests and metrics)."""
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(request_nonces)).scalar_one())

    def _maybe_prune(self, now_s: int) -> None:
        with self._lock:
            if now_s - self._last_prune < self._prune_every_s:
                return
            self._last_prune = now_s
        self.prune(now_s)
