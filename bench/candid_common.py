"""What the Candid benchmark's two sides share: the values, in a neutral form, and the worker protocol.

Standard library only: this module is imported by our benchmark and by the peer worker, which runs in
icp-py-core's own environment (where ``canister_factory`` is not installed). Principals are raw bytes here;
each side turns them, and ``opt`` values, into its own representation, outside the timed region.
"""

from __future__ import annotations

import gc
import os
import pickle
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: case name -> what it is, for the docs.
CASES = {
    "request": "a CreateInstallRequest (233 bytes)",
    "blob": "a 1 MiB blob",
    "records": "a vec of 10,000 records { id : nat64; name : text; owner : principal }",
}
RECORDS = 10_000
BLOB_SIZE = 1024 * 1024


def _canister(index: int) -> bytes:
    return index.to_bytes(8, "big") + b"\x01\x01"


def request() -> dict[str, Any]:
    """A CreateInstallRequest as the factory's .did has it; ``opt`` as None or the value."""
    return {
        "upload_id": 1_234_567,
        "extra_controllers": [bytes(range(29)), bytes(range(100, 129))],
        "init_arg": bytes.fromhex("4449444c016c01b3c4b1f204680100010a00000000000000010101"),
        "mode": "Upgrade",
        "cycles": 3_000_000_000_000,
        "handoff": True,
        "canister_id": _canister(42),
        "idempotency_key": "create-7f3a1c9e-3b4d-4e",
    }


def blob() -> bytes:
    """1 MiB of deterministic, non-repeating bytes."""
    return bytes((i * 2654435761 >> 13) & 0xFF for i in range(BLOB_SIZE))


def records() -> list[dict[str, Any]]:
    """10,000 records with distinct ids, names and owners."""
    return [{"id": 2**40 + i, "name": f"canister-{i:05d}", "owner": _canister(i)} for i in range(RECORDS)]


# -- the worker protocol ---------------------------------------------------------------------------------
# A worker reads pickled requests from stdin and writes one pickled reply per request to stdout. The parent
# enforces the per-request time limit (it kills a worker that does not answer); the worker enforces memory.


def serve(handle: Callable[[tuple[Any, ...]], Any], memory_limit_mib: int | None = None) -> None:
    """Answer requests until stdin closes; with a limit, cap the address space that much above today's."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing but replies goes to the parent's pipe
    if memory_limit_mib is not None:
        limit = _address_space() + memory_limit_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    requests = sys.stdin.buffer
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        pickle.dump(handle(request), replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def timed_loop(fn: Callable[[], object], reps: int) -> float:
    """Seconds for ``reps`` calls of ``fn``, after a collection so that earlier garbage is not charged."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(reps):
        fn()
    return time.perf_counter() - started
