"""``ScriptedIc``: the real IC port with failures scripted per method, for the use cases' unit tests.

It wraps a ``ManagementPort`` (here ``EmbeddedManagement`` over a real ``icp_local.LocalIc``) and, per method,
plays a queue of scripted outcomes before calling through again: raise an error without reaching the IC, lose
the reply of a call that ran, or answer as if the call ran without running it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from canister_factory._core.errors import IcUnavailable
from canister_factory.ports import ManagementPort
from icp_client.principal import Principal

Outcome = Callable[[Callable[[], Any]], Any]


class ScriptedIc:
    """``ManagementPort`` over ``inner``, except where a script says otherwise; counts every call."""

    def __init__(self, inner: ManagementPort) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self._script: defaultdict[str, list[Outcome]] = defaultdict(list)

    @property
    def sender(self) -> Principal:
        return self.inner.sender

    def fail(self, method: str, error: Exception, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` raise ``error``; the IC never sees them."""
        self._script[method] += [_raise(error)] * times

    def lose_reply(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` run on the IC, then their reply is lost (``IcUnavailable``)."""
        self._script[method] += [_lost] * times

    def pretend(self, method: str, value: Any = None, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``value`` as if they ran; the IC never sees them."""
        self._script[method] += [_answer(value)] * times

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            script = self._script.get(name)
            if script:
                return script.pop(0)(lambda: target(*args, **kwargs))
            return target(*args, **kwargs)

        return call


def _raise(error: Exception) -> Outcome:
    def outcome(_: Callable[[], Any]) -> Any:
        raise error

    return outcome


def _lost(run: Callable[[], Any]) -> Any:
    run()
    raise IcUnavailable("the reply was lost (scripted)")


def _answer(value: Any) -> Outcome:
    def outcome(_: Callable[[], Any]) -> Any:
        return value

    return outcome
