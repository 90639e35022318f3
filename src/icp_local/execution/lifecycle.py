"""Installing code: install and reinstall (start, then ``canister_init``) and upgrade (``pre_upgrade``
on the old instance, a new instance, start, ``post_upgrade``), each atomic as a whole.

Every function returns an :class:`Installed`: on success the new instance and its whole committed state
(for the storage layer to replace the canister's state with), on failure the error and no instance,
and the old instance (the caller's) unchanged.  The replica's rules for enhanced orthogonal persistence
apply: an upgrade of such a module without ``wasm_memory_persistence`` is refused, ``keep`` with a new
module that does not support it too, both with the replica's texts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import wasmtime

from icp_client.management import WasmMemoryPersistence

from .api_table import ApiMode
from .errors import ErrorCode, ExecutionError, HostError
from .instance import CanisterInstance, Execution, default_instruction_limit
from .modules import PreparedModule
from .types import WASM_PAGE, CanisterState, Effects, MessageContext, Outcome

__all__ = ["Installed", "UpgradeOptions", "WasmMemoryPersistence", "install", "upgrade"]


@dataclass(frozen=True)
class UpgradeOptions:
    """``install_code``'s upgrade options (``None``: the option was not given)."""

    skip_pre_upgrade: bool = False
    wasm_memory_persistence: WasmMemoryPersistence | None = None


@dataclass(frozen=True)
class Installed:
    """The result of an install, reinstall or upgrade.

    Attributes:
        outcome: effects of the steps run (logs, instructions, timer, certified data) or the error.
        instance: the new live instance, None if it failed.
        state: the new whole state to persist, None if it failed.
    """

    outcome: Outcome
    instance: CanisterInstance | None = None
    state: CanisterState | None = None

    @property
    def ok(self) -> bool:
        """Whether the code is installed."""
        return self.instance is not None


def install(engine: wasmtime.Engine, module: PreparedModule, context: MessageContext) -> Installed:
    """Installs ``module`` on an empty canister (or reinstalls: the old state is simply not used).

    Runs ``canister_start`` then ``canister_init`` with ``context.arg``, under one install
    instruction limit.  On failure nothing is left behind.
    """
    try:
        instance = CanisterInstance(engine, module)
    except HostError as exc:
        return Installed(Outcome(Effects(), exc.for_canister(context.canister_id)))
    return _finish(instance, module, context, ApiMode.INIT, "canister_init", [])


def upgrade(
    engine: wasmtime.Engine,
    old: CanisterInstance,
    module: PreparedModule,
    context: MessageContext,
    options: UpgradeOptions = UpgradeOptions(),
) -> Installed:
    """Upgrades ``old`` to ``module``; ``old`` is unchanged if this fails.

    Raises nothing: a refused option or a trap in any step is the returned outcome's error.
    """
    refusal = _check_persistence(old.module, module, options)
    if refusal is not None:
        return Installed(Outcome(Effects(), refusal))
    limit = context.instruction_limit or default_instruction_limit(ApiMode.PRE_UPGRADE)
    pre = _pre_upgrade(old, context, options, limit)
    if pre.outcome.error is not None:
        return Installed(pre.outcome)
    try:
        instance = _successor(engine, old, module, options)
    except HostError as exc:
        pre.rollback()
        return Installed(Outcome(Effects(), exc.for_canister(context.canister_id)))
    used = pre.outcome.effects.instructions
    context = replace(context, instruction_limit=limit)
    result = _finish(instance, module, context, ApiMode.POST_UPGRADE, "canister_post_upgrade", [pre], used)
    pre.rollback()
    return result


def _check_persistence(
    old: PreparedModule, new: PreparedModule, options: UpgradeOptions
) -> ExecutionError | None:
    persistence = options.wasm_memory_persistence
    if persistence is None and old.info.enhanced_persistence:
        return ExecutionError(
            ErrorCode.CANISTER_CONTRACT_VIOLATION,
            "Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` "
            "upgrade option.",
        )
    if persistence is WasmMemoryPersistence.KEEP and not new.info.enhanced_persistence:
        return ExecutionError(
            ErrorCode.CANISTER_CONTRACT_VIOLATION,
            "Invalid upgrade option: The `wasm_memory_persistence: opt Keep` upgrade option requires that the "
            "new canister module supports enhanced orthogonal persistence.",
        )
    return None


def _pre_upgrade(
    old: CanisterInstance, context: MessageContext, options: UpgradeOptions, limit: int
) -> Execution:
    """Runs ``canister_pre_upgrade`` on the old instance, pending (or a no-op execution)."""
    if options.skip_pre_upgrade or "canister_pre_upgrade" not in old.module.info.system:
        return Execution(Outcome(Effects()))
    pre_context = replace(context, arg=b"")
    return old.run(ApiMode.PRE_UPGRADE, "canister_pre_upgrade", pre_context, fuel=limit, report_limit=limit)


def _successor(
    engine: wasmtime.Engine, old: CanisterInstance, module: PreparedModule, options: UpgradeOptions
) -> CanisterInstance:
    """The new instance: old stable memory (with pre-upgrade's writes); old Wasm memory if ``keep``."""
    stable = old.stable.copy_current()
    if options.wasm_memory_persistence is WasmMemoryPersistence.KEEP:
        length, pages = old.current_heap()
        state = CanisterState(heap_size=length // WASM_PAGE, heap_pages=pages)
        return CanisterInstance(engine, module, state, stable=stable, fresh_globals=True)
    return CanisterInstance(engine, module, stable=stable)


def _finish(
    instance: CanisterInstance,
    module: PreparedModule,
    context: MessageContext,
    mode: ApiMode,
    hook: str,
    earlier: list[Execution],
    used: int = 0,
) -> Installed:
    """Runs start and ``hook`` (if exported) on a new instance; keeps it only if both succeed."""
    limit = context.instruction_limit or default_instruction_limit(mode)
    steps = [(ApiMode.START, "canister_start", replace(context, arg=b""))] if module.info.has_start else []
    if hook in module.info.system:
        steps.append((mode, hook, context))
    effects: list[Effects] = [e.outcome.effects for e in earlier]
    for step_mode, export, step_context in steps:
        execution = instance.run(
            step_mode, export, step_context, fuel=max(limit - used, 0), report_limit=limit
        )
        if execution.outcome.error is not None:
            instance.close()
            return Installed(execution.outcome)
        execution.commit()
        used += execution.outcome.effects.instructions
        effects.append(execution.outcome.effects)
    return Installed(Outcome(_merge(effects, used)), instance, instance.snapshot())


def _merge(effects: list[Effects], used: int) -> Effects:
    """The effects of several install steps as one (the last timer and certified data win)."""
    timer = next((e.global_timer for e in reversed(effects) if e.global_timer is not None), None)
    certified = next((e.certified_data for e in reversed(effects) if e.certified_data is not None), None)
    logs = tuple(line for e in effects for line in e.logs)
    burned = sum(e.cycles_burned for e in effects)
    return Effects(
        global_timer=timer, certified_data=certified, logs=logs, cycles_burned=burned, instructions=used
    )
