"""The factory's tables and their migrations (the local IC keeps its own, ``icp_local.state``).

Principals are stored as text, cycles (u128, beyond SQLite's 64-bit integers) as decimal text, hashes and chunk
bytes as blobs. Counters that statistics need are kept in ``factory_counters`` so that ``get_factory_stats`` and
``my_stats`` cost the same with a million canisters as with ten.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store.db import Migration, metadata

PrincipalText = sa.String(64)
Cycles = sa.String(40)

settings = sa.Table(
    "factory_settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployed_at_ns", sa.BigInteger, nullable=False),
    sa.Column("deployer", PrincipalText, nullable=False),
    sa.Column("max_canisters_per_caller", sa.BigInteger, nullable=False),
    sa.Column("min_factory_cycles", Cycles, nullable=False),
    sa.Column("max_upload_size", sa.BigInteger, nullable=False),
    sa.Column("upload_ttl_ns", sa.BigInteger, nullable=False),
    sa.Column("allowlist_enabled", sa.Boolean, nullable=False),
    sa.Column("emergency_stop", sa.Boolean, nullable=False),
    sa.Column("max_creations_per_day", sa.BigInteger, nullable=True),
    sa.Column("max_active_uploads_per_caller", sa.BigInteger, nullable=False),
    sa.Column("max_modules_per_caller", sa.BigInteger, nullable=False),
    sa.Column("network", sa.Text, nullable=False),
    sa.Column("store_canister", PrincipalText, nullable=True),  # before migration 3; now store_canisters
    sa.Column("max_cycles_per_caller_per_day", Cycles, nullable=True),
    sa.Column("max_stored_module_bytes", sa.BigInteger, nullable=True),  # null: the default
)

counters = sa.Table(
    "factory_counters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("next_upload_id", sa.BigInteger, nullable=False),
    sa.Column("total_canisters_created", sa.BigInteger, nullable=False),
    sa.Column("active_uploads", sa.BigInteger, nullable=False),
    sa.Column("unique_callers", sa.BigInteger, nullable=False),
    sa.Column("last_created_at_time_ns", sa.BigInteger, nullable=False),
    # cycles spent on the factory's own canisters (the store canister), not on a creation
    sa.Column("overhead_cycles_used", sa.BigInteger, nullable=False, server_default="0"),
    # bytes of committed modules and open uploads' chunks (bounded by max_stored_module_bytes)
    sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"),
)

admins = sa.Table("factory_admins", metadata, sa.Column("principal", PrincipalText, primary_key=True))

allowlist = sa.Table("factory_allowlist", metadata, sa.Column("principal", PrincipalText, primary_key=True))

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("owner", PrincipalText, nullable=False),
    sa.Column("created_at_ns", sa.BigInteger, nullable=False),
    sa.Column("last_activity_ns", sa.BigInteger, nullable=False),
    sa.Column("total_len", sa.BigInteger, nullable=False),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.Column("module_hash", sa.LargeBinary, nullable=True),
    sa.Index("uploads_owner", "owner"),
    sa.Index("uploads_open_activity", "module_hash", "last_activity_ns"),
)

chunk_data = sa.Table(
    "chunk_data",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

upload_chunks = sa.Table(
    "upload_chunks",
    metadata,
    sa.Column("upload_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data_id", sa.Integer, nullable=False),
)

modules = sa.Table(
    "modules",
    metadata,
    sa.Column("hash", sa.LargeBinary, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at_ns", sa.BigInteger, nullable=False),
)

module_chunks = sa.Table(
    "module_chunks",
    metadata,
    sa.Column("module_hash", sa.LargeBinary, primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data_id", sa.Integer, nullable=False),
)

caller_stats = sa.Table(
    "caller_stats",
    metadata,
    sa.Column("caller", PrincipalText, primary_key=True),
    sa.Column("quota_used", sa.BigInteger, nullable=False),
    sa.Column("created_count", sa.BigInteger, nullable=False),
    sa.Column("last_created_at_ns", sa.BigInteger, nullable=True),
)

canisters = sa.Table(
    "canisters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", PrincipalText, nullable=False),  # whom the canister is for
    sa.Column("canister_id", PrincipalText, nullable=True),
    sa.Column("upload_id", sa.BigInteger, nullable=False),
    sa.Column("module_hash", sa.LargeBinary, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cycles", Cycles, nullable=False),
    sa.Column("handoff", sa.Boolean, nullable=False),
    sa.Column("controllers", sa.Text, nullable=False),
    sa.Column("init_arg", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at_time_ns", sa.BigInteger, nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=True),
    sa.Column("cycles_used", Cycles, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("requested_at_ns", sa.BigInteger, nullable=False),
    sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("claimed_until_ns", sa.BigInteger, nullable=True),
    sa.Column("from_spare", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("caller", PrincipalText, nullable=False),  # who asked for it: its quota, its idempotency keys
    sa.UniqueConstraint("caller", "idempotency_key", name="canisters_caller_key"),
    sa.Index("canisters_owner_id", "owner", "id"),
    sa.Index("canisters_caller_id", "caller", "id"),
    sa.Index("canisters_caller_requested", "caller", "requested_at_ns"),
    sa.Index("canisters_state", "state"),
    sa.Index("canisters_canister_id", "canister_id"),
)
_CANISTERS_V3_INDEXES = (
    "canisters_owner_id",
    "canisters_owner_requested",
    "canisters_state",
    "canisters_canister_id",
)

spares = sa.Table(
    "spare_canisters",
    metadata,
    sa.Column("canister_id", PrincipalText, primary_key=True),
    sa.Column("added_at_ns", sa.BigInteger, nullable=False),
    sa.Column("from_record", sa.Integer, nullable=False),
)

cycles_spends = sa.Table(
    "cycles_spends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # creation, top_up, store
    sa.Column(
        "caller", PrincipalText, nullable=True
    ),  # whose daily bound it counts in; null: the factory's own
    sa.Column("creation_id", sa.Integer, nullable=True),
    sa.Column("amount", Cycles, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # reserved (the IC has not answered) or spent
    sa.Column("at_ns", sa.BigInteger, nullable=False),
    # a reservation not tied to a creation lapses then (after any IC call it covers can have run)
    sa.Column("lapses_at_ns", sa.BigInteger, nullable=True),
    sa.Index("cycles_spends_state", "state"),
    sa.Index("cycles_spends_caller_at", "caller", "at_ns"),
    sa.Index("cycles_spends_creation", "creation_id"),
)

# One row, locked by every check of the cycles floor so that two checks never interleave (PostgreSQL).
cycles_guard = sa.Table("cycles_guard", metadata, sa.Column("id", sa.Integer, primary_key=True))

# The pool of store canisters: each large install claims one for itself, so concurrent installs never share a
# chunk store (and never evict each other's chunks). A row without canister_id is a store being created.
store_canisters = sa.Table(
    "store_canisters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("canister_id", PrincipalText, nullable=True, unique=True),
    sa.Column("created_at_time_ns", sa.BigInteger, nullable=False),
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("claimed_until_ns", sa.BigInteger, nullable=True),
    sa.Column("module_hash", sa.LargeBinary, nullable=True),  # the module whose chunks it holds last
    sa.Column("added_at_ns", sa.BigInteger, nullable=False),
)

keys = sa.Table(
    "factory_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pem", sa.Text, nullable=False),
)

FACTORY_TABLES = [
    keys,
    settings,
    counters,
    admins,
    allowlist,
    uploads,
    chunk_data,
    upload_chunks,
    modules,
    module_chunks,
    caller_stats,
    canisters,
    spares,
]


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=FACTORY_TABLES)


def _add_missing_columns(conn: Connection, table: sa.Table, names: list[str]) -> None:
    """ALTER TABLE ADD COLUMN for each of ``names`` the table lacks (a new database has them from step 1)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in have:
            column = table.c[name]
            ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")


