"""README.md's quick start and its `call` walk-through run as written, each on a fresh state folder.

The blocks are read from README.md itself and run by bash, line by line, with the installed
`canister-factory` on the PATH, in an empty folder with empty config and data folders: README and test cannot
drift, and no command depends on a file of this repository or of the user running the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.api.serving import ROOT

README = (ROOT / "README.md").read_text()
FIRST_CANISTER = "wwc2m-2qaaa-aaaac-qaaaa-cai"  # a fresh embedded IC's first canister id, as the README says


def sh_block_after(heading: str) -> str:
    """The first ```sh block after the line ``heading`` in README.md."""
    lines = README.split(f"\n{heading}\n", 1)[1]
    body = lines.split("```sh\n", 1)[1]
    return body.split("\n```", 1)[0]


def run_block(block: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANISTER_FACTORY_", "XDG_"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    script = tmp_path / "block.sh"
    script.write_text("set -euxo pipefail\n" + block + "\n")
    return subprocess.run(
        ["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_quick_start_runs_as_written(tmp_path: Path) -> None:
    block = sh_block_after("## Using the command line")
    assert "canister-factory example counter --output counter.wasm" in block  # the block the README shows
    done = run_block(block, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Created your identity " in done.stderr  # the first use made the default key, and said so
    out = done.stdout.splitlines()
    assert f"canister_id: {FIRST_CANISTER}" in out
    assert any(line.startswith("canister_cycles: 1500000000000 ") for line in out)
    assert "status: running" in out
    assert json.loads(out[-1])["total_canisters_created"] == 1
    assert (tmp_path / "work" / "state" / "factory.sqlite3").exists()  # the block's own fresh state folder


def test_the_call_walk_through_runs_as_written(tmp_path: Path) -> None:
    block = sh_block_after("### The reference's commands, verbatim")
    assert "canister-factory top-up --cycles" in block and "call create_and_install_with" in block
    done = run_block(block, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not above min_factory_cycles (5000000000000)" in done.stderr  # deploy said what top-up then did
    assert "(variant { Ok = 1 : nat64 })" in done.stdout
    assert f'(variant {{ Ok = record {{ canister_id = principal "{FIRST_CANISTER}";' in done.stdout
    stats = json.loads(done.stdout.splitlines()[-1])
    assert stats["total_canisters_created"] == 1 and stats["total_uploads"] == 1
