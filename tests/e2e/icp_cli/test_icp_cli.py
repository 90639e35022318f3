"""icp-cli accepts the front: canister create, status, chunked install, and a cycles-ledger call."""

from __future__ import annotations

import hashlib
import re

from canister_factory.ic.embedded import EmbeddedManagement
from canister_factory.ports import CanisterSettings, InstallMode
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from icp_local import LocalIc
from tests.e2e.icp_cli.conftest import Icp
from tests.support.wasm_modules import counter_wasm, large_module

T = 1_000_000_000_000
MIB = 1024 * 1024
COUNTER_ARG = bytes.fromhex("4449444c00017d2a")  # (42 : nat)


def _factory_canister(engine: LocalIc, *extra_controllers: Principal) -> tuple[Principal, Principal]:
    """A canister created by the factory's identity (through EmbeddedManagement), with extra controllers."""
    factory = generate_identity().principal
    engine.mint(factory, 10 * T)
    port = EmbeddedManagement(engine, factory)
    created = port.create_canister(
        amount=port.creation_fee() + T,
        settings=CanisterSettings(controllers=(factory, *extra_controllers)),
        created_at_time=engine.clock.now_ns(),
    )
    return created.canister_id, factory


def test_icp_identity_matches_ours(icp: Icp) -> None:
    shown = icp.run("identity", "principal", "--identity", icp.name, network=False).stdout.strip()
    assert shown == icp.identity.principal.to_text()


def test_canister_create_through_the_cmc_and_the_cycles_ledger(icp: Icp, engine: LocalIc) -> None:
    engine.mint(icp.identity.principal, 10 * T)
    out = icp.run("canister", "create", "--detached", "--quiet").stdout
    canister = Principal.from_text(out.strip().splitlines()[-1])
    assert engine.read_controllers(canister) == (icp.identity.principal,)
    assert engine.icrc1_balance_of(icp.identity.principal) < 10 * T - 2 * T


def test_canister_status_shows_the_controllers_the_factory_set(icp: Icp, engine: LocalIc) -> None:
    canister, factory = _factory_canister(engine, icp.identity.principal)
    out = icp.run("canister", "status", canister.to_text()).stdout
    assert "Running" in out
    assert factory.to_text() in out and icp.identity.principal.to_text() in out
    public = icp.run("canister", "status", canister.to_text(), "--public").stdout
    assert factory.to_text() in public


def test_canister_install_of_a_3_mib_module_goes_in_chunks(icp: Icp, engine: LocalIc, tmp_path) -> None:
    canister, _factory = _factory_canister(engine, icp.identity.principal)
    module = large_module(3 * MIB, seed=5)
    wasm = tmp_path / "big.wasm"
    wasm.write_bytes(module)
    out = icp.run("canister", "install", canister.to_text(), "--wasm", str(wasm), "--mode", "install", "-y")
    assert "installed successfully" in out.stdout + out.stderr
    assert engine.read_module_hash(canister) == hashlib.sha256(module).digest()
    assert icp.front.front.metrics.snapshot()["upload_chunk_bytes"] >= len(module)


def test_canister_install_of_a_small_module(icp: Icp, engine: LocalIc, tmp_path) -> None:
    canister, _factory = _factory_canister(engine, icp.identity.principal)
    wasm = tmp_path / "counter.wasm"
    wasm.write_bytes(counter_wasm())
    icp.run(
        "canister",
        "install",
        canister.to_text(),
        "--wasm",
        str(wasm),
        "--mode",
        "install",
        "--args",
        "(7 : nat)",
        "-y",
    )
    assert engine.read_module_hash(canister) == hashlib.sha256(counter_wasm()).digest()
    engine.install_code(icp.identity.principal, canister, InstallMode.REINSTALL, counter_wasm(), COUNTER_ARG)


def test_canister_call_of_the_cycles_ledger_balance(icp: Icp, engine: LocalIc) -> None:
    owner = icp.identity.principal
    engine.mint(owner, 1234 * T)
    arg = f'(record {{ owner = principal "{owner.to_text()}"; subaccount = null }})'
    out = icp.run("canister", "call", "um5iw-rqaaa-aaaaq-qaaba-cai", "icrc1_balance_of", arg).stdout
    match = re.search(r"\(([\d_]+) : nat\)", out)
    assert match is not None, out
    assert int(match.group(1).replace("_", "")) == engine.icrc1_balance_of(owner) == 1234 * T
