"""Helpers shared by the Candid unit tests."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest

from icp_client.candid import CandidError


@dataclass(frozen=True)
class Refusal:
    """How the codec refused something: the error, and the work it did first (Python calls, peak bytes)."""

    error: CandidError
    calls: int
    peak_bytes: int


def refusal(fn: Callable[[], object]) -> Refusal:
    """Run ``fn``, which must raise a CandidError; count the calls it made and the memory it took.

    A deterministic measure of "refused cheaply", where a timing would depend on the machine's load.
    """
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    tracemalloc.start()
    sys.setprofile(count)
    try:
        fn()
    except CandidError as exc:
        error = exc
    else:
        raise AssertionError("expected a CandidError")
    finally:
        sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Refusal(error, calls, peak)


@pytest.fixture
def refused() -> Callable[[Callable[[], object]], Refusal]:
    """:func:`refusal`, as a fixture."""
    return refusal
