"""Real Motoko canisters through the router: calls, traps, inter-canister calls, the management canister, and
installs that run ``canister_init`` and the upgrade hooks."""

from __future__ import annotations

import pytest

from icp_client.candid import decode
from icp_client.candid.types import BLOB
from icp_client.errors import Reject
from icp_client.management import InstallMode, UpgradeFlags, WasmMemoryPersistence
from icp_client.principal import Principal
from icp_local import LocalIc
from tests.unit.local_ic.router.conftest import EMPTY, NAT, PRINCIPAL, T, args, nat, one

KEEP = WasmMemoryPersistence.KEEP


def reject(call: object, error_code: str, fragment: str = "") -> Reject:
    with pytest.raises(Reject) as info:
        call()  # type: ignore[operator]
    assert info.value.error_code == error_code, info.value
    assert fragment in info.value.reject_message
    return info.value


def test_update_then_query(ic: LocalIc, counter: Principal) -> None:
    assert one(ic.update_call(counter, "inc", nat(5))) == 15
    assert one(ic.query_call(counter, "get", EMPTY)) == 15
    assert one(ic.update_call(counter, "get", EMPTY)) == 15  # a query method called as an update


def test_whoami_sees_the_sender(ic: LocalIc, counter: Principal) -> None:
    someone = Principal.self_authenticating(b"someone")
    assert one(ic.query_call(counter, "whoami", EMPTY, sender=someone), PRINCIPAL) == someone
    assert one(ic.query_call(counter, "whoami", EMPTY), PRINCIPAL) == Principal.anonymous()


def test_a_trap_rolls_the_message_back(ic: LocalIc, probe: Principal) -> None:
    ic.update_call(probe, "set", nat(5))
    error = reject(
        lambda: ic.update_call(probe, "set_then_trap", nat(9)), "IC0503", "set_then_trap: rolled back"
    )
    assert error.reject_code == 5
    assert one(ic.query_call(probe, "get", EMPTY)) == 5


def test_missing_methods_and_empty_canisters(ic: LocalIc, counter: Principal) -> None:
    reject(lambda: ic.update_call(counter, "nope", EMPTY), "IC0536", "has no update method 'nope'")
    reject(lambda: ic.query_call(counter, "inc", nat(1)), "IC0536", "has no query method 'inc'")
    empty = ic.create_canister()
    reject(lambda: ic.update_call(empty, "inc", nat(1)), "IC0537", "contains no Wasm module")
    reject(lambda: ic.update_call(Principal.from_canister_index(7), "inc", nat(1)), "IC0301", "not found")


def test_stopped_canisters_refuse_calls(ic: LocalIc, counter: Principal) -> None:
    ic.stop_canister(ic.sender, counter)
    reject(lambda: ic.update_call(counter, "inc", nat(1)), "IC0508", "is stopped")
    reject(lambda: ic.query_call(counter, "get", EMPTY), "IC0508", "does not have a CallContextManager")
    ic.start_canister(ic.sender, counter)
    assert one(ic.update_call(counter, "inc", nat(1))) == 11


def test_a_canister_calls_another_and_gets_its_reply(
    ic: LocalIc, probe: Principal, counter: Principal
) -> None:
    assert one(ic.update_call(probe, "call_inc", args((PRINCIPAL, counter), (NAT, 3)))) == 13
    assert one(ic.query_call(counter, "get", EMPTY)) == 13


def test_a_call_to_a_missing_canister_is_rejected_back(ic: LocalIc, probe: Principal) -> None:
    missing = Principal.from_canister_index(999)
    # Motoko turns the reject it receives into its own reject of the call (code 4, CANISTER_REJECT)
    error = reject(lambda: ic.update_call(probe, "call_inc", args((PRINCIPAL, missing), (NAT, 3))), "IC0406")
    assert error.reject_message == f"Canister {missing} not found."


def test_canisters_call_the_management_canister(ic: LocalIc, probe: Principal, counter: Principal) -> None:
    before = ic.get_cycles_balance(probe)
    seen = one(ic.update_call(probe, "status_cycles", args((PRINCIPAL, probe))))
    assert before > seen > ic.get_cycles_balance(probe)  # read between the call's fees and its callback's
    first, second = (ic.update_call(probe, "random", EMPTY) for _ in range(2))
    assert first != second and len(one(first, BLOB)) == 32
    before = ic.get_cycles_balance(counter)
    ic.update_call(probe, "give", args((PRINCIPAL, counter), (NAT, T)))
    assert ic.get_cycles_balance(counter) == before + T


