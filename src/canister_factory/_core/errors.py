r"""One exception hierarchy for the whole factory, split by who is to blame.

::

    FactoryError                     every error the factory raises on purpose         (500, exit 3)
    ├── CallerError                  the caller's request is at fault (HTTP 4xx, CLI exit 1)
    │   ├── InvalidArgument          malformed or out-of-range input          code=invalid_argument    400
    │   ├── NotFound                 no such upload / canister                code=not_found           404
    │   ├── PermissionDenied         not admin / not in allowlist / not owner code=permission_denied   403
    │   ├── Conflict                 wrong state (already committed, ...)     code=conflict            409
    │   │   └── CreationInProgress   another worker drives this creation      code=in_progress
    │   ├── LimitExceeded            quota, rate limit, size limits           code=limit_exceeded      429
    │   │   └── BodyTooLarge         (api.errors) a request body over its cap                          413
    │   ├── EmergencyStop            the factory is stopped by an admin       code=emergency_stop      423
    │   └── Unauthenticated          a request's signature is missing/bad     code=unauthenticated     401
    ├── FactoryFault                 the factory itself cannot serve it (HTTP 503, CLI exit 3)
    │   ├── InsufficientCycles       the cycles floor would be crossed        code=insufficient_cycles
    │   ├── StoresBusy               every store canister stayed busy         code=stores_busy
    │   ├── StoreError               the database failed                      code=store_error
    │   │   └── SchemaTooNew         (store.db) written by a newer program    code=schema_too_new
    │   └── ServiceUnreachable       (client) the HTTP service gave no answer code=service_unreachable
    ├── IcError                      the IC refused or could not be reached (HTTP 502, CLI exit 4)
    │   ├── IcReject                 a reject with its code and error code    code=ic_reject
    │   ├── IcUnavailable            transport failure or timeout             code=ic_unavailable
    │   ├── IcUnexpected             the IC's answer contradicts the call     code=ic_unexpected
    │   ├── CreationAbandoned        a creation given up after its IC steps   code=creation_abandoned
    │   ├── CyclesLedgerError        (ports) an Err of the cycles ledger      code=cycles_ledger_error
    │   ├── IcHttpRefused            (ic.edge) the HTTP request was refused   code=ic_http_refused
    │   └── IcCertificateError       (ic.edge) a certificate does not verify  code=certificate_error
    └── InvalidTransition            (_core.lifecycle) a bug: a change of state the table lacks

The message of each error is the text callers match on; where the reference factory had a text, ours is the
same (``Factory is in emergency stop mode``, ``Admin access required``, ...). ``code`` is the stable,
machine-readable companion that the HTTP face puts in its JSON and the CLI maps to an exit status.

The IC's own errors come from the IC libraries' tree (``icp_client.errors.IcpError``) and are translated once,
in ``canister_factory.ic.edge``, into ``IcError``\ s. The factory's own checks never pretend to be IC rejects:
when the IC's answer contradicts what the factory asked, that is ``IcUnexpected``. Context is added to an error
with :meth:`FactoryError.with_context`, which keeps its class and attributes.
"""

from __future__ import annotations

from typing import Self


class FactoryError(Exception):
    """Root of every error the factory raises on purpose."""

    code = "factory_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def with_context(self, context: str) -> Self:
        """A copy of this error, same class and attributes, whose message starts with ``context: ``.

        Raise it ``from`` this one, so that the original stays the cause::

            raise exc.with_context("install_code failed") from exc
        """
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._add_context(context)
        return copy

    def _add_context(self, context: str) -> None:
        self.message = f"{context}: {self.message}"
        self.args = (self.message,)


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
        super().__init__(self._text(reject_code, reject_message, error_code))
        self.reject_code = reject_code
        self.reject_message = reject_message
        self.error_code = error_code

    @staticmethod
    def _text(reject_code: int, reject_message: str, error_code: str | None) -> str:
        return f"IC reject {reject_code}" + (f" ({error_code})" if error_code else "") + f": {reject_message}"

    def _add_context(self, context: str) -> None:
        """The context goes into ``reject_message``, which the message repeats."""
        self.reject_message = f"{context}: {self.reject_message}"
        self.message = self._text(self.reject_code, self.reject_message, self.error_code)
        self.args = (self.message,)

    @property
    def transient(self) -> bool:
        """SYS_TRANSIENT (2): retrying later may succeed."""
        return self.reject_code == 2


class IcUnavailable(IcError):
    """No answer from the IC (connection failure, timeout, reply lost). The call may or may not have run."""

    code = "ic_unavailable"


class IcUnexpected(IcError):
    """The IC accepted a call, but what it then holds or answers contradicts the call (the factory's own check).

    For example: the controllers after a successful ``update_settings`` are not those set, or ``upload_chunk``
    returns another hash than the chunk's. Retrying the same call is unlikely to help.
    """

    code = "ic_unexpected"


class CreationAbandoned(IcError):
    """The factory gave up on a creation whose IC steps kept failing; its canister, if any, went to the spares.

    ``record_id`` is the creation; the message ends with the last failure recorded.
    """

    code = "creation_abandoned"

    def __init__(self, message: str, record_id: int) -> None:
        super().__init__(message)
        self.record_id = record_id


class CreationInProgress(Conflict):
    """Another worker is driving this creation right now; retry with the same idempotency key."""

    code = "in_progress"


class StoresBusy(FactoryFault):
    """Every store canister stayed busy with other large installs for as long as an install waits."""

    code = "stores_busy"
