"""Adding a factory method, step by step (docs/architecture.md, "Where things go"), on a method ``echo``.

1. One entry in the interface table: here a subclass of ``FactoryApi``; in the product, a stub in
   ``interface/_table.py``. The HTTP route, the client's method, the caller-bound view, the Candid dispatch and
   a CLI command are built from it; the coverage check then names what is left to write.
2. Its use case, exposed by the facade (``service/factory.py``), and its Candid signature in ``factory.did``;
   a row in ``docs/http-api.md``'s route table and in README's command table. Then every face has it.
3. It runs: over HTTP through the client, signed, on a real service; through the CLI's generated command; from
   Candid arguments.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from canister_factory import interface
from canister_factory.api import ServiceOptions, create_app
from canister_factory.api.routes import ops
from canister_factory.api.routes.methods import method_router
from canister_factory.bootstrap import open_app
from canister_factory.cli import cli
from canister_factory.cli._generated import add_missing_commands, command_for
from canister_factory.client import FactoryClient
from canister_factory.interface import Auth, FactoryApi, method, methods_of, post
from canister_factory.service.factory import Factory
from icp_client import candid
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from tests.integration.api.serving import serve_in_thread
from tests.support.interface_coverage import Faces, gaps

# step 1: the entry


class WithEcho(FactoryApi):
    @method(Auth.CALLER, post("/v1/echo"), result="echo")
    def echo(self, text: str) -> str:
        """Say ``text`` back, naming the caller."""


class EchoClient(FactoryClient, WithEcho):
    """What ``FactoryClient`` is once the entry is in the table itself."""


# step 2: the use case (and its facade method), the .did line, the docs rows


class FactoryWithEcho(Factory):
    def echo(self, caller: Principal, text: str) -> str:
        return f"{caller}: {text}"


DID_LINE = "  echo : (text) -> (text);\n"
DOC_ROW = '| `POST /v1/echo` | `echo` | `{"text": "..."}` | `{"echo": "..."}` | signed |\n'
README_ROW = "| `echo TEXT` | say TEXT back |\n"


def _faces_with_the_entry() -> Faces:
    methods = methods_of(WithEcho)
    app = FastAPI()
    app.include_router(method_router(methods))
    app.include_router(ops.router)
    group = click.Group(commands=dict(cli.commands))
    add_missing_commands(group, methods)
    return dataclasses.replace(Faces.real(), methods=methods, app=app, client=EchoClient, cli=group)


def test_the_entry_alone_leaves_the_use_case_the_did_and_the_docs() -> None:
    assert gaps(_faces_with_the_entry()) == [
        "facade: no method echo",
        "factory.did: no method echo",
        "docs/http-api.md: no row for POST /v1/echo (echo)",
        "README.md: no command echo in the command table",
    ]


def test_with_its_use_case_every_face_has_it() -> None:
    faces = _faces_with_the_entry()
    did_text = interface.did_text().replace(
        "service : (opt InitArg) -> {\n", "service : (opt InitArg) -> {\n" + DID_LINE
    )
    routes = faces.http_doc.split("| `GET /healthz`", 1)
    faces = dataclasses.replace(
        faces,
        facade=FactoryWithEcho,
        did=candid.parse_did(did_text),
        http_doc=routes[0] + DOC_ROW + "| `GET /healthz`" + routes[1],
        readme=faces.readme + README_ROW,
    )
    assert gaps(faces) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    app = open_app(tmp_path / "state")
    try:
        app.factory.deploy(generate_identity().principal)
        with_echo = dataclasses.replace(app, factory=FactoryWithEcho(app.factory.ctx))
        service = create_app(with_echo, ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False))
        service.include_router(method_router([WithEcho.echo]))
        with serve_in_thread(service) as url:
            yield url
    finally:
        app.close()


def test_it_runs_on_every_face(served: str) -> None:
    caller = generate_identity()
    with EchoClient(served, caller) as client:
        assert client.echo("hi") == f"{caller.principal}: hi"
        printed = CliRunner().invoke(
            command_for(WithEcho.echo), ["hi"], obj=SimpleNamespace(api=client, as_json=True)
        )
        assert printed.exit_code == 0, printed.output
        assert json.loads(printed.stdout) == {"echo": f"{caller.principal}: hi"}
    func = candid.parse_did(f"service : {{\n{DID_LINE}}}").service_methods["echo"]
    arguments = interface.candid_arguments(WithEcho.echo, func, ["hi"])
    assert arguments == {"text": "hi"}
    assert interface.invoke(
        FactoryWithEcho.__new__(FactoryWithEcho), WithEcho.echo, caller.principal, arguments
    ) == (f"{caller.principal}: hi")
