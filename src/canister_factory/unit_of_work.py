"""The store port: the unit of work the use cases take, and one small protocol per concern. Standard library only.

A use case opens a transaction with ``store.write()`` (or ``store.read()``) and reaches the factory's records
through the transaction's concerns::

    with ctx.store.write() as tx:
        settings = tx.settings.load(lock="share")
        upload_id = tx.counters.allocate_upload_id()
        tx.uploads.insert(Upload(upload_id, ...))

The semantics every implementation keeps (``store.sql`` on SQLite and PostgreSQL, ``store.memory`` for unit
tests; ``tests/integration/store`` runs one contract suite on all three):

* ``write()``: everything done in the block is committed when it returns and nothing of it when it raises.
  Writers are serialised where they touch the same rows (SQLite: one writer at a time; PostgreSQL: the row locks
  below; in memory: one writer at a time), so a rule read and then written in one block holds.
* ``read()``: what was committed (one snapshot on SQLite and in memory; under PostgreSQL's READ COMMITTED,
  what was committed when each statement ran); whatever the block writes is discarded.
* ``lock`` arguments take row locks until the end of the transaction (PostgreSQL; elsewhere the single writer
  already excludes the others). Lock order, kept by every transaction so that two never wait on each other: the
  settings row, the cycles guard, the counters row, a caller's quota row, then registry rows.
* A store failure raises ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from canister_factory._core.config import Settings
from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory._core.uploads import Upload
from icp_client.principal import Principal

__all__ = [
    "CallerQuota",
    "CallerRepo",
    "ChunkStoreRepo",
    "CounterRepo",
    "Counters",
    "CreationRepo",
    "CreationRow",
    "ModuleRepo",
    "RowLock",
    "SettingsRepo",
    "SparePool",
    "SpendRepo",
    "StoreRow",
    "Transaction",
    "UnitOfWork",
    "UploadRepo",
]

RowLock = Literal["share", "update"]
"""``share``: others may read the row but not change it; ``update``: nobody else may lock it either."""


# records --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreationRow:
    """A row of the registry: one creation and the canister it made, for ``owner``, asked for by ``caller``."""

    id: int
    owner: Principal
    caller: Principal
    canister_id: Principal | None
    upload_id: int
    module_hash: bytes
    mode: Mode
    cycles: int
    handoff: bool
    controllers: tuple[Principal, ...]
    init_arg: bytes
    state: State
    created_at_time_ns: int
    idempotency_key: str | None
    cycles_used: int | None
    error: str | None
    requested_at_ns: int
    updated_at_ns: int
    claimed_by: str | None
    claimed_until_ns: int | None
    from_spare: bool = False
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class StoreRow:
    """A store canister of the pool (``canister_id`` None while it is being created) and its claim."""

    id: int
    canister_id: Principal | None
    created_at_time_ns: int
    claimed_by: str | None
    claimed_until_ns: int | None
    module_hash: bytes | None


@dataclass(frozen=True, slots=True)
class CallerQuota:
    """A caller's row: creations holding quota, creations finished, and when the last one finished."""

    quota_used: int
    created_count: int
    last_created_at_ns: int | None


@dataclass(frozen=True, slots=True)
class Counters:
    """The factory-wide counters that statistics read (so they cost the same with a million canisters)."""

    next_upload_id: int
    total_canisters_created: int
    active_uploads: int
    unique_callers: int
    last_created_at_time_ns: int
    overhead_cycles_used: int
    stored_bytes: int


# the concerns ---------------------------------------------------------------------------------------


class SettingsRepo(Protocol):
    """The deployed configuration, the admins, the allowlist, and the factory's own key."""

    def factory_key(self, make_pem: Callable[[], str]) -> str:
        """The PEM of the factory's identity, made with ``make_pem`` the first time (race-free)."""
        ...

    def is_deployed(self) -> bool: ...

    def load(
        self, *, lock: RowLock | None = None, for_caller: Principal | None = None, admins: bool = True
    ) -> Settings | None:
        """The settings, or None before deploy.

        With ``for_caller``, the allowlist holds at most that caller (enough for the access rules, one lookup
        instead of up to 10,000 rows). ``admins=False`` leaves the admin set empty.
        """
        ...

    def insert(self, settings: Settings, *, deployer: Principal, now_ns: int, network: str) -> None:
        """Deploy: record ``settings`` and start the counters (StoreError if deployed already)."""
        ...

    def network(self) -> str | None:
        """The IC recorded at deploy, None before."""
        ...

    def set_emergency_stop(self, stopped: bool) -> None: ...

    def set_allowlist(self, allowlist: frozenset[Principal] | None) -> None: ...

    def set_admins(self, admins: frozenset[Principal]) -> None: ...


