"""The management canister's methods, each run on one transaction of the IC's state (``IcStateTx``).

Every function checks in the replica's order (existence, authorization, state, cycles, Wasm), raises an
``Reject`` before writing anything, and only then changes the canister. The engine runs each in one write
transaction, so a reject leaves no effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from icp_client.management import (
    CanisterRunStatus,
    CanisterSettings,
    CanisterStatus,
    InstallMode,
    MemoryMetrics,
    UpgradeFlags,
)
from icp_client.principal import Principal
from icp_client.wasm import module_hash
from icp_local import fees, installs, rejects
from icp_local import settings as settings_rules
from icp_local.config import SubnetConfig
from icp_local.env import Env
from icp_local.state import (
    NEXT_CANISTER_INDEX,
    CanisterRow,
    HistoryRow,
    IcStateTx,
    MetadataRow,
)

_GIB = 1024**3
_HASH_LENGTH = 32
_WASM_PAGE = 65536
_GLOBAL_BYTES = 8


@dataclass(frozen=True, slots=True)
class CanisterChange:
    """One entry of a canister's history (``change`` in ``ic.did``); ``details`` is the variant's record."""

    timestamp_nanos: int
    canister_version: int
    origin: Principal
    kind: str  # creation | code_uninstall | code_deployment | controllers_change
    details: dict[str, object]


@dataclass(frozen=True, slots=True)
class CanisterInfo:
    """``canister_info``'s result."""

    total_num_changes: int
    recent_changes: tuple[CanisterChange, ...]
    module_hash: bytes | None
    controllers: tuple[Principal, ...]


def create(
    tx: IcStateTx,
    env: Env,
    *,
    origin: Principal,
    cycles: int,
    settings: CanisterSettings | None,
    default_controller: Principal,
    specified_id: Principal | None = None,
) -> Principal:
    """A new running, empty canister holding ``cycles``; controllers default to [default_controller]."""
    settings = settings or CanisterSettings()
    settings_rules.validate(settings, env.config)
    canister_id = _new_canister_id(tx, env.config, specified_id)
    given = settings.controllers if settings.controllers is not None else (default_controller,)
    row = CanisterRow(
        canister_id=canister_id,
        status=CanisterRunStatus.RUNNING.value,
        controllers=settings_rules.normalize_controllers(given),
        settings=settings_rules.apply(settings_rules.creation_defaults(env.config), settings),
        cycles=cycles,
        module_hash=None,
        module_size=0,
        version=0,
        total_num_changes=0,
        created_at_ns=env.now_ns,
        last_install_ns=None,
    )
    _record(tx, env, row, origin, "creation", {"controllers": _texts(row.controllers)}, insert=True)
    return canister_id


def top_up(tx: IcStateTx, canister_id: Principal, amount: int) -> None:
    """Add ``amount`` cycles to an existing canister (``provisional_top_up_canister``, ``deposit_cycles``)."""
    row = _existing(tx, canister_id, for_update=True)
    row.cycles += amount
    tx.save_canister(row)


def install_code(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    canister_id: Principal,
    mode: InstallMode,
    module: bytes,
    arg: bytes,
    flags: UpgradeFlags | None = None,
) -> None:
    """``install_code``: check, charge, then run the install (``installs.py``); a trap fails it whole."""
    _check_ingress_size(env, len(module) + len(arg))
    row = _controlled(tx, canister_id, sender)
    _install(tx, env, row, sender, mode, module, arg, flags, ingress_bytes=len(module) + len(arg))


def install_chunked_code(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    target: Principal,
    store: Principal | None,
    chunk_hashes: Sequence[bytes],
    wasm_module_hash: bytes,
    mode: InstallMode,
    arg: bytes,
    flags: UpgradeFlags | None = None,
) -> None:
    """``install_chunked_code``: assemble the module from the store canister's chunks, then install it."""
    ingress_bytes = _HASH_LENGTH * (len(chunk_hashes) + 1) + len(arg)
    _check_ingress_size(env, ingress_bytes)
    row = _controlled(tx, target, sender)
    store_id = store if store is not None else target
    if store_id != target:
        store_row = _existing(tx, store_id)
        if sender not in store_row.controllers and sender != store_id:
            raise rejects.not_controller(store_id, store_row.controllers, sender)
    module = _assemble(tx, store_id, chunk_hashes, wasm_module_hash)
    _install(
        tx,
        env,
        row,
        sender,
        mode,
        module,
        arg,
        flags,
        ingress_bytes=ingress_bytes,
        known_hash=wasm_module_hash,
    )


