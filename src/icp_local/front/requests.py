"""The front's record of ingress calls: ``/request_status/<request id>`` as ``read_state`` certifies it.

A request id is recorded once, when the front accepts the call (status ``processing``), and answered from
here afterwards: a client that re-sends the same signed envelope gets the outcome of the first execution,
never a second one (the IC's replay protection). Entries live until their ``ingress_expiry`` plus five
minutes, as the IC keeps them, then read as unknown. In memory: one front process serves many clients,
and a restart forgets calls whose envelopes have (at most five minutes later) expired anyway.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_client.request_id import encode_leb128

KEEP_AFTER_EXPIRY_NS = 5 * 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call: who sent it, to which effective canister, and how far it got."""

    sender: Principal
    effective_canister_id: Principal
    expiry_ns: int
    status: str = "processing"
    reply: bytes | None = None
    reject: Reject | None = None

    @property
    def terminal(self) -> bool:
        return self.status in ("replied", "rejected")

    def tree(self) -> dict[bytes, bytes]:
        """The ``/request_status/<rid>`` subtree."""
        node: dict[bytes, bytes] = {b"status": self.status.encode()}
        if self.reply is not None:
            node[b"reply"] = self.reply
        if self.reject is not None:
            node[b"reject_code"] = encode_leb128(self.reject.reject_code)
            node[b"reject_message"] = self.reject.reject_message.encode()
            if self.reject.error_code:
                node[b"error_code"] = self.reject.error_code.encode()
        return node


class RequestLog:
    """Thread-safe map from request id to ``CallRecord``."""

    def __init__(self) -> None:
        self._records: dict[bytes, CallRecord] = {}
        self._changed = threading.Condition()

    def begin(self, request_id: bytes, record: CallRecord, now_ns: int) -> CallRecord | None:
        """Record a new call; return the existing record instead if the request id is known."""
        with self._changed:
            self._prune(now_ns)
            existing = self._records.get(request_id)
            if existing is not None:
                return existing
            self._records[request_id] = record
            return None

    def finish(self, request_id: bytes, *, reply: bytes | None = None, reject: Reject | None = None) -> None:
        with self._changed:
            record = self._records[request_id]
            status = "replied" if reject is None else "rejected"
            self._records[request_id] = replace(record, status=status, reply=reply, reject=reject)
            self._changed.notify_all()

    def forget(self, request_id: bytes) -> None:
        """Drop a call that never ran (the engine was unavailable), so that a re-sent envelope runs."""
        with self._changed:
            self._records.pop(request_id, None)
            self._changed.notify_all()

    def get(self, request_id: bytes) -> CallRecord | None:
        with self._changed:
            return self._records.get(request_id)

    def wait_terminal(self, request_id: bytes, timeout_s: float) -> CallRecord | None:
        """Wait until the call is replied or rejected (another thread is executing it)."""
        with self._changed:
            self._changed.wait_for(lambda: self._is_terminal(request_id), timeout=timeout_s)
            return self._records.get(request_id)

    def _is_terminal(self, request_id: bytes) -> bool:
        record = self._records.get(request_id)
        return record is None or record.terminal

    def _prune(self, now_ns: int) -> None:
        stale = [rid for rid, rec in self._records.items() if rec.expiry_ns + KEEP_AFTER_EXPIRY_NS < now_ns]
        for rid in stale:
            del self._records[rid]


__all__ = ["CallRecord", "RequestLog"]
