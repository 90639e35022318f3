"""The creation lifecycle. Every change of a creation's state goes through ``TRANSITIONS`` in this module.

::

    REQUESTED --RESERVE--> RESERVED --CREATE_OK / CLAIM_SPARE--> CREATED --INSTALL_OK--> INSTALLED
    INSTALLED --SETTLE_OK (controllers set: handoff or not)--> READY
    RESERVED  --CREATE_FAILED--> FAILED            quota released, nothing on the IC
    CREATED / INSTALLED --STEP_FAILED--> RECOVERING
    RECOVERING --RESUME_CREATED--> CREATED         retried from where the IC says it stands
    RECOVERING --RESUME_INSTALLED--> INSTALLED
    RECOVERING --RECYCLE--> FAILED                 the canister goes to the spare pool (factory still controls
                                                   it) and a later creation reuses it with Reinstall

Each state is persisted before the IC call that leaves it (write-ahead), so after a crash the record says which
call may have been in flight: RESERVED re-sends ``create_canister`` with the same ``created_at_time`` (the cycles
ledger answers ``Duplicate`` with the canister id if the first one went through), CREATED and INSTALLED ask
``canister_status`` whether code and controllers are already in place.
"""

from __future__ import annotations

import enum

from canister_factory._core.errors import FactoryError


class State(enum.Enum):
    REQUESTED = "REQUESTED"
    RESERVED = "RESERVED"
    CREATED = "CREATED"
    INSTALLED = "INSTALLED"
    READY = "READY"
    RECOVERING = "RECOVERING"
    FAILED = "FAILED"


class Event(enum.Enum):
    RESERVE = "reserve quota"
    CREATE_OK = "create_canister succeeded"
    CLAIM_SPARE = "a spare canister was claimed"
    CREATE_FAILED = "create_canister failed"
    INSTALL_OK = "install succeeded"
    SETTLE_OK = "controllers set and verified"
    STEP_FAILED = "an IC step failed"
    RESUME_CREATED = "resume: canister exists without the module"
    RESUME_INSTALLED = "resume: module installed, controllers not final"
    RECYCLE = "give up: canister to the spare pool"


TRANSITIONS: dict[tuple[State, Event], State] = {
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

TERMINAL = frozenset({State.READY, State.FAILED})
# States in which the creation counts against the caller's quota.
HOLDS_QUOTA = frozenset(State) - {State.FAILED}


class InvalidTransition(FactoryError):
    """A bug: code tried a change of state the table does not allow."""

    code = "invalid_transition"


def next_state(state: State, event: Event) -> State:
    """The state after ``event`` in ``state``.

    Raises:
        InvalidTransition: the table has no such arrow.
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"no transition from {state.value} on {event.name}") from None


def is_terminal(state: State) -> bool:
    return state in TERMINAL


def mermaid() -> str:
    """The table drawn as a Mermaid state diagram, for the docs."""
    lines = ["stateDiagram-v2"]
    lines += [f"    {src.value} --> {dst.value}: {ev.name}" for (src, ev), dst in TRANSITIONS.items()]
    return "\n".join(lines)
