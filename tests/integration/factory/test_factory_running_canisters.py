"""Canisters the factory makes run: a module whose init traps is a failed creation (an IC error, no quota used,
the canister kept as a spare), and a canister the factory made answers calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from canister_factory._core.errors import IcReject
from canister_factory.service.factory import Factory
from icp_client.candid import decode, encode
from icp_client.candid.types import NAT, PRINCIPAL
from icp_client.principal import Principal
from icp_local import LocalIc
from tests.support.factory import Harness, new_principal, request, upload_module

PROBE = (Path(__file__).resolve().parents[3] / "examples" / "exec_probe" / "probe.wasm").read_bytes()
EMPTY = b"DIDL\x00\x00"


def _nat(value: int) -> bytes:
    return encode([NAT], [value])


def _embedded(h: Harness) -> LocalIc:
    assert h.app.embedded is not None
    return h.app.embedded


def _spares_and_quota(factory: Factory, caller: Principal) -> tuple[int, int]:
    with factory.ctx.store.read() as tx:
        return tx.spares.count(), tx.callers.quota(caller).quota_used


def test_a_module_whose_init_traps_is_a_failed_creation(h: Harness, alice: Principal) -> None:
    upload = upload_module(h.factory, alice, PROBE)
    with pytest.raises(IcReject) as failed:
        h.factory.create_and_install_with(alice, request(upload, init_arg=_nat(1)))
    assert (failed.value.reject_code, failed.value.error_code) == (5, "IC0503")
    assert "init refused: mode 1" in failed.value.reject_message
    (row,) = h.factory.list_my_canisters(alice).canisters
    assert row.state == "FAILED" and row.canister_id is not None
    assert _embedded(h).read_module_hash(row.canister_id) is None, (
        "the failed install left the canister empty"
    )
    assert _spares_and_quota(h.factory, alice) == (1, 0)
    assert h.factory.my_stats(alice).created_count == 0
    created = h.factory.create_and_install_with(alice, request(upload, init_arg=_nat(0)))
    assert created.canister_id == row.canister_id, "the spare is used for the next creation"
    assert _spares_and_quota(h.factory, alice) == (0, 1)


def test_a_canister_the_factory_made_answers_calls(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload))  # init (42 : nat), handed off
    ic = _embedded(h)
    assert decode(ic.update_call(created.canister_id, "inc", _nat(8), sender=alice), [NAT]) == [50]
    assert decode(ic.query_call(created.canister_id, "get", EMPTY), [NAT]) == [50]
    assert decode(ic.query_call(created.canister_id, "whoami", EMPTY, sender=alice), [PRINCIPAL]) == [alice]
    probe_owner = new_principal()
    probe = h.factory.create_and_install_with(
        probe_owner, request(upload_module(h.factory, probe_owner, PROBE), init_arg=_nat(0))
    )
    reply = ic.update_call(
        probe.canister_id, "call_inc", encode([PRINCIPAL, NAT], [created.canister_id, 1]), sender=probe_owner
    )
    assert decode(reply, [NAT]) == [51]
