"""A database written by a newer program is refused, naming both versions; an older one is migrated, data kept."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from canister_factory.bootstrap import open_app
from canister_factory.store import factory_tables as t
from canister_factory.store.db import Database, SchemaTooNew, schema_version
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from tests.integration.api.serving import fresh_postgres_database
from tests.support.attacks import Attack
from tests.support.factory import sha256_hex, write_identity
from tests.support.wasm_modules import counter_wasm

BIN = Path(sys.executable).with_name("canister-factory")
LATEST = t.MIGRATIONS[-1].version
LEGACY_STORE = "rrkah-fqaaa-aaaaa-aaaaq-cai"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'factory.sqlite3'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def _set_version(url: str, version: int) -> None:
    db = Database.open(url)
    with db.write() as conn:
        conn.execute(
            sa.update(schema_version).where(schema_version.c.component == "factory").values(version=version)
        )
    db.dispose()


def _version(url: str) -> int:
    db = Database.open(url)
    with db.read() as conn:
        found = conn.execute(
            sa.select(schema_version.c.version).where(schema_version.c.component == "factory")
        )
        value = int(found.scalar_one())
    db.dispose()
    return value


@pytest.mark.parametrize("kind", DATABASES)
def test_a_newer_schema_is_refused(kind: str, tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"open a {kind} database whose factory schema was written by a newer program (version {LATEST + 1})",
        "refused before anything is written, naming both versions and saying to upgrade; CLI exit 3, one line",
    )
    with _database(kind, tmp_path) as url:
        app = open_app(database_url=url)
        app.factory.deploy(generate_identity().principal)
        app.close()
        _set_version(url, LATEST + 1)
        with pytest.raises(SchemaTooNew) as err:
            open_app(database_url=url)
        who = write_identity(tmp_path / "me.pem")
        cli = subprocess.run(
            [str(BIN), "--database", url, "--identity", str(who.pem), "get-config"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        attack.saw(
            f"{type(err.value).__name__}: {err.value}; CLI exit {cli.returncode}: {cli.stderr.strip()}"
        )
        assert str(err.value) == (
            f"the database's factory schema is version {LATEST + 1}, newer than this program's version {LATEST}; "
            "upgrade canister-factory to open it (nothing was changed)"
        )
        assert cli.returncode == 3 and cli.stderr.strip() == f"Error: {err.value}"
        assert _version(url) == LATEST + 1


@pytest.mark.parametrize("kind", DATABASES)
def test_a_version_one_database_is_migrated_with_its_data(kind: str, tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"open a {kind} database of schema version 1 (before reservations and the storage bound) holding a module",
        f"migrated to version {LATEST}; the module, its upload, the settings and its store canister kept",
    )
    with _database(kind, tmp_path) as url:
        admin, alice = generate_identity().principal, generate_identity().principal
        app = open_app(database_url=url)
        app.deploy(admin, cycles=100 * 10**12)
        upload_id = app.factory.create_upload(alice)
        app.factory.put_chunk(alice, upload_id, counter_wasm(), 0)
        app.factory.commit_upload(alice, upload_id, sha256_hex(counter_wasm()))
        app.close()
        _back_to_version_one(url)
        app = open_app(database_url=url)
        try:
            config = app.factory.get_config()
            with app.factory.ctx.store.read() as tx:
                stored = tx.counters.read().stored_bytes
                stores = tx.chunk_stores.canisters()
            info = app.factory.get_upload_info(alice, upload_id)
        finally:
            app.close()
        attack.saw(f"version {_version(url)}; upload {upload_id} committed: {info.committed_hash is not None}; "
                   f"stored bytes {stored}; max_stored_module_bytes {config.max_stored_module_bytes}; "
                   f"store canisters {[p.to_text() for p in stores]}")  # fmt: skip
        assert _version(url) == LATEST
        assert info.committed_hash == bytes.fromhex(sha256_hex(counter_wasm()))
        assert stored == len(counter_wasm())
        assert config.admins == (admin,) and config.max_cycles_per_caller_per_day is None
        assert stores == [Principal.from_text(LEGACY_STORE)]


def _back_to_version_one(url: str) -> None:
    """Undo step 2 on a database, so that it is what version 1 wrote."""
    db = Database.open(url)
    with db.write() as conn:
        for table, column in (
            ("factory_settings", "max_cycles_per_caller_per_day"),
            ("factory_settings", "max_stored_module_bytes"),
            ("factory_counters", "stored_bytes"),
        ):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE cycles_spends")
        conn.exec_driver_sql("DROP TABLE cycles_guard")
        conn.exec_driver_sql("DROP TABLE store_canisters")
        conn.execute(sa.update(t.settings).values(store_canister=LEGACY_STORE))  # version 1 kept one store
        conn.execute(
            sa.update(schema_version).where(schema_version.c.component == "factory").values(version=1)
        )
    db.dispose()
