"""The front's keys: a BLS root key that signs certificates and an Ed25519 node key that signs query replies.

Both come from one 32-byte secret, kept in a file next to the database (``front-root-key``, mode 0600,
hex), so the root key that clients pin with ``-k <hex>`` survives restarts. The front plays a single-subnet
IC whose subnet is the root subnet, as a local replica does: certificates carry no delegation, and the
subnet id is the self-authenticating principal of the root key (what agent-rs and the specification take as
``RootSubnetId`` for an undelegated certificate).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from icp_client.bls import BlsKeyPair
from icp_client.errors import InvalidInput
from icp_client.identity import Ed25519Identity
from icp_client.principal import Principal

_SECRET_LENGTH = 32
KEY_FILE_NAME = "front-root-key"


@dataclass(frozen=True)
class FrontKeys:
    """The root (subnet) BLS key pair and the one node's Ed25519 key."""

    root: BlsKeyPair
    node: Ed25519Identity

    @property
    def root_key_der(self) -> bytes:
        """The DER root key that ``/api/v2/status`` serves and clients pin."""
        return self.root.der_public_key

    @property
    def subnet_id(self) -> Principal:
        return Principal.self_authenticating(self.root_key_der)

    @property
    def node_id(self) -> Principal:
        return self.node.principal


def front_keys_from_secret(secret: bytes) -> FrontKeys:
    """Derive both keys from ``secret`` (32 bytes).

    Raises:
        InvalidInput: the secret is not 32 bytes.
    """
    if len(secret) != _SECRET_LENGTH:
        raise InvalidInput(f"front key secret must be {_SECRET_LENGTH} bytes, got {len(secret)}")
    root = BlsKeyPair.from_secret(hashlib.sha256(b"canister-factory front root key" + secret).digest())
    node = Ed25519Identity.from_seed(hashlib.sha256(b"canister-factory front node key" + secret).digest())
    return FrontKeys(root=root, node=node)


def generate_front_keys() -> FrontKeys:
    """Fresh keys (tests; a front whose clients fetch the key each time)."""
    return front_keys_from_secret(secrets.token_bytes(_SECRET_LENGTH))


def load_or_create_front_keys(path: Path) -> FrontKeys:
    """Load the keys from ``path`` (hex secret), creating the file (mode 0600) on first use.

    Raises:
        InvalidInput: the file exists but does not hold a 32-byte hex secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(_SECRET_LENGTH)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret.hex() + "\n")
    text = path.read_text(encoding="ascii").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidInput(f"{path} does not hold a hex secret") from exc
    return front_keys_from_secret(secret)


__all__ = [
    "KEY_FILE_NAME",
    "FrontKeys",
    "front_keys_from_secret",
    "generate_front_keys",
    "load_or_create_front_keys",
]
