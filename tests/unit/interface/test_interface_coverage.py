"""The coverage test: every face of the factory has every method of the interface table.

``tests/support/interface_coverage.py`` is the check; here it runs on the real faces, and on faces each lacking
one method, to show that it names what is missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import click
import pytest
from fastapi import FastAPI

from canister_factory import interface
from canister_factory.api.routes import ops
from canister_factory.api.routes.methods import method_router
from canister_factory.client import FactoryClient
from canister_factory.service.factory import Factory
from icp_client import candid
from tests.support.interface_coverage import Faces, gaps


def test_every_face_has_every_method() -> None:
    assert gaps(Faces.real()) == []


def _without_facade(faces: Faces) -> Faces:
    lacking = type("Lacking", (Factory,), {"version": None})
    return dataclasses.replace(faces, facade=lacking)


def _without_did(faces: Faces) -> Faces:
    text = interface.did_text().replace("  version : () -> (text) query;\n", "")
    return dataclasses.replace(faces, did=candid.parse_did(text))


def _without_route(faces: Faces) -> Faces:
    app = FastAPI()
    app.include_router(method_router([m for m in interface.METHODS if m.name != "version"]))
    app.include_router(ops.router)
    return dataclasses.replace(faces, app=app)


def _without_client_method(faces: Faces) -> Faces:
    lacking = type("Lacking", (FactoryClient,), {"version": lambda self: "by hand"})
    return dataclasses.replace(faces, client=lacking)


def _without_command(faces: Faces) -> Faces:
    group = click.Group(commands={n: c for n, c in faces.cli.commands.items() if n != "version"})
    return dataclasses.replace(faces, cli=group)


def _without_doc_row(faces: Faces) -> Faces:
    doc = "\n".join(
        line for line in faces.http_doc.splitlines() if not line.startswith("| `GET /v1/version`")
    )
    return dataclasses.replace(faces, http_doc=doc)


@pytest.mark.parametrize(
    ("lacking", "face"),
    [
        (_without_facade, "facade"),
        (_without_did, "factory.did"),
        (_without_route, "HTTP"),
        (_without_client_method, "client"),
        (_without_command, "CLI"),
        (_without_doc_row, "docs/http-api.md"),
    ],
)
def test_a_face_lacking_a_method_is_named(lacking: Callable[[Faces], Faces], face: str) -> None:
    found = gaps(lacking(Faces.real()))
    assert len(found) == 1, found
    assert found[0].startswith(f"{face}: ")
    assert "version" in found[0]


def test_a_facade_method_in_another_shape_is_named() -> None:
    def create_upload(self: Factory) -> int:  # the caller is missing
        return 0

    shaped = type("Shaped", (Factory,), {"create_upload": create_upload})
    found = gaps(dataclasses.replace(Faces.real(), facade=shaped))
    assert found == [
        f"facade: create_upload is {[('caller', 'missing', None)]}, the table says {[('return', None, int)]}"
    ]
