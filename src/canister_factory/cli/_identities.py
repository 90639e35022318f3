"""The command line's identities: the default key, named keys under the config folder, and ``--identity``.

::

    $XDG_CONFIG_HOME/canister-factory/          (default: ~/.config/canister-factory)
        identity.pem                            the default key, created on first use (``--identity default``)
        identities/NAME.pem                     ``canister-factory identity new NAME``; ``--identity NAME``

``--identity`` takes a PEM file's path (as dfx and icp-cli write them) or the name of a key made here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import click

from canister_factory._core.errors import Conflict, InvalidArgument
from icp_client.identity import Identity, KeyKind, generate_identity, load_identity_pem

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT = "default"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/canister-factory``, else ``~/.config/canister-factory``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "canister-factory"


def default_identity_path() -> Path:
    """The default key: ``identity.pem`` in the config folder (an Ed25519 key created on first use)."""
    return config_dir() / "identity.pem"


def identities_dir() -> Path:
    return config_dir() / "identities"


def named_path(name: str) -> Path:
    """Where the identity ``name`` is kept (``default`` is the default key).

    Raises:
        InvalidArgument: ``name`` is not 1 to 64 letters, digits, ``.``, ``_`` or ``-`` (starting with a letter
            or digit).
    """
    if NAME.fullmatch(name) is None:
        raise InvalidArgument(
            f"identity name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return default_identity_path() if name == DEFAULT else identities_dir() / f"{name}.pem"


def resolve(spec: str) -> Path:
    """The PEM file ``--identity`` names: a path to an existing file, else a named identity's file.

    Raises:
        click.BadParameter: neither exists (a usage error, exit 2), saying how to make one.
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if NAME.fullmatch(spec):
        named = named_path(spec)
        if named.is_file():
            return named
    raise click.BadParameter(
        f"{spec}: no such file, and no identity named {spec!r} in {identities_dir()} "
        f"(make one with `canister-factory identity new {spec}`, or give a PEM file's path)",
        param_hint="'--identity'",
    )


@dataclass(frozen=True, slots=True)
class Made:
    """A key written by :func:`create`."""

    identity: Identity
    path: Path


def create(path: Path, kind: KeyKind = "ed25519") -> Made:
    """Write a new key to ``path`` (mode 0600, its folder made as needed), never over an existing file.

    Raises:
        Conflict: ``path`` exists already (naming the principal it holds, when it holds a key).
        OSError: the file cannot be written.
    """
    identity = generate_identity(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{path} exists already{_holding(path)}; nothing was changed") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(identity.to_pem())
    return Made(identity, path)


def _holding(path: Path) -> str:
    try:
        return f" (principal {load_identity_pem(path.read_bytes()).principal})"
    except (OSError, ValueError):
        return ""


def listed() -> list[tuple[str, Path]]:
    """Every identity kept in the config folder: ``default`` (if made) and the named ones, by name."""
    found = [(DEFAULT, default_identity_path())] if default_identity_path().is_file() else []
    if identities_dir().is_dir():
        found += sorted((p.stem, p) for p in identities_dir().glob("*.pem") if NAME.fullmatch(p.stem))
    return found
