# mypy: disable-error-code="empty-body"
# (the table's entries are declarations: their bodies are their docstrings)
"""The interface table: every method of the factory, declared once.

Each entry gives the method's name and Python types (the stub, as one caller sees it), who may call it, its HTTP
route(s), the JSON key of a single-valued result and (by default its name with dashes) its CLI command. Its
Candid types and its kind (query or update) are the ones ``_data/factory.did`` declares under the same name.

From this table the HTTP routes (``api/routes/methods.py``), the HTTP client (``FactoryClient``), the
caller-bound view of the facade (``bind``) and the Candid dispatcher (``call``) are built, and a generic CLI
command for a method that has no command written by hand; the facade (``service/factory.py``), the .did, the
hand-written CLI commands and ``docs/http-api.md`` are checked against it by
``tests/unit/interface/test_interface_coverage.py``.
"""

from __future__ import annotations

from canister_factory._core.model import (
    CallerStats,
    CanisterInfo,
    CanisterPage,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    ModuleMetadata,
    UploadInfo,
    UploadSummary,
)
from canister_factory.interface._method import Auth, Interface, delete, get, method, post, put
from icp_client.principal import Principal


class FactoryApi(Interface):
    """The factory's methods as one caller sees them: ``FactoryClient`` over HTTP, or ``bind(factory, caller)``
    in process. Each method raises the ``FactoryError`` subclasses that the facade's method raises."""

    # uploads

    @method(Auth.CALLER, post("/v1/uploads"), result="upload_id")
    def create_upload(self) -> int:
        """Open an upload; returns its id."""

    @method(
        Auth.CALLER,
        put(
            "/v1/uploads/{upload_id}/chunks/{index}",
            raw="chunk",
            name="put_chunk_at",
            summary="put_chunk at an index",
        ),
        post("/v1/uploads/{upload_id}/chunks", raw="chunk", summary="put_chunk (append)"),
        result="total_len",
    )
    def put_chunk(self, upload_id: int, chunk: bytes, index: int | None = None) -> int:
        """Add a chunk to an open upload (at ``index``, so that a retry does not add it twice); returns the
        upload's length so far."""

    @method(Auth.CALLER, post("/v1/uploads/{upload_id}/commit"), result="sha256_hex")
    def commit_upload(self, upload_id: int, expected_sha256_hex: str) -> str:
        """Commit an upload if its bytes hash to ``expected_sha256_hex`` (either case); it becomes a reusable
        module. Returns the hash."""

    @method(Auth.CALLER, delete("/v1/uploads/{upload_id}"))
    def clear_upload(self, upload_id: int) -> None:
        """Remove one of the caller's uploads, open or committed."""

    @method(Auth.CALLER, get("/v1/uploads/{upload_id}"))
    def get_upload_info(self, upload_id: int) -> UploadInfo:
        """One of the caller's uploads: owner, chunk digests, length, committed hash."""

    @method(Auth.CALLER, get("/v1/my-uploads", summary="list_my_uploads (signed)"), result="uploads")
    def list_my_uploads(self) -> list[UploadSummary]:
        """The caller's open uploads, oldest first: id, size, chunk count, expiry (to resume or clear one)."""

    @method(Auth.CALLER, get("/v1/uploads/{upload_id}/metadata"))
    def get_module_metadata(self, upload_id: int) -> ModuleMetadata:
        """The Candid metadata (``candid:args``, ``candid:service``) of one of the caller's committed uploads,
        which types an init argument given in Candid text."""

    # canisters

    @method(Auth.CALLER, post("/v1/canisters"))
    def create_and_install_with(self, request: CreateInstallRequest) -> CreateInstallResponse:
        """Create a canister from a committed upload (or reinstall/upgrade one), install it and, with handoff,
        hand it to the caller."""

    @method(Auth.CALLER, get("/v1/canisters/mine"))
    def list_my_canisters(
        self, cursor: int | None = None, limit: int | None = None, created_for_others: bool = False
    ) -> CanisterPage:
        """The canisters the caller owns, newest first, a page at a time; with ``created_for_others``, also
        those the caller created for someone else (``owner``)."""

    @method(Auth.CALLER, get("/v1/canisters/{canister_id}/status"))
    def canister_status(self, canister_id: Principal) -> CanisterInfo:
        """What the IC reports about a canister the caller owns, created or controls: controllers and module
        hash, and status, cycles and memory when the factory (or, on the embedded IC, the caller) controls it."""

    @method(Auth.ADMIN, get("/v1/canisters", summary="list_canisters (admin)"))
    def list_canisters(self, cursor: int | None = None, limit: int | None = None) -> CanisterPage:
        """Every canister the factory created, newest first, a page at a time."""

    # admin

    @method(Auth.ADMIN, put("/v1/admin/emergency-stop"))
    def set_emergency_stop(self, stopped: bool) -> None:
        """Stop (true) or resume (false) every caller method."""

    @method(Auth.ADMIN, put("/v1/admin/allowlist"))
    def set_allowlist(self, allowlist: list[Principal] | None) -> None:
        """Allow only these callers; null allows everyone."""

    @method(Auth.ADMIN, post("/v1/admin/admins"))
    def add_admin(self, principal: Principal) -> None:
        """Make ``principal`` an admin."""

    @method(Auth.ADMIN, delete("/v1/admin/admins/{principal}"))
    def remove_admin(self, principal: Principal) -> None:
        """Remove ``principal`` from the admins (never the last one)."""

    @method(Auth.ADMIN, post("/v1/admin/cleanup"), result="removed")
    def cleanup_expired_uploads_manual(self) -> int:
        """Remove expired open uploads now; returns how many."""

    # views

    @method(Auth.PUBLIC, get("/v1/config"))
    def get_config(self) -> ConfigView:
        """The factory's configuration."""

    @method(Auth.CALLER, get("/v1/my-stats", summary="my_stats (signed)"))
    def my_stats(self) -> CallerStats:
        """The caller's canister count (quota used) and the time of their last creation."""

    @method(Auth.PUBLIC, get("/v1/stats"))
    def get_factory_stats(self) -> FactoryStats:
        """Totals: canisters created, uploads, callers, and the factory's cycles balance."""

    @method(Auth.PUBLIC, get("/v1/health"), result="status")
    def health_check(self) -> str:
        """The factory's health: ``Healthy``, or ``Low cycles: {balance} (min {min})``."""

    @method(Auth.PUBLIC, get("/v1/version"), result="version")
    def version(self) -> str:
        """The factory's version."""
