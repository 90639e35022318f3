"""Encoding a new canister's init argument from Candid text, typed by the module's own metadata when it has some.

A module built by dfx, icp-cli or moc can carry ``candid:args`` (the init argument types, e.g. ``(init : nat)``)
or ``candid:service`` (``service : (init : nat) -> {...}``) in an ``icp:public`` or ``icp:private`` custom
section. With either, ``(42)`` is encoded as ``nat`` because the module says so. A module without them needs its
init argument as bytes (``--init-arg-hex``).
"""

from __future__ import annotations

from typing import Any

from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm import check_module
from icp_client import candid


def init_types(module: bytes) -> list[candid.Type] | None:
    """The init argument types the module declares, or None if it declares none."""
    sections = check_module(module, max_size=len(module) * 64 + 1024).custom_sections
    for visibility in ("icp:public", "icp:private"):
        args = sections.get(f"{visibility} candid:args")
        if args is not None:
            return _parse(f"service : {args.decode()} -> {{}}")
    for visibility in ("icp:public", "icp:private"):
        service = sections.get(f"{visibility} candid:service")
        if service is not None:
            return _parse(service.decode())
    return None


def encode_init_arg(text: str, module: bytes | None) -> bytes:
    """Candid bytes for the init argument ``text``, typed by ``module``'s metadata when it has some.

    Raises:
        InvalidArgument: the text is not valid Candid, or does not fit the module's declared types.
    """
    types = init_types(module) if module is not None else None
    if types is None:
        raise InvalidArgument(
            "init_arg: the module declares no init argument types (no candid:args or candid:service metadata); "
            "give the Candid bytes with --init-arg-hex instead"
        )
    try:
        values: list[Any] = candid.parse_values(text, types)
        return candid.encode(types, values)
    except candid.CandidError as exc:
        raise InvalidArgument(f"init_arg: {exc}") from None


def _parse(did_text: str) -> list[candid.Type] | None:
    try:
        return candid.parse_did(did_text).init_args
    except candid.CandidError:
        return None
