"""Helpers shared by the scenario modules: uploads and requests written against ``FactoryApi`` only."""

from __future__ import annotations

import hashlib

from canister_factory._core.model import CreateInstallRequest, Mode
from tests.support.backends import FactoryApi

T = 1_000_000_000_000
CANISTER_CYCLES = 1 * T
CREATION_FEE = 500_000_000_000  # the embedded IC's (and the front's) canister creation fee
LEDGER_FEE = 100_000_000  # its cycles ledger's transfer fee
COUNTER_INIT_ARG = bytes.fromhex("4449444c00017d2a")  # Candid (42 : nat)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(api: FactoryApi, data: bytes, *, chunk_size: int = 1_000_000) -> int:
    """Create an upload of ``data`` in indexed chunks, commit it, and return its id."""
    upload_id = api.create_upload()
    for index, start in enumerate(range(0, len(data), chunk_size)):
        api.put_chunk(upload_id, data[start : start + chunk_size], index)
    assert api.commit_upload(upload_id, sha256_hex(data)) == sha256_hex(data)
    return upload_id


def request(upload_id: int, *, cycles: int = CANISTER_CYCLES, **fields: object) -> CreateInstallRequest:
    """A ``CreateInstallRequest`` for a new canister with handoff; override any field by keyword."""
    values: dict[str, object] = {
        "upload_id": upload_id,
        "init_arg": COUNTER_INIT_ARG,
        "mode": Mode.INSTALL,
        "cycles": cycles,
        "handoff": True,
    }
    values.update(fields)
    return CreateInstallRequest(**values)  # type: ignore[arg-type]
