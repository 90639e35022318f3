"""The local IC: one application subnet that runs canisters, with its management canister, the cycles ledger and
the CMC, in process.

``LocalIc`` keeps all of its state in a database (tables ``ic_*``: ``state.py``, ``state_exec.py``; ``db.py``), so
it survives restarts and is shared by every process that opens the same database. Each public method is one call
to the IC, routed by :mod:`icp_local.router` (the HTTP front uses the same router): the management methods take
the caller (``sender``) first, the PocketIC-style methods take it as ``sender=`` (``set_sender``, anonymous at
first); every call runs in one transaction (a reject leaves no effect) and raises ``Reject`` with the
specification's reject code and the replica's error code and message shape.

::

    LocalIc
    ├── canisters                      update_call, query_call, create_canister, install/reinstall/upgrade/
    │                                  uninstall_canister, add_cycles, get_cycles_balance, get_time, call, drain
    │                                  (the names of PocketIC's Python library)
    ├── management canister aaaaa-aa   provisional_create_canister_with_cycles, install_code, ...
    ├── cycles ledger um5iw-...        icrc1_balance_of, create_canister, withdraw, deposit, mint
    ├── CMC rkp4c-...                  get_default_subnets
    ├── public reads                   read_controllers, read_module_hash, read_metadata, read_certified_data
    └── hooks                          run before and after each call (tests inject faults with
                                       ``icp_local.testing.faults_of``)

Canisters run (:mod:`icp_local.execution`, under wasmtime): installs run ``canister_init``, upgrades their hooks,
calls between canisters and to the management canister go through a durable queue (:mod:`icp_local.router`).

Deliberate differences from the real IC:

* No rounds, and time does not pass inside the IC (issue 12 adds both): an update call returns once every call it
  caused has been answered (as PocketIC's ``update_call`` ticks until then); ``ic0.time`` is the clock's time when
  a message runs. Nothing is charged for storage, compute or idle time and canisters are never frozen;
  ``idle_cycles_burned_per_day`` reports what a real subnet would charge for the canister's memory. Timers and
  heartbeats are not fired.
* Cycles are charged per message (``fees.py``: an update's 5M plus its instructions, an ingress message's 1.2M plus
  2k a byte, a call's 260k plus 1k a byte and its response's bytes; queries are free), without the replica's
  prepayment for a response: a callback's execution is charged when it runs and never fails for want of cycles (a
  balance that cannot pay goes to zero). A failed install charges nothing (the replica charges the instructions it
  ran). The freezing threshold is stored and reported but not enforced; ``reserved_cycles`` is always 0.
* Instructions are counted by wasmtime's fuel, one per Wasm operator (``icp_local.execution`` lists its own
  differences: no deterministic time slicing, the Wasm memory limit checked when a message ends, ...).
* ``stop_canister`` stops at once, even with open call contexts (they are answered as usual), so a canister is
  never ``stopping``; ``uninstall_code`` and ``reinstall`` answer open call contexts with a reject, and a response
  to a call they made is dropped (its refund still lands).
* ``canister_inspect_message`` runs for every ingress update, in process too.
* Best-effort calls never time out; composite queries call other canisters' queries at once, in order (a call back
  into the graph is IC0517, a graph deeper than 20 IC0525). Query statistics are not counted, canister logs not
  kept, and a query gets no data certificate (``ic0.data_certificate_present`` is 0); ``read_state`` serves
  ``certified_data``.
* The ingress size limit (2 MiB), an HTTP 413 before consensus on the real IC, is raised here as
  ``IngressTooLarge``, a ``Reject`` with code 4 and no error code.
* ``provisional_create_canister_with_cycles`` is open to anyone, as on a development instance; a
  ``specified_id`` inside the automatic range is refused (4/IC0408) like the replica's test environment does.
* ``uninstall_code`` keeps the chunk store. Snapshots are not modelled.
* The cycles ledger keeps no block log, only the next block index; ``mint`` and ``deposit`` are the operator's
  stand-in for acquiring cycles (``mint`` is not a ledger method; ``deposit`` deducts the fee like the
  ledger's code). The ledger's dedup identity is the recorded transaction (account, amount, receiver,
  created_at_time), not the creation settings. The CMC's subnet selection accepts only this subnet.
* Module hashes are SHA-256 of the module as given (compressed bytes for gzip), as the specification says
  (DESIGN.md §7 says decompressed; the specification and the replica hash the bytes as installed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from icp_client.management import (
    CanisterRunStatus,
    CanisterSettings,
    CanisterStatus,
    InstallMode,
    UpgradeFlags,
    WasmMemoryPersistence,
)
from icp_client.principal import Principal
from icp_local import ledger, management, rejects
from icp_local.clock import Clock, SystemClock
from icp_local.config import SubnetConfig
from icp_local.db import IcDatabase
from icp_local.env import Env
from icp_local.execution import ExecutionEngine, shared_engine
from icp_local.ledger import CreateCanisterOk, DepositResult, LedgerErr
from icp_local.live import DEFAULT_LIVE_INSTANCES, Runtime
from icp_local.management import CanisterInfo
from icp_local.router import CallHook, Router
from icp_local.state import MIGRATIONS, IcStateTx
from icp_local.state_exec import STABLE
from icp_local.system_canisters import View


class LocalIc:
    """The local IC on ``db``; construct one per process (it migrates its tables on construction).

    ``LocalIc.open(url)`` and ``LocalIc.for_state_dir(path)`` open the database too.

    Raises:
        StorageError: the database fails, or was written by a newer local IC.
    """

    def __init__(
        self,
        db: IcDatabase,
        *,
        clock: Clock | None = None,
        config: SubnetConfig | None = None,
        engine: ExecutionEngine | None = None,
        live_instances: int = DEFAULT_LIVE_INSTANCES,
    ) -> None:
        self._db = db
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.config = config if config is not None else SubnetConfig()
        self.sender = Principal.anonymous()
        db.migrate(MIGRATIONS)
        runtime = Runtime(engine if engine is not None else shared_engine(), live_instances)
        self._router = Router(db, self.config, self.clock, runtime)
        self._router.drain()  # carry on what a process that stopped left in the queue

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, config: SubnetConfig | None = None) -> LocalIc:
        """The local IC kept in the database at ``url`` (``sqlite:///...`` or ``postgresql://...``)."""
        return cls(IcDatabase.open(url), clock=clock, config=config)

    @classmethod
    def for_state_dir(
        cls, state_dir: Path, *, clock: Clock | None = None, config: SubnetConfig | None = None
    ) -> LocalIc:
        """The local IC kept in ``state_dir`` (its SQLite file ``ic.sqlite3``, created if missing)."""
        return cls(IcDatabase.for_state_dir(state_dir), clock=clock, config=config)

    @property
    def db(self) -> IcDatabase:
        """The database this IC keeps its state in."""
        return self._db

    def close(self) -> None:
        """Release the live instances and the database's connections."""
        self._router.runtime.live.clear()
        self._db.dispose()

    @property
    def subnet_id(self) -> Principal:
        return self.config.subnet_id

    @property
    def router(self) -> Router:
        """The message router (the queue, ingress routing); the front and tools use it."""
        return self._router

    @property
    def hooks(self) -> tuple[CallHook, ...]:
        """The call hooks installed, in the order they run."""
        return self._router.hooks

    def add_hook(self, hook: CallHook) -> None:
        """Run ``hook.before(method)`` as each public method starts and ``hook.after(method)`` once it committed.

        A hook may raise: from ``before`` the call does not happen; from ``after`` its effects stand and the
        caller gets the exception instead of the result (``icp_local.testing`` injects faults this way).
        """
        self._router.hooks = (*self._router.hooks, hook)

    def remove_hook(self, hook: CallHook) -> None:
        """Stop running ``hook``."""
        self._router.hooks = tuple(h for h in self._router.hooks if h is not hook)

    # --- calling canisters, as PocketIC's Python library names it ----------------------------------------

    def set_sender(self, principal: Principal) -> None:
        """The principal the calls below make when not given ``sender`` (anonymous at first)."""
        self.sender = principal

    def update_call(
        self, canister_id: Principal, method: str, arg: bytes = b"", *, sender: Principal | None = None
    ) -> bytes:
        """An update call, ingress from ``sender``: runs it and whatever calls it makes; returns the reply.

        Raises:
            Reject: the IC's reject (3/IC0301 no canister, 5/IC0508 stopped, 5/IC0537 empty, 5/IC0536 no such
                method, 5/IC0502 or IC0503 a trap, 4/IC0406 the canister rejected, 5/IC0506 no reply, ...).
            IngressTooLarge: method and argument over the ingress limit.
        """
        return self._router.update(sender or self.sender, canister_id, method, arg)

    def query_call(
        self, canister_id: Principal, method: str, arg: bytes = b"", *, sender: Principal | None = None
    ) -> bytes:
        """A query call from ``sender`` (its changes are discarded); returns the reply. Raises Reject."""
        return self._router.query(sender or self.sender, canister_id, method, arg)

    def call(
        self,
        sender: Principal,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        query: bool = False,
        view: View | None = None,
    ) -> bytes:
        """One ingress message to any destination (the management canister, the ledger, the CMC, a canister),
        Candid in and out, as the HTTP front receives it. Raises Reject."""
        return self._router.ingress(sender, canister_id, method, arg, query=query, view=view)

    def create_canister(
        self,
        *,
        settings: CanisterSettings | None = None,
        cycles: int | None = None,
        sender: Principal | None = None,
        specified_id: Principal | None = None,
    ) -> Principal:
        """A new empty canister holding ``cycles`` (the default provisional amount when None)."""
        return self.provisional_create_canister_with_cycles(
            sender or self.sender, cycles, settings, specified_id
        )

    def install_canister(
        self, canister_id: Principal, wasm_module: bytes, arg: bytes = b"", *, sender: Principal | None = None
    ) -> None:
        """``install_code`` in mode ``install``: ``canister_init`` runs with ``arg``. Raises Reject."""
        self.install_code(sender or self.sender, canister_id, InstallMode.INSTALL, wasm_module, arg)

    def reinstall_canister(
        self, canister_id: Principal, wasm_module: bytes, arg: bytes = b"", *, sender: Principal | None = None
    ) -> None:
        """``install_code`` in mode ``reinstall``: the state starts afresh. Raises Reject."""
        self.install_code(sender or self.sender, canister_id, InstallMode.REINSTALL, wasm_module, arg)

    def upgrade_canister(
        self,
        canister_id: Principal,
        wasm_module: bytes,
        arg: bytes = b"",
        *,
        sender: Principal | None = None,
        skip_pre_upgrade: bool | None = None,
        wasm_memory_persistence: WasmMemoryPersistence | None = None,
    ) -> None:
        """``install_code`` in mode ``upgrade`` with its options; a failed upgrade leaves the old code and state."""
        flags = UpgradeFlags(skip_pre_upgrade, wasm_memory_persistence)
        self.install_code(sender or self.sender, canister_id, InstallMode.UPGRADE, wasm_module, arg, flags)

    def uninstall_canister(self, canister_id: Principal, *, sender: Principal | None = None) -> None:
        """``uninstall_code``. Raises Reject."""
        self.uninstall_code(sender or self.sender, canister_id)

    def add_cycles(self, canister_id: Principal, amount: int) -> int:
        """Adds ``amount`` cycles to the canister; returns its new balance. Raises Reject 3/IC0301."""
        with self._write("add_cycles") as (tx, _env):
            management.top_up(tx, canister_id, amount)
            row = tx.get_canister(canister_id)
            assert row is not None
            return row.cycles

    def get_cycles_balance(self, canister_id: Principal) -> int:
        """The canister's cycles. Raises Reject 3/IC0301."""
        with self._read("get_cycles_balance") as (tx, _env):
            row = tx.get_canister(canister_id)
            if row is None:
                raise rejects.canister_not_found(canister_id)
            return row.cycles

    def get_time(self) -> int:
        """The IC's time, in nanoseconds since the epoch."""
        return self.clock.now_ns()

    def get_stable_memory(self, canister_id: Principal) -> bytes:
        """The canister's stable memory as committed (empty for a canister without code)."""
        with self._read("get_stable_memory") as (tx, _env):
            state = tx.exec.get_exec(canister_id)
            if state is None:
                return b""
            pages = tx.exec.pages(canister_id)[STABLE]
        memory = bytearray(state.stable_size * 65536)
        for index, data in pages.items():
            memory[index * 4096 : (index + 1) * 4096] = data
        return bytes(memory)

    def drain(self) -> int:
        """Delivers the messages waiting in the queue (calls between canisters and their answers)."""
        return self._router.drain()

    # --- management canister -------------------------------------------------------------------------------

    def provisional_create_canister_with_cycles(
        self,
        sender: Principal,
        amount: int | None = None,
        settings: CanisterSettings | None = None,
        specified_id: Principal | None = None,
    ) -> Principal:
        """Create a canister holding ``amount`` cycles (the configured default when None).

        Raises:
            Reject: 5/IC0504 invalid settings; 4/IC0408 ``specified_id`` inside the automatic range;
                2/IC0205 ``specified_id`` exists; 1/IC0101 the id range is used up.
        """
        cycles = self.config.default_provisional_cycles if amount is None else amount
        with self._write("provisional_create_canister_with_cycles") as (tx, env):
            return management.create(
                tx,
                env,
                origin=sender,
                cycles=cycles,
                settings=settings,
                default_controller=sender,
                specified_id=specified_id,
            )

    def provisional_top_up_canister(self, sender: Principal, canister_id: Principal, amount: int) -> None:
        """Add ``amount`` cycles to a canister. Raises Reject 3/IC0301 if it does not exist."""
        with self._write("provisional_top_up_canister") as (tx, _env):
            management.top_up(tx, canister_id, amount)

    def install_code(
        self,
        sender: Principal,
        canister_id: Principal,
        mode: InstallMode,
        wasm_module: bytes,
        arg: bytes = b"",
        flags: UpgradeFlags | None = None,
    ) -> None:
        """Install ``wasm_module`` (raw or gzipped Wasm) in ``mode``: ``canister_init`` runs with ``arg``
        (``upgrade``: the pre- and post-upgrade hooks, with ``flags``' options).

        Raises:
            Reject: 3/IC0301 no such canister; 5/IC0512 sender not a controller; 5/IC0514 ``install`` on a
                non-empty canister; 5/IC0537 ``upgrade`` on an empty one; 2/IC0207 the canister cannot pay;
                5/IC0505 invalid module; 5/IC0502, IC0503, ... a trap in a step (the canister is left as it
                was); 5/IC0504 a refused upgrade option; ``IngressTooLarge`` module and arg over the limit.
        """
        with self._write("install_code") as (tx, env):
            management.install_code(tx, env, sender, canister_id, mode, wasm_module, arg, flags)

    def upload_chunk(self, sender: Principal, canister_id: Principal, chunk: bytes) -> bytes:
        """Store ``chunk`` in the canister's chunk store and return its SHA-256.

        Raises:
            Reject: 3/IC0301, 5/IC0512 (controllers or the canister itself), 5/IC0504 chunk over
                1 MiB, store full, or the canister cannot pay.
        """
        with self._write("upload_chunk") as (tx, env):
            return management.upload_chunk(tx, env, sender, canister_id, chunk)

    def stored_chunks(self, sender: Principal, canister_id: Principal) -> list[bytes]:
        """The hashes in the canister's chunk store, in upload order. Raises Reject 3/IC0301, 5/IC0512."""
        with self._read("stored_chunks") as (tx, _env):
            return management.stored_chunks(tx, sender, canister_id)

    def clear_chunk_store(self, sender: Principal, canister_id: Principal) -> None:
        """Empty the canister's chunk store. Raises Reject 3/IC0301, 5/IC0512."""
        with self._write("clear_chunk_store") as (tx, _env):
            management.clear_chunk_store(tx, sender, canister_id)

    def install_chunked_code(
        self,
        sender: Principal,
        target_canister: Principal,
        store_canister: Principal | None,
        chunk_hashes: Sequence[bytes],
        wasm_module_hash: bytes,
        mode: InstallMode,
        arg: bytes = b"",
        flags: UpgradeFlags | None = None,
    ) -> None:
        """Install the module made of ``chunk_hashes`` from the store canister (the target by default).

        The sender must control the target, and control the store canister or be it.

        Raises:
            Reject: as ``install_code``, and 5/IC0504 for a chunk hash not found, a hash not 32 bytes, or a
                module whose SHA-256 is not ``wasm_module_hash``.
        """
        with self._write("install_chunked_code") as (tx, env):
            management.install_chunked_code(
                tx,
                env,
                sender,
                target_canister,
                store_canister,
                chunk_hashes,
                wasm_module_hash,
                mode,
                arg,
                flags,
            )

    def uninstall_code(self, sender: Principal, canister_id: Principal) -> None:
        """Remove the canister's module. Raises Reject 3/IC0301, 5/IC0512."""
        with self._write("uninstall_code") as (tx, env):
            management.uninstall_code(tx, env, sender, canister_id)

    def update_settings(self, sender: Principal, canister_id: Principal, settings: CanisterSettings) -> None:
        """Change the fields given in ``settings``. Raises Reject 3/IC0301, 5/IC0512, 5/IC0504 (invalid)."""
        with self._write("update_settings") as (tx, env):
            management.update_settings(tx, env, sender, canister_id, settings)

    def canister_status(self, sender: Principal, canister_id: Principal) -> CanisterStatus:
        """The canister's status, for its controllers and itself. Raises Reject 3/IC0301, 5/IC0512."""
        with self._read("canister_status") as (tx, _env):
            return management.canister_status(tx, sender, canister_id)

    def start_canister(self, sender: Principal, canister_id: Principal) -> None:
        """Set the canister running. Raises Reject 3/IC0301, 5/IC0512."""
        with self._write("start_canister") as (tx, _env):
            management.set_running(tx, sender, canister_id, CanisterRunStatus.RUNNING)

    def stop_canister(self, sender: Principal, canister_id: Principal) -> None:
        """Stop the canister (at once). Raises Reject 3/IC0301, 5/IC0512."""
        with self._write("stop_canister") as (tx, _env):
            management.set_running(tx, sender, canister_id, CanisterRunStatus.STOPPED)

    def delete_canister(self, sender: Principal, canister_id: Principal) -> None:
        """Delete a stopped canister. Raises Reject 3/IC0301, 5/IC0512, 5/IC0510 (not stopped)."""
        with self._write("delete_canister") as (tx, env):
            management.delete_canister(tx, env, sender, canister_id)

    def canister_info(self, canister_id: Principal, num_requested_changes: int = 0) -> CanisterInfo:
        """``canister_info`` (callable only by canisters on the IC; here for tests and the HTTP front)."""
        with self._read("canister_info") as (tx, _env):
            return management.canister_info(tx, canister_id, num_requested_changes)

    # --- the state tree and test helpers ---------------------------------------------------------------

    def read_controllers(self, canister_id: Principal) -> tuple[Principal, ...]:
        """``/canister/<id>/controllers``. Raises Reject 3/IC0301 for an unknown canister."""
        with self._read("read_controllers") as (tx, _env):
            return management.read_controllers(tx, canister_id)

    def read_module_hash(self, canister_id: Principal) -> bytes | None:
        """``/canister/<id>/module_hash``: None for an empty canister. Raises Reject 3/IC0301."""
        with self._read("read_module_hash") as (tx, _env):
            return management.read_module_hash(tx, canister_id)

    def read_metadata(self, canister_id: Principal, name: str, sender: Principal) -> bytes | None:
        """``/canister/<id>/metadata/<name>``: None if absent, or private and ``sender`` not a controller."""
        with self._read("read_metadata") as (tx, _env):
            return management.read_metadata(tx, canister_id, name, sender)

    def read_certified_data(self, canister_id: Principal) -> bytes | None:
        """``/canister/<id>/certified_data``: what the canister certified (None without code)."""
        with self._read("read_certified_data") as (tx, _env):
            state = tx.exec.get_exec(canister_id)
            return None if state is None else state.certified_data

    def installed_module(self, canister_id: Principal) -> bytes | None:
        """The installed module's bytes (as given to install), None for an empty canister."""
        with self._read("installed_module") as (tx, _env):
            return management.installed_module(tx, canister_id)

    def canister_exists(self, canister_id: Principal) -> bool:
        with self._read("canister_exists") as (tx, _env):
            return tx.canister_exists(canister_id)

    def list_canisters(self) -> list[Principal]:
        """Every canister that exists, in id order."""
        with self._read("list_canisters") as (tx, _env):
            return tx.list_canisters()

    def count_modules(self) -> int:
        """How many distinct modules are stored (each once, however many canisters use it)."""
        with self._read("count_modules") as (tx, _env):
            return tx.count_modules()

    # --- cycles ledger -------------------------------------------------------------------------------------

    def icrc1_balance_of(self, owner: Principal, subaccount: bytes | None = None) -> int:
        with self._read("icrc1_balance_of") as (tx, _env):
            return ledger.balance_of(tx, owner, subaccount)

    def icrc1_fee(self) -> int:
        return self.config.ledger_fee

    def ledger_create_canister(
        self,
        sender: Principal,
        amount: int,
        settings: CanisterSettings | None = None,
        created_at_time: int | None = None,
        *,
        from_subaccount: bytes | None = None,
        subnet: Principal | None = None,
    ) -> CreateCanisterOk | LedgerErr:
        """The ledger's ``create_canister`` with its result variant as is (``Err`` returned, not raised)."""
        with self._write("create_canister") as (tx, env):
            return ledger.create_canister(
                tx,
                env,
                sender,
                amount,
                settings,
                created_at_time,
                from_subaccount=from_subaccount,
                subnet=subnet,
            )

    def ledger_withdraw(
        self,
        sender: Principal,
        amount: int,
        to: Principal,
        created_at_time: int | None = None,
        *,
        from_subaccount: bytes | None = None,
    ) -> int | LedgerErr:
        """The ledger's ``withdraw`` with its result variant as is: the block index or a ``LedgerErr``."""
        with self._write("withdraw") as (tx, env):
            return ledger.withdraw(
                tx, env, sender, amount, to, created_at_time, from_subaccount=from_subaccount
            )

    def mint(self, owner: Principal, amount: int, subaccount: bytes | None = None) -> int:
        """Credit ``amount`` cycles to an account, free: the operator's stand-in for buying cycles.

        Not a method of the real ledger. Returns the block index.
        """
        with self._write("mint") as (tx, _env):
            return ledger.mint(tx, owner, subaccount, amount)

    def deposit(self, owner: Principal, amount: int, subaccount: bytes | None = None) -> DepositResult:
        """The ledger's ``deposit`` as if a canister attached ``amount`` cycles: credits ``amount - fee``."""
        with self._write("deposit") as (tx, _env):
            return ledger.deposit(tx, owner, subaccount, amount, self.config.ledger_fee)

    # --- CMC -----------------------------------------------------------------------------------------------

    def get_default_subnets(self) -> list[Principal]:
        """The CMC's ``get_default_subnets``: this one subnet."""
        return [self.config.subnet_id]

    # --- plumbing ------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, method: str) -> Iterator[tuple[IcStateTx, Env]]:
        with self._router.write(method) as opened:
            yield opened

    @contextlib.contextmanager
    def _read(self, method: str) -> Iterator[tuple[IcStateTx, Env]]:
        with self._router.read(method) as opened:
            yield opened
