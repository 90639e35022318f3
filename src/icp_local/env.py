"""What one call to the local IC sees besides its arguments, and what it does once its transaction ends.

:class:`Env` carries the subnet's configuration, the time of the call, the process's execution services
(:class:`~icp_local.live.Runtime`) and the transaction's :class:`TxnHooks`: work that must wait for the outcome of
the database transaction (a live instance is kept only once its state is committed, dropped if it is not) and
locks held until then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from icp_local.config import SubnetConfig

if TYPE_CHECKING:
    from icp_local.live import Runtime

__all__ = ["Env", "TxnHooks"]


class TxnHooks:
    """Callbacks for the end of one transaction, and context managers held until it ends (then exited)."""

    def __init__(self) -> None:
        self._on_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []
        self.stack = contextlib.ExitStack()
        self._awaited: bytes | None = None
        self.answer: Any = None

    def await_answer(self, ingress_id: bytes) -> None:
        """This transaction runs the first message of ingress call ``ingress_id``: keep its answer here."""
        self._awaited = ingress_id

    def take_answer(self, ingress_id: bytes, answer: Any) -> bool:
        """Keeps ``answer`` if it answers the awaited ingress call (then it need not be stored)."""
        if ingress_id != self._awaited:
            return False
        self.answer = answer
        return True

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction committed."""
        self._on_commit.append(action)

    def on_rollback(self, action: Callable[[], None]) -> None:
        """Run ``action`` if the transaction rolls back."""
        self._on_rollback.append(action)

    def hold(self, manager: contextlib.AbstractContextManager[Any]) -> Any:
        """Enter ``manager`` now and exit it when the transaction is over (after the callbacks)."""
        return self.stack.enter_context(manager)

    def committed(self) -> None:
        """The transaction committed: run the commit callbacks in order."""
        for action in self._on_commit:
            action()

    def rolled_back(self) -> None:
        """The transaction rolled back: run the rollback callbacks, latest first."""
        for action in reversed(self._on_rollback):
            action()


@dataclass(frozen=True, slots=True)
class Env:
    """The subnet's configuration, the time of the call, execution services and the transaction's hooks."""

    config: SubnetConfig
    now_ns: int
    runtime: Runtime | None = None
    txn: TxnHooks = field(default_factory=TxnHooks)

    def exec_runtime(self) -> Runtime:
        """The execution services (raises RuntimeError if this call was given none: a bug)."""
        if self.runtime is None:
            raise RuntimeError("this call of the local IC runs no code, but code was about to run")
        return self.runtime
