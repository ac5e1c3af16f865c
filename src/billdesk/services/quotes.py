"""Quotes (B4): a priced proposal for a client that may become an invoice.

A quote has a subject, a stage (Draft, Delivered, On hold, Accepted, Lost,
Dead), the day it was made and the day it is valid until, lines (description,
quantity, unit price, discount %, taxed), the proposal text, notes for the
customer and notes for the admin. Like an invoice, its tax rates are taken
from the client's tax rules and fixed on the quote each time it is saved,
and the stored ``subtotal``, ``tax1``, ``tax2`` and ``total`` are always what
``taxes.compute`` gives for the stored line amounts under those rates.

A line's amount is quantity × unit price less the discount percent, rounded
half-up to the minor unit once (SPEC.md "Money rules").

Converting a quote makes one published invoice with the quote's lines and
the quote's tax rates, marks the quote Accepted and links the invoice; a
second conversion is refused (``quote.invoice_id`` is UNIQUE as well).

"Current" quotes (the Summary tab's list) are those valid until today or
later whose stage is still open: not Accepted, Lost or Dead.

Every write is one transaction and is logged on the client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Client, Invoice, Quote, QuoteLine, database, now
from billdesk.money import Money
from billdesk.services import changelog, clients, invoicing, taxes
from billdesk.services.amounts import amount_input, date_input

STAGES = ("Draft", "Delivered", "On hold", "Accepted", "Lost", "Dead")
CLOSED_STAGES = ("Accepted", "Lost", "Dead")  # no longer offered: not "current"
VALID_DAYS = 30  # a new quote is valid this many days unless told otherwise
MAX_LINES = invoicing.MAX_LINES
MAX_QUANTITY = Decimal("1000000")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LineInput:
    """One quote line as typed: quantity, unit price and discount are text
    or Decimal until checked."""

    description: str
    unit_price: Any
    quantity: Any = "1"
    discount: Any = "0"
    taxed: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    description: str
    quantity: Decimal
    unit_price: Money
    discount: Decimal
    amount: Money
    taxed: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description,
                "quantity": _plain(self.quantity), "unit_price": str(self.unit_price),
                "discount": _plain(self.discount), "amount": str(self.amount),
                "taxed": self.taxed}

    def as_input(self) -> LineInput:
        return LineInput(self.description, self.unit_price.amount, self.quantity, self.discount,
                         self.taxed)

    @property
    def invoice_description(self) -> str:
        """The line as it reads on the invoice made from the quote: the
        description alone for one unit at full price, else WHMCS's
        "2 x Description @ 10.00 (5% discount)"."""
        text = self.description
        if self.quantity != 1:
            text = f"{_plain(self.quantity)} x {text} @ {self.unit_price}"
        if self.discount:
            text += f" ({_plain(self.discount)}% discount)"
        return text


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    id: int
    client_id: int
    subject: str
    stage: str
    date: dt.date
    valid_until: dt.date
    currency: str
    rates: taxes.TaxRates
    subtotal: Money
    tax1: Money
    tax2: Money
    total: Money
    proposal: str
    customer_notes: str
    admin_notes: str
    invoice_id: int | None
    lines: list[Line] = field(default_factory=list)

    @property
    def tax(self) -> Money:
        return self.tax1 + self.tax2

    @property
    def converted(self) -> bool:
        return self.invoice_id is not None

    def is_current(self, today: dt.date | None = None) -> bool:
        return self.stage not in CLOSED_STAGES and self.valid_until >= (today or dt.date.today())

    @property
    def label(self) -> str:
        return f"Quote #{self.id}" + (f" ({self.subject})" if self.subject else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "client_id": self.client_id, "subject": self.subject,
            "stage": self.stage, "date": self.date.isoformat(),
            "valid_until": self.valid_until.isoformat(), "currency": self.currency,
            "subtotal": str(self.subtotal), "tax": str(self.tax),
            "tax1": {"name": self.rates.name1, "rate": _plain(self.rates.rate1),
                     "amount": str(self.tax1)},
            "tax2": {"name": self.rates.name2, "rate": _plain(self.rates.rate2),
                     "amount": str(self.tax2)},
            "tax_inclusive": self.rates.inclusive, "tax_compound": self.rates.compound,
            "total": str(self.total), "proposal": self.proposal,
            "customer_notes": self.customer_notes, "admin_notes": self.admin_notes,
            "invoice_id": self.invoice_id, "lines": [line.as_json() for line in self.lines],
        }


def _plain(value: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: "2", "1.5"."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


# --- lines

def line_amount(quantity: Decimal, unit_price: Money, discount: Decimal) -> Money:
    """quantity × unit price less ``discount`` percent, rounded half-up once."""
    return Money(quantity * unit_price.amount * (HUNDRED - discount) / HUNDRED, unit_price.currency)


def _decimal(value: Any, field_name: str, what: str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise TypeError(f"{what} must not be a {type(value).__name__}")
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text:
            raise InvalidInput(field_name, "is required")
        if "," in text:  # "1,000" or "1,5"? refused rather than guessed
            raise InvalidInput(field_name, f"{text!r}: write the number without commas, with a "
                                           "dot for decimals (1000, 1.5)")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(field_name, f"{text!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInput(field_name, f"{value!r} is not a number")
    return number


@dataclass(frozen=True, slots=True)
class CheckedLine:
    description: str
    quantity: Decimal
    unit_price: Money
    discount: Decimal
    amount: Money
    taxed: bool


def check_line(line: LineInput, currency: str, n: int = 1) -> tuple[CheckedLine | None, list[Problem]]:
    """One line checked: the line, or the problems naming ``lines[N].…``."""
    problems: list[Problem] = []
    where = f"lines[{n}]"
    description = (line.description or "").strip()
    if not description:
        problems.append(Problem(f"{where}.description", "is required"))
    elif len(description) > 1000:
        problems.append(Problem(f"{where}.description", "must be 1000 characters or fewer"))
    quantity = discount = None
    unit = None
    try:
        quantity = _decimal(line.quantity, f"{where}.quantity", "quantity")
        if quantity <= 0:
            problems.append(Problem(f"{where}.quantity", "must be more than 0"))
        elif quantity > MAX_QUANTITY:
            problems.append(Problem(f"{where}.quantity", f"must be at most {MAX_QUANTITY}"))
        elif quantity != quantity.quantize(Decimal("0.0001")):
            problems.append(Problem(f"{where}.quantity", "has more than 4 decimals"))
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    try:
        unit = amount_input(line.unit_price, currency, f"{where}.unit_price", negative_ok=True)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    try:
        discount = _decimal(line.discount if line.discount not in (None, "") else "0",
                            f"{where}.discount", "discount")
        if not 0 <= discount <= 100:
            problems.append(Problem(f"{where}.discount", "must be between 0 and 100 (%)"))
        elif discount != discount.quantize(Decimal("0.01")):
            problems.append(Problem(f"{where}.discount", "has more than 2 decimals"))
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if problems or quantity is None or unit is None or discount is None:
        return None, problems
    return CheckedLine(description, quantity.normalize(), unit, discount.normalize(),
                       line_amount(quantity, unit, discount), bool(line.taxed)), []


def check_lines(lines: Sequence[LineInput], currency: str) -> list[CheckedLine]:
    """Every problem with every line at once (fields ``lines[N].…``)."""
    if len(lines) > MAX_LINES:
        raise InvalidInput("lines", f"a quote holds at most {MAX_LINES} lines")
    problems: list[Problem] = []
    checked: list[CheckedLine] = []
    for n, line in enumerate(lines, start=1):
        ok, found = check_line(line, currency, n)
        problems += found
        if ok is not None:
            checked.append(ok)
    if problems:
        raise ValidationFailed(problems)
    return checked


def preview(lines: Iterable[tuple[Money, bool]], rates: taxes.TaxRates, currency: str) -> taxes.Totals:
    """Totals for the editor as the user types (no database)."""
    return taxes.compute(lines, rates, currency)


def _check_totals(totals: taxes.Totals) -> None:
    if totals.total.amount < 0:
        raise InvalidInput("lines", f"the total would be {totals.total}; a quote cannot be negative")
    if totals.tax1.amount < 0 or totals.tax2.amount < 0:
        raise InvalidInput("lines", "the taxed lines add up to less than zero; mark the discount "
                                    "line untaxed or lower it")
    if max(abs(totals.total.minor_units), abs(totals.subtotal.minor_units)) > invoicing.MAX_TOTAL_UNITS:
        raise InvalidInput("lines", f"the total would be {totals.total}, more than billdesk keeps")


# --- reading

def _record(q: Any, lines: list[Line]) -> QuoteRecord:
    cur = q.currency
    m = Money.from_minor
    return QuoteRecord(
        q.id, q.client_id, q.subject, q.stage, q.date, q.valid_until, cur,
        taxes.TaxRates(Decimal(q.tax1_rate), Decimal(q.tax2_rate), bool(q.tax_compound),
                       bool(q.tax_inclusive), q.tax1_name, q.tax2_name),
        m(q.subtotal, cur), m(q.tax1, cur), m(q.tax2, cur), m(q.total, cur),
        q.proposal, q.customer_notes, q.admin_notes, q.invoice_id, lines)


def _lines_of(quote_ids: Sequence[int], currencies: dict[int, str]) -> dict[int, list[Line]]:
    found: dict[int, list[Line]] = {qid: [] for qid in quote_ids}
    for start in range(0, len(quote_ids), 500):
        part = list(quote_ids[start:start + 500])
        rows = (QuoteLine.select(QuoteLine.quote, QuoteLine.id, QuoteLine.description,
                                 QuoteLine.quantity, QuoteLine.unit_price, QuoteLine.discount,
                                 QuoteLine.amount, QuoteLine.taxed)
                .where(QuoteLine.quote.in_(part))
                .order_by(QuoteLine.quote, QuoteLine.position, QuoteLine.id).tuples())
        for owner, lid, desc, qty, unit, disc, amount, taxed in rows:
            cur = currencies[owner]
            found[owner].append(Line(lid, desc, Decimal(qty), Money.from_minor(unit, cur),
                                     Decimal(disc), Money.from_minor(amount, cur), bool(taxed)))
    return found


def _records(query: Any) -> list[QuoteRecord]:
    rows = list(query)
    lines = _lines_of([q.id for q in rows], {q.id: q.currency for q in rows})
    return [_record(q, lines[q.id]) for q in rows]


def get_quote(quote_id: int) -> QuoteRecord:
    found = _records(Quote.select().where(Quote.id == quote_id))
    if not found:
        raise NotFound("quote", f"no quote #{quote_id}")
    return found[0]


def list_quotes(client_id: int, stage: str | None = None) -> list[QuoteRecord]:
    """The client's quotes, newest first, optionally of one stage."""
    _client_currency(client_id)
    query = Quote.select().where(Quote.client == client_id)
    if stage is not None:
        query = query.where(Quote.stage == check_stage(stage))
    return _records(query.order_by(Quote.date.desc(), Quote.id.desc()))


