"""Who may do what: emergency stop, the allowlist, the admin set and the anonymous principal.

The checks run in the reference's order (emergency stop first, then the allowlist) and raise with its texts.
"""

from __future__ import annotations

from canister_factory._core.config import Settings
from canister_factory._core.errors import EmergencyStop, PermissionDenied
from icp_client.principal import Principal

EMERGENCY_STOP = "Factory is in emergency stop mode"
NOT_IN_ALLOWLIST = "Caller not in allowlist"
ADMIN_REQUIRED = "Admin access required"
ANONYMOUS_READ_ONLY = "Anonymous callers may only read public information"


def require_caller(settings: Settings, caller: Principal) -> None:
    """Guard for every mutating caller method (uploads, creations).

    Raises:
        PermissionDenied: the caller is anonymous, or not in the allowlist.
        EmergencyStop: an admin has stopped the factory.
    """
    require_signed(caller)
    if settings.emergency_stop:
        raise EmergencyStop(EMERGENCY_STOP)
    if settings.allowlist is not None and caller not in settings.allowlist:
        raise PermissionDenied(NOT_IN_ALLOWLIST)


def require_admin(settings: Settings, caller: Principal) -> None:
    """Guard for admin methods; they work during an emergency stop.

    Raises:
        PermissionDenied: the caller is not an admin.
    """
    if caller not in settings.admins:
        raise PermissionDenied(ADMIN_REQUIRED)


def require_signed(caller: Principal) -> None:
    """Raises PermissionDenied for the anonymous principal, which may only read public information."""
    if caller.is_anonymous:
        raise PermissionDenied(ANONYMOUS_READ_ONLY)


def is_admin(settings: Settings, caller: Principal) -> bool:
    return caller in settings.admins
