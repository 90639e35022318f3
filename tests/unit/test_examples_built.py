"""The Motoko canisters committed as .wasm are what their sources compile to with the pinned compiler.

Each example's ``build.js`` is run with the npm ``motoko`` compiler pinned in ``examples/counter/package.json``
(installed with ``npm ci`` when missing) into a temporary directory, and the result is compared byte for byte with
the committed module. Skipped, with the reason shown, when Node.js or npm is not installed.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
COMPILER = EXAMPLES / "counter" / "node_modules" / "motoko"
BUILT = {
    "counter": [
        ROOT / "src" / "canister_factory" / "_data" / "counter.wasm",
        ROOT / "src" / "canister_factory" / "_data" / "counter.did",
    ],
    "exec_caller": [EXAMPLES / "exec_caller" / "caller.wasm"],
    "exec_probe": [EXAMPLES / "exec_probe" / "probe.wasm"],
}


@functools.cache
def _compiler() -> str | None:
    """Why the compiler cannot run, or None once it is installed."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if COMPILER.exists():
        return None
    if shutil.which("npm") is None:
        return "npm is not installed (needed for the pinned motoko compiler)"
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=EXAMPLES / "counter",
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed in examples/counter:\n{done.stderr}")
    return None


@pytest.mark.parametrize("example", sorted(BUILT))
def test_the_committed_module_is_what_its_source_compiles_to(example: str, tmp_path: Path) -> None:
    missing = _compiler()
    if missing is not None:
        pytest.skip(missing)
    done = subprocess.run(
        ["node", str(EXAMPLES / example / "build.js"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for committed in BUILT[example]:
        rebuilt = (tmp_path / committed.name).read_bytes()
        assert hashlib.sha256(rebuilt).hexdigest() == hashlib.sha256(committed.read_bytes()).hexdigest(), (
            f"{committed.relative_to(ROOT)} is stale: run `node examples/{example}/build.js` and commit the result"
        )
