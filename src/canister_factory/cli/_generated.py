"""A command for each method of the interface table that no module wrote by hand.

The hand-written commands (``_uploads``, ``_canisters``, ``_admin``) shape their arguments, options and output
for people; a method without one still gets a command, named as the table says, from the method's signature:
required parameters are arguments, optional ones options (``--name``); ``int``, text, ``bool``, principals and
lists of them are read as such, ``bytes`` from a file (``-`` for stdin). It prints the result as every command
does: a record's fields, a single value under the table's result key, ``{}`` for nothing. A method whose
parameters are records needs its command written by hand (``command_for`` says so).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Sequence
from typing import Any

import click

from canister_factory.cli._format import done, emit, fields_of
from canister_factory.cli._main import PRINCIPAL
from canister_factory.cli._session import Session
from canister_factory.interface import METHODS, Method, is_record
from icp_client.principal import Principal

_TYPES: dict[Any, Any] = {
    int: click.INT,
    str: click.STRING,
    bool: click.BOOL,
    Principal: PRINCIPAL,
}


def add_missing_commands(group: click.Group, methods: Sequence[Method[Any, Any]] = METHODS) -> None:
    """Add ``command_for(method)`` to ``group`` for every method whose command it does not have yet."""
    for method in methods:
        if method.cli not in group.commands:
            group.add_command(command_for(method))


def command_for(method: Method[Any, Any]) -> click.Command:
    """A command that calls ``method`` as the session's caller and prints its result.

    Raises:
        TypeError: a parameter of a type the command line cannot read (a record): write the command by hand.
    """
    params = [
        _param(name, parameter, method.hints[name]) for name, parameter in method.signature.parameters.items()
    ]

    @click.pass_obj
    def run(s: Session, /, **values: Any) -> None:
        arguments = {name: _value(values[name], method.hints[name]) for name in method.params}
        result = getattr(s.api, method.name)(**arguments)
        if result is None:
            done(s.as_json, {}, f"{method.cli}: done")
        else:
            emit(s.as_json, _output(method, result))

    usage = " ".join(p.human_readable_name for p in params if isinstance(p, click.Argument))
    help_text = f"{method.doc}\n\n\b\nExample: canister-factory {method.cli} {usage}".rstrip()
    return click.Command(method.cli, params=params, callback=run, help=help_text)


def _param(name: str, parameter: inspect.Parameter, hint: Any) -> click.Parameter:
    inner, many = _inner(hint)
    if inner not in _TYPES and inner is not bytes:
        raise TypeError(f"{name}: the command line cannot read {hint!r}; write this command by hand")
    kind = click.File("rb") if inner is bytes else _TYPES[inner]
    if parameter.default is inspect.Parameter.empty:
        return click.Argument([name], type=kind, nargs=-1 if many else 1)
    flag = "--" + name.replace("_", "-")
    return click.Option([flag, name], type=kind, multiple=many, default=None, help=f"{name} (optional)")


def _inner(hint: Any) -> tuple[Any, bool]:
    """The element type of ``hint`` (``X``, ``X | None``, ``list[X]``) and whether it is a list."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) in (list, tuple):
        return typing.get_args(hint)[0], True
    return hint, False


def _value(value: Any, hint: Any) -> Any:
    inner, many = _inner(hint)
    if many:
        return list(value) if value else None
    if inner is bytes and value is not None:
        return value.read()
    return value


def _output(method: Method[Any, Any], result: Any) -> dict[str, Any]:
    if is_record(type(result)):
        return fields_of(result)
    return {method.result or "result": result}
