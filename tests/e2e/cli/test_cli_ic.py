"""``canister-factory ic call`` on the state folder's embedded IC, and ``demo`` calling the counter it created."""

from __future__ import annotations

import pytest

from icp_client.principal import Principal
from icp_local import LocalIc
from tests.support.factory import Cli
from tests.support.wasm_modules import counter_wasm
from tests.unit.local_ic.router.wat_canisters import CALLEE

EXIT_IC = 4


@pytest.fixture
def canisters(deployed: Cli) -> tuple[Principal, Principal]:
    """The counter (init 10) and a canister without metadata, on the state folder's embedded IC."""
    ic = LocalIc.for_state_dir(deployed.state)
    try:
        counter, bare = ic.create_canister(), ic.create_canister()
        ic.install_canister(counter, counter_wasm(), bytes.fromhex("4449444c00017d0a"))
        ic.install_canister(bare, CALLEE)
    finally:
        ic.close()
    return counter, bare


def test_calls_typed_by_the_canisters_metadata(deployed: Cli, canisters: tuple[Principal, Principal]) -> None:
    counter, _bare = canisters
    assert deployed.ok("ic", "call", counter.to_text(), "inc", "(5)") == [15]
    assert deployed.ok("ic", "call", counter.to_text(), "get", "--query") == [15]
    plain = deployed.run("ic", "call", counter.to_text(), "get", as_json=False)
    assert plain.exit_code == 0 and plain.stdout.strip() == "(15)"
    whoami = deployed.ok("ic", "call", counter.to_text(), "whoami", who=deployed.alice)
    assert whoami == [deployed.alice.principal]


def test_rejects_are_ic_errors(deployed: Cli, canisters: tuple[Principal, Principal]) -> None:
    counter, _bare = canisters
    code, _out, stderr = deployed.fails("ic", "call", counter.to_text(), "nope")
    assert code == EXIT_IC and "IC0536" in stderr
    code, _out, stderr = deployed.fails("ic", "call", counter.to_text(), "inc", '("five")')
    assert code == 1 and "args:" in stderr


def test_a_canister_without_metadata_takes_bytes(
    deployed: Cli, canisters: tuple[Principal, Principal]
) -> None:
    _counter, bare = canisters
    code, _out, stderr = deployed.fails("ic", "call", bare.to_text(), "echo", "(1)")
    assert code == 1 and "--arg-hex" in stderr
    assert deployed.ok("ic", "call", bare.to_text(), "echo", "--arg-hex", "4449444c0000") == []


def test_demo_calls_the_counter(cli_env: Cli) -> None:
    out = cli_env.ok("demo")
    assert out["calls"] == {"inc": "(47)", "get": "(47)"}
    plain = cli_env.run("demo", as_json=False)
    assert "alice called it: inc(5) replied (47), then get replied (47)" in plain.stdout
