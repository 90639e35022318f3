"""The records of the factory's interface, as frozen dataclasses (the Candid shapes are in ``factory.did``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from icp_client.principal import Principal


class Mode(enum.Enum):
    """The reference's ``Mode`` variant."""

    INSTALL = "Install"
    REINSTALL = "Reinstall"
    UPGRADE = "Upgrade"


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """``UploadInfo``. ``chunks`` holds each chunk's SHA-256, not its bytes (our .did says so)."""

    owner: Principal
    chunks: tuple[bytes, ...]
    total_len: int
    committed_hash: bytes | None
    created_at_time_ns: int


@dataclass(frozen=True, slots=True)
class CreateInstallRequest:
    """``CreateInstallRequest`` plus our optional ``canister_id`` (upgrade/reinstall), ``idempotency_key`` and
    ``owner`` (whom the new canister is for: the caller when None)."""

    upload_id: int
    init_arg: bytes
    mode: Mode
    cycles: int
    handoff: bool
    extra_controllers: tuple[Principal, ...] | None = None
    canister_id: Principal | None = None
    idempotency_key: str | None = None
    owner: Principal | None = None


@dataclass(frozen=True, slots=True)
class CreateInstallResponse:
    """``CreateInstallResponse``: ``cycles_used`` is what the request took from the factory's balance (the
    cycles and the ledger's fee); our ``canister_cycles`` what the canister was given: for a new canister the
    cycles asked less the IC's creation fee (its install is then paid from them), for a top-up the cycles sent."""

    canister_id: Principal
    module_hash_hex: str
    cycles_used: int
    canister_cycles: int | None = None


@dataclass(frozen=True, slots=True)
class CallerStats:
    created_count: int
    last_created_at: int | None


@dataclass(frozen=True, slots=True)
class FactoryStats:
    total_canisters_created: int
    total_uploads: int
    active_uploads: int
    factory_cycles_balance: int
    unique_callers: int


@dataclass(frozen=True, slots=True)
class ConfigView:
    """``Config`` as ``get_config`` returns it, plus our additions at the end."""

    max_canisters_per_caller: int
    min_factory_cycles: int
    max_upload_size: int
    upload_ttl_ns: int
    allowlist: tuple[Principal, ...] | None
    admins: tuple[Principal, ...]
    next_upload_id: int
    emergency_stop: bool
    max_creations_per_day: int | None
    max_active_uploads_per_caller: int
    max_modules_per_caller: int
    max_cycles_per_caller_per_day: int | None = None
    max_stored_module_bytes: int = 0


@dataclass(frozen=True, slots=True)
class CanisterRecord:
    """One entry of the registry: a canister the factory created, and where its creation stands.

    ``owner`` is whom it was created for (its controller after a handoff), ``caller`` who asked for it (whose
    quota it counts in); they are the same unless the caller created it for someone else.
    """

    canister_id: Principal | None
    owner: Principal
    caller: Principal
    module_hash_hex: str
    mode: Mode
    cycles: int
    state: str
    handoff: bool
    created_at_ns: int
    updated_at_ns: int
    cycles_used: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class CanisterInfo:
    """What ``canister_status`` answers: the IC's public facts about a canister (controllers, module hash), its
    status, cycles and memory when they can be read (None when neither the factory nor, on the embedded IC, the
    caller controls it), and its owner in the registry (None for a canister this factory did not create)."""

    canister_id: Principal
    controllers: tuple[Principal, ...]
    module_hash_hex: str | None
    status: str | None
    cycles: int | None
    memory_size: int | None
    owner: Principal | None


@dataclass(frozen=True, slots=True)
class ModuleMetadata:
    """The Candid metadata of a module (its ``candid:args`` and ``candid:service`` custom sections, public or
    private), which types an init argument given in Candid text; None where the module has none."""

    candid_args: str | None
    candid_service: str | None


@dataclass(frozen=True, slots=True)
class UploadSummary:
    """One of the caller's open uploads, as ``list_my_uploads`` lists it: enough to resume or clear it."""

    upload_id: int
    total_len: int
    chunk_count: int
    created_at_ns: int
    last_activity_ns: int
    expires_at_ns: int
    """When it expires unless something is added (``upload_ttl`` after its last activity)."""


@dataclass(frozen=True, slots=True)
class CanisterPage:
    """A page of the registry; pass ``next_cursor`` back to get the next one (None at the end)."""

    canisters: tuple[CanisterRecord, ...]
    next_cursor: int | None