class CounterRepo(Protocol):
    """The counters row."""

    def read(self) -> Counters: ...

    def allocate_upload_id(self) -> int: ...

    def next_created_at_time(self, now_ns: int) -> int:
        """A ``created_at_time`` for the cycles ledger that no other call of this factory uses (>= now)."""
        ...

    def claim_storage(self, size: int, limit: int) -> int | None:
        """Count ``size`` more stored bytes unless the total would pass ``limit``; the new total, or None."""
        ...

    def bump(
        self,
        *,
        total_canisters_created: int = 0,
        active_uploads: int = 0,
        unique_callers: int = 0,
        overhead_cycles_used: int = 0,
        stored_bytes: int = 0,
    ) -> None:
        """Add each delta to its counter."""
        ...


class UploadRepo(Protocol):
    """Uploads and their chunks, until they are committed as modules."""

    def get(self, upload_id: int, *, lock: bool = False) -> Upload | None:
        """The upload (None for any id no stored upload can have)."""
        ...

    def insert(self, upload: Upload) -> None: ...

    def count(self, owner: Principal, *, committed: bool) -> int: ...

    def chunk_at(self, upload_id: int, idx: int) -> bytes | None: ...

    def append_chunk(self, upload: Upload, data: bytes, now_ns: int) -> int:
        """Store ``data`` as the next chunk of ``upload``; returns the new total length."""
        ...

    def touch(self, upload_id: int, now_ns: int) -> None:
        """Record activity (an expiring upload's clock restarts)."""
        ...

    def chunks(self, upload_id: int) -> Iterator[bytes]:
        """The upload's chunks in order, each read when it is asked for (within the transaction)."""
        ...

    def chunk_hashes(self, upload_id: int) -> list[bytes]:
        """The SHA-256 of each chunk, computed from the stored bytes."""
        ...

    def commit(self, upload: Upload, module_hash: bytes, now_ns: int) -> None:
        """Turn ``upload`` into the module ``module_hash`` (its chunks are dropped if that module exists)."""
        ...

    def delete(self, upload: Upload) -> None:
        """Remove an upload; its module too once no upload and no unfinished creation uses it."""
        ...

    def expired(self, cutoff_ns: int, limit: int) -> list[Upload]:
        """Open uploads idle since before ``cutoff_ns``, longest idle first."""
        ...

    def open_of(self, owner: Principal, limit: int) -> list[Upload]:
        """``owner``'s open (not committed) uploads, oldest first, at most ``limit``."""
        ...


class ModuleRepo(Protocol):
    """Committed modules, shared by every upload that hashes to them."""

    def size(self, module_hash: bytes) -> int | None: ...

    def chunk_ids(self, module_hash: bytes) -> list[int]:
        """The ids of the module's stored chunks, in order (read each with :meth:`chunk`)."""
        ...

    def chunk(self, data_id: int) -> bytes: ...

    def chunk_hashes(self, module_hash: bytes) -> list[bytes]: ...

    def read(self, module_hash: bytes) -> bytes:
        """The whole module."""
        ...

    def count(self) -> int: ...


class CallerRepo(Protocol):
    """Each caller's quota row."""

    def lock(self, caller: Principal) -> CallerQuota:
        """The caller's row, created if missing (a new caller is counted), locked until the end."""
        ...

    def quota(self, caller: Principal) -> CallerQuota: ...

    def adjust_quota(self, caller: Principal, delta: int) -> None: ...

    def record_created(self, caller: Principal, now_ns: int) -> None:
        """A creation of ``caller``'s finished: counted for the caller and the factory."""
        ...


