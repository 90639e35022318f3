"""The HTTP face's JSON vocabulary as Pydantic models: they validate input and describe it in ``/openapi.json``.

The routes (``routes/methods.py``) are built from the interface table; this module says how their parameters
and results look in HTTP, by parameter name and by type: path and query parameters, request bodies, replies.
Replies are built by ``canister_factory.client.wire`` (shared with the client), described by the models here.
A method whose parameters or result have no entry gets a model made from their Python types (``body_model``,
``reply_model``). Natural numbers that can pass 2^53 are accepted as decimal strings (or JSON integers) and
always returned as decimal strings.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model

from canister_factory._core.config import NAT32_MAX, NAT64_MAX
from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import (
    CallerStats,
    CanisterInfo,
    CanisterPage,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    ModuleMetadata,
    UploadInfo,
    UploadSummary,
)
from canister_factory.client.wire import parse_hex, parse_mode, parse_nat, parse_principal_text
from icp_client.principal import Principal


def _nat(value: object) -> int:
    try:
        return parse_nat(value, "value")
    except InvalidArgument as exc:
        raise ValueError(exc.message) from exc


NatString = Annotated[
    int,
    BeforeValidator(_nat),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+$", "description": "a natural number, in decimal"}),
]
PrincipalText = Annotated[str, Field(description="a principal in text form", examples=["2vxsx-fae"])]
UploadId = Annotated[int, Path(ge=0, le=NAT64_MAX, description="an upload id (nat64)")]
ChunkIndex = Annotated[int, Path(ge=0, le=NAT32_MAX, description="the chunk's index (nat32), from 0")]
Cursor = Annotated[int | None, Query(ge=0, le=NAT64_MAX, description="next_cursor from the previous page")]
Limit = Annotated[int | None, Query(ge=1, le=1000)]


class _Body(BaseModel):
    """Strict: a boolean is a JSON boolean (not "true" or 1), an id a JSON integer; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CommitBody(_Body):
    expected_sha256_hex: str = Field(description="the SHA-256 of the whole module, hex (either case)")


class RecordBody(_Body):
    """A body that is one record of the interface, whole."""

    def to_record(self) -> object:
        raise NotImplementedError


class CreateBody(RecordBody):
    upload_id: int = Field(ge=0, le=NAT64_MAX)
    init_arg: str = Field("", description="the install argument (Candid bytes), hex")
    mode: Literal["Install", "Reinstall", "Upgrade"] = "Install"
    cycles: NatString
    handoff: bool = True
    extra_controllers: list[PrincipalText] | None = None
    canister_id: PrincipalText | None = Field(
        None, description="for Reinstall/Upgrade of a canister we control"
    )
    idempotency_key: str | None = Field(None, max_length=128)
    owner: PrincipalText | None = Field(
        None, description="whom the new canister is for (default: the caller); its quota counts the caller"
    )

    def to_record(self) -> CreateInstallRequest:
        """The service's request record.

        Raises:
            InvalidArgument: a bad hex init arg or principal.
        """
        return CreateInstallRequest(
            upload_id=self.upload_id,
            init_arg=parse_hex(self.init_arg, "init_arg"),
            mode=parse_mode(self.mode),
            cycles=self.cycles,
            handoff=self.handoff,
            extra_controllers=None
            if self.extra_controllers is None
            else tuple(parse_principal_text(p, "extra_controllers") for p in self.extra_controllers),
            canister_id=None
            if self.canister_id is None
            else parse_principal_text(self.canister_id, "canister_id"),
            idempotency_key=self.idempotency_key,
            owner=None if self.owner is None else parse_principal_text(self.owner, "owner"),
        )


class EmergencyStopBody(_Body):
    stopped: bool


class AllowlistBody(_Body):
    allowlist: list[PrincipalText] | None = Field(description="null lets every caller in")


class AdminBody(_Body):
    principal: PrincipalText


