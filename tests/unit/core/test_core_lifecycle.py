"""The creation lifecycle table: every arrow, and every arrow that is not there."""

from __future__ import annotations

import itertools

import pytest

from canister_factory._core.errors import FactoryError
from canister_factory._core.lifecycle import (
    HOLDS_QUOTA,
    TERMINAL,
    TRANSITIONS,
    Event,
    InvalidTransition,
    State,
    is_terminal,
    mermaid,
    next_state,
)

EXPECTED = {
    (State.REQUESTED, Event.RESERVE): State.RESERVED,
    (State.RESERVED, Event.CREATE_OK): State.CREATED,
    (State.RESERVED, Event.CLAIM_SPARE): State.CREATED,
    (State.RESERVED, Event.CREATE_FAILED): State.FAILED,
    (State.CREATED, Event.INSTALL_OK): State.INSTALLED,
    (State.CREATED, Event.STEP_FAILED): State.RECOVERING,
    (State.INSTALLED, Event.SETTLE_OK): State.READY,
    (State.INSTALLED, Event.STEP_FAILED): State.RECOVERING,
    (State.RECOVERING, Event.RESUME_CREATED): State.CREATED,
    (State.RECOVERING, Event.RESUME_INSTALLED): State.INSTALLED,
    (State.RECOVERING, Event.RECYCLE): State.FAILED,
}


def test_table_is_design_section_6() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("arrow", "target"), list(EXPECTED.items()), ids=lambda v: getattr(v, "name", ""))
def test_each_transition(arrow: tuple[State, Event], target: State) -> None:
    assert next_state(*arrow) is target


INVALID = [pair for pair in itertools.product(State, Event) if pair not in EXPECTED]


@pytest.mark.parametrize("arrow", INVALID, ids=lambda a: f"{a[0].name}-{a[1].name}")
def test_every_other_pair_is_invalid(arrow: tuple[State, Event]) -> None:
    state, event = arrow
    with pytest.raises(InvalidTransition) as err:
        next_state(state, event)
    assert str(err.value) == f"no transition from {state.value} on {event.name}"
    assert isinstance(err.value, FactoryError)


def test_terminal_states_have_no_way_out() -> None:
    assert frozenset({State.READY, State.FAILED}) == TERMINAL
    assert all(is_terminal(s) for s in TERMINAL)
    assert not any(src in TERMINAL for src, _ in TRANSITIONS)
    assert not is_terminal(State.RECOVERING)


def test_only_failed_releases_quota() -> None:
    assert frozenset(State) - HOLDS_QUOTA == {State.FAILED}


def test_every_non_terminal_state_can_reach_a_terminal_one() -> None:
    reach = {s: {dst for (src, _), dst in TRANSITIONS.items() if src is s} for s in State}
    for start in set(State) - TERMINAL:
        seen, todo = set(), [start]
        while todo:
            for nxt in reach[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        assert seen & TERMINAL, start


def test_mermaid_draws_every_arrow() -> None:
    text = mermaid()
    assert text.startswith("stateDiagram-v2")
    assert len(text.splitlines()) == 1 + len(TRANSITIONS)
    assert "    RESERVED --> CREATED: CLAIM_SPARE" in text
