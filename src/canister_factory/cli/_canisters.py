"""Canister commands: create-and-install-with, the registry listings, canister-status, whoami."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from canister_factory._core.errors import InvalidArgument
from canister_factory._core.model import CanisterInfo, CanisterPage, CreateInstallRequest, Mode
from canister_factory.cli._format import Column, emit, fields_of, iso_time, plain, table
from canister_factory.cli._main import PRINCIPAL, cli
from canister_factory.cli._session import Session
from canister_factory.init_args import encode_init_arg
from icp_client.principal import Principal

_MODES = {"install": Mode.INSTALL, "reinstall": Mode.REINSTALL, "upgrade": Mode.UPGRADE}


@cli.command("create-and-install-with")
@click.option("--upload-id", type=int, required=True, help="A committed upload of yours.")
@click.option(
    "--cycles",
    type=click.IntRange(min=0),
    required=True,
    help="Cycles the factory spends on the new canister. The canister receives them less the IC's creation fee"
    " (500000000000 on the embedded IC and a 13-node subnet) and pays for its install from the rest: 2T gives it"
    " 1.5T. The reply's canister_cycles says what it received. With --canister-id: cycles sent to it (0: none).",
)
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
    created = s.api.create_and_install_with(request)
    emit(s.as_json, fields_of(created), notes=_creation_notes(cycles, canister_id is None))


def _creation_notes(cycles: int, new: bool) -> dict[str, str]:
    notes = {"cycles_used": "taken from the factory's balance, the ledger fee included"}
    if new:
        notes["canister_cycles"] = (
            f"what the canister received: the {cycles} asked less the creation fee; it pays for its install from them"
        )
    return notes


def _init_arg(
    s: Session, upload_id: int, hex_text: str | None, path: Path | None, candid_text: str | None
) -> bytes:
    if sum(x is not None for x in (hex_text, path, candid_text)) > 1:
        raise InvalidArgument("init_arg: give one of --init-arg-hex, --init-arg-file and --init-arg-candid")
    if candid_text is not None:
        return encode_init_arg(candid_text, s.api.get_module_metadata(upload_id))
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
    _print_page(s, page, others=created_for_others)


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
    _print_page(s, page, others=True)


_COLUMNS: list[Column] = [
    ("CANISTER", lambda r: r.get("canister_id")),
    ("STATE", lambda r: r["state"]),
    ("MODULE", lambda r: r["module_hash_hex"][:12]),
    ("CYCLES", lambda r: r["cycles"]),
    ("CREATED", lambda r: iso_time(r["created_at_ns"])),
]
_WHO: list[Column] = [("OWNER", lambda r: r["owner"]), ("CALLER", lambda r: r["caller"])]


def _print_page(s: Session, page: CanisterPage, *, others: bool) -> None:
    """The page as JSON, or as a table (with owner and caller when they may differ from you)."""
    result = {"canisters": list(page.canisters), "next_cursor": page.next_cursor}
    if s.as_json:
        emit(True, result)
        return
    rows = plain(result)["canisters"]
    columns = _COLUMNS[:1] + (_WHO if others else []) + _COLUMNS[1:]
    click.echo(table(rows, columns) if rows else "no canisters")
    if page.next_cursor is not None:
        click.echo(f"more: add --cursor {page.next_cursor}")


@cli.command("canister-status")
@click.argument("canister_id", type=PRINCIPAL)
@click.pass_obj
def canister_status(s: Session, canister_id: Principal) -> None:
    """What the IC reports about a canister you own, created or control: its controllers and module hash, and
    its status, cycles and memory when they can be read (you or the factory control it). Works with --url.

    \b
    Example: canister-factory canister-status wwc2m-2qaaa-aaaac-qaaaa-cai
    """
    info = s.api.canister_status(canister_id)
    if info.status is None and s.url is None and s.caller in info.controllers:
        info = _as_caller(s, info)  # a network: ask it with your own key
    result = fields_of(info)
    if s.as_json or info.status is not None:
        emit(s.as_json, result)
        return
    why = "unknown (not a controller)"
    if s.caller in info.controllers:
        why = f"unknown (the service cannot read it; ask the IC as a controller: icp canister status {canister_id})"
    emit(False, {**result, **dict.fromkeys(("status", "cycles", "memory_size"), why)})


def _as_caller(s: Session, info: CanisterInfo) -> CanisterInfo:
    """``info`` with the status read from the IC as the session's identity (it controls the canister)."""
    status = s.app.ic_as(s.identity).canister_status(canister_id=info.canister_id)
    return dataclasses.replace(
        info, status=status.status.value, cycles=status.cycles, memory_size=status.memory_size
    )


@cli.command("whoami")
@click.pass_obj
def whoami(s: Session) -> None:
    """Print your principal (from --identity, or the default key).

    \b
    Example: canister-factory whoami
    """
    emit(s.as_json, {"principal": s.caller})
