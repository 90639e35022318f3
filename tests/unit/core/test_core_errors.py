"""The factory's one exception tree: context keeps the class, and every class is in the drawn tree."""

from __future__ import annotations

import re

import pytest

import canister_factory.api.errors
import canister_factory.client
import canister_factory.ic.edge
import canister_factory.ports
import canister_factory.service.factory
import canister_factory.store.db
from canister_factory._core import errors
from canister_factory._core.errors import CreationAbandoned, FactoryError, IcReject, InvalidArgument
from canister_factory.ports import CyclesLedgerError

LOADED = (canister_factory.api.errors, canister_factory.client, canister_factory.ic.edge, canister_factory.ports,
          canister_factory.service.factory, canister_factory.store.db)  # fmt: skip


def _all_classes() -> set[type[FactoryError]]:
    found: set[type[FactoryError]] = set()
    stack: list[type[FactoryError]] = [FactoryError]
    while stack:
        cls = stack.pop()
        if cls not in found:
            found.add(cls)
            stack.extend(cls.__subclasses__())
    return found


def _drawn_parents() -> dict[str, str | None]:
    """Each class name in the docstring's tree, with the name it is drawn under (None for the root)."""
    doc = errors.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n")[1]
    parents: dict[str, str | None] = {}
    open_at: dict[int, str] = {}  # column -> the last name drawn there
    for line in block.splitlines():
        found = re.match(r"^([ │├└─]*)([A-Z]\w+)", line)
        assert found, line
        column, name = len(found.group(1)), found.group(2)
        parents[name] = open_at.get(column - 4)
        open_at[column] = name
    return parents


def test_every_error_class_is_drawn_in_the_tree_under_its_parent() -> None:
    assert LOADED  # the modules that define subclasses are imported
    parents = _drawn_parents()
    assert parents["FactoryError"] is None
    for cls in _all_classes():
        if cls is FactoryError or not cls.__module__.startswith("canister_factory"):
            continue
        assert cls.__name__ in parents, f"{cls.__name__} ({cls.__module__}) is not in _core/errors.py's tree"
        assert parents[cls.__name__] == cls.__bases__[0].__name__, (
            f"{cls.__name__} is drawn under the wrong parent"
        )


@pytest.mark.parametrize(
    "error",
    [
        IcReject(5, "injected", "IC0503"),
        CyclesLedgerError("InsufficientFunds", {"balance": 3}),
        CreationAbandoned("creation 4 failed", 4),
        InvalidArgument("cycles: too few"),
    ],
)
def test_context_keeps_the_class_the_attributes_and_the_code(error: FactoryError) -> None:
    with pytest.raises(type(error)) as caught:
        try:
            raise error
        except FactoryError as exc:
            raise exc.with_context("step failed") from exc
    raised = caught.value
    assert type(raised) is type(error) and raised is not error
    assert raised.code == error.code and raised.__cause__ is error
    assert str(raised).endswith(str(error).split(": ", 1)[-1]) and "step failed: " in str(raised)
    assert str(raised) == raised.message == raised.args[0]
    for name, value in vars(error).items():
        if name not in ("message", "reject_message"):
            assert getattr(raised, name) == value
    assert str(error).count("step failed") == 0  # the original is untouched


def test_an_ic_rejects_context_goes_into_its_reject_message() -> None:
    raised = IcReject(5, "injected", "IC0503").with_context("install_code failed")
    assert raised.reject_message == "install_code failed: injected"
    assert str(raised) == "IC reject 5 (IC0503): install_code failed: injected"
    assert (raised.reject_code, raised.error_code) == (5, "IC0503")
