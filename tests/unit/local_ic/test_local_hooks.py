"""Call hooks: the production LocalIc has no faults; tests install them (icp_local.testing) as a hook."""

from __future__ import annotations

import pytest

from icp_client.errors import Reject, Unavailable
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.testing import Faults, faults_of


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def before(self, method: str) -> None:
        self.seen.append(("before", method))

    def after(self, method: str) -> None:
        self.seen.append(("after", method))


def test_the_production_ic_has_no_fault_field(ic: LocalIc) -> None:
    assert not hasattr(ic, "faults")
    assert ic.hooks == ()


def test_hooks_run_around_each_public_method(ic: LocalIc, alice: Principal) -> None:
    recorder = Recorder()
    ic.add_hook(recorder)
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.read_controllers(canister)
    assert recorder.seen == [
        ("before", "provisional_create_canister_with_cycles"),
        ("after", "provisional_create_canister_with_cycles"),
        ("before", "read_controllers"),
        ("after", "read_controllers"),
    ]
    ic.remove_hook(recorder)
    ic.read_controllers(canister)
    assert len(recorder.seen) == 4


def test_faults_are_one_hook_per_ic(ic: LocalIc, alice: Principal) -> None:
    faults = faults_of(ic)
    assert isinstance(faults, Faults) and faults_of(ic) is faults and ic.hooks == (faults,)
    faults.reject("provisional_create_canister_with_cycles", 2, "busy", "IC0999")
    with pytest.raises(Reject):
        ic.provisional_create_canister_with_cycles(alice)
    assert ic.list_canisters() == []
    faults.reply_lost("provisional_create_canister_with_cycles")
    with pytest.raises(Unavailable):
        ic.provisional_create_canister_with_cycles(alice)
    assert len(ic.list_canisters()) == 1, "a lost reply: the call took effect"
