"""Trust money per matter and per client: what the firm's trust bank accounts hold for each.

    a matter's trust balance  = sum of `amount` (= funds_in - funds_out) of the bank
                                transactions on a Trust account whose `matter.id` is it
    a contact's trust balance = the same over the transactions whose `client.id` is it

`account_balances[]` on a matter (a contact) has one entry per Trust bank account that
ever held a transaction of it, in account id order: `{id: the account's id, balance,
type: "Trust", name: the account's name, currency_id}`; an empty list when none did.
Operating accounts are not listed (the money there is the firm's, not the client's).
No balance ever goes below zero: money leaves trust only when it is there.

A trust transaction changes its matter and its client: `apply` updates both entries and
touches both records (their `updated_at` and `etag` move) **[open: chosen]**.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from pipelines.sandbox.money import to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm

PARENTS = (("matters", "matter"), ("contacts", "client"))  # table, relation on a transaction


def trust_accounts(firm: Firm) -> dict[int, dict]:
    """The Trust bank accounts by id."""
    return {a["id"]: a for a in firm.tables["bank_accounts"].values() if a.get("type") == "Trust"}


def totals(firm: Firm) -> dict[str, dict[int, dict[int, int]]]:
    """Per parent table: parent id -> trust account id -> cents held."""
    accounts = trust_accounts(firm)
    held: dict[str, dict[int, dict[int, int]]] = {table: defaultdict(dict) for table, _ in PARENTS}
    for tx in firm.tables["bank_transactions"].values():
        if tx.get("bank_account_id") not in accounts:
            continue
        for table, relation in PARENTS:
            parent = (tx.get(relation) or {}).get("id")
            if parent is not None:
                per_account = held[table][parent]
                per_account[tx["bank_account_id"]] = per_account.get(tx["bank_account_id"], 0) + to_cents(tx["amount"])
    return held


def entries(firm: Firm, per_account: dict[int, int]) -> list[dict]:
    """`account_balances[]` for one parent from its cents per trust account."""
    accounts = trust_accounts(firm)
    return [
        {
            "id": account_id,
            "balance": to_number(cents),
            "type": "Trust",
            "name": accounts[account_id]["name"],
            "currency_id": accounts[account_id]["currency_id"],
        }
        for account_id, cents in sorted(per_account.items())
    ]


def fill(firm: Firm, only_missing: bool = False) -> None:
    """Set `account_balances` of every matter and contact from the transactions (no stamps
    move: for building a firm). `only_missing`: keep the ones a hand-built firm gave."""
    held = totals(firm)
    for table, _ in PARENTS:
        for record in firm.tables[table].values():
            if only_missing and record.get("account_balances"):
                continue
            record["account_balances"] = entries(firm, held[table].get(record["id"], {}))


def balance_cents(record: dict, account_id: int | None = None) -> int:
    """What a matter or contact holds in trust (one account, or all of them)."""
    return sum(
        to_cents(entry["balance"])
        for entry in record.get("account_balances") or ()
        if account_id is None or entry["id"] == account_id
    )


def apply(firm: Firm, tx: dict, at: int | None = None) -> None:
    """Follow a new trust transaction on its matter's and client's `account_balances`
    (both touched). A transaction on another account changes nothing here."""
    account = trust_accounts(firm).get(tx.get("bank_account_id"))
    if account is None:
        return
    cents = to_cents(tx["amount"])
    for table, relation in PARENTS:
        record = firm.tables[table].get((tx.get(relation) or {}).get("id"))
        if record is None:
            continue
        per_account = {e["id"]: to_cents(e["balance"]) for e in record.get("account_balances") or ()}
        per_account[account["id"]] = per_account.get(account["id"], 0) + cents
        record["account_balances"] = entries(firm, per_account)
        firm.touch(table, record, at=at)
