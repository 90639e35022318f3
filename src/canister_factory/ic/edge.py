"""The factory's edge with the IC: one translation of the IC libraries' errors, one reading of ledger results.

Both IC adapters (``ic.embedded`` over the local IC, ``ic.network`` over the IC client library's agent) raise
the factory's own errors and only those. :func:`translate_ic_errors` wraps every public method of an adapter
class so that, whichever backend answered:

==========================================  ===============================================
raised by ``icp_client`` / ``icp_local``    becomes (``canister_factory._core.errors``)
==========================================  ===============================================
``Reject``                                  ``IcReject`` (same reject code, message, error code)
``Unavailable``                             ``IcUnavailable``
``HttpRefused``                             ``IcHttpRefused`` (an ``IcError``)
``CertificateError``                        ``IcCertificateError`` (an ``IcError``)
any other ``IcpError``                      ``IcError`` (the IC's data broke the protocol)
==========================================  ===============================================

The cycles ledger answers ``create_canister`` and ``withdraw`` with a result variant; :func:`created_canister`
and :func:`withdrawn_block` read it once for both adapters, including the ``Duplicate`` of a retried request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from canister_factory._core.errors import IcError, IcReject, IcUnavailable
from canister_factory.ports import CreatedCanister, CyclesLedgerError
from icp_client.certificate import CertificateError
from icp_client.errors import HttpRefused, IcpError, Reject, Unavailable
from icp_client.principal import Principal

T = TypeVar("T")


class IcHttpRefused(IcError):
    """The IC (or a boundary node) refused the HTTP request itself: a 4xx with a text body."""

    code = "ic_http_refused"

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status


class IcCertificateError(IcError):
    """A certificate or a query's node signature from the IC does not verify."""

    code = "certificate_error"


@contextmanager
def ic_errors() -> Iterator[None]:
    """Raise the IC libraries' errors from the block as the factory's (the table above)."""
    try:
        yield
    except Reject as exc:
        raise IcReject(exc.reject_code, exc.reject_message, exc.error_code) from exc
    except Unavailable as exc:
        raise IcUnavailable(str(exc)) from exc
    except HttpRefused as exc:
        raise IcHttpRefused(str(exc), exc.http_status) from exc
    except CertificateError as exc:
        raise IcCertificateError(str(exc)) from exc
    except IcpError as exc:
        raise IcError(f"the IC's answer breaks the protocol: {exc}") from exc


def translate_ic_errors(cls: type[T]) -> type[T]:
    """Class decorator: every public method of ``cls`` raises through :func:`ic_errors`."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and callable(member):
            setattr(cls, name, _translated(member))
    return cls


def _translated(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ic_errors():
            return method(*args, **kwargs)

    return wrapper


def created_canister(result: Mapping[str, Any]) -> CreatedCanister:
    """The ledger's ``create_canister`` result: the canister, or the first one for a ``Duplicate``.

    Raises:
        CyclesLedgerError: any other ``Err``, or a ``Duplicate`` of a creation that made no canister.
    """
    if "Ok" in result:
        return CreatedCanister(result["Ok"]["canister_id"], result["Ok"]["block_id"])
    variant, fields = ledger_err(result)
    if variant == "Duplicate" and isinstance(fields.get("canister_id"), Principal):
        block = fields.get("duplicate_of")
        return CreatedCanister(
            fields["canister_id"], block if isinstance(block, int) else None, duplicate=True
        )
    raise CyclesLedgerError(variant, fields)


def withdrawn_block(result: Mapping[str, Any]) -> int:
    """The ledger's ``withdraw`` result: the block index, or the first one for a ``Duplicate``.

    Raises:
        CyclesLedgerError: any other ``Err`` (InsufficientFunds, InvalidReceiver, TooOld, ...).
    """
    if "Ok" in result:
        block: int = result["Ok"]
        return block
    variant, fields = ledger_err(result)
    duplicate_of = fields.get("duplicate_of")
    if variant == "Duplicate" and isinstance(duplicate_of, int):
        return duplicate_of
    raise CyclesLedgerError(variant, fields)


def ledger_err(result: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The tag and fields of a ledger ``Err`` variant (``{"Err": {tag: fields}}``)."""
    err = result["Err"]
    variant = next(iter(err))
    fields = err[variant]
    return variant, dict(fields) if isinstance(fields, Mapping) else {}
