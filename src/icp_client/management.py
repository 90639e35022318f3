"""The management canister's records (``ic.did``), as typed Python values, and their one Candid codec.

Both the network agent's callers and the local IC use these: the settings a canister is created or updated with,
the definite settings and status it reports, the install modes with their upgrade options. Standard library only
(and our principal).

The codec (``*_to_candid`` / ``*_from_candid``) maps the records to the Python values that
:mod:`icp_client.candid` encodes and decodes at ``ic.did``'s types (records as dicts, variants as one-key
dicts, ``opt`` as None or the value). The HTTP front of the local IC and the factory's network adapter both use
it, so there is one mapping of each record.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from icp_client.principal import Principal

MAX_CONTROLLERS = 10
"""At most this many controllers, and this many allowed viewers in a visibility."""
CHUNK_SIZE = 1024 * 1024  # the IC's upload_chunk limit, 1 MiB
MAX_CHUNKS_PER_STORE = 100
DEFAULT_FREEZING_THRESHOLD = 2_592_000
DEFAULT_RESERVED_CYCLES_LIMIT = 5_000_000_000_000
DEFAULT_WASM_MEMORY_LIMIT = 3 * 1024**3
"""The ``wasm_memory_limit`` a new canister gets on a replica when none is given (3 GiB)."""
DEFAULT_LOG_MEMORY_LIMIT = 4096
MAX_WASM_SIZE = 100 * 1024 * 1024
"""Largest module ``install_code`` accepts, compressed or decompressed (104 857 600 bytes)."""
CANISTER_CREATION_FEE = 500_000_000_000
"""The fee for creating a canister on a 13-node application subnet, taken from the cycles sent with it."""


class InstallMode(enum.Enum):
    """``canister_install_mode``'s tag; ``UPGRADE``'s options travel separately as :class:`UpgradeFlags`."""

    INSTALL = "install"
    REINSTALL = "reinstall"
    UPGRADE = "upgrade"


class WasmMemoryPersistence(enum.Enum):
    """The ``wasm_memory_persistence`` upgrade option."""

    KEEP = "keep"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class UpgradeFlags:
    """The ``upgrade`` mode's options record; None means the option is not given."""

    skip_pre_upgrade: bool | None = None
    wasm_memory_persistence: WasmMemoryPersistence | None = None


class CanisterRunStatus(enum.Enum):
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class VisibilityKind(enum.Enum):
    """The tags of ``log_visibility``, ``snapshot_visibility`` and ``status_visibility``."""

    CONTROLLERS = "controllers"
    PUBLIC = "public"
    ALLOWED_VIEWERS = "allowed_viewers"


@dataclass(frozen=True, slots=True)
class Visibility:
    """Who may read a canister's logs, snapshots or status besides its controllers (the three share a shape)."""

    kind: VisibilityKind = VisibilityKind.CONTROLLERS
    viewers: tuple[Principal, ...] = ()

    @classmethod
    def controllers(cls) -> Visibility:
        return cls(VisibilityKind.CONTROLLERS)

    @classmethod
    def public(cls) -> Visibility:
        return cls(VisibilityKind.PUBLIC)

    @classmethod
    def allowed_viewers(cls, *viewers: Principal) -> Visibility:
        return cls(VisibilityKind.ALLOWED_VIEWERS, tuple(viewers))

    def allows(self, sender: Principal, controllers: Sequence[Principal]) -> bool:
        """Whether ``sender`` may read, given the canister's ``controllers``."""
        if sender in controllers or self.kind is VisibilityKind.PUBLIC:
            return True
        return self.kind is VisibilityKind.ALLOWED_VIEWERS and sender in self.viewers


