"""The use cases a new user meets first: their open uploads, a module's Candid metadata, a canister's status."""

from __future__ import annotations

import pytest

from canister_factory._core.errors import Conflict, NotFound, PermissionDenied
from canister_factory.ic.embedded import EmbeddedManagement
from canister_factory.service import canisters, creations, modules, uploads
from icp_client.principal import Principal
from tests.support.factory import request
from tests.support.wasm_modules import module_with_custom_section
from tests.unit.service.helpers import Env, principal, upload

DAY_NS = 86_400 * 10**9


def test_list_my_uploads_shows_the_open_ones_with_their_expiry(
    deployed: Env, alice: Principal, bob: Principal, counter: bytes
) -> None:
    first = uploads.create_upload(deployed.ctx, alice)
    uploads.put_chunk(deployed.ctx, alice, first, b"\x00asm", 0)
    deployed.clock.advance(10)
    second = uploads.create_upload(deployed.ctx, alice)
    upload(deployed, alice, counter)  # committed: a module now, not an open upload
    uploads.create_upload(deployed.ctx, bob)
    listed = uploads.list_my_uploads(deployed.ctx, alice)
    assert [(u.upload_id, u.total_len, u.chunk_count) for u in listed] == [(first, 4, 1), (second, 0, 0)]
    assert listed[0].expires_at_ns == listed[0].last_activity_ns + DAY_NS
    deployed.clock.advance(DAY_NS / 10**9 - 5)  # the first has been idle longer than a day, the second not
    assert [u.upload_id for u in uploads.list_my_uploads(deployed.ctx, alice)] == [second]


def test_module_metadata_of_a_committed_upload(deployed: Env, alice: Principal, bob: Principal) -> None:
    module = module_with_custom_section("icp:public candid:args", b"(nat)")
    upload_id = upload(deployed, alice, module)
    metadata = modules.get_module_metadata(deployed.ctx, alice, upload_id)
    assert (metadata.candid_args, metadata.candid_service) == ("(nat)", None)
    with pytest.raises(PermissionDenied):
        modules.get_module_metadata(deployed.ctx, bob, upload_id)
    with pytest.raises(NotFound):
        modules.get_module_metadata(deployed.ctx, alice, 99)
    open_id = uploads.create_upload(deployed.ctx, alice)
    with pytest.raises(Conflict, match="upload not committed"):
        modules.get_module_metadata(deployed.ctx, alice, open_id)


def test_canister_status_for_owner_creator_controller_and_admin(
    deployed: Env, alice: Principal, bob: Principal, counter: bytes
) -> None:
    upload_id = upload(deployed, alice, counter)
    created = creations.create_and_install_with(
        deployed.ctx, deployed.installer, alice, request(upload_id, owner=bob)
    )
    # handed off to bob: the factory cannot read it, and this context cannot ask as anyone else
    seen = canisters.canister_status(deployed.ctx, alice, created.canister_id)
    assert (seen.controllers, seen.owner, seen.status, seen.cycles) == ((bob,), bob, None, None)
    assert seen.module_hash_hex == created.module_hash_hex
    deployed.ctx.ic_as = lambda who: EmbeddedManagement(deployed.local, who)  # as the embedded IC allows
    as_bob = canisters.canister_status(deployed.ctx, bob, created.canister_id)
    assert as_bob.status == "running" and as_bob.cycles is not None and as_bob.cycles > 0
    assert (
        canisters.canister_status(deployed.ctx, alice, created.canister_id).status is None
    )  # not a controller
    assert canisters.canister_status(deployed.ctx, deployed.admin, created.canister_id).owner == bob
    with pytest.raises(PermissionDenied, match="you neither control it nor own it"):
        canisters.canister_status(deployed.ctx, principal(0xC0), created.canister_id)
