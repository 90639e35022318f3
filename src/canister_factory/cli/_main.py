"""The ``canister-factory`` command group: global options, error translation (once, here), aliases.

Exit statuses: 0 success; 1 the request was refused (a caller error: bad input, not allowed, limits); 2 a usage
error (unknown option, missing argument); 3 the factory cannot serve it (low on cycles, database); 4 the IC
refused or could not be reached.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from canister_factory._core.errors import CallerError, FactoryError, FactoryFault, IcError
from canister_factory._version import __version__
from canister_factory.cli._session import Session
from canister_factory.interface import face_error
from icp_client.principal import Principal, PrincipalError

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_FACTORY = 3
EXIT_IC = 4


def exit_status(exc: FactoryError) -> int:
    if isinstance(exc, CallerError):
        return EXIT_REFUSED
    if isinstance(exc, FactoryFault):
        return EXIT_FACTORY
    if isinstance(exc, IcError):
        return EXIT_IC
    return EXIT_FACTORY


class PrincipalType(click.ParamType):  # type: ignore[type-arg]
    """A principal in its textual form; a bad one is a usage error naming the parameter."""

    name = "principal"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Principal:
        if isinstance(value, Principal):
            return value
        try:
            return Principal.from_text(value)
        except PrincipalError as exc:
            self.fail(str(exc), param, ctx)


PRINCIPAL = PrincipalType()


class FactoryGroup(click.Group):
    """Accepts ``create_upload`` for ``create-upload``; every failure is one line on stderr and an exit status.

    The CLI's one translation of errors: a ``FactoryError`` (or what ``interface.face_error`` makes one of, such
    as an ``icp_client`` ``InvalidInput`` from the caller's input) exits with its status (1, 3, 4); click's usage
    errors with 2; anything unexpected (a bug, an OS error) with 3 and its one-line description, never a
    traceback (``CANISTER_FACTORY_DEBUG=1`` shows it).
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name.replace("_", "-"))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
            _fail(f"{_one_line(exc.format_message())}{hint}", exc.exit_code)
        except click.Abort:
            _fail("aborted", EXIT_REFUSED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            error = face_error(exc)
            if error is not None:
                _report(ctx, error.message, error.code, exit_status(error))
            if os.environ.get("CANISTER_FACTORY_DEBUG"):
                raise
            # the last resort: one line, no traceback
            _report(ctx, f"unexpected {type(exc).__name__}: {exc}", "internal_error", EXIT_FACTORY)
        finally:
            session = ctx.find_object(Session)
            if session is not None:
                session.close()


def _report(ctx: click.Context, message: str, code: str, status: int) -> NoReturn:
    session = ctx.find_object(Session)
    if session is not None and session.as_json:
        click.echo(json.dumps({"error": message, "code": code}))
    _fail(message, status)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(status)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--url`` must be an absolute http(s) URL; anything else is a usage error (exit 2)."""
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        return value
    hint = f"; did you mean http://{value}?" if "://" not in value else ""
    raise click.BadParameter(f"{value!r} is not an http:// or https:// URL{hint}", ctx, param)


_handler: logging.Handler | None = None


def _configure_logging(verbose: int) -> None:
    """``-v``: our loggers and httpx's (one line per HTTP request) at INFO on stderr; ``-vv``: DEBUG."""
    global _handler
    loggers = [logging.getLogger(name) for name in ("canister_factory", "icp_client", "httpx")]
    for logger in loggers:
        if _handler is not None:
            logger.removeHandler(_handler)
    _handler = None
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    _handler = handler


EPILOG = """\b
Environment (each is also an option above):
  CANISTER_FACTORY_STATE      the state folder (--state); default: $XDG_DATA_HOME/canister-factory
  CANISTER_FACTORY_IDENTITY   --identity
  CANISTER_FACTORY_DATABASE   --database (sqlite:///... or postgresql://...)
  CANISTER_FACTORY_NETWORK    --network (at deploy)
  CANISTER_FACTORY_ROOT_KEY   --root-key (at deploy)
  CANISTER_FACTORY_URL        --url
  CANISTER_FACTORY_DEBUG=1    show the traceback of an unexpected error
  XDG_CONFIG_HOME             where identities are kept (default ~/.config): canister-factory/identity.pem,
                              canister-factory/identities/NAME.pem
  XDG_DATA_HOME               where the default state folder is (default ~/.local/share)

\b
Shell completion (commands, options and their values):
  eval "$(canister-factory completion bash)"     # add it to ~/.bashrc; zsh and fish alike
"""


@click.group(
    cls=FactoryGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    epilog=EPILOG,
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CANISTER_FACTORY_STATE",
    help="State folder (default: the per-user data folder). Env: CANISTER_FACTORY_STATE.",
)
@click.option(
    "--identity",
    "identity_spec",
    envvar="CANISTER_FACTORY_IDENTITY",
    metavar="PEM|NAME",
    help="Who you are: a PEM key file as dfx and icp-cli write it (Ed25519, secp256k1, P-256), or the NAME of one"
    " made with `identity new NAME`. Default: ~/.config/canister-factory/identity.pem, created on first use."
    " Env: CANISTER_FACTORY_IDENTITY.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (keys are the Candid field names)."
)
@click.option(
    "--database",
    envvar="CANISTER_FACTORY_DATABASE",
    help="Database URL instead of the state folder's SQLite file (sqlite:///... or postgresql://...)."
    " Env: CANISTER_FACTORY_DATABASE.",
)
@click.option(
    "--network",
    envvar="CANISTER_FACTORY_NETWORK",
    help="The IC to use at deploy: ic (mainnet), local (http://127.0.0.1:4943) or a URL. Default: the embedded IC."
    " Recorded in the state, so later commands need not repeat it. Env: CANISTER_FACTORY_NETWORK.",
)
@click.option(
    "--root-key",
    envvar="CANISTER_FACTORY_ROOT_KEY",
    help="For a network other than mainnet: its root key as hex, or 'fetch' (trust on first use, then pinned)."
    " Env: CANISTER_FACTORY_ROOT_KEY.",
)
@click.option(
    "--provisional-create",
    "provisional",
    is_flag=True,
    help="With --network at deploy: create canisters with provisional_create_canister_with_cycles (development"
    " networks only; the network pays) instead of the cycles ledger.",
)
@click.option(
    "--url",
    envvar="CANISTER_FACTORY_URL",
    callback=_check_url,
    help="Talk to a factory service (canister-factory serve) at this http:// or https:// URL instead of opening"
    " the state; requests are signed with --identity. Env: CANISTER_FACTORY_URL.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Say what the command does on stderr: the identity, the state or service, each HTTP request (-vv: more).",
)
@click.version_option(__version__, prog_name="canister-factory")
@click.pass_context
def cli(
    ctx: click.Context,
    state: Path | None,
    identity_spec: str | None,
    as_json: bool,
    database: str | None,
    network: str | None,
    root_key: str | None,
    provisional: bool,
    url: str | None,
    verbose: int,
) -> None:
    """Create and manage user canisters on the Internet Computer for many callers.

    \b
    Quick start (embedded IC, state in the default folder):
      canister-factory deploy --cycles 100000000000000
      canister-factory example counter --output counter.wasm
      canister-factory upload counter.wasm
      canister-factory create-and-install-with --upload-id 1 --cycles 2000000000000 --init-arg-candid '(42)'
      canister-factory list-my-canisters
    """
    _configure_logging(verbose)
    ctx.obj = Session(state, identity_spec, as_json, database, network, root_key, url, provisional)


def session_of(ctx: click.Context) -> Session:
    return ctx.ensure_object(Session)