def current_quotes(client_id: int, today: dt.date | None = None) -> list[QuoteRecord]:
    """Quotes still on offer: valid until today or later and not Accepted,
    Lost or Dead; the soonest to run out first."""
    _client_currency(client_id)
    today = today or dt.date.today()
    query = (Quote.select().where(Quote.client == client_id, Quote.valid_until >= today,
                                  Quote.stage.not_in(CLOSED_STAGES))
             .order_by(Quote.valid_until, Quote.id))
    return _records(query)


def count(client_id: int) -> int:
    return Quote.select().where(Quote.client == client_id).count()


def count_current(client_id: int, today: dt.date | None = None) -> int:
    """How many quotes current_quotes would list (C4)."""
    return Quote.select().where(Quote.client == client_id,
                                Quote.valid_until >= (today or dt.date.today()),
                                Quote.stage.not_in(CLOSED_STAGES)).count()


# --- writing

def _client_currency(client_id: int) -> str:
    return clients.client_currency(client_id)


def check_stage(value: Any, field_name: str = "stage") -> str:
    text = str(value or "").strip().lower()
    for known in STAGES:
        if text == known.lower():
            return known
    raise InvalidInput(field_name, f"{str(value)!r}: must be one of {', '.join(STAGES)}")


def _write_lines(quote_id: int, checked: Sequence[CheckedLine]) -> None:
    QuoteLine.delete().where(QuoteLine.quote == quote_id).execute()
    if checked:
        QuoteLine.insert_many([
            {"quote": quote_id, "position": pos, "description": ln.description,
             "quantity": _plain(ln.quantity), "unit_price": ln.unit_price.minor_units,
             "discount": _plain(ln.discount), "amount": ln.amount.minor_units, "taxed": ln.taxed}
            for pos, ln in enumerate(checked, start=1)
        ]).execute()


