"""The streaming module check agrees with the whole-module check, whatever the chunking."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm import check_module
from canister_factory.wasm_stream import ModuleStreamCheck
from tests.support.wasm_modules import (
    counter_wasm,
    gzip_bomb,
    large_module,
    minimal_module,
    module_with_custom_section,
)

LIMIT = 8 * 1024 * 1024


def stream(data: bytes, step: int, limit: int = LIMIT) -> None:
    check = ModuleStreamCheck(limit)
    for start in range(0, len(data), step):
        check.feed(data[start : start + step])
    check.finish()


@pytest.mark.parametrize("step", [1, 3, 8, 4096, 10**9])
@pytest.mark.parametrize(
    "module", [minimal_module(), counter_wasm(), gzip.compress(counter_wasm()), large_module(3 * 1024 * 1024)]
)
def test_valid_modules_pass_in_any_chunking(module: bytes, step: int) -> None:
    if step == 1 and len(module) > 300_000:
        step = 997
    stream(module, step)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "^empty module"),
        (b"\x7fELF\x02\x01\x01\x00", "expected magic 0061736d"),
        (b"\x00asm\x02\x00\x00\x00", "unsupported Wasm version 2"),
        (counter_wasm()[:-3], "truncated"),
        (gzip.compress(counter_wasm())[:-4], "^truncated gzip module"),
        (
            gzip.compress(counter_wasm()) + b"junk",
            "^invalid gzip module: trailing data after the gzip stream",
        ),
        (b"\x1f\x8b\x08garbage-not-deflate", "^invalid gzip module"),
        (b"\x00asm\x01\x00\x00\x00" + bytes(16), "custom section name length at offset 10 is cut off"),
    ],
)
def test_bad_modules_are_refused_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        stream(data, 5)


def test_gzip_decompression_is_bounded() -> None:
    module = module_with_custom_section("padding", bytes(2 * 1024 * 1024))
    with pytest.raises(InvalidArgument, match="decompresses to more than 1048576 bytes"):
        stream(gzip.compress(module), 65536, limit=1024 * 1024)
    with pytest.raises(InvalidArgument):
        stream(gzip_bomb(), 1024 * 1024)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=64), cut=st.integers(1, 64))
def test_agrees_with_the_whole_module_check(data: bytes, cut: int) -> None:
    """One walker: the streamed check accepts exactly what the whole check accepts, with the same text."""
    candidate = b"\x00asm\x01\x00\x00\x00" + data
    outcomes = []
    for check in (lambda: check_module(candidate, max_size=LIMIT), lambda: stream(candidate, cut)):
        try:
            check()
            outcomes.append("ok")
        except InvalidArgument as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
