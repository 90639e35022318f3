"""What every use case works with: the store, the IC port, the clock and this process's worker id."""

from __future__ import annotations

from dataclasses import dataclass, field

from canister_factory._core.config import Settings
from canister_factory._core.errors import Conflict
from canister_factory.ports import Clock, ManagementPort
from canister_factory.service.digests import RunningDigests
from canister_factory.store.factory_repo import FactoryRepo, FactoryStore
from icp_client.principal import Principal

NOT_DEPLOYED = "the factory is not deployed yet: run `canister-factory deploy` first"


@dataclass
class Context:
    """The ports one factory instance uses."""

    store: FactoryStore
    ic: ManagementPort
    clock: Clock
    digests: RunningDigests = field(default_factory=RunningDigests)
    ic_retries: int = 3

    def now(self) -> int:
        return self.clock.now_ns()


def settings_of(repo: FactoryRepo, *, lock: str | None = None, caller: Principal | None = None) -> Settings:
    """The deployed settings, locked as asked (PostgreSQL).

    With ``caller`` (a caller's own method: uploads, creations), the allowlist is read as it concerns that caller
    and the admin set is left empty, since those paths never check it.

    Raises:
        Conflict: the factory has not been deployed in this store.
    """
    settings = repo.load_settings(lock=lock, for_caller=caller, admins=caller is None)
    if settings is None:
        raise Conflict(NOT_DEPLOYED)
    return settings
