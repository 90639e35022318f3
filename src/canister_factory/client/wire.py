"""The JSON shapes of the HTTP API: the records of ``_core.model`` to and from JSON. Standard library only.

Shared by the service (which encodes replies and decodes nothing here but requests it documents) and the client
(which decodes replies), so the two cannot drift. Rules, as ``docs/http-api.md`` states them:

* Amounts of cycles and nanosecond timestamps (Candid ``nat`` and ``nat64`` values that can pass 2^53) are
  decimal strings, so a JavaScript client reads them exactly. Ids, counts and byte lengths are JSON numbers.
* Principals are their text form; blobs (hashes, init args) are lower-case hex.
* ``mode`` is ``"Install"``, ``"Reinstall"`` or ``"Upgrade"``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import (
    CallerStats,
    CanisterInfo,
    CanisterPage,
    CanisterRecord,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    Mode,
    ModuleMetadata,
    UploadInfo,
    UploadSummary,
)
from icp_client.principal import Principal

Json = dict[str, Any]

# --- helpers ------------------------------------------------------------------------------------------------------


def big(value: int) -> str:
    """An integer that may pass 2^53, as a decimal string."""
    return str(value)


def opt_big(value: int | None) -> str | None:
    return None if value is None else str(value)


def parse_nat(value: object, what: str) -> int:
    """A natural number given as a decimal string or a JSON integer.

    Raises:
        InvalidArgument: anything else (floats, negatives, signs, spaces).
    """
    if isinstance(value, bool):
        raise InvalidArgument(f"{what} must be a natural number, got {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 80:
        return int(value)
    raise InvalidArgument(f"{what} must be a natural number (a decimal string), got {value!r}")


def parse_principal_text(value: object, what: str) -> Principal:
    """A principal's text form.

    Raises:
        InvalidArgument: not a string or not a valid principal.
    """
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a principal in text form")
    try:
        return Principal.from_text(value)
    except ValueError as exc:
        raise InvalidArgument(f"{what}: {exc}") from exc


def parse_hex(value: object, what: str) -> bytes:
    """Bytes as hex (either case).

    Raises:
        InvalidArgument: not a string of hex digit pairs.
    """
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise InvalidArgument(f"{what} is not valid hex") from exc


def _opt(value: object, parse: Any, what: str) -> Any:
    return None if value is None else parse(value, what)


def _principals(values: object, what: str) -> tuple[Principal, ...]:
    if not isinstance(values, list):
        raise InvalidArgument(f"{what} must be a list of principals")
    return tuple(parse_principal_text(v, what) for v in values)


# --- records ------------------------------------------------------------------------------------------------------


def upload_info_to_json(info: UploadInfo) -> Json:
    return {
        "owner": info.owner.to_text(),
        "chunks": [c.hex() for c in info.chunks],
        "total_len": info.total_len,
        "committed_hash": None if info.committed_hash is None else info.committed_hash.hex(),
        "created_at_time_ns": big(info.created_at_time_ns),
    }


def upload_info_from_json(data: Mapping[str, Any]) -> UploadInfo:
    return UploadInfo(
        owner=parse_principal_text(data["owner"], "owner"),
        chunks=tuple(parse_hex(c, "chunks") for c in data["chunks"]),
        total_len=int(data["total_len"]),
        committed_hash=_opt(data["committed_hash"], parse_hex, "committed_hash"),
        created_at_time_ns=parse_nat(data["created_at_time_ns"], "created_at_time_ns"),
    )


def create_request_to_json(req: CreateInstallRequest) -> Json:
    return {
        "upload_id": req.upload_id,
        "init_arg": req.init_arg.hex(),
        "mode": req.mode.value,
        "cycles": big(req.cycles),
        "handoff": req.handoff,
        "extra_controllers": None
        if req.extra_controllers is None
        else [p.to_text() for p in req.extra_controllers],
        "canister_id": None if req.canister_id is None else req.canister_id.to_text(),
        "idempotency_key": req.idempotency_key,
        "owner": None if req.owner is None else req.owner.to_text(),
    }


def parse_mode(value: object, what: str = "mode") -> Mode:
    """``"Install"``, ``"Reinstall"`` or ``"Upgrade"`` (case-insensitive)."""
    for mode in Mode:
        if isinstance(value, str) and value.lower() == mode.value.lower():
            return mode
    raise InvalidArgument(f"{what} must be one of Install, Reinstall, Upgrade; got {value!r}")


def create_response_to_json(resp: CreateInstallResponse) -> Json:
    return {
        "canister_id": resp.canister_id.to_text(),
        "module_hash_hex": resp.module_hash_hex,
        "cycles_used": big(resp.cycles_used),
        "canister_cycles": opt_big(resp.canister_cycles),
    }


def create_response_from_json(data: Mapping[str, Any]) -> CreateInstallResponse:
    return CreateInstallResponse(
        canister_id=parse_principal_text(data["canister_id"], "canister_id"),
        module_hash_hex=str(data["module_hash_hex"]),
        cycles_used=parse_nat(data["cycles_used"], "cycles_used"),
        canister_cycles=_opt(data.get("canister_cycles"), parse_nat, "canister_cycles"),
    )


def caller_stats_to_json(stats: CallerStats) -> Json:
    return {"created_count": stats.created_count, "last_created_at": opt_big(stats.last_created_at)}


def caller_stats_from_json(data: Mapping[str, Any]) -> CallerStats:
    return CallerStats(
        created_count=int(data["created_count"]),
        last_created_at=_opt(data["last_created_at"], parse_nat, "last_created_at"),
    )


def factory_stats_to_json(stats: FactoryStats) -> Json:
    return {
        "total_canisters_created": stats.total_canisters_created,
        "total_uploads": stats.total_uploads,
        "active_uploads": stats.active_uploads,
        "factory_cycles_balance": big(stats.factory_cycles_balance),
        "unique_callers": stats.unique_callers,
    }


def factory_stats_from_json(data: Mapping[str, Any]) -> FactoryStats:
    return FactoryStats(
        total_canisters_created=int(data["total_canisters_created"]),
        total_uploads=int(data["total_uploads"]),
        active_uploads=int(data["active_uploads"]),
        factory_cycles_balance=parse_nat(data["factory_cycles_balance"], "factory_cycles_balance"),
        unique_callers=int(data["unique_callers"]),
    )


def config_to_json(config: ConfigView) -> Json:
    return {
        "max_canisters_per_caller": config.max_canisters_per_caller,
        "min_factory_cycles": big(config.min_factory_cycles),
        "max_upload_size": config.max_upload_size,
        "upload_ttl_ns": big(config.upload_ttl_ns),
        "allowlist": None if config.allowlist is None else [p.to_text() for p in config.allowlist],
        "admins": [p.to_text() for p in config.admins],
        "next_upload_id": config.next_upload_id,
        "emergency_stop": config.emergency_stop,
        "max_creations_per_day": config.max_creations_per_day,
        "max_active_uploads_per_caller": config.max_active_uploads_per_caller,
        "max_modules_per_caller": config.max_modules_per_caller,
        "max_cycles_per_caller_per_day": opt_big(config.max_cycles_per_caller_per_day),
        "max_stored_module_bytes": config.max_stored_module_bytes,
    }


def config_from_json(data: Mapping[str, Any]) -> ConfigView:
    return ConfigView(
        max_canisters_per_caller=int(data["max_canisters_per_caller"]),
        min_factory_cycles=parse_nat(data["min_factory_cycles"], "min_factory_cycles"),
        max_upload_size=int(data["max_upload_size"]),
        upload_ttl_ns=parse_nat(data["upload_ttl_ns"], "upload_ttl_ns"),
        allowlist=_opt(data["allowlist"], _principals, "allowlist"),
        admins=_principals(data["admins"], "admins"),
        next_upload_id=int(data["next_upload_id"]),
        emergency_stop=bool(data["emergency_stop"]),
        max_creations_per_day=data["max_creations_per_day"],
        max_active_uploads_per_caller=int(data["max_active_uploads_per_caller"]),
        max_modules_per_caller=int(data["max_modules_per_caller"]),
        max_cycles_per_caller_per_day=_opt(
            data.get("max_cycles_per_caller_per_day"), parse_nat, "max_cycles_per_caller_per_day"
        ),
        max_stored_module_bytes=int(data.get("max_stored_module_bytes", 0)),
    )


def canister_record_to_json(rec: CanisterRecord) -> Json:
    return {
        "canister_id": None if rec.canister_id is None else rec.canister_id.to_text(),
        "owner": rec.owner.to_text(),
        "caller": rec.caller.to_text(),
        "module_hash_hex": rec.module_hash_hex,
        "mode": rec.mode.value,
        "cycles": big(rec.cycles),
        "state": rec.state,
        "handoff": rec.handoff,
        "created_at_ns": big(rec.created_at_ns),
        "updated_at_ns": big(rec.updated_at_ns),
        "cycles_used": opt_big(rec.cycles_used),
        "error": rec.error,
    }


def canister_record_from_json(data: Mapping[str, Any]) -> CanisterRecord:
    return CanisterRecord(
        canister_id=_opt(data["canister_id"], parse_principal_text, "canister_id"),
        owner=parse_principal_text(data["owner"], "owner"),
        caller=parse_principal_text(data["caller"], "caller"),
        module_hash_hex=str(data["module_hash_hex"]),
        mode=parse_mode(data["mode"]),
        cycles=parse_nat(data["cycles"], "cycles"),
        state=str(data["state"]),
        handoff=bool(data["handoff"]),
        created_at_ns=parse_nat(data["created_at_ns"], "created_at_ns"),
        updated_at_ns=parse_nat(data["updated_at_ns"], "updated_at_ns"),
        cycles_used=_opt(data["cycles_used"], parse_nat, "cycles_used"),
        error=data["error"],
    )


def canister_page_to_json(page: CanisterPage) -> Json:
    return {
        "canisters": [canister_record_to_json(r) for r in page.canisters],
        "next_cursor": page.next_cursor,
    }


def canister_page_from_json(data: Mapping[str, Any]) -> CanisterPage:
    return CanisterPage(
        canisters=tuple(canister_record_from_json(r) for r in data["canisters"]),
        next_cursor=data["next_cursor"],
    )


def canister_info_to_json(info: CanisterInfo) -> Json:
    return {
        "canister_id": info.canister_id.to_text(),
        "controllers": [p.to_text() for p in info.controllers],
        "module_hash_hex": info.module_hash_hex,
        "status": info.status,
        "cycles": opt_big(info.cycles),
        "memory_size": opt_big(info.memory_size),
        "owner": None if info.owner is None else info.owner.to_text(),
    }


def canister_info_from_json(data: Mapping[str, Any]) -> CanisterInfo:
    return CanisterInfo(
        canister_id=parse_principal_text(data["canister_id"], "canister_id"),
        controllers=_principals(data["controllers"], "controllers"),
        module_hash_hex=data["module_hash_hex"],
        status=data["status"],
        cycles=_opt(data["cycles"], parse_nat, "cycles"),
        memory_size=_opt(data["memory_size"], parse_nat, "memory_size"),
        owner=_opt(data["owner"], parse_principal_text, "owner"),
    )


def upload_summary_to_json(summary: UploadSummary) -> Json:
    return {
        "upload_id": summary.upload_id,
        "total_len": summary.total_len,
        "chunk_count": summary.chunk_count,
        "created_at_ns": big(summary.created_at_ns),
        "last_activity_ns": big(summary.last_activity_ns),
        "expires_at_ns": big(summary.expires_at_ns),
    }


def upload_summary_from_json(data: Mapping[str, Any]) -> UploadSummary:
    return UploadSummary(
        upload_id=int(data["upload_id"]),
        total_len=int(data["total_len"]),
        chunk_count=int(data["chunk_count"]),
        created_at_ns=parse_nat(data["created_at_ns"], "created_at_ns"),
        last_activity_ns=parse_nat(data["last_activity_ns"], "last_activity_ns"),
        expires_at_ns=parse_nat(data["expires_at_ns"], "expires_at_ns"),
    )


def module_metadata_to_json(metadata: ModuleMetadata) -> Json:
    return {"candid_args": metadata.candid_args, "candid_service": metadata.candid_service}


def module_metadata_from_json(data: Mapping[str, Any]) -> ModuleMetadata:
    return ModuleMetadata(candid_args=data["candid_args"], candid_service=data["candid_service"])


# --- any value of the interface, by its type -----------------------------------------------------------------------

RECORDS: dict[type, tuple[Callable[[Any], Json], Callable[[Mapping[str, Any]], Any] | None]] = {
    UploadInfo: (upload_info_to_json, upload_info_from_json),
    CreateInstallRequest: (create_request_to_json, None),
    CreateInstallResponse: (create_response_to_json, create_response_from_json),
    CallerStats: (caller_stats_to_json, caller_stats_from_json),
    FactoryStats: (factory_stats_to_json, factory_stats_from_json),
    ConfigView: (config_to_json, config_from_json),
    CanisterRecord: (canister_record_to_json, canister_record_from_json),
    CanisterPage: (canister_page_to_json, canister_page_from_json),
    CanisterInfo: (canister_info_to_json, canister_info_from_json),
    UploadSummary: (upload_summary_to_json, upload_summary_from_json),
    ModuleMetadata: (module_metadata_to_json, module_metadata_from_json),
}
"""Each record's JSON codec: to JSON, and from JSON (None: the client never reads it)."""


