"""Helpers for the billing tests: clients, and independent checks of the
invariants the services promise (recomputed from the rows, not trusted)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from peewee import fn

from billdesk.models import Client, CreditEntry, Invoice, InvoiceLine, Transaction, database
from billdesk.money import Money
from billdesk.services import clients, statements, taxes

_emails = itertools.count(1)


def new_client(currency: str = "GBP", country: str = "GB", **extra) -> int:
    values = {"first_name": "Ada", "last_name": "Client", "email": f"c{next(_emails)}@example.com",
              "currency": currency, "country": country}
    values.update(extra)
    return clients.add_client(values)


def dump() -> list[str]:
    """The whole database as SQL text, to show that a refusal wrote nothing."""
    return list(database.obj.connection().iterdump())


def m(text: str, currency: str = "GBP") -> Money:
    return Money.of(text, currency)


def check_invariants(client_id: int) -> None:
    """Every promise of the billing services, recomputed from the rows."""
    currency = Client.get_by_id(client_id).currency
    for inv in Invoice.select().where(Invoice.client == client_id):
        lines = [(Money.from_minor(a, currency), bool(t)) for a, t in
                 InvoiceLine.select(InvoiceLine.amount, InvoiceLine.taxed)
                 .where(InvoiceLine.invoice == inv.id).tuples()]
        rates = taxes.TaxRates(Decimal(inv.tax1_rate), Decimal(inv.tax2_rate), inv.tax_compound,
                               inv.tax_inclusive)
        totals = taxes.compute(lines, rates, currency)
        assert (inv.subtotal, inv.tax1, inv.tax2, inv.total) == (
            totals.subtotal.minor_units, totals.tax1.minor_units, totals.tax2.minor_units,
            totals.total.minor_units), f"invoice {inv.id} totals"
        assert inv.total == inv.subtotal + inv.tax1 + inv.tax2
        line_sum = sum(a.minor_units for a, _ in lines)
        if inv.tax_inclusive:
            assert inv.total == line_sum
        else:
            assert inv.subtotal == line_sum
        payments_in = (Transaction.select(fn.COALESCE(fn.SUM(Transaction.amount_in), 0))
                       .where(Transaction.invoice == inv.id).scalar())
        excess = (CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
                  .where(CreditEntry.invoice == inv.id, CreditEntry.kind == "overpayment").scalar())
        if inv.kind == "add_funds":
            assert inv.paid <= payments_in
        else:
            assert inv.paid == payments_in - excess, f"invoice {inv.id} paid"
        refunds = (Transaction.select(fn.COALESCE(fn.SUM(Transaction.amount_out), 0))
                   .where(Transaction.invoice == inv.id).scalar())
        assert inv.refunded == refunds
        applied = -(CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
                    .where(CreditEntry.invoice == inv.id, CreditEntry.kind == "applied").scalar())
        if inv.status != "Cancelled":
            assert inv.credit == applied, f"invoice {inv.id} credit"
        assert inv.credit + inv.paid <= inv.total or inv.status in ("Cancelled",)
        if inv.status in ("Unpaid", "Collections"):
            assert inv.credit + inv.paid < inv.total
        if inv.status == "Paid":
            assert inv.credit + inv.paid == inv.total and inv.paid_date is not None
    ledger = (CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
              .where(CreditEntry.client == client_id).scalar())
    balance = Client.get_by_id(client_id).credit_balance
    assert balance == ledger >= 0
    # the balance never went below zero along the way, in entry order
    running = 0
    for (amount,) in (CreditEntry.select(CreditEntry.amount).where(CreditEntry.client == client_id)
                      .order_by(CreditEntry.id).tuples()):
        running += amount
        assert running >= 0
    st = statements.all_time(client_id)
    assert st.complete and st.checked_ok, (st.closing, st.expected)
