"""Calls between canisters through the router, on hand-written 32-bit canisters: answers, rejects, traps,
callbacks and cleanup, cycles attached and refunded, size limits, and open calls when code is uninstalled."""

from __future__ import annotations

import hashlib
import os

import pytest

from icp_client import interfaces
from icp_client.candid import decode, encode
from icp_client.errors import Reject
from icp_client.management import CanisterSettings
from icp_client.principal import Principal
from icp_local import IngressTooLarge, LocalIc, execute, fees
from tests.unit.local_ic.router.conftest import T
from tests.unit.local_ic.router.wat_canisters import CALLEE, COMPOSITE, RELAY, forward_arg, relay_arg


@pytest.fixture
def callee(ic: LocalIc) -> Principal:
    canister = ic.create_canister()
    ic.install_canister(canister, CALLEE)
    return canister


@pytest.fixture
def relay(ic: LocalIc) -> Principal:
    canister = ic.create_canister()
    ic.install_canister(canister, RELAY)
    return canister


def reject(call: object, code: int, error_code: str | None, fragment: str = "") -> Reject:
    with pytest.raises(Reject) as info:
        call()  # type: ignore[operator]
    assert (info.value.reject_code, info.value.error_code) == (code, error_code), info.value
    assert fragment in info.value.reject_message, info.value.reject_message
    return info.value


def test_ingress_answers_from_a_32_bit_canister(ic: LocalIc, callee: Principal) -> None:
    assert ic.update_call(callee, "echo", b"abc") == b"abc"
    reject(lambda: ic.update_call(callee, "refuse"), 4, "IC0406", "nope")
    reject(
        lambda: ic.update_call(callee, "silent"), 5, "IC0506", f"Canister {callee} did not reply to the call"
    )
    reject(lambda: ic.update_call(callee, "boom"), 5, "IC0502", "Canister trapped: unreachable")


def test_a_reply_comes_back_to_the_callers_callback(ic: LocalIc, relay: Principal, callee: Principal) -> None:
    answer = ic.update_call(relay, "relay", relay_arg(callee.raw, "echo"))
    assert answer[:5] == b"hello"
    assert int.from_bytes(answer[5:], "little") == 1000  # echo accepts nothing: every cycle comes back


