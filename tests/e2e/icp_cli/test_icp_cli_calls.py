"""icp-cli 1.5.0 calls canisters on the local IC's front as on a replica (issue 11's done-when list):
update, query and whoami calls; a trap rolls back; an upgrade keeps the state and runs the hooks; a trap in
init, a wrongly typed init argument or a trapping post-upgrade hook fails the install and leaves the canister as
it was; a canister calls another; ``canister delete`` recovers the cycles and deletes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from icp_client.principal import Principal
from icp_local import LocalIc
from tests.e2e.icp_cli.conftest import ROOT, Icp

T = 1_000_000_000_000
COUNTER = ROOT / "src" / "canister_factory" / "_data" / "counter.wasm"
PROBE = ROOT / "examples" / "exec_probe" / "probe.wasm"


def _canister(icp: Icp, engine: LocalIc, wasm: Path | None = None, args: str = "(0 : nat)") -> Principal:
    """A canister the icp-cli identity controls, with ``wasm`` installed by icp-cli."""
    canister = engine.create_canister(sender=icp.identity.principal, cycles=10 * T)
    if wasm is not None:
        icp.run("canister", "install", canister.to_text(), "--wasm", str(wasm), "--args", args, "-y")
    return canister


def _call(icp: Icp, canister: Principal, method: str, args: str = "()", *extra: str) -> str:
    return icp.run("canister", "call", canister.to_text(), method, args, *extra).stdout.strip()


def _refused(icp: Icp, *args: str) -> str:
    done = icp.run(*args, check=False)
    assert done.returncode != 0, done.stdout
    return done.stdout + done.stderr


def test_update_query_and_whoami(icp: Icp, engine: LocalIc) -> None:
    counter = _canister(icp, engine, COUNTER, "(10 : nat)")
    assert _call(icp, counter, "inc", "(5 : nat)") == "(15 : nat)"
    assert _call(icp, counter, "get", "()", "--query") == "(15 : nat)"
    assert _call(icp, counter, "whoami") == f'(principal "{icp.identity.principal}")'


def test_a_trap_rolls_back(icp: Icp, engine: LocalIc) -> None:
    probe = _canister(icp, engine, PROBE)
    assert _call(icp, probe, "set", "(3 : nat)") == "(3 : nat)"
    out = _refused(icp, "canister", "call", probe.to_text(), "set_then_trap", "(9 : nat)")
    assert "IC0503" in out and "set_then_trap: rolled back" in out
    assert _call(icp, probe, "get") == "(3 : nat)"


def test_an_upgrade_keeps_the_state_and_runs_the_hooks(icp: Icp, engine: LocalIc) -> None:
    probe = _canister(icp, engine, PROBE)
    _call(icp, probe, "set", "(21 : nat)")
    icp.run(
        "canister",
        "install",
        probe.to_text(),
        "--wasm",
        str(PROBE),
        "--args",
        "(0 : nat)",
        "--mode",
        "upgrade",
        "-y",
    )
    assert _call(icp, probe, "get") == "(21 : nat)"
    assert _call(icp, probe, "hooks") == "(1 : nat, 1 : nat)"


@pytest.mark.parametrize(
    ("args", "fragment"), [("(1 : nat)", "init refused: mode 1"), ('("seven")', "IDL error")]
)
def test_a_failed_init_leaves_the_canister_empty(icp: Icp, engine: LocalIc, args: str, fragment: str) -> None:
    canister = _canister(icp, engine)
    out = _refused(icp, "canister", "install", canister.to_text(), "--wasm", str(PROBE), "--args", args, "-y")
    assert "IC0503" in out and fragment in out
    assert engine.read_module_hash(canister) is None
    status = icp.run("canister", "status", canister.to_text()).stdout
    assert re.search(r"Module hash: <none>", status), status


def test_a_trapping_post_upgrade_leaves_the_old_module_answering(icp: Icp, engine: LocalIc) -> None:
    probe = _canister(icp, engine, PROBE)
    _call(icp, probe, "set", "(4 : nat)")
    before = engine.read_module_hash(probe)
    out = _refused(
        icp,
        "canister",
        "install",
        probe.to_text(),
        "--wasm",
        str(PROBE),
        "--args",
        "(2 : nat)",
        "--mode",
        "upgrade",
        "-y",
    )
    assert "post_upgrade refused: mode 2" in out
    assert engine.read_module_hash(probe) == before
    assert _call(icp, probe, "get") == "(4 : nat)"
    assert _call(icp, probe, "hooks") == "(0 : nat, 0 : nat)"


def test_a_canister_calls_another_and_gets_its_reply(icp: Icp, engine: LocalIc) -> None:
    counter = _canister(icp, engine, COUNTER, "(10 : nat)")
    probe = _canister(icp, engine, PROBE)
    assert _call(icp, probe, "call_inc", f'(principal "{counter}", 4 : nat)') == "(14 : nat)"
    assert _call(icp, counter, "get") == "(14 : nat)"


def test_canister_delete_recovers_the_cycles_and_deletes(icp: Icp, engine: LocalIc) -> None:
    counter = _canister(icp, engine, COUNTER, "(10 : nat)")
    cycles = engine.get_cycles_balance(counter)
    ledger_before = engine.icrc1_balance_of(icp.identity.principal)
    done = icp.run("canister", "delete", counter.to_text())
    assert not engine.canister_exists(counter)
    recovered = engine.icrc1_balance_of(icp.identity.principal) - ledger_before
    assert 0.99 * cycles < recovered < cycles  # all but the fees of the recovery (an install and a call)
    deposited = recovered + engine.icrc1_fee()  # the ledger's deposit takes its fee
    assert f"Recovered {deposited} cycles from canister {counter}" in done.stdout + done.stderr
