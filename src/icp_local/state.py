"""The embedded IC's state: its tables (all prefixed ``ic_``), their migrations, and the queries on them.

The embedded IC (``ic.embedded``) keeps no state in memory; every call opens one write transaction through
``ic_write`` (or a read transaction through ``ic_read``) and works on an ``IcStateTx``. Conventions:

* Cycles and balances exceed 2^63, so they are stored as decimal TEXT (exact on SQLite and PostgreSQL alike).
* Principals are stored in their textual form; hashes and modules as binary.
* Modules and chunk bytes are content-addressed (keyed by SHA-256) and stored once however many canisters use
  them; inserts of content-addressed rows are ``INSERT ... ON CONFLICT DO NOTHING`` so that two processes
  storing the same bytes at once do not collide.
* Rows that are read, then written, are read ``FOR UPDATE`` (PostgreSQL takes a row lock; on SQLite the whole
  write transaction already holds the database's write lock from ``BEGIN IMMEDIATE``).
* Memories, globals, call contexts and the message queue are in their own tables (``state_exec.py``, migration
  3), so reading a canister never drags its memories along.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from icp_client.management import DefiniteSettings, EnvironmentVariable, Visibility, VisibilityKind
from icp_client.principal import Principal
from icp_local.db import IcDatabase, Migration, metadata
from icp_local.state_exec import MIGRATION as EXEC_MIGRATION
from icp_local.state_exec import ExecStateTx

ic_canisters = sa.Table(
    "ic_canisters",
    metadata,
    sa.Column("canister_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("controllers", sa.Text, nullable=False),  # JSON list of principal texts, sorted by raw bytes
    sa.Column("settings", sa.Text, nullable=False),  # JSON object of the definite settings but controllers
    sa.Column("cycles", sa.Text, nullable=False),  # decimal
    sa.Column("module_hash", sa.LargeBinary, nullable=True),
    sa.Column("module_size", sa.BigInteger, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("total_num_changes", sa.BigInteger, nullable=False),
    sa.Column("created_at_ns", sa.BigInteger, nullable=False),
    sa.Column("last_install_ns", sa.BigInteger, nullable=True),
)

ic_history = sa.Table(
    "ic_canister_history",
    metadata,
    sa.Column("canister_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),  # 0-based index among all changes ever recorded
    sa.Column("timestamp_ns", sa.BigInteger, nullable=False),
    sa.Column("canister_version", sa.BigInteger, nullable=False),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON
)

ic_modules = sa.Table(
    "ic_modules",
    metadata,
    sa.Column("module_hash", sa.LargeBinary, primary_key=True),
    sa.Column(
        "module", sa.LargeBinary, nullable=False
    ),  # the bytes as installed (gzip-compressed if so given)
    sa.Column("size", sa.BigInteger, nullable=False),
)

ic_module_metadata = sa.Table(
    "ic_module_metadata",
    metadata,
    sa.Column("module_hash", sa.LargeBinary, primary_key=True),
    sa.Column("name", sa.String(1024), primary_key=True),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
)

ic_chunk_blobs = sa.Table(
    "ic_chunk_blobs",
    metadata,
    sa.Column("chunk_hash", sa.LargeBinary, primary_key=True),
    sa.Column("chunk", sa.LargeBinary, nullable=False),
)

ic_chunks = sa.Table(
    "ic_chunks",
    metadata,
    sa.Column("canister_id", sa.String(64), primary_key=True),
    sa.Column("chunk_hash", sa.LargeBinary, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),  # upload order, for stored_chunks
)

ic_accounts = sa.Table(
    "ic_ledger_accounts",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("subaccount", sa.String(64), primary_key=True),  # hex, "" for the default subaccount
    sa.Column("balance", sa.Text, nullable=False),  # decimal
)

ic_dedup = sa.Table(
    "ic_ledger_dedup",
    metadata,
    sa.Column("tx_hash", sa.LargeBinary, primary_key=True),
    sa.Column("created_at_time", sa.BigInteger, nullable=False, index=True),
    sa.Column("block_id", sa.BigInteger, nullable=False),
    sa.Column("canister_id", sa.String(64), nullable=True),
)

ic_counters = sa.Table(
    "ic_counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

_CANISTER = sa.select(ic_canisters).where(ic_canisters.c.canister_id == sa.bindparam("cid"))
_CANISTER_LOCKED = _CANISTER.with_for_update()
_SET_CYCLES = (
    sa.update(ic_canisters)
    .where(ic_canisters.c.canister_id == sa.bindparam("cid"))
    .values(cycles=sa.bindparam("cycles"))
)

NEXT_CANISTER_INDEX = "next_canister_index"
NEXT_BLOCK = "next_block"

_TABLES = (
    ic_canisters,
    ic_history,
    ic_modules,
    ic_module_metadata,
    ic_chunk_blobs,
    ic_chunks,
    ic_accounts,
    ic_dedup,
    ic_counters,
)


def _create_tables(conn: Connection) -> None:
    for table in _TABLES:
        table.create(conn, checkfirst=True)
    conn.execute(sa.insert(ic_counters), [{"name": NEXT_BLOCK, "value": 0}])


def _full_settings(conn: Connection) -> None:
    """Version 2: every canister's settings written out whole (visibilities, environment variables, ...)."""
    rows = conn.execute(sa.select(ic_canisters.c.canister_id, ic_canisters.c.settings)).all()
    for canister_id, text in rows:
        full = settings_to_json(settings_from_json(text))
        conn.execute(
            sa.update(ic_canisters).where(ic_canisters.c.canister_id == canister_id).values(settings=full)
        )


