"""Fixtures for the execution core's tests: one engine, the Motoko counter, Candid helpers, WAT canisters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from icp_local.execution import ExecutionEngine, MessageContext

COUNTER_WASM = Path(__file__).resolve().parents[4] / "src" / "canister_factory" / "_data" / "counter.wasm"
CANISTER_ID = bytes.fromhex("00000000000000010101")
CONTROLLER = bytes.fromhex("0a0b0c0d")


def nat_arg(value: int) -> bytes:
    """The Candid encoding of one ``nat``."""
    return b"DIDL\x00\x01\x7d" + _uleb(value)


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def decode_nat(reply: bytes | None) -> int:
    """The ``nat`` in a one-value Candid reply."""
    assert reply is not None and reply.startswith(b"DIDL\x00\x01\x7d")
    result = shift = 0
    for byte in reply[7:]:
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result
    raise AssertionError("truncated nat")


EMPTY_ARGS = b"DIDL\x00\x00"


@pytest.fixture(scope="session")
def engine() -> ExecutionEngine:
    """One engine for the session: compiled modules are cached by hash, canisters do not share state."""
    return ExecutionEngine()


@pytest.fixture(scope="session")
def counter_wasm() -> bytes:
    return COUNTER_WASM.read_bytes()


@pytest.fixture
def ctx() -> Callable[..., MessageContext]:
    """A context for the test canister, with overrides."""

    def make(**overrides: object) -> MessageContext:
        fields: dict[str, object] = {
            "canister_id": CANISTER_ID,
            "caller": CONTROLLER,
            "controllers": (CONTROLLER,),
        }
        fields.update(overrides)
        return MessageContext(**fields)  # type: ignore[arg-type]

    return make


def wat(body: str, memory: str = "(memory 1)") -> bytes:
    """A 32-bit canister module from WAT: the standard imports, ``body``'s imports, ``memory``, the rest."""
    lines = body.splitlines()
    imports = "\n".join(line for line in lines if line.strip().startswith("(import"))
    rest = "\n".join(line for line in lines if not line.strip().startswith("(import"))
    return wasmtime.wat2wasm(f"(module {STANDARD_IMPORTS32} {imports} {memory} {rest})")


STANDARD_IMPORTS32 = """
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $reply_append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "debug_print" (func $print (param i32 i32)))
"""
