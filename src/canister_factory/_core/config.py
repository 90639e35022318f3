"""The factory's configuration: the reference's six init options, our additions, defaults and validation.

``InitArg`` is what an operator gives at deploy (every field optional, as the reference's ``opt InitArg``);
``Settings`` is the resolved configuration the rules run on. ``resolve_init`` turns one into the other and is the
only place that knows the defaults; every bad value raises ``InvalidArgument`` naming the option.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from canister_factory._core.errors import InvalidArgument
from icp_client.management import MAX_WASM_SIZE
from icp_client.principal import Principal

NAT32_MAX = 2**32 - 1
NAT64_MAX = 2**64 - 1
NAT_MAX = 2**128 - 1  # cycles are u128 on the IC

DEFAULT_MAX_CANISTERS_PER_CALLER = 100
DEFAULT_MIN_FACTORY_CYCLES = 5_000_000_000_000
DEFAULT_MAX_UPLOAD_SIZE = 50_000_000
DEFAULT_UPLOAD_TTL_SECONDS = 24 * 60 * 60
DEFAULT_MAX_ACTIVE_UPLOADS_PER_CALLER = 10
DEFAULT_MAX_MODULES_PER_CALLER = 50
DEFAULT_MAX_STORED_MODULE_BYTES = 20 * 1024**3  # all callers' modules and open uploads together: 20 GiB
DB_INT_MAX = 2**63 - 1  # the databases' integers: a nat64 id above this cannot name a stored row

MAX_CHUNK_SIZE = 2_000_000  # the reference's MAX_CHUNK_SIZE, kept so its clients' chunking still works
MAX_MODULE_SIZE = MAX_WASM_SIZE  # the IC's limit on a Wasm module (compressed or not)
MAX_INIT_ARG_SIZE = 1024 * 1024  # must fit one ingress message beside the rest of install_code
MAX_ALLOWLIST_SIZE = 10_000
MAX_ADMINS = 100
NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class InitArg:
    """The deploy-time options. The first six are the reference's ``InitArg``; the rest are ours."""

    max_canisters_per_caller: int | None = None
    min_factory_cycles: int | None = None
    allowlist: tuple[Principal, ...] | None = None
    admins: tuple[Principal, ...] | None = None
    max_upload_size: int | None = None
    upload_ttl_seconds: int | None = None
    max_creations_per_day: int | None = None
    max_active_uploads_per_caller: int | None = None
    max_modules_per_caller: int | None = None
    max_cycles_per_caller_per_day: int | None = None
    max_stored_module_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved configuration. ``allowlist`` None means every caller is allowed."""

    max_canisters_per_caller: int
    min_factory_cycles: int
    max_upload_size: int
    upload_ttl_ns: int
    allowlist: frozenset[Principal] | None
    admins: frozenset[Principal]
    emergency_stop: bool = False
    max_creations_per_day: int | None = None
    max_active_uploads_per_caller: int = DEFAULT_MAX_ACTIVE_UPLOADS_PER_CALLER
    max_modules_per_caller: int = DEFAULT_MAX_MODULES_PER_CALLER
    max_cycles_per_caller_per_day: int | None = None
    """Cycles one caller may make the factory spend (creations and top-ups) in a rolling 24 h; None: no bound."""
    max_stored_module_bytes: int = DEFAULT_MAX_STORED_MODULE_BYTES
    """Bytes of modules and open uploads the factory keeps for all callers together."""

    @property
    def upload_ttl_seconds(self) -> int:
        return self.upload_ttl_ns // NS_PER_SECOND

    def with_emergency_stop(self, stopped: bool) -> Settings:
        return replace(self, emergency_stop=stopped)


def resolve_init(init: InitArg | None, deployer: Principal) -> Settings:
    """Apply defaults to ``init`` and validate every option.

    The deployer becomes the only admin when no admins are given (as in the reference).

    Raises:
        InvalidArgument: an option is out of range; the message starts with the option's name.
    """
    init = init or InitArg()
    admins = _principals("admins", init.admins, MAX_ADMINS, allow_empty=False)
    return Settings(
        max_canisters_per_caller=_bounded(
            "max_canisters_per_caller",
            init.max_canisters_per_caller,
            DEFAULT_MAX_CANISTERS_PER_CALLER,
            0,
            NAT32_MAX,
        ),
        min_factory_cycles=_bounded(
            "min_factory_cycles", init.min_factory_cycles, DEFAULT_MIN_FACTORY_CYCLES, 0, NAT_MAX
        ),
        max_upload_size=_bounded(
            "max_upload_size", init.max_upload_size, DEFAULT_MAX_UPLOAD_SIZE, 8, MAX_MODULE_SIZE
        ),
        upload_ttl_ns=NS_PER_SECOND
        * _bounded(
            "upload_ttl_seconds",
            init.upload_ttl_seconds,
            DEFAULT_UPLOAD_TTL_SECONDS,
            1,
            NAT64_MAX // NS_PER_SECOND,
        ),
        allowlist=_optional_principals("allowlist", init.allowlist),
        admins=admins if admins else frozenset({deployer}),
        max_creations_per_day=_optional_bounded(
            "max_creations_per_day", init.max_creations_per_day, 1, NAT32_MAX
        ),
        max_active_uploads_per_caller=_bounded(
            "max_active_uploads_per_caller",
            init.max_active_uploads_per_caller,
            DEFAULT_MAX_ACTIVE_UPLOADS_PER_CALLER,
            1,
            10_000,
        ),
        max_modules_per_caller=_bounded(
            "max_modules_per_caller", init.max_modules_per_caller, DEFAULT_MAX_MODULES_PER_CALLER, 1, 100_000
        ),
        max_cycles_per_caller_per_day=_optional_bounded(
            "max_cycles_per_caller_per_day", init.max_cycles_per_caller_per_day, 1, NAT_MAX
        ),
        max_stored_module_bytes=_bounded(
            "max_stored_module_bytes",
            init.max_stored_module_bytes,
            DEFAULT_MAX_STORED_MODULE_BYTES,
            1,
            DB_INT_MAX,
        ),
    )


def deploy_warnings(settings: Settings) -> list[str]:
    """What an operator should hear at deploy: settings that leave the factory open to abuse."""
    warnings = []
    if settings.allowlist is None and settings.max_cycles_per_caller_per_day is None:
        warnings.append(
            "the allowlist is open and max_cycles_per_caller_per_day is not set: any caller can make the factory "
            "spend its cycles down to min_factory_cycles; set a daily bound per caller, or an allowlist"
        )
    return warnings


def check_id(name: str, value: int, high: int = NAT64_MAX) -> int:
    """An id or index as the interface types it (``nat64`` unless said otherwise).

    Raises:
        InvalidArgument: not an integer from 0 to ``high``, naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        kind = "nat64" if high == NAT64_MAX else "nat32" if high == NAT32_MAX else f"0 to {high}"
        raise InvalidArgument(f"{name}: must be a {kind} (0 to {high}), got {value!r}")
    return value


