"""``serve``: the factory as an HTTP service for many callers."""

from __future__ import annotations

import json

import click

from canister_factory.cli._main import cli
from canister_factory.cli._session import Session


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--cleanup-interval",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds between TTL cleanups; 0: off.",
)
@click.option("--no-reconcile", is_flag=True, help="Skip finishing interrupted creations at start-up.")
@click.option(
    "--public-url",
    "public_urls",
    multiple=True,
    help="A URL callers reach this service by (repeatable), e.g. the reverse proxy's https://factory.example.com;"
    " signed requests must name it. Default: the address each request arrives on.",
)
@click.option("--log-level", default="info", show_default=True)
@click.pass_obj
def serve(
    s: Session,
    host: str,
    port: int,
    cleanup_interval: float,
    no_reconcile: bool,
    public_urls: tuple[str, ...],
    log_level: str,
) -> None:
    """Serve the factory in the state folder (or --database) over HTTP; callers sign requests with their IC
    keys (see docs/http-api.md). Several processes can serve one PostgreSQL database.

    \b
    Examples:
      canister-factory --state state serve --port 8080
      canister-factory --database postgresql://postgres@127.0.0.1/test serve --port 8081
      canister-factory serve --port 8080 --public-url https://factory.example.com   # behind a reverse proxy
      canister-factory --url http://127.0.0.1:8080 --identity alice.pem create-upload
    """
    s.local_only("serve")
    # Imported here so that FastAPI and uvicorn load only for this command, not for every CLI call.
    from canister_factory.api import ServiceOptions
    from canister_factory.api.serve import opener
    from canister_factory.api.serve import serve as run

    options = ServiceOptions(
        cleanup_interval_s=cleanup_interval or None,
        reconcile_on_start=not no_reconcile,
        public_urls=public_urls,
    )
    source = opener(None if s.database else s.state_dir, s.database)
    url = f"http://{host}:{port}"
    if s.as_json:
        click.echo(json.dumps({"url": url, "state": str(s.database or s.state_dir)}))
    click.echo(f"serving {url} (API reference at {url}/docs, OpenAPI at /openapi.json)", err=True)
    run(source, host=host, port=port, options=options, log_level=log_level)