MIGRATIONS: list[Migration] = [
    Migration(1, "embedded IC tables", _create_tables),
    Migration(2, "every canister setting stored", _full_settings),
    EXEC_MIGRATION,
]


@dataclass(slots=True)
class CanisterRow:
    """One canister as stored; the engine changes the fields and gives it to ``IcStateTx.save_canister``."""

    canister_id: Principal
    status: str
    controllers: tuple[Principal, ...]
    settings: DefiniteSettings  # its ``controllers`` is always empty: they are the row's own field
    cycles: int
    module_hash: bytes | None
    module_size: int
    version: int
    total_num_changes: int
    created_at_ns: int
    last_install_ns: int | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    seq: int
    timestamp_ns: int
    canister_version: int
    origin: Principal
    kind: str
    details: dict[str, object]


@dataclass(frozen=True, slots=True)
class MetadataRow:
    name: str
    public: bool
    content: bytes


@dataclass(frozen=True, slots=True)
class DedupRow:
    block_id: int
    canister_id: Principal | None


@contextlib.contextmanager
def ic_write(db: IcDatabase) -> Iterator[IcStateTx]:
    """One write transaction on the IC's state: committed if the block returns, rolled back if it raises."""
    with db.write() as conn:
        yield IcStateTx(conn, db.dialect)


@contextlib.contextmanager
def ic_read(db: IcDatabase) -> Iterator[IcStateTx]:
    """A read-only snapshot of the IC's state."""
    with db.read() as conn:
        yield IcStateTx(conn, db.dialect)


