"""``demo``: the whole quick start on a fresh temporary state."""

from __future__ import annotations

import hashlib
import tempfile
from importlib import resources
from pathlib import Path

import click

from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.bootstrap import App, open_app
from canister_factory.cli._format import emit, plain
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session
from icp_client import candid
from icp_client.identity import generate_identity
from icp_client.principal import Principal

DEMO_CYCLES = 100_000_000_000_000
CANISTER_CYCLES = 2_000_000_000_000
INIT_ARG = bytes.fromhex("4449444c00017d2a")  # Candid (42 : nat), the counter's init argument


@cli.command("demo")
@click.option(
    "--keep", type=click.Path(file_okay=False, path_type=Path), default=None, help="Keep the state here."
)
@click.pass_obj
def demo(s: Session, keep: Path | None) -> None:
    """Deploy a factory on the embedded IC, upload the example counter canister, create one for a second
    identity with handoff, call it (`inc`, then `get`), and show its status and the factory's statistics.

    \b
    Example: canister-factory demo
    """
    with tempfile.TemporaryDirectory(prefix="canister-factory-demo-") as tmp:
        state = keep or Path(tmp)
        _run(state, s.as_json)


def _run(state: Path, as_json: bool) -> None:
    operator, alice = generate_identity("ed25519"), generate_identity("secp256k1")
    app = open_app(state)
    try:
        factory = app.factory
        app.deploy(operator.principal, InitArg())
        app.fund(DEMO_CYCLES)
        _say(as_json, f"1. deployed the factory {factory.principal} with {DEMO_CYCLES:,} cycles")
        wasm = resources.files("canister_factory._data").joinpath("counter.wasm").read_bytes()
        upload_id = factory.create_upload(alice.principal)
        for index, start in enumerate(range(0, len(wasm), 1024 * 1024)):
            factory.put_chunk(alice.principal, upload_id, wasm[start : start + 1024 * 1024], index)
        sha = factory.commit_upload(alice.principal, upload_id, hashlib.sha256(wasm).hexdigest())
        _say(
            as_json,
            f"2. alice ({alice.principal}) uploaded counter.wasm ({len(wasm):,} bytes) as upload {upload_id}",
        )
        request = CreateInstallRequest(upload_id, INIT_ARG, Mode.INSTALL, CANISTER_CYCLES, handoff=True)
        created = factory.create_and_install_with(alice.principal, request)
        _say(as_json, f"3. created and installed canister {created.canister_id} for alice, handed off to her")
        replies = _call_the_counter(app, alice.principal, created.canister_id)
        _say(
            as_json, f"4. alice called it: inc(5) replied {replies['inc']}, then get replied {replies['get']}"
        )
        ic = app.ic_as(alice)
        status = ic.canister_status(canister_id=created.canister_id)
        stats = factory.get_factory_stats()
        emit(
            as_json,
            {
                "canister_id": created.canister_id,
                "module_hash_hex": created.module_hash_hex,
                "upload_sha256_hex": sha,
                "cycles_used": created.cycles_used,
                "controllers": list(status.controllers),
                "status": status.status.value,
                "cycles": status.cycles,
                "calls": replies,
                "factory_stats": plain(stats),
            },
        )
    finally:
        app.close()


def _call_the_counter(app: App, caller: Principal, canister: Principal) -> dict[str, str]:
    """``inc(5)`` then ``get()`` on the counter, as its new owner; the replies in Candid text."""
    assert app.embedded is not None  # the demo runs on the embedded IC
    service = candid.parse_did(resources.files("canister_factory._data").joinpath("counter.did").read_text())
    replies = {}
    for method, args in (("inc", "(5)"), ("get", "()")):
        func = service.service_methods[method]
        arg = candid.encode(list(func.args), candid.parse_values(args, list(func.args)))
        reply = app.embedded.update_call(canister, method, arg, sender=caller)
        replies[method] = candid.format_values(candid.decode(reply, list(func.results)), list(func.results))
    return replies


def _say(as_json: bool, text: str) -> None:
    if not as_json:
        click.echo(text)
