"""The factory's scenario through ``FactoryClient`` against a served factory, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import LimitExceeded, NotFound
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.identity import generate_identity
from tests.integration.api.conftest import Served, ServeFactory, T
from tests.integration.api.serving import COUNTER_ARG
from tests.support.wasm_modules import counter_wasm


@pytest.mark.parametrize("kind", ["ed25519", "secp256k1", "p256"])
def test_create_a_canister_per_user_with_handoff(served: Served, kind: str) -> None:
    user = generate_identity(kind)  # type: ignore[arg-type]
    with served.client(user) as client:
        uploaded = client.upload(counter_wasm())
        assert uploaded.sha256_hex == hashlib.sha256(counter_wasm()).hexdigest()
        created = client.create_and_install_with(
            CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, T, handoff=True)
        )
        assert served.app.embedded is not None
        assert served.app.embedded.read_controllers(created.canister_id) == (user.principal,)
        assert served.app.embedded.read_module_hash(created.canister_id) == bytes.fromhex(
            created.module_hash_hex
        )
        page = client.list_my_canisters()
        assert [r.canister_id for r in page.canisters] == [created.canister_id]
        assert page.canisters[0].state == "READY"
        assert client.my_stats().created_count == 1
        assert client.get_factory_stats().total_canisters_created == 1


def test_uploads_round_trip(served: Served) -> None:
    with served.client() as client:
        upload_id = client.create_upload()
        assert client.put_chunk(upload_id, b"\x00asm", 0) == 4
        assert client.put_chunk(upload_id, b"\x00asm", 0) == 4  # a retried indexed chunk is not duplicated
        assert client.put_chunk(upload_id, b"\x01\x00\x00\x00") == 8
        info = client.get_upload_info(upload_id)
        assert info.owner == client.principal
        assert info.total_len == 8
        assert info.chunks == (
            hashlib.sha256(b"\x00asm").digest(),
            hashlib.sha256(b"\x01\x00\x00\x00").digest(),
        )
        assert info.committed_hash is None
        client.clear_upload(upload_id)
        with pytest.raises(NotFound, match="Upload not found"):
            client.get_upload_info(upload_id)


def test_upload_once_create_many_and_list_as_admin(serve: ServeFactory) -> None:
    served = serve(InitArg(max_canisters_per_caller=2))
    backend = generate_identity()
    with served.client(backend) as client, served.client(served.admin) as admin:
        uploaded = client.upload(counter_wasm())
        ids = [
            client.create_and_install_with(
                CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, T, handoff=False)
            ).canister_id
            for _ in range(2)
        ]
        with pytest.raises(LimitExceeded, match="Per-caller canister limit reached: 2/2"):
            client.create_and_install_with(
                CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, T, handoff=False)
            )
        first = admin.list_canisters(limit=1)
        rest = admin.list_canisters(cursor=first.next_cursor, limit=10)
        assert [r.canister_id for r in first.canisters + rest.canisters] == ids[::-1]  # newest first
        assert rest.next_cursor is None


def test_admin_methods(served: Served) -> None:
    other = generate_identity()
    with served.client(served.admin) as admin, served.client(other) as caller:
        admin.set_allowlist([other.principal])
        assert admin.get_config().allowlist == (other.principal,)
        admin.set_allowlist(None)
        admin.add_admin(other.principal)
        assert set(caller.get_config().admins) == {served.admin.principal, other.principal}
        caller.remove_admin(served.admin.principal)
        assert caller.get_config().admins == (other.principal,)
        caller.set_emergency_stop(True)
        assert admin.get_config().emergency_stop is True
        caller.set_emergency_stop(False)
        assert caller.cleanup_expired_uploads_manual() == 0
        assert caller.reconcile()["failed"] == 0


def test_public_reads_need_no_signature(served: Served) -> None:
    with served.client() as signed:
        anonymous = type(signed)(served.url, anonymous=True)
        assert anonymous.principal.to_text() == "2vxsx-fae"
        assert anonymous.health_check() == "Healthy"
        assert anonymous.version() == served.app.factory.version()
        assert anonymous.get_config() == served.app.factory.get_config()
        assert anonymous.get_factory_stats() == served.app.factory.get_factory_stats()
        anonymous.close()
