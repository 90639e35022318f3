"""The network backend against the embedded IC's HTTP front, over loopback HTTP, certificates verified."""

from __future__ import annotations

import hashlib

import cbor2
import httpx
import pytest

from canister_factory._core.errors import IcReject
from canister_factory.ic.edge import IcCertificateError
from canister_factory.ic.network import NetworkManagement
from canister_factory.ports import CanisterRunStatus, CanisterSettings, InstallMode
from icp_client import interfaces
from icp_client.agent import Agent
from icp_client.candid import encode
from icp_client.envelope import build_envelope, encode_envelope
from icp_client.identity import Identity, generate_identity
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.front import RunningFront, generate_front_keys
from tests.support.wasm_modules import counter_wasm, large_module

COUNTER_ARG = bytes.fromhex("4449444c00017d2a")  # (42 : nat)

T = 1_000_000_000_000
MIB = 1024 * 1024


def _create(
    network: NetworkManagement, created_at_time: int, controllers: tuple[Principal, ...] | None = None
):
    settings = CanisterSettings(controllers=controllers) if controllers else None
    return network.create_canister(
        amount=network.creation_fee() + T, settings=settings, created_at_time=created_at_time
    )


def test_status_serves_the_root_key(agent: Agent, front: RunningFront) -> None:
    status = agent.status()
    assert status["root_key"] == front.root_key_der
    assert status["replica_health_status"] == "healthy"
    assert agent.fetch_root_key() == front.root_key_der


def test_create_through_the_cycles_ledger_deduplicates_a_retry(
    network: NetworkManagement, engine: LocalIc
) -> None:
    before = network.cycles_balance()
    at = engine.clock.now_ns()
    first = _create(network, at)
    again = _create(network, at)
    assert not first.duplicate and again.duplicate
    assert again.canister_id == first.canister_id
    fee = network.ledger_fee()
    assert network.cycles_balance() == before - (network.creation_fee() + T) - fee
    assert engine.canister_exists(first.canister_id)


def test_small_and_chunked_install_settings_and_status(network: NetworkManagement, engine: LocalIc) -> None:
    canister = _create(network, engine.clock.now_ns()).canister_id
    network.install_code(
        canister_id=canister, mode=InstallMode.INSTALL, wasm_module=counter_wasm(), arg=COUNTER_ARG
    )
    assert network.read_module_hash(canister_id=canister) == hashlib.sha256(counter_wasm()).digest()

    module = large_module(3 * MIB, seed=7)
    pieces = [module[i : i + MIB] for i in range(0, len(module), MIB)]
    hashes = [network.upload_chunk(canister_id=canister, chunk=piece) for piece in pieces]
    assert hashes == [hashlib.sha256(p).digest() for p in pieces]
    assert network.stored_chunks(canister_id=canister) == hashes
    network.install_chunked_code(
        target_canister=canister,
        store_canister=None,
        chunk_hashes=hashes,
        wasm_module_hash=hashlib.sha256(module).digest(),
        mode=InstallMode.REINSTALL,
        arg=b"",
    )
    network.clear_chunk_store(canister_id=canister)
    assert network.stored_chunks(canister_id=canister) == []

    other = generate_identity().principal
    network.update_settings(
        canister_id=canister, settings=CanisterSettings(controllers=(network.sender, other))
    )
    status = network.canister_status(canister_id=canister)
    assert status.status is CanisterRunStatus.RUNNING
    assert set(status.controllers) == {network.sender, other}
    assert status.module_hash == hashlib.sha256(module).digest()
    assert set(network.read_controllers(canister_id=canister)) == {network.sender, other}
    assert network.read_module_hash(canister_id=canister) == hashlib.sha256(module).digest()

    network.stop_canister(canister_id=canister)
    assert network.canister_status(canister_id=canister).status is CanisterRunStatus.STOPPED
    network.delete_canister(canister_id=canister)
    assert not engine.canister_exists(canister)


