"""Opcodes of the constructed types in the binary format, and the function annotation bytes."""

from __future__ import annotations

OPT = -18
VEC = -19
RECORD = -20
VARIANT = -21
FUNC = -22
SERVICE = -23
PRINCIPAL_CODE = -24

ANNOTATION_CODES: dict[str, int] = {"query": 1, "oneway": 2, "composite_query": 3}
ANNOTATION_BY_CODE: dict[int, str] = {code: name for name, code in ANNOTATION_CODES.items()}
