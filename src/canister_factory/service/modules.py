"""``get_module_metadata``: the Candid metadata of one of the caller's committed modules."""

from __future__ import annotations

from canister_factory._core.model import ModuleMetadata
from canister_factory.init_args import module_metadata
from canister_factory.service import uploads
from canister_factory.service.context import Context
from icp_client.principal import Principal


def get_module_metadata(ctx: Context, caller: Principal, upload_id: int) -> ModuleMetadata:
    """The ``candid:args`` and ``candid:service`` metadata of ``caller``'s committed upload ``upload_id``.

    Raises:
        NotFound, PermissionDenied, Conflict: no such upload, not the caller's, not committed (the reference's
            texts, as for ``create_and_install_with``).
    """
    return module_metadata(uploads.module_bytes(ctx, caller, upload_id))
