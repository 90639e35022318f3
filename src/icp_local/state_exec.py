"""The execution state of canisters and the messages in flight: tables, their migration, and queries.

Tables (all prefixed ``ic_``, beside those of ``state.py``):

* ``ic_exec_state``: one row per canister with code: ``epoch`` (bumped when the whole state is replaced: install,
  reinstall, upgrade, uninstall), ``version`` (bumped by every kept message), the sizes of the Wasm and stable
  memories in Wasm pages, every mutable global (JSON), the certified data and the global timer.
* ``ic_exec_pages``: the non-zero 4 KiB pages of both memories, each with the ``version`` that last wrote it, so
  a process whose live instance is at version ``v`` reads only the pages written after ``v``.
* ``ic_call_contexts`` and ``ic_callbacks``: the open call contexts of canisters and the callbacks of the calls
  they made; ``ic_messages``: requests and responses not yet delivered (the queue, in order of ``id``);
  ``ic_ingress``: the outcome of an ingress call answered after its first message (by a later callback).

Everything a message changes is written in the transaction that executes it, so an acknowledged call is
durable and a crash loses nothing that was acknowledged. Cycles are decimal TEXT (they exceed 2^63).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from icp_client.principal import Principal
from icp_local.db import Migration, metadata

__all__ = [
    "MIGRATION",
    "CallbackRow",
    "ContextRow",
    "ExecRow",
    "ExecStateTx",
    "IngressRow",
    "MessageRow",
]

HEAP = "h"
STABLE = "s"

ic_exec_state = sa.Table(
    "ic_exec_state",
    metadata,
    sa.Column("canister_id", sa.String(64), primary_key=True),
    sa.Column("epoch", sa.BigInteger, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("heap_size", sa.BigInteger, nullable=False),
    sa.Column("stable_size", sa.BigInteger, nullable=False),
    sa.Column("globals", sa.Text, nullable=False),
    sa.Column("certified_data", sa.LargeBinary, nullable=False),
    sa.Column("global_timer", sa.BigInteger, nullable=False),
)

ic_exec_pages = sa.Table(
    "ic_exec_pages",
    metadata,
    sa.Column("canister_id", sa.String(64), primary_key=True),
    sa.Column("memory", sa.String(1), primary_key=True),
    sa.Column("page", sa.BigInteger, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Index("ic_exec_pages_by_version", "canister_id", "version"),
)

ic_call_contexts = sa.Table(
    "ic_call_contexts",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("canister_id", sa.String(64), nullable=False, index=True),
    sa.Column("origin_kind", sa.String(16), nullable=False),  # ingress | canister
    sa.Column("origin", sa.Text, nullable=False),  # the ingress id (hex) or the calling canister's id
    sa.Column("origin_callback", sa.BigInteger, nullable=True),
    sa.Column("caller", sa.String(64), nullable=False),  # who called: the user or the canister
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("cycles", sa.Text, nullable=False),  # still available to accept
    sa.Column("responded", sa.Boolean, nullable=False),
)

ic_callbacks = sa.Table(
    "ic_callbacks",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("canister_id", sa.String(64), nullable=False, index=True),  # the caller, who runs it
    sa.Column("context_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("callee", sa.String(64), nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column(
        "closures", sa.Text, nullable=False
    ),  # JSON [reply_fun, reply_env, reject_fun, reject_env, ...]
    sa.Column("cycles", sa.Text, nullable=False),  # attached to the call
)

ic_messages = sa.Table(
    "ic_messages",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # request | response
    sa.Column("receiver", sa.String(64), nullable=False),
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # the argument, or the reply
    sa.Column("cycles", sa.Text, nullable=False),  # attached (request) or refunded (response)
    sa.Column("callback_id", sa.BigInteger, nullable=True),
    sa.Column("reject_code", sa.Integer, nullable=True),
    sa.Column("reject_message", sa.Text, nullable=True),
)

ic_ingress = sa.Table(
    "ic_ingress",
    metadata,
    sa.Column("id", sa.LargeBinary, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # processing | replied | rejected
    sa.Column("reply", sa.LargeBinary, nullable=True),
    sa.Column("reject_code", sa.Integer, nullable=True),
    sa.Column("reject_message", sa.Text, nullable=True),
    sa.Column("error_code", sa.String(16), nullable=True),
    sa.Column("created_ns", sa.BigInteger, nullable=False),
)

_EXEC = sa.select(ic_exec_state).where(ic_exec_state.c.canister_id == sa.bindparam("cid"))
_EXEC_VERSION = sa.select(ic_exec_state.c.epoch, ic_exec_state.c.version).where(
    ic_exec_state.c.canister_id == sa.bindparam("cid")
)
_UPDATE_EXEC = (
    sa.update(ic_exec_state)
    .where(ic_exec_state.c.canister_id == sa.bindparam("cid"))
    .values(
        epoch=sa.bindparam("epoch"),
        version=sa.bindparam("version"),
        heap_size=sa.bindparam("heap_size"),
        stable_size=sa.bindparam("stable_size"),
        globals=sa.bindparam("globals"),
        certified_data=sa.bindparam("certified_data"),
        global_timer=sa.bindparam("global_timer"),
    )
)
_POP = sa.select(ic_messages).order_by(ic_messages.c.id).limit(1)
_QUEUE_LENGTH = sa.select(sa.func.count()).select_from(ic_messages)

_TABLES = (ic_exec_state, ic_exec_pages, ic_call_contexts, ic_callbacks, ic_messages, ic_ingress)


def _create_tables(conn: Connection) -> None:
    for table in _TABLES:
        table.create(conn, checkfirst=True)


MIGRATION = Migration(3, "canister execution state and messages", _create_tables)


@dataclass(slots=True)
class ExecRow:
    """A canister's execution state besides its pages; ``globals`` holds every mutable global."""

    epoch: int
    version: int
    heap_size: int
    stable_size: int
    globals: dict[int, int | float]
    certified_data: bytes = b""
    global_timer: int = 0


