"""The factory's Candid interface (``_data/factory.did``) and the dispatcher from Candid values to the table.

``call(api, method, args)`` takes the arguments as Candid values (as ``candid.parse_values`` or
``candid.decode`` give them, typed by the .did) and returns the results as Candid values, so that
``canister-factory call METHOD '(ARGS)'`` runs the reference's ``dfx canister call`` texts unchanged. Methods
whose result is a ``Result`` variant answer ``{"Err": message}`` for a FactoryError, as the reference does; the
others raise it.

The dispatcher is built from the table: the Candid arguments fill the Python parameters in order, except that
a record argument whose parameter is not a record spreads into the parameters its fields name (the reference's
``commit_upload : (nat64, record { expected_sha256_hex : text })`` is ``commit_upload(upload_id,
expected_sha256_hex)``); records become the model's dataclasses and back, ``Mode`` a variant.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable
from importlib import resources
from typing import Any

from canister_factory._core.config import InitArg
from canister_factory._core.errors import InvalidArgument, NotFound
from canister_factory.interface._errors import face_error
from canister_factory.interface._method import Interface, Method, is_record, methods_of
from canister_factory.interface._table import FactoryApi
from icp_client import candid


@functools.cache
def did_text() -> str:
    """The factory's .did, as shipped in the package."""
    return resources.files("canister_factory._data").joinpath("factory.did").read_text()


@functools.cache
def did() -> candid.DidFile:
    return candid.parse_did(did_text())


BUILTINS: dict[str, Callable[[], Any]] = {
    "__get_candid_interface_tmp_hack": did_text,
}
"""Methods of the .did that are the .did's own, not the factory's (answered without the factory)."""


def method_type(method: str) -> candid.FuncType:
    """The Candid type of ``method``.

    Raises:
        NotFound: the factory has no such method.
    """
    try:
        return did().service_methods[method]
    except KeyError:
        raise NotFound(f"the factory has no method {method!r}; see `canister-factory candid`") from None


def is_query(method: str) -> bool:
    """Whether the .did declares ``method`` a query."""
    return "query" in method_type(method).annotations


def call(api: Interface, method: str, args: list[Any]) -> list[Any]:
    """Run ``method`` with Candid ``args`` on ``api`` (one caller's view); the results as Candid values.

    Raises:
        NotFound: the factory has no such method.
        FactoryError: the method's, for a method whose result is not a ``Result`` variant.
    """
    func = method_type(method)
    if method in BUILTINS:
        return [BUILTINS[method]()]
    entry = _by_name()[method]
    arguments = candid_arguments(entry, func, args)
    if not _returns_result(func):
        return [to_candid(getattr(api, method)(**arguments))]
    try:
        ok = getattr(api, method)(**arguments)
    except Exception as exc:
        error = face_error(exc)
        if error is None:
            raise
        return [{"Err": error.message}]
    return [{"Ok": to_candid(ok)}]


def candid_arguments(entry: Method[Any, Any], func: candid.FuncType, values: list[Any]) -> dict[str, Any]:
    """The Python arguments, by parameter name, that Candid ``values`` (typed by ``func``) stand for."""
    arguments: dict[str, Any] = {}
    for param, ctype, value in zip(entry.params, func.args, values, strict=False):
        fields = _spread_fields(entry, param, ctype)
        if fields is None:
            arguments[param] = from_candid(value, entry.hints[param])
        elif value is not None:
            for name in fields:
                if value.get(name) is None and _has_default(entry, name):
                    continue  # an absent optional field: the parameter's default
                arguments[name] = from_candid(value.get(name), entry.hints[name])
    return arguments


def _has_default(entry: Method[Any, Any], name: str) -> bool:
    return entry.signature.parameters[name].default is not inspect.Parameter.empty


def candid_parameters(entry: Method[Any, Any], func: candid.FuncType) -> list[str]:
    """The Python parameters that the Candid arguments of ``func`` name, in order (what the dispatcher fills)."""
    names: list[str] = []
    for param, ctype in zip(entry.params, func.args, strict=False):
        fields = _spread_fields(entry, param, ctype)
        names.extend([param] if fields is None else fields)
    return names


