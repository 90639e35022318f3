"""The invariants a factory must keep whatever fails: checked after every fault and every crash."""

from __future__ import annotations

import hashlib
from collections import Counter

from canister_factory._core.lifecycle import State
from canister_factory.bootstrap import App
from icp_local import LocalIc


def check_invariants(app: App, *, funded: int, ic: LocalIc | None = None) -> None:
    """Assert the four invariants of the reliability matrix on ``app``.

    ``ic`` is the embedded IC that holds the truth: the app's own, or the one behind the HTTP-interface front
    when the app runs on the network backend.

    1. Every canister on the IC is in the registry in the right state: READY with the module and controllers the
       registry says, or a spare (the factory controls it), or one of the factory's store canisters.
    2. No caller's quota counts a failed creation.
    3. No committed module is lost: each committed upload's bytes are there and hash to its module hash.
    4. The factory's cycles accounting equals what the IC says: funded - balance == the cycles_used of every
       creation plus what the factory's own store canisters cost.
    """
    ic = ic or app.embedded
    assert ic is not None
    factory = app.factory
    with factory.ctx.store.read() as tx:
        rows = tx.creations.page(None, None, 1_000_000)
        spares = set(tx.spares.all())
        stores = set(tx.chunk_stores.canisters())
        quotas = {row.owner: tx.callers.quota(row.owner).quota_used for row in rows}
        counters = tx.counters.read()
        uploads = [tx.uploads.get(i) for i in range(1, counters.next_upload_id)]
        modules = {u.module_hash: tx.modules.read(u.module_hash) for u in uploads if u and u.module_hash}
        overhead = counters.overhead_cycles_used
    ready = {row.canister_id: row for row in rows if row.state is State.READY}
    for canister_id in ic.list_canisters():
        if canister_id in ready:
            row = ready[canister_id]
            assert ic.read_module_hash(canister_id) == row.module_hash, f"{canister_id}: wrong module"
            assert set(ic.read_controllers(canister_id)) == set(row.controllers), (
                f"{canister_id}: controllers"
            )
        elif canister_id in spares or canister_id in stores:
            assert factory.principal in ic.read_controllers(canister_id), (
                f"{canister_id}: spare not controlled"
            )
        else:
            states = [r.state.value for r in rows if r.canister_id == canister_id]
            raise AssertionError(
                f"canister {canister_id} is on the IC but not READY or spare (rows: {states})"
            )
    holding = Counter(row.owner for row in rows if row.state is not State.FAILED)
    for owner, used in quotas.items():
        assert used == holding[owner], f"{owner}: quota {used}, creations holding quota {holding[owner]}"
    for module_hash, data in modules.items():
        assert hashlib.sha256(data).digest() == module_hash, "a committed module lost or changed its bytes"
    spent = sum(row.cycles_used or 0 for row in rows) + overhead
    assert funded - factory.ctx.ic.cycles_balance() == spent, (
        "cycles accounting differs from the IC's balance"
    )
