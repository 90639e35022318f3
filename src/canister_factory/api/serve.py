"""Run the service with uvicorn: what ``canister-factory serve`` and ``python -m canister_factory.api`` call."""

from __future__ import annotations

import argparse
import functools
import logging
from pathlib import Path

import uvicorn

from canister_factory.api.app import AppSource, ServiceOptions, create_app
from canister_factory.bootstrap import App, open_app


def serve(
    source: AppSource,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    options: ServiceOptions | None = None,
    log_level: str = "info",
) -> None:
    """Serve the factory over HTTP until interrupted (Ctrl-C or SIGTERM stop it cleanly).

    The service's own log (``canister_factory``: one line per request, with the caller and the error code;
    start-up and background work) goes to stderr at ``log_level``; uvicorn's access log, which names neither,
    is off.
    """
    log_to_stderr(log_level)
    config = uvicorn.Config(
        create_app(source, options),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        ws="none",
        lifespan="on",
        proxy_headers=False,
    )
    uvicorn.Server(config).run()


def log_to_stderr(level: str) -> None:
    """Send the ``canister_factory`` loggers to stderr at ``level`` (once: a handler already there is kept)."""
    logger = logging.getLogger("canister_factory")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_canister_factory", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._canister_factory = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def opener(state_dir: Path | None, database_url: str | None) -> functools.partial[App]:
    """A function that opens the factory at start-up (so the service owns and closes it)."""
    return functools.partial(open_app, state_dir, database_url=database_url)


def main(argv: list[str] | None = None) -> None:
    """``python -m canister_factory.api [--host H] [--port P] [--state DIR | --database URL] ...``."""
    parser = argparse.ArgumentParser(prog="python -m canister_factory.api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--state", type=Path, default=None, help="state directory (SQLite)")
    parser.add_argument("--database", default=None, help="sqlite:///... or postgresql://...")
    parser.add_argument("--cleanup-interval", type=float, default=60.0, help="seconds; 0 turns it off")
    parser.add_argument("--no-reconcile", action="store_true", help="skip reconciliation at start-up")
    parser.add_argument(
        "--public-url", action="append", default=[], help="a URL callers reach the service by (repeatable)"
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    options = ServiceOptions(
        cleanup_interval_s=args.cleanup_interval or None,
        reconcile_on_start=not args.no_reconcile,
        public_urls=tuple(args.public_url),
    )
    serve(
        opener(args.state, args.database),
        host=args.host,
        port=args.port,
        options=options,
        log_level=args.log_level,
    )
