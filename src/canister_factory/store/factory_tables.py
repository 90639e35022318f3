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
    sa.Column("store_canister", PrincipalText, nullable=True),
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
    sa.Column("owner", PrincipalText, nullable=False),
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
    sa.UniqueConstraint("owner", "idempotency_key", name="canisters_owner_key"),
    sa.Index("canisters_owner_id", "owner", "id"),
    sa.Index("canisters_owner_requested", "owner", "requested_at_ns"),
    sa.Index("canisters_state", "state"),
    sa.Index("canisters_canister_id", "canister_id"),
)

spares = sa.Table(
    "spare_canisters",
    metadata,
    sa.Column("canister_id", PrincipalText, primary_key=True),
    sa.Column("added_at_ns", sa.BigInteger, nullable=False),
    sa.Column("from_record", sa.Integer, nullable=False),
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


MIGRATIONS = [Migration(1, "factory tables", _create_v1)]
