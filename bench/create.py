"""create_ratio, create_p50_ms, create_p99_ms: the factory's creation against the same IC calls made directly."""

from __future__ import annotations

import hashlib
import time
from importlib import resources

from bench.common import Bench, deployed, percentile
from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.ports import CanisterSettings, InstallMode
from icp_local import CreateCanisterOk

CYCLES = 1_000_000_000_000
INIT_ARG = bytes.fromhex("4449444c00017d2a")


def _wasm() -> bytes:
    return resources.files("canister_factory._data").joinpath("counter.wasm").read_bytes()


def direct(b: Bench, n: int) -> list[float]:
    """The floor: create (cycles ledger), install_code and update_settings straight on the embedded IC."""
    ic, wasm, sender = b.app.embedded, _wasm(), b.app.factory.principal
    assert ic is not None
    times = []
    for i in range(n):
        started = time.perf_counter()
        created = ic.ledger_create_canister(
            sender, CYCLES, CanisterSettings(controllers=(sender,)), time.time_ns() + i
        )
        assert isinstance(created, CreateCanisterOk), created
        ic.install_code(sender, created.canister_id, InstallMode.INSTALL, wasm, INIT_ARG)
        ic.update_settings(sender, created.canister_id, CanisterSettings(controllers=(b.caller,)))
        times.append(time.perf_counter() - started)
    return times


def through_factory(b: Bench, n: int) -> list[float]:
    factory, wasm = b.app.factory, _wasm()
    upload_id = factory.create_upload(b.caller)
    factory.put_chunk(b.caller, upload_id, wasm)
    factory.commit_upload(b.caller, upload_id, hashlib.sha256(wasm).hexdigest())
    request = CreateInstallRequest(upload_id, INIT_ARG, Mode.INSTALL, CYCLES, handoff=True)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        factory.create_and_install_with(b.caller, request)
        times.append(time.perf_counter() - started)
    return times


def run(n: int = 1000) -> dict[str, float]:
    init = InitArg(min_factory_cycles=0, max_canisters_per_caller=n + 1)
    with deployed(init) as b:
        floor = direct(b, n)
    with deployed(init) as b:
        ours = through_factory(b, n)
    return {
        "create_ratio": sum(floor) / sum(ours),
        "create_p50_ms": percentile(ours, 0.50) * 1000,
        "create_p99_ms": percentile(ours, 0.99) * 1000,
        "create_direct_p50_ms": percentile(floor, 0.50) * 1000,
    }
