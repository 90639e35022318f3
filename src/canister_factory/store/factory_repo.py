"""The factory's repository: every query the service layer makes, over one open transaction.

``FactoryStore.write()`` / ``read()`` open a transaction (see ``db``) and yield a ``FactoryRepo`` bound to it.
Row locks (``FOR UPDATE`` / ``FOR SHARE``) are rendered on PostgreSQL and are no-ops on SQLite, where the whole
write transaction already holds the database's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from canister_factory._core.config import DB_INT_MAX, DEFAULT_MAX_STORED_MODULE_BYTES, Settings
from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory._core.uploads import Upload
from canister_factory.store import factory_tables as t
from canister_factory.store.db import Database
from icp_client.principal import Principal

_OPEN_STATES = [s.value for s in State if s not in (State.READY, State.FAILED)]

# Statements on the hot paths (every chunk, every creation), built once: building a SQLAlchemy statement costs
# more than running the compiled one it caches, so these take their values as bound parameters.
_CS = t.caller_stats
_SETTINGS = sa.select(t.settings).where(t.settings.c.id == 1)
_SETTINGS_LOCKED = {
    None: _SETTINGS,
    "share": _SETTINGS.with_for_update(read=True),
    "update": _SETTINGS.with_for_update(),
}
_ADMINS = sa.select(t.admins.c.principal)
_ALLOWED = sa.select(t.allowlist.c.principal).where(t.allowlist.c.principal == sa.bindparam("who"))
_UPLOAD = sa.select(t.uploads).where(t.uploads.c.id == sa.bindparam("upload_id"))
_UPLOAD_LOCKED = _UPLOAD.with_for_update()
_CALLER_LOCKED = sa.select(_CS).where(_CS.c.caller == sa.bindparam("who")).with_for_update()
_ADJUST_QUOTA = (
    sa.update(_CS)
    .where(_CS.c.caller == sa.bindparam("who"))
    .values(quota_used=_CS.c.quota_used + sa.bindparam("delta"))
)
_RECORD_CREATED = (
    sa.update(_CS)
    .where(_CS.c.caller == sa.bindparam("who"))
    .values(created_count=_CS.c.created_count + 1, last_created_at_ns=sa.bindparam("now"))
)
_LAST_TIME = t.counters.c.last_created_at_time_ns
_NEXT_CREATED_AT = (
    sa.update(t.counters)
    .values(
        last_created_at_time_ns=sa.case(
            (sa.bindparam("now") < _LAST_TIME + 1, _LAST_TIME + 1), else_=sa.bindparam("now")
        )
    )
    .returning(_LAST_TIME)
)
_UPDATE_CREATION = sa.update(t.canisters).where(t.canisters.c.id == sa.bindparam("record_id_"))
_SP = t.cycles_spends.c
_GUARD_LOCKED = sa.select(t.cycles_guard.c.id).where(t.cycles_guard.c.id == 1).with_for_update()
_LIVE = sa.or_(_SP.state == "spent", _SP.lapses_at_ns.is_(None), _SP.lapses_at_ns >= sa.bindparam("now"))
_RESERVED = sa.select(_SP.amount).where(
    _SP.state == "reserved", sa.or_(_SP.lapses_at_ns.is_(None), _SP.lapses_at_ns >= sa.bindparam("now"))
)
_SPENT_BY = sa.select(_SP.amount).where(
    _SP.caller == sa.bindparam("who"), _SP.at_ns >= sa.bindparam("since"), _LIVE
)
_INSERT_SPEND = sa.insert(t.cycles_spends).returning(_SP.id)
_SETTLE_SPEND = (
    sa.update(t.cycles_spends)
    .where(_SP.state == "reserved")
    .values(state="spent", amount=sa.bindparam("spent"))
)
_RELEASE = sa.delete(t.cycles_spends).where(_SP.state == "reserved")
_SPARE = sa.select(t.spares.c.canister_id).order_by(t.spares.c.added_at_ns).limit(1)
_SPARE_PG = _SPARE.with_for_update(skip_locked=True)
_INSERT_CREATION = sa.insert(t.canisters).returning(t.canisters.c.id)


@dataclass(frozen=True, slots=True)
class CreationRow:
    """A row of the registry (``canisters``): one creation and the canister it made."""

    id: int
    owner: Principal
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
    quota_used: int
    created_count: int
    last_created_at_ns: int | None


class FactoryStore:
    """Opens transactions on the factory's tables; migrates them on first use."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("factory", t.MIGRATIONS)

    @contextlib.contextmanager
    def write(self) -> Iterator[FactoryRepo]:
        with self.db.write() as conn:
            yield FactoryRepo(conn)

    @contextlib.contextmanager
    def read(self) -> Iterator[FactoryRepo]:
        with self.db.read() as conn:
            yield FactoryRepo(conn)


