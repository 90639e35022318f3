"""``bind(factory, caller)``: the facade as one caller sees it, built once from the table.

The facade (``service/factory.py``) takes the caller first; the HTTP client is bound to one caller by its key.
The CLI (in process or over ``--url``), the Candid dispatcher and the test backends all work with one caller's
view, so this is the one adapter between the two shapes.
"""

from __future__ import annotations

from typing import Any

from canister_factory.interface._method import Method
from canister_factory.interface._table import FactoryApi
from icp_client.principal import Principal


def invoke(
    facade: object, method: Method[Any, Any], caller: Principal | None, arguments: dict[str, Any]
) -> Any:
    """Call ``method`` on the facade: ``facade.<name>(caller, *arguments)``, without the caller when public."""
    function = getattr(facade, method.name)
    if method.auth.takes_caller:
        return function(caller, *arguments.values())
    return function(*arguments.values())


class _Bound(FactoryApi):
    def __init__(self, facade: object, caller: Principal) -> None:
        self._facade = facade
        self._caller = caller

    @property
    def principal(self) -> Principal:
        return self._caller

    def _invoke(self, method: Method[Any, Any], arguments: dict[str, Any]) -> Any:
        return invoke(self._facade, method, self._caller, arguments)

    def __repr__(self) -> str:
        return f"bind({self._facade!r}, {self._caller})"


def bind(facade: object, caller: Principal) -> FactoryApi:
    """``facade`` (a ``Factory``, or anything with its methods) as ``caller`` calls it."""
    return _Bound(facade, caller)
