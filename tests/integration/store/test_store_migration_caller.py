"""Migration 4: a registry written before ``caller`` existed keeps every creation, each asked for by its owner."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from canister_factory.bootstrap import open_app
from canister_factory.store import factory_tables as t
from canister_factory.store.db import Database, schema_version
from tests.integration.api.serving import fresh_postgres_database
from tests.support.factory import new_principal, request, upload_module
from tests.support.wasm_modules import counter_wasm

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'factory.sqlite3'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def _canisters_v3() -> sa.Table:
    """The ``canisters`` table as versions 1 to 3 wrote it: no ``caller``, idempotency keys unique per owner."""
    columns = [
        sa.Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            server_default=None if c.server_default is None else c.server_default.arg,  # type: ignore[attr-defined]
        )
        for c in t.canisters.columns
        if c.name != "caller"
    ]
    return sa.Table(
        "canisters",
        sa.MetaData(),
        *columns,
        sa.UniqueConstraint("owner", "idempotency_key", name="canisters_owner_key"),
        sa.Index("canisters_owner_id", "owner", "id"),
        sa.Index("canisters_owner_requested", "owner", "requested_at_ns"),
        sa.Index("canisters_state", "state"),
        sa.Index("canisters_canister_id", "canister_id"),
    )


def _back_to_version_three(url: str) -> None:
    db = Database.open(url)
    with db.write() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(t.canisters)).mappings()]
        t.canisters.drop(conn)
        old = _canisters_v3()
        old.create(conn)
        for row in sorted(rows, key=lambda r: int(r["id"])):
            row.pop("caller")
            row.pop("id")  # numbered afresh, in the same order (PostgreSQL's sequence then follows)
            conn.execute(sa.insert(old).values(**row))
        conn.execute(
            sa.update(schema_version).where(schema_version.c.component == "factory").values(version=3)
        )
    db.dispose()


@pytest.mark.parametrize("kind", DATABASES)
def test_a_version_three_registry_gains_the_caller(kind: str, tmp_path: Path) -> None:
    with _database(kind, tmp_path) as url:
        alice = new_principal()
        app = open_app(database_url=url)
        app.deploy(new_principal(), cycles=100 * 10**12)
        upload_id = upload_module(app.factory, alice, counter_wasm())
        first = app.factory.create_and_install_with(alice, request(upload_id, idempotency_key="k"))
        app.close()
        _back_to_version_three(url)

        app = open_app(database_url=url)
        try:
            [record] = app.factory.list_my_canisters(alice).canisters
            assert (record.canister_id, record.owner, record.caller) == (first.canister_id, alice, alice)
            assert (
                app.factory.create_and_install_with(alice, request(upload_id, idempotency_key="k")) == first
            )
            user = new_principal()
            for_user = app.factory.create_and_install_with(
                alice, request(upload_id, owner=user, idempotency_key="u")
            )
            users_upload = upload_module(app.factory, user, counter_wasm())
            # the key is the caller's: the user may use "u" too, for a canister of their own
            own = app.factory.create_and_install_with(user, request(users_upload, idempotency_key="u"))
            listed = app.factory.list_my_canisters(user).canisters
            assert [r.canister_id for r in listed] == [own.canister_id, for_user.canister_id]
            assert app.factory.my_stats(alice).created_count == 2
        finally:
            app.close()
        db = Database.open(url)
        with db.read() as conn:
            version = conn.execute(sa.select(schema_version.c.version)).scalar_one()
            inspector = sa.inspect(conn)
            uniques = {u["name"]: u["column_names"] for u in inspector.get_unique_constraints("canisters")}
            indexes = {i["name"] for i in inspector.get_indexes("canisters")}
        db.dispose()
        assert version == t.MIGRATIONS[-1].version
        assert uniques.get("canisters_caller_key") == ["caller", "idempotency_key"]
        assert "canisters_owner_key" not in uniques and "canisters_owner_requested" not in indexes
        assert {"canisters_caller_id", "canisters_caller_requested", "canisters_owner_id"} <= indexes
