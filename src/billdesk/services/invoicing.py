"""Invoices (B1, B2, B6, P4's applying of credit).

An invoice is written with its lines and its totals in one transaction;
the stored ``subtotal``, ``tax1``, ``tax2`` and ``total`` are always what
``taxes.compute`` gives for the stored lines, and ``credit``/``paid``/
``refunded`` what the credit ledger and the transactions say. The balance
due is ``total − credit − paid`` while the invoice is open (Draft, Unpaid,
Collections) and zero otherwise; refunds never change it (a refund is a
credit against the invoice, SPEC.md "Money rules").

Numbers are given when a draft is published, inside the publishing
transaction, from a gap-free sequence (billing_settings.take_number)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from peewee import fn

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import (
    INVOICE_STATUSES,
    Client,
    Invoice,
    InvoiceLine,
    Service,
    database,
    now,
)
from billdesk.money import Money
from billdesk.services import affiliates, billing_settings, changelog, clients, credit, cycles, taxes
from billdesk.services.amounts import amount_input, date_input
from billdesk.services.text import counted

OPEN = ("Draft", "Unpaid", "Collections")
OWING = ("Unpaid", "Collections")  # published and not settled: counts as owed
LINE_TYPES = ("", "Hosting", "Addon", "Domain", "Setup", "Item", "LateFee", "AddFunds", "Promo",
              "GroupDiscount")
RENEWAL_TYPES = ("Hosting", "Addon", "Domain")  # lines that bill a service, addon or domain
MAX_LINES = 1000
# The largest invoice total, in minor units: sums over tens of thousands of
# invoices stay far inside SQLite's 64-bit INTEGER.
MAX_TOTAL_UNITS = 10**14


@dataclass(frozen=True, slots=True)
class LineInput:
    """One line as typed: the amount is text or Decimal until checked."""

    description: str
    amount: Any
    taxed: bool = False
    type: str = ""
    link_id: int | None = None
    due_date: dt.date | None = None  # a renewal: the due date it bills (never billed twice)
    group: str = ""  # the service group heading the line on the invoice


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    description: str
    amount: Money
    taxed: bool
    type: str
    link_id: int | None
    due_date: dt.date | None = None
    group: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "amount": str(self.amount),
                "taxed": self.taxed, "type": self.type, "link_id": self.link_id,
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "group": self.group}

    def as_input(self) -> LineInput:
        return LineInput(self.description, self.amount.amount, self.taxed, self.type, self.link_id,
                         self.due_date, self.group)


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    id: int
    client_id: int
    number: str | None
    kind: str
    status: str
    date: dt.date
    due_date: dt.date
    paid_date: dt.date | None
    currency: str
    payment_method: str
    rates: taxes.TaxRates
    subtotal: Money
    tax1: Money
    tax2: Money
    total: Money
    credit: Money
    paid: Money
    refunded: Money
    notes: str
    lines: list[Line] = field(default_factory=list)

    @property
    def tax(self) -> Money:
        return self.tax1 + self.tax2

    @property
    def balance(self) -> Money:
        return balance_of(self.status, self.total, self.credit, self.paid)

    @property
    def label(self) -> str:
        """How people name it: "#INV-2026-00001", or "draft 12" before publishing."""
        return f"#{self.number}" if self.number else f"draft {self.id}"

    @property
    def is_add_funds(self) -> bool:
        return self.kind == "add_funds"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "number": self.number, "client_id": self.client_id,
            "kind": self.kind, "status": self.status, "date": self.date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "paid_date": self.paid_date.isoformat() if self.paid_date else None,
            "currency": self.currency, "payment_method": self.payment_method,
            "subtotal": str(self.subtotal), "tax": str(self.tax),
            "tax1": {"name": self.rates.name1, "rate": str(self.rates.rate1), "amount": str(self.tax1)},
            "tax2": {"name": self.rates.name2, "rate": str(self.rates.rate2), "amount": str(self.tax2)},
            "tax_inclusive": self.rates.inclusive, "tax_compound": self.rates.compound,
            "total": str(self.total), "credit_applied": str(self.credit), "paid": str(self.paid),
            "refunded": str(self.refunded), "balance": str(self.balance), "notes": self.notes,
            "lines": [line.as_json() for line in self.lines],
        }


def balance_of(status: str, total: Money, credit_applied: Money, paid: Money) -> Money:
    if status not in OPEN:
        return Money.zero(total.currency)
    due = total - credit_applied - paid
    return due if due.amount > 0 else Money.zero(total.currency)


# --- reading

_COLUMNS = (Invoice.id, Invoice.client, Invoice.number, Invoice.kind, Invoice.status, Invoice.date,
            Invoice.due_date, Invoice.paid_date, Invoice.currency, Invoice.payment_method,
            Invoice.tax1_name, Invoice.tax1_rate, Invoice.tax2_name, Invoice.tax2_rate,
            Invoice.tax_compound, Invoice.tax_inclusive, Invoice.subtotal, Invoice.tax1,
            Invoice.tax2, Invoice.total, Invoice.credit, Invoice.paid, Invoice.refunded, Invoice.notes)


def _record(row: tuple, lines: list[Line]) -> InvoiceRecord:
    (iid, client_id, number, kind, status, date, due, paid_date, cur, method, n1, r1, n2, r2,
     compound, inclusive, subtotal, tax1, tax2, total, credit_units, paid, refunded, notes) = row
    m = Money.from_minor
    return InvoiceRecord(
        iid, client_id, number, kind, status, date, due, paid_date, cur, method,
        taxes.TaxRates(Decimal(r1), Decimal(r2), bool(compound), bool(inclusive), n1, n2),
        m(subtotal, cur), m(tax1, cur), m(tax2, cur), m(total, cur), m(credit_units, cur),
        m(paid, cur), m(refunded, cur), notes, lines)


_LINE_COLUMNS = (InvoiceLine.invoice, InvoiceLine.id, InvoiceLine.description, InvoiceLine.amount,
                 InvoiceLine.taxed, InvoiceLine.type, InvoiceLine.link_id, InvoiceLine.due_date,
                 InvoiceLine.group_name)


def get_invoice(invoice_id: int) -> InvoiceRecord:
    found = get_invoices([invoice_id])
    if not found:
        raise NotFound("invoice", f"no invoice #{invoice_id}")
    return found[0]


def get_invoices(invoice_ids: Sequence[int]) -> list[InvoiceRecord]:
    """The invoices with these ids, in the order given (unknown ids are
    left out), read a chunk at a time rather than one query each."""
    rows: dict[int, tuple] = {}
    lines: dict[int, list[Line]] = {}
    ids = list(invoice_ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        for row in Invoice.select(*_COLUMNS).where(Invoice.id.in_(part)).tuples():
            rows[row[0]] = row
            lines[row[0]] = []
        for owner, i, d, a, t, ty, link, due, group in (
                InvoiceLine.select(*_LINE_COLUMNS).where(InvoiceLine.invoice.in_(part))
                .order_by(InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.id).tuples()):
            lines[owner].append(Line(i, d, Money.from_minor(a, rows[owner][8]), bool(t), ty, link,
                                     due, group))
    return [_record(rows[i], lines[i]) for i in ids if i in rows]


def labels(invoice_ids: Sequence[int]) -> dict[int, str]:
    """How people name these invoices (see InvoiceRecord.label), read
    without their lines."""
    ids = list(invoice_ids)
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        found.update((iid, f"#{number}" if number else f"draft {iid}") for iid, number in
                     Invoice.select(Invoice.id, Invoice.number)
                     .where(Invoice.id.in_(ids[start:start + 500])).tuples())
    return found


def find_invoice(text: str) -> int:
    """An invoice id from an id or a number as typed."""
    text = (text or "").strip()
    found = Invoice.select(Invoice.id).where(Invoice.number == text).scalar()
    if found:
        return found
    if text.isdigit() and Invoice.select().where(Invoice.id == int(text)).exists():
        return int(text)
    raise NotFound("invoice", f"no invoice {text!r}")


@dataclass(frozen=True, slots=True)
class StatusFigure:
    count: int
    total: Money


def summary(client_id: int) -> dict[str, StatusFigure]:
    """Invoice count and total per status, every status present (C4)."""
    currency = _client_currency(client_id)
    found = {status: StatusFigure(0, Money.zero(currency)) for status in INVOICE_STATUSES}
    rows = (Invoice.select(Invoice.status, fn.COUNT(Invoice.id), fn.SUM(Invoice.total))
            .where(Invoice.client == client_id).group_by(Invoice.status).tuples())
    for status, count, total in rows:
        found[status] = StatusFigure(count, Money.from_minor(total or 0, currency))
    return found


def owed(client_id: int) -> Money:
    """Sum of balances due over the client's Unpaid and Collections
    invoices (add-funds invoices are not debts)."""
    currency = _client_currency(client_id)
    units = (Invoice.select(fn.COALESCE(fn.SUM(Invoice.total - Invoice.credit - Invoice.paid), 0))
             .where(Invoice.client == client_id, Invoice.status.in_(OWING),
                    Invoice.kind == "standard").scalar())
    return Money.from_minor(int(units), currency)


# --- writing

def _client_currency(client_id: int) -> str:
    return clients.client_currency(client_id)


def rates_for_client(client_id: int) -> taxes.TaxRates:
    """The tax an invoice for this client charges today (none when exempt)."""
    row = (Client.select(Client.country, Client.state, Client.tax_exempt)
           .where(Client.id == client_id).tuples().first())
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    return rates_for_address(*row)


def rates_for_address(country: str, state: str, exempt: bool,
                      settings: billing_settings.BillingSettings | None = None) -> taxes.TaxRates:
    """The tax charged at an address today (none for an exempt client)."""
    settings = settings or billing_settings.billing()
    if exempt:
        return taxes.TaxRates(compound=settings.tax_compound, inclusive=settings.tax_inclusive)
    rule1 = billing_settings.rule_for(1, country, state)
    rule2 = billing_settings.rule_for(2, country, state)
    return taxes.TaxRates(
        rule1.rate if rule1 else Decimal(0), rule2.rate if rule2 else Decimal(0),
        settings.tax_compound, settings.tax_inclusive,
        rule1.name if rule1 else "", rule2.name if rule2 else "")


def check_lines(lines: Sequence[LineInput], currency: str) -> list[tuple[LineInput, Money]]:
    """Every problem with every line at once (field ``lines[N].amount``)."""
    problems: list[Problem] = []
    checked: list[tuple[LineInput, Money]] = []
    if len(lines) > MAX_LINES:
        raise InvalidInput("lines", f"an invoice holds at most {MAX_LINES} lines")
    for n, line in enumerate(lines, start=1):
        description = (line.description or "").strip()
        if not description:
            problems.append(Problem(f"lines[{n}].description", "is required"))
        elif len(description) > 1000:
            problems.append(Problem(f"lines[{n}].description", "must be 1000 characters or fewer"))
        if line.type not in LINE_TYPES:
            problems.append(Problem(f"lines[{n}].type", f"unknown line type {line.type!r}"))
        try:
            amount = amount_input(line.amount, currency, f"lines[{n}].amount", negative_ok=True)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
            continue
        checked.append((LineInput(description, amount.amount, bool(line.taxed), line.type,
                                  line.link_id, line.due_date, (line.group or "").strip()), amount))
    if problems:
        raise ValidationFailed(problems)
    return checked


def preview(lines: Iterable[tuple[Money, bool]], rates: taxes.TaxRates, currency: str) -> taxes.Totals:
    """Totals for the editor as the user types (no database)."""
    return taxes.compute(lines, rates, currency)


def _write_lines(invoice_id: int, checked: list[tuple[LineInput, Money]]) -> None:
    InvoiceLine.delete().where(InvoiceLine.invoice == invoice_id).execute()
    if checked:
        InvoiceLine.insert_many([
            {"invoice": invoice_id, "position": pos, "description": line.description,
             "amount": amount.minor_units, "taxed": line.taxed, "type": line.type,
             "link_id": line.link_id, "due_date": line.due_date, "group_name": line.group}
            for pos, (line, amount) in enumerate(checked, start=1)
        ]).execute()


def _refresh_totals(invoice_id: int) -> taxes.Totals:
    """Recompute and store the totals from the stored lines."""
    inv = get_invoice(invoice_id)
    totals = taxes.compute(((ln.amount, ln.taxed) for ln in inv.lines), inv.rates, inv.currency)
    if totals.total.amount < 0:
        raise InvalidInput("lines", f"the total would be {totals.total}; an invoice cannot be negative")
    if totals.tax1.amount < 0 or totals.tax2.amount < 0:
        raise InvalidInput("lines", "the taxed lines add up to less than zero; mark the discount "
                                    "line untaxed or lower it")
    if abs(totals.total.minor_units) > MAX_TOTAL_UNITS or abs(totals.subtotal.minor_units) > MAX_TOTAL_UNITS:
        raise InvalidInput("lines", f"the total would be {totals.total}, more than billdesk keeps on "
                                    "one invoice")
    Invoice.update(subtotal=totals.subtotal, tax1=totals.tax1, tax2=totals.tax2, total=totals.total,
                   updated_at=now()).where(Invoice.id == invoice_id).execute()
    return totals


def create_invoice(client_id: int, lines: Sequence[LineInput] = (), *, date: Any = None,
                   due_date: Any = None, draft: bool = False, notes: str = "",
                   payment_method: str | None = None, kind: str = "standard",
                   rates: taxes.TaxRates | None = None, actor: str | None = None) -> int:
    """A new invoice in the client's currency with the client's tax (or
    ``rates``, e.g. those a quote was made with). Drafts have no number;
    otherwise it is published at once (B1, B2). A hand-made invoice takes
    no credit by itself (apply_credit does that)."""
    currency = _client_currency(client_id)
    clients.check_writable(client_id)
    problems: list[Problem] = []
    when = due = None
    try:
        when = date_input(date, "date") if date is not None else dt.date.today()
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    try:
        due = date_input(due_date, "due") if due_date is not None else when
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if when and due and due < when:
        problems.append(Problem("due", "must not be before the invoice date"))
    method = ""
    try:
        method = (billing_settings.check_payment_method(payment_method, "payment_method")
                  if payment_method is not None else _client_method(client_id))
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    try:
        checked = check_lines(lines, currency)
    except ValidationFailed as exc:
        problems += exc.problems
        checked = []
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
        checked = []
    if not draft and not lines:
        problems.append(Problem("item", "a published invoice needs at least one line"))
    if problems:
        raise ValidationFailed(problems)
    if kind == "add_funds":
        rates = taxes.NO_TAX
    elif rates is None:
        rates = rates_for_client(client_id)
    stamp = now()
    with database.atomic():
        invoice_id = Invoice.insert(
            client=client_id, kind=kind, status="Draft", date=when, due_date=due,
            currency=currency, payment_method=method, tax1_name=rates.name1,
            tax1_rate=str(rates.rate1), tax2_name=rates.name2, tax2_rate=str(rates.rate2),
            tax_compound=rates.compound, tax_inclusive=rates.inclusive, notes=(notes or "").strip(),
            created_at=stamp, updated_at=stamp,
        ).execute()
        _write_lines(invoice_id, checked)
        _refresh_totals(invoice_id)
        if draft:
            changelog.record(client_id, f"Draft invoice {invoice_id} created", actor=actor)
        else:
            _publish(invoice_id, actor)
    return invoice_id


def _client_method(client_id: int) -> str:
    method = Client.select(Client.payment_method).where(Client.id == client_id).scalar() or ""
    if method and method not in billing_settings.payment_methods():
        return ""
    return method


def _publish(invoice_id: int, actor: str | None) -> str:
    inv = get_invoice(invoice_id)
    if not inv.lines:
        raise InvalidInput("lines", "add at least one line before publishing")
    number = billing_settings.take_number(inv.date)
    Invoice.update(number=number, status="Unpaid", updated_at=now()).where(
        Invoice.id == invoice_id).execute()
    status = "Unpaid"
    if not inv.total:  # nothing to pay: Paid at once, the one way (renewals move on)
        set_paid(invoice_id, inv.date, actor)
        status = "Paid"
    kind = "Add-funds invoice" if inv.is_add_funds else "Invoice"
    changelog.record(inv.client_id, f"{kind} #{number} published: total {inv.total} {inv.currency}, "
                     f"due {inv.due_date.isoformat()}" + (" (nothing to pay: marked Paid)"
                                                          if status == "Paid" else ""), actor=actor)
    if status == "Unpaid" and not inv.is_add_funds:  # E1: queued with the invoice
        from billdesk.services import mail

        mail.invoice_created(invoice_id, inv.client_id)
    return number


def publish(invoice_id: int, *, actor: str | None = None) -> str:
    """Give a draft its number and make it Unpaid (Paid when its total is 0)."""
    inv = get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status != "Draft":
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}, not a draft")
    with database.atomic():
        return _publish(invoice_id, actor)


def update_invoice(invoice_id: int, lines: Sequence[LineInput] | None = None, *, date: Any = None,
                   due_date: Any = None, notes: str | None = None, payment_method: str | None = None,
                   actor: str | None = None) -> InvoiceRecord:
    """Change an open invoice: its lines, dates, notes and payment method.
    The new total may not fall below what was already paid and credited."""
    inv = get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status not in OPEN:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; only open invoices change")
    if inv.is_add_funds and lines is not None:
        raise Conflict("invoice", "an add-funds invoice keeps its one line; cancel it and make a new one")
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    when, due = inv.date, inv.due_date
    if date is not None:
        try:
            when = date_input(date, "date")
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    if due_date is not None:
        try:
            due = date_input(due_date, "due")
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    if due < when and (when, due) != (inv.date, inv.due_date):
        # (a generated invoice may be dated after its due date: an overdue
        # renewal billed late; it stays editable as long as the dates do)
        problems.append(Problem("due", "must not be before the invoice date"))
    if payment_method is not None:
        try:
            changes["payment_method"] = billing_settings.check_payment_method(payment_method,
                                                                              "payment_method")
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    checked = None
    if lines is not None:
        try:
            checked = check_lines(lines, inv.currency)
        except ValidationFailed as exc:
            problems += exc.problems
        if inv.status != "Draft" and not lines:
            problems.append(Problem("lines", "a published invoice needs at least one line"))
    if problems:
        raise ValidationFailed(problems)
    changes.update(date=when, due_date=due)
    if notes is not None:
        changes["notes"] = notes.strip()
    with database.atomic():
        Invoice.update(**changes, updated_at=now()).where(Invoice.id == invoice_id).execute()
        if checked is not None:
            _write_lines(invoice_id, checked)
            totals = _refresh_totals(invoice_id)
            settled = inv.credit + inv.paid
            if totals.total < settled:
                raise Conflict("lines", f"the new total {totals.total} is less than what was already "
                                        f"paid and credited ({settled})")
            if inv.status in OWING and totals.total == settled:
                set_paid(invoice_id, dt.date.today(), actor)
            if totals.total != inv.total:
                changelog.record(inv.client_id, f"Invoice {inv.label} edited",
                                 field=f"Invoice {inv.label} total", old=str(inv.total),
                                 new=str(totals.total), actor=actor)
        for name, old, new in (("date", inv.date, when), ("due date", inv.due_date, due)):
            if old != new:
                changelog.record(inv.client_id, "", field=f"Invoice {inv.label} {name}",
                                 old=old.isoformat(), new=new.isoformat(), actor=actor)
    return get_invoice(invoice_id)


def set_paid(invoice_id: int, when: dt.date, actor: str | None = None) -> None:
    """Every way an invoice becomes Paid comes through here (call it inside
    the caller's transaction): it moves the next due date of each renewal
    it billed by one cycle."""
    Invoice.update(status="Paid", paid_date=when, updated_at=now()).where(
        Invoice.id == invoice_id).execute()
    _advance_renewals(invoice_id, actor)
    affiliates.accrue([(invoice_id, when)], actor)  # F4: a referred client's commission
    _chased_no_more([invoice_id], actor)


def _chased_no_more(invoice_ids: Sequence[int], actor: str | None = None) -> None:
    """A paid invoice's reminders and overdue notices still waiting are not
    sent, and what it bills that was suspended for it is Active again."""
    from billdesk.services import automation, mail

    mail.withhold_chasers(list(labels(invoice_ids).items()))
    automation.unsuspend_paid(invoice_ids, actor)


def set_paid_many(paid: Sequence[tuple[int, dt.date]], actor: str | None = None) -> None:
    """``set_paid(invoice_id, when, actor)`` for each (invoice id, when), in
    order — the same rows, written with a few executemany (the billing run
    pays hundreds of invoices with credit). When two of the invoices bill
    the same item, paying one changes what the other advances: then they
    are paid one by one, as set_paid does."""
    if not paid:
        return
    if len(paid) == 1 or not all(type(when) is dt.date for _i, when in paid):
        for invoice_id, when in paid:
            set_paid(invoice_id, when, actor)
        return
    conn = database.connection()
    rows = conn.execute(_RENEWALS_MANY_SQL, (json.dumps([i for i, _when in paid]),)).fetchall()
    links = [row[1] for row in rows]
    if len(set(links)) != len(links) or len({i for i, _when in paid}) != len(paid):
        for invoice_id, when in paid:
            set_paid(invoice_id, when, actor)
        return
    stamp = now()
    text = stamp.isoformat(sep=" ")
    conn.executemany("UPDATE invoice SET status = 'Paid', paid_date = ?, updated_at = ? "
                     "WHERE id = ?", [(when.isoformat(), text, invoice_id)
                                      for invoice_id, when in paid])
    by_invoice: dict[int, list[tuple]] = {}
    for row in rows:
        by_invoice.setdefault(row[0], []).append(row)
    who = actor or changelog.current_actor()
    plain, expiring, logs = [], [], []
    for invoice_id, _when in paid:
        for (_iid, service_id, due_text, next_due, client_id, name, cycle, due_day,
             expiry) in by_invoice.get(invoice_id, ()):
            if next_due != due_text or not cycles.is_recurring(cycle):
                continue  # (set_paid's join: only while the item is still due then)
            due = dt.date.fromisoformat(due_text)
            new_due = cycles.next_due(due, cycle, due_day)
            if expiry:
                expires = dt.date.fromisoformat(expiry)
                expiring.append((new_due.isoformat(),
                                 cycles.next_due(expires, cycle, expires.day).isoformat(), text,
                                 service_id, due_text))
            else:
                plain.append((new_due.isoformat(), text, service_id, due_text))
            logs.append((client_id, text, who, f"{name} (#{service_id}) next due date",
                         due.isoformat(), new_due.isoformat(), "", "Renewal paid"))
    conn.executemany("UPDATE service SET next_due = ?, updated_at = ? "
                     "WHERE id = ? AND next_due = ?", plain)
    conn.executemany("UPDATE service SET next_due = ?, expiry_date = ?, updated_at = ? "
                     "WHERE id = ? AND next_due = ?", expiring)
    changelog.record_values(logs)
    affiliates.accrue(paid, actor)  # F4: one query for the batch
    _chased_no_more([invoice_id for invoice_id, _when in paid], actor)


# Every renewal line of the invoices (the item's current due date beside
# the line's), in set_paid's order: invoice, then its lines by position.
_RENEWALS_MANY_SQL = """
SELECT l.invoice_id, l.link_id, l.due_date, s.next_due, s.client_id, s.name, s.cycle, s.due_day,
       s.expiry_date
  FROM invoice_line l JOIN service s ON s.id = l.link_id
 WHERE l.invoice_id IN (SELECT value FROM json_each(?)) AND l.due_date IS NOT NULL
 ORDER BY l.invoice_id, l.position, l.id
"""


_RENEWALS_SQL = """
SELECT l.link_id, l.due_date, s.client_id, s.name, s.cycle, s.due_day, s.expiry_date
  FROM invoice_line l JOIN service s ON s.id = l.link_id AND s.next_due = l.due_date
 WHERE l.invoice_id = ? AND l.due_date IS NOT NULL
"""


def _advance_renewals(invoice_id: int, actor: str | None) -> None:
    """Paid renewals move their item's next due date on by exactly one
    cycle — only while the item is still due on the date the line billed,
    so a second call (or a line billed before a hand edit) moves nothing."""
    rows = database.execute_sql(_RENEWALS_SQL, (invoice_id,)).fetchall()
    stamp = now()
    for service_id, due_text, client_id, name, cycle, due_day, expiry in rows:
        if not cycles.is_recurring(cycle):
            continue
        due = dt.date.fromisoformat(due_text)
        new_due = cycles.next_due(due, cycle, due_day)
        changes: dict[str, Any] = {"next_due": new_due, "updated_at": stamp}
        if expiry:  # a renewed domain (or addon) runs a cycle longer, to its own day
            expires = dt.date.fromisoformat(expiry)
            changes["expiry_date"] = cycles.next_due(expires, cycle, expires.day)
        Service.update(**changes).where((Service.id == service_id)
                                        & (Service.next_due == due)).execute()
        changelog.record(client_id, "Renewal paid", field=f"{name} (#{service_id}) next due date",
                         old=due.isoformat(), new=new_due.isoformat(), actor=actor)


def set_status(invoice_id: int, status: str, *, actor: str | None = None) -> None:
    """Move a published, unsettled invoice between Unpaid and Collections.
    (Publishing, paying, cancelling and refunding have their own calls.)"""
    inv = get_invoice(invoice_id)
    if status not in ("Unpaid", "Collections"):
        raise InvalidInput("status", "set Unpaid or Collections here; publish, pay, cancel or "
                                     "refund for the others")
    if inv.status not in OWING:
        raise Conflict("status", f"invoice {inv.label} is {inv.status}")
    if inv.status == status:
        return
    with database.atomic():
        Invoice.update(status=status, updated_at=now()).where(Invoice.id == invoice_id).execute()
        changelog.record(inv.client_id, "", field=f"Invoice {inv.label} status", old=inv.status,
                         new=status, actor=actor)


def cancel_invoice(invoice_id: int, *, actor: str | None = None) -> InvoiceRecord:
    """Cancel an open invoice. Credit applied to it, and payments already
    taken on it, go to the client's credit so no money is lost."""
    inv = get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status == "Cancelled":
        raise Conflict("invoice", f"invoice {inv.label} is already cancelled")
    if inv.status == "Draft":
        raise Conflict("invoice", f"invoice {inv.label} is a draft: delete it instead")
    if inv.status not in OPEN:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; refund its payments instead")
    if inv.refunded:
        raise Conflict("invoice", f"invoice {inv.label} has refunds; it cannot be cancelled")
    with database.atomic():
        if inv.credit:
            credit.post(inv.client_id, inv.credit, "returned",
                        f"Credit returned from cancelled invoice {inv.label}", invoice_id=invoice_id)
        if inv.paid and not inv.is_add_funds:  # add-funds payments are credit already
            credit.post(inv.client_id, inv.paid, "returned",
                        f"Payments on cancelled invoice {inv.label} kept as credit",
                        invoice_id=invoice_id)
        Invoice.update(status="Cancelled", credit=0, updated_at=now()).where(
            Invoice.id == invoice_id).execute()
        # Its renewals are billed no longer: the next run invoices them again.
        InvoiceLine.update(due_date=None).where(InvoiceLine.invoice == invoice_id,
                                                InvoiceLine.due_date.is_null(False)).execute()
        changelog.record(inv.client_id, "", field=f"Invoice {inv.label} status", old=inv.status,
                         new="Cancelled", actor=actor)
        # its emails still waiting (created, reminders, notices) would ask for what is not owed
        from billdesk.services import mail, outbox

        mail.withhold_invoice_emails(invoice_id,
                                     f"{outbox.HELD_BACK}invoice {inv.label} was cancelled")
    return get_invoice(invoice_id)


def delete_draft(invoice_id: int, *, actor: str | None = None) -> None:
    """Drafts were never numbered, so removing one leaves no gap."""
    inv = get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    if inv.status != "Draft":
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; cancel it instead")
    with database.atomic():
        Invoice.delete().where(Invoice.id == invoice_id).execute()
        changelog.record(inv.client_id, f"Draft invoice {invoice_id} deleted", actor=actor)


def create_add_funds(client_id: int, amount: Any, *, due_date: Any = None,
                     actor: str | None = None) -> int:
    """An invoice whose payment becomes credit (B2); credit never pays it."""
    currency = _client_currency(client_id)
    value = amount_input(amount, currency, "amount")
    return create_invoice(client_id, [LineInput("Add funds to account credit", value.amount,
                                                False, "AddFunds")],
                          due_date=due_date, kind="add_funds", actor=actor)


def split_invoice(invoice_id: int, line_ids: Iterable[int], *, actor: str | None = None) -> int:
    """Move the given lines to a new invoice with the same header (B2).
    Only for open invoices with nothing paid or credited yet."""
    inv = get_invoice(invoice_id)
    clients.check_writable(inv.client_id)
    chosen = set(line_ids)
    if inv.status not in OPEN:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; only open invoices split")
    if inv.paid or inv.credit:
        raise Conflict("invoice", f"invoice {inv.label} has payments or credit; it cannot be split")
    known = {line.id for line in inv.lines}
    if not chosen:
        raise InvalidInput("lines", "choose the lines to move to the new invoice")
    if not chosen <= known:
        raise NotFound("lines", f"line(s) {sorted(chosen - known)} are not on invoice {inv.label}")
    if chosen == known:
        raise InvalidInput("lines", "leave at least one line on the original invoice")
    stamp = now()
    with database.atomic():
        new_id = Invoice.insert(
            client=inv.client_id, kind=inv.kind, status="Draft", date=inv.date,
            due_date=inv.due_date, currency=inv.currency, payment_method=inv.payment_method,
            tax1_name=inv.rates.name1, tax1_rate=str(inv.rates.rate1), tax2_name=inv.rates.name2,
            tax2_rate=str(inv.rates.rate2), tax_compound=inv.rates.compound,
            tax_inclusive=inv.rates.inclusive, notes=inv.notes, created_at=stamp, updated_at=stamp,
        ).execute()
        InvoiceLine.update(invoice=new_id).where(InvoiceLine.id.in_(list(chosen))).execute()
        _refresh_totals(invoice_id)
        _refresh_totals(new_id)
        changelog.record(inv.client_id, f"Invoice {inv.label} split: "
                                        f"{counted(len(chosen), 'line')} moved "
                         f"to a new invoice", actor=actor)
        if inv.status != "Draft":
            _publish(new_id, actor)  # Unpaid, or Paid when its total is 0
            if inv.status == "Collections" and _status(new_id) == "Unpaid":
                Invoice.update(status="Collections").where(Invoice.id == new_id).execute()
            if not get_invoice(invoice_id).total:  # what stays behind owes nothing
                set_paid(invoice_id, dt.date.today(), actor)
    return new_id


def _status(invoice_id: int) -> str:
    return Invoice.select(Invoice.status).where(Invoice.id == invoice_id).scalar()


# --- credit on invoices (P4)

def apply_credit(invoice_id: int, amount: Any = None, *, when: dt.date | None = None,
                 actor: str | None = None) -> Money:
    """Apply the client's credit to an open invoice; without an amount,
    min(credit balance, balance due). Covering it marks it Paid."""
    inv = get_invoice(invoice_id)
    if inv.is_add_funds:
        raise Conflict("invoice", "credit is never applied to an add-funds invoice")
    if inv.status not in OWING:
        raise Conflict("invoice", f"invoice {inv.label} is {inv.status}; credit goes on Unpaid invoices")
    available = credit.balance(inv.client_id)
    due = inv.balance
    if amount is None:
        value = min(available, due)
        if not value:
            raise Conflict("amount", "the client has no credit" if not available else "nothing is due")
    else:
        value = amount_input(amount, inv.currency, "amount")
        if value > available:
            raise Conflict("amount", f"is more than the credit balance ({available})")
        if value > due:
            raise Conflict("amount", f"is more than the balance due ({due})")
    with database.atomic():
        _apply(inv, value, when or dt.date.today(), actor)
    return value


def credit_texts(label: str, value: Money, covered: bool) -> tuple[str, str]:
    """The ledger entry's description and the change log's message for
    credit applied to an invoice (by hand, or to new invoices in bulk)."""
    return (f"Credit applied to invoice {label}",
            f"Credit {value} {value.currency} applied to invoice {label}"
            + (": paid in full" if covered else ""))


def _apply(inv: InvoiceRecord, value: Money, when: dt.date, actor: str | None) -> None:
    covered = value == inv.balance
    entry, message = credit_texts(inv.label, value, covered)
    credit.post(inv.client_id, -value, "applied", entry, invoice_id=inv.id, date=when)
    Invoice.update(credit=Invoice.credit + value.minor_units, updated_at=now()).where(
        Invoice.id == inv.id).execute()
    if covered:
        set_paid(inv.id, when, actor)
    changelog.record(inv.client_id, message, actor=actor)


def apply_credit_to_new_invoice(invoice_id: int, *, when: dt.date | None = None,
                                actor: str | None = None) -> Money:
    """For invoices the system generates (due invoices, recurring, items):
    take what credit there is. Covers it → Paid; else the balance due drops.
    Add-funds invoices are left alone. Call inside or outside a transaction."""
    inv = get_invoice(invoice_id)
    if inv.is_add_funds or inv.status not in OWING:
        return Money.zero(inv.currency)
    value = min(credit.balance(inv.client_id), inv.balance)
    if value:
        with database.atomic():
            _apply(inv, value, when or dt.date.today(), actor)
    return value


# --- late fees (B6: the calculation; the daily run decides when)

def late_fee_for(total: Money, settings: billing_settings.BillingSettings | None = None,
                 rates: dict[str, Decimal] | None = None) -> Money:
    """A fixed fee, or a percentage of the total with a minimum. The fixed
    fee and the minimum are set in the default currency: an invoice in
    another currency gets them converted at its stored exchange rate
    (``rates``: billing_settings.currencies(), read once by a caller that
    asks for many), rounded half-up — ¥5 is not a fee of 5.00 GBP. In a
    currency with no rate stored the amount is taken as it is written."""
    settings = settings or billing_settings.billing()
    amount = Decimal(settings.late_fee_amount)
    currency = total.currency
    if settings.late_fee_kind == "percent":
        fee = Money(total.amount * amount / 100, currency)
        if not amount:  # no percentage: no fee
            return fee
        minimum = _in_currency(Decimal(settings.late_fee_minimum), currency, rates)
        return minimum if fee < minimum else fee
    return _in_currency(amount, currency, rates)


def _in_currency(amount: Decimal, currency: str, rates: dict[str, Decimal] | None) -> Money:
    """A default-currency amount in ``currency`` (as written: no rate stored)."""
    rate = (rates if rates is not None else billing_settings.currencies()).get(currency)
    return Money(amount * (rate or 1), currency)


def add_late_fee(invoice_id: int, today: dt.date | None = None, *,
                 actor: str | None = None) -> Money | None:
    """Add the late fee line once, when the invoice is Unpaid and at least
    the set number of days overdue, unless the client opted out. Returns
    the fee added, or None when none applies."""
    today = today or dt.date.today()
    settings = billing_settings.billing()
    inv = get_invoice(invoice_id)
    if inv.status != "Unpaid" or inv.is_add_funds:
        return None
    if (today - inv.due_date).days < max(settings.late_fee_days, 1):
        return None
    if not Client.select(Client.late_fees).where(Client.id == inv.client_id).scalar():
        return None
    if database.execute_sql(  # B6: the client's group opted out
            "SELECT 1 FROM client c JOIN client_group g ON g.id = c.group_id "
            "WHERE c.id = ? AND g.late_fees = 0", (inv.client_id,)).fetchone():
        return None
    already = Invoice.select(Invoice.late_fee_date).where(Invoice.id == invoice_id).scalar()
    if already or any(line.type == "LateFee" for line in inv.lines):
        return None
    fee = late_fee_for(inv.total, settings)
    if not fee:
        return None
    lines = [ln.as_input() for ln in inv.lines]
    lines.append(LineInput(f"Late fee (invoice {inv.label}, due {inv.due_date.isoformat()})",
                           fee.amount, False, "LateFee"))
    with database.atomic():
        update_invoice(invoice_id, lines, actor=actor)
        Invoice.update(late_fee_date=today).where(Invoice.id == invoice_id).execute()
        changelog.record(inv.client_id, f"Late fee {fee} {inv.currency} added to invoice {inv.label}",
                         actor=actor)
    return fee


# --- the Invoices tab: pages of plain rows, newest first (keyset on date, id)

@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    number: str | None
    kind: str
    date: dt.date
    due_date: dt.date
    paid_date: dt.date | None
    total: Money
    balance: Money
    status: str
    payment_method: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.date.isoformat(), self.id)


