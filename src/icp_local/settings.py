"""Canister settings: validation, creation defaults, and applying an update (absent fields stay unchanged).

A canister keeps its settings as a :class:`~icp_client.management.DefiniteSettings` (every field of
``definite_canister_settings``); its controllers are kept on their own (``CanisterRow.controllers``), so the
stored record's ``controllers`` is always empty. :func:`definite` puts them back together for ``canister_status``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from icp_client.management import (
    MAX_CONTROLLERS,
    CanisterSettings,
    DefiniteSettings,
    EnvironmentVariable,
    Visibility,
    VisibilityKind,
)
from icp_client.principal import Principal
from icp_local import rejects
from icp_local.config import SubnetConfig

# The largest value of each numeric setting (the interface specification's valid ranges).
LIMITS: Mapping[str, int] = {
    "compute_allocation": 100,
    "memory_allocation": 2**64 - 1,
    "freezing_threshold": 2**64 - 1,
    "reserved_cycles_limit": 2**128 - 1,
    "minimum_incoming_canister_call_cycles": 2**128 - 1,
    "wasm_memory_limit": 2**48,
    "wasm_memory_threshold": 2**48,
    "log_memory_limit": 2 * 1024 * 1024,
}
VISIBILITIES = ("log_visibility", "snapshot_visibility", "status_visibility")
MAX_ENVIRONMENT_VARIABLES = 20
MAX_ENVIRONMENT_VARIABLE_NAME = 128
MAX_ENVIRONMENT_VARIABLE_VALUE = 128


def creation_defaults(config: SubnetConfig) -> DefiniteSettings:
    """The settings of a new canister before its ``settings`` argument applies (controllers aside)."""
    return DefiniteSettings(
        freezing_threshold=config.default_freezing_threshold,
        reserved_cycles_limit=config.default_reserved_cycles_limit,
        wasm_memory_limit=config.default_wasm_memory_limit,
    )


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
    for name in VISIBILITIES:
        _validate_visibility(name, getattr(settings, name))
    if settings.environment_variables is not None:
        _validate_environment(settings.environment_variables)


def _validate_visibility(name: str, visibility: Visibility | None) -> None:
    if visibility is None or visibility.kind is not VisibilityKind.ALLOWED_VIEWERS:
        return
    if len(visibility.viewers) > MAX_CONTROLLERS:
        raise rejects.invalid_settings(
            f"'{name}' allowed viewers length exceeds maximum size allowed of {MAX_CONTROLLERS}."
        )


def _validate_environment(variables: Iterable[EnvironmentVariable]) -> None:
    names: set[str] = set()
    count = 0
    for variable in variables:
        count += 1
        if variable.name in names:
            raise rejects.invalid_settings(
                f"Duplicate environment variables are not allowed: {variable.name}."
            )
        names.add(variable.name)
        if len(variable.name.encode()) > MAX_ENVIRONMENT_VARIABLE_NAME:
            raise rejects.invalid_settings(
                f"Environment variable name exceeds the maximum length of {MAX_ENVIRONMENT_VARIABLE_NAME}."
            )
        if len(variable.value.encode()) > MAX_ENVIRONMENT_VARIABLE_VALUE:
            raise rejects.invalid_settings(
                f"Environment variable value exceeds the maximum length of {MAX_ENVIRONMENT_VARIABLE_VALUE}."
            )
    if count > MAX_ENVIRONMENT_VARIABLES:
        raise rejects.invalid_settings(
            f"Too many environment variables: {count} (max: {MAX_ENVIRONMENT_VARIABLES})."
        )


def apply(current: DefiniteSettings, settings: CanisterSettings) -> DefiniteSettings:
    """The settings after ``settings``: each field given replaces the current value (controllers aside)."""
    changes: dict[str, object] = {}
    for name in (*LIMITS, *VISIBILITIES, "environment_variables"):
        value = getattr(settings, name)
        if value is not None:
            changes[name] = int(value) if name in LIMITS else value
    return dataclasses.replace(current, controllers=(), **changes)  # type: ignore[arg-type]


def definite(stored: DefiniteSettings, controllers: tuple[Principal, ...]) -> DefiniteSettings:
    """The stored settings with the canister's controllers: ``definite_canister_settings``."""
    return dataclasses.replace(stored, controllers=controllers)


def normalize_controllers(controllers: Iterable[Principal]) -> tuple[Principal, ...]:
    """Controllers as the IC keeps them: a set, listed in the order of their bytes."""
    return tuple(sorted(set(controllers)))
