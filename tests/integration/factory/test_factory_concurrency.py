"""Defect 6: concurrent creations by one caller cannot exceed the quota (threads and processes, one state folder)."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from canister_factory._core.config import InitArg
from canister_factory._core.errors import FactoryError
from canister_factory.bootstrap import open_app
from tests.support.factory import Harness, create_in_process, new_principal, request, upload_module
from tests.support.wasm_modules import counter_wasm

QUOTA = 5
CALLS = 20
LIMIT_TEXT = f"Per-caller canister limit reached: {QUOTA}/{QUOTA}"


def ready_rows(h: Harness) -> list[str]:
    with h.factory.ctx.store.read() as tx:
        return [r.state.value for r in tx.creations.page(None, None, 1000) if r.state.value == "READY"]


def test_twenty_threads_quota_five(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_canisters_per_caller=QUOTA))
    alice = new_principal()
    uid = upload_module(h.factory, alice, counter_wasm())
    start = threading.Barrier(CALLS)

    def one(_: int) -> str:
        app = open_app(h.state_dir, clock=h.clock)  # each thread is its own worker on the shared folder
        try:
            start.wait()
            app.factory.create_and_install_with(alice, request(uid))
            return "ok"
        except FactoryError as exc:
            return str(exc)
        finally:
            app.close()

    with ThreadPoolExecutor(CALLS) as pool:
        outcomes = Counter(pool.map(one, range(CALLS)))
    assert outcomes == {"ok": QUOTA, LIMIT_TEXT: CALLS - QUOTA}
    assert len(h.ic_canisters) == QUOTA
    assert len(ready_rows(h)) == QUOTA
    assert h.factory.my_stats(alice).created_count == QUOTA


def test_twenty_processes_quota_five(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_canisters_per_caller=QUOTA))
    alice = new_principal()
    uid = upload_module(h.factory, alice, counter_wasm())
    # fork, not spawn: 20 spawned interpreters re-importing the package take ~15 s on 2 cores. Each child opens
    # its own app (own engine, own LocalIc) on the shared folder; nothing of the parent's is used.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(CALLS) as pool:
        outcomes = Counter(
            pool.starmap(create_in_process, [(str(h.state_dir), alice.to_text(), uid)] * CALLS)
        )
    assert outcomes == {"ok": QUOTA, f"LimitExceeded: {LIMIT_TEXT}": CALLS - QUOTA}
    assert len(h.ic_canisters) == QUOTA
    assert len(ready_rows(h)) == QUOTA