@dataclass(frozen=True, slots=True)
class ContextRow:
    """An open call context: whose, where the call came from, what is left of its cycles, whether answered."""

    id: int
    canister_id: Principal
    origin_kind: str
    origin: str
    origin_callback: int | None
    caller: Principal
    method: str
    cycles: int
    responded: bool


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """A call a canister made that awaits its response; ``closures`` as the engine gave them."""

    id: int
    canister_id: Principal
    context_id: int
    callee: Principal
    method: str
    closures: tuple[int, ...]
    cycles: int


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A request or response in the queue."""

    id: int
    kind: str
    receiver: Principal
    sender: Principal
    method: str
    payload: bytes
    cycles: int
    callback_id: int | None = None
    reject_code: int | None = None
    reject_message: str | None = None


@dataclass(frozen=True, slots=True)
class IngressRow:
    """An ingress call's outcome as recorded: ``processing`` until answered."""

    status: str
    reply: bytes | None
    reject_code: int | None
    reject_message: str | None
    error_code: str | None


class ExecStateTx:
    """The queries on the execution tables, inside one transaction (``IcStateTx.exec``)."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    # --- execution state ------------------------------------------------------------------------

    def get_exec_version(self, canister_id: Principal) -> tuple[int, int] | None:
        """The canister's (epoch, version), None if it has no code: all a live instance needs to check."""
        found = self._conn.execute(_EXEC_VERSION, {"cid": canister_id.to_text()}).first()
        return None if found is None else (int(found[0]), int(found[1]))

    def get_exec(self, canister_id: Principal) -> ExecRow | None:
        row = self._conn.execute(_EXEC, {"cid": canister_id.to_text()}).mappings().first()
        if row is None:
            return None
        return ExecRow(
            epoch=int(row["epoch"]),
            version=int(row["version"]),
            heap_size=int(row["heap_size"]),
            stable_size=int(row["stable_size"]),
            globals=_globals_from_json(row["globals"]),
            certified_data=bytes(row["certified_data"]),
            global_timer=int(row["global_timer"]),
        )

    def put_exec(self, canister_id: Principal, state: ExecRow) -> None:
        """Writes the canister's execution row (inserting it if missing)."""
        values: dict[str, object] = {
            "epoch": state.epoch,
            "version": state.version,
            "heap_size": state.heap_size,
            "stable_size": state.stable_size,
            "globals": _globals_to_json(state.globals),
            "certified_data": state.certified_data,
            "global_timer": state.global_timer,
        }
        text = canister_id.to_text()
        updated = self._conn.execute(_UPDATE_EXEC, {"cid": text, **values})
        if updated.rowcount == 0:
            self._conn.execute(sa.insert(ic_exec_state).values(canister_id=text, **values))

    def delete_exec(self, canister_id: Principal) -> None:
        """Forgets the canister's execution state and pages."""
        text = canister_id.to_text()
        self._conn.execute(sa.delete(ic_exec_pages).where(ic_exec_pages.c.canister_id == text))
        self._conn.execute(sa.delete(ic_exec_state).where(ic_exec_state.c.canister_id == text))

    def put_pages(
        self, canister_id: Principal, memory: str, pages: Mapping[int, bytes], version: int
    ) -> None:
        """Writes pages (4 KiB each) of the heap (``"h"``) or stable memory (``"s"``) as of ``version``."""
        if not pages:
            return
        text = canister_id.to_text()
        rows = [
            {"canister_id": text, "memory": memory, "page": index, "version": version, "data": data}
            for index, data in pages.items()
        ]
        self._conn.execute(_upsert_pages(self._dialect), rows)

    def pages(self, canister_id: Principal, after_version: int = -1) -> dict[str, dict[int, bytes]]:
        """The pages written after ``after_version`` (all of them by default), by memory then index."""
        query = sa.select(ic_exec_pages.c.memory, ic_exec_pages.c.page, ic_exec_pages.c.data).where(
            ic_exec_pages.c.canister_id == canister_id.to_text(), ic_exec_pages.c.version > after_version
        )
        found: dict[str, dict[int, bytes]] = {HEAP: {}, STABLE: {}}
        for memory, page, data in self._conn.execute(query):
            found[memory][int(page)] = bytes(data)
        return found

    # --- call contexts and callbacks ------------------------------------------------------------

    def insert_context(self, row: ContextRow) -> None:
        self._conn.execute(sa.insert(ic_call_contexts).values(**_context_values(row)))

    def update_context(self, row: ContextRow) -> None:
        values = _context_values(row)
        del values["id"]
        self._conn.execute(
            sa.update(ic_call_contexts).where(ic_call_contexts.c.id == row.id).values(**values)
        )

    def get_context(self, context_id: int) -> ContextRow | None:
        row = self._conn.execute(
            sa.select(ic_call_contexts).where(ic_call_contexts.c.id == context_id)
        ).mappings()
        found = row.first()
        return None if found is None else _context_from_row(found)

    def delete_context(self, context_id: int) -> None:
        self._conn.execute(sa.delete(ic_call_contexts).where(ic_call_contexts.c.id == context_id))

    def contexts_of(self, canister_id: Principal) -> list[ContextRow]:
        query = sa.select(ic_call_contexts).where(ic_call_contexts.c.canister_id == canister_id.to_text())
        return [
            _context_from_row(r) for r in self._conn.execute(query.order_by(ic_call_contexts.c.id)).mappings()
        ]

    def insert_callback(self, row: CallbackRow) -> None:
        self._conn.execute(
            sa.insert(ic_callbacks).values(
                id=row.id,
                canister_id=row.canister_id.to_text(),
                context_id=row.context_id,
                callee=row.callee.to_text(),
                method=row.method,
                closures=json.dumps(list(row.closures)),
                cycles=str(row.cycles),
            )
        )

    def get_callback(self, callback_id: int) -> CallbackRow | None:
        found = (
            self._conn.execute(sa.select(ic_callbacks).where(ic_callbacks.c.id == callback_id))
            .mappings()
            .first()
        )
        if found is None:
            return None
        return CallbackRow(
            id=int(found["id"]),
            canister_id=Principal.from_text(found["canister_id"]),
            context_id=int(found["context_id"]),
            callee=Principal.from_text(found["callee"]),
            method=found["method"],
            closures=tuple(json.loads(found["closures"])),
            cycles=int(found["cycles"]),
        )

    def delete_callback(self, callback_id: int) -> None:
        self._conn.execute(sa.delete(ic_callbacks).where(ic_callbacks.c.id == callback_id))

    def count_callbacks(self, context_id: int) -> int:
        query = sa.select(sa.func.count()).where(ic_callbacks.c.context_id == context_id)
        return int(self._conn.execute(query).scalar_one())

    def delete_callbacks_of(self, canister_id: Principal) -> None:
        self._conn.execute(sa.delete(ic_callbacks).where(ic_callbacks.c.canister_id == canister_id.to_text()))

    # --- the queue ------------------------------------------------------------------------------

    def push(self, message: MessageRow) -> None:
        self._conn.execute(
            sa.insert(ic_messages).values(
                id=message.id,
                kind=message.kind,
                receiver=message.receiver.to_text(),
                sender=message.sender.to_text(),
                method=message.method,
                payload=message.payload,
                cycles=str(message.cycles),
                callback_id=message.callback_id,
                reject_code=message.reject_code,
                reject_message=message.reject_message,
            )
        )

    def pop(self) -> MessageRow | None:
        """The oldest message, removed from the queue (locked and skipped by other PostgreSQL writers)."""
        query = _POP.with_for_update(skip_locked=True) if self._dialect == "postgresql" else _POP
        found = self._conn.execute(query).mappings().first()
        if found is None:
            return None
        self._conn.execute(sa.delete(ic_messages).where(ic_messages.c.id == found["id"]))
        return MessageRow(
            id=int(found["id"]),
            kind=found["kind"],
            receiver=Principal.from_text(found["receiver"]),
            sender=Principal.from_text(found["sender"]),
            method=found["method"],
            payload=bytes(found["payload"]),
            cycles=int(found["cycles"]),
            callback_id=found["callback_id"],
            reject_code=found["reject_code"],
            reject_message=found["reject_message"],
        )

    def queue_length(self) -> int:
        return int(self._conn.execute(_QUEUE_LENGTH).scalar_one())

    # --- ingress ----------------------------------------------------------------------------------

    def put_ingress(self, ingress_id: bytes, row: IngressRow, now_ns: int) -> None:
        values = {
            "status": row.status,
            "reply": row.reply,
            "reject_code": row.reject_code,
            "reject_message": row.reject_message,
            "error_code": row.error_code,
        }
        updated = self._conn.execute(
            sa.update(ic_ingress).where(ic_ingress.c.id == ingress_id).values(**values)
        )
        if updated.rowcount == 0:
            self._conn.execute(sa.insert(ic_ingress).values(id=ingress_id, created_ns=now_ns, **values))

    def get_ingress(self, ingress_id: bytes) -> IngressRow | None:
        found = (
            self._conn.execute(sa.select(ic_ingress).where(ic_ingress.c.id == ingress_id)).mappings().first()
        )
        if found is None:
            return None
        return IngressRow(
            found["status"],
            None if found["reply"] is None else bytes(found["reply"]),
            found["reject_code"],
            found["reject_message"],
            found["error_code"],
        )

    def delete_ingress(self, ingress_id: bytes) -> None:
        self._conn.execute(sa.delete(ic_ingress).where(ic_ingress.c.id == ingress_id))

    def forget_canister(self, canister_ids: Iterable[Principal]) -> None:
        """Drops everything execution keeps for deleted canisters (state, contexts, callbacks)."""
        for canister_id in canister_ids:
            self.delete_exec(canister_id)
            text = canister_id.to_text()
            self._conn.execute(sa.delete(ic_call_contexts).where(ic_call_contexts.c.canister_id == text))
            self._conn.execute(sa.delete(ic_callbacks).where(ic_callbacks.c.canister_id == text))