def _tax_columns(rates: taxes.TaxRates, totals: taxes.Totals) -> dict[str, Any]:
    return {"tax1_name": rates.name1, "tax1_rate": str(rates.rate1), "tax2_name": rates.name2,
            "tax2_rate": str(rates.rate2), "tax_compound": rates.compound,
            "tax_inclusive": rates.inclusive, "subtotal": totals.subtotal.minor_units,
            "tax1": totals.tax1.minor_units, "tax2": totals.tax2.minor_units,
            "total": totals.total.minor_units}


def _text(value: Any, name: str, limit: int, problems: list[Problem]) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        problems.append(Problem(name, f"must be {limit} characters or fewer"))
    return text


def create_quote(client_id: int, lines: Sequence[LineInput] = (), *, subject: str = "",
                 stage: str = "Draft", date: Any = None, valid_until: Any = None,
                 proposal: str = "", customer_notes: str = "", admin_notes: str = "",
                 actor: str | None = None) -> int:
    """A new quote in the client's currency with the client's tax. The date
    defaults to today, valid-until to 30 days later."""
    currency = _client_currency(client_id)
    clients.check_writable(client_id)  # C11: an archived client is read-only
    problems: list[Problem] = []
    when = until = None
    try:
        when = date_input(date, "date") if date not in (None, "") else dt.date.today()
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    try:
        until = (date_input(valid_until, "valid_until") if valid_until not in (None, "")
                 else (when or dt.date.today()) + dt.timedelta(days=VALID_DAYS))
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if when and until and until < when:
        problems.append(Problem("valid_until", "must not be before the quote date"))
    try:
        stage = check_stage(stage)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    texts = {"subject": _text(subject, "subject", 200, problems),
             "proposal": _text(proposal, "proposal", 20000, problems),
             "customer_notes": _text(customer_notes, "customer_notes", 20000, problems),
             "admin_notes": _text(admin_notes, "admin_notes", 20000, problems)}
    checked: list[CheckedLine] = []
    try:
        checked = check_lines(lines, currency)
    except ValidationFailed as exc:
        problems += exc.problems
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if problems:
        raise ValidationFailed(problems)
    rates = invoicing.rates_for_client(client_id)
    totals = taxes.compute(((ln.amount, ln.taxed) for ln in checked), rates, currency)
    _check_totals(totals)
    stamp = now()
    with database.atomic():
        quote_id = Quote.insert(client=client_id, stage=stage, date=when, valid_until=until,
                                currency=currency, created_at=stamp, updated_at=stamp,
                                **texts, **_tax_columns(rates, totals)).execute()
        _write_lines(quote_id, checked)
        if stage == "Delivered":  # E1: the quote goes out with its PDF
            from billdesk.services import mail

            mail.quote_delivered(quote_id, client_id)
        changelog.record(client_id, f"Quote #{quote_id} created"
                         + (f" ({texts['subject']})" if texts["subject"] else "")
                         + f": total {totals.total} {currency}, stage {stage}, valid until "
                         f"{until.isoformat()}", actor=actor)
    return quote_id


