"""What the IC charges a new canister to install its module, on a subnet of any size. No I/O here.

The fees are those of a 13-node application subnet (the IC's cycle-costs reference, "Cost table" and "Execution
cost formula"); on a larger subnet every fee scales with the node count, and so does the canister creation fee,
which the IC port reports. So the install's cost on the factory's subnet is the 13-node cost scaled by
``creation_fee / 500B``.

Installing a module is one update message of ``install_code`` (or ``install_chunked_code``): the IC takes the
ingress fees and prepays the execution for the install's instruction limit (300 billion, the resource limits'
"Per canister install or upgrade"), refunding what ``canister_init`` does not use; and the canister must stay above
its freezing threshold with the module stored (30 days of storage by default). A canister created with fewer
cycles than the creation fee plus this is made and then cannot be installed; the factory refuses such a request
before it spends anything.
"""

from __future__ import annotations

CREATION_FEE_13_NODES = 500_000_000_000
UPDATE_BASE_FEE = 5_000_000
FEE_PER_INSTRUCTION = 1  # 1B instructions cost 1B cycles
INSTALL_INSTRUCTION_LIMIT = 300_000_000_000
INGRESS_MESSAGE_FEE = 1_200_000
INGRESS_BYTE_FEE = 2_000
STORAGE_FEE_PER_GIB_SECOND = 127_000
FREEZING_THRESHOLD_SECONDS = 30 * 24 * 3600  # the IC's default freezing threshold
UPLOAD_CHUNK_FEE = 200_000_000  # on top of the ingress fees, per chunk stored in a chunk store
GIB = 1024**3


def _scaled(cycles_on_13_nodes: int, creation_fee: int) -> int:
    """A 13-node fee on the subnet whose creation fee is ``creation_fee`` (rounded up)."""
    return -(-cycles_on_13_nodes * creation_fee // CREATION_FEE_13_NODES)


def install_cost(creation_fee: int, message_bytes: int, module_bytes: int) -> int:
    """Cycles a new canister needs to install a module: execution prepaid, ingress, and the freezing threshold.

    ``message_bytes``: the install message's size (the module when it fits one message, plus the argument);
    ``module_bytes``: the module's size, which the canister then stores.
    """
    execution = UPDATE_BASE_FEE + INSTALL_INSTRUCTION_LIMIT * FEE_PER_INSTRUCTION
    ingress = INGRESS_MESSAGE_FEE + INGRESS_BYTE_FEE * message_bytes
    storage = -(-STORAGE_FEE_PER_GIB_SECOND * module_bytes * FREEZING_THRESHOLD_SECONDS // GIB)
    return _scaled(execution + ingress + storage, creation_fee)


def upload_chunk_cost(creation_fee: int, chunk_bytes: int) -> int:
    """Cycles a store canister pays to keep one chunk of ``chunk_bytes`` in its chunk store."""
    return _scaled(INGRESS_MESSAGE_FEE + INGRESS_BYTE_FEE * chunk_bytes + UPLOAD_CHUNK_FEE, creation_fee)
