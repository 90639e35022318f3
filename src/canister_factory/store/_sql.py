"""What the SQL repositories share: rows to records and back, and dialect helpers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory._core.uploads import Upload
from canister_factory.store import factory_tables as t
from canister_factory.unit_of_work import CreationRow, StoreRow
from icp_client.principal import Principal

OPEN_STATES = [s.value for s in State if s not in (State.READY, State.FAILED)]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert_ignore(conn: Connection, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    return (postgresql.insert(table) if is_pg(conn) else sqlite.insert(table)).on_conflict_do_nothing()


def opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def opt_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def chunk(conn: Connection, data_id: int) -> bytes:
    """The bytes of one stored chunk (``chunk_data``)."""
    query = sa.select(t.chunk_data.c.data).where(t.chunk_data.c.id == data_id)
    return bytes(conn.execute(query).scalar_one())


def delete_chunk_data(conn: Connection, ids: sa.Select[Any]) -> None:
    """Delete the stored chunks whose ids ``ids`` selects."""
    conn.execute(sa.delete(t.chunk_data).where(t.chunk_data.c.id.in_(ids.scalar_subquery())))


def upload_of(row: Any) -> Upload:
    return Upload(
        id=int(row["id"]),
        owner=Principal.from_text(row["owner"]),
        created_at_ns=int(row["created_at_ns"]),
        last_activity_ns=int(row["last_activity_ns"]),
        total_len=int(row["total_len"]),
        chunk_count=int(row["chunk_count"]),
        module_hash=None if row["module_hash"] is None else bytes(row["module_hash"]),
    )


def store_row_of(row: Any) -> StoreRow:
    cid = row["canister_id"]
    return StoreRow(
        id=int(row["id"]),
        canister_id=None if cid is None else Principal.from_text(cid),
        created_at_time_ns=int(row["created_at_time_ns"]),
        claimed_by=row["claimed_by"],
        claimed_until_ns=row["claimed_until_ns"],
        module_hash=None if row["module_hash"] is None else bytes(row["module_hash"]),
    )


def creation_of(row: Any) -> CreationRow:
    cid = row["canister_id"]
    return CreationRow(
        id=int(row["id"]),
        owner=Principal.from_text(row["owner"]),
        caller=Principal.from_text(row["caller"]),
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
        cycles_used=opt_int(row["cycles_used"]),
        error=row["error"],
        requested_at_ns=int(row["requested_at_ns"]),
        updated_at_ns=int(row["updated_at_ns"]),
        claimed_by=row["claimed_by"],
        claimed_until_ns=row["claimed_until_ns"],
        from_spare=bool(row["from_spare"]),
        attempts=int(row["attempts"]),
    )


def creation_values(row: CreationRow) -> dict[str, Any]:
    """The ``canisters`` columns of ``row``."""
    return {name: column_value(name, getattr(row, name)) for name in CreationRow.__dataclass_fields__}


def column_value(name: str, value: Any) -> Any:
    """A ``CreationRow`` field's value as its column holds it."""
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
