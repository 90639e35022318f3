"""Encoding a new canister's init argument from Candid text, typed by the module's own metadata when it has some.

A module built by dfx, icp-cli or moc can carry ``candid:args`` (the init argument types, e.g. ``(init : nat)``)
or ``candid:service`` (``service : (init : nat) -> {...}``) in an ``icp:public`` or ``icp:private`` custom
section. With either, ``(42)`` is encoded as ``nat`` because the module says so. A module without them needs its
init argument as bytes (``--init-arg-hex``). The factory reads the metadata (``get_module_metadata``), so a
caller of a served factory can encode without the module's bytes.
"""

from __future__ import annotations

from typing import Any

from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import ModuleMetadata
from canister_factory.wasm import check_module
from icp_client import candid


def module_metadata(module: bytes) -> ModuleMetadata:
    """The module's ``candid:args`` and ``candid:service`` metadata (public sections first), as text."""
    sections = check_module(module, max_size=len(module) * 64 + 1024).custom_sections

    def text(name: str) -> str | None:
        for visibility in ("icp:public", "icp:private"):
            found = sections.get(f"{visibility} {name}")
            if found is not None:
                return found.decode("utf-8", "replace")
        return None

    return ModuleMetadata(candid_args=text("candid:args"), candid_service=text("candid:service"))


def init_types(metadata: ModuleMetadata) -> list[candid.Type] | None:
    """The init argument types the metadata declares, or None if it declares none (or none that parse)."""
    if metadata.candid_args is not None:
        return _parse(f"service : {metadata.candid_args} -> {{}}")
    if metadata.candid_service is not None:
        return _parse(metadata.candid_service)
    return None


def encode_init_arg(text: str, metadata: ModuleMetadata) -> bytes:
    """Candid bytes for the init argument ``text``, typed by the module's ``metadata``.

    Raises:
        InvalidArgument: the module declares no types, or the text is not valid Candid or does not fit them.
    """
    types = init_types(metadata)
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