@dataclass(frozen=True, slots=True)
class EnvironmentVariable:
    """One ``environment_variable``."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class CanisterSettings:
    """``canister_settings``: a field left as None means "unchanged" (update) or "default" (create).

    ``log_memory_limit`` is a newer field than the reference ``ic.did`` has; icp-cli 1.5.0 sends it.
    """

    controllers: tuple[Principal, ...] | None = None
    compute_allocation: int | None = None
    memory_allocation: int | None = None
    freezing_threshold: int | None = None
    reserved_cycles_limit: int | None = None
    minimum_incoming_canister_call_cycles: int | None = None
    log_visibility: Visibility | None = None
    snapshot_visibility: Visibility | None = None
    status_visibility: Visibility | None = None
    wasm_memory_limit: int | None = None
    wasm_memory_threshold: int | None = None
    environment_variables: tuple[EnvironmentVariable, ...] | None = None
    log_memory_limit: int | None = None


@dataclass(frozen=True, slots=True)
class DefiniteSettings:
    """``definite_canister_settings``, plus ``log_memory_limit`` (a newer field that icp-cli 1.5.0 reads)."""

    controllers: tuple[Principal, ...] = ()
    compute_allocation: int = 0
    memory_allocation: int = 0
    freezing_threshold: int = DEFAULT_FREEZING_THRESHOLD
    reserved_cycles_limit: int = DEFAULT_RESERVED_CYCLES_LIMIT
    minimum_incoming_canister_call_cycles: int = 0
    log_visibility: Visibility = field(default_factory=Visibility)
    snapshot_visibility: Visibility = field(default_factory=Visibility)
    status_visibility: Visibility = field(default_factory=Visibility)
    wasm_memory_limit: int = DEFAULT_WASM_MEMORY_LIMIT
    wasm_memory_threshold: int = 0
    environment_variables: tuple[EnvironmentVariable, ...] = ()
    log_memory_limit: int = DEFAULT_LOG_MEMORY_LIMIT


@dataclass(frozen=True, slots=True)
class MemoryMetrics:
    """``canister_status_result.memory_metrics`` (with ``log_memory_store_size``, which icp-cli 1.5.0 reads)."""

    wasm_memory_size: int = 0
    stable_memory_size: int = 0
    global_memory_size: int = 0
    wasm_binary_size: int = 0
    custom_sections_size: int = 0
    canister_history_size: int = 0
    wasm_chunk_store_size: int = 0
    snapshots_size: int = 0
    log_memory_store_size: int = 0


@dataclass(frozen=True, slots=True)
class QueryStats:
    """``canister_status_result.query_stats``."""

    num_calls_total: int = 0
    num_instructions_total: int = 0
    request_payload_bytes_total: int = 0
    response_payload_bytes_total: int = 0


@dataclass(frozen=True, slots=True)
class CanisterStatus:
    """``canister_status_result``, whole."""

    status: CanisterRunStatus
    settings: DefiniteSettings
    module_hash: bytes | None
    cycles: int
    memory_size: int = 0
    memory_metrics: MemoryMetrics = field(default_factory=MemoryMetrics)
    reserved_cycles: int = 0
    idle_cycles_burned_per_day: int = 0
    query_stats: QueryStats = field(default_factory=QueryStats)
    version: int = 0
    ready_for_migration: bool = False

    @property
    def controllers(self) -> tuple[Principal, ...]:
        """``settings.controllers``."""
        return self.settings.controllers

    @property
    def freezing_threshold(self) -> int:
        """``settings.freezing_threshold``."""
        return self.settings.freezing_threshold


# --- the Candid codec -------------------------------------------------------------------------------------------

_SETTING_NUMBERS = (
    "compute_allocation",
    "memory_allocation",
    "freezing_threshold",
    "reserved_cycles_limit",
    "minimum_incoming_canister_call_cycles",
    "wasm_memory_limit",
    "wasm_memory_threshold",
    "log_memory_limit",
)
_VISIBILITIES = ("log_visibility", "snapshot_visibility", "status_visibility")


def visibility_to_candid(visibility: Visibility) -> dict[str, Any]:
    """A visibility as the Candid variant value."""
    if visibility.kind is VisibilityKind.ALLOWED_VIEWERS:
        return {"allowed_viewers": list(visibility.viewers)}
    return {visibility.kind.value: None}


def visibility_from_candid(value: Mapping[str, Any]) -> Visibility:
    """A decoded visibility variant as a :class:`Visibility` (ValueError for an unknown tag)."""
    ((tag, payload),) = value.items()
    kind = VisibilityKind(tag)
    viewers = tuple(payload) if kind is VisibilityKind.ALLOWED_VIEWERS else ()
    return Visibility(kind, viewers)


def _env_to_candid(variables: Sequence[EnvironmentVariable]) -> list[dict[str, str]]:
    return [{"name": v.name, "value": v.value} for v in variables]


def _env_from_candid(values: Sequence[Mapping[str, str]]) -> tuple[EnvironmentVariable, ...]:
    return tuple(EnvironmentVariable(v["name"], v["value"]) for v in values)


def settings_to_candid(settings: CanisterSettings | None) -> dict[str, Any] | None:
    """``canister_settings`` (every field ``opt``, unset ones left out) for encoding; None stays None."""
    if settings is None:
        return None
    value: dict[str, Any] = {name: getattr(settings, name) for name in _SETTING_NUMBERS}
    value["controllers"] = None if settings.controllers is None else list(settings.controllers)
    for name in _VISIBILITIES:
        visibility = getattr(settings, name)
        value[name] = None if visibility is None else visibility_to_candid(visibility)
    env = settings.environment_variables
    value["environment_variables"] = None if env is None else _env_to_candid(env)
    # Fields left unset are left out: the cycles ledger's older settings type lacks some of them.
    return {name: field_value for name, field_value in value.items() if field_value is not None}


def _opt_visibility(value: Mapping[str, Any] | None) -> Visibility | None:
    return None if value is None else visibility_from_candid(value)


def settings_from_candid(value: Mapping[str, Any] | None) -> CanisterSettings | None:
    """A decoded ``canister_settings`` (absent fields unchanged); None stays None."""
    if value is None:
        return None
    controllers = value.get("controllers")
    env = value.get("environment_variables")
    return CanisterSettings(
        controllers=None if controllers is None else tuple(controllers),
        compute_allocation=value.get("compute_allocation"),
        memory_allocation=value.get("memory_allocation"),
        freezing_threshold=value.get("freezing_threshold"),
        reserved_cycles_limit=value.get("reserved_cycles_limit"),
        minimum_incoming_canister_call_cycles=value.get("minimum_incoming_canister_call_cycles"),
        log_visibility=_opt_visibility(value.get("log_visibility")),
        snapshot_visibility=_opt_visibility(value.get("snapshot_visibility")),
        status_visibility=_opt_visibility(value.get("status_visibility")),
        wasm_memory_limit=value.get("wasm_memory_limit"),
        wasm_memory_threshold=value.get("wasm_memory_threshold"),
        environment_variables=None if env is None else _env_from_candid(env),
        log_memory_limit=value.get("log_memory_limit"),
    )


def definite_settings_to_candid(settings: DefiniteSettings) -> dict[str, Any]:
    """``definite_canister_settings`` (with ``log_memory_limit``) for encoding."""
    value: dict[str, Any] = {name: getattr(settings, name) for name in _SETTING_NUMBERS}
    value.update({name: visibility_to_candid(getattr(settings, name)) for name in _VISIBILITIES})
    value["controllers"] = list(settings.controllers)
    value["environment_variables"] = _env_to_candid(settings.environment_variables)
    return value


def definite_settings_from_candid(value: Mapping[str, Any]) -> DefiniteSettings:
    """A decoded ``definite_canister_settings``; fields an older IC leaves out take their defaults."""
    defaults = DefiniteSettings()

    def number(name: str) -> int:
        found = value.get(name)
        return int(getattr(defaults, name)) if found is None else int(found)

    return DefiniteSettings(
        controllers=tuple(value.get("controllers") or ()),
        compute_allocation=number("compute_allocation"),
        memory_allocation=number("memory_allocation"),
        freezing_threshold=number("freezing_threshold"),
        reserved_cycles_limit=number("reserved_cycles_limit"),
        minimum_incoming_canister_call_cycles=number("minimum_incoming_canister_call_cycles"),
        log_visibility=_opt_visibility(value.get("log_visibility")) or Visibility(),
        snapshot_visibility=_opt_visibility(value.get("snapshot_visibility")) or Visibility(),
        status_visibility=_opt_visibility(value.get("status_visibility")) or Visibility(),
        wasm_memory_limit=number("wasm_memory_limit"),
        wasm_memory_threshold=number("wasm_memory_threshold"),
        environment_variables=_env_from_candid(value.get("environment_variables") or ()),
        log_memory_limit=number("log_memory_limit"),
    )


def _record_to_candid(record: MemoryMetrics | QueryStats) -> dict[str, int]:
    return {name: getattr(record, name) for name in record.__slots__}


def status_to_candid(status: CanisterStatus) -> dict[str, Any]:
    """``canister_status_result`` (widened with the two fields icp-cli 1.5.0 reads) for encoding."""
    return {
        "status": {status.status.value: None},
        "ready_for_migration": status.ready_for_migration,
        "version": status.version,
        "settings": definite_settings_to_candid(status.settings),
        "module_hash": status.module_hash,
        "memory_size": status.memory_size,
        "memory_metrics": _record_to_candid(status.memory_metrics),
        "cycles": status.cycles,
        "reserved_cycles": status.reserved_cycles,
        "idle_cycles_burned_per_day": status.idle_cycles_burned_per_day,
        "query_stats": _record_to_candid(status.query_stats),
    }


def status_from_candid(value: Mapping[str, Any]) -> CanisterStatus:
    """A decoded ``canister_status_result``; fields an older IC leaves out take their defaults."""
    metrics = value.get("memory_metrics") or {}
    stats = value.get("query_stats") or {}
    return CanisterStatus(
        status=CanisterRunStatus(next(iter(value["status"]))),
        settings=definite_settings_from_candid(value["settings"]),
        module_hash=value.get("module_hash"),
        cycles=value["cycles"],
        memory_size=value.get("memory_size", 0),
        memory_metrics=MemoryMetrics(**{k: v for k, v in metrics.items() if k in MemoryMetrics.__slots__}),
        reserved_cycles=value.get("reserved_cycles", 0),
        idle_cycles_burned_per_day=value.get("idle_cycles_burned_per_day", 0),
        query_stats=QueryStats(**{k: v for k, v in stats.items() if k in QueryStats.__slots__}),
        version=value.get("version", 0),
        ready_for_migration=bool(value.get("ready_for_migration", False)),
    )


def install_mode_to_candid(mode: InstallMode, flags: UpgradeFlags | None = None) -> dict[str, Any]:
    """``canister_install_mode``: ``{"upgrade": opt record {...}}`` carries ``flags`` (None: no options)."""
    if mode is not InstallMode.UPGRADE:
        return {mode.value: None}
    if flags is None:
        return {"upgrade": None}
    persistence = flags.wasm_memory_persistence
    return {
        "upgrade": {
            "skip_pre_upgrade": flags.skip_pre_upgrade,
            "wasm_memory_persistence": None if persistence is None else {persistence.value: None},
        }
    }


def install_mode_from_candid(value: Any) -> tuple[InstallMode, UpgradeFlags | None]:
    """A decoded ``canister_install_mode`` as the mode and, for an upgrade with options, its flags."""
    if isinstance(value, str):
        return InstallMode(value), None
    ((tag, payload),) = value.items()
    mode = InstallMode(tag)
    if mode is not InstallMode.UPGRADE or payload is None:
        return mode, None
    persistence = payload.get("wasm_memory_persistence")
    return mode, UpgradeFlags(
        skip_pre_upgrade=payload.get("skip_pre_upgrade"),
        wasm_memory_persistence=None
        if persistence is None
        else WasmMemoryPersistence(next(iter(persistence))),
    )
