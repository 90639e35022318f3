"""icp_local: a local Internet Computer for development and tests, in process and over the IC's HTTP interface.

One application subnet that runs canisters (wasmtime, the System API: ``execution/``), with its management canister,
the cycles ledger and the CMC, persisted in a database (SQLite or PostgreSQL) so that it survives restarts and
processes that open the same database share one IC. ``LocalIc`` is the in-process API (PocketIC's names for
calling canisters); ``router.py`` routes every call and delivers the messages between canisters;
``icp_local.front`` serves it through the IC's HTTP interface, so that agents (ours, icp-cli, agent-js) use it as
they would a replica; ``icp_local.testing`` has its test doubles. See ``ic.py`` for what differs from the real IC.

It depends only on the IC client library (``icp_client``, principals, Candid, the management canister's records,
the Wasm module rules and the protocol's error tree: a reject is ``icp_client.errors.Reject``) and wasmtime.
"""

from icp_local.config import CMC_ID, CYCLES_LEDGER_ID, MANAGEMENT_CANISTER_ID, SubnetConfig
from icp_local.db import IcDatabase, StorageError
from icp_local.ic import LocalIc
from icp_local.ledger import CreateCanisterOk, DepositResult, LedgerErr
from icp_local.management import CanisterChange, CanisterInfo
from icp_local.rejects import IngressTooLarge
from icp_local.router import CallHook
from icp_local.system_canisters import View

__all__ = [
    "CMC_ID",
    "CYCLES_LEDGER_ID",
    "MANAGEMENT_CANISTER_ID",
    "CallHook",
    "CanisterChange",
    "CanisterInfo",
    "CreateCanisterOk",
    "DepositResult",
    "IcDatabase",
    "IngressTooLarge",
    "LedgerErr",
    "LocalIc",
    "StorageError",
    "SubnetConfig",
    "View",
]
