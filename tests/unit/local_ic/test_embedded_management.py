"""The management canister of the embedded IC: every method, its rejects, and their atomicity."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from embedded_wasm import custom_section, distinct_module, gzipped, module, module_with_metadata

from canister_factory.ports import CanisterRunStatus, CanisterSettings, FakeClock, InstallMode
from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_local import IngressTooLarge, LocalIc, SubnetConfig

WASM = module_with_metadata(public={"candid:service": b"service : {}"}, private={"git": b"abc"})
WASM_HASH = hashlib.sha256(WASM).digest()


def reject(call: Callable[[], object], code: int, error_code: str, fragment: str = "") -> Reject:
    with pytest.raises(Reject) as info:
        call()
    assert (info.value.reject_code, info.value.error_code) == (code, error_code), info.value
    assert fragment in info.value.reject_message
    return info.value


def new_canister(ic: LocalIc, sender: Principal, **settings: object) -> Principal:
    return ic.provisional_create_canister_with_cycles(sender, None, CanisterSettings(**settings))  # type: ignore[arg-type]


# --- creation --------------------------------------------------------------------------------------


def test_provisional_create_defaults(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    status = ic.canister_status(alice, canister)
    assert status.status is CanisterRunStatus.RUNNING
    assert status.controllers == (alice,)
    assert status.module_hash is None
    assert status.cycles == 100 * 10**12
    assert status.freezing_threshold == 2_592_000
    assert status.version == 0
    assert ic.config.in_range(canister)
    assert canister.canister_index() == ic.config.first_index


def test_ids_are_sequential_and_in_the_textual_form(ic: LocalIc, alice: Principal) -> None:
    first = ic.provisional_create_canister_with_cycles(alice, 10)
    second = ic.provisional_create_canister_with_cycles(alice, 10)
    assert second.canister_index() == (first.canister_index() or 0) + 1
    assert Principal.from_text(str(second)) == second
    assert str(first).endswith("-cai")


def test_create_with_settings_does_not_add_the_caller(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    settings = CanisterSettings(controllers=(bob, bob), freezing_threshold=5, compute_allocation=3)
    canister = ic.provisional_create_canister_with_cycles(alice, 7, settings)
    assert ic.read_controllers(canister) == (bob,)
    reject(lambda: ic.canister_status(alice, canister), 5, "IC0512")
    status = ic.canister_status(bob, canister)
    assert (status.cycles, status.freezing_threshold) == (7, 5)


def test_create_with_too_many_controllers(ic: LocalIc, alice: Principal) -> None:
    many = tuple(Principal.self_authenticating(bytes([i])) for i in range(11))
    reject(
        lambda: ic.provisional_create_canister_with_cycles(alice, 1, CanisterSettings(controllers=many)),
        5,
        "IC0504",
        "Could not validate the settings: Invalid settings: "
        "'controllers' length exceeds maximum size allowed of 10.",
    )
    assert ic.list_canisters() == []


def test_create_with_invalid_compute_allocation(ic: LocalIc, alice: Principal) -> None:
    settings = CanisterSettings(compute_allocation=101)
    reject(lambda: ic.provisional_create_canister_with_cycles(alice, 1, settings), 5, "IC0504", "[0..100]")
    negative = CanisterSettings(freezing_threshold=-1)
    reject(lambda: ic.provisional_create_canister_with_cycles(alice, 1, negative), 5, "IC0504", "freezing")


def test_specified_id(ic: LocalIc, alice: Principal) -> None:
    wanted = Principal.from_canister_index(0x0100_0000)
    assert ic.provisional_create_canister_with_cycles(alice, 1, None, wanted) == wanted
    reject(lambda: ic.provisional_create_canister_with_cycles(alice, 1, None, wanted), 2, "IC0205")
    in_range = Principal.from_canister_index(ic.config.first_index + 5)
    reject(lambda: ic.provisional_create_canister_with_cycles(alice, 1, None, in_range), 4, "IC0408")


def test_out_of_canister_ids(db: object, alice: Principal, clock: FakeClock) -> None:
    config = SubnetConfig(first_index=10 * 2**20, last_index=10 * 2**20 + 1)
    ic = LocalIc(db, clock=clock, config=config)  # type: ignore[arg-type]
    ic.provisional_create_canister_with_cycles(alice, 1)
    ic.provisional_create_canister_with_cycles(alice, 1)
    reject(lambda: ic.provisional_create_canister_with_cycles(alice, 1), 1, "IC0101")


def test_top_up(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice, 5)
    ic.provisional_top_up_canister(bob, canister, 10)
    assert ic.canister_status(alice, canister).cycles == 15
    reject(lambda: ic.provisional_top_up_canister(bob, Principal.from_canister_index(1), 1), 3, "IC0301")


# --- not found and not a controller, for every method ----------------------------------------------


def calls(ic: LocalIc, sender: Principal, canister: Principal) -> dict[str, Callable[[], object]]:
    return {
        "install_code": lambda: ic.install_code(sender, canister, InstallMode.INSTALL, WASM),
        "upload_chunk": lambda: ic.upload_chunk(sender, canister, b"x"),
        "stored_chunks": lambda: ic.stored_chunks(sender, canister),
        "clear_chunk_store": lambda: ic.clear_chunk_store(sender, canister),
        "install_chunked_code": lambda: ic.install_chunked_code(
            sender, canister, None, [bytes(32)], bytes(32), InstallMode.INSTALL
        ),
        "update_settings": lambda: ic.update_settings(
            sender, canister, CanisterSettings(freezing_threshold=1)
        ),
        "canister_status": lambda: ic.canister_status(sender, canister),
        "start_canister": lambda: ic.start_canister(sender, canister),
        "stop_canister": lambda: ic.stop_canister(sender, canister),
        "delete_canister": lambda: ic.delete_canister(sender, canister),
        "uninstall_code": lambda: ic.uninstall_code(sender, canister),
    }


METHODS = [
    "install_code",
    "upload_chunk",
    "stored_chunks",
    "clear_chunk_store",
    "install_chunked_code",
    "update_settings",
    "canister_status",
    "start_canister",
    "stop_canister",
    "delete_canister",
    "uninstall_code",
]


@pytest.mark.parametrize("method", METHODS)
def test_unknown_canister_is_not_found(ic: LocalIc, alice: Principal, method: str) -> None:
    missing = Principal.from_canister_index(ic.config.first_index + 99)
    reject(calls(ic, alice, missing)[method], 3, "IC0301", f"Canister {missing} not found.")


@pytest.mark.parametrize("method", METHODS)
def test_non_controller_is_refused(ic: LocalIc, alice: Principal, bob: Principal, method: str) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    error = reject(calls(ic, bob, canister)[method], 5, "IC0512")
    assert error.reject_message == (
        f"Only the controllers of the canister {canister} can control it.\n"
        f"Canister's controllers: {alice}\nSender's ID: {bob}"
    )
    assert ic.canister_status(alice, canister).version == 0


# --- install_code ----------------------------------------------------------------------------------


def test_install_sets_the_module_hash_and_charges(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM, b"arg")
    status = ic.canister_status(alice, canister)
    assert status.module_hash == WASM_HASH == ic.read_module_hash(canister)
    assert status.version == 1
    fee = 5_000_000 + 1_200_000 + 2_000 * (len(WASM) + 3)
    assert status.cycles == 100 * 10**12 - fee
    assert ic.installed_module(canister) == WASM


def test_install_modes(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(lambda: ic.install_code(alice, canister, InstallMode.UPGRADE, WASM), 5, "IC0537", "no Wasm module")
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    reject(
        lambda: ic.install_code(alice, canister, InstallMode.INSTALL, WASM),
        5,
        "IC0514",
        f"Canister {canister} cannot be installed because the canister is not empty. "
        "Try installing with mode='reinstall' instead.",
    )
    other = distinct_module(1)
    ic.install_code(alice, canister, InstallMode.UPGRADE, other)
    assert ic.read_module_hash(canister) == hashlib.sha256(other).digest()
    ic.install_code(alice, canister, InstallMode.REINSTALL, WASM)
    assert ic.read_module_hash(canister) == WASM_HASH
    assert ic.canister_status(alice, canister).version == 3
    empty = ic.provisional_create_canister_with_cycles(alice)
    ic.install_code(alice, empty, InstallMode.REINSTALL, WASM)
    assert ic.read_module_hash(empty) == WASM_HASH


def test_install_gzip_module(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    compressed = gzipped(WASM)
    ic.install_code(alice, canister, InstallMode.INSTALL, compressed)
    assert ic.read_module_hash(canister) == hashlib.sha256(compressed).digest()
    assert ic.read_metadata(canister, "candid:service", Principal.anonymous()) == b"service : {}"


def test_install_invalid_wasm(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(
        lambda: ic.install_code(alice, canister, InstallMode.INSTALL, b"\x00asm\x02\x00\x00\x00"),
        5,
        "IC0505",
        "Canister's Wasm module is not valid: ",
    )
    assert ic.canister_status(alice, canister).cycles == 100 * 10**12
    assert ic.count_modules() == 0


def test_install_too_large_module(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    bomb = gzipped(module(custom_section("pad", b"\x00" * (100 * 1024 * 1024))))
    reject(
        lambda: ic.install_code(alice, canister, InstallMode.INSTALL, bomb),
        5,
        "IC0505",
        "Canister's Wasm module is not valid: Failed to decode wasm module: gzip module decompresses to more than "
        "104857600 bytes",
    )


def test_install_out_of_cycles_has_no_effect(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice, 1_000)
    error = reject(lambda: ic.install_code(alice, canister, InstallMode.INSTALL, WASM), 2, "IC0207")
    assert error.transient
    assert error.reject_message.startswith(
        f"Canister installation failed with `Canister {canister} is out of"
    )
    status = ic.canister_status(alice, canister)
    assert (status.cycles, status.module_hash, status.version) == (1_000, None, 0)


def test_install_over_the_ingress_limit(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    with pytest.raises(IngressTooLarge) as info:
        ic.install_code(alice, canister, InstallMode.INSTALL, WASM, b"\x00" * (2 * 1024 * 1024))
    assert info.value.reject_code == 4


def test_same_module_is_stored_once(ic: LocalIc, alice: Principal) -> None:
    for _ in range(5):
        canister = ic.provisional_create_canister_with_cycles(alice)
        ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    assert ic.count_modules() == 1
    ic.install_code(alice, canister, InstallMode.REINSTALL, distinct_module(2))
    assert ic.count_modules() == 2


# --- chunk store and install_chunked_code ----------------------------------------------------------


def test_upload_chunk(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    first = ic.upload_chunk(alice, canister, b"one")
    assert first == hashlib.sha256(b"one").digest()
    second = ic.upload_chunk(alice, canister, b"two")
    assert ic.upload_chunk(alice, canister, b"one") == first
    assert ic.stored_chunks(alice, canister) == [first, second]
    assert ic.canister_status(alice, canister).cycles < 100 * 10**12
    ic.clear_chunk_store(alice, canister)
    assert ic.stored_chunks(alice, canister) == []


def test_canister_may_manage_its_own_chunk_store(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    digest = ic.upload_chunk(canister, canister, b"self")
    assert ic.stored_chunks(canister, canister) == [digest]
    ic.clear_chunk_store(canister, canister)


def test_chunk_too_large(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(
        lambda: ic.upload_chunk(alice, canister, b"\x00" * (1024 * 1024 + 1)),
        5,
        "IC0504",
        "Error from Wasm chunk store: Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576",
    )
    ic.upload_chunk(alice, canister, b"\x00" * (1024 * 1024))


def test_chunk_store_full(db: object, clock: FakeClock, alice: Principal) -> None:
    ic = LocalIc(db, clock=clock, config=SubnetConfig(max_chunks=2))  # type: ignore[arg-type]
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.upload_chunk(alice, canister, b"a")
    ic.upload_chunk(alice, canister, b"b")
    ic.upload_chunk(alice, canister, b"a")
    reject(lambda: ic.upload_chunk(alice, canister, b"c"), 5, "IC0504", "maximum capacity")


def test_upload_chunk_without_cycles(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice, 1_000)
    reject(lambda: ic.upload_chunk(alice, canister, b"a"), 5, "IC0504", "Cannot upload chunk")
    assert ic.stored_chunks(alice, canister) == []


def upload_in_chunks(ic: LocalIc, sender: Principal, store: Principal, wasm: bytes, size: int) -> list[bytes]:
    return [ic.upload_chunk(sender, store, wasm[i : i + size]) for i in range(0, len(wasm), size)]


def test_install_chunked_code_from_another_store(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    store = ic.provisional_create_canister_with_cycles(
        alice, None, CanisterSettings(controllers=(alice, bob))
    )
    target = ic.provisional_create_canister_with_cycles(bob)
    hashes = upload_in_chunks(ic, alice, store, WASM, 7)
    ic.install_chunked_code(bob, target, store, hashes, WASM_HASH, InstallMode.INSTALL, b"")
    assert ic.read_module_hash(target) == WASM_HASH
    assert ic.installed_module(target) == WASM
    assert ic.read_module_hash(store) is None


def test_install_chunked_code_needs_the_store(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    store = ic.provisional_create_canister_with_cycles(alice)
    target = ic.provisional_create_canister_with_cycles(bob)
    hashes = upload_in_chunks(ic, alice, store, WASM, 16)
    reject(
        lambda: ic.install_chunked_code(bob, target, store, hashes, WASM_HASH, InstallMode.INSTALL),
        5,
        "IC0512",
        f"canister {store}",
    )
    missing = Principal.from_canister_index(ic.config.first_index + 50)
    reject(
        lambda: ic.install_chunked_code(bob, target, missing, hashes, WASM_HASH, InstallMode.INSTALL),
        3,
        "IC0301",
    )


def test_install_chunked_code_default_store_is_the_target(ic: LocalIc, alice: Principal) -> None:
    target = ic.provisional_create_canister_with_cycles(alice)
    hashes = upload_in_chunks(ic, alice, target, WASM, 5)
    ic.install_chunked_code(alice, target, None, hashes, WASM_HASH, InstallMode.INSTALL)
    assert ic.read_module_hash(target) == WASM_HASH


def test_install_chunked_code_errors(ic: LocalIc, alice: Principal) -> None:
    target = ic.provisional_create_canister_with_cycles(alice)
    hashes = upload_in_chunks(ic, alice, target, WASM, 10)

    def install(chunks: list[bytes], expected: bytes) -> Callable[[], None]:
        return lambda: ic.install_chunked_code(alice, target, None, chunks, expected, InstallMode.INSTALL)

    unknown = hashlib.sha256(b"unknown").digest()
    error = reject(
        install([*hashes, unknown], WASM_HASH), 5, "IC0504", "Error from Wasm chunk store: Chunk hash ["
    )
    assert error.reject_message.endswith("] was not found")
    reject(install(hashes[::-1], WASM_HASH), 5, "IC0504", "does not match given hash")
    reject(install([b"short"], WASM_HASH), 5, "IC0504", "Chunk hash is invalid. The length is not 32")
    reject(install(hashes, b"short"), 5, "IC0504", "The length is not 32")
    assert ic.read_module_hash(target) is None


def test_install_chunked_code_repeated_hashes(ic: LocalIc, alice: Principal) -> None:
    target = ic.provisional_create_canister_with_cycles(alice)
    wasm = distinct_module(3)
    pad = b"\x00\x03\x02ab"  # a custom section named "ab", empty
    whole = wasm + pad + pad
    hashes = [ic.upload_chunk(alice, target, wasm), ic.upload_chunk(alice, target, pad)]
    ic.install_chunked_code(
        alice,
        target,
        None,
        [hashes[0], hashes[1], hashes[1]],
        hashlib.sha256(whole).digest(),
        InstallMode.INSTALL,
    )
    assert ic.installed_module(target) == whole


# --- update_settings -------------------------------------------------------------------------------


def test_update_settings(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.update_settings(alice, canister, CanisterSettings(freezing_threshold=42))
    status = ic.canister_status(alice, canister)
    assert (status.freezing_threshold, status.controllers, status.version) == (42, (alice,), 1)
    ic.update_settings(alice, canister, CanisterSettings(controllers=(bob, alice)))
    assert ic.read_controllers(canister) == tuple(sorted((alice, bob)))
    ic.update_settings(alice, canister, CanisterSettings(controllers=(bob,)))
    reject(lambda: ic.canister_status(alice, canister), 5, "IC0512")
    assert ic.canister_status(bob, canister).freezing_threshold == 42
    ic.update_settings(bob, canister, CanisterSettings(controllers=()))
    assert ic.read_controllers(canister) == ()


def test_update_settings_invalid_has_no_effect(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    many = tuple(Principal.self_authenticating(bytes([i])) for i in range(11))
    settings = CanisterSettings(controllers=many, freezing_threshold=1)
    reject(lambda: ic.update_settings(alice, canister, settings), 5, "IC0504", "'controllers' length exceeds")
    status = ic.canister_status(alice, canister)
    assert (status.controllers, status.freezing_threshold, status.version) == ((alice,), 2_592_000, 0)


# --- status, start, stop, delete, uninstall --------------------------------------------------------


def test_canister_may_read_its_own_status(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    assert ic.canister_status(canister, canister).controllers == (alice,)


def test_stop_start_delete(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(
        lambda: ic.delete_canister(alice, canister),
        5,
        "IC0510",
        f"Canister {canister} must be stopped before it is deleted.",
    )
    ic.stop_canister(alice, canister)
    assert ic.canister_status(alice, canister).status is CanisterRunStatus.STOPPED
    ic.start_canister(alice, canister)
    assert ic.canister_status(alice, canister).status is CanisterRunStatus.RUNNING
    ic.start_canister(alice, canister)
    ic.stop_canister(alice, canister)
    assert ic.canister_status(alice, canister).version == 4
    ic.delete_canister(alice, canister)
    assert not ic.canister_exists(canister)
    reject(lambda: ic.canister_status(alice, canister), 3, "IC0301")
    reject(lambda: ic.read_controllers(canister), 3, "IC0301")
    assert ic.provisional_create_canister_with_cycles(alice) != canister


def test_canister_cannot_delete_itself(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.update_settings(alice, canister, CanisterSettings(controllers=(alice, canister)))
    ic.stop_canister(alice, canister)
    reject(lambda: ic.delete_canister(canister, canister), 5, "IC0512", "cannot delete itself")


def test_uninstall_code(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    ic.uninstall_code(alice, canister)
    assert ic.read_module_hash(canister) is None
    assert ic.installed_module(canister) is None
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)


# --- history, metadata -----------------------------------------------------------------------------


def test_history(ic: LocalIc, clock: FakeClock, alice: Principal, bob: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    clock.advance(1)
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    ic.update_settings(alice, canister, CanisterSettings(freezing_threshold=1))
    ic.update_settings(alice, canister, CanisterSettings(controllers=(alice, bob)))
    ic.uninstall_code(bob, canister)
    info = ic.canister_info(canister, 10)
    assert info.total_num_changes == 4
    assert [c.kind for c in info.recent_changes] == [
        "creation",
        "code_deployment",
        "controllers_change",
        "code_uninstall",
    ]
    assert [c.canister_version for c in info.recent_changes] == [0, 1, 3, 4]
    assert info.recent_changes[1].details == {"mode": "install", "module_hash": WASM_HASH.hex()}
    assert info.recent_changes[1].timestamp_nanos == clock.now_ns()
    assert info.recent_changes[3].origin == bob
    assert ic.canister_info(canister).recent_changes == ()


def test_history_keeps_the_last_twenty(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    for i in range(30):
        ic.update_settings(alice, canister, CanisterSettings(controllers=(alice, bob) if i % 2 else (alice,)))
    info = ic.canister_info(canister, 100)
    assert info.total_num_changes == 31
    assert len(info.recent_changes) == 20
    assert info.recent_changes[-1].canister_version == 30


def test_metadata(ic: LocalIc, alice: Principal, bob: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    assert ic.read_metadata(canister, "candid:service", alice) is None
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    assert ic.read_metadata(canister, "candid:service", bob) == b"service : {}"
    assert ic.read_metadata(canister, "git", bob) is None
    assert ic.read_metadata(canister, "git", alice) == b"abc"
    assert ic.read_metadata(canister, "absent", alice) is None
    reject(lambda: ic.read_metadata(Principal.from_canister_index(3), "x", alice), 3, "IC0301")


def test_list_canisters(ic: LocalIc, alice: Principal) -> None:
    created = [ic.provisional_create_canister_with_cycles(alice, 1) for _ in range(3)]
    assert ic.list_canisters() == created
    assert all(ic.canister_exists(c) for c in created)
    assert ic.get_default_subnets() == [ic.subnet_id]


def test_module_bytes_do_not_enter_the_canister(ic: LocalIc, alice: Principal) -> None:
    canister = new_canister(ic, alice, freezing_threshold=3)
    ic.install_code(alice, canister, InstallMode.INSTALL, module())
    assert ic.canister_status(alice, canister).memory_size == len(module())
