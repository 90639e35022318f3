"""The composition of the execution core: one wasmtime engine, its module cache, and code installation.

:class:`ExecutionEngine` is what the local IC holds (one per process): it prepares modules
(validation, rewriting, compiling, caching), installs and upgrades them, and loads instances from a
stored :class:`.types.CanisterState`.  Messages then go to the instances (:mod:`.messages`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import wasmtime

from . import lifecycle
from .errors import ModuleError
from .instance import CanisterInstance
from .lifecycle import Installed, UpgradeOptions
from .modules import ModuleCache, PreparedModule, engine_config
from .types import CanisterState, Effects, MessageContext, Outcome

__all__ = ["ExecutionEngine", "shared_engine"]


class ExecutionEngine:
    """Runs canisters: prepares modules, installs and upgrades code, loads stored canisters.

    ``cache_dir``, if given, keeps compiled modules across processes.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.engine = wasmtime.Engine(engine_config())
        self.modules = ModuleCache(self.engine, cache_dir)

    def prepare(self, wasm: bytes) -> PreparedModule:
        """Validates and compiles a module (raw or gzipped), once per distinct module.

        Raises:
            ModuleError: if the IC would refuse it; ``error.error.for_canister(id)`` is the reply.
        """
        return self.modules.prepare(wasm)

    def install(self, wasm: bytes | PreparedModule, context: MessageContext) -> Installed:
        """Installs (or reinstalls) code: start, then ``canister_init`` with ``context.arg``.

        An invalid module is a failed install (``IC0505``), like a trap in init.
        """
        module = self._module(wasm, context)
        if isinstance(module, Installed):
            return module
        return lifecycle.install(self.engine, module, context)

    def upgrade(
        self,
        instance: CanisterInstance,
        wasm: bytes | PreparedModule,
        context: MessageContext,
        options: UpgradeOptions | None = None,
    ) -> Installed:
        """Upgrades ``instance`` to new code; on failure ``instance`` is unchanged and usable."""
        module = self._module(wasm, context)
        if isinstance(module, Installed):
            return module
        return lifecycle.upgrade(self.engine, instance, module, context, options or UpgradeOptions())

    def load(self, wasm: bytes | PreparedModule, state: CanisterState) -> CanisterInstance:
        """A live instance of a stored canister: its module and the state the storage layer kept.

        Raises:
            ModuleError: if the module no longer validates.
            HostError: if wasmtime cannot instantiate it.
        """
        module = wasm if isinstance(wasm, PreparedModule) else self.prepare(wasm)
        return CanisterInstance(self.engine, module, state)

    def _module(self, wasm: bytes | PreparedModule, context: MessageContext) -> PreparedModule | Installed:
        if isinstance(wasm, PreparedModule):
            return wasm
        try:
            return self.prepare(wasm)
        except ModuleError as exc:
            return Installed(Outcome(Effects(), exc.error.for_canister(context.canister_id)))


def shared_engine() -> ExecutionEngine:
    """One engine for the whole process (compiled modules are shared by every local IC it opens).

    A forked child gets an engine of its own: wasmtime's state does not survive ``fork``.
    """
    return _engine_of(os.getpid())


@functools.cache
def _engine_of(pid: int) -> ExecutionEngine:
    return ExecutionEngine()