def validate_allowlist(allowlist: Iterable[Principal] | None) -> frozenset[Principal] | None:
    """Check an allowlist given to ``set_allowlist``.

    Raises:
        InvalidArgument: it is too long or names the anonymous principal.
    """
    return _optional_principals("allowlist", None if allowlist is None else tuple(allowlist))


def _bounded(name: str, value: int | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    return _check_int(name, value, low, high)


def _optional_bounded(name: str, value: int | None, low: int, high: int) -> int | None:
    return None if value is None else _check_int(name, value, low, high)


def _check_int(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}: expected an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidArgument(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _optional_principals(name: str, values: tuple[Principal, ...] | None) -> frozenset[Principal] | None:
    if values is None:
        return None
    return _principals(name, values, MAX_ALLOWLIST_SIZE, allow_empty=True)


def _principals(
    name: str, values: tuple[Principal, ...] | None, limit: int, *, allow_empty: bool
) -> frozenset[Principal]:
    result = frozenset(values or ())
    if len(result) > limit:
        raise InvalidArgument(f"{name}: at most {limit} principals, got {len(result)}")
    if any(p.is_anonymous for p in result):
        raise InvalidArgument(f"{name}: the anonymous principal 2vxsx-fae cannot be listed")
    if values is not None and not result and not allow_empty:
        raise InvalidArgument(f"{name}: must name at least one principal")
    return result
