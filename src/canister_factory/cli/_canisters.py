"""Canister commands: create-and-install-with, the registry listings, canister-status, whoami."""

from __future__ import annotations

from pathlib import Path

import click

from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.cli._format import emit, fields_of
from canister_factory.cli._main import PRINCIPAL, cli
from canister_factory.cli._session import Session
from canister_factory.init_args import encode_init_arg
from icp_client.principal import Principal

_MODES = {"install": Mode.INSTALL, "reinstall": Mode.REINSTALL, "upgrade": Mode.UPGRADE}


@cli.command("create-and-install-with")
@click.option("--upload-id", type=int, required=True, help="A committed upload of yours.")
@click.option("--cycles", type=click.IntRange(min=0), required=True, help="Cycles for the new canister.")
@click.option(
    "--mode", type=click.Choice(list(_MODES), case_sensitive=False), default="install", show_default=True
)
@click.option(
    "--handoff/--no-handoff", default=True, show_default=True, help="Remove the factory as controller."
)
@click.option(
    "--extra-controller", "extra", type=PRINCIPAL, multiple=True, help="Another controller (repeatable)."
)
@click.option("--init-arg-hex", default=None, help="The init argument as hex (e.g. Candid bytes).")
@click.option("--init-arg-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option(
    "--init-arg-candid",
    default=None,
    help="The init argument in Candid text, typed by the module's candid:args / candid:service metadata.",
)
@click.option(
    "--canister-id", type=PRINCIPAL, default=None, help="Reinstall or upgrade this canister instead."
)
@click.option("--idempotency-key", default=None, help="A retry with the same key returns the first result.")
@click.option(
    "--owner",
    type=PRINCIPAL,
    default=None,
    help="Create the canister for this principal (default: you): with handoff its controllers are exactly the"
    " owner and the --extra-controller ones; it counts in your quota and shows in the owner's list-my-canisters.",
)
@click.pass_obj
def create_and_install_with(
    s: Session,
    upload_id: int,
    cycles: int,
    mode: str,
    handoff: bool,
    extra: tuple[Principal, ...],
    init_arg_hex: str | None,
    init_arg_file: Path | None,
    init_arg_candid: str | None,
    canister_id: Principal | None,
    idempotency_key: str | None,
    owner: Principal | None,
) -> None:
    """Create a canister from a committed upload, install it and hand it to you.

    \b
    Examples:
      canister-factory create-and-install-with --upload-id 1 --cycles 2000000000000 --init-arg-hex 4449444c00017d2a
      canister-factory create-and-install-with --upload-id 1 --cycles 2000000000000 --init-arg-candid '(42)'
      canister-factory create-and-install-with --upload-id 2 --cycles 0 --mode upgrade --canister-id <id>
      canister-factory create-and-install-with --upload-id 1 --cycles 2000000000000 --owner <user principal>
    """
    request = CreateInstallRequest(
        upload_id=upload_id,
        init_arg=_init_arg(s, upload_id, init_arg_hex, init_arg_file, init_arg_candid),
        mode=_MODES[mode.lower()],
        cycles=cycles,
        handoff=handoff,
        extra_controllers=extra or None,
        canister_id=canister_id,
        idempotency_key=idempotency_key,
        owner=owner,
    )
    emit(s.as_json, fields_of(s.api.create_and_install_with(request)))


def _init_arg(
    s: Session, upload_id: int, hex_text: str | None, path: Path | None, candid_text: str | None
) -> bytes:
    if sum(x is not None for x in (hex_text, path, candid_text)) > 1:
        raise InvalidArgument("init_arg: give one of --init-arg-hex, --init-arg-file and --init-arg-candid")
    if candid_text is not None:
        return encode_init_arg(candid_text, s.module_bytes(upload_id))
    if path is not None:
        return path.read_bytes()
    if hex_text is None:
        return b""
    try:
        return bytes.fromhex(hex_text.removeprefix("0x"))
    except ValueError:
        raise InvalidArgument(f"init_arg: --init-arg-hex is not hexadecimal: {hex_text!r}") from None


@cli.command("list-my-canisters")
@click.option("--cursor", type=int, default=None, help="next_cursor from the previous page.")
@click.option("--limit", type=int, default=None, help="Page size (1 to 1000, default 100).")
@click.option(
    "--created-for-others", is_flag=True, help="Also the canisters you created for someone else (--owner)."
)
@click.pass_obj
def list_my_canisters(s: Session, cursor: int | None, limit: int | None, created_for_others: bool) -> None:
    """List the canisters you own, newest first (with --created-for-others, also those you created for others).

    \b
    Example: canister-factory --json list-my-canisters --limit 10
    """
    page = s.api.list_my_canisters(cursor, limit, created_for_others)
    emit(s.as_json, {"canisters": list(page.canisters), "next_cursor": page.next_cursor})


@cli.command("list-canisters")
@click.option("--cursor", type=int, default=None, help="next_cursor from the previous page.")
@click.option("--limit", type=int, default=None, help="Page size (1 to 1000, default 100).")
@click.pass_obj
def list_canisters(s: Session, cursor: int | None, limit: int | None) -> None:
    """Admin only: list every canister the factory created, newest first.

    \b
    Example: canister-factory list-canisters
    """
    page = s.api.list_canisters(cursor, limit)
    emit(s.as_json, {"canisters": list(page.canisters), "next_cursor": page.next_cursor})


@cli.command("canister-status")
@click.argument("canister_id", type=PRINCIPAL)
@click.pass_obj
def canister_status(s: Session, canister_id: Principal) -> None:
    """What the IC reports about a canister: controllers and module hash (public), and its cycles and status
    when your identity may see them (a controller, as `icp canister status` asks).

    \b
    Example: canister-factory canister-status wwc2m-2qaaa-aaaac-qaaaa-cai
    """
    ic = s.app.ic_as(s.identity)
    result: dict[str, object] = {
        "canister_id": canister_id,
        "controllers": list(ic.read_controllers(canister_id=canister_id)),
        "module_hash_hex": (ic.read_module_hash(canister_id=canister_id) or b"").hex() or None,
        "cycles": None,
        "status": None,
    }
    if s.caller in result["controllers"]:  # type: ignore[operator]
        status = ic.canister_status(canister_id=canister_id)
        result.update(cycles=status.cycles, status=status.status.value, memory_size=status.memory_size)
    emit(s.as_json, result)


@cli.command("whoami")
@click.pass_obj
def whoami(s: Session) -> None:
    """Print your principal (from --identity, or the default key).

    \b
    Example: canister-factory whoami
    """
    emit(s.as_json, {"principal": s.caller})