def _cycles_and_storage_v2(conn: Connection) -> None:
    """Reservations of every spend, the daily cycles bound per caller, and the factory-wide storage bound."""
    _add_missing_columns(conn, settings, ["max_cycles_per_caller_per_day", "max_stored_module_bytes"])
    _add_missing_columns(conn, counters, ["stored_bytes"])
    metadata.create_all(conn, tables=[cycles_spends, cycles_guard])
    if conn.execute(sa.select(cycles_guard.c.id)).first() is None:
        conn.execute(sa.insert(cycles_guard).values(id=1))
    module_bytes = sa.select(sa.func.coalesce(sa.func.sum(modules.c.size), 0)).scalar_subquery()
    open_bytes = (
        sa.select(sa.func.coalesce(sa.func.sum(uploads.c.total_len), 0))
        .where(uploads.c.module_hash.is_(None))
        .scalar_subquery()
    )
    conn.execute(sa.update(counters).values(stored_bytes=module_bytes + open_bytes))


def _store_pool_v3(conn: Connection) -> None:
    """A pool of store canisters, claimed one per large install; the one store canister joins it."""
    metadata.create_all(conn, tables=[store_canisters])
    existing = conn.execute(sa.select(settings.c.store_canister)).scalar()
    if existing is not None:
        conn.execute(
            sa.insert(store_canisters).values(canister_id=existing, created_at_time_ns=0, added_at_ns=0)
        )
        conn.execute(sa.update(settings).values(store_canister=None))


