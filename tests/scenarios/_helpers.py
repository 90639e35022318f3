"""Helpers shared by the scenario modules: uploads and requests written against ``FactoryApi`` only."""

from __future__ import annotations

from tests.support.backends import FactoryApi
from tests.support.factory import CANISTER_CYCLES, CREATION_FEE, LEDGER_FEE, T, request, sha256_hex

__all__ = ["CANISTER_CYCLES", "CREATION_FEE", "LEDGER_FEE", "T", "request", "sha256_hex", "upload"]


def upload(api: FactoryApi, data: bytes, *, chunk_size: int = 1_000_000) -> int:
    """Create an upload of ``data`` in indexed chunks, commit it, and return its id."""
    upload_id = api.create_upload()
    for index, start in enumerate(range(0, len(data), chunk_size)):
        api.put_chunk(upload_id, data[start : start + chunk_size], index)
    assert api.commit_upload(upload_id, sha256_hex(data)) == sha256_hex(data)
    return upload_id
