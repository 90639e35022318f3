"""What a 13-node application subnet charges, in cycles (``cycle-costs.md``): one table for the local IC.

The router charges these to canisters (:func:`update_execution`, :func:`ingress_induction`, :func:`call_request`,
:func:`call_response`); the System API's ``ic0.cost_*`` functions report them. Queries are free.
"""

from __future__ import annotations

from icp_client.management import CANISTER_CREATION_FEE

__all__ = [
    "CALL_BYTE_FEE",
    "CALL_FEE",
    "CANISTER_CREATION_FEE",
    "COMPUTE_PERCENT_SECOND_FEE",
    "HTTP_BASE_FEE",
    "HTTP_REQUEST_BYTE_FEE",
    "HTTP_RESPONSE_BYTE_FEE",
    "INGRESS_BYTE_FEE",
    "INGRESS_MESSAGE_FEE",
    "INSTRUCTION_FEE",
    "MAX_RESPONSE_BYTES",
    "SIGN_FEE",
    "STORAGE_GIB_SECOND_FEE",
    "UPDATE_MESSAGE_FEE",
    "UPLOAD_CHUNK_FEE",
    "call_request",
    "call_response",
    "ingress_induction",
    "update_execution",
]

UPDATE_MESSAGE_FEE = 5_000_000
"""Base fee of every update message execution (updates, callbacks, install steps), paid by the executing canister."""
INSTRUCTION_FEE = 1
"""Per instruction executed, on top of the base fee (1B instructions cost 1B cycles)."""
INGRESS_MESSAGE_FEE = 1_200_000
"""Per ingress message received, paid by the receiving canister."""
INGRESS_BYTE_FEE = 2_000
"""Per byte of an ingress message (method name and argument), paid by the receiving canister."""
CALL_FEE = 260_000
"""Per inter-canister call (request and response), paid by the calling canister."""
CALL_BYTE_FEE = 1_000
"""Per byte of an inter-canister request or response, paid by the calling canister."""
STORAGE_GIB_SECOND_FEE = 127_000
COMPUTE_PERCENT_SECOND_FEE = 10_000_000
UPLOAD_CHUNK_FEE = 200_000_000
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
HTTP_BASE_FEE = 49_140_000
HTTP_REQUEST_BYTE_FEE = 5_200
HTTP_RESPONSE_BYTE_FEE = 10_400
SIGN_FEE = 26_153_846_153
_RESPONSE_EXECUTION_RESERVE = UPDATE_MESSAGE_FEE + 40_000_000_000 * INSTRUCTION_FEE // 100


def update_execution(instructions: int) -> int:
    """An update message's execution: the base fee plus its instructions."""
    return UPDATE_MESSAGE_FEE + INSTRUCTION_FEE * instructions


def ingress_induction(method: str, arg: bytes) -> int:
    """Receiving an ingress message of ``method`` with ``arg``."""
    return INGRESS_MESSAGE_FEE + INGRESS_BYTE_FEE * (len(method.encode()) + len(arg))


def call_request(method: str, arg: bytes) -> int:
    """Sending an inter-canister request (its bytes), charged when the call is performed."""
    return CALL_FEE + CALL_BYTE_FEE * (len(method.encode()) + len(arg))


def call_response(payload_size: int) -> int:
    """Receiving the response to a call (its bytes), charged to the caller."""
    return CALL_BYTE_FEE * payload_size


def cost_call(method_name_size: int, payload_size: int) -> int:
    """``ic0.cost_call``: a call's fee with the largest response and its callback's execution reserved."""
    transmitted = method_name_size + payload_size + MAX_RESPONSE_BYTES
    return CALL_FEE + CALL_BYTE_FEE * transmitted + _RESPONSE_EXECUTION_RESERVE
