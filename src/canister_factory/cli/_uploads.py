"""Upload commands: create-upload, put-chunk, commit-upload, clear-upload, get-upload-info, list-my-uploads,
upload (and its --resume)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

import click
from click._termui_impl import ProgressBar

from canister_factory._core.config import MAX_CHUNK_SIZE
from canister_factory._core.errors import Conflict
from canister_factory.cli._format import Column, done, emit, fields_of, iso_time, table
from canister_factory.cli._main import cli
from canister_factory.cli._session import Session
from canister_factory.interface import FactoryApi

UPLOAD_CHUNK = 1024 * 1024
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by SIGINT


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
    done(s.as_json, {"upload_id": upload_id, "cleared": True}, f"cleared upload {upload_id}")


@cli.command("get-upload-info")
@click.argument("upload_id", type=int)
@click.pass_obj
def get_upload_info(s: Session, upload_id: int) -> None:
    """Show an upload: owner, chunk digests (SHA-256 of each chunk), length, committed hash.

    \b
    Example: canister-factory get-upload-info 1
    """
    emit(s.as_json, fields_of(s.api.get_upload_info(upload_id)))


@cli.command("list-my-uploads")
@click.pass_obj
def list_my_uploads(s: Session) -> None:
    """List your open uploads (not committed yet): id, size, chunks, last activity and expiry, to resume one
    (upload --resume ID FILE) or clear it.

    \b
    Example: canister-factory list-my-uploads
    """
    uploads = s.api.list_my_uploads()
    if s.as_json:
        emit(True, {"uploads": uploads})
        return
    rows = [fields_of(u) for u in uploads]
    columns: list[Column] = [
        ("ID", lambda r: r["upload_id"]),
        ("SIZE", lambda r: r["total_len"]),
        ("CHUNKS", lambda r: r["chunk_count"]),
        ("LAST ACTIVITY", lambda r: iso_time(r["last_activity_ns"])),
        ("EXPIRES", lambda r: iso_time(r["expires_at_ns"])),
    ]
    click.echo(table(rows, columns) if rows else "no open uploads")


@cli.command("upload")
@click.argument("wasm_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--chunk-size",
    type=click.IntRange(1, MAX_CHUNK_SIZE),
    default=UPLOAD_CHUNK,
    show_default=True,
    help="Bytes per chunk (with --resume: the size the upload was started with).",
)
@click.option(
    "--resume",
    "resume_id",
    type=click.IntRange(min=0),
    default=None,
    help="Continue this open upload (its id: printed when the upload started, or see list-my-uploads) from"
    " the chunks already stored, after checking they are the start of WASM_FILE.",
)
@click.pass_obj
def upload(s: Session, wasm_file: Path, chunk_size: int, resume_id: int | None) -> None:
    """Create an upload, send WASM_FILE in chunks and commit it; prints the upload id and hash.

    The upload id is printed (on stderr) before the first chunk, and again if the upload is interrupted
    (Ctrl-C or SIGTERM): `upload --resume ID WASM_FILE` then sends only what is missing.

    \b
    Examples:
      canister-factory upload counter.wasm
      canister-factory upload --resume 3 counter.wasm
    """
    api = s.api
    size, sha = wasm_file.stat().st_size, _sha256(wasm_file)
    if resume_id is None:
        upload_id, index, offset = api.create_upload(), 0, 0
        start = f"upload {upload_id}: sending {size} bytes"
    else:
        upload_id = resume_id
        stored = _stored_prefix(s, upload_id, wasm_file, chunk_size, sha)
        if stored is None:  # committed by the run that was interrupted, just before it stopped
            emit(s.as_json, {"upload_id": upload_id, "sha256_hex": sha, "total_len": size})
            return
        index, offset = stored
        start = f"upload {upload_id}: {index} chunks ({offset} bytes) already stored, sending {size - offset} more"
    resume = _resume_command(upload_id, wasm_file, chunk_size)
    click.echo(f"{start} (if interrupted: {resume})", err=True)
    with _interruptible(s, upload_id, resume):
        _send(api, upload_id, wasm_file, index, offset, chunk_size)
        committed = api.commit_upload(upload_id, sha)
    emit(s.as_json, {"upload_id": upload_id, "sha256_hex": committed, "total_len": size})


def _send(api: FactoryApi, upload_id: int, path: Path, index: int, offset: int, chunk_size: int) -> None:
    """Send ``path`` from ``offset`` in chunks numbered from ``index`` (a progress bar on a terminal)."""
    with path.open("rb") as f, _progress(path.stat().st_size) as bar:
        f.seek(offset)
        bar.update(offset)
        while chunk := f.read(chunk_size):
            api.put_chunk(upload_id, chunk, index)
            bar.update(len(chunk))
            index += 1


def _stored_prefix(
    s: Session, upload_id: int, path: Path, chunk_size: int, sha: str
) -> tuple[int, int] | None:
    """How many chunks and bytes of ``path`` open upload ``upload_id`` already holds (checked by their digests);
    None when it is committed already as ``path`` (hash ``sha``): nothing is left to do.

    Raises:
        Conflict: the upload is committed as another module, or its chunks are not the start of the file in
            chunks of ``chunk_size`` bytes (nor of equal chunks).
    """
    info = s.api.get_upload_info(upload_id)
    if info.committed_hash is not None and info.committed_hash.hex() == sha:
        return None
    if info.committed_hash is not None:
        raise Conflict(
            f"upload {upload_id} is committed already as another module (sha256 {info.committed_hash.hex()}): "
            "nothing to resume"
        )
    count, total = len(info.chunks), info.total_len
    sizes = [chunk_size] + ([total // count] if count and total % count == 0 else [])
    for size in sizes:
        if _digests(path, size, count, total) == list(info.chunks):
            return count, total
    raise Conflict(
        f"the {count} chunks ({total} bytes) stored in upload {upload_id} are not the start of {path} in chunks of "
        f"{chunk_size} bytes: give --chunk-size as the upload started, or clear it (clear-upload {upload_id}) and "
        "upload again"
    )


def _digests(path: Path, chunk_size: int, count: int, total: int) -> list[bytes]:
    """The SHA-256 of the first ``count`` chunks of ``path`` of ``chunk_size`` bytes, ending at byte ``total``."""
    found = []
    with path.open("rb") as f:
        for index in range(count):
            length = min(chunk_size, total - index * chunk_size)
            data = f.read(max(length, 0))
            if length <= 0 or len(data) != length:
                return []
            found.append(hashlib.sha256(data).digest())
    return found if count * chunk_size >= total else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _resume_command(upload_id: int, path: Path, chunk_size: int) -> str:
    size = "" if chunk_size == UPLOAD_CHUNK else f" --chunk-size {chunk_size}"
    return f"canister-factory upload --resume {upload_id}{size} {shlex.quote(str(path))}"


@contextlib.contextmanager
def _interruptible(s: Session, upload_id: int, resume: str) -> Iterator[None]:
    """Ctrl-C or SIGTERM while sending: say which upload keeps the chunks sent and how to resume, exit 130."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    except KeyboardInterrupt:
        message = (
            f"upload {upload_id} interrupted; the chunks sent are kept until it expires. Resume: {resume}"
        )
        if s.as_json:
            click.echo(json.dumps({"error": message, "code": "interrupted", "upload_id": upload_id}))
        click.echo(f"Error: {message}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _progress(size: int) -> ProgressBar[int]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    stream: TextIO = sys.stderr if sys.stderr.isatty() else io.StringIO()
    return click.progressbar(length=size, label="uploading", file=stream)
