"""Just enough of the Ed25519 curve (RFC 8032 section 5.1) to tell a usable public key from a weak one.

``cryptography`` (OpenSSL) verifies signatures but does not say whether a public key is a canonical encoding of a
point in the prime-order subgroup, and a key outside it can verify forged signatures: with the identity point as
key, ``R = identity, S = 0`` verifies every message. :func:`key_problem` decodes the 32 bytes as RFC 8032 section
5.1.3 does and checks the point the way the IC's ``ic-ed25519`` crate does (``PublicKey::is_canonical``,
``is_torsion_free``). Standard library only; points are in extended coordinates (section 5.1.4).
"""

from __future__ import annotations

import functools

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the prime order of the base point
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z
IDENTITY: Point = (0, 1, 1, 0)


def _add(a: Point, b: Point) -> Point:
    """Point addition (RFC 8032 section 5.1.4); complete, so it doubles too."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _multiply(point: Point, scalar: int) -> Point:
    result = IDENTITY
    for bit in bin(scalar)[2:]:
        result = _add(result, result)
        if bit == "1":
            result = _add(result, point)
    return result


def _is_identity(point: Point) -> bool:
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def _decode(raw: bytes) -> tuple[int, int] | None:
    """The affine point (x, y) that ``raw`` encodes, or None when it is not on the curve (section 5.1.3)."""
    value = int.from_bytes(raw, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    y %= P  # a non-canonical y >= p decodes as y - p, as curve25519-dalek does; key_problem refuses it after
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    elif v * x * x % P != u:
        return None
    if x & 1 != sign:
        x = (P - x) % P
    return x, y


def _encode(x: int, y: int) -> bytes:
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


@functools.lru_cache(maxsize=4096)
def key_problem(raw: bytes) -> str | None:
    """Why the 32-byte Ed25519 public key ``raw`` is unusable, or None if it is a good key.

    Refused, in this order: not 32 bytes; not a point on the curve; a non-canonical encoding (``y >= p``, or the
    sign bit set on ``x = 0``); a point of small order (``[8]A`` is the identity: the identity itself and the
    seven other points of order 2, 4 and 8); a point with a torsion component (``[L]A`` is not the identity).
    Results are cached: a scalar multiplication in Python takes milliseconds, and callers reuse their keys.
    """
    if len(raw) != 32:
        return f"an Ed25519 public key is 32 bytes, got {len(raw)}"
    decoded = _decode(raw)
    if decoded is None:
        return "the Ed25519 public key is not a point on the curve"
    x, y = decoded
    if _encode(x, y) != raw:
        return "the Ed25519 public key is not canonically encoded"
    point: Point = (x, y, 1, x * y % P)
    if _is_identity(_multiply(point, 8)):
        return "the Ed25519 public key is a point of small order (anyone could sign for it)"
    if not _is_identity(_multiply(point, L)):
        return "the Ed25519 public key is not in the prime-order subgroup (it has a torsion component)"
    return None
