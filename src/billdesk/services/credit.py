"""Client credit (P4): a ledger of signed entries and a balance that always
equals their sum and never goes below zero.

Every movement is one ``credit_entry`` row written together with the
client's ``credit_balance`` in one transaction (the column has a CHECK
against going negative as a last guard). Entries are never edited or
removed: "deleting" one writes a reversal, so the statement and the change
log keep their history. Applying credit to invoices is in invoicing.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Client, CreditEntry, Invoice, database, now
from billdesk.money import Money
from billdesk.services import changelog, clients
from billdesk.services.amounts import amount_input, date_input

KIND_LABELS = {
    "added": "Credit added", "removed": "Credit removed", "adjustment": "Balance adjustment",
    "overpayment": "Overpayment", "add_funds": "Add funds", "refund": "Refund",
    "applied": "Applied to invoice", "returned": "Returned from invoice", "reversal": "Entry deleted",
}
# Entries the owner made by hand: they are the statement's credit rows (P5).
BY_HAND = ("added", "removed", "adjustment", "reversal")
# What "Delete entry" may undo. The others belong to an invoice or payment
# (an overpayment, credit applied, a refund…): reversing them alone would
# make or lose money, so they are undone where they were made.
DELETABLE = ("added", "removed", "adjustment")


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    date: dt.date
    kind: str
    description: str
    amount: Money
    invoice_id: int | None
    invoice_number: str | None
    reverses_id: int | None
    reversed_by: int | None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "date": self.date.isoformat(), "kind": self.kind,
                "description": self.description, "amount": str(self.amount),
                "invoice_id": self.invoice_id, "invoice_number": self.invoice_number,
                "reverses": self.reverses_id, "reversed_by": self.reversed_by}


@dataclass(frozen=True, slots=True)
class CreditLog:
    entries: list[Entry]  # newest first
    balance: Money

    def as_json(self) -> dict[str, Any]:
        return {"entries": [e.as_json() for e in self.entries], "balance": str(self.balance)}


def _client(client_id: int) -> tuple[str, int]:
    row = (Client.select(Client.currency, Client.credit_balance).where(Client.id == client_id)
           .tuples().first())
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    return row


def balance(client_id: int) -> Money:
    currency, units = _client(client_id)
    return Money.from_minor(units, currency)


def post(client_id: int, amount: Money, kind: str, description: str, *,
         invoice_id: int | None = None, transaction_id: int | None = None,
         reverses_id: int | None = None, date: dt.date | None = None) -> int:
    """Write one ledger entry and move the balance with it. Call inside
    the caller's transaction; refuses to take the balance below zero."""
    if not database.in_transaction():
        raise RuntimeError("credit.post must run inside a transaction")
    if not amount:
        raise ValueError("a credit entry moves some amount")
    currency, units = _client(client_id)
    if amount.currency != currency:
        raise ValueError(f"credit in {amount.currency} for a {currency} client")
    if units + amount.minor_units < 0:
        raise Conflict("amount", f"the credit balance is only {Money.from_minor(units, currency)}")
    entry_id = CreditEntry.insert(
        client=client_id, date=date or dt.date.today(), kind=kind, description=description,
        amount=amount.minor_units, invoice=invoice_id, transaction=transaction_id,
        reverses=reverses_id, created_at=now(),
    ).execute()
    Client.update(credit_balance=Client.credit_balance + amount.minor_units).where(
        Client.id == client_id).execute()
    return entry_id


def post_many(entries: Sequence[tuple[int, int, str, str, int | None]],
              when: dt.date) -> None:
    """Many ledger entries at once — (client id, minor units, kind,
    description, invoice id) each — moving each balance with them (the
    billing run's credit on thousands of new invoices). Call inside the
    caller's transaction; refuses to take a balance below zero."""
    if not database.in_transaction():
        raise RuntimeError("credit.post_many must run inside a transaction")
    if not entries:
        return
    moves: dict[int, int] = {}
    for client_id, units, *_rest in entries:
        if not units:
            raise ValueError("a credit entry moves some amount")
        moves[client_id] = moves.get(client_id, 0) + units
    conn = database.connection()
    marks = ",".join("?" * len(moves))
    for client_id, units, currency in conn.execute(
            f"SELECT id, credit_balance, currency FROM client WHERE id IN ({marks})", list(moves)):
        if units + moves[client_id] < 0:
            raise Conflict("amount", f"the credit balance is only "
                                     f"{Money.from_minor(units, currency)}")
    stamp = str(now())
    conn.executemany("INSERT INTO credit_entry (client_id, date, kind, description, amount, "
                     "invoice_id, created_at) VALUES (?,?,?,?,?,?,?)",
                     [(c, when.isoformat(), kind, text, units, invoice_id, stamp)
                      for c, units, kind, text, invoice_id in entries])
    conn.executemany("UPDATE client SET credit_balance = credit_balance + ? WHERE id = ?",
                     [(units, client_id) for client_id, units in moves.items()])


def _description(text: str, field: str = "description") -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(field, "is required")
    if len(text) > 500:
        raise InvalidInput(field, "must be 500 characters or fewer")
    return text


