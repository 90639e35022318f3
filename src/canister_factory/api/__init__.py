"""The HTTP face of the factory (FastAPI). Build the app with :func:`create_app`; run it with :func:`serve`."""

from canister_factory.api.app import AppSource, ServiceOptions, create_app
from canister_factory.api.serve import serve

__all__ = ["AppSource", "ServiceOptions", "create_app", "serve"]