def update_quote(quote_id: int, lines: Sequence[LineInput] | None = None, *,
                 subject: str | None = None, stage: str | None = None, date: Any = None,
                 valid_until: Any = None, proposal: str | None = None,
                 customer_notes: str | None = None, admin_notes: str | None = None,
                 actor: str | None = None) -> QuoteRecord:
    """Change a quote. Saving lines takes the client's tax rates of today.
    A converted quote keeps its lines, dates and stage (its invoice was made
    from them); its subject and notes may still change."""
    q = get_quote(quote_id)
    clients.check_writable(q.client_id)
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    if q.converted and (lines is not None or date not in (None, "") or valid_until not in (None, "")
                        or (stage is not None and check_stage(stage) != q.stage)):
        raise Conflict("quote", f"quote #{q.id} was converted to an invoice; its lines, dates "
                                "and stage no longer change")
    when, until = q.date, q.valid_until
    if date not in (None, ""):
        try:
            when = date_input(date, "date")
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    if valid_until not in (None, ""):
        try:
            until = date_input(valid_until, "valid_until")
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    if until < when:
        problems.append(Problem("valid_until", "must not be before the quote date"))
    new_stage = q.stage
    if stage is not None:
        try:
            new_stage = check_stage(stage)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    for name, value, limit in (("subject", subject, 200), ("proposal", proposal, 20000),
                               ("customer_notes", customer_notes, 20000),
                               ("admin_notes", admin_notes, 20000)):
        if value is not None:
            changes[name] = _text(value, name, limit, problems)
    checked = None
    if lines is not None:
        try:
            checked = check_lines(lines, q.currency)
        except ValidationFailed as exc:
            problems += exc.problems
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    if problems:
        raise ValidationFailed(problems)
    if checked is not None:
        rates = invoicing.rates_for_client(q.client_id)
        totals = taxes.compute(((ln.amount, ln.taxed) for ln in checked), rates, q.currency)
        _check_totals(totals)
        changes.update(_tax_columns(rates, totals))
    changes.update(date=when, valid_until=until, stage=new_stage)
    with database.atomic():
        Quote.update(**changes, updated_at=now()).where(Quote.id == quote_id).execute()
        if checked is not None:
            _write_lines(quote_id, checked)
            if changes["total"] != q.total.minor_units:
                changelog.record(q.client_id, "", field=f"Quote #{q.id} total", old=str(q.total),
                                 new=str(Money.from_minor(changes["total"], q.currency)),
                                 actor=actor)
        for name, old, new in (("date", q.date.isoformat(), when.isoformat()),
                               ("valid until", q.valid_until.isoformat(), until.isoformat()),
                               ("stage", q.stage, new_stage),
                               ("subject", q.subject, changes.get("subject", q.subject))):
            if old != new:
                changelog.record(q.client_id, "", field=f"Quote #{q.id} {name}", old=old, new=new,
                                 actor=actor)
        if new_stage == "Delivered" and q.stage != "Delivered":  # E1
            from billdesk.services import mail

            mail.quote_delivered(quote_id, q.client_id)
    return get_quote(quote_id)


