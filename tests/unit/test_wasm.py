"""canister_factory.wasm: module checks, bounded gzip, metadata sections."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm import (
    MAX_WASM_SIZE,
    ModuleInfo,
    check_module,
    decompress_bounded,
    is_gzip,
    module_hash,
)
from tests.support.wasm_modules import (
    WASM_HEADER,
    counter_did,
    counter_wasm,
    custom_section,
    gzip_bomb,
    gzip_module,
    large_module,
    leb128,
    minimal_module,
    module_with_custom_section,
    section,
    wasm_gzip_bomb,
)

MiB = 1024 * 1024
no_db = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rejects(data: bytes, match: str, *, max_size: int = MAX_WASM_SIZE) -> None:
    with pytest.raises(InvalidArgument, match=match) as excinfo:
        check_module(data, max_size=max_size)
    assert excinfo.value.code == "invalid_argument"


# --- accepted modules -------------------------------------------------------------------------------


def test_max_wasm_size_is_100_mib() -> None:
    assert MAX_WASM_SIZE == 104_857_600


def test_minimal_module_accepted() -> None:
    data = minimal_module()
    info = check_module(data, max_size=MAX_WASM_SIZE)
    assert info == ModuleInfo(
        module_hash=hashlib.sha256(data).digest(),
        compressed=False,
        size=8,
        wasm_size=8,
        custom_sections={},
    )
    assert info.module_hash_hex == hashlib.sha256(data).hexdigest()
    assert info.public_metadata("candid:service") is None


def test_default_max_size_is_the_ic_limit() -> None:
    assert check_module(minimal_module()).size == 8


def test_module_info_is_frozen_and_hashable() -> None:
    info = check_module(module_with_custom_section("icp:public x", b"1"), max_size=MAX_WASM_SIZE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.size = 1  # type: ignore[misc]
    assert hash(info) == hash(dataclasses.replace(info, custom_sections={}))


def test_module_hash_is_sha256_of_bytes_as_given() -> None:
    assert module_hash(b"") == hashlib.sha256(b"").digest()
    assert module_hash(counter_wasm()) == hashlib.sha256(counter_wasm()).digest()


def test_counter_module_parses_with_public_candid() -> None:
    data = counter_wasm()
    info = check_module(data, max_size=MAX_WASM_SIZE)
    assert not info.compressed
    assert info.size == info.wasm_size == len(data)
    assert 100_000 < len(data) < 2 * MiB  # fits a single ingress message uncompressed
    assert info.module_hash == hashlib.sha256(data).digest()
    service = info.public_metadata("candid:service")
    assert service is not None
    assert service.decode() == counter_did()
    assert "inc: (by: nat) -> (nat);" in counter_did()
    assert "whoami: () -> (principal) query;" in counter_did()
    assert info.custom_sections["icp:public candid:service"] == service
    assert info.public_metadata("candid:args") == b"(init:\nnat)"
    assert info.private_metadata("enhanced-orthogonal-persistence") == b"64-bit, layout version 1"
    assert info.public_metadata("motoko:compiler") is None  # private
    assert info.metadata("motoko:compiler") == info.private_metadata("motoko:compiler")
    assert info.metadata("candid:args") == b"(init:\nnat)"
    # Only icp: sections are kept; the big `name` and `motoko` sections are not.
    assert all(name.startswith(("icp:public ", "icp:private ")) for name in info.custom_sections)
    assert "name" not in info.custom_sections


def test_gzip_module_accepted_and_hash_is_of_compressed_bytes() -> None:
    raw = counter_wasm()
    gz = gzip_module(raw)
    assert is_gzip(gz) and not is_gzip(raw)
    info = check_module(gz, max_size=MAX_WASM_SIZE)
    assert info.compressed
    assert info.size == len(gz) < len(raw)
    assert info.wasm_size == len(raw)
    assert info.module_hash == hashlib.sha256(gz).digest() != hashlib.sha256(raw).digest()
    assert info.custom_sections == check_module(raw, max_size=MAX_WASM_SIZE).custom_sections


def test_bytearray_and_memoryview_accepted() -> None:
    data = counter_wasm()
    expected = check_module(data, max_size=MAX_WASM_SIZE)
    assert check_module(bytearray(data), max_size=MAX_WASM_SIZE) == expected  # type: ignore[arg-type]
    assert check_module(memoryview(data), max_size=MAX_WASM_SIZE) == expected  # type: ignore[arg-type]


def test_sections_in_spec_order_accepted_with_custom_sections_anywhere() -> None:
    ids = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]
    body = b"".join(section(i, b"") + custom_section(f"c{i}", b"x") for i in ids)
    info = check_module(WASM_HEADER + custom_section("first", b"") + body, max_size=MAX_WASM_SIZE)
    assert info.custom_sections == {}


def test_repeated_non_icp_custom_sections_allowed() -> None:
    data = WASM_HEADER + custom_section("name", b"a") + custom_section("name", b"b")
    assert check_module(data, max_size=MAX_WASM_SIZE).custom_sections == {}


def test_icp_sections_collected_with_full_names() -> None:
    data = (
        WASM_HEADER
        + custom_section("icp:public candid:service", b"service : {}")
        + section(1, b"\x00")
        + custom_section("icp:private git", b"abc")
        + custom_section("icp:public empty", b"")
    )
    info = check_module(data, max_size=MAX_WASM_SIZE)
    assert info.custom_sections == {
        "icp:public candid:service": b"service : {}",
        "icp:private git": b"abc",
        "icp:public empty": b"",
    }
    assert info.public_metadata("empty") == b""
    assert info.metadata("empty") == b""
    assert info.public_metadata("git") is None
    assert info.private_metadata("git") == b"abc"


# --- rejected modules -------------------------------------------------------------------------------


def test_empty_input_rejected() -> None:
    rejects(b"", r"^empty module")


@pytest.mark.parametrize(
    ("data", "got"),
    [
        (b"\x7fELF\x02\x01\x01\x00", "7f454c46"),
        (b"\x00as", "006173"),
        (b"asm\x00\x01\x00\x00\x00", "61736d00"),
        (b"\x1f\x8b", "1f8b"),  # too short for the gzip magic
        (b"\x1f\x8b\x07\x00", "1f8b0700"),  # gzip magic with a method other than deflate
        (b"PK\x03\x04", "504b0304"),
    ],
)
def test_wrong_magic_rejected(data: bytes, got: str) -> None:
    rejects(data, rf"^not a Wasm module: expected magic 0061736d \(or gzip 1f8b08\), got {got}$")


@pytest.mark.parametrize(
    ("version", "number"),
    [(b"\x02\x00\x00\x00", 2), (b"\x00\x00\x00\x00", 0), (b"\x0d\x00\x01\x00", 0x1000D)],  # last: a component
)
def test_wrong_version_rejected(version: bytes, number: int) -> None:
    rejects(b"\x00asm" + version, rf"^unsupported Wasm version {number}:")


def test_truncated_header_rejected() -> None:
    rejects(b"\x00asm\x01\x00", r"^truncated Wasm module: 6 bytes, the header alone is 8$")


def test_truncated_section_rejected() -> None:
    full = WASM_HEADER + section(1, b"\x01\x60\x00\x00" + b"\x00" * 6)
    rejects(full[:-3], r"^truncated Wasm module: section 1 at offset 8 declares 10 bytes but only 7 remain$")


def test_truncated_counter_rejected() -> None:
    data = counter_wasm()
    rejects(data[: len(data) - 1], r"^truncated Wasm module: section 0 at offset \d+ declares \d+ bytes")
    rejects(data[:1000], r"^truncated Wasm module: section \d+ at offset \d+ declares")


def test_section_size_cut_off_rejected() -> None:
    rejects(WASM_HEADER + b"\x01", r"^truncated Wasm module: size of section 1 at offset 9 is cut off$")
    rejects(
        WASM_HEADER + b"\x0a\x80\x80", r"^truncated Wasm module: size of section 10 at offset 9 is cut off$"
    )


def test_overlong_section_size_rejected() -> None:
    rejects(WASM_HEADER + b"\x01" + b"\x80" * 5 + b"\x00", r"^malformed Wasm module: .* longer than 5 bytes$")
    rejects(WASM_HEADER + b"\x01\xff\xff\xff\xff\x7f", r"^malformed Wasm module: .* does not fit in 32 bits$")


def test_section_size_past_end_rejected() -> None:
    rejects(WASM_HEADER + b"\x01" + leb128(2**32 - 1), r"declares 4294967295 bytes but only 0 remain")


def test_unknown_section_id_rejected() -> None:
    rejects(WASM_HEADER + section(14, b""), r"^malformed Wasm module: unknown section id 14 at offset 8$")
    rejects(WASM_HEADER + section(0xFF, b""), r"unknown section id 255")


def test_duplicate_or_misordered_sections_rejected() -> None:
    rejects(
        WASM_HEADER + section(1, b"\x00") + section(1, b"\x00"),
        r"^malformed Wasm module: type section \(id 1\) at offset 11 is duplicated or out of order$",
    )
    rejects(WASM_HEADER + section(10, b"\x00") + section(3, b"\x00"), r"function section \(id 3\)")
    rejects(WASM_HEADER + section(10, b"") + section(12, b""), r"datacount section \(id 12\)")


def test_bad_custom_section_names_rejected() -> None:
    rejects(WASM_HEADER + section(0, b""), r"custom section name length at offset 10 is cut off")
    rejects(
        WASM_HEADER + section(0, b"\x05abc"), r"custom section name at offset 11 declares 5 bytes .* only 3"
    )
    rejects(WASM_HEADER + section(0, b"\x02\xff\xfe"), r"custom section name at offset 11 is not valid UTF-8")


def test_bad_icp_sections_rejected() -> None:
    rejects(
        module_with_custom_section("icp:foo", b""), r"Custom section 'icp:foo' has no public/private scope"
    )
    rejects(
        module_with_custom_section("icp:public", b""), r"must have a space after the public/private scope"
    )
    twice = module_with_custom_section("icp:public x", b"1") + custom_section("icp:public x", b"2")
    rejects(
        twice, r"^Wasm module has an invalid custom section\. Invalid custom section: name x already exists$"
    )
    both = module_with_custom_section("icp:public x", b"1") + custom_section("icp:private x", b"2")
    rejects(both, r"Invalid custom section: name x already exists$")


def test_icp_section_limits_rejected() -> None:
    many = WASM_HEADER + b"".join(custom_section(f"icp:public s{i}", b"") for i in range(17))
    rejects(many, r"^Wasm module defined 17 custom sections which exceeds the maximum number allowed 16\.$")
    big = module_with_custom_section("icp:private big", b"x" * (1024 * 1024))
    rejects(big, r"total size of the custom sections exceeds the maximum allowed: size 1048579 bytes")


def test_raw_module_over_max_size_rejected() -> None:
    data = large_module(1 * MiB)
    assert check_module(data, max_size=MiB).size == MiB
    rejects(data, rf"^module is {MiB} bytes, more than the limit of {MiB - 1} bytes$", max_size=MiB - 1)


def test_gzip_of_non_wasm_rejected() -> None:
    rejects(
        gzip_module(b"hello world"),
        r"^not a Wasm module \(after gzip decompression\): expected magic 0061736d, got 68656c6c$",
    )
    rejects(gzip_module(gzip_module(minimal_module())), r"after gzip decompression.*got 1f8b0800")
    rejects(gzip_module(b""), r"after gzip decompression.*got nothing")
    rejects(
        gzip_module(b"\x00asm\x02\x00\x00\x00"), r"^unsupported Wasm version 2 \(after gzip decompression\)"
    )
    rejects(gzip_module(WASM_HEADER + b"\x01\x05"), r"^truncated Wasm module \(after gzip decompression\)")


def test_corrupt_gzip_rejected() -> None:
    gz = gzip_module(counter_wasm())
    rejects(gz[: len(gz) // 2], r"^truncated gzip module")
    rejects(gz[:-4], r"^truncated gzip module")
    rejects(gz + b"\x00", r"^invalid gzip module: trailing data after the gzip stream$")
    rejects(gz + gz, r"^invalid gzip module: trailing data")
    bad_crc = gz[:-8] + bytes(b ^ 0xFF for b in gz[-8:-4]) + gz[-4:]
    rejects(bad_crc, r"^invalid gzip module: .*incorrect data check")
    bad_body = gz[:10] + b"\xff" * 16 + gz[26:]
    rejects(bad_body, r"^invalid gzip module: ")


# --- bounded decompression ----------------------------------------------------------------------------


def test_decompress_bounded_roundtrip_and_exact_bound() -> None:
    data = large_module(300_000, seed=7)
    gz = gzip_module(data)
    assert decompress_bounded(gz, MAX_WASM_SIZE) == data
    assert decompress_bounded(gz, len(data)) == data
    with pytest.raises(
        InvalidArgument, match=rf"^gzip module decompresses to more than {len(data) - 1} bytes$"
    ):
        decompress_bounded(gz, len(data) - 1)
    assert decompress_bounded(gzip_module(b""), 0) == b""


def test_decompress_bounded_rejects_non_gzip() -> None:
    with pytest.raises(InvalidArgument, match=r"^not a gzip stream: expected magic 1f8b08, got 006173$"):
        decompress_bounded(minimal_module(), MAX_WASM_SIZE)
    with pytest.raises(ValueError):
        decompress_bounded(gzip_module(b""), -1)


def test_gzip_bomb_is_valid_gzip() -> None:
    bomb = gzip_bomb(4 * MiB)
    assert gzip.decompress(bomb) == bytes(4 * MiB)


def test_gzip_bomb_that_is_not_wasm_is_refused_at_its_header() -> None:
    rejects(
        gzip_bomb(1 << 30),
        r"^not a Wasm module \(after gzip decompression\): expected magic 0061736d, got 0+$",
    )


def test_gzip_bomb_refused_quickly_at_the_ic_limit() -> None:
    bomb = wasm_gzip_bomb(1 << 30)  # 1 GiB of zeros in ~1 MiB
    assert len(bomb) < 2 * MiB
    start = time.perf_counter()
    rejects(bomb, rf"^gzip module decompresses to more than {MAX_WASM_SIZE} bytes$")
    assert time.perf_counter() - start < 10  # ~0.2 s here; decompresses only up to the limit


def test_gzip_bomb_refused_with_bounded_memory() -> None:
    bomb = wasm_gzip_bomb(1 << 30)
    limit = 4 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(InvalidArgument, match=rf"decompresses to more than {limit} bytes"):
            check_module(bomb, max_size=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit + 2 * MiB, f"peak {peak} bytes"


# --- test support helpers -----------------------------------------------------------------------------


def test_large_module_is_valid_and_big() -> None:
    data = large_module(3 * MiB)
    assert len(data) == 3 * MiB > 2 * MiB
    info = check_module(data, max_size=MAX_WASM_SIZE)
    assert info.size == info.wasm_size == 3 * MiB
    assert len(gzip_module(data)) > 3 * MiB - 4096  # incompressible: gzip cannot sneak it under 2 MiB
    assert large_module(3 * MiB) == data
    assert module_hash(large_module(3 * MiB, seed=1)) != info.module_hash


@pytest.mark.parametrize("size", [22, 23, 100, 127, 128, 129, 138, 16_384, 16_403, 2_097_170, 2 * MiB])
def test_large_module_exact_sizes(size: int) -> None:
    assert len(large_module(size)) == size
    check_module(large_module(size), max_size=MAX_WASM_SIZE)


def test_large_module_too_small() -> None:
    with pytest.raises(ValueError):
        large_module(21)


# --- property tests: nothing but InvalidArgument ever escapes -----------------------------------------


def _check_or_invalid(data: bytes, max_size: int = MAX_WASM_SIZE) -> ModuleInfo | None:
    try:
        info = check_module(data, max_size=max_size)
    except InvalidArgument as exc:
        assert str(exc)
        return None
    assert info.size == len(data) <= max_size
    assert info.wasm_size <= max_size
    assert info.module_hash == hashlib.sha256(data).digest()
    return info


@no_db
@given(st.binary(max_size=512))
def test_random_bytes_never_crash(data: bytes) -> None:
    _check_or_invalid(data)


@no_db
@given(st.binary(max_size=512))
def test_random_sections_never_crash(body: bytes) -> None:
    _check_or_invalid(WASM_HEADER + body)


@no_db
@given(st.binary(max_size=512), st.integers(min_value=0, max_value=1024))
def test_random_gzip_never_crash(body: bytes, max_size: int) -> None:
    _check_or_invalid(gzip_module(WASM_HEADER + body), max_size=max_size)
    _check_or_invalid(gzip_module(body)[: max_size + 1], max_size=4096)


@no_db
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255), st.integers(min_value=0))
def test_mutated_counter_never_crashes(position: int, value: int, cut: int) -> None:
    data = bytearray(counter_wasm())
    data[position % len(data)] = value
    _check_or_invalid(bytes(data))
    _check_or_invalid(bytes(data[: cut % (len(data) + 1)]))