def to_json(value: Any, hint: Any) -> Any:
    """A value of the interface's type ``hint`` as JSON: records by their codec, principals as text, bytes as
    hex, ints and other scalars as they are (outside records, ints are ids, counts and lengths).

    Raises:
        TypeError: ``hint`` is a type the HTTP API has no JSON form for.
    """
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return to_json(value, _some(args))
    if origin in (list, tuple):
        return [to_json(v, args[0]) for v in value]
    if hint is Principal:
        return value.to_text()
    if hint is bytes:
        return value.hex()
    if hint in (int, str, bool):
        return value
    if hint in RECORDS:
        return RECORDS[hint][0](value)
    raise TypeError(f"the HTTP API has no JSON form for {hint!r}: add its codec to client/wire.py")


def from_json(data: Any, hint: Any, what: str) -> Any:
    """A JSON value as the interface's type ``hint`` (``what`` names it in errors).

    Raises:
        InvalidArgument: the value does not fit.
        TypeError: ``hint`` is a type the HTTP API has no JSON form for.
    """
    if data is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return from_json(data, _some(args), what)
    if origin in (list, tuple):
        if not isinstance(data, list):
            raise InvalidArgument(f"{what} must be a list")
        items = [from_json(v, args[0], what) for v in data]
        return items if origin is list else tuple(items)
    if hint is Principal:
        return parse_principal_text(data, what)
    if hint is bytes:
        return parse_hex(data, what)
    if hint in (int, str, bool):
        return hint(data)
    decode = RECORDS.get(hint, (None, None))[1]
    if decode is not None:
        return decode(data)
    raise TypeError(f"the HTTP API has no JSON form for {hint!r}: add its codec to client/wire.py")


def _some(args: tuple[Any, ...]) -> Any:
    """The type of ``X | None``."""
    inner = [a for a in args if a is not type(None)]
    if len(inner) != 1:
        raise TypeError(f"the HTTP API has no JSON form for a union of {inner}")
    return inner[0]
