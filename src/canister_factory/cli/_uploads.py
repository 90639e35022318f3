"""Upload commands: create-upload, put-chunk, commit-upload, clear-upload, get-upload-info, upload."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

import click
from click._termui_impl import ProgressBar

from canister_factory._core.config import MAX_CHUNK_SIZE
from canister_factory.cli._format import emit, fields_of
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session

UPLOAD_CHUNK = 1024 * 1024


@cli.command("create-upload")
@click.pass_obj
def create_upload(s: Session) -> None:
    """Open an upload; prints its id.

    \b
    Example: canister-factory create-upload
    """
    emit(s.as_json, {"upload_id": s.api.create_upload()})


@cli.command("put-chunk")
@click.argument("upload_id", type=int)
@click.argument("file", type=click.File("rb"))
@click.option(
    "--index", type=int, default=None, help="The chunk's position (0-based); a retry is then harmless."
)
@click.pass_obj
def put_chunk(s: Session, upload_id: int, file: BinaryIO, index: int | None) -> None:
    """Add FILE (- for stdin) as the next chunk of UPLOAD_ID; prints the total length so far.

    \b
    Example: canister-factory put-chunk 1 part0.bin --index 0
    """
    data = file.read(MAX_CHUNK_SIZE + 1)
    emit(s.as_json, {"total_len": s.api.put_chunk(upload_id, data, index)})


@cli.command("commit-upload")
@click.argument("upload_id", type=int)
@click.argument("sha256_hex")
@click.pass_obj
def commit_upload(s: Session, upload_id: int, sha256_hex: str) -> None:
    """Commit UPLOAD_ID if its bytes hash to SHA256_HEX (any case); it becomes a reusable module.

    \b
    Example: canister-factory commit-upload 1 $(sha256sum counter.wasm | cut -d' ' -f1)
    """
    emit(s.as_json, {"sha256_hex": s.api.commit_upload(upload_id, sha256_hex)})


@cli.command("clear-upload")
@click.argument("upload_id", type=int)
@click.pass_obj
def clear_upload(s: Session, upload_id: int) -> None:
    """Remove one of your uploads, open or committed.

    \b
    Example: canister-factory clear-upload 1
    """
    s.api.clear_upload(upload_id)
    emit(s.as_json, {})


@cli.command("get-upload-info")
@click.argument("upload_id", type=int)
@click.pass_obj
def get_upload_info(s: Session, upload_id: int) -> None:
    """Show an upload: owner, chunk digests (SHA-256 of each chunk), length, committed hash.

    \b
    Example: canister-factory get-upload-info 1
    """
    emit(s.as_json, fields_of(s.api.get_upload_info(upload_id)))


@cli.command("upload")
@click.argument("wasm_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--chunk-size", type=click.IntRange(1, MAX_CHUNK_SIZE), default=UPLOAD_CHUNK, show_default=True)
@click.pass_obj
def upload(s: Session, wasm_file: Path, chunk_size: int) -> None:
    """Create an upload, send WASM_FILE in chunks and commit it; prints the upload id and hash.

    \b
    Example: canister-factory upload counter.wasm
    """
    api = s.api
    size = wasm_file.stat().st_size
    upload_id = api.create_upload()
    digest = hashlib.sha256()
    with wasm_file.open("rb") as f, _progress(size) as bar:
        index = 0
        while chunk := f.read(chunk_size):
            digest.update(chunk)
            api.put_chunk(upload_id, chunk, index)
            bar.update(len(chunk))
            index += 1
    sha = api.commit_upload(upload_id, digest.hexdigest())
    emit(s.as_json, {"upload_id": upload_id, "sha256_hex": sha, "total_len": size})


def _progress(size: int) -> ProgressBar[int]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    stream: TextIO = sys.stderr if sys.stderr.isatty() else io.StringIO()
    return click.progressbar(length=size, label="uploading", file=stream)
