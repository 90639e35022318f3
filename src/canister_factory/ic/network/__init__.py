"""The network backend: ``ManagementPort`` over the IC's HTTP interface (mainnet, a local replica, or the
embedded IC's HTTP front), with our own small agent (``agent.py`` says why not icp-py-core)."""

from canister_factory.ic.network.agent import Agent, HttpRefused, SubnetInfo
from canister_factory.ic.network.management import (
    DEFAULT_CREATION_FEE,
    LOCAL_URL,
    MAINNET_URL,
    NetworkManagement,
    network_management,
    resolve_network,
)

__all__ = [
    "DEFAULT_CREATION_FEE",
    "LOCAL_URL",
    "MAINNET_URL",
    "Agent",
    "HttpRefused",
    "NetworkManagement",
    "SubnetInfo",
    "network_management",
    "resolve_network",
]
