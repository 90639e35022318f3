"""``/v1/uploads``: create an upload, put chunks (raw bodies), commit, clear, inspect."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from canister_factory.api.deps import Body, Caller, ServicesDep, SignedRoute
from canister_factory.api.schemas import (
    ChunkIndex,
    CommitBody,
    CommitReply,
    TotalLenReply,
    UploadId,
    UploadIdReply,
    UploadInfoReply,
)
from canister_factory.client.wire import upload_info_to_json

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], route_class=SignedRoute)

_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the chunk's bytes (at most 2,000,000)",
    }
}


@router.post("", response_model=UploadIdReply, summary="create_upload")
def create_upload(services: ServicesDep, caller: Caller) -> dict[str, int]:
    return {"upload_id": services.factory.create_upload(caller)}


@router.put(
    "/{upload_id}/chunks/{index}",
    response_model=TotalLenReply,
    summary="put_chunk at an index",
    openapi_extra=_RAW_BODY,
)
def put_chunk_at(
    upload_id: UploadId, index: ChunkIndex, body: Body, services: ServicesDep, caller: Caller
) -> dict[str, int]:
    total = services.factory.put_chunk(caller, upload_id, body, index)
    services.metrics.add_upload_bytes(len(body))
    return {"total_len": total}


@router.post(
    "/{upload_id}/chunks", response_model=TotalLenReply, summary="put_chunk (append)", openapi_extra=_RAW_BODY
)
def put_chunk(upload_id: UploadId, body: Body, services: ServicesDep, caller: Caller) -> dict[str, int]:
    total = services.factory.put_chunk(caller, upload_id, body)
    services.metrics.add_upload_bytes(len(body))
    return {"total_len": total}


@router.post("/{upload_id}/commit", response_model=CommitReply, summary="commit_upload")
def commit_upload(
    upload_id: UploadId, commit: CommitBody, services: ServicesDep, caller: Caller
) -> dict[str, str]:
    return {"sha256_hex": services.factory.commit_upload(caller, upload_id, commit.expected_sha256_hex)}


@router.delete("/{upload_id}", status_code=204, response_class=Response, summary="clear_upload")
def clear_upload(upload_id: UploadId, services: ServicesDep, caller: Caller) -> Response:
    services.factory.clear_upload(caller, upload_id)
    return Response(status_code=204)


@router.get("/{upload_id}", response_model=UploadInfoReply, summary="get_upload_info")
def get_upload_info(upload_id: UploadId, services: ServicesDep, caller: Caller) -> dict[str, Any]:
    return upload_info_to_json(services.factory.get_upload_info(caller, upload_id))
