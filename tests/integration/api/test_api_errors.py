"""Every error class reaches the client as itself, with the reference's message and the right HTTP status."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from canister_factory._core import errors
from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.api.errors import error_body, status_of
from canister_factory.client import FactoryClient, ServiceUnreachable, error_from_reply
from icp_client.identity import generate_identity
from icp_local.testing import faults_of
from tests.integration.api.conftest import Served, ServeFactory, T
from tests.integration.api.serving import COUNTER_ARG, free_port
from tests.support.wasm_modules import counter_wasm


def _all_error_classes() -> list[type[errors.FactoryError]]:
    found, stack = [], [errors.FactoryError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_survives_the_wire(cls: type[errors.FactoryError]) -> None:
    if issubclass(cls, errors.IcReject):
        exc: errors.FactoryError = errors.IcReject(5, "canister trapped", "IC0503")
    else:  # some subclasses take other arguments; the wire carries the message and the code
        exc = cls.__new__(cls)
        errors.FactoryError.__init__(exc, "some text")
    back = error_from_reply(status_of(exc), error_body(exc))
    assert isinstance(exc, type(back))
    assert back.code == exc.code
    if cls.__dict__.get("code"):  # a class with its own code comes back as itself
        assert type(back) is cls or cls.__module__.startswith("canister_factory.api")
    assert back.message == exc.message
    if isinstance(exc, errors.CallerError):
        assert 400 <= status_of(exc) < 500
    elif isinstance(exc, errors.FactoryFault):
        assert status_of(exc) == 503
    elif isinstance(exc, errors.IcError):
        assert status_of(exc) == 502


def _status(served: Served, method: str, path: str) -> tuple[int, dict[str, object]]:
    reply = httpx.request(method, served.url + path)
    return reply.status_code, reply.json()


def test_caller_errors_over_http(serve: ServeFactory) -> None:
    served = serve(InitArg(max_canisters_per_caller=1))
    owner, stranger = generate_identity(), generate_identity()
    with served.client(owner) as client, served.client(stranger) as other:
        with pytest.raises(errors.NotFound, match=r"^Upload not found$"):
            client.get_upload_info(999)
        with pytest.raises(errors.NotFound, match=r"^upload_id not found$"):
            client.put_chunk(999, b"x", 0)
        upload_id = client.create_upload()
        with pytest.raises(errors.PermissionDenied, match=r"^not owner$"):
            other.put_chunk(upload_id, b"x", 0)
        with pytest.raises(errors.PermissionDenied, match=r"^Admin access required$"):
            other.set_emergency_stop(True)
        client.put_chunk(upload_id, counter_wasm(), 0)
        with pytest.raises(errors.Conflict, match=r"^hash mismatch: expected"):
            client.commit_upload(upload_id, "00" * 32)
        client.commit_upload(upload_id, hashlib.sha256(counter_wasm()).hexdigest().upper())
        with pytest.raises(errors.Conflict, match=r"^upload already committed$"):
            client.put_chunk(upload_id, b"x", 1)
        request = CreateInstallRequest(upload_id, COUNTER_ARG, Mode.INSTALL, T, handoff=True)
        client.create_and_install_with(request)
        with pytest.raises(errors.LimitExceeded, match=r"^Per-caller canister limit reached: 1/1$"):
            client.create_and_install_with(request)
        with served.client(served.admin) as admin:
            admin.set_emergency_stop(True)
            with pytest.raises(errors.EmergencyStop, match=r"^Factory is in emergency stop mode$"):
                other.create_upload()
            admin.set_emergency_stop(False)
            admin.set_allowlist([owner.principal])
            with pytest.raises(errors.PermissionDenied, match=r"^Caller not in allowlist$"):
                other.create_upload()
            with pytest.raises(errors.Conflict, match=r"^Cannot remove the last admin$"):
                admin.remove_admin(served.admin.principal)


def test_http_statuses_and_body_shape(served: Served) -> None:
    with served.client() as client, httpx.Client() as http:
        raw = http.send(client.build_request("GET", "/v1/uploads/12345"))
        assert raw.status_code == 404
        assert raw.json() == {"error": "Upload not found", "code": "not_found"}
    status, body = _status(served, "POST", "/v1/uploads")
    assert (status, body["code"]) == (401, "unauthenticated")
    status, body = _status(served, "GET", "/v1/nowhere")
    assert (status, body["code"]) == (404, "not_found")


def test_invalid_json_is_invalid_argument(served: Served) -> None:
    with served.client() as client:
        for body in (
            {"upload_id": 1, "cycles": "-5"},
            {"upload_id": 1, "cycles": "1", "mode": "Bogus"},
            {"upload_id": 1, "cycles": "1", "init_arg": "zz"},
            {"cycles": "1", "surprise": 1},
        ):
            with pytest.raises(errors.InvalidArgument):
                client.request("POST", "/v1/canisters", json_body=body)


def test_insufficient_cycles_is_503(serve: ServeFactory) -> None:
    served = serve(fund=6 * T)
    with served.client() as client:
        uploaded = client.upload(counter_wasm())
        with pytest.raises(
            errors.InsufficientCycles,
            match=r"^Factory low on cycles: this request plus fees \(2000100000000\) would take the balance from "
            r"6000000000000 to 3999900000000, below the floor of 5000000000000 \(min_factory_cycles\)$",
        ):
            client.create_and_install_with(
                CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, 2 * T, handoff=True)
            )


def test_low_cycles_health_and_503(serve: ServeFactory) -> None:
    served = serve(fund=0)
    with httpx.Client() as http:
        reply = http.get(served.url + "/v1/health")
        assert reply.status_code == 200
        assert reply.json()["status"] == "Low cycles: 0 (min 5000000000000)"
    with served.client() as client, pytest.raises(errors.InsufficientCycles) as caught:
        client.upload(counter_wasm())
    assert caught.value.message.startswith("Factory low on cycles: the balance of 0 is not above the floor")


def test_ic_errors_are_502(served: Served) -> None:
    assert served.app.embedded is not None
    with served.client() as client:
        uploaded = client.upload(counter_wasm())
        request = CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, T, handoff=True)
        faults_of(served.app.embedded).reject("create_canister", 3, "subnet refused", "IC0301", times=10)
        with pytest.raises(errors.IcReject) as caught:
            client.create_and_install_with(request)
        assert (caught.value.reject_code, caught.value.error_code) == (3, "IC0301")
        assert "subnet refused" in caught.value.message
        faults_of(served.app.embedded).clear()
        faults_of(served.app.embedded).unavailable("create_canister", times=10)
        with pytest.raises(errors.IcError):
            client.create_and_install_with(request)
        faults_of(served.app.embedded).clear()


def test_unreachable_service() -> None:
    client = FactoryClient(f"http://127.0.0.1:{free_port()}", generate_identity())
    with client, pytest.raises(ServiceUnreachable):
        client.version()
