"""icp_client: a client library for the Internet Computer's public interface, in Python.

Each concept once, each with its own module, under one error tree (``errors.py``)::

    principal      Principal: text, bytes, self-authenticating and anonymous ids
    candid/        Candid: types, binary codec with subtyping and decoding limits, text values, .did files
    identity       keys from dfx / icp-cli PEM files (Ed25519, secp256k1, P-256), signatures
    request_id     representation-independent hashing, request ids, signature checks, delegations
    envelope       the signed CBOR envelope of a call, query or read_state
    hashtree       certified hash trees: reconstruct, look up, build and prune
    bls, certificate  BLS12-381 and certificate verification (delegations, canister ranges)
    agent          an agent over the HTTP interface (v4, v3, v2 calls; queries; read_state)
    interfaces     the management canister's, cycles ledger's and CMC's Candid interfaces
    management     the management canister's records as typed values
    wasm           canister modules: magic numbers and the module hash

It depends on nothing of the packages built on it (``icp_local``, ``canister_factory``).
"""

from icp_client.errors import (
    HttpRefused,
    IcpError,
    InvalidInput,
    Reject,
    SignatureRejected,
    Unavailable,
)
from icp_client.principal import Principal, PrincipalError

__all__ = [
    "HttpRefused",
    "IcpError",
    "InvalidInput",
    "Principal",
    "PrincipalError",
    "Reject",
    "SignatureRejected",
    "Unavailable",
]
