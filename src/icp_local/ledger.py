"""The cycles ledger (``um5iw-rqaaa-aaaaq-qaaba-cai``) and the CMC's canister creation behind it.

Methods return the ledger's Candid result faithfully: an ``Ok`` value or a ``LedgerErr(variant, fields)``,
with the variant names of ``cycles-ledger.did``. Like the real ledger, an ``Err`` may still have effects (a
``FailedToCreate`` has burned the fee), so the engine commits whatever these functions return; only an
``Reject`` (a trap) rolls the call back.

Deduplication follows the real ledger: a call with ``created_at_time`` set is identified by the transaction it
records (the operation, the account, the amount, the receiver for ``withdraw``, and ``created_at_time``), and
a repeat within the window returns ``Duplicate``. The creation settings are not part of that identity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from icp_client.errors import Reject
from icp_client.management import CanisterSettings
from icp_client.principal import Principal
from icp_local import management, rejects
from icp_local.config import CMC_ID, CYCLES_LEDGER_ID
from icp_local.env import Env
from icp_local.state import NEXT_BLOCK, IcStateTx

_SUBACCOUNT_LENGTH = 32
_PRUNE_EVERY_BLOCKS = 256


@dataclass(frozen=True, slots=True)
class LedgerErr:
    """An ``Err`` of the cycles ledger: the variant's tag and its record's fields."""

    variant: str
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreateCanisterOk:
    """``CreateCanisterSuccess``."""

    block_id: int
    canister_id: Principal


@dataclass(frozen=True, slots=True)
class DepositResult:
    """``DepositResult``: the account's new balance and the mint's block index."""

    balance: int
    block_index: int


def subaccount_key(subaccount: bytes | None) -> str:
    """The stored form of a subaccount: hex, and "" for the default (None or 32 zero bytes).

    Raises:
        Reject: the subaccount is not 32 bytes (the ledger traps on such an account).
    """
    if subaccount is None or subaccount == bytes(_SUBACCOUNT_LENGTH):
        return ""
    if len(subaccount) != _SUBACCOUNT_LENGTH:
        raise rejects.canister_trapped(CYCLES_LEDGER_ID, "invalid subaccount: expected 32 bytes")
    return subaccount.hex()


def balance_of(tx: IcStateTx, owner: Principal, subaccount: bytes | None) -> int:
    return tx.balance(owner, subaccount_key(subaccount))


def mint(tx: IcStateTx, owner: Principal, subaccount: bytes | None, amount: int) -> int:
    """Add ``amount`` to an account without a fee; returns the block index."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    key = subaccount_key(subaccount)
    balance = tx.lock_account(owner, key)
    tx.set_balance(owner, key, balance + amount)
    return _next_block(tx)


def deposit(
    tx: IcStateTx, owner: Principal, subaccount: bytes | None, amount: int, fee: int
) -> DepositResult:
    """The ledger's ``deposit``: credits ``amount - fee`` (the code deducts the fee; traps unless more)."""
    if amount <= fee:
        raise rejects.canister_trapped(CYCLES_LEDGER_ID, f"deposit amount {amount} must exceed the fee {fee}")
    block = mint(tx, owner, subaccount, amount - fee)
    return DepositResult(balance_of(tx, owner, subaccount), block)


def create_canister(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    amount: int,
    settings: CanisterSettings | None,
    created_at_time: int | None,
    *,
    from_subaccount: bytes | None = None,
    subnet: Principal | None = None,
) -> CreateCanisterOk | LedgerErr:
    """Burn ``amount`` + fee, then have the CMC create a canister with ``amount`` cycles attached."""
    key = subaccount_key(from_subaccount)
    tx_hash = None
    if created_at_time is not None:
        tx_hash = _tx_hash("create_canister", sender, key, amount, created_at_time)
        refused = _check_time(env, created_at_time) or _duplicate(tx, tx_hash, with_canister=True)
        if refused is not None:
            return refused
    burned = _burn(tx, env, sender, key, amount)
    if isinstance(burned, LedgerErr):
        return burned
    canister_id, error = _cmc_create(tx, env, sender, amount, settings, subnet)
    if tx_hash is not None and created_at_time is not None:
        tx.add_dedup(tx_hash, created_at_time, burned, canister_id)
    if canister_id is not None:
        return CreateCanisterOk(burned, canister_id)
    refund_block = _refund(tx, env, sender, key, amount)
    return LedgerErr("FailedToCreate", {"fee_block": burned, "refund_block": refund_block, "error": error})


