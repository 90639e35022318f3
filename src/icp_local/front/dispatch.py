"""The front's side of a call: the ingress filter's decoding, and the call handed to the local IC's router.

The front does not run calls itself: :meth:`Dispatcher.call` is ``LocalIc.call`` (``icp_local.router``), which
routes to the management canister (``ic00.py``), the cycles ledger and the CMC (``system_canisters.py``) or a
user canister (``execute.py``), exactly as the in-process API does. What is the front's own: the subnet id it
presents (its root key's), whether the development-only ``dev_mint`` is on (``system_canisters.py`` describes it),
and its counters.

Every failure is a ``Reject`` with the code and message shape the replica uses (``ic-reference.md`` §1.4).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from icp_client.principal import Principal
from icp_local import LocalIc, ic00, system_canisters
from icp_local.rejects import IngressTooLarge
from icp_local.system_canisters import View

NNS_ROOT = Principal.from_text("r7inp-6aaaa-aaaaa-aaabq-cai")


@dataclass
class FrontMetrics:
    """Counters that tests and ``/_front/metrics`` read."""

    calls: int = 0
    queries: int = 0
    read_states: int = 0
    upload_chunk_calls: int = 0
    upload_chunk_bytes: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "calls": self.calls,
                "queries": self.queries,
                "read_states": self.read_states,
                "upload_chunk_calls": self.upload_chunk_calls,
                "upload_chunk_bytes": self.upload_chunk_bytes,
            }


class Dispatcher:
    """Hands decoded calls to ``engine``; ``subnet_id`` is the id the front presents for the engine's subnet."""

    def __init__(
        self, engine: LocalIc, subnet_id: Principal, metrics: FrontMetrics, *, dev_mint: bool
    ) -> None:
        self.engine = engine
        self.subnet_id = subnet_id
        self.metrics = metrics
        self.dev_mint = dev_mint
        self.view = View(subnet_id, dev_mint)

    def decode_management_arg(self, method: str, arg: bytes) -> Any:
        """The decoded argument of a management call (for the ingress filter's ECID check).

        Raises:
            Reject: 5/IC0536 no such method; 4/IC0406 canister-only method; 4/IC0408 undecodable.
        """
        return ic00.decode_arg(method, arg, from_canister=False)

    def call(
        self, sender: Principal, canister_id: Principal, method: str, arg: bytes, *, query: bool
    ) -> bytes:
        """Run one call (``query`` for the query endpoint) and return the Candid reply.

        Raises:
            Reject: the reject the IC would give.
        """
        if method == "upload_chunk" and canister_id == Principal(b""):
            chunk = ic00.decode_arg(method, arg, from_canister=False).get("chunk", b"")
            self.metrics.add(upload_chunk_calls=1, upload_chunk_bytes=len(chunk))
        return self.engine.call(sender, canister_id, method, arg, query=query, view=self.view)

    def system_metadata(self, canister_id: Principal, name: str) -> bytes | None:
        """``candid:service`` of the ledger and the CMC (public); None for anything else."""
        if name != "candid:service":
            return None
        text = system_canisters.service_text(canister_id, self.view)
        return None if text is None else text.encode()

    @staticmethod
    def is_system_canister(canister_id: Principal) -> bool:
        return system_canisters.is_system_canister(canister_id)


__all__ = ["NNS_ROOT", "Dispatcher", "FrontMetrics", "IngressTooLarge"]
