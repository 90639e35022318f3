"""Test doubles for the local IC: fault injection, installed on a ``LocalIc`` as a call hook.

The production ``LocalIc`` knows nothing of faults: it runs the hooks a test installs (``LocalIc.add_hook``)
before and after each public method. :func:`faults_of` installs a :class:`Faults` hook on an IC (once) and
returns it; a test then arms a fault for a method name (the ``LocalIc`` method, e.g. ``"install_code"`` or
``"create_canister"``)::

    faults = faults_of(ic)
    faults.reject("install_code", 5, "injected", "IC0503")

* ``reject(method, code, ...)``: the call fails with that ``Reject`` before doing anything.
* ``unavailable(method)``: the call raises ``Unavailable`` before doing anything (never arrived).
* ``reply_lost(method)``: the call runs and commits, then raises ``Unavailable('reply lost')``.
* ``crash(method, when)``: the process kills itself (SIGKILL) before the call or after it committed, as a
  crashed factory would; for tests that restart the factory in another process.

Each armed fault fires ``times`` times (once by default), on the next calls of that method.

Behind the HTTP-interface front, a lost reply is the front's to lose: give the front
``FrontOptions(lose_reply=faults.take_reply_lost)`` and the call runs, its outcome is kept under its request id,
and only the HTTP reply is lost (202), so the agent learns the outcome by polling, as on the IC.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from icp_client.errors import Reject, Unavailable

if TYPE_CHECKING:
    from icp_local.ic import LocalIc

__all__ = ["Faults", "faults_of"]


@dataclass(slots=True)
class _Armed:
    before: Callable[[], Exception] | None
    after: Callable[[], Exception] | None
    remaining: int


class Faults:
    """Armed faults by method name; thread-safe. A ``LocalIc`` call hook (``before``/``after``)."""

    def __init__(self) -> None:
        self._armed: dict[str, list[_Armed]] = {}
        self._taken: dict[tuple[int, str], list[_Armed]] = {}
        self._lock = threading.Lock()

    def reject(
        self,
        method: str,
        reject_code: int,
        message: str = "injected fault",
        error_code: str | None = None,
        *,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``Reject(reject_code, message, error_code)``."""
        self._arm(method, _Armed(lambda: Reject(reject_code, message, error_code), None, times))

    def unavailable(self, method: str, message: str = "connection refused", *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` raise ``Unavailable`` without doing anything."""
        self._arm(method, _Armed(lambda: Unavailable(message), None, times))

    def reply_lost(self, method: str, message: str = "reply lost", *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` take effect, then raise ``Unavailable``."""
        self._arm(method, _Armed(None, lambda: Unavailable(message), times))

    def crash(self, method: str, when: str = "before") -> None:
        """The next call of ``method`` kills this process with SIGKILL, ``before`` it runs or ``after`` it commits."""
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        kill = _kill_self
        self._arm(method, _Armed(kill if when == "before" else None, kill if when == "after" else None, 1))

    def take_reply_lost(self, method: str) -> bool:
        """Consume an armed ``reply_lost`` for ``method``, for a caller that loses the reply itself.

        The HTTP-interface front uses this: it runs the call, records its outcome under the request id as the IC
        does, and loses only the HTTP reply, so that an agent finds the outcome by polling, as on the real IC.
        """
        with self._lock:
            queue = self._armed.get(method)
            if not queue or queue[0].before is not None or queue[0].after is None:
                return False
            armed = queue[0]
            armed.remaining -= 1
            if armed.remaining <= 0:
                queue.pop(0)
            return True

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()
            self._taken.clear()

    def pending(self, method: str) -> int:
        """How many more calls of ``method`` an armed fault will hit."""
        with self._lock:
            return sum(a.remaining for a in self._armed.get(method, []))

    def before(self, method: str) -> None:
        """The hook as a call starts: raise an armed reject/unavailable; remember a fault that strikes after."""
        with self._lock:
            queue = self._armed.get(method)
            if not queue:
                return
            armed = queue[0]
            armed.remaining -= 1
            if armed.remaining <= 0:
                queue.pop(0)
            if armed.after is not None:
                self._taken.setdefault((threading.get_ident(), method), []).append(armed)
        if armed.before is not None:
            raise armed.before()

    def after(self, method: str) -> None:
        """The hook after the call committed: raise the reply-lost (or crash) fault ``before`` took."""
        with self._lock:
            taken = self._taken.get((threading.get_ident(), method))
            armed = taken.pop() if taken else None
        if armed is not None and armed.after is not None:
            raise armed.after()

    def _arm(self, method: str, armed: _Armed) -> None:
        if armed.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._armed.setdefault(method, []).append(armed)


def _kill_self() -> Exception:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL did not stop the process")  # pragma: no cover


def faults_of(ic: LocalIc) -> Faults:
    """The :class:`Faults` hook installed on ``ic``, installing one the first time."""
    for hook in ic.hooks:
        if isinstance(hook, Faults):
            return hook
    faults = Faults()
    ic.add_hook(faults)
    return faults
