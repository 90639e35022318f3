"""The management canister's records (``ic.did``), as typed Python values.

Both the network agent's callers and the local IC use these: the settings a canister is created or updated with,
the status it reports, the install modes. Standard library only (and our principal).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from icp_client.principal import Principal

MAX_CONTROLLERS = 10
CHUNK_SIZE = 1024 * 1024  # the IC's upload_chunk limit, 1 MiB
MAX_CHUNKS_PER_STORE = 100


class InstallMode(enum.Enum):
    """``canister_install_mode``; ``UPGRADE`` carries no options here (skip_pre_upgrade and persistence unset)."""

    INSTALL = "install"
    REINSTALL = "reinstall"
    UPGRADE = "upgrade"


class CanisterRunStatus(enum.Enum):
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class CanisterSettings:
    """``canister_settings``: a field left as None means "unchanged" (update) or "default" (create)."""

    controllers: tuple[Principal, ...] | None = None
    compute_allocation: int | None = None
    memory_allocation: int | None = None
    freezing_threshold: int | None = None
    reserved_cycles_limit: int | None = None
    wasm_memory_limit: int | None = None
    wasm_memory_threshold: int | None = None


@dataclass(frozen=True, slots=True)
class CanisterStatus:
    """The parts of ``canister_status_result`` the factory uses."""

    status: CanisterRunStatus
    controllers: tuple[Principal, ...]
    module_hash: bytes | None
    cycles: int
    memory_size: int = 0
    freezing_threshold: int = 2_592_000
    reserved_cycles: int = 0
    idle_cycles_burned_per_day: int = 0
    version: int = 0
