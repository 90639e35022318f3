"""Candid commands: ``candid`` prints the factory's .did; ``call METHOD 'ARGS'`` runs any method from Candid text."""

from __future__ import annotations

import json

import click

from canister_factory import interface
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session


@cli.command("candid")
@click.pass_obj
def candid_command(s: Session) -> None:
    """Print the factory's Candid interface (the reference's, plus our additions); with --json, as {"did": ...}.

    \b
    Example: canister-factory candid > factory.did
    """
    if s.as_json:
        click.echo(json.dumps({"did": interface.did_text()}))
    else:
        click.echo(interface.did_text(), nl=False)


@cli.command("call")
@click.argument("method")
@click.argument("args", required=False, default="()")
@click.pass_obj
def call(s: Session, method: str, args: str) -> None:
    """Run METHOD with ARGS in Candid text, typed by the factory's .did, as `dfx canister call` does.

    Prints the result in Candid text (JSON with --json). A `Result` variant's `Err` is printed like any result
    and the exit status is 1.

    \b
    Examples:
      canister-factory call create_upload
      canister-factory call put_chunk '(1, blob "wasm_chunk_data")'
      canister-factory call commit_upload '(1, record { expected_sha256_hex = "..." })'
      canister-factory call set_emergency_stop '(true)'
    """
    values = interface.parse_args(method, args)
    results = interface.call(s.api, method, values)
    if s.as_json:
        click.echo(json.dumps(interface.results_json(method, results)))
    else:
        click.echo(interface.format_results(method, results))
    if len(results) == 1 and isinstance(results[0], dict) and "Err" in results[0]:
        raise SystemExit(1)
