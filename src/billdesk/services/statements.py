"""Account statement (P5), exactly as SPEC.md "Money rules" sets it out.

Rows: invoice issued (debit, its total; add-funds, draft and cancelled
invoices are not rows); payment received (credit, add-funds payments
included); refund (a credit of the refunded amount against its invoice,
plus a debit when the money is paid out rather than kept as credit; a
refunded add-funds payment is only the debit, its credit having left the
credit balance); credit added by hand (credit) and removed by hand
(debit), deleted ledger entries likewise. Fees are not rows.
Balance = debits − credits: positive means the client owes.

A statement that covers every record checks itself: its closing balance
must equal the sum of unpaid balances due minus the credit balance."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from billdesk.errors import InvalidInput
from billdesk.models import database
from billdesk.models.db import reading
from billdesk.money import Money
from billdesk.services import credit, invoicing
from billdesk.services.amounts import date_input

log = logging.getLogger(__name__)

# One row per (date, order, id). Placeholders: the client id, five times.
_ROWS = """
SELECT date, 0 AS ord, id, 'Invoice' AS type,
       'Invoice #' || number AS description, total AS debit, 0 AS credit
  FROM invoice
 WHERE client_id = ? AND kind = 'standard' AND status NOT IN ('Draft', 'Cancelled')
UNION ALL
SELECT t.date, 1, t.id, 'Payment',
       'Payment' || COALESCE(' for invoice #' || i.number, '')
       || CASE WHEN t.method <> '' THEN ' (' || t.method || ')' ELSE '' END
       || CASE WHEN i.kind = 'add_funds' THEN ', added to credit' ELSE '' END,
       0, t.amount_in
  FROM txn t LEFT JOIN invoice i ON i.id = t.invoice_id
 WHERE t.client_id = ? AND t.amount_in > 0
UNION ALL
SELECT t.date, 2, t.id, 'Refund',
       'Refund against invoice #' || COALESCE(i.number, '?')
       || CASE WHEN t.to_credit THEN ', kept as credit' ELSE '' END,
       0, t.amount_out
  FROM txn t LEFT JOIN invoice i ON i.id = t.invoice_id
 WHERE t.client_id = ? AND t.amount_out > 0 AND COALESCE(i.kind, 'standard') = 'standard'
UNION ALL
SELECT t.date, 3, t.id, 'Refund paid out',
       'Refund paid out' || CASE WHEN t.method <> '' THEN ' (' || t.method || ')' ELSE '' END
       || COALESCE(', invoice #' || i.number, ''),
       t.amount_out, 0
  FROM txn t LEFT JOIN invoice i ON i.id = t.invoice_id
 WHERE t.client_id = ? AND t.amount_out > 0 AND NOT t.to_credit
UNION ALL
SELECT date, 4, id,
       CASE WHEN kind = 'reversal' THEN 'Credit entry deleted'
            WHEN amount > 0 THEN 'Credit added' ELSE 'Credit removed' END,
       description,
       CASE WHEN amount < 0 THEN -amount ELSE 0 END,
       CASE WHEN amount > 0 THEN amount ELSE 0 END
  FROM credit_entry
 WHERE client_id = ? AND kind IN ('added', 'removed', 'adjustment', 'reversal')
"""


@dataclass(frozen=True, slots=True)
class StatementRow:
    date: dt.date
    type: str
    description: str
    debit: Money
    credit: Money
    balance: Money

    def as_json(self) -> dict[str, str]:
        return {"date": self.date.isoformat(), "type": self.type, "description": self.description,
                "debit": str(self.debit), "credit": str(self.credit), "balance": str(self.balance)}


@dataclass(frozen=True, slots=True)
class Statement:
    client_id: int
    currency: str
    start: dt.date
    end: dt.date
    opening: Money
    rows: list[StatementRow]
    closing: Money
    complete: bool  # the range holds every record of the client
    expected: Money | None  # owed − credit balance, when complete

    @property
    def total_debit(self) -> Money:
        return sum((r.debit for r in self.rows), Money.zero(self.currency))

    @property
    def total_credit(self) -> Money:
        return sum((r.credit for r in self.rows), Money.zero(self.currency))

    @property
    def checked_ok(self) -> bool | None:
        return None if self.expected is None else self.expected == self.closing

    def as_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id, "currency": self.currency,
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "opening": str(self.opening), "rows": [r.as_json() for r in self.rows],
            "closing": str(self.closing),
            "total_debit": str(self.total_debit), "total_credit": str(self.total_credit),
            "check": {"applies": self.complete,
                      "expected": str(self.expected) if self.expected is not None else None,
                      "ok": self.checked_ok},
        }


def date_range(start: Any, end: Any) -> tuple[dt.date, dt.date]:
    first = date_input(start, "from")
    last = date_input(end, "to")
    if last < first:
        raise InvalidInput("to", f"must not be before the from date ({first.isoformat()})")
    return first, last


def first_date(client_id: int) -> dt.date | None:
    """The date of the client's first statement row (the "all time" start)."""
    row = database.execute_sql(f"SELECT MIN(date) FROM ({_ROWS})", [client_id] * 5).fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def statement(client_id: int, start: Any, end: Any) -> Statement:
    first, last = date_range(start, end)
    currency = invoicing._client_currency(client_id)
    params = [client_id] * 5
    with reading():  # one consistent snapshot for rows and the self-check
        before, after = database.execute_sql(
            f"SELECT COALESCE(SUM(CASE WHEN date < ? THEN debit - credit END), 0), "
            f"       COUNT(CASE WHEN date > ? THEN 1 END) FROM ({_ROWS})",
            [first.isoformat(), last.isoformat(), *params]).fetchone()
        rows = database.execute_sql(
            f"SELECT date, type, description, debit, credit FROM ({_ROWS}) "
            f"WHERE date BETWEEN ? AND ? ORDER BY date, ord, id",
            [*params, first.isoformat(), last.isoformat()]).fetchall()
        earlier = database.execute_sql(
            f"SELECT COUNT(*) FROM ({_ROWS}) WHERE date < ?", [*params, first.isoformat()]).fetchone()[0]
        complete = not earlier and not after
        expected = (invoicing.owed(client_id) - credit.balance(client_id)) if complete else None
    running = int(before)
    out: list[StatementRow] = []
    digits = Money.from_minor
    for date, kind, description, debit, credit_units in rows:
        running += debit - credit_units
        out.append(StatementRow(dt.date.fromisoformat(date), kind, description or "",
                                digits(debit, currency), digits(credit_units, currency),
                                digits(running, currency)))
    result = Statement(client_id, currency, first, last, digits(int(before), currency), out,
                       digits(running, currency), complete, expected)
    if result.checked_ok is False:
        log.error("statement self-check failed for client %s: closing %s, expected %s",
                  client_id, result.closing, expected)
    return result


def all_time(client_id: int, today: dt.date | None = None) -> Statement:
    today = today or dt.date.today()
    start = first_date(client_id) or today
    end = max(today, _last_date(client_id) or today)
    return statement(client_id, min(start, today), end)


def _last_date(client_id: int) -> dt.date | None:
    row = database.execute_sql(f"SELECT MAX(date) FROM ({_ROWS})", [client_id] * 5).fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None
