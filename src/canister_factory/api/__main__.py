"""``python -m canister_factory.api``: serve the factory over HTTP."""

from canister_factory.api.serve import main

main()
