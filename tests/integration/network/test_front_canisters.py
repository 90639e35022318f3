"""The front routes calls and queries to canisters: certified replies through our agent, the root key canisters
see, certified data in the state tree, and rejects with the replica's codes."""

from __future__ import annotations

import pytest

from icp_client.agent import Agent
from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.front import RunningFront
from tests.unit.local_ic.router.wat_canisters import CALLEE, RELAY, relay_arg


@pytest.fixture
def callee(engine: LocalIc) -> Principal:
    canister = engine.create_canister()
    engine.install_canister(canister, CALLEE)
    return canister


def test_calls_and_queries_reach_the_canister(agent: Agent, callee: Principal) -> None:
    assert agent.call(callee, "echo", b"over http") == b"over http"
    assert agent.call(callee, "count", b"") == b"\x01"
    assert agent.query(callee, "peek", b"") == b"\x01"


def test_rejects_keep_their_codes(agent: Agent, callee: Principal) -> None:
    with pytest.raises(Reject) as refused:
        agent.call(callee, "refuse", b"")
    assert (refused.value.reject_code, refused.value.error_code, refused.value.reject_message) == (
        4,
        "IC0406",
        "nope",
    )
    with pytest.raises(Reject) as trapped:
        agent.call(callee, "boom", b"")
    assert (trapped.value.reject_code, trapped.value.error_code) == (5, "IC0502")
    with pytest.raises(Reject) as missing:
        agent.query(callee, "nothing", b"")
    assert missing.value.error_code == "IC0536"


def test_canisters_see_the_fronts_root_key(agent: Agent, front: RunningFront, callee: Principal) -> None:
    assert agent.call(callee, "root_key", b"") == front.root_key_der


def test_certified_data_is_in_the_state_tree(agent: Agent, callee: Principal) -> None:
    agent.call(callee, "certify", b"\x07" * 32)
    path = [b"canister", callee.raw, b"certified_data"]
    assert agent.read_state(callee, [path]).value(path) == b"\x07" * 32


def test_a_call_between_canisters_over_http(agent: Agent, engine: LocalIc, callee: Principal) -> None:
    relay = engine.create_canister()
    engine.install_canister(relay, RELAY)
    answer = agent.call(relay, "relay", relay_arg(callee.raw, "echo"))
    assert answer[:5] == b"hello"
