"""First steps that need nothing but the installed package: an example module, identities, shell completion."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import click
from click.shell_completion import get_completion_class

from canister_factory._core.errors import Conflict
from canister_factory.cli import _identities as identities
from canister_factory.cli._format import Column, done, table
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session
from icp_client.errors import InvalidInput
from icp_client.identity import KeyKind, load_identity_pem

EXAMPLES = {"counter": "a counter canister (Motoko): init (n : nat), inc(by), get() and whoami()"}
"""The example modules shipped in the package (``_data/NAME.wasm`` and ``_data/NAME.did``), with what they are."""


@cli.command("example")
@click.argument("name", type=click.Choice(sorted(EXAMPLES)))
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the module (default: NAME.wasm here); its .did is written beside it.",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@click.pass_obj
def example(s: Session, name: str, output: Path | None, force: bool) -> None:
    """Write an example module shipped with canister-factory, and its Candid interface (.did), to upload.

    \b
    Example:
      canister-factory example counter --output counter.wasm
      canister-factory upload counter.wasm
    """
    wasm_path = output or Path(f"{name}.wasm")
    did_path = wasm_path.with_suffix(".did")
    data = resources.files("canister_factory._data")
    module, did = data.joinpath(f"{name}.wasm").read_bytes(), data.joinpath(f"{name}.did").read_bytes()
    for path in (wasm_path, did_path):
        if path.exists() and not force:
            raise Conflict(f"{path} exists already; give --force to overwrite it, or another --output")
    wasm_path.parent.mkdir(parents=True, exist_ok=True)
    wasm_path.write_bytes(module)
    did_path.write_bytes(did)
    result = {
        "example": name,
        "wasm": str(wasm_path),
        "did": str(did_path),
        "total_len": len(module),
        "sha256_hex": hashlib.sha256(module).hexdigest(),
    }
    sentence = (
        f"wrote {wasm_path} ({len(module)} bytes, sha256 {result['sha256_hex']}) and {did_path}: {EXAMPLES[name]}\n"
        f"next: canister-factory upload {wasm_path}"
    )
    done(s.as_json, result, sentence)


@cli.group("identity")
def identity() -> None:
    """Make and list the identities (keys) kept in the config folder, to use with --identity NAME.

    \b
    Examples:
      canister-factory identity new alice
      canister-factory --identity alice whoami
      canister-factory identity list
    """


@identity.command("new")
@click.argument("name")
@click.option(
    "--key-type",
    type=click.Choice(["ed25519", "secp256k1", "p256"]),
    default="ed25519",
    show_default=True,
    help="The key's algorithm (dfx's default is secp256k1; all three work everywhere here).",
)
@click.pass_obj
def identity_new(s: Session, name: str, key_type: KeyKind) -> None:
    """Make a new key NAME (a PEM file under the config folder, mode 0600) and print its principal.

    \b
    Example: canister-factory identity new alice   (then: canister-factory --identity alice whoami)
    """
    made = identities.create(identities.named_path(name), key_type)
    result = {"name": name, "principal": made.identity.principal, "pem": str(made.path)}
    sentence = (
        f"identity {name}: principal {made.identity.principal}\nkey: {made.path} (use: --identity {name})"
    )
    done(s.as_json, result, sentence)


@identity.command("list")
@click.pass_obj
def identity_list(s: Session) -> None:
    """List the identities kept in the config folder: name, principal and PEM file.

    \b
    Example: canister-factory identity list
    """
    rows = [
        {
            "name": name,
            "principal": _principal_in(path),
            "pem": str(path),
        }
        for name, path in identities.listed()
    ]
    columns: list[Column] = [("NAME", lambda r: r["name"]), ("PRINCIPAL", lambda r: r["principal"]),
                             ("PEM", lambda r: r["pem"])]  # fmt: skip
    empty = f"no identities in {identities.config_dir()} yet (make one: canister-factory identity new NAME)"
    done(s.as_json, {"identities": rows}, table(rows, columns) if rows else empty)


def _principal_in(path: Path) -> str:
    try:
        return load_identity_pem(path.read_bytes()).principal.to_text()
    except (OSError, InvalidInput) as exc:
        return f"(unreadable: {exc})"


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options and their values).

    \b
    Example: eval "$(canister-factory completion bash)"   (add it to ~/.bashrc; ~/.zshrc for zsh)
    """
    cls = get_completion_class(shell)
    assert cls is not None  # the choice lists only the shells click supports
    click.echo(cls(cli, {}, "canister-factory", "_CANISTER_FACTORY_COMPLETE").source())
