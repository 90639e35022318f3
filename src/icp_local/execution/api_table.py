"""The entry points a canister function runs in, and which ``ic0`` functions each may call.

The System API table itself (every ``ic0`` function, its signature and the specification's availability
letters) is protocol data and lives in :mod:`icp_client.wasm`; :data:`MODE_LETTERS` says which letter each
:class:`ApiMode` has, and :func:`allowed` reads the table with it.
"""

from __future__ import annotations

import enum

from icp_client.wasm import API, ApiFunction, signature

__all__ = ["API", "ApiFunction", "ApiMode", "allowed", "signature"]


class ApiMode(enum.Enum):
    """The context a canister function runs in; the value is the replica's name for it in errors."""

    START = "start"
    INIT = "init"
    POST_UPGRADE = "post upgrade"
    PRE_UPGRADE = "pre upgrade"
    UPDATE = "update"
    REPLICATED_QUERY = "replicated query"
    NON_REPLICATED_QUERY = "non replicated query"
    COMPOSITE_QUERY = "composite query"
    REPLY_CALLBACK = "reply callback"
    REJECT_CALLBACK = "reject callback"
    COMPOSITE_REPLY_CALLBACK = "composite reply callback"
    COMPOSITE_REJECT_CALLBACK = "composite reject callback"
    CLEANUP = "cleanup"
    COMPOSITE_CLEANUP = "composite cleanup"
    INSPECT_MESSAGE = "inspect message"
    HEARTBEAT = "heartbeat"
    GLOBAL_TIMER = "global timer"
    ON_LOW_WASM_MEMORY = "on low Wasm memory"

    @property
    def error_name(self) -> str:
        """The name the replica prints in "cannot be executed in ... mode" (post-upgrade runs as init)."""
        return "init" if self is ApiMode.POST_UPGRADE else self.value

    @property
    def replicated(self) -> bool:
        """Whether the mode runs in replicated execution (``ic0.in_replicated_execution``)."""
        return self not in _NON_REPLICATED

    @property
    def composite(self) -> bool:
        """Whether the mode belongs to a composite query call graph (its state lives until the graph ends)."""
        return self in _COMPOSITE

    @property
    def keeps_changes(self) -> bool:
        """Whether a successful run keeps its state changes (queries and inspection never do)."""
        return self not in _DISCARDING


_NON_REPLICATED = frozenset(
    {
        ApiMode.NON_REPLICATED_QUERY,
        ApiMode.COMPOSITE_QUERY,
        ApiMode.COMPOSITE_REPLY_CALLBACK,
        ApiMode.COMPOSITE_REJECT_CALLBACK,
        ApiMode.COMPOSITE_CLEANUP,
        ApiMode.INSPECT_MESSAGE,
    }
)
_DISCARDING = _NON_REPLICATED | {ApiMode.REPLICATED_QUERY}
_COMPOSITE = frozenset(
    {
        ApiMode.COMPOSITE_QUERY,
        ApiMode.COMPOSITE_REPLY_CALLBACK,
        ApiMode.COMPOSITE_REJECT_CALLBACK,
        ApiMode.COMPOSITE_CLEANUP,
    }
)

MODE_LETTERS: dict[ApiMode, str] = {
    ApiMode.START: "s",
    ApiMode.INIT: "I",
    ApiMode.POST_UPGRADE: "I",
    ApiMode.PRE_UPGRADE: "G",
    ApiMode.UPDATE: "U",
    ApiMode.REPLICATED_QUERY: "RQ",
    ApiMode.NON_REPLICATED_QUERY: "NRQ",
    ApiMode.COMPOSITE_QUERY: "CQ",
    ApiMode.REPLY_CALLBACK: "Ry",
    ApiMode.REJECT_CALLBACK: "Rt",
    ApiMode.COMPOSITE_REPLY_CALLBACK: "CRy",
    ApiMode.COMPOSITE_REJECT_CALLBACK: "CRt",
    ApiMode.CLEANUP: "C",
    ApiMode.COMPOSITE_CLEANUP: "CC",
    ApiMode.INSPECT_MESSAGE: "F",
    ApiMode.HEARTBEAT: "T",
    ApiMode.GLOBAL_TIMER: "T",
    ApiMode.ON_LOW_WASM_MEMORY: "T",
}


def allowed(function: ApiFunction, mode: ApiMode) -> bool:
    """Whether ``function`` may be called from ``mode`` (the specification's table)."""
    return MODE_LETTERS[mode] in function.letters