def _creations_caller_v4(conn: Connection) -> None:
    """The registry records who asked for each canister (``caller``) besides whom it is for (``owner``).

    Every creation so far was asked for by its owner. Idempotency keys become the caller's (unique per caller,
    no longer per owner), and the daily rate counts by caller. SQLite cannot drop a constraint, so there the
    table is rebuilt (SQLite's documented procedure); PostgreSQL alters it in place.
    """
    old_columns = {c["name"] for c in sa.inspect(conn).get_columns(canisters.name)}
    if "caller" in old_columns:
        return  # created with it (a database whose first step ran with this program)
    if conn.dialect.name == "postgresql":
        for statement in (
            "ALTER TABLE canisters ADD COLUMN caller VARCHAR(64)",
            "UPDATE canisters SET caller = owner",
            "ALTER TABLE canisters ALTER COLUMN caller SET NOT NULL",
            "ALTER TABLE canisters DROP CONSTRAINT IF EXISTS canisters_owner_key",
            "ALTER TABLE canisters ADD CONSTRAINT canisters_caller_key UNIQUE (caller, idempotency_key)",
            "DROP INDEX IF EXISTS canisters_owner_requested",
            "CREATE INDEX canisters_caller_id ON canisters (caller, id)",
            "CREATE INDEX canisters_caller_requested ON canisters (caller, requested_at_ns)",
        ):
            conn.exec_driver_sql(statement)
        return
    for index in _CANISTERS_V3_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    conn.exec_driver_sql("ALTER TABLE canisters RENAME TO canisters_v3")
    canisters.create(conn)
    kept = ", ".join(c.name for c in canisters.columns if c.name in old_columns)
    conn.exec_driver_sql(f"INSERT INTO canisters ({kept}, caller) SELECT {kept}, owner FROM canisters_v3")
    conn.exec_driver_sql("DROP TABLE canisters_v3")


MIGRATIONS = [
    Migration(1, "factory tables", _create_v1),
    Migration(2, "cycles reservations, daily cycles bound, storage bound", _cycles_and_storage_v2),
    Migration(3, "a pool of store canisters", _store_pool_v3),
    Migration(4, "the registry records the caller besides the owner", _creations_caller_v4),
]
