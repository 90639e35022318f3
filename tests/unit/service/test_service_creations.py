"""``create_and_install_with`` on the in-memory store: the lifecycle, handoff, idempotency, reinstall."""

from __future__ import annotations

import hashlib

import pytest

from canister_factory._core.errors import (
    Conflict,
    CreationInProgress,
    IcUnavailable,
    NotFound,
    PermissionDenied,
)
from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory.service import admin, creations, uploads
from icp_client.principal import Principal
from tests.unit.service.helpers import FACTORY, Env, T, create, request, upload


def test_a_creation_hands_the_canister_over(
    deployed: Env, alice: Principal, alice_upload: int, counter: bytes
) -> None:
    before = deployed.balance()
    created = create(deployed, alice, alice_upload)
    assert deployed.local.read_controllers(created.canister_id) == (alice,)
    assert deployed.local.read_module_hash(created.canister_id) == hashlib.sha256(counter).digest()
    assert created.module_hash_hex == hashlib.sha256(counter).hexdigest()
    assert before - deployed.balance() == created.cycles_used == T + deployed.ctx.ic.ledger_fee()
    (row,) = deployed.rows()
    assert (row.state, row.canister_id, row.claimed_by is not None) == (
        State.READY,
        created.canister_id,
        True,
    )
    assert deployed.reserved() == 0  # the reservation became a spend
    assert admin.my_stats(deployed.ctx, alice).created_count == 1
    assert admin.get_factory_stats(deployed.ctx).total_canisters_created == 1


def test_without_handoff_the_factory_stays_a_controller(
    deployed: Env, alice: Principal, bob: Principal, alice_upload: int
) -> None:
    created = create(deployed, alice, alice_upload, handoff=False, extra_controllers=(bob,))
    assert set(deployed.local.read_controllers(created.canister_id)) == {alice, bob, FACTORY}


def test_only_a_committed_upload_of_ones_own_makes_a_canister(
    deployed: Env, alice: Principal, bob: Principal, alice_upload: int
) -> None:
    with pytest.raises(PermissionDenied, match=creations.NOT_OWNER_OF_UPLOAD):
        create(deployed, bob, alice_upload)
    with pytest.raises(NotFound):
        create(deployed, alice, alice_upload + 10)
    open_id = uploads.create_upload(deployed.ctx, alice)
    with pytest.raises(Conflict, match="not committed"):
        create(deployed, alice, open_id)
    assert deployed.rows() == [] and deployed.quota_used(alice) == 0


def test_a_retry_with_the_same_key_returns_the_first_result(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    first = create(deployed, alice, alice_upload, idempotency_key="k")
    again = create(deployed, alice, alice_upload, idempotency_key="k")
    assert again == first
    assert len(deployed.local.list_canisters()) == 1
    with pytest.raises(Conflict):
        create(deployed, alice, alice_upload, idempotency_key="k", cycles=2 * T)


def test_a_creation_another_live_worker_drives_is_reported_in_progress(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    deployed.ic.lose_reply("create_canister")
    deployed.ic.fail("create_canister", IcUnavailable("scripted: no answer"), times=2)
    with pytest.raises(IcUnavailable):
        create(deployed, alice, alice_upload, idempotency_key="k")
    assert [r.state for r in deployed.rows()] == [State.RESERVED]  # claimed by this process, which still runs
    with pytest.raises(CreationInProgress):
        create(deployed, alice, alice_upload, idempotency_key="k")
    assert deployed.host.slept  # the retries waited through the host, not time.sleep


def test_an_existing_canister_is_reinstalled_while_the_factory_controls_it(
    deployed: Env, alice: Principal, alice_upload: int
) -> None:
    kept = create(deployed, alice, alice_upload, handoff=False)
    spend = T // 2
    before = deployed.balance()
    again = creations.create_and_install_with(
        deployed.ctx,
        deployed.installer,
        alice,
        request(alice_upload, mode=Mode.REINSTALL, canister_id=kept.canister_id, cycles=spend),
    )
    assert again.canister_id == kept.canister_id
    assert before - deployed.balance() == again.cycles_used == spend + deployed.ctx.ic.ledger_fee()
    assert deployed.reserved() == 0
    handed = create(deployed, alice, alice_upload)
    with pytest.raises(PermissionDenied, match="handed off"):
        creations.create_and_install_with(
            deployed.ctx,
            deployed.installer,
            alice,
            request(alice_upload, mode=Mode.UPGRADE, canister_id=handed.canister_id),
        )


def test_someone_elses_canister_is_not_reinstalled(
    deployed: Env, alice: Principal, bob: Principal, alice_upload: int, counter: bytes
) -> None:
    kept = create(deployed, alice, alice_upload, handoff=False)
    bobs = upload(deployed, bob, counter)
    with pytest.raises(PermissionDenied, match="not created by this factory for you"):
        creations.create_and_install_with(
            deployed.ctx,
            deployed.installer,
            bob,
            request(bobs, mode=Mode.REINSTALL, canister_id=kept.canister_id),
        )
