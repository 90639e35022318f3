"""The rough edges of issue 9: each refused with a message that says what is wrong, nothing lost or changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import (
    Conflict,
    IcUnavailable,
    InsufficientCycles,
    InvalidArgument,
    LimitExceeded,
    NotFound,
)
from canister_factory._core.lifecycle import State
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.identity import generate_identity
from icp_local.testing import faults_of
from tests.support.attacks import Attack
from tests.support.backends import Backend, open_backend
from tests.support.factory import COUNTER_INIT_ARG, CREATION_FEE, LEDGER_FEE, T, sha256_hex, write_identity
from tests.support.wasm_modules import counter_wasm

BIN = Path(sys.executable).with_name("canister-factory")


def _request(upload_id: int, **fields: object) -> CreateInstallRequest:
    values: dict[str, object] = {
        "upload_id": upload_id,
        "init_arg": COUNTER_INIT_ARG,
        "mode": Mode.INSTALL,
        "cycles": T,
        "handoff": True,
    }
    values.update(fields)
    return CreateInstallRequest(**values)  # type: ignore[arg-type]


def _upload(backend: Backend, caller: object) -> int:
    factory = backend.app.factory
    upload_id = factory.create_upload(caller)  # type: ignore[arg-type]
    factory.put_chunk(caller, upload_id, counter_wasm(), 0)  # type: ignore[arg-type]
    factory.commit_upload(caller, upload_id, sha256_hex(counter_wasm()))  # type: ignore[arg-type]
    return upload_id


def test_an_idempotency_key_reused_for_another_request(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "a retry with the same idempotency_key but other cycles and handoff",
        "409 Conflict naming the key and the fields that differ; no second canister",
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid = _upload(backend, alice)
        first = factory.create_and_install_with(alice, _request(uid, idempotency_key="order-42"))
        assert factory.create_and_install_with(alice, _request(uid, idempotency_key="order-42")) == first
        with pytest.raises(Conflict) as err:
            retry = _request(uid, cycles=2 * T, handoff=False, idempotency_key="order-42")
            factory.create_and_install_with(alice, retry)
        attack.saw(f"Conflict: {err.value}")
        assert str(err.value) == (
            "idempotency_key 'order-42' was already used for a different request (cycles, handoff, controllers "
            "differ); use a new key for a new request"
        )
        assert len(factory.list_my_canisters(alice).canisters) == 1


def test_the_factory_as_an_extra_controller_with_handoff(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "extra_controllers names the factory itself, with handoff = true",
        "400 InvalidArgument before anything is spent (the factory would stay in control of a 'handed off' canister)",
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid, balance = _upload(backend, alice), backend.ic_balance()
        with pytest.raises(InvalidArgument) as err:
            factory.create_and_install_with(alice, _request(uid, extra_controllers=(factory.principal,)))
        attack.saw(f"InvalidArgument: {err.value}; balance unchanged: {backend.ic_balance() == balance}")
        assert str(err.value).startswith(
            f"extra_controllers: the factory itself ({factory.principal.to_text()})"
        )
        assert backend.ic_balance() == balance and factory.list_my_canisters(alice).canisters == ()


def test_cycles_equal_to_the_creation_fee(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "cycles equal to the creation fee (the canister could be made but not installed)",
        "400 InvalidArgument naming the least that pays for creation and install; nothing spent",
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid, balance = _upload(backend, alice), backend.ic_balance()
        with pytest.raises(InvalidArgument) as err:
            factory.create_and_install_with(alice, _request(uid, cycles=CREATION_FEE))
        attack.saw(f"InvalidArgument: {err.value}")
        assert "does not cover the creation fee" in str(err.value) and "give at least" in str(err.value)
        least = int(str(err.value).rsplit(" ", 1)[1])
        assert backend.ic_balance() == balance
        created = factory.create_and_install_with(alice, _request(uid, cycles=least))
        assert created.cycles_used == least + LEDGER_FEE


def test_a_negative_chunk_index(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "put_chunk at index -1", "InvalidArgument: the index must be a nat32 (not 'already received')"
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid = factory.create_upload(alice)
        factory.put_chunk(alice, uid, b"\x00asm", 0)
        with pytest.raises(InvalidArgument) as err:
            factory.put_chunk(alice, uid, b"\x00asm", -1)
        attack.saw(f"InvalidArgument: {err.value}")
        assert str(err.value) == "chunk index: must be a nat32 (0 to 4294967295), got -1"
        assert factory.get_upload_info(alice, uid).total_len == 4


def test_removing_someone_who_is_not_an_admin(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "remove_admin of a principal that is not an admin, with one admin", "NotFound: it is not an admin"
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, stranger = backend.app.factory, generate_identity().principal
        with pytest.raises(NotFound) as err:
            factory.remove_admin(backend.admin.principal, stranger)
        attack.saw(f"NotFound: {err.value}")
        assert str(err.value) == f"{stranger.to_text()} is not an admin: nothing to remove"
        with pytest.raises(Conflict, match=r"^Cannot remove the last admin$"):
            factory.remove_admin(backend.admin.principal, backend.admin.principal)


def test_low_cycles_never_prints_a_negative_balance(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "a creation while another's reservation exceeds what is left above the floor (its reply lost)",
        "Factory low on cycles: what the request needs, what is reserved, the real balance and the floor; never "
        "a negative balance",
    )
    init = InitArg(min_factory_cycles=0)
    with open_backend("inproc", tmp_path, init, funding=3 * T) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid = _upload(backend, alice)
        assert backend.app.embedded is not None
        faults = faults_of(backend.app.embedded)
        faults.unavailable("create_canister")
        backend.app.factory.ctx.ic_retries = 1
        with pytest.raises(IcUnavailable):
            factory.create_and_install_with(alice, _request(uid, cycles=2 * T))
        faults.clear()
        with factory.ctx.store.read() as tx:
            assert [r.state for r in tx.creations.page(None, None, 10)] == [State.RESERVED]
        with pytest.raises(InsufficientCycles) as err:
            factory.create_and_install_with(alice, _request(uid, cycles=2 * T))
        attack.saw(f"InsufficientCycles: {err.value}")
        balance = backend.ic_balance()
        assert str(err.value) == (
            f"Factory low on cycles: this request plus fees ({2 * T + LEDGER_FEE}), with {2 * T + LEDGER_FEE} "
            f"reserved by requests in flight, is more than the balance of {balance} can pay; the floor is 0 "
            "(min_factory_cycles)"
        )


def test_storage_is_bounded_for_all_callers_together(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "fresh keys (an open allowlist) each upload until the factory's storage is full",
        "429 LimitExceeded 'Factory storage full' once max_stored_module_bytes is reached; earlier bytes kept",
    )
    with open_backend("inproc", tmp_path, InitArg(max_stored_module_bytes=3_000)) as backend:
        factory = backend.app.factory
        kept = []
        with pytest.raises(LimitExceeded) as err:
            for _ in range(10):  # fresh callers: per-caller limits do not bound this
                caller = generate_identity().principal
                uid = factory.create_upload(caller)
                factory.put_chunk(caller, uid, b"\x00" * 1_000, 0)
                kept.append((caller, uid))
        attack.saw(f"after {len(kept)} uploads of 1000 bytes: LimitExceeded: {err.value}")
        assert len(kept) == 3
        assert str(err.value).startswith("Factory storage full: 3000 bytes of modules and uploads are stored")
        factory.clear_upload(*kept[0])
        caller = generate_identity().principal
        assert factory.put_chunk(caller, factory.create_upload(caller), b"\x00" * 1_000, 0) == 1_000


def test_a_malformed_hash_still_says_hash_mismatch(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "commit_upload with expected_sha256_hex 'xyz'", "InvalidArgument whose text has 'hash mismatch'"
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid = factory.create_upload(alice)
        factory.put_chunk(alice, uid, counter_wasm(), 0)
        with pytest.raises(InvalidArgument) as err:
            factory.commit_upload(alice, uid, "xyz")
        attack.saw(f"InvalidArgument: {err.value}")
        assert "hash mismatch" in str(err.value)


def test_deploy_warns_when_anyone_can_spend(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "deploy with an open allowlist and no max_cycles_per_caller_per_day",
        "deploy succeeds and warns on stderr; no warning once a daily bound is set (and the factory is funded)",
    )
    who = write_identity(tmp_path / "me.pem")
    run = [str(BIN), "--identity", str(who.pem), "--state"]
    open_ = subprocess.run([*run, str(tmp_path / "a"), "deploy"], capture_output=True, text=True, timeout=120)
    bounded = subprocess.run(
        [
            *run,
            str(tmp_path / "b"),
            "deploy",
            "--max-cycles-per-caller-per-day",
            str(10 * T),
            "--cycles",
            str(6 * T),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    attack.saw(
        f"open: exit {open_.returncode}, stderr {open_.stderr.strip()!r}; bounded: {bounded.stderr.strip()!r}"
    )
    assert open_.returncode == 0 and bounded.returncode == 0
    assert "Warning: the allowlist is open and max_cycles_per_caller_per_day is not set" in open_.stderr
    assert "Warning" not in bounded.stderr


def test_the_daily_cycles_bound_counts_creations_and_top_ups(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "one caller spends past max_cycles_per_caller_per_day with creations, then with an Upgrade top-up",
        "429 LimitExceeded 'Cycles limit per day reached' for the creation and for the top-up",
    )
    init = InitArg(max_cycles_per_caller_per_day=5 * T)
    with open_backend("inproc", tmp_path, init) as backend:
        factory, alice = backend.app.factory, generate_identity().principal
        uid = _upload(backend, alice)
        kept = factory.create_and_install_with(alice, _request(uid, cycles=2 * T, handoff=False))
        factory.create_and_install_with(alice, _request(uid, cycles=2 * T))
        with pytest.raises(LimitExceeded) as creation:
            factory.create_and_install_with(alice, _request(uid, cycles=2 * T))
        upgrade = _request(uid, mode=Mode.UPGRADE, canister_id=kept.canister_id, cycles=T, handoff=False)
        with pytest.raises(LimitExceeded) as top_up:
            factory.create_and_install_with(alice, upgrade)
        attack.saw(f"creation: {creation.value}; top-up: {top_up.value}")
        assert str(creation.value).startswith("Cycles limit per day reached: ")
        assert str(top_up.value).startswith("Cycles limit per day reached: ")
        bob = generate_identity().principal
        assert factory.create_and_install_with(bob, _request(_upload(backend, bob), cycles=2 * T))
