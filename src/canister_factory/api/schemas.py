"""Request bodies as Pydantic models: they validate input and describe it in ``/openapi.json``.

Replies are built by ``canister_factory.client.wire`` (shared with the client), described by the models at the
end. Natural numbers that can pass 2^53 are accepted as decimal strings (or JSON integers) and always returned as
decimal strings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from canister_factory._core.config import NAT32_MAX, NAT64_MAX
from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import CreateInstallRequest
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


class _Body(BaseModel):
    """Strict: a boolean is a JSON boolean (not "true" or 1), an id a JSON integer; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CommitBody(_Body):
    expected_sha256_hex: str = Field(description="the SHA-256 of the whole module, hex (either case)")


class CreateBody(_Body):
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

    def to_request(self) -> CreateInstallRequest:
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
        )


class EmergencyStopBody(_Body):
    stopped: bool


class AllowlistBody(_Body):
    allowlist: list[PrincipalText] | None = Field(description="null lets every caller in")

    def principals(self) -> list[Principal] | None:
        if self.allowlist is None:
            return None
        return [parse_principal_text(p, "allowlist") for p in self.allowlist]


class AdminBody(_Body):
    principal: PrincipalText


# --- replies (documentation only; the bodies come from client.wire) ---------------------------------------------


class ErrorReply(BaseModel):
    error: str = Field(description="the reference's error text")
    code: str = Field(description="stable machine-readable code, e.g. permission_denied")


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
    cycles_used: str


class CanisterReply(BaseModel):
    canister_id: str | None
    owner: str
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