def uninstall_code(tx: IcStateTx, env: Env, sender: Principal, canister_id: Principal) -> None:
    """``uninstall_code``: the module and memories go, open calls are rejected; settings and cycles stay."""
    row = _controlled(tx, canister_id, sender)
    installs.uninstall(tx, env, canister_id)
    row.module_hash = None
    row.module_size = 0
    row.version += 1
    _record(tx, env, row, sender, "code_uninstall", {})


def upload_chunk(tx: IcStateTx, env: Env, sender: Principal, canister_id: Principal, chunk: bytes) -> bytes:
    """Store ``chunk`` in the canister's chunk store (charging the canister) and return its SHA-256."""
    config = env.config
    _check_ingress_size(env, len(chunk))
    row = _controlled(tx, canister_id, sender, allow_self=True)
    if len(chunk) > config.chunk_size:
        raise rejects.chunk_store(
            f"Wasm chunk size {len(chunk)} exceeds the maximum chunk size of {config.chunk_size}"
        )
    chunk_hash = hashlib.sha256(chunk).digest()
    stored = tx.chunk_hashes(canister_id)
    is_new = chunk_hash not in stored
    if is_new and len(stored) >= config.max_chunks:
        raise rejects.chunk_store(
            f"Wasm chunk store has already reached maximum capacity of "
            f"{config.max_chunks * config.chunk_size} "
            f"bytes or maximum number of entries {config.max_chunks}"
        )
    fee = config.ingress_message_fee + config.ingress_byte_fee * len(chunk) + config.upload_chunk_fee
    if row.cycles < fee:
        raise rejects.chunk_store(
            f"Cannot upload chunk. At least {fee - row.cycles} additional cycles are required."
        )
    row.cycles -= fee
    tx.save_canister(row)
    if is_new:
        tx.add_chunk(canister_id, chunk_hash, chunk, seq=len(stored))
    return chunk_hash


def stored_chunks(tx: IcStateTx, sender: Principal, canister_id: Principal) -> list[bytes]:
    _controlled(tx, canister_id, sender, allow_self=True, for_update=False)
    return tx.chunk_hashes(canister_id)


def clear_chunk_store(tx: IcStateTx, sender: Principal, canister_id: Principal) -> None:
    _controlled(tx, canister_id, sender, allow_self=True)
    tx.clear_chunks(canister_id)


def update_settings(
    tx: IcStateTx, env: Env, sender: Principal, canister_id: Principal, settings: CanisterSettings
) -> None:
    """Apply the given fields; a ``controllers`` field adds a ``controllers_change`` history entry."""
    row = _controlled(tx, canister_id, sender)
    settings_rules.validate(settings, env.config)
    row.settings = settings_rules.apply(row.settings, settings)
    row.version += 1
    if settings.controllers is None:
        tx.save_canister(row)
        return
    row.controllers = settings_rules.normalize_controllers(settings.controllers)
    _record(tx, env, row, sender, "controllers_change", {"controllers": _texts(row.controllers)})


def canister_status(tx: IcStateTx, sender: Principal, canister_id: Principal) -> CanisterStatus:
    """The status, for controllers, the canister itself and whoever its ``status_visibility`` allows."""
    row = _existing(tx, canister_id)
    visible = row.settings.status_visibility.allows(sender, row.controllers) or sender == canister_id
    if not visible:
        raise rejects.not_controller(canister_id, row.controllers, sender)
    metrics = _memory_metrics(tx, row)
    memory = sum(getattr(metrics, name) for name in MemoryMetrics.__slots__)
    return CanisterStatus(
        status=CanisterRunStatus(row.status),
        settings=settings_rules.definite(row.settings, row.controllers),
        module_hash=row.module_hash,
        cycles=row.cycles,
        memory_size=memory,
        memory_metrics=metrics,
        reserved_cycles=0,
        idle_cycles_burned_per_day=memory * fees.STORAGE_GIB_SECOND_FEE * 86_400 // _GIB,
        version=row.version,
    )


