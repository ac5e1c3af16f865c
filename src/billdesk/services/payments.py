"""Transactions (P1), payments on invoices (P2) and refunds (P3).

A payment is one ``txn`` row with ``amount_in`` (and its fee). The part
that settles the invoice raises the invoice's ``paid``; any excess goes to
credit as "Credit for overpayment of invoice #N". Paying an add-funds
invoice puts the whole amount in credit.

A refund is a ``txn`` row with ``amount_out`` pointing at the payment it
refunds (``refund_of``), either paid back by the original method or kept
as credit (``to_credit``). Only payments on Paid invoices (and add-funds
payments) are refunded. Refunds raise the invoice's ``refunded`` and never
its balance due; a whole refund marks the invoice Refunded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, fn

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Client, CreditEntry, Invoice, Transaction, database, now
from billdesk.money import Money
from billdesk.services import affiliates, billing_settings, changelog, clients, credit, invoicing
from billdesk.services.amounts import amount_input, date_input


@dataclass(frozen=True, slots=True)
class PaymentResult:
    transaction_id: int
    invoice: invoicing.InvoiceRecord
    credit_added: Money

    def as_json(self) -> dict[str, Any]:
        return {"id": self.transaction_id, "invoice": self.invoice.as_json(),
                "credit_added": str(self.credit_added)}


def add_payment(invoice_id: int, amount: Any, *, fee: Any = None, date: Any = None,
                method: str | None = None, reference: str = "",
                actor: str | None = None) -> PaymentResult:
    """Record money received against an invoice (P2). Partial payments are
    fine; an exact payment marks it Paid with its paid date; more than the
    balance puts the excess in credit."""
    inv = invoicing.get_invoice(invoice_id)
    clients.check_writable(inv.client_id)  # C11: an archived client is read-only
    if inv.status == "Draft":
        raise Conflict("invoice", f"invoice {inv.label} is a draft; publish it before taking payments")
    if inv.status not in invoicing.OWING:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; it takes no payments")
    value = amount_input(amount, inv.currency, "amount")
    fee_value = (amount_input(fee, inv.currency, "fee", zero_ok=True) if fee not in (None, "")
                 else Money.zero(inv.currency))
    if fee_value > value:
        raise Conflict("fee", f"is more than the payment ({value})")
    when = date_input(date, "date") if date not in (None, "") else dt.date.today()
    method_name = (billing_settings.check_payment_method(method, "method") if method is not None
                   else inv.payment_method)
    reference = (reference or "").strip()
    if len(reference) > 200:
        raise InvalidInput("ref", "must be 200 characters or fewer")
    due = inv.balance
    applied = min(value, due)
    excess = value - applied
    client_name = _client_name(inv.client_id)
    with database.atomic():
        tx_id = Transaction.insert(
            client=inv.client_id, client_name=client_name, invoice=invoice_id, date=when,
            method=method_name, reference=reference,
            description=f"Payment for invoice {inv.label}", currency=inv.currency,
            amount_in=value, fee=fee_value, created_at=now(),
        ).execute()
        Invoice.update(paid=Invoice.paid + applied.minor_units, updated_at=now()).where(
            Invoice.id == invoice_id).execute()
        if applied == due:
            invoicing.set_paid(invoice_id, when, actor)
        if inv.is_add_funds:
            added = value
            credit.post(inv.client_id, value, "add_funds", f"Add funds: invoice {inv.label}",
                        invoice_id=invoice_id, transaction_id=tx_id, date=when)
        else:
            added = excess
            if excess:
                credit.post(inv.client_id, excess, "overpayment",
                            f"Credit for overpayment of invoice {inv.label}",
                            invoice_id=invoice_id, transaction_id=tx_id, date=when)
        text = f"Payment {value} {inv.currency} received for invoice {inv.label}"
        if fee_value:
            text += f" (fee {fee_value})"
        if applied == due:
            text += ": invoice Paid"
        if added:
            text += f"; {added} to credit"
        changelog.record(inv.client_id, text, actor=actor)
        from billdesk.services import mail

        mail.payment_confirmation(tx_id)  # E1: the receipt, queued with the payment
    return PaymentResult(tx_id, invoicing.get_invoice(invoice_id), added)


def mark_paid(invoice_id: int, *, date: Any = None, method: str | None = None,
              reference: str = "", actor: str | None = None) -> PaymentResult:
    """Record a payment of exactly the balance due (WHMCS "Mark Paid")."""
    inv = invoicing.get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status not in invoicing.OWING:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}")
    return add_payment(invoice_id, inv.balance.amount, date=date, method=method,
                       reference=reference, actor=actor)


def _client_name(client_id: int) -> str:
    return clients.get_client(client_id).display_name


# --- refunds

def refundable(transaction_id: int) -> Money:
    """What is left to refund of a payment: the part that went to its
    invoice (an overpayment's excess sits in credit; remove it there),
    less earlier refunds."""
    tx = _payment(transaction_id)
    return _refundable(tx)


def _payment(transaction_id: int) -> Transaction:
    tx = Transaction.get_or_none(Transaction.id == transaction_id)
    if tx is None:
        raise NotFound("transaction", f"no transaction #{transaction_id}")
    if not tx.amount_in or tx.refund_of_id is not None:
        raise Conflict("transaction", f"transaction #{transaction_id} is not a payment")
    if tx.invoice_id is None:
        raise Conflict("transaction", f"transaction #{transaction_id} is not linked to an invoice")
    return tx


def _refundable(tx: Transaction) -> Money:
    excess = 0
    if Invoice.select(Invoice.kind).where(Invoice.id == tx.invoice_id).scalar() == "standard":
        excess = (CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
                  .where(CreditEntry.transaction == tx.id, CreditEntry.kind == "overpayment").scalar())
    refunded = (Transaction.select(fn.COALESCE(fn.SUM(Transaction.amount_out), 0))
                .where(Transaction.refund_of == tx.id).scalar())
    return Money.from_minor(tx.amount_in - int(excess) - int(refunded), tx.currency)


def refund(transaction_id: int, amount: Any, *, to_credit: bool = False, date: Any = None,
           reference: str = "", actor: str | None = None) -> int:
    """Refund (part of) a payment, by its original method or to credit.
    Returns the refund's transaction id."""
    tx = _payment(transaction_id)
    inv = invoicing.get_invoice(tx.invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status == "Cancelled" and not inv.is_add_funds:
        raise Conflict("transaction", f"invoice {inv.label} was cancelled and its payments went to "
                                      "the client's credit; remove the credit instead")
    if inv.status != "Paid" and not inv.is_add_funds:
        # A refund is a credit against a settled invoice (SPEC "Money rules"); on an
        # invoice still owed it would count money given back as paid.
        raise Conflict("transaction", f"invoice {inv.label} is {inv.status}: only payments on paid "
                                      "invoices are refunded; cancel the invoice to keep what was "
                                      "paid as credit")
    value = amount_input(amount, tx.currency, "amount")
    left = _refundable(tx)
    if value > left:
        raise Conflict("amount", f"is more than can be refunded of transaction #{transaction_id} ({left})")
    when = date_input(date, "date") if date not in (None, "") else dt.date.today()
    if when < tx.date:
        raise InvalidInput("date", f"is before the payment it refunds ({tx.date.isoformat()})")
    if inv.is_add_funds and to_credit:
        raise Conflict("to_credit", "an add-funds payment is credit already; refund it by its method")
    if inv.is_add_funds and value > credit.balance(inv.client_id):
        raise Conflict("amount", f"the client's credit ({credit.balance(inv.client_id)}) no longer "
                                 "holds these funds")
    if tx.client_id is None:
        raise Conflict("transaction", f"transaction #{transaction_id} belongs to a deleted client")
    with database.atomic():
        refund_id = Transaction.insert(
            client=tx.client_id, client_name=tx.client_name, invoice=tx.invoice_id, date=when,
            method="Credit" if to_credit else tx.method, reference=(reference or "").strip(),
            description=(f"Refund of transaction #{transaction_id} to credit" if to_credit
                         else f"Refund of transaction #{transaction_id}"),
            currency=tx.currency, amount_out=value, refund_of=transaction_id, to_credit=to_credit,
            created_at=now(),
        ).execute()
        Invoice.update(refunded=Invoice.refunded + value.minor_units, updated_at=now()).where(
            Invoice.id == inv.id).execute()
        if to_credit:
            credit.post(tx.client_id, value, "refund",
                        f"Refund of payment on invoice {inv.label} to credit",
                        invoice_id=inv.id, transaction_id=refund_id, date=when)
        elif inv.is_add_funds:
            credit.post(tx.client_id, -value, "refund", f"Add funds refunded: invoice {inv.label}",
                        invoice_id=inv.id, transaction_id=refund_id, date=when)
        whole = inv.status == "Paid" and inv.refunded + value >= inv.paid
        if whole:
            Invoice.update(status="Refunded").where(Invoice.id == inv.id).execute()
            affiliates.revoke([inv.id], actor=actor)  # F4: a pending commission goes with it
        changelog.record(tx.client_id, f"Refund {value} {tx.currency} of transaction #{transaction_id} "
                         + ("to credit" if to_credit else f"by {tx.method or 'original method'}")
                         + (f"; invoice {inv.label} Refunded" if whole else ""), actor=actor)
    return refund_id


# --- reading

@dataclass(frozen=True, slots=True)
class TransactionRow:
    id: int
    date: dt.date
    method: str
    reference: str
    description: str
    invoice_id: int | None
    invoice_number: str | None
    amount_in: Money
    fee: Money
    amount_out: Money
    refund_of: int | None
    to_credit: bool

    @property
    def key(self) -> tuple[str, int]:
        return (self.date.isoformat(), self.id)

    @property
    def is_payment(self) -> bool:
        return bool(self.amount_in) and self.refund_of is None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "date": self.date.isoformat(), "method": self.method,
                "reference": self.reference, "description": self.description,
                "invoice_id": self.invoice_id, "invoice_number": self.invoice_number,
                "amount_in": str(self.amount_in), "fee": str(self.fee),
                "amount_out": str(self.amount_out), "refund_of": self.refund_of,
                "to_credit": self.to_credit}


def transactions(client_id: int) -> list[TransactionRow]:
    """Newest first."""
    rows = (Transaction.select(Transaction.id, Transaction.date, Transaction.method,
                               Transaction.reference, Transaction.description, Transaction.invoice,
                               Invoice.number, Transaction.amount_in, Transaction.fee,
                               Transaction.amount_out, Transaction.refund_of, Transaction.to_credit,
                               Transaction.currency)
            .join(Invoice, on=(Invoice.id == Transaction.invoice), join_type=JOIN.LEFT_OUTER)
            .where(Transaction.client == client_id)
            .order_by(Transaction.date.desc(), Transaction.id.desc()).tuples())
    m = Money.from_minor
    return [TransactionRow(i, d, me, ref, desc, inv, num, m(a, c), m(f, c), m(o, c), rf, bool(tc))
            for i, d, me, ref, desc, inv, num, a, f, o, rf, tc, c in rows]


@dataclass(frozen=True, slots=True)
class Income:
    """C4: gross revenue = all payments in; expenses = fees + refunds paid
    out; net = gross − expenses. (A refund kept as credit is not money
    out: the client spends it later without paying again.)"""

    gross: Money
    fees: Money
    refunds: Money

    @property
    def expenses(self) -> Money:
        return self.fees + self.refunds

    @property
    def net(self) -> Money:
        return self.gross - self.expenses

    def as_json(self) -> dict[str, str]:
        return {"gross": str(self.gross), "expenses": str(self.expenses), "net": str(self.net)}


def income(client_id: int) -> Income:
    currency = Client.select(Client.currency).where(Client.id == client_id).scalar()
    if currency is None:
        raise NotFound("client_id", f"no client #{client_id}")
    gross, fees, out = (Transaction.select(
        fn.COALESCE(fn.SUM(Transaction.amount_in), 0), fn.COALESCE(fn.SUM(Transaction.fee), 0),
        fn.COALESCE(fn.SUM(Transaction.amount_out).filter(Transaction.to_credit == False), 0))  # noqa: E712
        .where(Transaction.client == client_id).tuples().first())
    m = Money.from_minor
    return Income(m(gross, currency), m(fees, currency), m(out, currency))


def totals(client_id: int) -> tuple[Money, Money, Money]:
    """Totals in, fees and out for the Transactions tab (P1)."""
    found = income(client_id)
    out = (Transaction.select(fn.COALESCE(fn.SUM(Transaction.amount_out), 0))
           .where(Transaction.client == client_id).scalar())
    return found.gross, found.fees, Money.from_minor(int(out), found.gross.currency)


_PAGE_SQL = """
SELECT t.id, t.date, t.method, t.reference, t.description, t.invoice_id, i.number,
       t.amount_in, t.fee, t.amount_out, t.refund_of, t.to_credit
  FROM txn t LEFT JOIN invoice i ON i.id = t.invoice_id
 WHERE t.client_id = ? {after}
 ORDER BY t.date DESC, t.id DESC
 LIMIT ?
"""


def page(client_id: int, *, after: tuple[str, int] | None = None, limit: int = 200,
         currency: str | None = None) -> list[TransactionRow]:
    """One page of a client's transactions, newest first (keyset on date, id)."""
    if currency is None:
        currency = Client.select(Client.currency).where(Client.id == client_id).scalar()
        if currency is None:
            raise NotFound("client_id", f"no client #{client_id}")
    params: list[Any] = [client_id]
    after_sql = ""
    if after is not None:
        after_sql = "AND (t.date < ? OR (t.date = ? AND t.id < ?))"
        params += [after[0], after[0], after[1]]
    params.append(limit)
    rows = database.execute_sql(_PAGE_SQL.format(after=after_sql), params).fetchall()
    m = Money.from_minor
    return [TransactionRow(i, dt.date.fromisoformat(d), me, ref, desc, inv, num, m(a, currency),
                           m(f, currency), m(o, currency), rf, bool(tc))
            for i, d, me, ref, desc, inv, num, a, f, o, rf, tc in rows]


def for_invoice(invoice_id: int) -> list[TransactionRow]:
    """The payments and refunds on one invoice, oldest first."""
    currency = Invoice.select(Invoice.currency).where(Invoice.id == invoice_id).scalar()
    if currency is None:
        raise NotFound("invoice", f"no invoice #{invoice_id}")
    rows = database.execute_sql(
        "SELECT t.id, t.date, t.method, t.reference, t.description, t.invoice_id, i.number, "
        "t.amount_in, t.fee, t.amount_out, t.refund_of, t.to_credit FROM txn t "
        "LEFT JOIN invoice i ON i.id = t.invoice_id WHERE t.invoice_id = ? ORDER BY t.date, t.id",
        [invoice_id]).fetchall()
    m = Money.from_minor
    return [TransactionRow(i, dt.date.fromisoformat(d), me, ref, desc, inv, num, m(a, currency),
                           m(f, currency), m(o, currency), rf, bool(tc))
            for i, d, me, ref, desc, inv, num, a, f, o, rf, tc in rows]
