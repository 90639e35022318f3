"""``ic``: the embedded local IC of the state folder, directly (``ic call`` runs a canister's method).

Arguments and replies are typed by the canister's own ``candid:service`` metadata when it has one, so
``'(5)'`` is sent as the ``nat`` the method takes; without it, the text's own types are used and the reply is
shown at the types on the wire.
"""

from __future__ import annotations

import json
from typing import Any

import click

from canister_factory._core.errors import InvalidArgument
from canister_factory.cli._main import PRINCIPAL, cli
from canister_factory.cli._session import Session
from canister_factory.ic.edge import ic_errors
from icp_client import candid
from icp_client.principal import Principal
from icp_local import LocalIc


@cli.group("ic")
def ic_group() -> None:
    """The state folder's embedded local IC, directly.

    \b
    Example: canister-factory ic call <canister id> inc '(5)'
    """


@ic_group.command("call")
@click.argument("canister", type=PRINCIPAL)
@click.argument("method")
@click.argument("args", required=False, default="()")
@click.option("--query", is_flag=True, help="Make a query call (its changes are discarded).")
@click.option("--arg-hex", default=None, help="The argument as Candid bytes in hex, instead of ARGS.")
@click.pass_obj
def call(s: Session, canister: Principal, method: str, args: str, query: bool, arg_hex: str | None) -> None:
    """Call METHOD of CANISTER on the embedded IC with ARGS in Candid text, as your identity.

    The arguments are typed by the canister's `candid:service` metadata; a canister without it takes its
    argument as bytes (--arg-hex). Prints the reply in Candid text (JSON with --json); a reject is an IC error
    (exit status 4).

    \b
    Examples:
      canister-factory ic call rrkah-fqaaa-aaaaa-aaaaq-cai inc '(5)'
      canister-factory ic call rrkah-fqaaa-aaaaa-aaaaq-cai get --query
    """
    ic = _embedded(s)
    func = _method_type(ic, canister, method, s.caller)
    arg = _hex(arg_hex) if arg_hex is not None else _encode(args, func)
    with ic_errors():
        reply = ic.call(s.caller, canister, method, arg, query=query)
    types = list(func.results) if func is not None else None
    values = candid.decode(reply, types)
    if s.as_json:
        click.echo(json.dumps(_json(values, types)))
    else:
        click.echo(candid.format_values(values, types) if types is not None else _untyped(values))


def _embedded(s: Session) -> LocalIc:
    ic = s.app.embedded
    if ic is None:
        raise InvalidArgument("ic commands work on the embedded IC: run them without --network")
    return ic


def _method_type(ic: LocalIc, canister: Principal, method: str, caller: Principal) -> candid.FuncType | None:
    """The method's type from the canister's ``candid:service``, None if it has none (or not this method)."""
    with ic_errors():
        service = ic.read_metadata(canister, "candid:service", caller)
    if service is None:
        return None
    try:
        return candid.parse_did(service.decode()).service_methods.get(method)
    except (candid.CandidError, UnicodeDecodeError):
        return None


def _encode(text: str, func: candid.FuncType | None) -> bytes:
    if func is None:
        if text.strip() in ("", "()"):
            return candid.encode([], [])
        raise InvalidArgument(
            "args: the canister declares no type for this method (no candid:service metadata): give the "
            "argument as Candid bytes with --arg-hex"
        )
    try:
        return candid.encode(list(func.args), candid.parse_values(text, list(func.args)))
    except candid.CandidError as exc:
        raise InvalidArgument(f"args: {exc}") from None


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidArgument(f"--arg-hex: {exc}") from None


def _json(values: list[Any], types: list[candid.Type] | None) -> Any:
    if types is None:
        return [repr(v) for v in values]
    return [candid.to_json(v, t) for v, t in zip(values, types, strict=True)]


def _untyped(values: list[Any]) -> str:
    return "(" + ", ".join(repr(v) for v in values) + ")"