def _context_values(row: ContextRow) -> dict[str, object]:
    return {
        "id": row.id,
        "canister_id": row.canister_id.to_text(),
        "origin_kind": row.origin_kind,
        "origin": row.origin,
        "origin_callback": row.origin_callback,
        "caller": row.caller.to_text(),
        "method": row.method,
        "cycles": str(row.cycles),
        "responded": row.responded,
    }


def _context_from_row(row: sa.RowMapping) -> ContextRow:
    return ContextRow(
        id=int(row["id"]),
        canister_id=Principal.from_text(row["canister_id"]),
        origin_kind=row["origin_kind"],
        origin=row["origin"],
        origin_callback=row["origin_callback"],
        caller=Principal.from_text(row["caller"]),
        method=row["method"],
        cycles=int(row["cycles"]),
        responded=bool(row["responded"]),
    )


def _globals_to_json(values: Mapping[int, int | float]) -> str:
    """Globals as JSON: integers as they are, floats by their IEEE bits (NaN payloads and -0.0 survive)."""
    encoded = {str(i): v if isinstance(v, int) else {"f": float(v).hex()} for i, v in values.items()}
    return json.dumps(encoded, sort_keys=True)


def _globals_from_json(text: str) -> dict[int, int | float]:
    decoded: dict[int, int | float] = {}
    for index, value in json.loads(text).items():
        decoded[int(index)] = float.fromhex(value["f"]) if isinstance(value, dict) else int(value)
    return decoded


@functools.cache
def _upsert_pages(dialect: str) -> Any:
    """The page upsert for ``dialect`` (built once)."""
    insert = postgresql.insert(ic_exec_pages) if dialect == "postgresql" else sqlite.insert(ic_exec_pages)
    return insert.on_conflict_do_update(
        index_elements=["canister_id", "memory", "page"],
        set_={"version": insert.excluded.version, "data": insert.excluded.data},
    )
