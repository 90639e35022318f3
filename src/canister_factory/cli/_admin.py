"""Operator and admin commands, and the read-only views."""

from __future__ import annotations

import click

from canister_factory import interface
from canister_factory._core.config import InitArg, deploy_warnings
from canister_factory._core.errors import InvalidArgument
from canister_factory._version import __version__
from canister_factory.bootstrap import App
from canister_factory.cli._format import done, emit, fields_of
from canister_factory.cli._main import PRINCIPAL, cli
from canister_factory.cli._session import Session
from icp_client.principal import Principal


@cli.command("deploy")
@click.option(
    "--max-canisters-per-caller", type=int, default=None, help="Lifetime cap per caller (default 100)."
)
@click.option("--min-factory-cycles", type=int, default=None, help="Cycles floor to keep (default 5T).")
@click.option(
    "--allowlist", type=PRINCIPAL, multiple=True, help="Allowed caller (repeatable; default: anyone)."
)
@click.option("--admin", type=PRINCIPAL, multiple=True, help="Admin (repeatable; default: you).")
@click.option("--max-upload-size", type=int, default=None, help="Bytes per upload (default 50,000,000).")
@click.option(
    "--upload-ttl-seconds", type=int, default=None, help="Open uploads expire after (default 86400)."
)
@click.option(
    "--max-creations-per-day", type=int, default=None, help="Per-caller rolling-day limit (default off)."
)
@click.option(
    "--max-cycles-per-caller-per-day",
    type=int,
    default=None,
    help="Cycles one caller may spend in a rolling day, creations and top-ups (default: no bound).",
)
@click.option(
    "--max-stored-module-bytes", type=int, default=None, help="Bytes of modules kept in all (default 20 GiB)."
)
@click.option("--cycles", type=click.IntRange(min=0), default=0, help="Starting balance on the embedded IC.")
@click.option(
    "--argument", default=None, help="The init argument in Candid text, as `dfx deploy --argument`."
)
@click.pass_obj
def deploy(
    s: Session,
    max_canisters_per_caller: int | None,
    min_factory_cycles: int | None,
    allowlist: tuple[Principal, ...],
    admin: tuple[Principal, ...],
    max_upload_size: int | None,
    upload_ttl_seconds: int | None,
    max_creations_per_day: int | None,
    max_cycles_per_caller_per_day: int | None,
    max_stored_module_bytes: int | None,
    cycles: int,
    argument: str | None,
) -> None:
    """Deploy the factory in the state folder, with the reference's init options (flags, or --argument).

    \b
    Examples:
      canister-factory deploy --cycles 100000000000000 --max-canisters-per-caller 50
      canister-factory deploy --argument '(opt record { max_canisters_per_caller = opt (50 : nat32) })'
    """
    flags = InitArg(
        max_canisters_per_caller=max_canisters_per_caller,
        min_factory_cycles=min_factory_cycles,
        allowlist=allowlist or None,
        admins=admin or None,
        max_upload_size=max_upload_size,
        upload_ttl_seconds=upload_ttl_seconds,
        max_creations_per_day=max_creations_per_day,
        max_cycles_per_caller_per_day=max_cycles_per_caller_per_day,
        max_stored_module_bytes=max_stored_module_bytes,
    )
    init = flags if argument is None else _init_from_argument(argument, flags)
    app = s.app
    settings = app.deploy(s.caller, init, cycles=cycles)
    balance = app.factory.cycles_balance()
    for warning in [*deploy_warnings(settings), *_funding_warning(app, balance, settings.min_factory_cycles)]:
        click.echo(f"Warning: {warning}", err=True)
    emit(
        s.as_json,
        {
            "factory_principal": app.factory.principal,
            "factory_cycles_balance": balance,
            "min_factory_cycles": settings.min_factory_cycles,
            "state": str(s.database or s.state_dir),
            "network": app.network.name,
        },
    )


def _funding_warning(app: App, balance: int, floor: int) -> list[str]:
    """What to do when the factory starts at or below its cycles floor (it would refuse every upload)."""
    if balance > floor:
        return []
    how = (
        "add cycles: canister-factory top-up --cycles 100000000000000 (or deploy with --cycles)"
        if app.embedded is not None
        else f"send cycles to its cycles-ledger account, principal {app.factory.principal}"
    )
    return [
        f"the factory has {balance} cycles, not above min_factory_cycles ({floor}): it refuses uploads and "
        f"creations until it has more; {how}"
    ]


def _init_from_argument(text: str, flags: InitArg) -> InitArg | None:
    if flags != InitArg():
        raise InvalidArgument("deploy: give the options as flags or as --argument, not both")
    return interface.init_arg_from_candid(interface.parse_init(text))


