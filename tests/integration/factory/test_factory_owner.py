"""Creating on behalf of a user: ``owner`` makes the canister the user's; the caller's quota and rate count it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from canister_factory import interface
from canister_factory._core.config import InitArg
from canister_factory._core.errors import Conflict, InvalidArgument, LimitExceeded
from canister_factory._core.model import Mode
from canister_factory.service.factory import Factory
from icp_client.principal import Principal
from tests.support.factory import Harness, new_principal, request, upload_module
from tests.support.wasm_modules import counter_wasm


def _controllers(h: Harness, canister: Principal) -> set[Principal]:
    assert h.app.embedded is not None
    return set(h.app.embedded.read_controllers(canister))


def test_owner_with_handoff_controls_it_alone(
    h: Harness, factory: Factory, counter_upload: int, alice: Principal
) -> None:
    user = new_principal()
    created = factory.create_and_install_with(alice, request(counter_upload, owner=user))
    assert _controllers(h, created.canister_id) == {user}  # not the back end, not the factory
    [record] = factory.list_my_canisters(user).canisters
    assert (record.canister_id, record.owner, record.caller) == (created.canister_id, user, alice)
    assert factory.list_my_canisters(alice).canisters == ()  # alice owns nothing
    mine = factory.list_my_canisters(alice, created_for_others=True).canisters
    assert [r.canister_id for r in mine] == [created.canister_id]
    assert factory.my_stats(alice).created_count == 1  # the caller's quota counted it
    assert factory.my_stats(user).created_count == 0


def test_extra_controllers_and_no_handoff(
    h: Harness, factory: Factory, counter_upload: int, alice: Principal
) -> None:
    user, auditor = new_principal(), new_principal()
    extra = factory.create_and_install_with(
        alice, request(counter_upload, owner=user, extra_controllers=(auditor,))
    )
    assert _controllers(h, extra.canister_id) == {user, auditor}
    listed = factory.create_and_install_with(
        alice, request(counter_upload, owner=user, extra_controllers=(alice,))
    )
    assert _controllers(h, listed.canister_id) == {user, alice}  # the caller only when listed
    kept = factory.create_and_install_with(alice, request(counter_upload, owner=user, handoff=False))
    assert _controllers(h, kept.canister_id) == {user, factory.principal}


def test_the_creator_or_the_owner_may_upgrade_while_the_factory_controls_it(
    factory: Factory, counter_upload: int, alice: Principal
) -> None:
    user = new_principal()
    kept = factory.create_and_install_with(alice, request(counter_upload, owner=user, handoff=False))
    upgrade = request(
        counter_upload, cycles=0, mode=Mode.UPGRADE, canister_id=kept.canister_id, handoff=False
    )
    assert factory.create_and_install_with(alice, upgrade).canister_id == kept.canister_id
    users_upload = upload_module(factory, user, counter_wasm())
    by_owner = request(users_upload, cycles=0, mode=Mode.UPGRADE, canister_id=kept.canister_id, handoff=False)
    assert factory.create_and_install_with(user, by_owner).canister_id == kept.canister_id


def test_quota_and_rate_count_against_the_caller(make: Callable[..., Harness]) -> None:
    for init, error in (
        (InitArg(max_canisters_per_caller=1), "Per-caller canister limit reached: 1/1"),
        (InitArg(max_creations_per_day=1), "Rate limit reached, try again later."),
    ):
        h = make(init)
        backend = new_principal()
        upload_id = upload_module(h.factory, backend, counter_wasm())
        h.factory.create_and_install_with(backend, request(upload_id, owner=new_principal()))
        with pytest.raises(LimitExceeded) as err:
            h.factory.create_and_install_with(backend, request(upload_id, owner=new_principal()))
        assert str(err.value) == error


def test_idempotency_keys_are_the_callers(factory: Factory, counter_upload: int, alice: Principal) -> None:
    user, other = new_principal(), new_principal()
    first = factory.create_and_install_with(alice, request(counter_upload, owner=user, idempotency_key="u1"))
    again = factory.create_and_install_with(alice, request(counter_upload, owner=user, idempotency_key="u1"))
    assert again == first
    with pytest.raises(Conflict, match=r"idempotency_key 'u1' was already used .*controllers, owner differ"):
        factory.create_and_install_with(alice, request(counter_upload, owner=other, idempotency_key="u1"))
    # the same key from another caller is another request
    bobs_upload = upload_module(factory, other, counter_wasm())
    own = factory.create_and_install_with(other, request(bobs_upload, owner=user, idempotency_key="u1"))
    assert own.canister_id != first.canister_id


def test_owner_refusals(factory: Factory, counter_upload: int, alice: Principal) -> None:
    with pytest.raises(
        InvalidArgument, match=r"^owner: the anonymous principal 2vxsx-fae cannot own a canister$"
    ):
        factory.create_and_install_with(alice, request(counter_upload, owner=Principal.anonymous()))
    with pytest.raises(InvalidArgument, match=r"^owner: the factory itself .* cannot stay a controller"):
        factory.create_and_install_with(alice, request(counter_upload, owner=factory.principal))
    with pytest.raises(InvalidArgument, match=r"^owner is for a new canister"):
        factory.create_and_install_with(
            alice, request(counter_upload, owner=new_principal(), mode=Mode.UPGRADE, canister_id=alice)
        )
    assert factory.my_stats(alice).created_count == 0  # nothing reserved


def test_candid_owner_is_an_added_opt_field(
    h: Harness, factory: Factory, counter_upload: int, alice: Principal
) -> None:
    user = new_principal()
    api = interface.bind(factory, alice)
    text = (
        f"(record {{ upload_id = {counter_upload} : nat64; extra_controllers = null; "
        f'init_arg = blob "DIDL\\00\\01\\7d\\2a"; mode = variant {{ Install }}; cycles = 1_000_000_000_000 : nat; '
        f'handoff = true; owner = opt principal "{user}" }})'
    )
    [result] = interface.call(
        api, "create_and_install_with", interface.parse_args("create_and_install_with", text)
    )
    canister = result["Ok"]["canister_id"]
    assert _controllers(h, canister) == {user}
    listed = interface.call(
        interface.bind(factory, alice),
        "list_my_canisters",
        interface.parse_args("list_my_canisters", "(opt record { created_for_others = opt true })"),
    )
    assert [r["caller"] for r in listed[0]["Ok"]["canisters"]] == [alice]
    reference = interface.parse_args(
        "list_my_canisters", "(opt record { cursor = null; limit = opt (10 : nat32) })"
    )
    assert interface.call(api, "list_my_canisters", reference)[0]["Ok"]["canisters"] == []
