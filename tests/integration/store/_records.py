"""Records the contract tests store: principals, settings, uploads and creations."""

from __future__ import annotations

from dataclasses import replace

from canister_factory._core.config import InitArg, Settings, resolve_init
from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory._core.uploads import Upload
from canister_factory.unit_of_work import CreationRow, Transaction
from icp_client.principal import Principal

ALICE = Principal(b"\x0a\x01")
BOB = Principal(b"\x0b\x01")
ADMIN = Principal(b"\xad\x01")
CANISTER = Principal(b"\x00\x00\x00\x00\x00\x00\x00\x01\x01\x01")
OTHER_CANISTER = Principal(b"\x00\x00\x00\x00\x00\x00\x00\x02\x01\x01")
U128 = 2**100  # cycles beyond SQLite's 64-bit integers

SETTINGS: Settings = resolve_init(InitArg(allowlist=(ALICE, BOB), max_cycles_per_caller_per_day=U128), ADMIN)


def deploy(tx: Transaction, settings: Settings = SETTINGS) -> None:
    tx.settings.insert(settings, deployer=ADMIN, now_ns=1, network="embedded")


def upload(upload_id: int, owner: Principal = ALICE, *, at: int = 10) -> Upload:
    return Upload(upload_id, owner, at, at, 0, 0, None)


def creation(owner: Principal = ALICE, **fields: object) -> CreationRow:
    row = CreationRow(
        id=0,
        owner=owner,
        caller=owner,
        canister_id=None,
        upload_id=1,
        module_hash=b"\x11" * 32,
        mode=Mode.INSTALL,
        cycles=U128,
        handoff=True,
        controllers=(owner, ADMIN),
        init_arg=b"DIDL\x00\x00",
        state=State.RESERVED,
        created_at_time_ns=5,
        idempotency_key=None,
        cycles_used=None,
        error=None,
        requested_at_ns=100,
        updated_at_ns=100,
        claimed_by="host:1:abc",
        claimed_until_ns=1000,
    )
    return replace(row, **fields)  # type: ignore[arg-type]
