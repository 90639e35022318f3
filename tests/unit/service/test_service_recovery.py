"""Failures along the lifecycle, the spare pool and reconciliation, on the in-memory store.

The IC's refusals keep their class, with the step named in front (``with_context``); the factory's own checks
raise ``IcUnexpected`` and ``CreationAbandoned``, never an invented ``IcReject``.
"""

from __future__ import annotations

import pytest

from canister_factory._core.errors import CreationAbandoned, IcReject, IcUnavailable, IcUnexpected
from canister_factory._core.lifecycle import State
from canister_factory.ports import CyclesLedgerError, FakeHost
from canister_factory.service import creations
from icp_client.principal import Principal
from tests.unit.service.helpers import Env, create


def test_a_refused_creation_releases_everything_it_reserved(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    balance = deployed.balance()
    deployed.ic.fail("create_canister", IcReject(4, "ledger says no", "IC0406"))
    with pytest.raises(IcReject) as err:
        create(deployed, alice, alice_upload)
    assert err.value.reject_message == "create_canister failed: ledger says no"
    assert (err.value.reject_code, err.value.error_code) == (4, "IC0406")
    assert isinstance(err.value.__cause__, IcReject)
    assert [r.state for r in deployed.rows()] == [State.FAILED]
    assert (deployed.quota_used(alice), deployed.reserved(), deployed.balance()) == (0, 0, balance)


def test_a_ledger_error_keeps_its_class_and_fields(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("create_canister", CyclesLedgerError("InsufficientFunds", {"balance": 1}))
    with pytest.raises(CyclesLedgerError) as err:
        create(deployed, alice, alice_upload)
    assert (err.value.variant, err.value.fields) == ("InsufficientFunds", {"balance": 1})
    assert (
        str(err.value) == "create_canister failed: cycles ledger refused: InsufficientFunds { balance = 1 }"
    )


def test_a_failed_install_recycles_the_canister_for_the_next_creation(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("install_code", IcReject(5, "injected", "IC0503"))
    with pytest.raises(IcReject, match="install_code failed: injected"):
        create(deployed, alice, alice_upload)
    (spare,) = deployed.spares()
    assert deployed.quota_used(alice) == 0
    created = create(deployed, alice, alice_upload)
    assert created.canister_id == spare and deployed.spares() == []
    assert deployed.ic.calls["create_canister"] == 1  # the spare was reused, not a new canister made
    assert deployed.local.read_controllers(spare) == (alice,)


def test_controllers_not_as_set_are_the_factorys_own_finding(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.pretend("update_settings")  # answers, but the controllers stay the factory
    with pytest.raises(IcUnexpected, match="controllers after update_settings") as err:
        create(deployed, alice, alice_upload)
    assert not isinstance(err.value, IcReject)
    assert [r.state for r in deployed.rows()] == [State.FAILED]
    assert len(deployed.spares()) == 1


def test_a_transient_reject_is_retried_without_sleeping(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("install_code", IcReject(2, "queue full", "IC0201"))
    created = create(deployed, alice, alice_upload)
    assert deployed.local.read_controllers(created.canister_id) == (alice,)
    assert deployed.host.slept and deployed.spares() == []


def test_a_reject_that_stays_transient_gives_up_and_keeps_the_canister(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("install_code", IcReject(2, "queue full", "IC0201"), times=5)
    with pytest.raises(IcReject, match="queue full"):
        create(deployed, alice, alice_upload)
    assert [r.state for r in deployed.rows()] == [State.FAILED]
    assert len(deployed.spares()) == 1 and deployed.quota_used(alice) == 0


def test_a_recycle_the_ic_interrupted_is_abandoned_at_reconcile(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("install_code", IcReject(5, "injected"))
    deployed.ic.fail("read_controllers", IcUnavailable("scripted"))
    with pytest.raises(IcReject):
        create(deployed, alice, alice_upload)
    (row,) = deployed.rows()
    assert row.state is State.RECOVERING
    with pytest.raises(CreationAbandoned) as err:
        creations.drive(deployed.ctx, deployed.installer, row.id, token=row.claimed_by)
    assert err.value.record_id == row.id and "install_code failed: injected" in str(err.value)
    assert [r.state for r in deployed.rows()] == [State.FAILED] and len(deployed.spares()) == 1


def test_reconcile_finishes_a_creation_whose_process_died(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.lose_reply("create_canister")
    deployed.ic.fail("create_canister", IcUnavailable("scripted"), times=2)
    with pytest.raises(IcUnavailable):
        create(deployed, alice, alice_upload)
    assert creations.reconcile(deployed.ctx, deployed.installer)["skipped"] == 1  # its process still runs
    deployed.host.own_pid += 1  # a restart: the process that held the claim is gone
    assert creations.reconcile(deployed.ctx, deployed.installer)["ready"] == 1
    (row,) = deployed.rows()
    assert row.state is State.READY and deployed.local.list_canisters() == [row.canister_id]
    assert deployed.reserved() == 0


def test_a_claim_of_another_host_stands_until_its_lease_ends(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.fail("create_canister", IcUnavailable("scripted"), times=3)
    with pytest.raises(IcUnavailable):
        create(deployed, alice, alice_upload)
    deployed.ctx.host = FakeHost(host="other-host", clock=deployed.clock)  # another machine, same database
    assert creations.reconcile(deployed.ctx, deployed.installer)["skipped"] == 1
    deployed.clock.advance(creations.LEASE_NS / 1e9 + 1)
    assert creations.reconcile(deployed.ctx, deployed.installer)["ready"] == 1
    (row,) = deployed.rows()
    assert row.canister_id is not None and deployed.local.read_controllers(row.canister_id) == (alice,)
