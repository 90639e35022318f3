"""``local-network``: serve the state folder's embedded IC through the IC's HTTP interface, as a replica would."""

from __future__ import annotations

import json

import click

from canister_factory.bootstrap import open_local_ic
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session
from icp_local.front import DEFAULT_PORT, KEY_FILE_NAME, load_or_create_front_keys, serve_front


@cli.command("local-network")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it on loopback)."
)
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True)
@click.pass_obj
def local_network(s: Session, host: str, port: int) -> None:
    """Serve the embedded IC of the state folder on HTTP, so that a factory on `--network URL`, icp-cli and
    agent-js can use it. Prints the root key to pass as `--root-key` / `-k`. Runs until interrupted.

    \b
    Examples:
      canister-factory --state ic-state local-network --port 4943
      canister-factory --state f1 --network http://127.0.0.1:4943 --root-key <hex> deploy --cycles 100000000000000
      icp canister status <id> -n http://127.0.0.1:4943 -k <hex>
    """
    s.local_only("local-network")
    state = s.state_dir
    engine = open_local_ic(s.database, state)
    keys = load_or_create_front_keys(state / KEY_FILE_NAME)
    if s.as_json:
        click.echo(json.dumps({"root_key": keys.root_key_der.hex(), "url": f"http://{host}:{port}"}))
    else:
        click.echo(f"root key: {keys.root_key_der.hex()}")
    click.echo(f"listening on http://{host}:{port}", err=True)
    serve_front(engine, keys, host, port, log_level="warning")
