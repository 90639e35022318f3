"""Canister settings: validation, creation defaults, and applying an update (absent fields stay unchanged).

The numeric settings are kept as a name -> int mapping (the ``settings`` column); controllers on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from icp_client.management import CanisterSettings
from icp_client.principal import Principal
from icp_local import rejects
from icp_local.config import SubnetConfig

# The largest value of each numeric setting (the interface specification's valid ranges).
LIMITS: Mapping[str, int] = {
    "compute_allocation": 100,
    "memory_allocation": 2**64 - 1,
    "freezing_threshold": 2**64 - 1,
    "reserved_cycles_limit": 2**128 - 1,
    "wasm_memory_limit": 2**48,
    "wasm_memory_threshold": 2**48,
}


def creation_defaults(config: SubnetConfig) -> dict[str, int]:
    """The numeric settings of a new canister before its ``settings`` argument applies."""
    return {
        "compute_allocation": 0,
        "memory_allocation": 0,
        "freezing_threshold": config.default_freezing_threshold,
        "reserved_cycles_limit": config.default_reserved_cycles_limit,
        "wasm_memory_limit": 0,
        "wasm_memory_threshold": 0,
    }


def validate(settings: CanisterSettings, config: SubnetConfig) -> None:
    """Raises Reject (5, IC0504, "Could not validate the settings: ...") for an invalid field."""
    if settings.controllers is not None and len(settings.controllers) > config.max_controllers:
        raise rejects.invalid_settings(
            f"'controllers' length exceeds maximum size allowed of {config.max_controllers}."
        )
    for name, limit in LIMITS.items():
        value = getattr(settings, name)
        if value is None or 0 <= value <= limit:
            continue
        if name == "compute_allocation":
            raise rejects.invalid_settings(
                f"ComputeAllocation expected to be in the range [0..100], got {value}"
            )
        raise rejects.invalid_settings(f"'{name}' must be in the range [0..{limit}], got {value}.")


def apply(current: Mapping[str, int], settings: CanisterSettings) -> dict[str, int]:
    """The numeric settings after ``settings``: each field given replaces the current value."""
    updated = dict(current)
    for name in LIMITS:
        value = getattr(settings, name)
        if value is not None:
            updated[name] = int(value)
    return updated


def normalize_controllers(controllers: Iterable[Principal]) -> tuple[Principal, ...]:
    """Controllers as the IC keeps them: a set, listed in the order of their bytes."""
    return tuple(sorted(set(controllers)))
