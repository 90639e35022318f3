"""The HTTP-interface front: the embedded IC served on loopback through the IC's HTTP interface, so that the
network backend, icp-cli and any agent can use it (``canister-factory local-network``).

Build one with ``load_or_create_front_keys(state_dir / KEY_FILE_NAME)`` and ``serve_front(engine, keys, host,
port)``; tests use ``running_front(engine, keys)``. See ``core.py`` for the protocol and its differences from a
replica, ``dispatch.py`` for the canisters it answers for.
"""

from icp_local.front.app import (
    DEFAULT_PORT,
    RunningFront,
    create_front_app,
    running_front,
    serve_front,
)
from icp_local.front.core import Front, FrontOptions, Reply
from icp_local.front.dispatch import FrontMetrics
from icp_local.front.keys import (
    KEY_FILE_NAME,
    FrontKeys,
    front_keys_from_secret,
    generate_front_keys,
    load_or_create_front_keys,
)

__all__ = [
    "DEFAULT_PORT",
    "KEY_FILE_NAME",
    "Front",
    "FrontKeys",
    "FrontMetrics",
    "FrontOptions",
    "Reply",
    "RunningFront",
    "create_front_app",
    "front_keys_from_secret",
    "generate_front_keys",
    "load_or_create_front_keys",
    "running_front",
    "serve_front",
]