def test_a_canister_cannot_read_the_status_of_one_it_does_not_control(
    ic: LocalIc, probe: Principal, counter: Principal
) -> None:
    error = reject(lambda: ic.update_call(probe, "status_cycles", args((PRINCIPAL, counter))), "IC0406")
    assert f"Sender's ID: {probe}" in error.reject_message


def test_fees_are_charged_for_updates_not_for_queries(ic: LocalIc, counter: Principal) -> None:
    before = ic.get_cycles_balance(counter)
    ic.query_call(counter, "get", EMPTY)
    assert ic.get_cycles_balance(counter) == before
    ic.update_call(counter, "inc", nat(1))
    spent = before - ic.get_cycles_balance(counter)
    induction = 1_200_000 + 2_000 * (len("inc") + len(nat(1)))
    assert induction + 5_000_000 < spent < induction + 5_000_000 + 10_000_000  # plus its instructions


def test_install_runs_init_with_the_argument(ic: LocalIc, counter_wasm: bytes) -> None:
    canister = ic.create_canister()
    ic.install_canister(canister, counter_wasm, nat(42))
    assert one(ic.query_call(canister, "get", EMPTY)) == 42


@pytest.mark.parametrize(
    ("arg", "fragment"),
    [(nat(1), "init refused: mode 1"), (b"DIDL\x00\x01\x71\x00", "IDL error"), (b"", "IDL")],
)
def test_a_failed_init_leaves_the_canister_empty(
    ic: LocalIc, probe_wasm: bytes, arg: bytes, fragment: str
) -> None:
    canister = ic.create_canister()
    reject(lambda: ic.install_canister(canister, probe_wasm, arg), "IC0503", fragment)
    assert ic.read_module_hash(canister) is None
    assert ic.canister_status(ic.sender, canister).memory_metrics.wasm_memory_size == 0
    reject(lambda: ic.query_call(canister, "get", EMPTY), "IC0537")


def test_upgrade_keeps_the_state_and_runs_the_hooks(ic: LocalIc, probe: Principal, probe_wasm: bytes) -> None:
    ic.update_call(probe, "set", nat(77))
    ic.upgrade_canister(probe, probe_wasm, nat(0), wasm_memory_persistence=KEEP)
    assert one(ic.query_call(probe, "get", EMPTY)) == 77
    assert hooks(ic, probe) == [1, 1]


def test_an_enhanced_persistence_module_needs_the_upgrade_option(
    ic: LocalIc, probe: Principal, probe_wasm: bytes
) -> None:
    reject(lambda: ic.upgrade_canister(probe, probe_wasm, nat(0)), "IC0504", "wasm_memory_persistence")


def test_a_trapping_post_upgrade_leaves_the_old_module_answering(
    ic: LocalIc, probe: Principal, probe_wasm: bytes, counter_wasm: bytes
) -> None:
    ic.update_call(probe, "set", nat(8))
    before = ic.read_module_hash(probe)
    reject(
        lambda: ic.upgrade_canister(probe, probe_wasm, nat(2), wasm_memory_persistence=KEEP),
        "IC0503",
        "post_upgrade refused",
    )
    assert ic.read_module_hash(probe) == before
    assert one(ic.query_call(probe, "get", EMPTY)) == 8
    assert hooks(ic, probe) == [0, 0]
    reject(
        lambda: ic.upgrade_canister(probe, counter_wasm, nat(1), wasm_memory_persistence=KEEP),
        "IC0503",
    )  # the counter's init-arg type is not the probe's state: it traps, and the probe stays
    assert one(ic.update_call(probe, "set", nat(9))) == 9


def test_skip_pre_upgrade(ic: LocalIc, probe: Principal, probe_wasm: bytes) -> None:
    flags = UpgradeFlags(skip_pre_upgrade=True, wasm_memory_persistence=KEEP)
    ic.install_code(ic.sender, probe, InstallMode.UPGRADE, probe_wasm, nat(0), flags)
    assert hooks(ic, probe) == [0, 1]


def test_reinstall_starts_afresh_and_uninstall_empties(
    ic: LocalIc, probe: Principal, probe_wasm: bytes
) -> None:
    ic.update_call(probe, "set", nat(8))
    ic.reinstall_canister(probe, probe_wasm, nat(0))
    assert one(ic.query_call(probe, "get", EMPTY)) == 0
    ic.uninstall_canister(probe)
    reject(lambda: ic.query_call(probe, "get", EMPTY), "IC0537")
    assert ic.get_stable_memory(probe) == b""


def hooks(ic: LocalIc, probe: Principal) -> list[int]:
    """(pre-upgrade runs, post-upgrade runs) as the probe counts them."""
    return decode(ic.query_call(probe, "hooks", EMPTY), [NAT, NAT])