class IcStateTx:
    """The queries on the IC's tables, inside one transaction."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self.exec = ExecStateTx(conn, dialect)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what the block wrote is undone if it raises (the rest of the transaction stays)."""
        with self._conn.begin_nested():
            yield

    # --- canisters ---------------------------------------------------------------------------------------

    def get_canister(self, canister_id: Principal, *, for_update: bool = False) -> CanisterRow | None:
        query = _CANISTER_LOCKED if for_update else _CANISTER
        row = self._conn.execute(query, {"cid": canister_id.to_text()}).mappings().first()
        return None if row is None else _canister_from_row(row)

    def set_cycles(self, canister_id: Principal, cycles: int) -> None:
        """Write the balance of a canister read ``for_update``."""
        self._conn.execute(_SET_CYCLES, {"cid": canister_id.to_text(), "cycles": str(cycles)})

    def canister_exists(self, canister_id: Principal) -> bool:
        query = sa.select(ic_canisters.c.canister_id).where(
            ic_canisters.c.canister_id == canister_id.to_text()
        )
        return self._conn.execute(query).first() is not None

    def list_canisters(self) -> list[Principal]:
        rows = self._conn.execute(sa.select(ic_canisters.c.canister_id)).scalars()
        return sorted(Principal.from_text(text) for text in rows)

    def insert_canister(self, row: CanisterRow) -> None:
        self._conn.execute(sa.insert(ic_canisters).values(**_canister_values(row)))

    def save_canister(self, row: CanisterRow) -> None:
        values = _canister_values(row)
        del values["canister_id"]
        self._conn.execute(
            sa.update(ic_canisters)
            .where(ic_canisters.c.canister_id == row.canister_id.to_text())
            .values(**values)
        )

    def delete_canister(self, canister_id: Principal) -> None:
        text = canister_id.to_text()
        for table in (ic_canisters, ic_history, ic_chunks):
            self._conn.execute(sa.delete(table).where(table.c.canister_id == text))
        self.exec.forget_canister([canister_id])

    def add_history(self, canister_id: Principal, entry: HistoryRow, *, keep: int) -> None:
        """Append a change; keep only the ``keep`` most recent changes of the canister."""
        text = canister_id.to_text()
        self._conn.execute(
            sa.insert(ic_history).values(
                canister_id=text,
                seq=entry.seq,
                timestamp_ns=entry.timestamp_ns,
                canister_version=entry.canister_version,
                origin=entry.origin.to_text(),
                kind=entry.kind,
                details=json.dumps(entry.details, sort_keys=True),
            )
        )
        if entry.seq >= keep:
            self._conn.execute(
                sa.delete(ic_history).where(
                    ic_history.c.canister_id == text, ic_history.c.seq <= entry.seq - keep
                )
            )

    def history(self, canister_id: Principal, limit: int) -> list[HistoryRow]:
        """The ``limit`` most recent changes, oldest first."""
        query = (
            sa.select(ic_history)
            .where(ic_history.c.canister_id == canister_id.to_text())
            .order_by(ic_history.c.seq.desc())
            .limit(limit)
        )
        rows = [_history_from_row(row) for row in self._conn.execute(query).mappings()]
        return rows[::-1]

    # --- counters ----------------------------------------------------------------------------------------

    def take_counter(self, name: str, initial: int) -> int:
        """Return the counter's value and increment it; the row is locked until the transaction ends."""
        query = sa.select(ic_counters.c.value).where(ic_counters.c.name == name).with_for_update()
        value = self._conn.execute(query).scalar()
        if value is None:
            self._insert_ignore(ic_counters, [{"name": name, "value": initial}])
            value = self._conn.execute(query).scalar_one()
        self._conn.execute(sa.update(ic_counters).where(ic_counters.c.name == name).values(value=value + 1))
        return int(value)

    def peek_counter(self, name: str) -> int | None:
        return self._conn.execute(sa.select(ic_counters.c.value).where(ic_counters.c.name == name)).scalar()

    # --- modules -----------------------------------------------------------------------------------------

    def module_exists(self, module_hash: bytes) -> bool:
        query = sa.select(ic_modules.c.size).where(ic_modules.c.module_hash == module_hash)
        return self._conn.execute(query).first() is not None

    def insert_module(self, module_hash: bytes, module: bytes, sections: Sequence[MetadataRow]) -> None:
        self._insert_ignore(ic_modules, [{"module_hash": module_hash, "module": module, "size": len(module)}])
        if sections:
            self._insert_ignore(
                ic_module_metadata,
                [
                    {"module_hash": module_hash, "name": s.name, "public": s.public, "content": s.content}
                    for s in sections
                ],
            )

    def get_module(self, module_hash: bytes) -> bytes | None:
        query = sa.select(ic_modules.c.module).where(ic_modules.c.module_hash == module_hash)
        value = self._conn.execute(query).scalar()
        return None if value is None else bytes(value)

    def get_metadata(self, module_hash: bytes, name: str) -> MetadataRow | None:
        query = sa.select(ic_module_metadata).where(
            ic_module_metadata.c.module_hash == module_hash, ic_module_metadata.c.name == name
        )
        row = self._conn.execute(query).mappings().first()
        return None if row is None else MetadataRow(row["name"], bool(row["public"]), bytes(row["content"]))

    def metadata_of(self, module_hash: bytes) -> list[MetadataRow]:
        """Every ``icp:`` section of a stored module."""
        query = sa.select(ic_module_metadata).where(ic_module_metadata.c.module_hash == module_hash)
        return [
            MetadataRow(r["name"], bool(r["public"]), bytes(r["content"]))
            for r in self._conn.execute(query).mappings()
        ]

    def count_modules(self) -> int:
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(ic_modules)).scalar_one())

    # --- chunk stores ------------------------------------------------------------------------------------

    def chunk_hashes(self, canister_id: Principal) -> list[bytes]:
        query = (
            sa.select(ic_chunks.c.chunk_hash)
            .where(ic_chunks.c.canister_id == canister_id.to_text())
            .order_by(ic_chunks.c.seq)
        )
        return [bytes(h) for h in self._conn.execute(query).scalars()]

    def add_chunk(self, canister_id: Principal, chunk_hash: bytes, chunk: bytes, seq: int) -> None:
        self._insert_ignore(ic_chunk_blobs, [{"chunk_hash": chunk_hash, "chunk": chunk}])
        self._conn.execute(
            sa.insert(ic_chunks).values(canister_id=canister_id.to_text(), chunk_hash=chunk_hash, seq=seq)
        )

    def chunks(self, canister_id: Principal, hashes: Sequence[bytes]) -> dict[bytes, bytes]:
        """The bytes of those of ``hashes`` that are in the canister's chunk store."""
        query = (
            sa.select(ic_chunk_blobs.c.chunk_hash, ic_chunk_blobs.c.chunk)
            .join(ic_chunks, ic_chunks.c.chunk_hash == ic_chunk_blobs.c.chunk_hash)
            .where(ic_chunks.c.canister_id == canister_id.to_text(), ic_chunks.c.chunk_hash.in_(set(hashes)))
        )
        return {bytes(row[0]): bytes(row[1]) for row in self._conn.execute(query)}

    def chunk_store_bytes(self, canister_id: Principal) -> int:
        """The bytes the canister's chunk store holds."""
        query = (
            sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(ic_chunk_blobs.c.chunk)), 0))
            .join(ic_chunks, ic_chunks.c.chunk_hash == ic_chunk_blobs.c.chunk_hash)
            .where(ic_chunks.c.canister_id == canister_id.to_text())
        )
        return int(self._conn.execute(query).scalar_one())

    def clear_chunks(self, canister_id: Principal) -> None:
        self._conn.execute(sa.delete(ic_chunks).where(ic_chunks.c.canister_id == canister_id.to_text()))
        unreferenced = ~sa.exists().where(ic_chunks.c.chunk_hash == ic_chunk_blobs.c.chunk_hash)
        self._conn.execute(sa.delete(ic_chunk_blobs).where(unreferenced))

    def count_chunk_blobs(self) -> int:
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(ic_chunk_blobs)).scalar_one())

    # --- ledger ------------------------------------------------------------------------------------------

    def balance(self, owner: Principal, subaccount: str, *, for_update: bool = False) -> int:
        query = sa.select(ic_accounts.c.balance).where(
            ic_accounts.c.owner == owner.to_text(), ic_accounts.c.subaccount == subaccount
        )
        if for_update:
            query = query.with_for_update()
        value = self._conn.execute(query).scalar()
        return 0 if value is None else int(value)

    def set_balance(self, owner: Principal, subaccount: str, balance: int) -> None:
        """Write the balance of an account locked with ``lock_account`` before."""
        self._conn.execute(
            sa.update(ic_accounts)
            .where(ic_accounts.c.owner == owner.to_text(), ic_accounts.c.subaccount == subaccount)
            .values(balance=str(balance))
        )

    def lock_account(self, owner: Principal, subaccount: str) -> int:
        """Create the account row if needed, lock it and return its balance."""
        self._insert_ignore(
            ic_accounts, [{"owner": owner.to_text(), "subaccount": subaccount, "balance": "0"}]
        )
        return self.balance(owner, subaccount, for_update=True)

    def find_dedup(self, tx_hash: bytes) -> DedupRow | None:
        query = sa.select(ic_dedup.c.block_id, ic_dedup.c.canister_id).where(ic_dedup.c.tx_hash == tx_hash)
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return DedupRow(int(row[0]), None if row[1] is None else Principal.from_text(row[1]))

    def add_dedup(
        self, tx_hash: bytes, created_at_time: int, block_id: int, canister_id: Principal | None
    ) -> None:
        self._conn.execute(
            sa.insert(ic_dedup).values(
                tx_hash=tx_hash,
                created_at_time=created_at_time,
                block_id=block_id,
                canister_id=None if canister_id is None else canister_id.to_text(),
            )
        )

    def prune_dedup(self, older_than: int) -> None:
        self._conn.execute(sa.delete(ic_dedup).where(ic_dedup.c.created_at_time < older_than))

    # --- helpers -----------------------------------------------------------------------------------------

    def _insert_ignore(self, table: sa.Table, rows: list[dict[str, object]]) -> None:
        if self._dialect == "postgresql":
            self._conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
        else:
            self._conn.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)