class CreationRepo(Protocol):
    """The registry: every creation, its state and the claim of whoever drives it."""

    def insert(self, row: CreationRow) -> int:
        """Record ``row`` (its ``id`` is ignored); returns the new id. StoreError on a reused idempotency key."""
        ...

    def get(self, record_id: int, *, lock: bool = False) -> CreationRow | None: ...

    def find_by_key(self, caller: Principal, key: str) -> CreationRow | None:
        """The creation ``caller`` asked for with idempotency key ``key``."""
        ...

    def find_by_canister(self, canister_id: Principal) -> CreationRow | None:
        """The newest READY creation of ``canister_id``."""
        ...

    def update(self, record_id: int, **fields: object) -> None:
        """Set ``fields`` (names of ``CreationRow``) on the record."""
        ...

    def page(
        self, owner: Principal | None, cursor: int | None, limit: int, *, or_caller: bool = False
    ) -> list[CreationRow]:
        """Newest first, ``owner``'s or everyone's; ``cursor`` is the id below which to continue.

        ``or_caller``: also the creations ``owner`` asked for as the caller (those made for others).
        """
        ...

    def unfinished(self) -> list[CreationRow]:
        """Every creation neither READY nor FAILED, oldest first."""
        ...

    def claim(self, record_id: int, owner: str, until_ns: int) -> None: ...

    def count_requested_since(self, caller: Principal, since_ns: int) -> int:
        """The creations ``caller`` asked for since ``since_ns`` that did not fail (the daily rate)."""
        ...


class SparePool(Protocol):
    """Canisters of failed creations that the factory still controls, reused by the next creations."""

    def add(self, canister_id: Principal, record_id: int, now_ns: int) -> None:
        """Add a spare (a no-op if it is there already)."""
        ...

    def take(self) -> Principal | None:
        """Remove and return the oldest spare (skipping those other transactions are taking)."""
        ...

    def all(self) -> list[Principal]: ...

    def count(self) -> int: ...


class SpendRepo(Protocol):
    """Spends of the factory's cycles: reserved before the IC is asked, then settled or released."""

    def lock(self) -> None:
        """Take the lock every check of the cycles floor holds (the guard row)."""
        ...

    def reserved(self, now_ns: int) -> int:
        """Cycles held by reservations the IC has not answered yet (lapsed ones no longer count)."""
        ...

    def spent_by(self, caller: Principal, since_ns: int, now_ns: int) -> int:
        """Cycles ``caller``'s spends took or hold reserved since ``since_ns``."""
        ...

    def reserve(
        self,
        kind: str,
        amount: int,
        now_ns: int,
        *,
        caller: Principal | None = None,
        creation_id: int | None = None,
        lapses_at_ns: int | None = None,
    ) -> int:
        """Record a reservation of ``amount`` (``kind``: creation, top_up, store); returns its id."""
        ...

    def settle(self, spend_id: int, amount: int) -> None:
        """The IC answered: the reservation becomes a spend of ``amount``."""
        ...

    def release(self, spend_id: int) -> None:
        """The IC refused: the reservation goes."""
        ...

    def settle_creation(self, creation_id: int, amount: int) -> None: ...

    def release_creation(self, creation_id: int) -> None: ...

    def prune(self, before_ns: int, now_ns: int) -> None:
        """Forget spends older than ``before_ns`` and reservations that lapsed by ``now_ns``."""
        ...


class ChunkStoreRepo(Protocol):
    """The pool of store canisters large installs go through, and their claims."""

    def canisters(self) -> list[Principal]:
        """Every store canister of the pool (not those still being created)."""
        ...

    def rows(self) -> list[StoreRow]:
        """The pool, locked until the end of the transaction."""
        ...

    def add(self, created_at_time_ns: int, token: str, until_ns: int, now_ns: int) -> int:
        """A row for a store about to be created, claimed by ``token``; returns its id."""
        ...

    def claim(self, store_id: int, token: str, until_ns: int) -> None: ...

    def set_canister(self, store_id: int, canister_id: Principal) -> None: ...

    def release(self, store_id: int, token: str, module_hash: bytes | None) -> None:
        """Give the store back if ``token`` still holds it, noting the module whose chunks it now holds."""
        ...


# the unit of work -----------------------------------------------------------------------------------


class Transaction(Protocol):
    """One transaction, by concern."""

    @property
    def settings(self) -> SettingsRepo: ...

    @property
    def counters(self) -> CounterRepo: ...

    @property
    def uploads(self) -> UploadRepo: ...

    @property
    def modules(self) -> ModuleRepo: ...

    @property
    def callers(self) -> CallerRepo: ...

    @property
    def creations(self) -> CreationRepo: ...

    @property
    def spares(self) -> SparePool: ...

    @property
    def spends(self) -> SpendRepo: ...

    @property
    def chunk_stores(self) -> ChunkStoreRepo: ...


class UnitOfWork(Protocol):
    """Opens transactions on the factory's records (see the module's docstring for their semantics)."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction: what it writes is discarded."""
        ...

    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed if the block returns, rolled back if it raises."""
        ...
