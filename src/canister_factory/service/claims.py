"""Claims on shared rows (a creation being driven, a chunk store in use): who holds them, and whether they lapsed.

A claim is a token ``host:pid:random`` and a lease end. Whoever finds a claim can tell whether it still stands:
it lapsed when its lease ended, or, on the same host, when its process is gone (a killed process's claims are
taken over at once instead of after the lease). The host and its processes are asked through the ``Host`` port.
"""

from __future__ import annotations

import uuid

from canister_factory.ports import Host

LEASE_NS = 300 * 1_000_000_000


def new_token(host: Host) -> str:
    """``host:pid:random``, naming this process."""
    return f"{host.hostname()}:{host.pid()}:{uuid.uuid4().hex[:12]}"


def is_stale(host: Host, claimed_by: str | None, claimed_until_ns: int | None, now_ns: int) -> bool:
    """Whether a claim no longer stands: none, its lease ended, or its process (on this host) is gone."""
    if claimed_by is None or (claimed_until_ns or 0) < now_ns:
        return True
    holder, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if holder != host.hostname() or not (pid_text.isascii() and pid_text.isdigit()):
        return False
    return not host.is_alive(int(pid_text))