def set_stage(quote_id: int, stage: str, *, actor: str | None = None) -> QuoteRecord:
    """Move a quote to another stage (logged on the client). A converted
    quote stays Accepted."""
    q = get_quote(quote_id)
    clients.check_writable(q.client_id)
    new = check_stage(stage)
    if new == q.stage:
        return q
    if q.converted:
        raise Conflict("stage", f"quote #{q.id} was converted to an invoice and stays Accepted")
    with database.atomic():
        Quote.update(stage=new, updated_at=now()).where(Quote.id == quote_id).execute()
        changelog.record(q.client_id, "", field=f"Quote #{q.id} stage", old=q.stage, new=new,
                         actor=actor)
        if new == "Delivered":  # E1: the quote goes out with its PDF
            from billdesk.services import mail

            mail.quote_delivered(quote_id, q.client_id)
    return get_quote(quote_id)


def convert(quote_id: int, *, date: Any = None, actor: str | None = None) -> int:
    """Make the quote into one published invoice dated ``date`` (default
    today) and due that day, with the quote's lines and tax rates; the
    quote becomes Accepted and links the invoice. A second conversion is
    refused. Returns the invoice id."""
    q = get_quote(quote_id)
    clients.check_writable(q.client_id)
    if q.converted:
        raise Conflict("quote", f"quote #{q.id} was already converted to invoice "
                                f"{_invoice_label(q.invoice_id)}")
    if not q.lines:
        raise Conflict("quote", f"quote #{q.id} has no lines to invoice")
    lines = [invoicing.LineInput(ln.invoice_description, ln.amount.amount, ln.taxed)
             for ln in q.lines]
    with database.atomic():
        # taken again inside the transaction: two conversions at once make one invoice
        if Quote.select(Quote.invoice).where(Quote.id == quote_id).scalar() is not None:
            raise Conflict("quote", f"quote #{q.id} was already converted to an invoice")
        # the invoice charges what the quote said, not today's rules
        invoice_id = invoicing.create_invoice(q.client_id, lines, notes=q.customer_notes,
                                              date=date, due_date=date, rates=q.rates,
                                              actor=actor)
        number = Invoice.select(Invoice.number).where(Invoice.id == invoice_id).scalar()
        Quote.update(stage="Accepted", invoice=invoice_id, updated_at=now()).where(
            Quote.id == quote_id).execute()
        changelog.record(q.client_id, f"Quote #{q.id} converted to invoice #{number}",
                         field=f"Quote #{q.id} stage", old=q.stage, new="Accepted", actor=actor)
    return invoice_id


