"""Hostile input at the edges: no 500, no traceback; every refusal names what was wrong and changes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from canister_factory._core.errors import InvalidArgument, NotFound
from canister_factory.api import ServiceOptions
from canister_factory.client import FactoryClient
from icp_client.identity import generate_identity
from tests.support.attacks import Attack
from tests.support.backends import Backend, open_backend
from tests.support.factory import COUNTER_INIT_ARG, T, write_identity

SERVED = ["http-sqlite", pytest.param("http-postgres", marks=pytest.mark.postgres)]
OPTIONS = ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False)
BIN = Path(sys.executable).with_name("canister-factory")
BIG_IDS = [2**63, 10**20]


@pytest.fixture(params=SERVED)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(str(request.param), tmp_path, options=OPTIONS) as backend:
        yield backend


def _seen(reply: httpx.Response) -> str:
    if reply.is_success:
        return f"{reply.status_code} ok"
    body = reply.json() if reply.content else {}
    return f"{reply.status_code} {body.get('code')}: {body.get('error')}"


def test_ids_beyond_the_database_or_nat64_over_http(served: Backend, attack: Attack) -> None:
    attack.tried(
        f"ids 2**63 and 10**20 in a path, a query and a body ({served.name})",
        "2**63 (a nat64 no row can have): 404 not_found; 10**20 (not a nat64): 400 invalid_argument; no 500",
    )
    assert served.url
    caller = generate_identity()
    with FactoryClient(served.url, caller) as client, httpx.Client() as http:
        seen = []
        for big in BIG_IDS:
            for request in (
                client.build_request("GET", f"/v1/uploads/{big}"),
                client.build_request("GET", "/v1/canisters/mine", params={"cursor": big}),
                client.build_request("POST", "/v1/canisters", json_body=_create_body(big)),
            ):
                seen.append(_seen(http.send(request)))
        attack.saw("; ".join(seen))
    statuses = [s.split()[0] for s in seen]
    assert statuses == ["404", "200", "404", "400", "400", "400"], seen
    assert "upload_id" in seen[3] and "cursor" in seen[4] and "upload_id" in seen[5]


def _create_body(upload_id: int) -> dict[str, object]:
    return {"upload_id": upload_id, "init_arg": COUNTER_INIT_ARG.hex(), "cycles": str(T), "handoff": True}


def test_ids_beyond_nat64_in_process(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "ids 2**63 and 10**20 given to the Python API", "NotFound for 2**63, InvalidArgument for 10**20"
    )
    with open_backend("inproc", tmp_path) as backend:
        factory, caller = backend.app.factory, generate_identity().principal
        with pytest.raises(NotFound) as not_found:
            factory.get_upload_info(caller, 2**63)
        with pytest.raises(InvalidArgument) as invalid:
            factory.get_upload_info(caller, 10**20)
        with pytest.raises(InvalidArgument, match=r"^cursor: must be a nat64"):
            factory.list_my_canisters(caller, cursor=10**20)
        attack.saw(f"NotFound: {not_found.value}; InvalidArgument: {invalid.value}")
    assert str(invalid.value) == f"upload_id: must be a nat64 (0 to {2**64 - 1}), got {10**20}"


@pytest.mark.parametrize(
    ("field", "value"), [("handoff", "yes"), ("handoff", 1), ("stopped", "true"), ("upload_id", "1")]
)
def test_loose_types_are_refused(served: Backend, field: str, value: object, attack: Attack) -> None:
    kind = "integer" if field == "upload_id" else "boolean"
    attack.tried(
        f"{field}: {value!r} instead of a JSON {kind} ({served.name})", "400 invalid_argument naming it"
    )
    assert served.url
    with FactoryClient(served.url, served.admin) as client, httpx.Client() as http:
        if field == "stopped":
            request = client.build_request("PUT", "/v1/admin/emergency-stop", json_body={"stopped": value})
        else:
            request = client.build_request(
                "POST", "/v1/canisters", json_body={**_create_body(1), field: value}
            )
        seen = _seen(http.send(request))
    attack.saw(seen)
    assert seen.startswith("400 invalid_argument: invalid request: ") and field in seen
    assert served.app.factory.get_config().emergency_stop is False


def test_the_body_is_read_after_authentication(served: Backend, attack: Attack) -> None:
    attack.tried(
        f"an unsigned request with a body that is not JSON ({served.name})",
        "401 (authentication first), not 400",
    )
    assert served.url
    with httpx.Client() as http, FactoryClient(served.url, served.admin) as client:
        headers = {"content-type": "application/json"}
        unsigned = _seen(
            http.put(served.url + "/v1/admin/emergency-stop", content=b"{not json", headers=headers)
        )
        request = client.build_request("PUT", "/v1/admin/emergency-stop", content=b"{not json")
        request.headers["content-type"] = "application/json"
        signed = _seen(http.send(request))
    attack.saw(f"unsigned: {unsigned}; signed: {signed}")
    assert unsigned.startswith("401 unauthenticated")
    assert signed.startswith("400 invalid_argument")


def test_a_chunked_json_body_over_its_cap_is_a_413(served: Backend, attack: Attack) -> None:
    attack.tried(
        f"a signed JSON body of 100 KiB sent chunked, no Content-Length ({served.name})",
        "413 limit_exceeded, not 400",
    )
    assert served.url
    body = b'{"stopped": true, "pad": "' + b"x" * 100_000 + b'"}'
    with FactoryClient(served.url, served.admin) as client, httpx.Client() as http:
        signed = client.build_request("PUT", "/v1/admin/emergency-stop", content=body)

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body), 8192):
                yield body[start : start + 8192]

        headers = {k: v for k, v in signed.headers.items() if k.lower() != "content-length"}
        seen = _seen(http.send(httpx.Request("PUT", signed.url, headers=headers, content=chunks())))
    attack.saw(seen)
    assert seen.startswith("413 limit_exceeded: Request body too large")
    assert served.app.factory.get_config().emergency_stop is False


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


def test_the_command_line_fails_in_one_line(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "the command line given ids 2**63 and 10**20, a --state under a regular file, an unknown option",
        "one line on stderr each, exit 1 (refused) or 2 (usage), never a traceback",
    )
    who = write_identity(tmp_path / "me.pem")
    state = str(tmp_path / "state")
    base = ["--state", state, "--identity", str(who.pem)]
    assert _cli(*base, "deploy").returncode == 0
    (tmp_path / "file").write_text("not a folder")
    runs = {
        "2**63": _cli(*base, "get-upload-info", str(2**63)),
        "10**20": _cli(*base, "get-upload-info", str(10**20)),
        "--state under a file": _cli(
            "--state", str(tmp_path / "file" / "x"), "--identity", str(who.pem), "get-config"
        ),
        "unknown option": _cli(*base, "deploy", "--no-such-option"),
    }
    shown = {k: r.stderr.strip().replace(str(tmp_path), "<tmp>") for k, r in runs.items()}
    attack.saw("; ".join(f"{k}: exit {r.returncode}, {shown[k]!r}" for k, r in runs.items()))
    for run in runs.values():
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "Traceback" not in run.stderr
    assert (runs["2**63"].returncode, runs["2**63"].stderr.strip()) == (1, "Error: Upload not found")
    assert runs["10**20"].returncode == 1 and "upload_id: must be a nat64" in runs["10**20"].stderr
    assert runs["--state under a file"].returncode == 2
    under_a_file = runs["--state under a file"].stderr
    assert "--state" in under_a_file and "Not a directory" in under_a_file
    assert runs["unknown option"].returncode == 2
