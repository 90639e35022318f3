"""One exception hierarchy for the whole factory, split by who is to blame.

::

    FactoryError                     every error the factory raises on purpose
    ├── CallerError                  the caller's request is at fault (HTTP 4xx, CLI exit 2)
    │   ├── InvalidArgument          malformed or out-of-range input          code=invalid_argument
    │   ├── NotFound                 no such upload / canister                code=not_found
    │   ├── PermissionDenied         not admin / not in allowlist / not owner code=permission_denied
    │   ├── Conflict                 wrong state (already committed, ...)     code=conflict
    │   ├── LimitExceeded            quota, rate limit, size limits           code=limit_exceeded
    │   ├── EmergencyStop            the factory is stopped by an admin       code=emergency_stop
    │   └── Unauthenticated          a request's signature is missing/bad     code=unauthenticated
    ├── FactoryFault                 the factory itself cannot serve it (HTTP 503, CLI exit 3)
    │   ├── InsufficientCycles       the cycles floor would be crossed        code=insufficient_cycles
    │   └── StoreError               the database failed                      code=store_error
    └── IcError                      the IC refused or could not be reached (HTTP 502, CLI exit 4)
        ├── IcReject                 a reject with its code and error code    code=ic_reject
        └── IcUnavailable            transport failure or timeout             code=ic_unavailable

The message of each error is the text callers match on; where the reference factory had a text, ours is the
same (``Factory is in emergency stop mode``, ``Admin access required``, ...). ``code`` is the stable,
machine-readable companion that the HTTP face puts in its JSON and the CLI maps to an exit status.
"""

from __future__ import annotations


class FactoryError(Exception):
    """Root of every error the factory raises on purpose."""

    code = "factory_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CallerError(FactoryError):
    """The caller's request is at fault; retrying it unchanged will fail again."""

    code = "caller_error"


class InvalidArgument(CallerError):
    code = "invalid_argument"


class NotFound(CallerError):
    code = "not_found"


class PermissionDenied(CallerError):
    code = "permission_denied"


class Conflict(CallerError):
    code = "conflict"


class LimitExceeded(CallerError):
    code = "limit_exceeded"


class EmergencyStop(CallerError):
    code = "emergency_stop"


class Unauthenticated(CallerError):
    code = "unauthenticated"


class FactoryFault(FactoryError):
    """The factory cannot serve the request now; the caller did nothing wrong."""

    code = "factory_fault"


class InsufficientCycles(FactoryFault):
    code = "insufficient_cycles"


class StoreError(FactoryFault):
    code = "store_error"


class IcError(FactoryError):
    """The Internet Computer refused a call or could not be reached."""

    code = "ic_error"


class IcReject(IcError):
    """A reject from the IC, with the specification's reject code and the implementation's error code."""

    code = "ic_reject"

    def __init__(self, reject_code: int, reject_message: str, error_code: str | None = None) -> None:
        super().__init__(
            f"IC reject {reject_code}" + (f" ({error_code})" if error_code else "") + f": {reject_message}"
        )
        self.reject_code = reject_code
        self.reject_message = reject_message
        self.error_code = error_code

    @property
    def transient(self) -> bool:
        """SYS_TRANSIENT (2): retrying later may succeed."""
        return self.reject_code == 2


class IcUnavailable(IcError):
    """No answer from the IC (connection failure, timeout, reply lost). The call may or may not have run."""

    code = "ic_unavailable"
