"""Turning results into the CLI's output: one JSON object with ``--json``, lines and tables for people otherwise.

JSON keys are the Candid field names; principals are text, hashes and blobs lower-case hex, numbers JSON integers
(exact, however large: Python's JSON writer does not round), times nanoseconds since the epoch as the factory
keeps them. For people: ``key: value`` lines, times in ISO 8601 UTC, durations in days, hours, minutes and
seconds, lists of records as aligned tables, and a sentence where a command has nothing else to say.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from icp_client.principal import Principal

TIMESTAMPS = frozenset(
    {
        "created_at_ns",
        "updated_at_ns",
        "created_at_time_ns",
        "last_created_at",
        "last_activity_ns",
        "expires_at_ns",
    }
)
"""Keys whose values are nanoseconds since the epoch (shown in ISO 8601 UTC)."""
DURATIONS = frozenset({"upload_ttl_ns"})
"""Keys whose values are durations in nanoseconds."""


def plain(value: Any) -> Any:
    """A JSON-ready form of ``value`` (dataclasses become objects, principals text, bytes hex)."""
    if isinstance(value, Principal):
        return value.to_text()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value


def fields_of(record: Any) -> dict[str, Any]:
    """A dataclass record as a dict of its fields (not converted)."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def emit(as_json: bool, result: Mapping[str, Any], *, notes: Mapping[str, str] | None = None) -> None:
    """Print a command's result: JSON, or one ``key: value`` line per field (``notes`` added after a value)."""
    data = plain(result)
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        note = (notes or {}).get(key)
        click.echo(f"{key}: {human(key, value)}" + (f" ({note})" if note else ""))


def done(as_json: bool, result: Mapping[str, Any], sentence: str) -> None:
    """Print a command's result that people need only a sentence for (JSON keeps the fields)."""
    if as_json:
        click.echo(json.dumps(plain(result)))
    else:
        click.echo(sentence)


def human(key: str, value: Any) -> str:
    """One value for people; ``key`` says whether a number is a time or a duration."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key in TIMESTAMPS:
        return iso_time(value)
    if isinstance(value, int) and key in DURATIONS:
        return duration(value)
    if isinstance(value, list):
        return ", ".join(human(key, v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return "".join(f"\n  {k}: {human(k, v)}" for k, v in value.items())
    return str(value)


def iso_time(ns: int) -> str:
    """Nanoseconds since the epoch in ISO 8601, UTC, to the second: ``2025-01-31T12:00:00Z``."""
    moment = datetime.datetime.fromtimestamp(ns // 1_000_000_000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(ns: int) -> str:
    """Nanoseconds as days, hours, minutes and seconds: ``1d``, ``2h 30m``, ``45s``."""
    seconds = ns // 1_000_000_000
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


Column = tuple[str, Callable[[Mapping[str, Any]], Any]]
"""A table's column: its header and how to get a row's cell."""


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """``rows`` as an aligned table with a header line; cells are shown with :func:`human` rules by header."""
    cells = [[h for h, _ in columns]]
    cells += [[_cell(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Principal):
        return value.to_text()
    return str(value)