def _canister_values(row: CanisterRow) -> dict[str, object]:
    return {
        "canister_id": row.canister_id.to_text(),
        "status": row.status,
        "controllers": json.dumps([c.to_text() for c in row.controllers]),
        "settings": settings_to_json(row.settings),
        "cycles": str(row.cycles),
        "module_hash": row.module_hash,
        "module_size": row.module_size,
        "version": row.version,
        "total_num_changes": row.total_num_changes,
        "created_at_ns": row.created_at_ns,
        "last_install_ns": row.last_install_ns,
    }


def _canister_from_row(row: sa.RowMapping) -> CanisterRow:
    return CanisterRow(
        canister_id=_principal(row["canister_id"]),
        status=row["status"],
        controllers=_controllers(row["controllers"]),
        settings=_settings(row["settings"]),
        cycles=int(row["cycles"]),
        module_hash=None if row["module_hash"] is None else bytes(row["module_hash"]),
        module_size=int(row["module_size"]),
        version=int(row["version"]),
        total_num_changes=int(row["total_num_changes"]),
        created_at_ns=int(row["created_at_ns"]),
        last_install_ns=None if row["last_install_ns"] is None else int(row["last_install_ns"]),
    )


@functools.lru_cache(maxsize=4096)
def _principal(text: str) -> Principal:
    return Principal.from_text(text)