# --- replies (documentation only; the bodies come from client.wire) ---------------------------------------------


class ErrorReply(BaseModel):
    error: str = Field(description="the reference's error text")
    code: str = Field(description="stable machine-readable code, e.g. permission_denied")
    reject_code: int | None = Field(None, description="with code ic_reject: the IC's reject code")
    reject_message: str | None = Field(None, description="with code ic_reject: the IC's reject message")
    error_code: str | None = Field(None, description="with code ic_reject: the IC's error code, e.g. IC0503")


class UploadIdReply(BaseModel):
    upload_id: int


class TotalLenReply(BaseModel):
    total_len: int


class CommitReply(BaseModel):
    sha256_hex: str


class UploadInfoReply(BaseModel):
    owner: str
    chunks: list[str] = Field(description="each chunk's SHA-256, hex")
    total_len: int
    committed_hash: str | None
    created_at_time_ns: str


class CreateReply(BaseModel):
    canister_id: str
    module_hash_hex: str
    cycles_used: str = Field(description="what the request took from the factory's balance, fees included")
    canister_cycles: str | None = Field(
        description="what the canister was given: the cycles asked less the creation fee (a new canister)"
    )


class CanisterReply(BaseModel):
    canister_id: str | None
    owner: str
    caller: str
    module_hash_hex: str
    mode: str
    cycles: str
    state: str
    handoff: bool
    created_at_ns: str
    updated_at_ns: str
    cycles_used: str | None
    error: str | None


class CanisterPageReply(BaseModel):
    canisters: list[CanisterReply]
    next_cursor: int | None


class CanisterInfoReply(BaseModel):
    canister_id: str
    controllers: list[str]
    module_hash_hex: str | None
    status: str | None = Field(description="running, stopping or stopped; null when it cannot be read")
    cycles: str | None = Field(description="null when neither the factory nor (embedded IC) you control it")
    memory_size: str | None
    owner: str | None = Field(description="the owner in the registry; null if this factory did not create it")


class UploadSummaryReply(BaseModel):
    upload_id: int
    total_len: int
    chunk_count: int
    created_at_ns: str
    last_activity_ns: str
    expires_at_ns: str = Field(description="when it expires unless something is added to it")


class UploadsReply(BaseModel):
    uploads: list[UploadSummaryReply]


class ModuleMetadataReply(BaseModel):
    candid_args: str | None
    candid_service: str | None


class ConfigReply(BaseModel):
    max_canisters_per_caller: int
    min_factory_cycles: str
    max_upload_size: int
    upload_ttl_ns: str
    allowlist: list[str] | None
    admins: list[str]
    next_upload_id: int
    emergency_stop: bool
    max_creations_per_day: int | None
    max_active_uploads_per_caller: int
    max_modules_per_caller: int
    max_cycles_per_caller_per_day: str | None
    max_stored_module_bytes: int


class FactoryStatsReply(BaseModel):
    total_canisters_created: int
    total_uploads: int
    active_uploads: int
    factory_cycles_balance: str
    unique_callers: int


class CallerStatsReply(BaseModel):
    created_count: int
    last_created_at: str | None


class TextReply(BaseModel):
    status: str


class VersionReply(BaseModel):
    version: str


class RemovedReply(BaseModel):
    removed: int


# --- the vocabulary, by parameter name and by type ----------------------------------------------------------------