def _memory_metrics(tx: IcStateTx, row: CanisterRow) -> MemoryMetrics:
    """What the canister's memory holds: its memories and globals, its module and custom sections, chunks."""
    state = tx.exec.get_exec(row.canister_id)
    sections = 0
    if row.module_hash is not None:
        sections = sum(len(s.content) + len(s.name) for s in tx.metadata_of(row.module_hash))
    return MemoryMetrics(
        wasm_memory_size=state.heap_size * _WASM_PAGE if state else 0,
        stable_memory_size=state.stable_size * _WASM_PAGE if state else 0,
        global_memory_size=len(state.globals) * _GLOBAL_BYTES if state else 0,
        wasm_binary_size=row.module_size,
        custom_sections_size=sections,
        wasm_chunk_store_size=tx.chunk_store_bytes(row.canister_id),
    )


def set_running(tx: IcStateTx, sender: Principal, canister_id: Principal, status: CanisterRunStatus) -> None:
    """``start_canister`` (RUNNING) and ``stop_canister`` (STOPPED at once: no open call contexts)."""
    row = _controlled(tx, canister_id, sender)
    row.status = status.value
    row.version += 1
    tx.save_canister(row)


def delete_canister(tx: IcStateTx, env: Env, sender: Principal, canister_id: Principal) -> None:
    """Delete a stopped canister; its cycles are discarded and its id is never allocated again."""
    if sender == canister_id:
        raise rejects.cannot_delete_itself(canister_id)
    row = _controlled(tx, canister_id, sender)
    if row.status != CanisterRunStatus.STOPPED.value:
        raise rejects.not_stopped(canister_id)
    tx.delete_canister(canister_id)
    runtime = env.runtime
    if runtime is not None:
        env.txn.on_commit(lambda: runtime.live.drop(canister_id))


def canister_info(tx: IcStateTx, canister_id: Principal, num_requested_changes: int = 0) -> CanisterInfo:
    row = _existing(tx, canister_id)
    changes = tx.history(canister_id, num_requested_changes) if num_requested_changes > 0 else []
    return CanisterInfo(
        total_num_changes=row.total_num_changes,
        recent_changes=tuple(
            CanisterChange(c.timestamp_ns, c.canister_version, c.origin, c.kind, c.details) for c in changes
        ),
        module_hash=row.module_hash,
        controllers=row.controllers,
    )


def read_controllers(tx: IcStateTx, canister_id: Principal) -> tuple[Principal, ...]:
    return _existing(tx, canister_id).controllers


def read_module_hash(tx: IcStateTx, canister_id: Principal) -> bytes | None:
    return _existing(tx, canister_id).module_hash


def read_metadata(tx: IcStateTx, canister_id: Principal, name: str, sender: Principal) -> bytes | None:
    """A metadata section of the installed module; private sections only for controllers."""
    row = _existing(tx, canister_id)
    if row.module_hash is None:
        return None
    section = tx.get_metadata(row.module_hash, name)
    if section is None or not (section.public or sender in row.controllers):
        return None
    return section.content


def installed_module(tx: IcStateTx, canister_id: Principal) -> bytes | None:
    row = _existing(tx, canister_id)
    return None if row.module_hash is None else tx.get_module(row.module_hash)


# --- helpers --------------------------------------------------------------------------------


def _existing(tx: IcStateTx, canister_id: Principal, *, for_update: bool = False) -> CanisterRow:
    row = tx.get_canister(canister_id, for_update=for_update)
    if row is None:
        raise rejects.canister_not_found(canister_id)
    return row


def _controlled(
    tx: IcStateTx,
    canister_id: Principal,
    sender: Principal,
    *,
    allow_self: bool = False,
    for_update: bool = True,
) -> CanisterRow:
    row = _existing(tx, canister_id, for_update=for_update)
    if sender not in row.controllers and not (allow_self and sender == canister_id):
        raise rejects.not_controller(canister_id, row.controllers, sender)
    return row


