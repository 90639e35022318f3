"""Claims on shared rows (a creation being driven, a chunk store in use): who holds them, and whether they lapsed.

A claim is a token ``host:pid:random`` and a lease end. Whoever finds a claim can tell whether it still stands:
it lapsed when its lease ended, or, on the same host, when its process is gone (a killed process's claims are
taken over at once instead of after the lease).
"""

from __future__ import annotations

import os
import socket
import uuid

LEASE_NS = 300 * 1_000_000_000


def new_token() -> str:
    """``host:pid:random``, naming this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def is_stale(claimed_by: str | None, claimed_until_ns: int | None, now_ns: int) -> bool:
    """Whether a claim no longer stands: none, its lease ended, or its process (on this host) is gone."""
    if claimed_by is None or (claimed_until_ns or 0) < now_ns:
        return True
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not (pid_text.isascii() and pid_text.isdigit()):
        return False
    return not _process_alive(int(pid_text))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
