"""The agent's protocol paths against the front: v2 fallback and polling, safe retries, query signatures,
metadata in the state tree."""

from __future__ import annotations

from collections.abc import Iterator

import cbor2
import httpx
import pytest

from canister_factory._core.errors import IcReject
from canister_factory.ic.edge import IcCertificateError
from canister_factory.ic.network import NetworkManagement
from canister_factory.ports import InstallMode
from icp_client import interfaces
from icp_client.agent import Agent, HttpRefused
from icp_client.candid import encode
from icp_client.envelope import build_envelope, encode_envelope
from icp_client.identity import Identity, generate_identity
from icp_client.principal import Principal
from icp_client.request_id import request_id
from icp_local import LocalIc
from icp_local.front import FrontOptions, RunningFront, generate_front_keys, running_front
from tests.support.wasm_modules import custom_section, minimal_module

T = 1_000_000_000_000
LEDGER = Principal.from_text("um5iw-rqaaa-aaaaq-qaaba-cai")


@pytest.fixture
def old_front(engine: LocalIc) -> Iterator[RunningFront]:
    with running_front(engine, generate_front_keys(), options=FrontOptions(call_versions=(2,))) as running:
        yield running


def _forwarding(
    front: RunningFront, edit: object = None, fail_first: list[str] | None = None
) -> httpx.MockTransport:
    """A transport that forwards to the front; ``fail_first`` paths lose their first request's reply."""
    lost = set(fail_first or [])

    def handler(request: httpx.Request) -> httpx.Response:
        with httpx.Client() as client:
            forwarded = client.request(
                request.method, str(request.url), content=request.content, headers=dict(request.headers)
            )
        for fragment in list(lost):
            if fragment in request.url.path:
                lost.discard(fragment)
                raise httpx.ReadTimeout("reply lost", request=request)
        body = (
            edit(forwarded.content) if callable(edit) and forwarded.status_code == 200 else forwarded.content
        )
        return httpx.Response(forwarded.status_code, content=body)

    return httpx.MockTransport(handler)


def test_calls_fall_back_to_v2_and_poll(old_front: RunningFront, identity: Identity, engine: LocalIc) -> None:
    engine.mint(identity.principal, 10 * T)
    with Agent(old_front.url, identity, old_front.root_key_der) as agent:
        network = NetworkManagement(agent, creation_fee=engine.config.creation_fee)
        created = network.create_canister(amount=2 * T, settings=None, created_at_time=engine.clock.now_ns())
        assert network.read_controllers(canister_id=created.canister_id) == (identity.principal,)
        with pytest.raises(IcReject) as excinfo:
            network.upload_chunk(canister_id=created.canister_id, chunk=b"x" * (1024 * 1024 + 1))
        assert (excinfo.value.reject_code, excinfo.value.error_code) == (5, "IC0504")


def test_a_lost_reply_is_retried_with_the_same_envelope(
    front: RunningFront, identity: Identity, engine: LocalIc
) -> None:
    transport = _forwarding(front, fail_first=["/call"])
    with Agent(front.url, identity, front.root_key_der, transport=transport) as agent:
        before = len(engine.list_canisters())
        NetworkManagement(agent, provisional=True).create_canister(amount=T, settings=None, created_at_time=0)
    assert len(engine.list_canisters()) == before + 1
    assert front.front.metrics.snapshot()["calls"] == 1


def test_query_signatures_are_checked(front: RunningFront, identity: Identity) -> None:
    with Agent(front.url, identity, front.root_key_der) as agent:
        assert NetworkManagement(agent).cycles_balance() == 0
        assert agent.subnet_for(LEDGER).subnet_id == front.front.subnet_id

    def forge(body: bytes) -> bytes:
        obj = dict(cbor2.loads(body))
        if "signatures" in obj:
            obj["reply"] = {"arg": b"DIDL\x00\x01}\x05"}  # nat 5 instead of the signed reply
        return bytes(cbor2.dumps(cbor2.CBORTag(55799, obj)))

    transport = _forwarding(front, forge)
    with (
        Agent(front.url, identity, front.root_key_der, transport=transport) as agent,
        pytest.raises(IcCertificateError),
    ):
        NetworkManagement(agent).cycles_balance()


def test_metadata_public_for_all_private_for_controllers(
    front: RunningFront, identity: Identity, engine: LocalIc
) -> None:
    module = (
        minimal_module()
        + custom_section("icp:public candid:service", b"service : {}")
        + custom_section("icp:private secret", b"hush")
    )
    with Agent(front.url, identity, front.root_key_der) as agent:
        network = NetworkManagement(agent, provisional=True)
        canister = network.create_canister(amount=T, settings=None, created_at_time=0).canister_id
        network.install_code(canister_id=canister, mode=InstallMode.INSTALL, wasm_module=module, arg=b"")
        public = [b"canister", canister.raw, b"metadata", b"candid:service"]
        private = [b"canister", canister.raw, b"metadata", b"secret"]
        cert = agent.read_state(canister, [public, private])
        assert cert.value(public) == b"service : {}"
        assert cert.value(private) == b"hush"
    with Agent(front.url, generate_identity(), front.root_key_der) as stranger:
        cert = stranger.read_state(canister, [public, private])
        assert cert.value(public) == b"service : {}"
        assert cert.value(private) is None


def test_request_status_is_only_for_its_sender(
    front: RunningFront, identity: Identity, engine: LocalIc
) -> None:
    func = interfaces.management().methods["provisional_create_canister_with_cycles"]
    content = {
        "request_type": "call",
        "sender": identity.principal.raw,
        "ingress_expiry": engine.clock.now_ns() + 60 * 10**9,
        "canister_id": b"",
        "method_name": "provisional_create_canister_with_cycles",
        "arg": encode(func.args, [{"amount": T}]),
    }
    ecid = Principal.from_canister_index(0)
    reply = httpx.post(
        f"{front.url}/api/v2/canister/{ecid.to_text()}/call",
        content=encode_envelope(build_envelope(content, identity)),
        headers={"content-type": "application/cbor"},
    )
    assert reply.status_code == 202
    path = [b"request_status", request_id(content), b"status"]
    with Agent(front.url, identity, front.root_key_der) as agent:
        assert agent.read_state(ecid, [path]).value(path) == b"replied"
    with (
        Agent(front.url, generate_identity(), front.root_key_der) as stranger,
        pytest.raises(HttpRefused) as excinfo,
    ):
        stranger.read_state(ecid, [path])
    assert excinfo.value.http_status == 403


def test_ecid_must_match_the_target(front: RunningFront, identity: Identity) -> None:
    with Agent(front.url, identity, front.root_key_der) as agent:
        network = NetworkManagement(agent, provisional=True)
        canister = network.create_canister(amount=T, settings=None, created_at_time=0).canister_id
        func = interfaces.management().methods["canister_status"]
        with pytest.raises(HttpRefused) as excinfo:
            agent.call(
                Principal(b""),
                "canister_status",
                encode(func.args, [{"canister_id": canister}]),
                effective_canister_id=LEDGER,
            )
        assert excinfo.value.http_status == 400