class FactoryRepo:
    """Queries over one transaction. Methods named ``lock_*`` take row locks on PostgreSQL.

    Lock order, kept by every transaction so that two never wait on each other (PostgreSQL): the settings row,
    then the counters row, then a caller's quota row, then registry rows.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    # the factory's key ----------------------------------------------------------------------------

    def factory_key(self, make_pem: Callable[[], str]) -> str:
        """The PEM of the factory's own identity, created with ``make_pem`` the first time (race-free)."""
        query = sa.select(t.keys.c.pem).where(t.keys.c.id == 1)
        existing = self.conn.execute(query).scalar()
        if existing is not None:
            return str(existing)
        self.conn.execute(_insert_ignore(self._pg, t.keys).values(id=1, pem=make_pem()))
        return str(self.conn.execute(sa.select(t.keys.c.pem).where(t.keys.c.id == 1)).scalar_one())

    # settings -------------------------------------------------------------------------------------

    def is_deployed(self) -> bool:
        return self.conn.execute(sa.select(t.settings.c.id)).first() is not None

    def load_settings(
        self, *, lock: str | None = None, for_caller: Principal | None = None, admins: bool = True
    ) -> Settings | None:
        """The settings, or None before deploy. ``lock`` is ``"share"`` or ``"update"`` (PostgreSQL).

        With ``for_caller``, the allowlist is read only as far as that caller is concerned (``{caller}`` or
        empty): enough for the access rules, and one indexed lookup instead of up to 10,000 rows per call.
        ``admins=False`` leaves the admin set empty, for callers' paths that never check it.
        """
        row = self.conn.execute(_SETTINGS_LOCKED[lock]).mappings().first()
        if row is None:
            return None
        admin_set = frozenset(self._principals(t.admins)) if admins else frozenset()
        allowlist: frozenset[Principal] | None = None
        if row["allowlist_enabled"]:
            allowlist = frozenset(
                self._allowlisted(for_caller) if for_caller else self._principals(t.allowlist)
            )
        return Settings(
            max_canisters_per_caller=row["max_canisters_per_caller"],
            min_factory_cycles=int(row["min_factory_cycles"]),
            max_upload_size=row["max_upload_size"],
            upload_ttl_ns=row["upload_ttl_ns"],
            allowlist=allowlist,
            admins=admin_set,
            emergency_stop=row["emergency_stop"],
            max_creations_per_day=row["max_creations_per_day"],
            max_active_uploads_per_caller=row["max_active_uploads_per_caller"],
            max_modules_per_caller=row["max_modules_per_caller"],
            max_cycles_per_caller_per_day=_opt_int(row["max_cycles_per_caller_per_day"]),
            max_stored_module_bytes=row["max_stored_module_bytes"] or DEFAULT_MAX_STORED_MODULE_BYTES,
        )

    def insert_settings(self, settings: Settings, *, deployer: Principal, now_ns: int, network: str) -> None:
        self.conn.execute(
            sa.insert(t.settings).values(
                id=1,
                deployed_at_ns=now_ns,
                deployer=deployer.to_text(),
                max_canisters_per_caller=settings.max_canisters_per_caller,
                min_factory_cycles=str(settings.min_factory_cycles),
                max_upload_size=settings.max_upload_size,
                upload_ttl_ns=settings.upload_ttl_ns,
                allowlist_enabled=settings.allowlist is not None,
                emergency_stop=settings.emergency_stop,
                max_creations_per_day=settings.max_creations_per_day,
                max_active_uploads_per_caller=settings.max_active_uploads_per_caller,
                max_modules_per_caller=settings.max_modules_per_caller,
                network=network,
                max_cycles_per_caller_per_day=_opt_text(settings.max_cycles_per_caller_per_day),
                max_stored_module_bytes=settings.max_stored_module_bytes,
            )
        )
        self.conn.execute(
            sa.insert(t.counters).values(
                id=1,
                next_upload_id=1,
                total_canisters_created=0,
                active_uploads=0,
                unique_callers=0,
                last_created_at_time_ns=0,
                stored_bytes=0,
            )
        )
        self.set_admins(settings.admins)
        self.set_allowlist(settings.allowlist)

    def network(self) -> str | None:
        return self.conn.execute(sa.select(t.settings.c.network)).scalar()

    def set_emergency_stop(self, stopped: bool) -> None:
        self.conn.execute(sa.update(t.settings).values(emergency_stop=stopped))

    def set_allowlist(self, allowlist: frozenset[Principal] | None) -> None:
        self.conn.execute(sa.update(t.settings).values(allowlist_enabled=allowlist is not None))
        self.conn.execute(sa.delete(t.allowlist))
        if allowlist:
            self.conn.execute(sa.insert(t.allowlist), [{"principal": p.to_text()} for p in allowlist])

    def set_admins(self, admins: frozenset[Principal]) -> None:
        self.conn.execute(sa.delete(t.admins))
        self.conn.execute(sa.insert(t.admins), [{"principal": p.to_text()} for p in admins])

    def _allowlisted(self, caller: Principal) -> Iterator[Principal]:
        if self.conn.execute(_ALLOWED, {"who": caller.to_text()}).first() is not None:
            yield caller

    def _principals(self, table: sa.Table) -> Iterator[Principal]:
        for (text,) in self.conn.execute(sa.select(table.c.principal)):
            yield Principal.from_text(text)

    # counters -------------------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        row = self.conn.execute(sa.select(t.counters).where(t.counters.c.id == 1)).mappings().one()
        return {k: int(v) for k, v in row.items() if k != "id"}

    def allocate_upload_id(self) -> int:
        col = t.counters.c.next_upload_id
        return int(
            self.conn.execute(
                sa.update(t.counters).values(next_upload_id=col + 1).returning(col - 1)
            ).scalar_one()
        )

    def next_created_at_time(self, now_ns: int) -> int:
        """A ``created_at_time`` for the cycles ledger that no other creation of this factory uses."""
        return int(self.conn.execute(_NEXT_CREATED_AT, {"now": now_ns}).scalar_one())

    def claim_storage(self, size: int, limit: int) -> int | None:
        """Count ``size`` more stored bytes unless that passes ``limit``; the new total, or None if it would."""
        col = t.counters.c.stored_bytes
        statement = (
            sa.update(t.counters).where(col + size <= limit).values(stored_bytes=col + size).returning(col)
        )
        total = self.conn.execute(statement).scalar()
        return None if total is None else int(total)

    def stored_bytes(self) -> int:
        return int(self.conn.execute(sa.select(t.counters.c.stored_bytes)).scalar_one())

    def bump(self, **deltas: int) -> None:
        values = {name: t.counters.c[name] + delta for name, delta in deltas.items() if delta}
        if values:
            self.conn.execute(sa.update(t.counters).values(**values))

    # uploads --------------------------------------------------------------------------------------

    def get_upload(self, upload_id: int, *, lock: bool = False) -> Upload | None:
        if not 0 <= upload_id <= DB_INT_MAX:  # a valid nat64 that no stored upload can have
            return None
        query = _UPLOAD_LOCKED if lock else _UPLOAD
        row = self.conn.execute(query, {"upload_id": upload_id}).mappings().first()
        return None if row is None else _upload(row)

    def insert_upload(self, upload: Upload) -> None:
        self.conn.execute(
            sa.insert(t.uploads).values(
                id=upload.id,
                owner=upload.owner.to_text(),
                created_at_ns=upload.created_at_ns,
                last_activity_ns=upload.last_activity_ns,
                total_len=upload.total_len,
                chunk_count=upload.chunk_count,
                module_hash=upload.module_hash,
            )
        )

    def count_uploads(self, owner: Principal, *, committed: bool) -> int:
        cond = t.uploads.c.module_hash.is_not(None) if committed else t.uploads.c.module_hash.is_(None)
        query = sa.select(sa.func.count()).where(t.uploads.c.owner == owner.to_text(), cond)
        return int(self.conn.execute(query).scalar_one())

    def chunk_at(self, upload_id: int, idx: int) -> bytes | None:
        """The bytes of chunk ``idx`` of an upload, or None."""
        uc = t.upload_chunks
        query = sa.select(uc.c.data_id).where(uc.c.upload_id == upload_id, uc.c.idx == idx)
        data_id = self.conn.execute(query).scalar()
        return None if data_id is None else self.chunk(int(data_id))

    def append_chunk(self, upload: Upload, data: bytes, now_ns: int) -> int:
        """Store ``data`` as the next chunk of ``upload``; returns the new total length."""
        data_id = self.conn.execute(
            sa.insert(t.chunk_data).values(data=data).returning(t.chunk_data.c.id)
        ).scalar_one()
        self.conn.execute(
            sa.insert(t.upload_chunks).values(
                upload_id=upload.id, idx=upload.chunk_count, size=len(data), data_id=data_id
            )
        )
        total = upload.total_len + len(data)
        self.conn.execute(
            sa.update(t.uploads)
            .where(t.uploads.c.id == upload.id)
            .values(total_len=total, chunk_count=upload.chunk_count + 1, last_activity_ns=now_ns)
        )
        return total

    def touch_upload(self, upload_id: int, now_ns: int) -> None:
        self.conn.execute(
            sa.update(t.uploads).where(t.uploads.c.id == upload_id).values(last_activity_ns=now_ns)
        )

    def upload_chunk_hashes(self, upload_id: int) -> list[bytes]:
        """The SHA-256 of each chunk of an upload, computed from the stored bytes (not kept: see put_chunk)."""
        return [sha256(self.chunk(i)) for i in self.upload_chunk_ids(upload_id)]

    def upload_chunk_ids(self, upload_id: int) -> list[int]:
        """The ``chunk_data`` ids of an upload's chunks, in order (read them one by one with ``chunk``)."""
        query = (
            sa.select(t.upload_chunks.c.data_id)
            .where(t.upload_chunks.c.upload_id == upload_id)
            .order_by(t.upload_chunks.c.idx)
        )
        return [int(i) for (i,) in self.conn.execute(query)]

    def chunk(self, data_id: int) -> bytes:
        return bytes(
            self.conn.execute(sa.select(t.chunk_data.c.data).where(t.chunk_data.c.id == data_id)).scalar_one()
        )

    def commit_upload(self, upload: Upload, module_hash: bytes, now_ns: int) -> None:
        """Turn ``upload`` into a module: its chunks become the module's, or are dropped if the module exists."""
        chunks = t.upload_chunks
        if self.module_size(module_hash) is None:
            self.conn.execute(
                sa.insert(t.modules).values(hash=module_hash, size=upload.total_len, created_at_ns=now_ns)
            )
            select = sa.select(
                sa.literal(module_hash, sa.LargeBinary),
                chunks.c.idx,
                chunks.c.size,
                chunks.c.data_id,
            )
            self.conn.execute(
                sa.insert(t.module_chunks).from_select(
                    ["module_hash", "idx", "size", "data_id"],
                    select.where(chunks.c.upload_id == upload.id),
                )
            )
        else:  # the module is stored already: this upload's copy of its bytes goes
            self._delete_chunk_data(sa.select(chunks.c.data_id).where(chunks.c.upload_id == upload.id))
            self.bump(stored_bytes=-upload.total_len)
        self.conn.execute(sa.delete(chunks).where(chunks.c.upload_id == upload.id))
        self.conn.execute(
            sa.update(t.uploads)
            .where(t.uploads.c.id == upload.id)
            .values(module_hash=module_hash, last_activity_ns=now_ns)
        )

    def delete_upload(self, upload: Upload) -> None:
        """Remove an upload; its module too once no upload and no unfinished creation uses it."""
        chunks = t.upload_chunks
        self._delete_chunk_data(sa.select(chunks.c.data_id).where(chunks.c.upload_id == upload.id))
        self.conn.execute(sa.delete(chunks).where(chunks.c.upload_id == upload.id))
        self.conn.execute(sa.delete(t.uploads).where(t.uploads.c.id == upload.id))
        if upload.module_hash is None:
            self.bump(stored_bytes=-upload.total_len)
        else:
            self.collect_module(upload.module_hash)

    def collect_module(self, module_hash: bytes) -> None:
        """Delete a module nothing refers to any more."""
        used_by_upload = sa.select(t.uploads.c.id).where(t.uploads.c.module_hash == module_hash).limit(1)
        used_by_creation = (
            sa.select(t.canisters.c.id)
            .where(t.canisters.c.module_hash == module_hash, t.canisters.c.state.in_(_OPEN_STATES))
            .limit(1)
        )
        if self.conn.execute(used_by_upload).first() or self.conn.execute(used_by_creation).first():
            return
        mc = t.module_chunks
        self.bump(stored_bytes=-(self.module_size(module_hash) or 0))
        self._delete_chunk_data(sa.select(mc.c.data_id).where(mc.c.module_hash == module_hash))
        self.conn.execute(sa.delete(mc).where(mc.c.module_hash == module_hash))
        self.conn.execute(sa.delete(t.modules).where(t.modules.c.hash == module_hash))

    def expired_uploads(self, cutoff_ns: int, limit: int) -> list[Upload]:
        query = (
            sa.select(t.uploads)
            .where(t.uploads.c.module_hash.is_(None), t.uploads.c.last_activity_ns < cutoff_ns)
            .order_by(t.uploads.c.last_activity_ns)
            .limit(limit)
        )
        return [_upload(row) for row in self.conn.execute(query).mappings()]

    def _delete_chunk_data(self, ids: sa.Select[Any]) -> None:
        self.conn.execute(sa.delete(t.chunk_data).where(t.chunk_data.c.id.in_(ids.scalar_subquery())))

    # modules --------------------------------------------------------------------------------------

    def module_size(self, module_hash: bytes) -> int | None:
        value = self.conn.execute(sa.select(t.modules.c.size).where(t.modules.c.hash == module_hash)).scalar()
        return None if value is None else int(value)

    def module_chunk_hashes(self, module_hash: bytes) -> list[bytes]:
        return [sha256(self.chunk(i)) for i in self.module_chunk_ids(module_hash)]

    def module_chunk_ids(self, module_hash: bytes) -> list[int]:
        mc = t.module_chunks
        query = sa.select(mc.c.data_id).where(mc.c.module_hash == module_hash).order_by(mc.c.idx)
        return [int(i) for (i,) in self.conn.execute(query)]

    def module_bytes(self, module_hash: bytes) -> bytes:
        return b"".join(self.chunk(i) for i in self.module_chunk_ids(module_hash))

    def count_modules(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(t.modules)).scalar_one())

    # callers --------------------------------------------------------------------------------------

    def lock_caller(self, caller: Principal) -> CallerQuota:
        """The caller's quota row, created if missing, locked for the rest of the transaction."""
        text = caller.to_text()
        row = self.conn.execute(_CALLER_LOCKED, {"who": text}).mappings().first()
        if row is None:
            insert = _insert_ignore(self._pg, t.caller_stats).values(
                caller=text, quota_used=0, created_count=0, last_created_at_ns=None
            )
            # RETURNING says whether the row was new (rowcount is -1 for ON CONFLICT DO NOTHING on PostgreSQL).
            if self.conn.execute(insert.returning(t.caller_stats.c.caller)).first() is not None:
                self.bump(unique_callers=1)
            row = self.conn.execute(_CALLER_LOCKED, {"who": text}).mappings().one()
        return CallerQuota(row["quota_used"], row["created_count"], row["last_created_at_ns"])

    def caller_quota(self, caller: Principal) -> CallerQuota:
        query = sa.select(t.caller_stats).where(t.caller_stats.c.caller == caller.to_text())
        row = self.conn.execute(query).mappings().first()
        if row is None:
            return CallerQuota(0, 0, None)
        return CallerQuota(row["quota_used"], row["created_count"], row["last_created_at_ns"])

    def adjust_quota(self, caller: Principal, delta: int) -> None:
        self.conn.execute(_ADJUST_QUOTA, {"who": caller.to_text(), "delta": delta})

    def record_created(self, caller: Principal, now_ns: int) -> None:
        self.bump(
            total_canisters_created=1
        )  # counters before caller_stats: the order every transaction keeps
        self.conn.execute(_RECORD_CREATED, {"who": caller.to_text(), "now": now_ns})

    def count_requested_since(self, owner: Principal, since_ns: int) -> int:
        c = t.canisters.c
        query = sa.select(sa.func.count()).where(
            c.owner == owner.to_text(), c.requested_at_ns >= since_ns, c.state != State.FAILED.value
        )
        return int(self.conn.execute(query).scalar_one())

    # creations (the registry) ---------------------------------------------------------------------

    def insert_creation(self, row: CreationRow) -> int:
        values = _creation_values(row)
        values.pop("id")
        return int(self.conn.execute(_INSERT_CREATION, values).scalar_one())

    def get_creation(self, record_id: int, *, lock: bool = False) -> CreationRow | None:
        query = sa.select(t.canisters).where(t.canisters.c.id == record_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return None if row is None else _creation(row)

    def find_by_key(self, owner: Principal, key: str) -> CreationRow | None:
        c = t.canisters.c
        row = (
            self.conn.execute(
                sa.select(t.canisters).where(c.owner == owner.to_text(), c.idempotency_key == key)
            )
            .mappings()
            .first()
        )
        return None if row is None else _creation(row)

    def find_by_canister(self, canister_id: Principal) -> CreationRow | None:
        c = t.canisters.c
        query = (
            sa.select(t.canisters)
            .where(c.canister_id == canister_id.to_text(), c.state == State.READY.value)
            .order_by(c.id.desc())
            .limit(1)
        )
        row = self.conn.execute(query).mappings().first()
        return None if row is None else _creation(row)

    def update_creation(self, record_id: int, **fields: Any) -> None:
        values = {k: _column_value(k, v) for k, v in fields.items()}
        self.conn.execute(_UPDATE_CREATION, {"record_id_": record_id, **values})

    def list_creations(self, owner: Principal | None, cursor: int | None, limit: int) -> list[CreationRow]:
        """Newest first; ``cursor`` is the id below which to continue."""
        c = t.canisters.c
        query = sa.select(t.canisters).order_by(c.id.desc()).limit(limit)
        if owner is not None:
            query = query.where(c.owner == owner.to_text())
        if cursor is not None and cursor <= DB_INT_MAX:  # a larger cursor is above every id: from the top
            query = query.where(c.id < cursor)
        return [_creation(row) for row in self.conn.execute(query).mappings()]

    # cycles: reservations and spends ----------------------------------------------------------------

    def lock_cycles(self) -> None:
        """Take the lock every check of the cycles floor holds (the guard row; SQLite's write lock is enough)."""
        self.conn.execute(_GUARD_LOCKED)

    def reserved_cycles(self, now_ns: int) -> int:
        """Cycles held by reservations the IC has not yet answered (lapsed ones no longer count)."""
        return sum(int(a) for (a,) in self.conn.execute(_RESERVED, {"now": now_ns}))

    def spent_by(self, caller: Principal, since_ns: int, now_ns: int) -> int:
        """Cycles ``caller``'s creations and top-ups spent or hold reserved since ``since_ns``."""
        rows = self.conn.execute(_SPENT_BY, {"who": caller.to_text(), "since": since_ns, "now": now_ns})
        return sum(int(a) for (a,) in rows)

    def insert_spend(
        self,
        kind: str,
        amount: int,
        now_ns: int,
        *,
        caller: Principal | None = None,
        creation_id: int | None = None,
        lapses_at_ns: int | None = None,
    ) -> int:
        """Record a reservation of ``amount`` cycles (state ``reserved``); returns its id."""
        values = {
            "kind": kind,
            "caller": None if caller is None else caller.to_text(),
            "creation_id": creation_id,
            "amount": str(amount),
            "state": "reserved",
            "at_ns": now_ns,
            "lapses_at_ns": lapses_at_ns,
        }
        return int(self.conn.execute(_INSERT_SPEND, values).scalar_one())

    def settle_spend(self, spend_id: int, amount: int) -> None:
        """The IC answered: the reservation becomes a spend of ``amount`` (what was really taken)."""
        self.conn.execute(_SETTLE_SPEND.where(t.cycles_spends.c.id == spend_id), {"spent": str(amount)})

    def release_spend(self, spend_id: int) -> None:
        """The IC refused: nothing was spent, the reservation goes."""
        self.conn.execute(_RELEASE.where(t.cycles_spends.c.id == spend_id))

    def settle_creation_spend(self, creation_id: int, amount: int) -> None:
        self.conn.execute(
            _SETTLE_SPEND.where(t.cycles_spends.c.creation_id == creation_id), {"spent": str(amount)}
        )

    def release_creation_spend(self, creation_id: int) -> None:
        self.conn.execute(_RELEASE.where(t.cycles_spends.c.creation_id == creation_id))

    def prune_spends(self, before_ns: int, now_ns: int) -> None:
        """Forget spends older than ``before_ns`` and reservations that lapsed (neither counts any more)."""
        s = t.cycles_spends.c
        self.conn.execute(
            sa.delete(t.cycles_spends).where(
                sa.or_(
                    sa.and_(s.state == "spent", s.at_ns < before_ns),
                    sa.and_(s.state == "reserved", s.lapses_at_ns < now_ns),
                )
            )
        )

    def unfinished_creations(self) -> list[CreationRow]:
        query = sa.select(t.canisters).where(t.canisters.c.state.in_(_OPEN_STATES)).order_by(t.canisters.c.id)
        return [_creation(row) for row in self.conn.execute(query).mappings()]

    def claim(self, record_id: int, owner: str, until_ns: int) -> None:
        self.update_creation(record_id, claimed_by=owner, claimed_until_ns=until_ns)

    # store canisters ------------------------------------------------------------------------------

    def store_canisters(self) -> list[Principal]:
        """Every store canister of the pool (not those still being created)."""
        sc = t.store_canisters.c
        query = sa.select(sc.canister_id).where(sc.canister_id.is_not(None)).order_by(sc.id)
        return [Principal.from_text(text) for (text,) in self.conn.execute(query)]

    def store_rows(self) -> list[StoreRow]:
        """The pool, locked for the rest of the transaction (PostgreSQL)."""
        query = sa.select(t.store_canisters).order_by(t.store_canisters.c.id).with_for_update()
        return [_store_row(row) for row in self.conn.execute(query).mappings()]

    def claim_store(self, store_id: int, token: str, until_ns: int) -> None:
        sc = t.store_canisters
        self.conn.execute(
            sa.update(sc).where(sc.c.id == store_id).values(claimed_by=token, claimed_until_ns=until_ns)
        )

    def add_store(self, created_at_time_ns: int, token: str, until_ns: int, now_ns: int) -> int:
        """A row for a store canister about to be created, claimed by ``token``; returns its id."""
        values = {
            "created_at_time_ns": created_at_time_ns,
            "claimed_by": token,
            "claimed_until_ns": until_ns,
            "added_at_ns": now_ns,
        }
        return int(
            self.conn.execute(
                sa.insert(t.store_canisters).values(**values).returning(t.store_canisters.c.id)
            ).scalar_one()
        )

    def set_store_canister(self, store_id: int, canister_id: Principal) -> None:
        sc = t.store_canisters
        self.conn.execute(sa.update(sc).where(sc.c.id == store_id).values(canister_id=canister_id.to_text()))

    def release_store(self, store_id: int, token: str, module_hash: bytes | None) -> None:
        """Give the store back, recording which module's chunks it now holds."""
        sc = t.store_canisters
        self.conn.execute(
            sa.update(sc)
            .where(sc.c.id == store_id, sc.c.claimed_by == token)
            .values(claimed_by=None, claimed_until_ns=None, module_hash=module_hash)
        )

    # spare pool -----------------------------------------------------------------------------------

    def add_spare(self, canister_id: Principal, record_id: int, now_ns: int) -> None:
        self.conn.execute(
            _insert_ignore(self._pg, t.spares).values(
                canister_id=canister_id.to_text(), added_at_ns=now_ns, from_record=record_id
            )
        )

    def take_spare(self) -> Principal | None:
        text = self.conn.execute(_SPARE_PG if self._pg else _SPARE).scalar()
        if text is None:
            return None
        self.conn.execute(sa.delete(t.spares).where(t.spares.c.canister_id == text))
        return Principal.from_text(text)

    def list_spares(self) -> list[Principal]:
        query = sa.select(t.spares.c.canister_id).order_by(t.spares.c.added_at_ns)
        return [Principal.from_text(text) for (text,) in self.conn.execute(query)]

    def count_spares(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(t.spares)).scalar_one())


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _insert_ignore(pg: bool, table: sa.Table) -> Any:
    return (postgresql.insert(table) if pg else sqlite.insert(table)).on_conflict_do_nothing()


