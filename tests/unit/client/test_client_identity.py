"""``FactoryClient(url, identity)``: an identity object or a PEM path; anonymous only when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from canister_factory import InvalidArgument
from canister_factory.client import FactoryClient
from icp_client.identity import Identity, InvalidIdentity, Secp256k1Identity, generate_identity

URL = "http://127.0.0.1:9"  # never contacted: these tests only build clients


def _pem(tmp_path: Path, kind: str = "ed25519") -> tuple[Path, Identity]:
    identity = generate_identity(kind)  # type: ignore[arg-type]
    path = tmp_path / f"{kind}.pem"
    path.write_bytes(identity.to_pem())
    return path, identity


def test_from_pem_file_loads_the_key(tmp_path: Path) -> None:
    path, identity = _pem(tmp_path, "secp256k1")
    assert Identity.from_pem_file(path).principal == identity.principal
    assert Identity.from_pem_file(str(path)).principal == identity.principal
    assert isinstance(Secp256k1Identity.from_pem_file(path), Secp256k1Identity)


def test_from_pem_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidIdentity, match=r"cannot read the identity file .*missing\.pem"):
        Identity.from_pem_file(tmp_path / "missing.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(InvalidIdentity, match=r"junk\.pem: no PEM private key block"):
        Identity.from_pem_file(junk)
    path, _ = _pem(tmp_path, "ed25519")
    with pytest.raises(InvalidIdentity, match="holds a ed25519 key, not a secp256k1 one"):
        Secp256k1Identity.from_pem_file(path)


@pytest.mark.parametrize("as_text", [True, False])
def test_a_pem_path_is_an_identity(tmp_path: Path, as_text: bool) -> None:
    path, identity = _pem(tmp_path)
    with FactoryClient(URL, str(path) if as_text else path) as client:
        assert client.principal == identity.principal


def test_an_identity_object(tmp_path: Path) -> None:
    identity = generate_identity("p256")
    with FactoryClient(URL, identity) as client:
        assert client.identity is identity


def test_anonymous_only_when_asked_for() -> None:
    with pytest.raises(InvalidArgument, match=r"identity: give an Identity or the path of a PEM file"):
        FactoryClient(URL)
    with FactoryClient(URL, anonymous=True) as client:
        assert client.principal.is_anonymous
    with pytest.raises(InvalidArgument, match="not both"):
        FactoryClient(URL, generate_identity(), anonymous=True)


def test_a_bad_identity_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidArgument, match=r"identity: expected an Identity or the path of a PEM file, got int"
    ):
        FactoryClient(URL, 42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=r"identity: cannot read the identity file .*nope\.pem"):
        FactoryClient(URL, tmp_path / "nope.pem")
