"""An interrupted upload is not lost: its id is printed, `list-my-uploads` shows it, `upload --resume` ends it.

Real processes: the service (`canister-factory serve`) and the uploading command line, killed with real signals
while it sends chunks.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from canister_factory.cli import cli
from canister_factory.client import FactoryClient
from tests.support.wasm_modules import large_module

BIN = Path(sys.executable).with_name("canister-factory")
SIZE = 16 * 1024 * 1024
CHUNK = 32 * 1024  # 512 chunks: the upload is far from done when the test stops it
CHUNKS = SIZE // CHUNK


def run(url: str, pem: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--url", url, "--identity", str(pem), *args])


def _start_upload(url: str, pem: Path, module: Path) -> tuple[subprocess.Popen[str], int]:
    """The command line uploading ``module``, and the upload id it printed before its first chunk."""
    process = subprocess.Popen(
        [str(BIN), "--url", url, "--identity", str(pem), "upload", "--chunk-size", str(CHUNK), str(module)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.startswith("upload "), first
    upload_id = int(first.split()[1].rstrip(":"))
    assert f"(if interrupted: canister-factory upload --resume {upload_id} --chunk-size {CHUNK} " in first
    return process, upload_id


def _wait_for_chunks(client: FactoryClient, upload_id: int, at_least: int) -> None:
    for _ in range(600):
        found = [u for u in client.list_my_uploads() if u.upload_id == upload_id]
        if found and found[0].chunk_count >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"upload {upload_id} never reached {at_least} chunks")


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "big.wasm"
    path.write_bytes(large_module(SIZE, seed=7))
    return path


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_upload_is_listed_and_resumed(
    served: tuple[str, Path, Path], module: Path, sig: signal.Signals
) -> None:
    url, _, alice = served
    process, upload_id = _start_upload(url, alice, module)
    with FactoryClient(url, alice) as client:
        _wait_for_chunks(client, upload_id, 3)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        if sig is signal.SIGINT:  # Ctrl-C: the id again, and how to resume
            assert process.returncode == 130, stderr
            assert f"upload {upload_id} interrupted" in stderr
            assert f"Resume: canister-factory upload --resume {upload_id} --chunk-size {CHUNK} " in stderr
        else:
            assert process.returncode == -signal.SIGKILL
        [pending] = client.list_my_uploads()
    assert pending.upload_id == upload_id and 3 <= pending.chunk_count < CHUNKS  # killed mid-way

    listed = run(url, alice, "list-my-uploads")
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "SIZE", "CHUNKS", "LAST", "ACTIVITY", "EXPIRES"]
    cells = row.split()
    assert cells[:3] == [str(upload_id), str(pending.total_len), str(pending.chunk_count)]
    assert cells[3].endswith("Z") and cells[4].endswith("Z")

    resumed = run(
        url, alice, "--json", "upload", "--resume", str(upload_id), "--chunk-size", str(CHUNK), str(module)
    )
    assert resumed.exit_code == 0, resumed.output
    assert f"{pending.chunk_count} chunks ({pending.total_len} bytes) already stored" in resumed.stderr
    assert json.loads(resumed.stdout) == {
        "upload_id": upload_id,
        "sha256_hex": hashlib.sha256(module.read_bytes()).hexdigest(),
        "total_len": SIZE,
    }
    assert json.loads(run(url, alice, "--json", "list-my-uploads").stdout) == {"uploads": []}
    info = json.loads(run(url, alice, "--json", "get-upload-info", str(upload_id)).stdout)
    assert (
        info["total_len"] == SIZE
        and info["committed_hash"] == hashlib.sha256(module.read_bytes()).hexdigest()
    )


def test_resume_refuses_another_file(served: tuple[str, Path, Path], module: Path, tmp_path: Path) -> None:
    url, _, alice = served
    process, upload_id = _start_upload(url, alice, module)
    with FactoryClient(url, alice) as client:
        _wait_for_chunks(client, upload_id, 1)
        process.send_signal(signal.SIGTERM)  # kill <pid>: handled as Ctrl-C is
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and f"upload {upload_id} interrupted" in stderr
    other = tmp_path / "other.wasm"
    other.write_bytes(large_module(SIZE, seed=8))
    refused = run(url, alice, "upload", "--resume", str(upload_id), "--chunk-size", str(CHUNK), str(other))
    assert refused.exit_code == 1
    assert (
        f"stored in upload {upload_id} are not the start of {other} in chunks of {CHUNK} bytes"
        in refused.stderr
    )
    # without --chunk-size: the stored chunks are all the same size, so that size is tried too, and fits
    resumed = run(url, alice, "--json", "upload", "--resume", str(upload_id), str(module))
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["sha256_hex"] == hashlib.sha256(module.read_bytes()).hexdigest()
    # a resume after the commit (the interrupted run had committed, say): done already, said so again
    again = run(url, alice, "--json", "upload", "--resume", str(upload_id), str(module))
    assert again.exit_code == 0 and json.loads(again.stdout) == json.loads(resumed.stdout)
    other_again = run(url, alice, "upload", "--resume", str(upload_id), str(other))
    assert other_again.exit_code == 1 and "is committed already as another module" in other_again.stderr
