"""Upload rules: chunks, sizes, ownership, the SHA-256 commit and expiry. No I/O here.

An upload is open until its owner commits it with the right SHA-256; from then on it is a reusable module
(``upload_id`` can be used for any number of creations) until its owner clears it. An open upload expires
``upload_ttl`` after its last activity; a committed one never expires.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from canister_factory._core.config import MAX_CHUNK_SIZE, NAT32_MAX, Settings, check_id
from canister_factory._core.errors import Conflict, InvalidArgument, LimitExceeded, NotFound, PermissionDenied
from icp_client.principal import Principal

UPLOAD_NOT_FOUND = "upload_id not found"
NOT_OWNER = "not owner"
ALREADY_COMMITTED = "upload already committed"
NOT_COMMITTED = "upload not committed"
INFO_NOT_FOUND = "Upload not found"
INFO_NOT_OWNER = "Not the owner of this upload"


@dataclass(frozen=True, slots=True)
class Upload:
    id: int
    owner: Principal
    created_at_ns: int
    last_activity_ns: int
    total_len: int
    chunk_count: int
    module_hash: bytes | None

    @property
    def committed(self) -> bool:
        return self.module_hash is not None


class ChunkAction(enum.Enum):
    APPEND = "append"  # a new chunk at the end
    REPEAT = "repeat"  # a retry of a chunk already stored with the same bytes: nothing to do


def check_chunk_size(length: int) -> None:
    """Raises LimitExceeded with the reference's text for a chunk over 2,000,000 bytes."""
    if length > MAX_CHUNK_SIZE:
        raise LimitExceeded(f"Chunk too large: {length} bytes (max {MAX_CHUNK_SIZE})")


def writable(upload: Upload | None, caller: Principal) -> Upload:
    """The upload, if ``caller`` may still add to or commit it.

    Raises:
        NotFound, PermissionDenied, Conflict: with the reference's texts.
    """
    upload = owned(upload, caller)
    if upload.committed:
        raise Conflict(ALREADY_COMMITTED)
    return upload


def owned(upload: Upload | None, caller: Principal) -> Upload:
    """The upload, if it exists and ``caller`` owns it (NotFound / PermissionDenied otherwise)."""
    if upload is None:
        raise NotFound(UPLOAD_NOT_FOUND)
    if upload.owner != caller:
        raise PermissionDenied(NOT_OWNER)
    return upload


def readable(upload: Upload | None, caller: Principal) -> Upload:
    """``get_upload_info``'s check, with the reference's texts for that method."""
    if upload is None:
        raise NotFound(INFO_NOT_FOUND)
    if upload.owner != caller:
        raise PermissionDenied(INFO_NOT_OWNER)
    return upload


def plan_chunk(
    upload: Upload, index: int | None, length: int, same_as_stored: bool | None, settings: Settings
) -> ChunkAction:
    """Decide what a ``put_chunk`` does.

    ``index`` None appends (the reference's two-argument form). An index equal to the number of chunks
    appends; a smaller one is a retry, accepted only if ``same_as_stored`` (the stored chunk at that index has
    the same bytes); a larger one is a gap.

    Raises:
        InvalidArgument: the index is negative or above nat32, or leaves a gap.
        Conflict: a retried index carries different bytes.
        LimitExceeded: the upload would grow past ``max_upload_size``.
    """
    if index is not None:
        check_id("chunk index", index, NAT32_MAX)
    if index is not None and index < upload.chunk_count:
        if not same_as_stored:
            raise Conflict(f"chunk {index} was already received with different bytes")
        return ChunkAction.REPEAT
    if index is not None and index > upload.chunk_count:
        raise InvalidArgument(f"chunk index {index} leaves a gap: the next chunk is {upload.chunk_count}")
    new_total = upload.total_len + length
    if new_total > settings.max_upload_size:
        raise LimitExceeded(f"Upload too large: {new_total} bytes (max {settings.max_upload_size})")
    return ChunkAction.APPEND


def parse_expected_hash(text: str) -> bytes:
    """The 32-byte digest named by ``expected_sha256_hex``, upper or lower case.

    Raises:
        InvalidArgument: it is not 64 hexadecimal characters. The message starts ``hash mismatch:``, as the
            reference's troubleshooting text matches on those words.
    """
    cleaned = text.strip().lower()
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        shown = text if len(text) <= 80 else text[:80] + "..."
        raise InvalidArgument(
            f"hash mismatch: expected_sha256_hex must be 64 hexadecimal characters, got {shown!r}"
        )
    return bytes.fromhex(cleaned)


def check_hash(expected: bytes, actual: bytes) -> None:
    """Raises Conflict with the reference's ``hash mismatch`` text when the digests differ."""
    if expected != actual:
        raise Conflict(f"hash mismatch: expected {expected.hex()}, got {actual.hex()}")


def check_open_upload_limit(open_uploads: int, settings: Settings) -> None:
    """Raises LimitExceeded when the caller already has the maximum of open uploads."""
    if open_uploads >= settings.max_active_uploads_per_caller:
        raise LimitExceeded(
            f"Too many open uploads: {open_uploads} (max {settings.max_active_uploads_per_caller}); "
            "commit or clear one first"
        )


def check_module_limit(modules: int, settings: Settings) -> None:
    """Raises LimitExceeded when the caller already keeps the maximum of committed modules."""
    if modules >= settings.max_modules_per_caller:
        raise LimitExceeded(
            f"Too many committed uploads: {modules} (max {settings.max_modules_per_caller}); clear one first"
        )


def storage_full(stored: int, adding: int, settings: Settings) -> LimitExceeded:
    """The error for a chunk that would take the factory's stored bytes (modules and open uploads) past the bound."""
    return LimitExceeded(
        f"Factory storage full: {stored} bytes of modules and uploads are stored, this chunk adds {adding} "
        f"(max_stored_module_bytes {settings.max_stored_module_bytes}); try again after uploads are cleared"
    )


def is_expired(upload: Upload, now_ns: int, settings: Settings) -> bool:
    """An open upload expires ``upload_ttl`` after its last activity; a committed one never does."""
    return not upload.committed and now_ns - upload.last_activity_ns > settings.upload_ttl_ns


def expiry_cutoff(now_ns: int, settings: Settings) -> int:
    """Open uploads whose last activity is before this instant have expired."""
    return now_ns - settings.upload_ttl_ns
