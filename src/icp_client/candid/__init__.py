"""Candid, the Internet Computer's interface description language: types, binary codec, text and .did files.

Written by hand rather than on top of icp-py-core, the only other Python Candid library, because its
codec has no decoding limits (a 13-byte ``vec null`` reply makes it build a 5-million-element list),
mishandles ``opt vec`` (``[1, 2, 3]`` is read as "some 1"), implements subtyping only partly (wire
``null`` or a mismatched ``opt`` at an expected ``opt`` raise instead of reading as none), and without a
type loses field and tag names. This package follows the Candid specification (v0.1.8) and passes the official
conformance suite.

Python values
-------------
======================================  ===================================================================
Candid                                    Python
======================================  ===================================================================
nat, int, nat8..nat64, int8..int64        ``int`` (``bool`` is rejected when encoding)
float32, float64                          ``float`` (encoding also takes ``int``)
bool / text                               ``bool`` / ``str``
null, reserved                            ``None`` (encoding ``reserved`` ignores the value)
principal                                 :class:`~icp_client.principal.Principal` (``str`` text
                                          accepted when encoding)
vec nat8 (blob)                           ``bytes`` (encoding also takes ``bytearray`` or ``list[int]``)
vec T                                     ``list`` (encoding also takes ``tuple``)
record                                    ``dict`` keyed by field name (``str``) when the type knows it,
                                          else by numeric id (``int``); tuple records (ids 0..n-1) are
                                          dicts with int keys; encoding also takes a tuple/list for them,
                                          and an absent key for a null/opt/reserved field means None
variant                                   ``dict`` with exactly one key (tag name or id) whose value is the
                                          payload (``None`` for a null payload); encoding also takes the
                                          bare tag name as a ``str``
opt T                                     ``None`` for none; for some(v) the plain ``v``, except when T itself
                                          can be None (null, reserved, opt, or a name for those): then
                                          :class:`Some` ``(v)``. Encoding accepts plain ``v`` and ``Some(v)``
func                                      :class:`FuncRef` ``(principal, method)``
service                                   ``Principal``
======================================  ===================================================================

Decoding at an expected type applies Candid subtyping: extra record fields are dropped, absent
null/opt/reserved fields read as None, a value that does not fit under ``opt`` reads as none. Compare
decoded values with ``==``, or with :func:`values_equal` when NaN must equal NaN.

Errors: :class:`CandidError` (a ``ValueError``) with :class:`CandidDecodeError`,
:class:`CandidEncodeError` and :class:`CandidParseError`.

Example::

    >>> from icp_client.candid import decode, encode, parse_type
    >>> t = parse_type("record { upload_id : nat64; name : opt text }")
    >>> decode(encode([t], [{"upload_id": 1}]), [t])
    [{'name': None, 'upload_id': 1}]
"""

from __future__ import annotations

from icp_client.candid.decode import DecodeLimits, decode
from icp_client.candid.did import DidFile, parse_did, parse_type
from icp_client.candid.encode import encode
from icp_client.candid.errors import CandidDecodeError, CandidEncodeError, CandidError, CandidParseError
from icp_client.candid.format import format_value, format_values, to_json
from icp_client.candid.subtype import is_subtype
from icp_client.candid.text import parse_values
from icp_client.candid.types import (
    BLOB,
    BOOL,
    EMPTY,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    INT16,
    INT32,
    INT64,
    NAT,
    NAT8,
    NAT16,
    NAT32,
    NAT64,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    Field,
    FuncType,
    FutureType,
    NamedType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    TypeEnv,
    VariantType,
    VecType,
    field_hash,
    record,
    resolve,
    variant,
)
from icp_client.candid.values import FuncRef, Some, values_equal

__all__ = [
    "BLOB",
    "BOOL",
    "EMPTY",
    "FLOAT32",
    "FLOAT64",
    "INT",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "NAT",
    "NAT8",
    "NAT16",
    "NAT32",
    "NAT64",
    "NULL",
    "PRINCIPAL",
    "RESERVED",
    "TEXT",
    "CandidDecodeError",
    "CandidEncodeError",
    "CandidError",
    "CandidParseError",
    "DecodeLimits",
    "DidFile",
    "Field",
    "FuncRef",
    "FuncType",
    "FutureType",
    "NamedType",
    "OptType",
    "PrimType",
    "RecordType",
    "ServiceType",
    "Some",
    "Type",
    "TypeEnv",
    "VariantType",
    "VecType",
    "decode",
    "encode",
    "field_hash",
    "format_value",
    "format_values",
    "is_subtype",
    "parse_did",
    "parse_type",
    "parse_values",
    "record",
    "resolve",
    "to_json",
    "values_equal",
    "variant",
]