def test_rejects_come_back_with_their_codes(network: NetworkManagement, engine: LocalIc) -> None:
    canister = _create(network, engine.clock.now_ns()).canister_id
    network.install_code(
        canister_id=canister, mode=InstallMode.INSTALL, wasm_module=counter_wasm(), arg=COUNTER_ARG
    )
    with pytest.raises(IcReject) as excinfo:
        network.install_code(
            canister_id=canister, mode=InstallMode.INSTALL, wasm_module=counter_wasm(), arg=b""
        )
    assert (excinfo.value.reject_code, excinfo.value.error_code) == (5, "IC0514")

    stranger = generate_identity().principal
    network.update_settings(canister_id=canister, settings=CanisterSettings(controllers=(stranger,)))
    with pytest.raises(IcReject) as excinfo:
        network.canister_status(canister_id=canister)
    assert (excinfo.value.reject_code, excinfo.value.error_code) == (5, "IC0512")

    missing = Principal.from_canister_index(engine.config.last_index)
    with pytest.raises(IcReject) as excinfo:
        network.canister_status(canister_id=missing)
    assert excinfo.value.reject_code == 3


def test_withdraw_tops_up_a_canister(network: NetworkManagement, engine: LocalIc) -> None:
    canister = _create(network, engine.clock.now_ns()).canister_id
    before = network.canister_status(canister_id=canister).cycles
    at = engine.clock.now_ns()
    block = network.withdraw(amount=T, to=canister, created_at_time=at)
    assert network.withdraw(amount=T, to=canister, created_at_time=at) == block
    assert network.canister_status(canister_id=canister).cycles == before + T


def test_dev_mint_funds_the_account(network: NetworkManagement) -> None:
    before = network.cycles_balance()
    assert network.dev_mint(5 * T) == before + 5 * T


def test_provisional_creation(agent: Agent) -> None:
    network = NetworkManagement(agent, provisional=True)
    created = network.create_canister(amount=3 * T, settings=None, created_at_time=0)
    assert network.canister_status(canister_id=created.canister_id).cycles == 3 * T
    assert network.read_controllers(canister_id=created.canister_id) == (agent.sender,)


def test_a_certificate_under_another_root_key_is_rejected(front: RunningFront, identity: Identity) -> None:
    wrong_key = generate_front_keys().root_key_der
    with Agent(front.url, identity, wrong_key, timeout=10) as agent:
        network = NetworkManagement(agent)
        with pytest.raises(IcCertificateError):
            network.read_controllers(canister_id=Principal.from_text("um5iw-rqaaa-aaaaq-qaaba-cai"))
        with pytest.raises(IcCertificateError):
            network.cycles_balance()


def test_a_tampered_certificate_is_rejected(front: RunningFront, identity: Identity) -> None:
    def tamper(request: httpx.Request) -> httpx.Response:
        with httpx.Client() as client:
            forwarded = client.request(
                request.method,
                str(request.url),
                content=request.content,
                headers={"content-type": "application/cbor"},
            )
        body = forwarded.content
        if b"certificate" in body:
            # Flip one bit of the certificate's BLS signature.
            value = dict(cbor2.loads(body))
            inner = dict(cbor2.loads(value["certificate"]))
            inner["signature"] = inner["signature"][:-1] + bytes([inner["signature"][-1] ^ 1])
            value["certificate"] = cbor2.dumps(cbor2.CBORTag(55799, inner))
            body = cbor2.dumps(cbor2.CBORTag(55799, value))
        return httpx.Response(forwarded.status_code, content=body)

    transport = httpx.MockTransport(tamper)
    with (
        Agent(front.url, identity, front.root_key_der, transport=transport) as agent,
        pytest.raises(IcCertificateError),
    ):
        NetworkManagement(agent).read_module_hash(
            canister_id=Principal.from_text("um5iw-rqaaa-aaaaq-qaaba-cai")
        )


def test_resending_the_same_envelope_does_not_run_the_call_twice(
    front: RunningFront, network: NetworkManagement, engine: LocalIc
) -> None:
    func = interfaces.management().methods["provisional_create_canister_with_cycles"]
    arg = encode(func.args, [{"amount": T}])
    content = {
        "request_type": "call",
        "sender": network.sender.raw,
        "ingress_expiry": engine.clock.now_ns() + 60 * 10**9,
        "canister_id": b"",
        "method_name": "provisional_create_canister_with_cycles",
        "arg": arg,
    }
    body = encode_envelope(build_envelope(content, network.agent.identity))
    before = len(engine.list_canisters())
    url = f"{front.url}/api/v4/canister/rwlgt-iiaaa-aaaaa-aaaaa-cai/call"
    replies = [httpx.post(url, content=body, headers={"content-type": "application/cbor"}) for _ in range(2)]
    assert [r.status_code for r in replies] == [200, 200]
    assert len(engine.list_canisters()) == before + 1
