"""canister-factory: create and manage user canisters on the Internet Computer for many callers.

The curated public API::

    from canister_factory import open_app, Factory, Principal, InitArg, CreateInstallRequest, Mode

``open_app(state_dir)`` opens (and migrates) a factory on the embedded IC; ``app.factory`` has one method per
method of the factory's interface, each taking the caller's principal first.
"""

from canister_factory._core.config import InitArg, Settings
from canister_factory._core.errors import (
    CallerError,
    Conflict,
    EmergencyStop,
    FactoryError,
    FactoryFault,
    IcError,
    IcReject,
    IcUnavailable,
    InsufficientCycles,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    StoreError,
    Unauthenticated,
)
from canister_factory._core.model import (
    CallerStats,
    CanisterPage,
    CanisterRecord,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    Mode,
    UploadInfo,
)
from canister_factory._version import __version__
from canister_factory.bootstrap import App, open_app
from canister_factory.service.factory import Factory
from icp_client.principal import Principal, PrincipalError

__all__ = [
    "App",
    "CallerError",
    "CallerStats",
    "CanisterPage",
    "CanisterRecord",
    "ConfigView",
    "Conflict",
    "CreateInstallRequest",
    "CreateInstallResponse",
    "EmergencyStop",
    "Factory",
    "FactoryError",
    "FactoryFault",
    "FactoryStats",
    "IcError",
    "IcReject",
    "IcUnavailable",
    "InitArg",
    "InsufficientCycles",
    "InvalidArgument",
    "LimitExceeded",
    "Mode",
    "NotFound",
    "PermissionDenied",
    "Principal",
    "PrincipalError",
    "Settings",
    "StoreError",
    "Unauthenticated",
    "UploadInfo",
    "__version__",
    "open_app",
]
