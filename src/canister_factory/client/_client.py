"""``FactoryClient``: the factory's methods over HTTP, each request signed with the caller's IC key."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from canister_factory import auth
from canister_factory._core import errors
from canister_factory._core.config import MAX_CHUNK_SIZE
from canister_factory._core.errors import FactoryError, FactoryFault, IcReject
from canister_factory.client import wire
from canister_factory.interface import FactoryApi, Method
from icp_client.errors import InvalidInput
from icp_client.identity import AnonymousIdentity, Identity
from icp_client.principal import Principal


class ServiceUnreachable(FactoryFault):
    """The factory's HTTP service could not be reached or gave no usable answer."""

    code = "service_unreachable"


@dataclass(frozen=True, slots=True)
class Uploaded:
    """What :meth:`FactoryClient.upload` returns: the committed upload and its module's hash."""

    upload_id: int
    sha256_hex: str
    total_len: int


def _error_classes() -> dict[str, type[FactoryError]]:
    found: dict[str, type[FactoryError]] = {}
    stack: list[type[FactoryError]] = [FactoryError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.code, cls)
        stack.extend(cls.__subclasses__())
    return found


_BY_STATUS: dict[int, type[FactoryError]] = {502: errors.IcError, 503: errors.FactoryFault}


def error_from_reply(status: int, body: Mapping[str, Any]) -> FactoryError:
    """The ``FactoryError`` that a reply's ``{"error", "code"}`` stands for (the same class the service raised)."""
    message = str(body.get("error", f"HTTP {status}"))
    code = str(body.get("code", ""))
    if code == IcReject.code and isinstance(body.get("reject_code"), int):
        return IcReject(int(body["reject_code"]), str(body.get("reject_message", "")), body.get("error_code"))
    cls = _error_classes().get(code)
    if cls is None or cls is IcReject:
        cls = _BY_STATUS.get(status, errors.CallerError if 400 <= status < 500 else FactoryError)
    # Some subclasses take other constructor arguments; the message is all the wire carries.
    error = cls.__new__(cls)
    FactoryError.__init__(error, message)
    return error