def withdraw(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    amount: int,
    to: Principal,
    created_at_time: int | None,
    *,
    from_subaccount: bytes | None = None,
) -> int | LedgerErr:
    """Burn ``amount`` + fee and deposit ``amount`` cycles into canister ``to``; returns the block index."""
    if to.canister_index() is None:
        return LedgerErr("InvalidReceiver", {"receiver": to})
    if amount == 0:
        return LedgerErr("GenericError", {"message": "amount must be positive", "error_code": 0})
    key = subaccount_key(from_subaccount)
    tx_hash = None
    if created_at_time is not None:
        tx_hash = _tx_hash("withdraw", sender, key, amount, created_at_time, to.raw)
        refused = _check_time(env, created_at_time) or _duplicate(tx, tx_hash, with_canister=False)
        if refused is not None:
            return refused
    burned = _burn(tx, env, sender, key, amount)
    if isinstance(burned, LedgerErr):
        return burned
    if tx_hash is not None and created_at_time is not None:
        tx.add_dedup(tx_hash, created_at_time, burned, None)
    try:
        management.top_up(tx, to, amount)
    except Reject as exc:
        _refund(tx, env, sender, key, amount)
        return LedgerErr(
            "FailedToWithdraw",
            {
                "fee_block": burned,
                "rejection_code": "DestinationInvalid",
                "rejection_reason": exc.reject_message,
            },
        )
    return burned


def _cmc_create(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    amount: int,
    settings: CanisterSettings | None,
    subnet: Principal | None,
) -> tuple[Principal | None, str]:
    """The CMC's ``create_canister``: the new canister, or None and the error text."""
    config = env.config
    if subnet is not None and subnet != config.subnet_id:
        return None, f"Subnet {subnet} does not exist or is not authorized for canister creation."
    if amount < config.creation_fee:
        return None, rejects.insufficient_cycles_for_create(config.creation_fee, amount).reject_message
    try:
        canister_id = management.create(
            tx,
            env,
            origin=CMC_ID,
            cycles=amount - config.creation_fee,
            settings=settings,
            default_controller=sender,
        )
    except Reject as exc:
        return None, exc.reject_message
    return canister_id, ""


def _check_time(env: Env, created_at_time: int) -> LedgerErr | None:
    config = env.config
    if created_at_time < env.now_ns - config.ledger_window_ns - config.ledger_drift_ns:
        return LedgerErr("TooOld")
    if created_at_time > env.now_ns + config.ledger_drift_ns:
        return LedgerErr("CreatedInFuture", {"ledger_time": env.now_ns})
    return None


def _duplicate(tx: IcStateTx, tx_hash: bytes, *, with_canister: bool) -> LedgerErr | None:
    found = tx.find_dedup(tx_hash)
    if found is None:
        return None
    if with_canister:
        return LedgerErr("Duplicate", {"duplicate_of": found.block_id, "canister_id": found.canister_id})
    return LedgerErr("Duplicate", {"duplicate_of": found.block_id})


def _burn(tx: IcStateTx, env: Env, owner: Principal, key: str, amount: int) -> int | LedgerErr:
    balance = tx.lock_account(owner, key)
    total = amount + env.config.ledger_fee
    if balance < total:
        return LedgerErr("InsufficientFunds", {"balance": balance})
    tx.set_balance(owner, key, balance - total)
    block = _next_block(tx)
    if block % _PRUNE_EVERY_BLOCKS == 0:
        tx.prune_dedup(env.now_ns - env.config.ledger_window_ns - 2 * env.config.ledger_drift_ns)
    return block


def _refund(tx: IcStateTx, env: Env, owner: Principal, key: str, amount: int) -> int | None:
    """Give back ``amount`` minus the fee (a failed operation costs two fees); None if nothing is left."""
    refund = amount - env.config.ledger_fee
    if refund <= 0:
        return None
    balance = tx.lock_account(owner, key)
    tx.set_balance(owner, key, balance + refund)
    return _next_block(tx)


def _next_block(tx: IcStateTx) -> int:
    return tx.take_counter(NEXT_BLOCK, 0)


def _tx_hash(
    kind: str, owner: Principal, key: str, amount: int, created_at_time: int, extra: bytes = b""
) -> bytes:
    text = f"{kind}|{owner.to_text()}|{key}|{amount}|{created_at_time}|{extra.hex()}"
    return hashlib.sha256(text.encode()).digest()
