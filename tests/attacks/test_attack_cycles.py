"""The cycles floor under concurrency: every spend is reserved against it, whoever asks at the same moment.

Six callers each ask at once for a third of the balance above ``min_factory_cycles``; six top-ups of existing
canisters do the same. Exactly three of each fit; the factory never ends below its floor. In process (threads on
one factory) and over HTTP on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import FactoryError, InsufficientCycles
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.identity import generate_identity
from tests.support.attacks import Attack
from tests.support.backends import Backend, FactoryApi, open_backend
from tests.support.factory import COUNTER_INIT_ARG, LEDGER_FEE, T, sha256_hex
from tests.support.wasm_modules import counter_wasm

FLOOR = 5 * T
HEADROOM = 30 * T
CALLERS = 6
SERVED = ["inproc", "http-sqlite", pytest.param("http-postgres", marks=pytest.mark.postgres)]


def _upload(api: FactoryApi) -> int:
    upload_id = api.create_upload()
    api.put_chunk(upload_id, counter_wasm(), 0)
    api.commit_upload(upload_id, sha256_hex(counter_wasm()))
    return upload_id


def _all_at_once(calls: list[Callable[[], object]]) -> Counter[str]:
    """Run the calls from as many threads, released together; count "ok" and each error's class."""
    start = threading.Barrier(len(calls))

    def one(call: Callable[[], object]) -> str:
        start.wait()
        try:
            call()
            return "ok"
        except InsufficientCycles as exc:
            assert exc.message.startswith("Factory low on cycles: "), exc.message
            return "low on cycles"
        except FactoryError as exc:
            return f"{exc.code}: {exc.message}"

    with ThreadPoolExecutor(len(calls)) as pool:
        return Counter(pool.map(one, calls))


def _then_one_by_one(calls: list[Callable[[], object]], outcomes: Counter[str]) -> int:
    """Retry, one at a time, every call refused for cycles; the number of calls that succeeded in all.

    A refusal at the same moment may be conservative: a spend the IC has already taken while its reservation is
    still held counts twice for an instant, so fewer than three may pass at once, never more. Retried one by one,
    exactly as many pass as the headroom holds.
    """
    ok = outcomes["ok"]
    for call in calls[: outcomes["low on cycles"]]:  # any of them: each asks for the same amount
        try:
            call()
            ok += 1
        except InsufficientCycles:
            pass
    return ok


def _observed(outcomes: Counter[str], backend: Backend) -> str:
    above = backend.ic_balance() - FLOOR
    parts = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
    return f"{parts}; the balance ends {above} cycles above min_factory_cycles"


@pytest.mark.parametrize("name", SERVED)
def test_six_concurrent_creations_never_cross_the_floor(name: str, tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"six callers at once each create a canister with a third of the headroom above the floor ({name})",
        "at most three succeed at once, the rest are refused (Factory low on cycles), and exactly three once the "
        "refused are retried one by one; the balance never goes below the floor",
    )
    init = InitArg(min_factory_cycles=FLOOR)
    from_creation = HEADROOM // 3 - LEDGER_FEE  # a creation takes its cycles and the ledger fee
    with open_backend(name, tmp_path, init, funding=FLOOR + HEADROOM) as backend:
        apis = [backend.as_caller(generate_identity()) for _ in range(CALLERS)]
        uploads = [_upload(api) for api in apis]
        calls: list[Callable[[], object]] = [
            lambda api=api, uid=uid: api.create_and_install_with(  # type: ignore[misc]
                CreateInstallRequest(uid, COUNTER_INIT_ARG, Mode.INSTALL, from_creation, handoff=True)
            )
            for api, uid in zip(apis, uploads, strict=True)
        ]
        outcomes = _all_at_once(calls)
        assert set(outcomes) <= {"ok", "low on cycles"} and 1 <= outcomes["ok"] <= 3, outcomes
        assert backend.ic_balance() >= FLOOR
        in_all = _then_one_by_one(calls, outcomes)
        attack.saw(
            f"at once: {_observed(outcomes, backend)}; {in_all} succeeded in all after retrying one by one"
        )
        assert in_all == 3
        assert backend.ic_balance() >= FLOOR
        assert sum(len(api.list_my_canisters().canisters) for api in apis) == 3


@pytest.mark.parametrize("name", SERVED)
def test_six_concurrent_top_ups_never_cross_the_floor(name: str, tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"six Upgrade requests with cycles at once, each a third of the headroom above the floor ({name})",
        "at most three top-ups succeed at once, the rest are refused (Factory low on cycles), and exactly three "
        "once the refused are retried one by one; the balance never goes below the floor",
    )
    init = InitArg(min_factory_cycles=FLOOR)
    with open_backend(name, tmp_path, init, funding=FLOOR + HEADROOM + CALLERS * 2 * T) as backend:
        api = backend.as_caller(generate_identity())
        upload_id = _upload(api)
        keep = CreateInstallRequest(upload_id, COUNTER_INIT_ARG, Mode.INSTALL, T, handoff=False)
        canisters = [api.create_and_install_with(keep).canister_id for _ in range(CALLERS)]
        top_up = (backend.ic_balance() - FLOOR) // 3 - LEDGER_FEE
        calls: list[Callable[[], object]] = [
            lambda c=c: api.create_and_install_with(  # type: ignore[misc]
                CreateInstallRequest(upload_id, COUNTER_INIT_ARG, Mode.UPGRADE, top_up, False, canister_id=c)
            )
            for c in canisters
        ]
        outcomes = _all_at_once(calls)
        assert set(outcomes) <= {"ok", "low on cycles"} and 1 <= outcomes["ok"] <= 3, outcomes
        assert backend.ic_balance() >= FLOOR
        in_all = _then_one_by_one(calls, outcomes)
        attack.saw(
            f"at once: {_observed(outcomes, backend)}; {in_all} succeeded in all after retrying one by one"
        )
        assert in_all == 3
        assert backend.ic_balance() >= FLOOR