def test_cycles_accepted_move_and_the_rest_are_refunded(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    relay_before, callee_before = ic.get_cycles_balance(relay), ic.get_cycles_balance(callee)
    answer = ic.update_call(relay, "relay", relay_arg(callee.raw, "take_half"))
    assert int.from_bytes(answer, "little") == 500
    # the callee keeps the 500 it accepted and pays its execution (the base fee and a few instructions)
    callee_paid = 500 - (ic.get_cycles_balance(callee) - callee_before)
    assert fees.UPDATE_MESSAGE_FEE < callee_paid < fees.UPDATE_MESSAGE_FEE + 1_000
    # the relay pays the 500, the call's fee, the response's bytes and two executions (ingress and callback)
    relay_paid = relay_before - ic.get_cycles_balance(relay)
    floor = (
        500
        + fees.call_request("take_half", b"hello")
        + fees.ingress_induction("relay", b"")
        + 2 * fees.UPDATE_MESSAGE_FEE
    )
    assert floor < relay_paid < floor + 2_000_000


def test_rejects_and_traps_reach_the_reject_callback(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    refused = ic.update_call(relay, "relay", relay_arg(callee.raw, "refuse"))
    assert refused == b"R\x04nope"
    trapped = ic.update_call(relay, "relay", relay_arg(callee.raw, "boom"))
    assert trapped[:2] == b"R\x05" and b"Canister trapped: unreachable" in trapped
    missing = ic.update_call(relay, "relay", relay_arg(Principal.from_canister_index(4242).raw, "echo"))
    assert missing[:2] == b"R\x03" and b"not found" in missing
    no_method = ic.update_call(relay, "relay", relay_arg(callee.raw, "nothing"))
    assert no_method[:2] == b"R\x05" and b"has no update method 'nothing'" in no_method
    silent = ic.update_call(relay, "relay", relay_arg(callee.raw, "silent"))
    assert silent[:2] == b"R\x05" and b"did not reply" in silent


def test_a_trapping_callback_runs_the_cleanup_and_fails_the_call(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    reject(
        lambda: ic.update_call(relay, "relay_bad", relay_arg(callee.raw, "echo")), 5, "IC0502", "unreachable"
    )
    assert ic.query_call(relay, "cleaned") == bytes([77])


def test_a_call_whose_callbacks_never_answer_did_not_reply(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    reject(lambda: ic.update_call(relay, "relay_mute", relay_arg(callee.raw, "echo")), 5, "IC0506")


def test_the_management_canister_and_system_canisters_through_call(ic: LocalIc, callee: Principal) -> None:
    reject(
        lambda: ic.call(ic.sender, Principal(b""), "raw_rand", b"DIDL\x00\x00"), 4, "IC0406", "Only canisters"
    )
    reject(lambda: ic.call(ic.sender, Principal(b""), "no_such", b"DIDL\x00\x00"), 5, "IC0536")
    assert ic.call(ic.sender, callee, "echo", b"x") == b"x"


def test_message_size_limits(ic: LocalIc, callee: Principal) -> None:
    with pytest.raises(IngressTooLarge):
        ic.update_call(callee, "echo", bytes(2 * 1024 * 1024))
    reject(lambda: ic.update_call(callee, "big"), 5, "IC0504", "cannot be larger than 2097152")


def test_uninstall_answers_the_open_calls_and_drops_late_responses(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    ingress_id = os.urandom(32)
    with ic.router.write(None) as (tx, env):  # the first message only: the call to the callee stays queued
        assert (
            execute.ingress_update(
                tx, env, ic.sender, relay, "relay", relay_arg(callee.raw, "count"), ingress_id
            )
            is None
        )
    ic.uninstall_canister(relay)
    with ic.router.read(None) as (tx, _env):
        outcome = tx.exec.get_ingress(ingress_id)
    assert outcome is not None and outcome.status == "rejected" and outcome.reject_code == 4
    assert outcome.reject_message == f"Canister {relay} has been uninstalled."
    assert ic.drain() == 2  # the request runs on the callee; its response finds no callback and is dropped
    assert ic.query_call(callee, "peek") == b"\x01"
    with ic.router.read(None) as (tx, _env):
        assert tx.exec.queue_length() == 0 and tx.exec.contexts_of(relay) == []


def test_certified_data_is_stored_with_the_state(ic: LocalIc, callee: Principal) -> None:
    assert ic.read_certified_data(callee) == b""
    ic.update_call(callee, "certify", b"\x01" * 32)
    assert ic.read_certified_data(callee) == b"\x01" * 32
    reject(lambda: ic.update_call(callee, "certify", b"\x01" * 33), 5, "IC0504", "no larger than 32 bytes")
    assert ic.read_certified_data(callee) == b"\x01" * 32


def test_a_minimum_of_incoming_cycles_is_enforced_for_canisters(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    ic.update_settings(ic.sender, callee, CanisterSettings(minimum_incoming_canister_call_cycles=2000))
    refused = ic.update_call(relay, "relay", relay_arg(callee.raw, "echo"))
    assert refused[:2] == b"R\x05" and b"requires at least 2000 cycles attached" in refused
    assert ic.update_call(callee, "echo", b"ingress is not subject to it") == b"ingress is not subject to it"


def test_a_composite_query_calls_another_canisters_query(ic: LocalIc, callee: Principal) -> None:
    asker = ic.create_canister()
    ic.install_canister(asker, COMPOSITE)
    ic.update_call(callee, "count")
    ic.update_call(callee, "count")
    assert ic.query_call(asker, "ask", callee.raw) == b"\x02"
    assert ic.query_call(asker, "ask_update", callee.raw) == b"R\x05"  # "count" is no query
    assert ic.query_call(asker, "ask_self") == b"R\x05"  # a call back into the graph
    reject(lambda: ic.update_call(asker, "ask", callee.raw), 5, "IC0536", "has no update method 'ask'")
    assert ic.query_call(callee, "peek") == b"\x02", "the composite query changed nothing"


def test_a_canister_creates_a_canister_and_installs_code_on_it(ic: LocalIc, relay: Principal) -> None:
    management = interfaces.management()
    create = management.methods["create_canister"]
    arg = encode(create.args, [{"settings": None, "sender_canister_version": None}])
    reply = ic.update_call(relay, "forward", forward_arg(b"", "create_canister", arg, cycles=2 * T))
    (created,) = decode(reply[:-16], create.results)
    child = created["canister_id"]
    assert int.from_bytes(reply[-16:], "little") == 0, "create_canister consumes the cycles attached"
    assert ic.read_controllers(child) == (relay,)
    assert ic.get_cycles_balance(child) == 2 * T - ic.config.creation_fee
    install = management.methods["install_code"]
    install_arg = {
        "mode": {"install": None},
        "canister_id": child,
        "wasm_module": CALLEE,
        "arg": b"",
        "sender_canister_version": None,
    }
    ic.update_call(relay, "forward", forward_arg(b"", "install_code", encode(install.args, [install_arg])))
    assert ic.update_call(child, "echo", b"born of a canister") == b"born of a canister"
    status = management.methods["canister_status"]
    reply = ic.update_call(
        relay, "forward", forward_arg(b"", "canister_status", encode(status.args, [{"canister_id": child}]))
    )
    (report,) = decode(reply[:-16], status.results)
    assert report["module_hash"] == hashlib.sha256(CALLEE).digest() and report["settings"]["controllers"] == [
        relay
    ]


def test_management_rejects_reach_the_calling_canister(
    ic: LocalIc, relay: Principal, callee: Principal
) -> None:
    status = interfaces.management().methods["canister_status"]
    arg = encode(status.args, [{"canister_id": callee}])  # the relay does not control the callee
    refused = ic.update_call(relay, "forward", forward_arg(b"", "canister_status", arg))
    assert refused[:2] == b"R\x05" and b"Only the controllers" in refused
    nothing = ic.update_call(relay, "forward", forward_arg(b"", "sign_with_ecdsa", b"DIDL\x00\x00"))
    assert nothing[:2] == b"R\x05" and b"has no method 'sign_with_ecdsa'" in nothing
    garbled = ic.update_call(relay, "forward", forward_arg(b"", "canister_status", b"not candid"))
    assert garbled[:2] == b"R\x05" and b"Failed to decode" in garbled


def test_a_chain_of_three_canisters(ic: LocalIc, relay: Principal, callee: Principal) -> None:
    middle = ic.create_canister()
    ic.install_canister(middle, RELAY)
    # relay -> middle.relay -> callee.echo: the middle's call context waits on its own call
    answer = ic.update_call(relay, "forward", forward_arg(middle.raw, "relay", relay_arg(callee.raw, "echo")))
    inner = answer[:-16]  # what the middle replied: the callee's answer and the middle's refund
    assert inner[:5] == b"hello" and int.from_bytes(inner[5:], "little") == 1000
    with ic.router.read(None) as (tx, _env):
        assert tx.exec.contexts_of(middle) == [] and tx.exec.queue_length() == 0
