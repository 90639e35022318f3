"""The read-only views: statistics, health, the registry's pages."""

from __future__ import annotations

import pytest

from canister_factory._core.access import ADMIN_REQUIRED
from canister_factory._core.config import InitArg
from canister_factory._core.errors import InvalidArgument, PermissionDenied
from canister_factory.service import admin
from icp_client.principal import Principal
from tests.unit.service.helpers import Env, T, create, upload


def test_statistics_follow_the_creations(
    deployed: Env, alice: Principal, bob: Principal, alice_upload: int, counter: bytes
) -> None:
    create(deployed, alice, alice_upload)
    create(deployed, bob, upload(deployed, bob, counter))
    stats = admin.get_factory_stats(deployed.ctx)
    assert (stats.total_canisters_created, stats.unique_callers, stats.total_uploads) == (2, 2, 2)
    assert stats.factory_cycles_balance == deployed.balance()
    mine = admin.my_stats(deployed.ctx, alice)
    assert (mine.created_count, mine.last_created_at) == (1, deployed.clock.now_ns())
    assert admin.my_stats(deployed.ctx, Principal(b"\x01\x02")).created_count == 0


def test_health_reports_low_cycles(env: Env) -> None:
    env.deploy(InitArg(min_factory_cycles=5 * T), funding=4 * T)
    assert admin.health_check(env.ctx) == f"Low cycles: {4 * T} (min {5 * T})"
    env.local.mint(env.ctx.ic.sender, 10 * T)
    assert admin.health_check(env.ctx) == "Healthy"


def test_pages_of_the_registry(deployed: Env, alice: Principal, bob: Principal, alice_upload: int) -> None:
    made = [create(deployed, alice, alice_upload).canister_id for _ in range(3)]
    first = admin.list_canisters(deployed.ctx, alice, alice, None, 2)
    assert [r.canister_id for r in first.canisters] == made[:0:-1]
    rest = admin.list_canisters(deployed.ctx, alice, alice, first.next_cursor, 2)
    assert [r.canister_id for r in rest.canisters] == made[:1] and rest.next_cursor is None
    assert admin.list_canisters(deployed.ctx, bob, bob, None, None).canisters == ()
    with pytest.raises(PermissionDenied, match=ADMIN_REQUIRED):
        admin.list_canisters(deployed.ctx, alice, None, None, None)
    assert len(admin.list_canisters(deployed.ctx, deployed.admin, None, None, None).canisters) == 3
    with pytest.raises(InvalidArgument):
        admin.list_canisters(deployed.ctx, alice, alice, None, 0)