_PAGE_SQL = """
SELECT id, number, kind, date, due_date, paid_date, total, credit, paid, status, payment_method
  FROM invoice
 WHERE client_id = ? {status} {after}
 ORDER BY date DESC, id DESC
 LIMIT ?
"""


def page(client_id: int, *, status: str | None = None, after: tuple[str, int] | None = None,
         limit: int = 200, currency: str | None = None) -> list[InvoiceRow]:
    """One page of a client's invoices (the rows after ``after``'s key)."""
    currency = currency or _client_currency(client_id)
    params: list[Any] = [client_id]
    status_sql = after_sql = ""
    if status:
        status_sql = "AND status = ?"
        params.append(status)
    if after is not None:
        after_sql = "AND (date < ? OR (date = ? AND id < ?))"
        params += [after[0], after[0], after[1]]
    params.append(limit)
    rows = database.execute_sql(_PAGE_SQL.format(status=status_sql, after=after_sql), params).fetchall()
    m = Money.from_minor
    date = dt.date.fromisoformat
    out = []
    for iid, number, kind, d, due, paid_date, total, credit_units, paid, st, method in rows:
        due_units = total - credit_units - paid if st in OPEN else 0
        out.append(InvoiceRow(iid, number, kind, date(d), date(due),
                              date(paid_date) if paid_date else None, m(total, currency),
                              m(max(due_units, 0), currency), st, method))
    return out


def count(client_id: int, status: str | None = None) -> int:
    query = Invoice.select().where(Invoice.client == client_id)
    if status:
        query = query.where(Invoice.status == status)
    return query.count()
