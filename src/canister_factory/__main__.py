"""``python -m canister_factory`` runs the command line."""

from canister_factory.cli import main

main()
