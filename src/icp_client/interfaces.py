"""The Candid interfaces the network backend and the HTTP front speak, loaded on first use.

* the management canister ``aaaaa-aa``: ``_data/ic.did`` (the current ``ic.did``, copied unchanged);
* the cycles ledger ``um5iw-rqaaa-aaaaq-qaaba-cai``: ``_data/cycles-ledger.did`` plus the front's
  development-only ``dev_mint`` (see ``icp_local.front``);
* the cycles minting canister ``rkp4c-7iaaa-aaaaa-aaaca-cai``: only ``get_default_subnets``, the one
  method icp-cli's ``canister create`` asks it.

``canister_status_result`` is widened by two fields that icp-cli 1.5.0 requires and the reference ``ic.did``
does not have yet (``settings.log_memory_limit`` and ``memory_metrics.log_memory_store_size``), and
``canister_settings`` by the ``log_memory_limit`` that icp-cli sends; a decoder with the older type drops them
(Candid subtyping), so the wider types are safe for every client.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from icp_client.candid import DecodeLimits, DidFile, FuncType, parse_did, parse_type
from icp_client.principal import Principal

MANAGEMENT_CANISTER = Principal(b"")
CYCLES_LEDGER = Principal.from_text("um5iw-rqaaa-aaaaq-qaaba-cai")
CMC = Principal.from_text("rkp4c-7iaaa-aaaaa-aaaca-cai")

# Replies from the IC are bounded by the 2 MiB response limit; these bounds keep a hostile reply's work small.
REPLY_LIMITS = DecodeLimits(max_depth=64, max_type_table=500, max_args=32)

CMC_DID = """
service : {
  get_default_subnets : () -> (vec principal) query;
}
"""

DEV_MINT_DID = """
type Account = record { owner : principal; subaccount : opt vec nat8 };
type DevMintArgs = record { to : Account; amount : nat };
type DepositResult = record { balance : nat; block_index : nat };
service : {
  dev_mint : (DevMintArgs) -> (DepositResult);
}
"""

_SETTINGS_TAIL = "    environment_variables : opt vec environment_variable;\n};"
_SETTINGS_TAIL_WIDENED = (
    "    environment_variables : opt vec environment_variable;\n    log_memory_limit : opt nat;\n};"
)

_STATUS_EXTENSION = """
record {
  status : variant { running; stopping; stopped };
  ready_for_migration : bool;
  version : nat64;
  settings : record {
    controllers : vec principal;
    compute_allocation : nat;
    memory_allocation : nat;
    freezing_threshold : nat;
    reserved_cycles_limit : nat;
    minimum_incoming_canister_call_cycles : nat;
    log_visibility : log_visibility;
    snapshot_visibility : snapshot_visibility;
    status_visibility : status_visibility;
    wasm_memory_limit : nat;
    wasm_memory_threshold : nat;
    environment_variables : vec environment_variable;
    log_memory_limit : nat;
  };
  module_hash : opt blob;
  memory_size : nat;
  memory_metrics : record {
    wasm_memory_size : nat;
    stable_memory_size : nat;
    global_memory_size : nat;
    wasm_binary_size : nat;
    custom_sections_size : nat;
    canister_history_size : nat;
    wasm_chunk_store_size : nat;
    snapshots_size : nat;
    log_memory_store_size : nat;
  };
  cycles : nat;
  reserved_cycles : nat;
  idle_cycles_burned_per_day : nat;
  query_stats : record {
    num_calls_total : nat;
    num_instructions_total : nat;
    request_payload_bytes_total : nat;
    response_payload_bytes_total : nat;
  };
}
"""


def _read_data(name: str) -> str:
    return resources.files("icp_client._data").joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Interface:
    """One canister's methods (name to ``FuncType``) and its ``candid:service`` text."""

    methods: dict[str, FuncType]
    did_text: str

    def method(self, name: str) -> FuncType | None:
        return self.methods.get(name)


@functools.cache
def management() -> Interface:
    """The management canister's interface (``ic.did``), with the widened settings and ``canister_status``."""
    text = _read_data("ic.did")
    if _SETTINGS_TAIL not in text:
        raise RuntimeError("ic.did's canister_settings no longer ends as expected: update the widening")
    did = parse_did(text.replace(_SETTINGS_TAIL, _SETTINGS_TAIL_WIDENED, 1))
    methods = dict(did.service_methods)
    status = methods["canister_status"]
    widened = parse_type(_STATUS_EXTENSION, did.env)
    methods["canister_status"] = FuncType(status.args, (widened,), status.annotations)
    return Interface(methods, text)


@functools.cache
def cycles_ledger() -> Interface:
    """The cycles ledger's interface (``cycles-ledger.did``) plus the front's ``dev_mint``."""
    text = _read_data("cycles-ledger.did")
    methods = dict(parse_did(text).service_methods)
    methods.update(parse_did(DEV_MINT_DID).service_methods)
    return Interface(methods, text)


def with_dev_mint(ledger_did: str) -> str:
    """The cycles ledger's service text with the front's ``dev_mint`` added (its ``candid:service``)."""
    head, sep, tail = ledger_did.rpartition("\n}")
    if not sep:
        return ledger_did
    method = "  dev_mint : (record { to : Account; amount : nat }) -> (DepositResult);"
    return f"{head}\n{method}{sep}{tail}"


@functools.cache
def cmc() -> Interface:
    """The part of the cycles minting canister's interface that icp-cli uses."""
    return Interface(dict(parse_did(CMC_DID).service_methods), CMC_DID.strip() + "\n")


def did_file(name: str) -> DidFile:
    """Parse one of the packaged ``.did`` files (``ic.did``, ``cycles-ledger.did``)."""
    return parse_did(_read_data(name))


__all__ = [
    "CMC",
    "CYCLES_LEDGER",
    "MANAGEMENT_CANISTER",
    "REPLY_LIMITS",
    "Interface",
    "cmc",
    "cycles_ledger",
    "did_file",
    "management",
    "with_dev_mint",
]
