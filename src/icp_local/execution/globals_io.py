"""Reading and writing an instance's mutable globals quickly.

The engine reads every mutable global after each message (to find the changed ones): through
``wasmtime.Global.value`` that is about 6 µs a global, most of it building Python ``Val`` objects, or
about 200 µs per message for a Motoko canister's 32 globals.  :class:`GlobalBank` calls wasmtime's C
function ``wasmtime_global_get`` directly (through the bindings' private ``_bindings`` module), reusing
one output value; it falls back to the public API if the bindings' private names change.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime

from .types import GlobalValue

__all__ = ["GlobalBank"]

try:  # the bindings' private module; see the fallback in GlobalBank
    from wasmtime import _bindings as _ffi

    _RAW_GET: Any = _ffi._wasmtime_global_get
    _RAW_SET: Any = _ffi._wasmtime_global_set
    _VAL_T: Any = _ffi.wasmtime_val_t
except (ImportError, AttributeError):  # pragma: no cover - older or newer bindings
    _RAW_GET = _RAW_SET = _VAL_T = None

_I32, _I64, _F32, _F64 = 0, 1, 2, 3


class GlobalBank:
    """The mutable globals of one store, by global index."""

    def __init__(self, store: wasmtime.Store, globals_: dict[int, wasmtime.Global]) -> None:
        self._store = store
        self._globals = globals_
        self._raw: list[tuple[int, Any]] | None = None
        self._kinds: dict[int, int] = {}
        if _RAW_GET is not None:
            try:
                self._context = store._context()
                self._raw = [(i, ctypes.byref(g._global)) for i, g in globals_.items()]
                self._out = _VAL_T()
            except AttributeError:  # pragma: no cover
                self._raw = None

    def read(self) -> dict[int, GlobalValue]:
        """The current value of every mutable global."""
        if self._raw is None:
            return {i: g.value(self._store) for i, g in self._globals.items()}
        values: dict[int, GlobalValue] = {}
        out, context = self._out, self._context
        for index, handle in self._raw:
            _RAW_GET(context, handle, ctypes.byref(out))
            self._kinds[index] = out.kind
            values[index] = _value(out)
        return values

    def write(self, values: dict[int, GlobalValue]) -> None:
        """Sets the globals in ``values`` (unknown indices are ignored).

        Raises:
            wasmtime.WasmtimeError: if wasmtime refuses a value.
        """
        handles = dict(self._raw or [])
        for index, value in values.items():
            glob = self._globals.get(index)
            kind = self._kinds.get(index)
            if glob is None:
                continue
            if kind is None or index not in handles:
                glob.set_value(self._store, value)
                continue
            raw = _VAL_T()
            raw.kind = kind
            _set_union(raw, kind, value)
            if _RAW_SET(self._context, handles[index], ctypes.byref(raw)):
                glob.set_value(self._store, value)  # let the public API raise its error


def _set_union(raw: Any, kind: int, value: GlobalValue) -> None:
    if kind == _I32:
        raw.of.i32 = int(value)
    elif kind == _I64:
        raw.of.i64 = int(value)
    elif kind == _F32:
        raw.of.f32 = float(value)
    else:
        raw.of.f64 = float(value)


def _value(raw: Any) -> GlobalValue:
    kind = raw.kind
    if kind == _I32:
        return int(raw.of.i32)
    if kind == _I64:
        return int(raw.of.i64)
    if kind == _F32:
        return float(raw.of.f32)
    if kind == _F64:
        return float(raw.of.f64)
    raise TypeError(f"unsupported global kind {kind}")
