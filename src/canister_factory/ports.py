"""Ports: the IC, the clock and the host as the factory sees them. Standard library only.

``ManagementPort`` is the management canister and the cycles ledger, called by one fixed sender: the factory's
own identity. Two adapters implement it: the embedded IC in process (``ic.embedded``) and the network backend over
the IC's HTTP interface (``ic.network``). Its methods mirror ``ic.did`` and ``cycles-ledger.did`` method for
method, with typed Python records instead of Candid, so the factory's logic is written once for both.

``Clock`` is the wall clock the IC counts in; ``Host`` is the machine and the process the factory runs in (who
holds a claim, whether that process still runs, waiting). Each has a real implementation and a fake for tests.
The store's port, the unit of work, is in ``unit_of_work``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from canister_factory._core.errors import IcError
from icp_client.management import (
    CHUNK_SIZE,
    MAX_CHUNKS_PER_STORE,
    MAX_CONTROLLERS,
    CanisterRunStatus,
    CanisterSettings,
    CanisterStatus,
    InstallMode,
)
from icp_client.principal import Principal

__all__ = [
    "CHUNK_SIZE",
    "MAX_CHUNKS_PER_STORE",
    "MAX_CONTROLLERS",
    "CanisterRunStatus",
    "CanisterSettings",
    "CanisterStatus",
    "Clock",
    "CreatedCanister",
    "CyclesLedgerError",
    "FakeClock",
    "FakeHost",
    "Host",
    "InstallMode",
    "ManagementPort",
    "SystemClock",
    "SystemHost",
]


@dataclass(frozen=True, slots=True)
class CreatedCanister:
    """The cycles ledger's answer to ``create_canister``: the canister, and whether this was a duplicate.

    ``charged`` is what the creation took from the factory's account when that is not the usual ``amount`` plus
    the ledger fee: 0 for a provisional creation, which the network pays for.
    """

    canister_id: Principal
    block_id: int | None = None
    duplicate: bool = False
    charged: int | None = None


class CyclesLedgerError(IcError):
    """An ``Err`` from the cycles ledger: ``variant`` is the Candid tag, ``fields`` its record."""

    code = "cycles_ledger_error"

    def __init__(self, variant: str, fields: dict[str, object] | None = None) -> None:
        self.variant = variant
        self.fields = dict(fields or {})
        detail = ", ".join(f"{k} = {v}" for k, v in self.fields.items())
        super().__init__(f"cycles ledger refused: {variant}" + (f" {{ {detail} }}" if detail else ""))


class ManagementPort(Protocol):
    """The management canister and the cycles ledger, as called by the factory's identity."""

    @property
    def sender(self) -> Principal:
        """The factory's principal: every call below is made as this principal."""
        ...

    def cycles_balance(self) -> int:
        """``icrc1_balance_of`` of the factory's cycles-ledger account."""
        ...

    def ledger_fee(self) -> int:
        """``icrc1_fee`` of the cycles ledger (100M on mainnet)."""
        ...

    def creation_fee(self) -> int:
        """The subnet's canister creation fee, taken from the amount sent to ``create_canister``."""
        ...

    def create_canister(
        self, *, amount: int, settings: CanisterSettings | None, created_at_time: int
    ) -> CreatedCanister:
        """Cycles ledger ``create_canister``: burns ``amount`` + fee from the factory's account.

        A repeat with the same ``created_at_time`` (and same arguments) returns the first canister with
        ``duplicate=True``. Raises CyclesLedgerError for any other ``Err``.
        """
        ...

    def install_code(
        self, *, canister_id: Principal, mode: InstallMode, wasm_module: bytes, arg: bytes
    ) -> None: ...

    def upload_chunk(self, *, canister_id: Principal, chunk: bytes) -> bytes:
        """Returns the chunk's SHA-256 as the IC reports it."""
        ...

    def stored_chunks(self, *, canister_id: Principal) -> list[bytes]: ...

    def clear_chunk_store(self, *, canister_id: Principal) -> None: ...

    def install_chunked_code(
        self,
        *,
        target_canister: Principal,
        store_canister: Principal | None,
        chunk_hashes: Sequence[bytes],
        wasm_module_hash: bytes,
        mode: InstallMode,
        arg: bytes,
    ) -> None: ...

    def update_settings(self, *, canister_id: Principal, settings: CanisterSettings) -> None: ...

    def canister_status(self, *, canister_id: Principal) -> CanisterStatus: ...

    def read_controllers(self, *, canister_id: Principal) -> tuple[Principal, ...]:
        """The controllers from the certified state tree (``read_state``), public information."""
        ...

    def read_module_hash(self, *, canister_id: Principal) -> bytes | None:
        """The module hash from the certified state tree, None for an empty canister."""
        ...

    def start_canister(self, *, canister_id: Principal) -> None: ...

    def stop_canister(self, *, canister_id: Principal) -> None: ...

    def delete_canister(self, *, canister_id: Principal) -> None: ...

    def withdraw(self, *, amount: int, to: Principal, created_at_time: int) -> int:
        """Cycles ledger ``withdraw`` to a canister (a top-up); returns the block index."""
        ...


class Clock(Protocol):
    """Wall-clock time in nanoseconds since the Unix epoch, as the IC counts it."""

    def now_ns(self) -> int: ...


@dataclass(slots=True)
class SystemClock:
    """The real clock."""

    def now_ns(self) -> int:
        return time.time_ns()


@dataclass(slots=True)
class FakeClock:
    """A clock for tests: starts at ``start_ns`` and moves only when told to."""

    start_ns: int = 1_700_000_000_000_000_000
    _offset: int = field(default=0, repr=False)

    def now_ns(self) -> int:
        return self.start_ns + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += int(seconds * 1_000_000_000)


class Host(Protocol):
    """The machine and the process the factory runs in."""

    def hostname(self) -> str:
        """This machine's name (claims name their holder ``host:pid:...``)."""
        ...

    def pid(self) -> int:
        """This process's id."""
        ...

    def is_alive(self, pid: int) -> bool:
        """Whether process ``pid`` of this machine still runs."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (between retries, or for a busy resource)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines of waits."""
        ...


@dataclass(slots=True)
class SystemHost:
    """The real machine and process."""

    def hostname(self) -> str:
        return socket.gethostname()

    def pid(self) -> int:
        return os.getpid()

    def is_alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        return True

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(slots=True)
class FakeHost:
    """A host for tests: named ``host``, with process ``pid`` and the others in ``alive`` running.

    ``sleep`` returns at once: it records the wait, moves ``monotonic`` on, and moves ``clock`` on too when one
    is given (so a test sees leases lapse while the code under test waits).
    """

    host: str = "test-host"
    own_pid: int = 4242
    alive: set[int] = field(default_factory=set)
    clock: FakeClock | None = None
    slept: list[float] = field(default_factory=list)
    _monotonic: float = field(default=0.0, repr=False)

    def hostname(self) -> str:
        return self.host

    def pid(self) -> int:
        return self.own_pid

    def is_alive(self, pid: int) -> bool:
        return pid == self.own_pid or pid in self.alive

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._monotonic += seconds
        if self.clock is not None:
            self.clock.advance(seconds)

    def monotonic(self) -> float:
        return self._monotonic