def add_credit(client_id: int, amount: Any, description: str, *, date: Any = None,
               actor: str | None = None, notify: bool = False) -> int:
    """Add credit by hand (a goodwill credit, money received outside an
    invoice); ``notify`` queues the credit_added email with it (E1)."""
    currency, _ = _client(client_id)
    clients.check_writable(client_id)
    value = amount_input(amount, currency, "amount")
    description = _description(description)
    when = date_input(date, "date") if date is not None else dt.date.today()
    with database.atomic():
        entry = post(client_id, value, "added", description, date=when)
        changelog.record(client_id, f"Credit added: {value} {currency} — {description}", actor=actor)
        if notify:
            from billdesk.services import mail

            mail.credit_added(entry)
    return entry


def remove_credit(client_id: int, amount: Any, description: str, *, date: Any = None,
                  actor: str | None = None) -> int:
    """Remove credit by hand: a positive amount and a reason; never below zero."""
    currency, units = _client(client_id)
    clients.check_writable(client_id)
    value = amount_input(amount, currency, "amount")
    description = _description(description)
    when = date_input(date, "date") if date is not None else dt.date.today()
    if value.minor_units > units:
        raise Conflict("amount", f"is more than the credit balance ({Money.from_minor(units, currency)})")
    with database.atomic():
        entry = post(client_id, -value, "removed", description, date=when)
        changelog.record(client_id, f"Credit removed: {value} {currency} — {description}", actor=actor)
    return entry


def adjust_balance(client_id: int, new_balance: Any, reason: str, *,
                   actor: str | None = None) -> int | None:
    """Set the balance to a figure (WHMCS's "Credit Balance" field); the
    difference is one logged ledger entry. None when nothing changed."""
    currency, units = _client(client_id)
    clients.check_writable(client_id)
    target = amount_input(new_balance, currency, "credit_balance", zero_ok=True)
    reason = _description(reason, "reason")
    current = Money.from_minor(units, currency)
    if target == current:
        return None
    with database.atomic():
        entry = post(client_id, target - current, "adjustment", f"Manual balance adjustment: {reason}")
        changelog.record(client_id, "Credit balance adjusted by hand", field="Credit balance",
                         old=str(current), new=str(target), reason=reason, actor=actor)
    return entry


def delete_entry(entry_id: int, *, reason: str = "", actor: str | None = None) -> int:
    """Undo an entry by writing its reversal (the entry itself stays, marked
    reversed). Refused when the balance would go below zero."""
    row = (CreditEntry.select(CreditEntry.client, CreditEntry.amount, CreditEntry.kind,
                              CreditEntry.description, CreditEntry.reverses)
           .where(CreditEntry.id == entry_id).tuples().first())
    if row is None:
        raise NotFound("entry", f"no credit entry #{entry_id}")
    client_id, units, kind, description, _ = row
    clients.check_writable(client_id)
    if kind == "reversal":
        raise Conflict("entry", f"entry #{entry_id} is itself a deletion and cannot be deleted")
    if kind not in DELETABLE:
        raise Conflict("entry", f"entry #{entry_id} ({KIND_LABELS[kind].lower()}) was made by billdesk "
                                f"with its invoice or payment; undo it there (refund, cancel the "
                                f"invoice) or remove credit by hand")
    if CreditEntry.select().where(CreditEntry.reverses == entry_id).exists():
        raise Conflict("entry", f"entry #{entry_id} was already deleted")
    currency, balance_units = _client(client_id)
    amount = Money.from_minor(units, currency)
    if balance_units - units < 0:
        raise Conflict("entry", f"deleting it would take the balance below zero "
                                f"(balance {Money.from_minor(balance_units, currency)}, entry {amount})")
    with database.atomic():
        new_id = post(client_id, -amount, "reversal", f"Deleted entry #{entry_id}: {description}",
                      reverses_id=entry_id)
        changelog.record(client_id, f"Credit entry #{entry_id} deleted ({amount} {currency}: "
                         f"{description})", reason=reason.strip(), actor=actor)
    return new_id


def credit_log(client_id: int) -> CreditLog:
    currency, units = _client(client_id)
    rows = (CreditEntry.select(CreditEntry.id, CreditEntry.date, CreditEntry.kind,
                               CreditEntry.description, CreditEntry.amount, CreditEntry.invoice,
                               Invoice.number, CreditEntry.reverses)
            .join(Invoice, on=(Invoice.id == CreditEntry.invoice), join_type=JOIN.LEFT_OUTER)
            .where(CreditEntry.client == client_id)
            .order_by(CreditEntry.date.desc(), CreditEntry.id.desc()).tuples())
    rows = list(rows)
    reversed_by = {rev: i for i, _, _, _, _, _, _, rev in rows if rev is not None}
    entries = [Entry(i, d, k, desc, Money.from_minor(a, currency), inv, num, rev, reversed_by.get(i))
               for i, d, k, desc, a, inv, num, rev in rows]
    return CreditLog(entries, Money.from_minor(units, currency))


def ledger_sum(client_id: int) -> Money:
    """The sum of the ledger, independently of the stored balance (checks)."""
    currency, _ = _client(client_id)
    from peewee import fn

    total = (CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
             .where(CreditEntry.client == client_id).scalar())
    return Money.from_minor(int(total), currency)