def _invoice_label(invoice_id: int | None) -> str:
    number = Invoice.select(Invoice.number).where(Invoice.id == invoice_id).scalar()
    return f"#{number}" if number else f"id {invoice_id}"


def delete_quote(quote_id: int, *, actor: str | None = None) -> None:
    """Delete a quote and its lines; an invoice made from it stays."""
    q = get_quote(quote_id)
    clients.check_writable(q.client_id)
    with database.atomic():
        Quote.delete().where(Quote.id == quote_id).execute()
        changelog.record(q.client_id, f"{q.label} deleted (stage {q.stage}, total {q.total} "
                         f"{q.currency})", actor=actor)


def expire(today: dt.date | None = None, *, actor: str | None = "automation") -> list[int]:
    """The automation's "expire quotes" step (WHMCS): open quotes (Draft,
    Delivered, On hold) whose valid-until date has passed become Dead, each
    logged on its client, all in one transaction. Returns their ids."""
    today = today or dt.date.today()
    with database.atomic():  # read under the write lock: a quote converted meanwhile stays
        rows = list(Quote.select(Quote.id, Quote.client, Quote.stage)
                    .where(Quote.valid_until < today, Quote.stage.not_in(CLOSED_STAGES),
                           Quote.invoice.is_null()).order_by(Quote.id).tuples())
        if not rows:
            return []
        Quote.update(stage="Dead", updated_at=now()).where(
            Quote.id.in_([r[0] for r in rows])).execute()
        for quote_id, client_id, stage in rows:
            changelog.record(client_id, "Quote expired", field=f"Quote #{quote_id} stage",
                             old=stage, new="Dead", actor=actor)
    return [r[0] for r in rows]
