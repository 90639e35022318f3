"""The fault matrix: every IC call of a creation fails in every way, and the factory is killed at every step.

After each run the invariants of ``tests/support/invariants.py`` must hold, and the factory must still work (the
next creation succeeds, reusing a spare canister where one was left).

Faults run on two backends: the embedded IC in process, and the network backend through the HTTP-interface front
(the faults armed in the engine behind the front with ``icp_local.testing.faults_of``, so they reach the factory as
the front's HTTP answers: certified rejects, 503s, and lost replies, which the front takes through its
``lose_reply`` test hook). The full matrix (every reject code on every method) runs with
``CANISTER_FACTORY_FULL_MATRIX=1``; by default a reduced one runs: each fault kind once per method, and every
crash point.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import FactoryError
from canister_factory._core.lifecycle import State
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.bootstrap import App, Network, open_app
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import FrontOptions, generate_front_keys, running_front
from icp_local.testing import faults_of
from tests.support.invariants import check_invariants
from tests.support.wasm_modules import counter_wasm

FUNDED = 1_000_000_000_000_000
CYCLES = 1_000_000_000_000
INIT_ARG = bytes.fromhex("4449444c00017d2a")
FULL = os.environ.get("CANISTER_FACTORY_FULL_MATRIX") == "1"

# The IC calls one creation makes, in order (embedded IC method names). read_module_hash is asked only when a
# creation is resumed, so the crash tests below exercise it.
CREATION_CALLS = [
    "icrc1_balance_of",
    "create_canister",
    "install_code",
    "update_settings",
    "read_controllers",
]
REJECT_CODES = [1, 2, 3, 4, 5] if FULL else [2, 5]
FAULTS = [("reject", code) for code in REJECT_CODES] + [("unavailable", 0), ("reply_lost", 0)]


@dataclass
class Deployed:
    app: App
    state: Path
    caller: Principal
    upload_id: int
    ic: LocalIc  # where the truth is, and where faults are armed


def deploy(state: Path, network: Network | None = None, ic: LocalIc | None = None) -> Deployed:
    app = open_app(state, network=network)
    admin, caller = generate_identity().principal, generate_identity().principal
    app.factory.deploy(admin, InitArg(min_factory_cycles=0))
    app.fund(FUNDED)
    wasm = counter_wasm()
    upload_id = app.factory.create_upload(caller)
    app.factory.put_chunk(caller, upload_id, wasm)
    app.factory.commit_upload(caller, upload_id, hashlib.sha256(wasm).hexdigest())
    engine = ic or app.embedded
    assert engine is not None
    return Deployed(app, state, caller, upload_id, engine)


def request(upload_id: int) -> CreateInstallRequest:
    return CreateInstallRequest(upload_id, INIT_ARG, Mode.INSTALL, CYCLES, handoff=True)


@pytest.fixture(params=["embedded", "network"])
def deployed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployed]:
    """A deployed factory on the embedded IC in process, or on the network backend through the front (HTTP)."""
    with contextlib.ExitStack() as stack:
        if request.param == "embedded":
            d = deploy(tmp_path / "state")
        else:
            db = IcDatabase.for_state_dir(tmp_path / "ic")
            stack.callback(db.dispose)
            engine = LocalIc(db)
            keys = generate_front_keys()
            options = FrontOptions(lose_reply=faults_of(engine).take_reply_lost)
            front = stack.enter_context(running_front(engine, keys, options=options))
            d = deploy(tmp_path / "state", Network(front.url, keys.root_key_der.hex()), engine)
        stack.callback(d.app.close)
        yield d


@pytest.mark.parametrize(("kind", "code"), FAULTS, ids=[f"{k}{c or ''}" for k, c in FAULTS])
@pytest.mark.parametrize("method", CREATION_CALLS)
def test_a_failing_ic_call_loses_nothing(deployed: Deployed, method: str, kind: str, code: int) -> None:
    app, caller, ic = deployed.app, deployed.caller, deployed.ic
    faults = faults_of(ic)
    if kind == "reject":
        faults.reject(method, code, "injected", f"IC0{code}99")
    else:
        getattr(faults, kind)(method)
    try:
        app.factory.create_and_install_with(caller, request(deployed.upload_id))
    except FactoryError:
        pass
    assert faults.pending(method) == 0, f"the creation never called {method}: this cell tests nothing"
    faults.clear()
    _finish_unfinished(app)
    check_invariants(app, funded=FUNDED, ic=ic)
    # The factory still works, and a spare left by the failure is reused rather than a new canister created.
    with app.factory.ctx.store.read() as tx:
        spares = tx.spares.count()
    before = len(ic.list_canisters())
    app.factory.create_and_install_with(caller, request(deployed.upload_id))
    assert len(ic.list_canisters()) == before + (0 if spares else 1)
    check_invariants(app, funded=FUNDED, ic=ic)


def _finish_unfinished(app: App) -> None:
    """Drive what a fault left in flight, as the next start would (our own claims are live, so release them)."""
    with app.factory.ctx.store.write() as tx:
        for row in tx.creations.unfinished():
            tx.creations.claim(row.id, "gone:0:0", 0)
    app.factory.reconcile()


CRASH_POINTS = [
    (m, w) for m in ("create_canister", "install_code", "update_settings") for w in ("before", "after")
]

CHILD = textwrap.dedent(
    """
    import sys
    from canister_factory.bootstrap import open_app
    from canister_factory._core.model import CreateInstallRequest, Mode
    from icp_client.principal import Principal
    from icp_local.testing import faults_of
    state, caller, upload_id, method, when = sys.argv[1:6]
    app = open_app(state)
    faults_of(app.embedded).crash(method, when)
    request = CreateInstallRequest(int(upload_id), bytes.fromhex("4449444c00017d2a"), Mode.INSTALL,
                                   1_000_000_000_000, handoff=True)
    app.factory.create_and_install_with(Principal.from_text(caller), request)
    print("not killed")
    """
)


@pytest.mark.parametrize(("method", "when"), CRASH_POINTS, ids=[f"{w}-{m}" for m, w in CRASH_POINTS])
def test_killed_at_every_step_and_restarted(tmp_path: Path, method: str, when: str) -> None:
    d = deploy(tmp_path / "state")
    d.app.close()
    args = [str(d.state), d.caller.to_text(), str(d.upload_id), method, when]
    child = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=120)
    assert child.returncode == -9, child.stdout + child.stderr  # SIGKILL
    app = open_app(d.state)  # the restart: reconciles what the killed process left
    try:
        with app.factory.ctx.store.read() as tx:
            rows = tx.creations.page(None, None, 10)
        assert [r.state for r in rows] == [State.READY], [(r.state, r.error) for r in rows]
        assert app.embedded is not None
        assert len(app.embedded.list_canisters()) == 1, "the restart must not create a second canister"
        check_invariants(app, funded=FUNDED)
    finally:
        app.close()
