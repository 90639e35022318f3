"""scale_*_ratio: latency of my_stats, get_factory_stats and list_my_canisters' first page with 1,000,000
registry rows, over the same with 1,000."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from bench.common import Bench, deployed, median
from canister_factory._core.config import InitArg
from icp_client.identity import generate_identity
from icp_client.principal import Principal

OWNERS = 1000
MEASURED_ROWS = 200  # the measured caller's own rows, the same at every scale: its first page is always full
CALLS = 300
BATCH = 20_000


def _fill(b: Bench, rows: int) -> Principal:
    """Insert ``rows`` READY registry rows: ``MEASURED_ROWS`` of them for one caller (returned), spread through
    the table, the rest over ``OWNERS`` other callers."""
    owners = [generate_identity().principal.to_text() for _ in range(OWNERS)]
    controllers = json.dumps([owners[0]])
    raw = b.app.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        for start in range(0, rows, BATCH):
            batch = [
                (_owner(owners, i, rows), Principal.from_canister_index(10_000_000 + i).to_text(), 1, b"\x01" * 32,
                 "Install", "1000000000000", 1, controllers, b"", "READY", i, str(1_000_100_000_000), i, i)
                for i in range(start, min(rows, start + BATCH))
            ]  # fmt: skip
            cursor.executemany(
                "INSERT INTO canisters (owner, canister_id, upload_id, module_hash, mode, cycles, handoff,"
                " controllers, init_arg, state, created_at_time_ns, cycles_used, requested_at_ns, updated_at_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
        per_owner = rows // OWNERS
        cursor.executemany(
            "INSERT INTO caller_stats (caller, quota_used, created_count, last_created_at_ns) VALUES (?, ?, ?, ?)",
            [(o, per_owner, per_owner, rows) for o in owners],
        )
        cursor.execute(
            "UPDATE factory_counters SET total_canisters_created = ?, unique_callers = ?", (rows, OWNERS)
        )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()
    return Principal.from_text(owners[0])


def _owner(owners: list[str], i: int, rows: int) -> str:
    step = rows // MEASURED_ROWS
    return owners[0] if i % step == 0 else owners[1 + i % (OWNERS - 1)]


def _latency(fn: Callable[[], object]) -> float:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return median(samples)


def measure(rows: int) -> dict[str, float]:
    init = InitArg(min_factory_cycles=0, max_canisters_per_caller=10**6)
    with deployed(init) as b:
        caller = _fill(b, rows)
        factory = b.app.factory
        return {
            "my_stats": _latency(lambda: factory.my_stats(caller)),
            "factory_stats": _latency(factory.get_factory_stats),
            "list": _latency(lambda: factory.list_my_canisters(caller, None, 100)),
        }


def run(small: int = 1_000, large: int = 1_000_000) -> dict[str, float]:
    few, many = measure(small), measure(large)
    out = {f"scale_{name}_ratio": many[name] / few[name] for name in few}
    out.update({f"scale_{name}_ms_at_{large}": many[name] * 1000 for name in few})
    return out
