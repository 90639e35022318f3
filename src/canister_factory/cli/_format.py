"""Turning results into the CLI's output: one JSON object with ``--json``, ``key: value`` lines otherwise.

JSON keys are the Candid field names; principals are text, hashes and blobs lower-case hex, numbers JSON integers
(exact, however large: Python's JSON writer does not round).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

import click

from icp_client.principal import Principal


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


def emit(as_json: bool, result: Mapping[str, Any]) -> None:
    """Print a command's result."""
    data = plain(result)
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        click.echo(f"{key}: {_human(value)}")


def _human(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_human(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