def _check_ingress_size(env: Env, size: int) -> None:
    if size > env.config.max_ingress_bytes:
        raise rejects.IngressTooLarge(size, env.config.max_ingress_bytes)


def _new_canister_id(tx: IcStateTx, config: SubnetConfig, specified_id: Principal | None) -> Principal:
    if specified_id is None:
        index = tx.take_counter(NEXT_CANISTER_INDEX, config.first_index)
        if index > config.last_index:
            raise rejects.out_of_canister_ids()
        return Principal.from_canister_index(index)
    if config.in_range(specified_id):
        raise rejects.specified_id_in_range(specified_id)
    if tx.canister_exists(specified_id):
        raise rejects.canister_id_exists(specified_id)
    return specified_id


def _install(
    tx: IcStateTx,
    env: Env,
    row: CanisterRow,
    sender: Principal,
    mode: InstallMode,
    module: bytes,
    arg: bytes,
    flags: UpgradeFlags | None,
    *,
    ingress_bytes: int,
    known_hash: bytes | None = None,
) -> None:
    if mode is InstallMode.INSTALL and row.module_hash is not None:
        raise rejects.not_empty(row.canister_id)
    if mode is InstallMode.UPGRADE and row.module_hash is None:
        raise rejects.no_wasm_module(row.canister_id)
    config = env.config
    fee = config.update_base_fee + config.ingress_message_fee + config.ingress_byte_fee * ingress_bytes
    if row.cycles < fee:
        raise rejects.out_of_cycles_install(row.canister_id, fee - row.cycles)
    prepared = installs.prepare(env, row.canister_id, module)
    new_hash = known_hash or module_hash(module)
    if not tx.module_exists(new_hash):
        sections = [
            MetadataRow(name, public, content) for name, public, content in prepared.info.custom_sections
        ]
        tx.insert_module(new_hash, module, sections)
    row.version += 1
    instructions = installs.run_install(tx, env, row, sender, mode, prepared, arg, flags)
    row.cycles -= min(row.cycles, fee + fees.INSTRUCTION_FEE * instructions)
    row.module_hash = new_hash
    row.module_size = len(module)
    row.last_install_ns = env.now_ns
    _record(tx, env, row, sender, "code_deployment", {"mode": mode.value, "module_hash": new_hash.hex()})


def _assemble(tx: IcStateTx, store_id: Principal, hashes: Sequence[bytes], expected: bytes) -> bytes:
    for chunk_hash in hashes:
        if len(chunk_hash) != _HASH_LENGTH:
            raise rejects.chunk_store(f"Chunk hash is invalid. The length is not {_HASH_LENGTH}")
    if len(expected) != _HASH_LENGTH:
        raise rejects.chunk_store(f"Wasm module hash is invalid. The length is not {_HASH_LENGTH}")
    found = tx.chunks(store_id, hashes)
    for chunk_hash in hashes:
        if chunk_hash not in found:
            raise rejects.chunk_store(f"Chunk hash {rejects.hash_text(chunk_hash)} was not found")
    module = b"".join(found[h] for h in hashes)
    actual = module_hash(module)
    if actual != expected:
        raise rejects.chunk_store(
            f"Wasm module hash {rejects.hash_text(actual)} does not match given hash "
            f"{rejects.hash_text(expected)}"
        )
    return module


def _record(
    tx: IcStateTx,
    env: Env,
    row: CanisterRow,
    origin: Principal,
    kind: str,
    details: dict[str, object],
    *,
    insert: bool = False,
) -> None:
    """Append a history entry for the change just made to ``row``, then write ``row``."""
    entry = HistoryRow(row.total_num_changes, env.now_ns, row.version, origin, kind, details)
    row.total_num_changes += 1
    if insert:
        tx.insert_canister(row)
    else:
        tx.save_canister(row)
    tx.add_history(row.canister_id, entry, keep=env.config.history_kept)


def _texts(principals: Sequence[Principal]) -> list[str]:
    return [p.to_text() for p in principals]
