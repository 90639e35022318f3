"""A Python client for the factory's HTTP service: ``FactoryClient(url, identity)``."""

from canister_factory.client._client import FactoryClient, ServiceUnreachable, Uploaded, error_from_reply

__all__ = ["FactoryClient", "ServiceUnreachable", "Uploaded", "error_from_reply"]
