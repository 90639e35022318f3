"""Two service processes on one PostgreSQL database: quotas hold across them, and so does replay protection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import FactoryError, LimitExceeded
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.bootstrap import App, open_app
from canister_factory.client import FactoryClient
from canister_factory.store.nonces import NonceStore
from icp_client.identity import Identity, generate_identity
from tests.integration.api.serving import COUNTER_ARG, fresh_postgres_database, serve_in_subprocess
from tests.support.wasm_modules import counter_wasm

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

QUOTA = 5
ATTEMPTS = 40
# Both processes answer for one factory, as behind a load balancer: requests are signed for its public name.
PUBLIC_URL = "https://factory.test"
AUTHORITY = "factory.test"


@dataclass
class Cluster:
    app: App
    urls: tuple[str, str]
    admin: Identity


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with fresh_postgres_database() as url:
        app = open_app(database_url=url)
        admin = generate_identity()
        app.factory.deploy(admin.principal, InitArg(max_canisters_per_caller=QUOTA))
        app.fund(1_000 * 10**12)
        NonceStore(app.db)  # every table exists before the processes start
        try:
            public = ("--public-url", PUBLIC_URL)
            with serve_in_subprocess(url, *public) as first, serve_in_subprocess(url, *public) as second:
                yield Cluster(app=app, urls=(first, second), admin=admin)
        finally:
            app.close()


def test_forty_concurrent_creations_with_a_quota_of_five(cluster: Cluster) -> None:
    caller = generate_identity()
    clients = [FactoryClient(url, caller, timeout=120, authority=AUTHORITY) for url in cluster.urls]
    upload_id = clients[0].upload(counter_wasm()).upload_id
    request = CreateInstallRequest(upload_id, COUNTER_ARG, Mode.INSTALL, 10**12, handoff=True)

    def create(i: int) -> str:
        try:
            return clients[i % 2].create_and_install_with(request).canister_id.to_text()
        except LimitExceeded as exc:
            assert exc.message == f"Per-caller canister limit reached: {QUOTA}/{QUOTA}"
            return "limit"
        except FactoryError as exc:
            return f"{exc.code}: {exc.message}"

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        outcomes = list(pool.map(create, range(ATTEMPTS)))
    for client in clients:
        client.close()
    failures = sorted({o for o in outcomes if o != "limit" and not o.endswith("-cai")})
    assert not failures, "\n".join(failures)
    created = {o for o in outcomes if o != "limit"}
    assert Counter(o == "limit" for o in outcomes) == {True: ATTEMPTS - QUOTA, False: QUOTA}, outcomes
    assert all(o.endswith("-cai") for o in created), created
    assert cluster.app.embedded is not None
    on_the_ic = {p.to_text() for p in cluster.app.embedded.list_canisters()}
    assert on_the_ic == created
    registry = cluster.app.factory.list_canisters(cluster.admin.principal, limit=100).canisters
    assert len(registry) == QUOTA
    assert {r.state for r in registry} == {"READY"}
    assert {r.canister_id.to_text() for r in registry if r.canister_id} == created
    assert cluster.app.factory.my_stats(caller.principal).created_count == QUOTA


def test_a_request_accepted_by_one_process_is_a_replay_at_the_other(cluster: Cluster) -> None:
    client = FactoryClient(cluster.urls[0], generate_identity(), authority=AUTHORITY)
    with client, httpx.Client() as http:
        request = client.build_request("POST", "/v1/uploads")
        assert http.send(request).status_code == 200
        replay = httpx.Request("POST", cluster.urls[1] + "/v1/uploads", headers=request.headers)
        reply = http.send(replay)
    assert reply.status_code == 401
    assert "nonce already used" in reply.json()["error"]
    assert cluster.app.factory.get_factory_stats().total_uploads == 1
