"""Python value helpers: :class:`Some`, :class:`FuncRef`, and equality that treats NaN as equal to itself."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from icp_client.candid.types import Type, is_null_like
from icp_client.principal import Principal


@dataclass(frozen=True, slots=True)
class Some:
    """``opt v`` made explicit, used when ``v`` itself could be None (its type is null, reserved or opt)."""

    value: Any


@dataclass(frozen=True, slots=True)
class FuncRef:
    """A public function reference: ``method`` of the service ``principal``."""

    principal: Principal
    method: str


def make_some(value: Any, inner: Type) -> Any:
    """The Python value of ``opt value`` at type ``opt inner``: ``Some(value)`` if ``inner`` can be None."""
    return Some(value) if is_null_like(inner) else value


def values_equal(a: Any, b: Any) -> bool:
    """Structural equality of decoded values in which NaN equals NaN (floats are compared bit-for-bit)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, Some) and isinstance(b, Some):
        return values_equal(a.value, b.value)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)
