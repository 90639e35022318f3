"""The module checks and metadata parsing of ``ic.embedded.wasm``."""

from __future__ import annotations

import hashlib

import pytest
from embedded_wasm import custom_section, gzipped, module, module_with_metadata, section

from icp_local.wasm import InvalidWasm, module_hash, parse_module

MAX = 100 * 1024 * 1024


def test_minimal_module_is_valid() -> None:
    parsed = parse_module(module(), max_size=MAX)
    assert parsed.module_hash == hashlib.sha256(module()).digest()
    assert not parsed.gzipped
    assert parsed.metadata == ()


def test_metadata_sections_are_collected_with_their_scope() -> None:
    wasm = module_with_metadata(public={"candid:service": b"service : {}"}, private={"secret": b"x"})
    sections = {s.name: s for s in parse_module(wasm, max_size=MAX).metadata}
    assert sections["candid:service"].public and sections["candid:service"].content == b"service : {}"
    assert not sections["secret"].public and sections["secret"].content == b"x"


def test_other_custom_sections_and_known_sections_are_skipped() -> None:
    wasm = module(custom_section("name", b"\x00\x01"), section(1, b"\x00"), section(10, b"\x00"))
    assert parse_module(wasm, max_size=MAX).metadata == ()


def test_gzip_module_hash_is_over_the_compressed_bytes() -> None:
    raw = module_with_metadata(public={"a": b"b"})
    compressed = gzipped(raw)
    parsed = parse_module(compressed, max_size=MAX)
    assert parsed.gzipped
    assert parsed.module_hash == module_hash(compressed) != module_hash(raw)
    assert parsed.wasm_size == len(raw)
    assert parsed.metadata[0].name == "a"


@pytest.mark.parametrize(
    ("wasm", "reason"),
    [
        (b"", "magic"),
        (b"not wasm at all", "magic"),
        (b"\x00asm\x02\x00\x00\x00", "version"),
        (module() + b"\x01\x05\x00", "past the end"),
        (module() + b"\x01", "unexpected end"),
        (module() + b"\x2a\x00", "unknown section id"),
        (module() + b"\x01\xff\xff\xff\xff\xff\x00", "LEB128"),
        (module(custom_section("icp:secret x", b"")), "no public/private scope"),
        (module(custom_section("icp:public a", b""), custom_section("icp:private a", b"")), "Duplicate"),
        (module(section(0, b"\x05ab")), "custom section name"),
        (module(section(0, b"\x02\xff\xfe")), "UTF-8"),
        (b"\x1f\x8b\x08garbage", "decompress"),
        (gzipped(module())[:-6], "decompress"),
    ],
)
def test_invalid_modules_are_refused(wasm: bytes, reason: str) -> None:
    with pytest.raises(InvalidWasm, match=reason):
        parse_module(wasm, max_size=MAX)


def test_too_many_metadata_sections() -> None:
    wasm = module_with_metadata(public={f"s{i}": b"" for i in range(17)})
    with pytest.raises(InvalidWasm, match="maximum allowed number of custom sections"):
        parse_module(wasm, max_size=MAX)


def test_metadata_sections_too_large() -> None:
    wasm = module_with_metadata(public={"big": b"x" * (1024 * 1024)})
    with pytest.raises(InvalidWasm, match="maximum allowed size of custom sections"):
        parse_module(wasm, max_size=MAX)


def test_size_limit_applies_to_the_given_bytes() -> None:
    wasm = module(custom_section("pad", b"\x00" * 100))
    with pytest.raises(InvalidWasm, match=f"size of {len(wasm)} exceeds the maximum allowed size of 64"):
        parse_module(wasm, max_size=64)


def test_size_limit_applies_to_the_decompressed_module() -> None:
    bomb = gzipped(module(custom_section("pad", b"\x00" * 100_000)))
    assert len(bomb) < 1000
    with pytest.raises(InvalidWasm, match="exceeds the maximum allowed size of 1000"):
        parse_module(bomb, max_size=1000)


def test_code_section_limit() -> None:
    wasm = module(section(10, b"\x00" * (10 * 1024 * 1024 + 1)))
    with pytest.raises(InvalidWasm, match="code section"):
        parse_module(wasm, max_size=MAX)