@functools.lru_cache(maxsize=4096)
def _controllers(text: str) -> tuple[Principal, ...]:
    return tuple(Principal.from_text(c) for c in json.loads(text))


@functools.lru_cache(maxsize=4096)
def _settings(text: str) -> DefiniteSettings:
    """Settings parsed once per stored text (they are immutable values)."""
    return settings_from_json(text)


def _history_from_row(row: sa.RowMapping) -> HistoryRow:
    return HistoryRow(
        seq=int(row["seq"]),
        timestamp_ns=int(row["timestamp_ns"]),
        canister_version=int(row["canister_version"]),
        origin=Principal.from_text(row["origin"]),
        kind=row["kind"],
        details=json.loads(row["details"]),
    )


# --- settings as JSON -------------------------------------------------------------------------------------------

_VISIBILITY_FIELDS = ("log_visibility", "snapshot_visibility", "status_visibility")
_NUMBER_FIELDS = (
    "compute_allocation",
    "memory_allocation",
    "freezing_threshold",
    "reserved_cycles_limit",
    "minimum_incoming_canister_call_cycles",
    "wasm_memory_limit",
    "wasm_memory_threshold",
    "log_memory_limit",
)


def settings_to_json(settings: DefiniteSettings) -> str:
    """The stored form of a canister's settings (numbers as decimal text: some exceed 2^63)."""
    value: dict[str, object] = {name: str(getattr(settings, name)) for name in _NUMBER_FIELDS}
    for name in _VISIBILITY_FIELDS:
        visibility: Visibility = getattr(settings, name)
        value[name] = {"kind": visibility.kind.value, "viewers": [p.to_text() for p in visibility.viewers]}
    value["environment_variables"] = [[v.name, v.value] for v in settings.environment_variables]
    return json.dumps(value, sort_keys=True)


def settings_from_json(text: str) -> DefiniteSettings:
    """Settings read back; a field an older version did not store takes its default."""
    value = json.loads(text)
    defaults = DefiniteSettings()
    fields: dict[str, object] = {
        name: int(value[name]) if name in value else getattr(defaults, name) for name in _NUMBER_FIELDS
    }
    for name in _VISIBILITY_FIELDS:
        raw = value.get(name)
        fields[name] = (
            Visibility(VisibilityKind(raw["kind"]), tuple(Principal.from_text(p) for p in raw["viewers"]))
            if raw
            else Visibility()
        )
    fields["environment_variables"] = tuple(
        EnvironmentVariable(name, val) for name, val in value.get("environment_variables", [])
    )
    return DefiniteSettings(**fields)  # type: ignore[arg-type]
