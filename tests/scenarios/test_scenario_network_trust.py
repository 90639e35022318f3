"""The ``network`` backend really goes over HTTP to the front and trusts only its root key's certificates."""

from __future__ import annotations

from pathlib import Path

import pytest

from canister_factory.bootstrap import Network, open_app
from canister_factory.ic.edge import IcCertificateError
from canister_factory.ic.network import NetworkManagement
from canister_factory.interface import bind
from icp_client.identity import generate_identity
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import generate_front_keys, running_front
from tests.scenarios._helpers import T, request, upload
from tests.support.backends import open_backend
from tests.support.wasm_modules import counter_wasm


def test_the_network_backend_has_no_embedded_ic(tmp_path: Path) -> None:
    with open_backend("network", tmp_path) as backend:
        assert backend.app.embedded is None
        assert isinstance(backend.app.factory.ctx.ic, NetworkManagement)
        assert backend.app.network.name.startswith("http://127.0.0.1:")
        assert backend.app.factory.ctx.ic.cycles_balance() == backend.ic_balance() == 100 * T


def test_a_front_signing_with_another_root_key_is_not_believed(tmp_path: Path) -> None:
    ic_db = IcDatabase.open(f"sqlite:///{tmp_path / 'ic.sqlite3'}")
    try:
        engine = LocalIc(ic_db)
        with running_front(engine, generate_front_keys()) as front:
            pinned = generate_front_keys().root_key_der.hex()  # not the front's
            app = open_app(tmp_path / "state", network=Network(front.url, pinned))
            ic = app.factory.ctx.ic
            assert isinstance(ic, NetworkManagement)
            try:
                admin = generate_identity()
                app.deploy(admin.principal)
                engine.mint(app.factory.principal, 100 * T)
                alice = bind(app.factory, generate_identity().principal)
                for attempt in (
                    lambda: ic.cycles_balance(),
                    lambda: app.factory.health_check(),
                    lambda: alice.create_upload(),
                ):
                    with pytest.raises(IcCertificateError) as err:
                        attempt()
                    assert str(err.value) == "certificate signature does not verify"
                assert engine.list_canisters() == []
            finally:
                ic.agent.close()
                app.close()
    finally:
        ic_db.dispose()


def test_a_creation_over_the_network_is_read_back_certified(tmp_path: Path) -> None:
    with open_backend("network", tmp_path) as backend:
        alice = generate_identity()
        api = backend.as_caller(alice)
        created = api.create_and_install_with(request(upload(api, counter_wasm()), handoff=False))
        ic = backend.app.factory.ctx.ic
        # the factory's certified read_state of the canister agrees with the IC behind the front
        assert set(ic.read_controllers(canister_id=created.canister_id)) == backend.ic_controllers(
            created.canister_id
        )
        assert ic.read_module_hash(canister_id=created.canister_id) == backend.ic_module_hash(
            created.canister_id
        )