def _store_row(row: Any) -> StoreRow:
    cid = row["canister_id"]
    return StoreRow(
        id=int(row["id"]),
        canister_id=None if cid is None else Principal.from_text(cid),
        created_at_time_ns=int(row["created_at_time_ns"]),
        claimed_by=row["claimed_by"],
        claimed_until_ns=row["claimed_until_ns"],
        module_hash=None if row["module_hash"] is None else bytes(row["module_hash"]),
    )


def _upload(row: Any) -> Upload:
    return Upload(
        id=int(row["id"]),
        owner=Principal.from_text(row["owner"]),
        created_at_ns=int(row["created_at_ns"]),
        last_activity_ns=int(row["last_activity_ns"]),
        total_len=int(row["total_len"]),
        chunk_count=int(row["chunk_count"]),
        module_hash=None if row["module_hash"] is None else bytes(row["module_hash"]),
    )


def _creation(row: Any) -> CreationRow:
    cid = row["canister_id"]
    used = row["cycles_used"]
    return CreationRow(
        id=int(row["id"]),
        owner=Principal.from_text(row["owner"]),
        canister_id=None if cid is None else Principal.from_text(cid),
        upload_id=int(row["upload_id"]),
        module_hash=bytes(row["module_hash"]),
        mode=Mode(row["mode"]),
        cycles=int(row["cycles"]),
        handoff=bool(row["handoff"]),
        controllers=tuple(Principal.from_text(p) for p in json.loads(row["controllers"])),
        init_arg=bytes(row["init_arg"]),
        state=State(row["state"]),
        created_at_time_ns=int(row["created_at_time_ns"]),
        idempotency_key=row["idempotency_key"],
        cycles_used=None if used is None else int(used),
        error=row["error"],
        requested_at_ns=int(row["requested_at_ns"]),
        updated_at_ns=int(row["updated_at_ns"]),
        claimed_by=row["claimed_by"],
        claimed_until_ns=row["claimed_until_ns"],
        from_spare=bool(row["from_spare"]),
        attempts=int(row["attempts"]),
    )


def _creation_values(row: CreationRow) -> dict[str, Any]:
    return {name: _column_value(name, getattr(row, name)) for name in CreationRow.__dataclass_fields__}


def _column_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Principal):
        return value.to_text()
    if isinstance(value, State | Mode):
        return value.value
    if name in ("cycles", "cycles_used"):
        return str(value)
    if name == "controllers":
        return json.dumps([p.to_text() for p in value])
    return value


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
