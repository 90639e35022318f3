"""The recorder of ``tests/attacks``: each test names its attack, what must happen, and what it saw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    attack: str
    expected: str
    observed: str = "(the test stopped before it observed anything)"


@dataclass
class Attack:
    """The rows one test records."""

    rows: list[Row] = field(default_factory=list)

    def tried(self, attack: str, expected: str) -> None:
        """Start a row: what the attacker does, and what must happen."""
        self.rows.append(Row(attack, expected))

    def saw(self, observed: str) -> None:
        """What happened, for the row started last."""
        self.rows[-1].observed = observed
