"""The embedded IC: an in-process, persisted emulation of one subnet's management canister, the cycles ledger
and the CMC, faithful to the interface specification. See ``engine.py`` for what differs from the real IC."""

from canister_factory.ic.embedded.config import CMC_ID, CYCLES_LEDGER_ID, MANAGEMENT_CANISTER_ID, SubnetConfig
from canister_factory.ic.embedded.engine import EmbeddedIc
from canister_factory.ic.embedded.faults import Faults
from canister_factory.ic.embedded.ledger import CreateCanisterOk, DepositResult, LedgerErr
from canister_factory.ic.embedded.management import CanisterChange, CanisterInfo
from canister_factory.ic.embedded.port import EmbeddedManagement
from canister_factory.ic.embedded.rejects import IngressTooLarge

__all__ = [
    "CMC_ID",
    "CYCLES_LEDGER_ID",
    "MANAGEMENT_CANISTER_ID",
    "CanisterChange",
    "CanisterInfo",
    "CreateCanisterOk",
    "DepositResult",
    "EmbeddedIc",
    "EmbeddedManagement",
    "Faults",
    "IngressTooLarge",
    "LedgerErr",
    "SubnetConfig",
]
