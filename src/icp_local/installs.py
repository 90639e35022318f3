"""Installing code on a canister through the execution core, inside the management call's transaction.

``install`` and ``reinstall`` run the module's start function and ``canister_init`` with the install argument on
a fresh instance; ``upgrade`` runs ``canister_pre_upgrade`` on the live instance, then the new module's start and
``canister_post_upgrade`` (keeping the Wasm memory with ``wasm_memory_persistence = keep``, skipping the pre-upgrade
hook with ``skip_pre_upgrade``). A trap in any step, or a wrongly typed argument the module traps on, is a failed
install: the reject is raised, the transaction rolls back, and the canister keeps what it had (empty, or the old
module and its state). On success the whole new state replaces the canister's in the same transaction
(:func:`~icp_local.live.persist_installed`) and its live instance is kept once that commits.
"""

from __future__ import annotations

from icp_client.errors import Reject
from icp_client.management import InstallMode, UpgradeFlags
from icp_client.principal import Principal
from icp_local import rejects
from icp_local.calls import reject_open_contexts
from icp_local.env import Env
from icp_local.execute import message_context, reject_of
from icp_local.execution import Installed, MessageContext, ModuleError, PreparedModule, UpgradeOptions
from icp_local.live import Live, live_instance, persist_installed
from icp_local.state import CanisterRow, IcStateTx

__all__ = ["prepare", "run_install", "uninstall"]


def prepare(env: Env, canister_id: Principal, module: bytes) -> PreparedModule:
    """The module validated and compiled (cached by hash).

    Raises:
        Reject: 5/IC0505 with the replica's text if the IC would refuse the module.
    """
    try:
        return env.exec_runtime().engine.prepare(module)
    except ModuleError as exc:
        raise reject_of(exc.error.for_canister(canister_id.raw)) from None


def run_install(
    tx: IcStateTx,
    env: Env,
    row: CanisterRow,
    sender: Principal,
    mode: InstallMode,
    module: PreparedModule,
    arg: bytes,
    flags: UpgradeFlags | None = None,
) -> int:
    """Runs the install steps of ``mode`` and keeps the new state; returns the instructions they used.

    ``row.version`` must already count this install (it is the new state's epoch). Raises:
        Reject: a step trapped or an upgrade option was refused (the canister is left as it was).
    """
    runtime = env.exec_runtime()
    env.txn.hold(runtime.live.using(row.canister_id))
    if mode is InstallMode.UPGRADE:
        old = live_instance(tx, env, row)
        installed = runtime.engine.upgrade(
            old.instance, module, _context(env, row, old, sender, arg), _options(flags)
        )
    else:
        if mode is InstallMode.REINSTALL:
            reject_open_contexts(tx, env, row.canister_id, rejects.reinstalled(row.canister_id))
        installed = runtime.engine.install(module, _context(env, row, None, sender, arg))
    _check(installed)
    persist_installed(tx, env, row, installed, module.module_hash, epoch=row.version)
    return installed.outcome.effects.instructions


def uninstall(tx: IcStateTx, env: Env, canister_id: Principal) -> None:
    """Drops the canister's execution state and rejects its open call contexts (``uninstall_code``)."""
    reject_open_contexts(tx, env, canister_id, rejects.uninstalled(canister_id))
    tx.exec.delete_exec(canister_id)
    runtime = env.runtime
    if runtime is not None:
        env.txn.on_commit(lambda: runtime.live.drop(canister_id))


def _context(env: Env, row: CanisterRow, live: Live | None, sender: Principal, arg: bytes) -> MessageContext:
    return message_context(env, row, live, caller=sender.raw, arg=arg)


def _options(flags: UpgradeFlags | None) -> UpgradeOptions:
    if flags is None:
        return UpgradeOptions()
    return UpgradeOptions(bool(flags.skip_pre_upgrade), flags.wasm_memory_persistence)


def _check(installed: Installed) -> None:
    error = installed.outcome.error
    if not installed.ok:
        if error is None:  # pragma: no cover - the engine always says why
            raise Reject(rejects.CANISTER_ERROR, "installing the module failed", "IC0502")
        raise reject_of(error)