def _spread_fields(entry: Method[Any, Any], param: str, ctype: candid.Type) -> list[str] | None:
    """The field names of a record argument that spreads into parameters; None for an argument that does not."""
    if is_record(entry.hints[param]):
        return None
    resolved = candid.resolve(ctype)
    if isinstance(resolved, candid.OptType):
        resolved = candid.resolve(resolved.inner)
    if not isinstance(resolved, candid.RecordType):
        return None
    return [f.name for f in resolved.fields if f.name is not None]


def from_candid(value: Any, hint: Any) -> Any:
    """A Candid value (as the codec gives it) as the Python type ``hint`` of the interface."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return from_candid(value, inner[0])
    if origin is list:
        return [from_candid(v, args[0]) for v in value]
    if origin is tuple:
        return tuple(from_candid(v, args[0]) for v in value)
    if hint is bytes:
        return bytes(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(next(iter(value)))
    if is_record(hint):
        hints = typing.get_type_hints(hint)
        present = {f.name for f in dataclasses.fields(hint)} & set(value)
        return hint(**{name: from_candid(value[name], hints[name]) for name in present})
    return value


def to_candid(value: Any) -> Any:
    """A Python value of the interface as a Candid value (records as dicts, ``Mode`` as a variant)."""
    if is_record(type(value)):
        return {f.name: to_candid(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return {value.value: None}
    if isinstance(value, list | tuple):
        return [to_candid(v) for v in value]
    if isinstance(value, dict):
        return {k: to_candid(v) for k, v in value.items()}
    return value


def init_arg_from_candid(values: list[Any]) -> InitArg | None:
    """The deploy argument (``opt InitArg``) as parsed from Candid."""
    init: InitArg | None = from_candid(values[0] if values else None, InitArg)
    return init


def _returns_result(func: candid.FuncType) -> bool:
    if len(func.results) != 1:
        return False
    result = candid.resolve(func.results[0])
    return isinstance(result, candid.VariantType) and {f.name for f in result.fields} == {"Ok", "Err"}


@functools.cache
def _by_name() -> dict[str, Method[Any, Any]]:
    return {m.name: m for m in methods_of(FactoryApi)}


def parse_args(method: str, text: str) -> list[Any]:
    """Parse a method's arguments from Candid text (``()`` when ``text`` is empty), typed by the .did.

    Raises:
        InvalidArgument: the text is not valid Candid for the method's argument types.
    """
    types_ = method_type(method).args
    try:
        return candid.parse_values(text.strip() or "()", types_, did().env)
    except candid.CandidError as exc:
        raise InvalidArgument(f"arguments of {method}: {exc}") from None


def parse_init(text: str) -> list[Any]:
    """Parse the deploy argument (``opt InitArg``) from Candid text.

    Raises:
        InvalidArgument: the text is not valid Candid for ``opt InitArg``.
    """
    try:
        return candid.parse_values(text.strip() or "()", did().init_args or [], did().env)
    except candid.CandidError as exc:
        raise InvalidArgument(f"--argument: {exc}") from None


def format_results(method: str, values: list[Any]) -> str:
    """The results in Candid text, typed by the .did."""
    return candid.format_values(values, method_type(method).results)


def results_json(method: str, values: list[Any]) -> Any:
    """The results as JSON-ready values: the single result itself, or a list for several."""
    result_types = method_type(method).results
    converted = [candid.to_json(v, t) for v, t in zip(values, result_types, strict=True)]
    return converted[0] if len(converted) == 1 else converted


__all__ = [
    "BUILTINS",
    "call",
    "candid_arguments",
    "candid_parameters",
    "did",
    "did_text",
    "format_results",
    "from_candid",
    "init_arg_from_candid",
    "is_query",
    "method_type",
    "parse_args",
    "parse_init",
    "results_json",
    "to_candid",
]