@cli.command("top-up")
@click.option("--cycles", type=click.IntRange(min=1), required=True, help="Cycles to add.")
@click.pass_obj
def top_up(s: Session, cycles: int) -> None:
    """Admin only: add cycles to the factory's cycles-ledger account (the embedded IC, or a local network that
    allows it; on the real IC, send cycles to the factory's principal instead).

    \b
    Example: canister-factory top-up --cycles 50000000000000
    """
    app = s.app
    app.require_admin(s.caller)
    app.fund(cycles)
    emit(s.as_json, {"factory_cycles_balance": app.factory.cycles_balance()})


@cli.command("set-emergency-stop")
@click.argument("stopped", type=click.BOOL)
@click.pass_obj
def set_emergency_stop(s: Session, stopped: bool) -> None:
    """Admin only: stop (true) or resume (false) every caller method.

    \b
    Example: canister-factory set-emergency-stop true
    """
    s.api.set_emergency_stop(stopped)
    sentence = (
        "emergency stop is on: every caller method is refused until `set-emergency-stop false`"
        if stopped
        else "emergency stop is off: callers are served"
    )
    done(s.as_json, {"emergency_stop": stopped}, sentence)


@cli.command("set-allowlist")
@click.argument("principals", type=PRINCIPAL, nargs=-1)
@click.option("--none", "open_to_all", is_flag=True, help="Remove the allowlist: every caller is allowed.")
@click.pass_obj
def set_allowlist(s: Session, principals: tuple[Principal, ...], open_to_all: bool) -> None:
    """Admin only: allow only PRINCIPALS, or everyone with --none.

    \b
    Examples: canister-factory set-allowlist aaaaa-aa 2vxsx-fae ...   |   canister-factory set-allowlist --none
    """
    if open_to_all and principals:
        raise InvalidArgument("allowlist: give principals or --none, not both")
    if not open_to_all and not principals:
        raise InvalidArgument("allowlist: give at least one principal, or --none to allow everyone")
    allowlist = None if open_to_all else list(dict.fromkeys(principals))
    s.api.set_allowlist(allowlist)
    sentence = (
        "allowlist removed: every caller is allowed"
        if allowlist is None
        else f"allowlist set: only these {len(allowlist)} callers are allowed"
    )
    done(s.as_json, {"allowlist": allowlist}, sentence)


@cli.command("add-admin")
@click.argument("principal", type=PRINCIPAL)
@click.pass_obj
def add_admin(s: Session, principal: Principal) -> None:
    """Admin only: make PRINCIPAL an admin.

    \b
    Example: canister-factory add-admin rrkah-fqaaa-aaaaa-aaaaq-cai
    """
    s.api.add_admin(principal)
    done(s.as_json, {"admin": principal, "added": True}, f"{principal} is an admin")


@cli.command("remove-admin")
@click.argument("principal", type=PRINCIPAL)
@click.pass_obj
def remove_admin(s: Session, principal: Principal) -> None:
    """Admin only: remove PRINCIPAL from the admins (never the last one).

    \b
    Example: canister-factory remove-admin rrkah-fqaaa-aaaaa-aaaaq-cai
    """
    s.api.remove_admin(principal)
    done(s.as_json, {"admin": principal, "removed": True}, f"{principal} is no longer an admin")


@cli.command("cleanup-expired-uploads-manual")
@click.pass_obj
def cleanup_expired_uploads_manual(s: Session) -> None:
    """Admin only: remove expired open uploads now; prints how many.

    \b
    Example: canister-factory --json cleanup-expired-uploads-manual
    """
    removed = s.api.cleanup_expired_uploads_manual()
    done(s.as_json, {"removed": removed}, f"removed {removed} expired upload{'' if removed == 1 else 's'}")


@cli.command("get-config")
@click.pass_obj
def get_config(s: Session) -> None:
    """Show the factory's configuration (the reference's Config record, plus our options).

    \b
    Example: canister-factory --json get-config
    """
    emit(s.as_json, fields_of(s.api.get_config()))


@cli.command("my-stats")
@click.pass_obj
def my_stats(s: Session) -> None:
    """Your canister count (quota used) and the time of your last creation.

    \b
    Example: canister-factory --identity alice.pem my-stats
    """
    emit(s.as_json, fields_of(s.api.my_stats()))


@cli.command("get-factory-stats")
@click.pass_obj
def get_factory_stats(s: Session) -> None:
    """Totals: canisters created, uploads, callers, and the factory's cycles balance.

    \b
    Example: canister-factory --json get-factory-stats
    """
    emit(s.as_json, fields_of(s.api.get_factory_stats()))


@cli.command("health-check")
@click.pass_obj
def health_check(s: Session) -> None:
    """Prints "Healthy", or "Low cycles: {balance} (min {min})".

    \b
    Example: canister-factory health-check
    """
    emit(s.as_json, {"health": s.api.health_check()})


@cli.command("version")
@click.pass_obj
def version(s: Session) -> None:
    """The factory's version.

    \b
    Example: canister-factory version
    """
    emit(s.as_json, {"version": __version__})
