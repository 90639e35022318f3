"""The factory's interface, declared once: the table of its methods and what is built from it.

* :class:`FactoryApi`: the table (``_table.py``), one decorated stub per method, and the type of every view of
  the factory bound to one caller; ``METHODS`` lists its entries as :class:`Method` values.
* :func:`bind`: the facade (caller first) as one caller's ``FactoryApi``.
* the Candid face: ``did_text``, ``method_type``, ``parse_args``, ``call`` (the dispatcher), ``format_results``.
* :func:`face_error`: what a face reports for an exception that reaches it.

``docs/architecture.md`` ("Where things go") walks through adding a method.
"""

from __future__ import annotations

from canister_factory.interface._bound import bind, invoke
from canister_factory.interface._candid import (
    BUILTINS,
    call,
    candid_arguments,
    candid_parameters,
    did,
    did_text,
    format_results,
    from_candid,
    init_arg_from_candid,
    is_query,
    method_type,
    parse_args,
    parse_init,
    results_json,
    to_candid,
)
from canister_factory.interface._errors import face_error
from canister_factory.interface._method import (
    Auth,
    Interface,
    Method,
    Placement,
    Route,
    delete,
    get,
    is_record,
    method,
    methods_of,
    post,
    put,
)
from canister_factory.interface._table import FactoryApi

METHODS = methods_of(FactoryApi)
"""The table's entries, in the order of declaration."""

__all__ = [
    "BUILTINS",
    "METHODS",
    "Auth",
    "FactoryApi",
    "Interface",
    "Method",
    "Placement",
    "Route",
    "bind",
    "call",
    "candid_arguments",
    "candid_parameters",
    "delete",
    "did",
    "did_text",
    "face_error",
    "format_results",
    "from_candid",
    "get",
    "init_arg_from_candid",
    "invoke",
    "is_query",
    "is_record",
    "method",
    "method_type",
    "methods_of",
    "parse_args",
    "parse_init",
    "post",
    "put",
    "results_json",
    "to_candid",
]
