"""What the in-memory store holds: immutable records in dictionaries, copied per transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from canister_factory._core.config import Settings
from canister_factory._core.errors import StoreError
from canister_factory._core.uploads import Upload
from canister_factory.unit_of_work import CallerQuota, Counters, CreationRow, StoreRow
from icp_client.principal import Principal


@dataclass(frozen=True, slots=True)
class Deployed:
    """The settings row: ``settings`` holds the whole admin set and allowlist."""

    settings: Settings
    network: str


@dataclass(frozen=True, slots=True)
class Module:
    size: int
    chunk_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Spend:
    kind: str
    caller: Principal | None
    creation_id: int | None
    amount: int
    state: str  # reserved or spent
    at_ns: int
    lapses_at_ns: int | None


@dataclass(frozen=True, slots=True)
class Spare:
    added_at_ns: int
    order: int  # insertion order, to break ties of added_at_ns


@dataclass
class Tables:
    """The whole store. Values are immutable, so a copy of the dictionaries is a snapshot."""

    key: str | None = None
    deployed: Deployed | None = None
    counters: Counters | None = None
    uploads: dict[int, Upload] = field(default_factory=dict)
    upload_chunks: dict[int, tuple[int, ...]] = field(default_factory=dict)  # upload id -> chunk ids
    chunk_data: dict[int, bytes] = field(default_factory=dict)
    modules: dict[bytes, Module] = field(default_factory=dict)
    callers: dict[Principal, CallerQuota] = field(default_factory=dict)
    creations: dict[int, CreationRow] = field(default_factory=dict)
    spares: dict[Principal, Spare] = field(default_factory=dict)
    spends: dict[int, Spend] = field(default_factory=dict)
    chunk_stores: dict[int, StoreRow] = field(default_factory=dict)
    last_ids: dict[str, int] = field(default_factory=dict)  # per sequence; ids are never reused

    def copy(self) -> Tables:
        """A copy whose changes leave this one as it is."""
        copy = dataclasses.replace(self)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                setattr(copy, f.name, dict(value))
        return copy

    def next_id(self, sequence: str) -> int:
        value = self.last_ids.get(sequence, 0) + 1
        self.last_ids[sequence] = value
        return value

    def require_counters(self) -> Counters:
        if self.counters is None:
            raise StoreError("database error: the counters row is missing (the factory is not deployed)")
        return self.counters

    def chunk(self, data_id: int) -> bytes:
        try:
            return self.chunk_data[data_id]
        except KeyError:
            raise StoreError(f"database error: no stored chunk {data_id}") from None