class FactoryClient(FactoryApi):
    """A signed HTTP client for one factory service and one caller identity.

    It has every method of the interface table (``canister_factory.interface.FactoryApi``: the facade's methods
    without the ``caller`` argument, the caller being ``identity``), built from the table's routes; it returns
    the same records and raises the same ``FactoryError`` subclasses as the facade.
    Use it as a context manager, or call :meth:`close`.

    ``identity`` is who the caller is: an ``Identity`` (``Identity.from_pem_file(path)``, say) or the path of a
    PEM file as dfx and icp-cli write them. A client without one is anonymous only when asked for with
    ``anonymous=True`` (the anonymous principal may only read public information).

    Every request is signed for the factory at ``url`` (its ``@authority``), so no other factory accepts it;
    ``authority`` overrides that when the factory's public name differs from the address used to reach it.

    Raises:
        InvalidArgument: ``url`` is not an absolute http(s) URL; ``identity`` is missing (and ``anonymous`` not
            asked for), not an identity or a path, or a file that holds no usable key.
    """

    def __init__(
        self,
        url: str,
        identity: Identity | str | os.PathLike[str] | None = None,
        *,
        anonymous: bool = False,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        authority: str | None = None,
    ) -> None:
        self.identity = _identity(identity, anonymous)
        try:
            self.authority = authority or auth.authority_of_url(url)
        except ValueError as exc:
            raise errors.InvalidArgument(f"factory URL: {exc}") from None
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)

    @property
    def principal(self) -> Principal:
        """The caller this client signs as."""
        return self.identity.principal

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FactoryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> Any:
        """Send one request (signed unless ``sign`` is False or the identity is anonymous); the reply's JSON.

        Raises:
            FactoryError: the service's error, as the class it raised; ``ServiceUnreachable`` when there is no
                usable answer.
        """
        request = self.build_request(
            method, path, json_body=json_body, content=content, params=params, sign=sign
        )
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(f"cannot reach the factory service at {request.url}: {exc}") from exc
        return _decode(response)

    def build_request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> httpx.Request:
        """The request as it will be sent, signed (tests use it to alter or replay requests)."""
        headers: dict[str, str] = {"Accept": "application/json"}
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif content is not None:
            headers["Content-Type"] = "application/octet-stream"
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        request = self._http.build_request(
            method, path, content=content or b"", headers=headers, params=clean
        )
        if sign and not self.identity.is_anonymous:
            raw_path, _, _ = request.url.raw_path.partition(b"?")
            signed = auth.sign_request(
                self.identity,
                method,
                self.authority,
                raw_path.decode("ascii"),
                request.url.query.decode("ascii"),
                content or b"",
                now_s=int(time.time()),
            )
            request.headers.update(signed)
        return request

    def send(self, request: httpx.Request) -> Any:
        """Send a request built by :meth:`build_request`; the reply's JSON (errors raised as above)."""
        try:
            return _decode(self._http.send(request))
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(f"cannot reach the factory service at {request.url}: {exc}") from exc

    # --- the table's methods ----------------------------------------------------------------------------------

    def _invoke(self, method: Method[Any, Any], arguments: dict[str, Any]) -> Any:
        """One table method over HTTP: the route that carries these arguments, signed unless public."""
        route = method.route_for(arguments)
        placement = method.placement(route)
        path = route.path.format(**{p: _path_segment(method, p, arguments[p]) for p in placement.path})
        params = {p: wire.to_json(arguments[p], method.hints[p]) for p in placement.query}
        json_body: Any = None
        if placement.record is not None:
            json_body = wire.to_json(arguments[placement.record], method.hints[placement.record])
        elif placement.fields:
            json_body = {p: wire.to_json(arguments[p], method.hints[p]) for p in placement.fields}
        content = None if placement.raw is None else bytes(arguments[placement.raw])
        reply = self.request(
            route.verb,
            path,
            json_body=json_body,
            content=content,
            params=params,
            sign=method.auth.takes_caller,
        )
        return _result(method, reply)

    # --- more than one call, or no caller's method ------------------------------------------------------------

    def upload(self, module: bytes | str | Path, *, chunk_size: int = MAX_CHUNK_SIZE) -> Uploaded:
        """Upload a whole module (bytes or a file path) in indexed chunks and commit it."""
        data = Path(module).read_bytes() if isinstance(module, str | Path) else bytes(module)
        upload_id = self.create_upload()
        total = 0
        for index, start in enumerate(range(0, max(len(data), 1), chunk_size)):
            total = self.put_chunk(upload_id, data[start : start + chunk_size], index)
        digest = self.commit_upload(upload_id, hashlib.sha256(data).hexdigest())
        return Uploaded(upload_id=upload_id, sha256_hex=digest, total_len=total)

    def reconcile(self) -> dict[str, int]:
        """Admin only: finish or undo the creations that a stopped process left unfinished; counts by outcome."""
        return {str(k): int(v) for k, v in self.request("POST", "/v1/admin/reconcile").items()}


def _identity(given: Identity | str | os.PathLike[str] | None, anonymous: bool) -> Identity:
    """The client's identity: the one given, loaded from a PEM path, or the anonymous one when asked for."""
    if given is None:
        if anonymous:
            return AnonymousIdentity()
        raise errors.InvalidArgument(
            "identity: give an Identity or the path of a PEM file (FactoryClient(url, 'alice.pem')), "
            "or anonymous=True for an unsigned client that may only read public information"
        )
    if anonymous and not (isinstance(given, Identity) and given.is_anonymous):
        raise errors.InvalidArgument("identity: give an identity or anonymous=True, not both")
    if isinstance(given, Identity):
        return given
    if isinstance(given, str | os.PathLike):
        try:
            return Identity.from_pem_file(given)
        except InvalidInput as exc:
            raise errors.InvalidArgument(f"identity: {exc}") from exc
    raise errors.InvalidArgument(
        f"identity: expected an Identity or the path of a PEM file, got {type(given).__name__}"
    )


def _path_segment(method: Method[Any, Any], param: str, value: Any) -> str:
    return str(wire.to_json(value, method.hints[param]))


def _result(method: Method[Any, Any], reply: Any) -> Any:
    if method.returns is type(None):
        return None
    if method.result is not None:
        return wire.from_json(reply[method.result], method.returns, method.result)
    return wire.from_json(reply, method.returns, method.name)


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204:
        return None
    try:
        body = response.json() if response.content else {}
    except ValueError as exc:
        if response.is_success:
            raise ServiceUnreachable(
                f"the service sent a reply that is not JSON ({response.status_code})"
            ) from exc
        body = {"error": response.text[:500] or f"HTTP {response.status_code}"}
    if response.is_success:
        return body
    raise error_from_reply(response.status_code, body if isinstance(body, dict) else {})
