"""The service's own log: one line per request naming the caller, the route, the status and the error code;
and ``/docs``, an API reference that needs no asset from elsewhere."""

from __future__ import annotations

import logging

import httpx
import pytest

from canister_factory import NotFound
from tests.integration.api.conftest import Served

ACCESS = "canister_factory.api.access"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


def test_one_line_per_request_with_caller_route_status_and_code(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    with served.client(served.admin) as admin, httpx.Client() as http:
        admin.create_upload()
        with pytest.raises(NotFound):
            admin.clear_upload(99)
        http.get(served.url + "/v1/health")
        http.post(served.url + "/v1/uploads")  # unsigned
        http.get(served.url + "/no/such/route")
    lines = _lines(caplog)
    me = served.admin.principal
    assert len(lines) == 5, lines
    assert lines[0].startswith(f"POST /v1/uploads caller={me} status=200 code=- ")
    assert lines[1].startswith(f"DELETE /v1/uploads/{{upload_id}} caller={me} status=404 code=not_found ")
    assert lines[2].startswith("GET /v1/health caller=anonymous status=200 code=- ")
    assert lines[3].startswith("POST /v1/uploads caller=- status=401 code=unauthenticated ")
    assert lines[4].startswith('GET "/no/such/route" caller=anonymous status=404 code=not_found ')
    assert all(line.endswith("ms") for line in lines)


def test_docs_is_a_page_of_its_own(served: Served) -> None:
    with httpx.Client() as http:
        page = http.get(served.url + "/docs")
        assert http.get(served.url + "/redoc").status_code == 404
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<script" not in text and "cdn" not in text.lower() and "<link" not in text  # nothing to fetch
    for route in ("/v1/uploads/{upload_id}/commit", "/v1/canisters/{canister_id}/status", "/v1/my-uploads"):
        assert route in text
    assert "CreateBody" in text and "Signed by the caller" in text
