"""Time as the local IC reads it: nanoseconds since the Unix epoch."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time in nanoseconds since the Unix epoch, as the IC counts it."""

    def now_ns(self) -> int: ...


class SystemClock:
    """The real clock."""

    def now_ns(self) -> int:
        return time.time_ns()
