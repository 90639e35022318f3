"""The factory's Candid interface (``_data/factory.did``) and a dispatcher from Candid values to ``Factory``.

``call(factory, caller, method, args)`` takes the arguments as Candid values (as ``candid.parse_values`` or
``candid.decode`` give them, typed by the .did) and returns the results as Candid values, so that
``canister-factory call METHOD '(ARGS)'`` runs the reference's ``dfx canister call`` texts unchanged. Methods
whose result is a ``Result`` variant answer ``{"Err": message}`` for a FactoryError, as the reference does; the
others raise it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from canister_factory._core.config import InitArg
from canister_factory._core.errors import FactoryError, InvalidArgument, NotFound
from canister_factory._core.model import (
    CanisterPage,
    CanisterRecord,
    CreateInstallRequest,
    Mode,
)
from canister_factory.service.factory import FactoryApi
from icp_client import candid
from icp_client.principal import Principal

Handler = Callable[[FactoryApi, Principal, list[Any]], Any]


@functools.cache
def did_text() -> str:
    """The factory's .did, as shipped in the package."""
    return resources.files("canister_factory._data").joinpath("factory.did").read_text()


@functools.cache
def did() -> candid.DidFile:
    return candid.parse_did(did_text())


def method_type(method: str) -> candid.FuncType:
    """The Candid type of ``method``.

    Raises:
        NotFound: the factory has no such method.
    """
    try:
        return did().service_methods[method]
    except KeyError:
        raise NotFound(f"the factory has no method {method!r}; see `canister-factory candid`") from None


def init_arg_from_candid(values: list[Any]) -> InitArg | None:
    """The deploy argument (``opt InitArg``) as parsed from Candid."""
    record = values[0] if values else None
    if record is None:
        return None
    return InitArg(
        max_canisters_per_caller=record.get("max_canisters_per_caller"),
        min_factory_cycles=record.get("min_factory_cycles"),
        allowlist=_tuple(record.get("allowlist")),
        admins=_tuple(record.get("admins")),
        max_upload_size=record.get("max_upload_size"),
        upload_ttl_seconds=record.get("upload_ttl_seconds"),
        max_creations_per_day=record.get("max_creations_per_day"),
        max_active_uploads_per_caller=record.get("max_active_uploads_per_caller"),
        max_modules_per_caller=record.get("max_modules_per_caller"),
        max_cycles_per_caller_per_day=record.get("max_cycles_per_caller_per_day"),
        max_stored_module_bytes=record.get("max_stored_module_bytes"),
    )


def call(factory: FactoryApi, caller: Principal, method: str, args: list[Any]) -> list[Any]:
    """Run ``method`` with Candid ``args`` as ``caller``; the results as Candid values."""
    func = method_type(method)
    handler = HANDLERS[method]
    if _returns_result(func):
        try:
            ok = handler(factory, caller, args)
        except FactoryError as exc:
            return [{"Err": exc.message}]
        return [{"Ok": ok}]
    return [handler(factory, caller, args)]


def _returns_result(func: candid.FuncType) -> bool:
    if len(func.results) != 1:
        return False
    result = candid.resolve(func.results[0])
    return isinstance(result, candid.VariantType) and {f.name for f in result.fields} == {"Ok", "Err"}


def _tuple(values: list[Principal] | None) -> tuple[Principal, ...] | None:
    return None if values is None else tuple(values)


def _request(record: Mapping[str, Any]) -> CreateInstallRequest:
    mode = next(iter(record["mode"]))
    return CreateInstallRequest(
        upload_id=record["upload_id"],
        init_arg=bytes(record["init_arg"]),
        mode=Mode(mode),
        cycles=record["cycles"],
        handoff=record["handoff"],
        extra_controllers=_tuple(record.get("extra_controllers")),
        canister_id=record.get("canister_id"),
        idempotency_key=record.get("idempotency_key"),
    )


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _canister(record: CanisterRecord) -> dict[str, Any]:
    fields = _fields(record)
    fields["mode"] = {record.mode.value: None}
    return fields


def _page(page: CanisterPage) -> dict[str, Any]:
    return {"canisters": [_canister(r) for r in page.canisters], "next_cursor": page.next_cursor}


def _list_arg(args: list[Any]) -> tuple[int | None, int | None]:
    arg = args[0] if args else None
    if arg is None:
        return None, None
    return arg.get("cursor"), arg.get("limit")


def _commit(f: FactoryApi, c: Principal, a: list[Any]) -> str:
    return f.commit_upload(c, a[0], a[1]["expected_sha256_hex"])


def _upload_info(f: FactoryApi, c: Principal, a: list[Any]) -> dict[str, Any]:
    return _fields(f.get_upload_info(c, a[0]))


def _config(f: FactoryApi, c: Principal, a: list[Any]) -> dict[str, Any]:
    return _fields(f.get_config())


def _unit(action: Callable[[FactoryApi, Principal, list[Any]], None]) -> Handler:
    def run(f: FactoryApi, c: Principal, a: list[Any]) -> None:
        action(f, c, a)
        return None

    return run


HANDLERS: dict[str, Handler] = {
    "create_upload": lambda f, c, a: f.create_upload(c),
    "put_chunk": lambda f, c, a: f.put_chunk(c, a[0], bytes(a[1]), a[2] if len(a) > 2 else None),
    "commit_upload": _commit,
    "clear_upload": _unit(lambda f, c, a: f.clear_upload(c, a[0])),
    "get_upload_info": _upload_info,
    "create_and_install_with": lambda f, c, a: _fields(f.create_and_install_with(c, _request(a[0]))),
    "list_my_canisters": lambda f, c, a: _page(f.list_my_canisters(c, *_list_arg(a))),
    "list_canisters": lambda f, c, a: _page(f.list_canisters(c, *_list_arg(a))),
    "set_emergency_stop": _unit(lambda f, c, a: f.set_emergency_stop(c, a[0])),
    "set_allowlist": _unit(lambda f, c, a: f.set_allowlist(c, None if a[0] is None else list(a[0]))),
    "add_admin": _unit(lambda f, c, a: f.add_admin(c, a[0])),
    "remove_admin": _unit(lambda f, c, a: f.remove_admin(c, a[0])),
    "cleanup_expired_uploads_manual": lambda f, c, a: f.cleanup_expired_uploads_manual(c),
    "get_config": _config,
    "my_stats": lambda f, c, a: _fields(f.my_stats(c)),
    "get_factory_stats": lambda f, c, a: _fields(f.get_factory_stats()),
    "version": lambda f, c, a: f.version(),
    "health_check": lambda f, c, a: f.health_check(),
    "__get_candid_interface_tmp_hack": lambda f, c, a: did_text(),
}


def parse_args(method: str, text: str) -> list[Any]:
    """Parse a method's arguments from Candid text (``()`` when ``text`` is empty), typed by the .did.

    Raises:
        InvalidArgument: the text is not valid Candid for the method's argument types.
    """
    types = method_type(method).args
    try:
        return candid.parse_values(text.strip() or "()", types, did().env)
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
    types = method_type(method).results
    converted = [candid.to_json(v, t) for v, t in zip(values, types, strict=True)]
    return converted[0] if len(converted) == 1 else converted
