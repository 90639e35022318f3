"""What every use case works with: the store (a unit of work), the IC, the clock and the host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from canister_factory._core.config import Settings
from canister_factory._core.errors import Conflict
from canister_factory.ports import Clock, Host, ManagementPort, SystemHost
from canister_factory.service.digests import RunningDigests
from canister_factory.unit_of_work import RowLock, Transaction, UnitOfWork
from icp_client.principal import Principal

NOT_DEPLOYED = "the factory is not deployed yet: run `canister-factory deploy` first"


def _no_viewer(caller: Principal) -> ManagementPort | None:
    return None


@dataclass
class Context:
    """The ports one factory instance uses."""

    store: UnitOfWork
    ic: ManagementPort
    clock: Clock
    host: Host = field(default_factory=SystemHost)
    digests: RunningDigests = field(default_factory=RunningDigests)
    ic_retries: int = 3
    ic_as: Callable[[Principal], ManagementPort | None] = _no_viewer
    """The IC as a given caller asks it (``canister_status`` of a canister that caller controls), where the
    factory can ask as someone else: the embedded IC needs no signature; on a network it would need the
    caller's key, so None."""

    def now(self) -> int:
        return self.clock.now_ns()


def settings_of(tx: Transaction, *, lock: RowLock | None = None, caller: Principal | None = None) -> Settings:
    """The deployed settings, locked as asked (PostgreSQL).

    With ``caller`` (a caller's own method: uploads, creations), the allowlist is read as it concerns that caller
    and the admin set is left empty, since those paths never check it.

    Raises:
        Conflict: the factory has not been deployed in this store.
    """
    settings = tx.settings.load(lock=lock, for_caller=caller, admins=caller is None)
    if settings is None:
        raise Conflict(NOT_DEPLOYED)
    return settings