CanisterId = Annotated[str, Path(description="a canister id (a principal in text form)")]
PATH_PARAMS: dict[str, Any] = {
    "upload_id": UploadId,
    "index": ChunkIndex,
    "principal": str,
    "canister_id": CanisterId,
}
CreatedForOthers = Annotated[
    bool | None, Query(description="also the canisters you created for someone else (default false)")
]
QUERY_PARAMS: dict[str, Any] = {"cursor": Cursor, "limit": Limit, "created_for_others": CreatedForOthers}
FIELD_BODIES: dict[str, type[BaseModel]] = {
    "commit_upload": CommitBody,
    "set_emergency_stop": EmergencyStopBody,
    "set_allowlist": AllowlistBody,
    "add_admin": AdminBody,
}
"""A method's JSON body (fields named like its parameters), by method name."""
RECORD_BODIES: dict[type, type[RecordBody]] = {CreateInstallRequest: CreateBody}
"""A record sent as a whole body, by type."""
KEY_REPLIES: dict[str, type[BaseModel]] = {
    "upload_id": UploadIdReply,
    "total_len": TotalLenReply,
    "sha256_hex": CommitReply,
    "removed": RemovedReply,
    "status": TextReply,
    "version": VersionReply,
    "uploads": UploadsReply,
}
"""The reply ``{key: value}`` of a single-valued result, by key."""
RECORD_REPLIES: dict[type, type[BaseModel]] = {
    UploadInfo: UploadInfoReply,
    CreateInstallResponse: CreateReply,
    CanisterPage: CanisterPageReply,
    ConfigView: ConfigReply,
    FactoryStats: FactoryStatsReply,
    CallerStats: CallerStatsReply,
    CanisterInfo: CanisterInfoReply,
    UploadSummary: UploadSummaryReply,
    ModuleMetadata: ModuleMetadataReply,
}


def path_param(name: str, hint: Any) -> Any:
    """The annotation of a path parameter."""
    return PATH_PARAMS.get(name) or (Annotated[int, Path(ge=0, le=NAT64_MAX)] if hint is int else str)


def query_param(name: str, hint: Any) -> Any:
    """The annotation of a query parameter (always optional)."""
    return QUERY_PARAMS.get(name) or Annotated[json_type(hint) | None, Query()]


def body_model(method: str, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    """The JSON body of ``method``: its model here, or one made from ``fields`` (name: (type, default))."""
    if method in FIELD_BODIES:
        return FIELD_BODIES[method]
    made = {name: (json_type(hint), default) for name, (hint, default) in fields.items()}
    return create_model(f"{_camel(method)}Body", __base__=_Body, **made)  # type: ignore[call-overload, no-any-return]


def record_body(hint: Any) -> type[RecordBody]:
    """The model of a record sent as a whole body.

    Raises:
        TypeError: the record has no body model here.
    """
    if hint not in RECORD_BODIES:
        raise TypeError(f"no JSON body model for {hint!r}: add one to api/schemas.py's RECORD_BODIES")
    return RECORD_BODIES[hint]


def reply_model(key: str | None, hint: Any) -> Any:
    """The model of a reply: ``{key: value}`` for a single value, or the record's.

    Raises:
        TypeError: a record without a reply model here.
    """
    if key is not None:
        made: dict[str, Any] = {key: (json_type(hint), ...)}
        return KEY_REPLIES.get(key) or create_model(f"{_camel(key)}Reply", **made)
    if hint in RECORD_REPLIES:
        return RECORD_REPLIES[hint]
    if typing.get_origin(hint) is dict:
        return hint
    raise TypeError(f"no reply model for {hint!r}: add one to api/schemas.py's RECORD_REPLIES")


def json_type(hint: Any) -> Any:
    """The JSON-side type of a parameter or result type (principals as text, bytes as hex).

    Raises:
        TypeError: a type with no JSON form here.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [json_type(a) for a in args if a is not type(None)]
        return typing.Union[(*inner, None)]
    if origin in (list, tuple):
        return list[json_type(args[0])]  # type: ignore[misc]
    if hint is Principal:
        return PrincipalText
    if hint is bytes:
        return Annotated[str, Field(description="hex")]
    if hint in (int, str, bool):
        return hint
    if hint in RECORD_REPLIES:
        return RECORD_REPLIES[hint]
    raise TypeError(f"no JSON form for {hint!r} in api/schemas.py")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
