"""The embedded subnet's configuration and the well-known principals it answers for. Standard library only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from icp_client.management import (
    CANISTER_CREATION_FEE,
    CHUNK_SIZE,
    DEFAULT_FREEZING_THRESHOLD,
    DEFAULT_RESERVED_CYCLES_LIMIT,
    DEFAULT_WASM_MEMORY_LIMIT,
    MAX_CHUNKS_PER_STORE,
    MAX_CONTROLLERS,
)
from icp_client.principal import Principal
from icp_local import fees

MANAGEMENT_CANISTER_ID = Principal(b"")
CYCLES_LEDGER_ID = Principal.from_canister_index(0x0210_0002)  # um5iw-rqaaa-aaaaq-qaaba-cai
CMC_ID = Principal.from_canister_index(4)  # rkp4c-7iaaa-aaaaa-aaaca-cai

CANISTER_IDS_PER_SUBNET = 2**20
T = 1_000_000_000_000


def _default_subnet_id() -> Principal:
    # Subnet ids are self-authenticating principals of the subnet's public key; ours has no key, so we
    # derive a fixed one from a name.
    return Principal(hashlib.sha224(b"canister-factory embedded subnet").digest() + b"\x02")


@dataclass(frozen=True, slots=True)
class SubnetConfig:
    """The embedded subnet: its id, its canister id range, its fees and limits
    (a 13-node subnet's by default).

    The id range ``[first_index, last_index]`` is one subnet block (2^20 ids) that holds neither the NNS
    canisters (indices 0..) nor the cycles ledger (0x02100002).
    """

    subnet_id: Principal = field(default_factory=_default_subnet_id)
    first_index: int = 5 * CANISTER_IDS_PER_SUBNET
    last_index: int = 6 * CANISTER_IDS_PER_SUBNET - 1
    creation_fee: int = CANISTER_CREATION_FEE
    ledger_fee: int = 100_000_000
    default_provisional_cycles: int = 100 * T
    max_controllers: int = MAX_CONTROLLERS
    chunk_size: int = CHUNK_SIZE
    max_chunks: int = MAX_CHUNKS_PER_STORE
    max_ingress_bytes: int = 2 * 1024 * 1024
    default_freezing_threshold: int = DEFAULT_FREEZING_THRESHOLD
    default_reserved_cycles_limit: int = DEFAULT_RESERVED_CYCLES_LIMIT
    default_wasm_memory_limit: int = DEFAULT_WASM_MEMORY_LIMIT
    update_base_fee: int = fees.UPDATE_MESSAGE_FEE
    ingress_message_fee: int = fees.INGRESS_MESSAGE_FEE
    ingress_byte_fee: int = fees.INGRESS_BYTE_FEE
    upload_chunk_fee: int = fees.UPLOAD_CHUNK_FEE
    history_kept: int = 20
    ledger_window_ns: int = 24 * 3600 * 1_000_000_000
    ledger_drift_ns: int = 60 * 1_000_000_000

    def in_range(self, canister_id: Principal) -> bool:
        """Whether ``canister_id`` is one this subnet allocates automatically."""
        index = canister_id.canister_index()
        return index is not None and self.first_index <= index <= self.last_index
