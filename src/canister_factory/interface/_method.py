"""What a row of the interface table is: :class:`Method`, its :class:`Auth` and its HTTP :class:`Route` s.

A method is declared once, as a decorated stub on :class:`~canister_factory.interface.FactoryApi`::

    @method(Auth.CALLER, post("/v1/uploads/{upload_id}/commit"), result="sha256_hex")
    def commit_upload(self, upload_id: int, expected_sha256_hex: str) -> str:
        \"\"\"Commit an upload if its bytes hash to ``expected_sha256_hex``; returns the hash.\"\"\"

The stub's signature gives the Python types (as one caller sees the method: no caller argument), its docstring
the description; the decorator adds who may call it, how HTTP serves it, the JSON key of a single-valued result
and the CLI command's name. The Candid types and the query/update kind come from ``factory.did``. Accessed on
an instance of an :class:`Interface` subclass (the HTTP client, a caller-bound factory), the attribute is a
typed callable that hands the call to the instance's ``_invoke``, as an agent-js actor hands its calls to
its agent.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from icp_client.principal import Principal

P = ParamSpec("P")
R = TypeVar("R")


class Auth(enum.Enum):
    """Who may call a method."""

    PUBLIC = "public"
    """Anyone, unsigned (the anonymous principal); the facade's method takes no caller."""
    CALLER = "caller"
    """A signed caller, passed first to the facade's method (allowlist, emergency stop and ownership apply)."""
    ADMIN = "admin"
    """A signed caller who must be an admin (the use case checks it); the caller is passed first too."""

    @property
    def takes_caller(self) -> bool:
        return self is not Auth.PUBLIC


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """How the HTTP face serves a method: ``verb`` and ``path`` (a template: ``{upload_id}``).

    Where each parameter travels follows from the route: those named in the path come from the path; ``raw``
    names the one sent as the raw body (``application/octet-stream``; the others must then be optional, and are
    left out); a method whose only parameter (outside the path) is a record takes that record as the whole JSON
    body; otherwise the parameters are the query (``GET``) or the JSON body's fields, named like them.
    A client picks the first route of a method whose path parameters all have values.
    """

    verb: str
    path: str
    raw: str | None = None
    summary: str | None = None
    """The OpenAPI summary; the method's name by default."""
    name: str | None = None
    """The route's name (OpenAPI operation ids start with it); the method's name by default."""

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))


def get(path: str, **options: Any) -> Route:
    return Route("GET", path, **options)


def post(path: str, **options: Any) -> Route:
    return Route("POST", path, **options)


def put(path: str, **options: Any) -> Route:
    return Route("PUT", path, **options)


def delete(path: str, **options: Any) -> Route:
    return Route("DELETE", path, **options)


@dataclasses.dataclass(frozen=True, slots=True)
class Placement:
    """Where a route carries each parameter of its method (see :class:`Route`)."""

    path: tuple[str, ...]
    query: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    """JSON body fields, named like the parameters."""
    record: str | None = None
    """The parameter that is the whole JSON body."""
    raw: str | None = None
    omitted: tuple[str, ...] = ()
    """Optional parameters this route does not carry (they keep their default)."""


class Method(Generic[P, R]):
    """One method of the factory's interface (a row of the table); see the module's docstring."""

    def __init__(
        self,
        stub: Callable[Concatenate[Any, P], R],
        auth: Auth,
        routes: tuple[Route, ...],
        result: str | None = None,
        cli: str | None = None,
    ) -> None:
        self.stub = stub
        self.name: str = stub.__name__
        self.auth = auth
        self.routes = routes
        self.result = result
        """The JSON key of a single-valued result (HTTP replies, CLI output); None for records and nothing."""
        self.cli = cli or self.name.replace("_", "-")
        self.doc = inspect.getdoc(stub) or ""

    def __repr__(self) -> str:
        return f"<Method {self.name}>"

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        """The method's Python signature as one caller sees it (no ``self``, no caller)."""
        full = inspect.signature(self.stub)
        return full.replace(parameters=list(full.parameters.values())[1:])

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(self.signature.parameters)

    @functools.cached_property
    def hints(self) -> dict[str, Any]:
        """The parameters' types by name, and the result's under ``"return"``."""
        return typing.get_type_hints(self.stub)

    @property
    def returns(self) -> Any:
        return self.hints["return"]

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments of one call by parameter name, in order, defaults applied.

        Raises:
            TypeError: they do not fit the signature.
        """
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    def placement(self, route: Route) -> Placement:
        """Where ``route`` carries each of this method's parameters."""
        rest = [p for p in self.params if p not in route.path_params]
        if route.raw is not None:
            return Placement(
                route.path_params, raw=route.raw, omitted=tuple(p for p in rest if p != route.raw)
            )
        if route.verb == "GET":
            return Placement(route.path_params, query=tuple(rest))
        if len(rest) == 1 and is_record(self.hints[rest[0]]):
            return Placement(route.path_params, record=rest[0])
        return Placement(route.path_params, fields=tuple(rest))

    def route_for(self, arguments: dict[str, Any]) -> Route:
        """The first route whose path parameters all have values in ``arguments``."""
        for route in self.routes:
            if all(arguments.get(p) is not None for p in route.path_params):
                return route
        raise TypeError(f"{self.name}: no route carries these arguments: {sorted(arguments)}")

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Method[P, R]: ...
    @overload
    def __get__(self, instance: Interface, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, instance: Interface | None, owner: type[Any]) -> Method[P, R] | Callable[P, R]:
        if instance is None:
            return self
        return _bound_call(self, instance)


def _bound_call(method: Method[P, R], instance: Interface) -> Callable[P, R]:
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        result: R = instance._invoke(method, method.bind(args, kwargs))
        return result

    call.__name__ = call.__qualname__ = method.name
    call.__doc__ = method.doc
    call.__signature__ = method.signature  # type: ignore[attr-defined]
    return call


def method(
    auth: Auth, *routes: Route, result: str | None = None, cli: str | None = None
) -> Callable[[Callable[Concatenate[Any, P], R]], Method[P, R]]:
    """Declare a method of the interface table (see the module's docstring)."""

    def declare(stub: Callable[Concatenate[Any, P], R]) -> Method[P, R]:
        return Method(stub, auth, routes, result, cli)

    return declare


class Interface:
    """A face that serves the table's methods for one caller: subclasses implement :meth:`_invoke`."""

    @property
    def principal(self) -> Principal:
        """The caller whose calls these are."""
        raise NotImplementedError

    def _invoke(self, method: Method[Any, Any], arguments: dict[str, Any]) -> Any:
        """Run ``method`` with ``arguments`` (by parameter name, in order, defaults applied)."""
        raise NotImplementedError


def methods_of(table: type[Interface]) -> tuple[Method[Any, Any], ...]:
    """The methods declared on ``table`` (and its bases), in the order of declaration."""
    found: dict[str, Method[Any, Any]] = {}
    for cls in reversed(table.__mro__):
        for name, value in vars(cls).items():
            if isinstance(value, Method):
                found[name] = value
    return tuple(found.values())


def is_record(hint: Any) -> bool:
    """Whether ``hint`` is one of the interface's records: a dataclass of the factory's model (``Principal``,
    a dataclass too, is a value)."""
    return isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint is not Principal
