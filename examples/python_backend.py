"""A Python back end that gives each of its users their own canister, through a canister factory service.

The reference factory's README shows a back-end *canister* calling the factory to create a canister per user.
Here the back end is an ordinary Python program holding an IC identity (a dfx / icp-cli PEM file): it uploads
the module once, then creates and installs one canister per user with ``owner`` set to the user and
``handoff``, so that the user is the canister's only controller (neither the back end nor the factory keeps
control), and the user sees it in their own ``list-my-canisters``. Every creation counts in the back end's
quota, not the user's.

    canister-factory identity new backend                    # prints the back end's principal and PEM path
    canister-factory example counter --output counter.wasm
    canister-factory serve --port 8080 &                     # a deployed, funded factory
    python examples/python_backend.py --url http://127.0.0.1:8080 \\
        --identity ~/.config/canister-factory/identities/backend.pem \\
        --module counter.wasm --user <principal> --user <principal>

It prints one line per user: ``<user principal> <canister id>``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from canister_factory import CreateInstallRequest, Mode, Principal
from canister_factory.client import FactoryClient

COUNTER_INIT = bytes.fromhex("4449444c00017d00")  # Candid `(0 : nat)`: the counter starts at zero


class Backend:
    """The application back end: one factory client, one uploaded module, a canister per user."""

    def __init__(self, factory: FactoryClient, module: bytes, *, cycles: int = 10**12) -> None:
        self.factory = factory
        self.cycles = cycles
        self.upload_id = factory.upload(module).upload_id  # upload once, reuse for every user

    def canister_for(self, user: Principal) -> Principal:
        """Create the user's canister, the user its only controller, and return its id.

        ``owner=user`` with ``handoff=True``: the controllers become exactly the user (add
        ``extra_controllers`` to keep, say, the back end too). The idempotency key makes a retry after a lost
        reply return the same canister, not a second one.
        """
        request = CreateInstallRequest(
            upload_id=self.upload_id,
            init_arg=COUNTER_INIT,
            mode=Mode.INSTALL,
            cycles=self.cycles,
            handoff=True,
            owner=user,
            idempotency_key=f"user-canister:{user.to_text()}",
        )
        return self.factory.create_and_install_with(request).canister_id


def run(
    url: str, identity_path: Path, module_path: Path, users: Iterable[Principal]
) -> dict[Principal, Principal]:
    """Give every user a canister; returns user -> canister id."""
    with FactoryClient(url, identity_path) as factory:  # signed with the back end's key
        backend = Backend(factory, module_path.read_bytes())
        return {user: backend.canister_for(user) for user in users}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the factory service, e.g. http://127.0.0.1:8080")
    parser.add_argument("--identity", type=Path, required=True, help="the back end's PEM file")
    parser.add_argument("--module", type=Path, required=True, help="the Wasm module to give every user")
    parser.add_argument("--user", action="append", default=[], help="a user's principal (repeat)")
    args = parser.parse_args()
    users = [Principal.from_text(text) for text in args.user]
    for user, canister in run(args.url, args.identity, args.module, users).items():
        print(user.to_text(), canister.to_text())


if __name__ == "__main__":
    main()
