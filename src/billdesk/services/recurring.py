"""Recurring invoices (B5, as HostBill): a template of lines issued as a
new invoice every N months or years from a start date, ``count`` times in
all or until an end date (or until stopped, with neither).

The template's dates are counted from the start date, keeping its day of
month (the month's last day when shorter): 31 Jan → 28 Feb → 31 Mar.
``billing_run.generate_due`` issues a template ON its date (not ahead by
the lead days): each issue is an invoice dated the template date, due
``due_days`` later, with the template's lines, the client's tax and the
template's payment method (the client's when empty); the invoice carries
``recurring_id``/``recurring_date`` under a unique index, so one date is
never issued twice. After the last issue the template is Finished."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Client, RecurringInvoice, RecurringLine, database, now
from billdesk.money import Money
from billdesk.services import billing_settings, changelog, clients, cycles, invoicing
from billdesk.services.amounts import date_input
from billdesk.services.text import counted

UNITS = ("month", "year")
STATUSES = ("Active", "Finished", "Stopped")
MAX_EVERY = 120
MAX_COUNT = 10000
MAX_DUE_DAYS = 3650


@dataclass(frozen=True, slots=True)
class TemplateLine:
    description: str
    amount: Money
    taxed: bool

    def as_json(self) -> dict[str, Any]:
        return {"description": self.description, "amount": str(self.amount), "taxed": self.taxed}


@dataclass(frozen=True, slots=True)
class RecurringRecord:
    id: int
    client_id: int
    every: int
    unit: str
    start_date: dt.date
    next_date: dt.date | None
    count: int | None
    until: dt.date | None
    issued: int
    status: str
    due_days: int
    payment_method: str
    notes: str
    lines: list[TemplateLine] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.lines[0].amount.currency if self.lines else ""

    @property
    def total(self) -> Money | None:
        """The lines' sum before tax."""
        if not self.lines:
            return None
        return sum((line.amount for line in self.lines[1:]), self.lines[0].amount)

    @property
    def description(self) -> str:
        first = self.lines[0].description if self.lines else ""
        return first + (f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else "")

    def schedule(self) -> str:
        unit = f"{self.unit}{'s' if self.every != 1 else ''}"
        text = f"Every {self.every} {unit}"
        if self.count:
            text += f", {self.issued} of {self.count} issued"
        elif self.until:
            text += f" until {self.until.isoformat()}"
        return text

    def as_json(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "id": self.id, "client_id": self.client_id, "every": self.every, "unit": self.unit,
            "start_date": iso(self.start_date), "next_date": iso(self.next_date),
            "count": self.count, "until": iso(self.until), "issued": self.issued,
            "status": self.status, "due_days": self.due_days,
            "payment_method": self.payment_method, "notes": self.notes,
            "total": str(self.total) if self.total is not None else None,
            "lines": [line.as_json() for line in self.lines],
        }


def date_of(start: dt.date, every: int, unit: str, issued: int) -> dt.date:
    """The date of issue number ``issued`` (0 = the start date)."""
    months = every * issued * (12 if unit == "year" else 1)
    return cycles.add_months(start, months, start.day)


def next_state(start: dt.date, every: int, unit: str, issued: int, count: int | None,
               until: dt.date | None) -> tuple[dt.date | None, str]:
    """(next date, status) after ``issued`` issues: Finished when the count
    is reached or the next date falls after ``until``."""
    if count is not None and issued >= count:
        return None, "Finished"
    try:
        upcoming = date_of(start, every, unit, issued)
    except InvalidInput:  # past the calendar's end
        return None, "Finished"
    if until is not None and upcoming > until:
        return None, "Finished"
    return upcoming, "Active"


def _whole(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise InvalidInput(field_name, f"{value!r} is not a whole number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(field_name, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise InvalidInput(field_name, f"must be between {low} and {high}")
    return number


def _lines(lines: Any) -> list[invoicing.LineInput]:
    out = []
    for line in lines or ():
        if isinstance(line, invoicing.LineInput):
            out.append(line)
        elif isinstance(line, TemplateLine):
            out.append(invoicing.LineInput(line.description, line.amount.amount, line.taxed))
        else:  # (description, amount[, taxed])
            description, amount, *rest = line
            out.append(invoicing.LineInput(description, amount, bool(rest[0]) if rest else False))
    return out


def check(values: dict[str, Any], currency: str) -> dict[str, Any]:
    """Every problem with a template as typed, at once, or clean values.
    Keys: lines, every, unit, start_date, count, until, due_days,
    payment_method, notes."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
            return None

    lines = _lines(values.get("lines"))
    if not lines:
        problems.append(Problem("item", "a recurring invoice needs at least one line"))
        out["lines"] = []
    else:
        try:
            checked = invoicing.check_lines(lines, currency)
            out["lines"] = checked
            if sum((amount.amount for _line, amount in checked), Decimal(0)) <= 0:
                problems.append(Problem("item", "the lines must add up to more than 0"))
        except ValidationFailed as exc:
            problems += exc.problems
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    out["every"] = attempt(_whole, values.get("every", 1), "every", 1, MAX_EVERY)
    unit = str(values.get("unit") or "month").strip().lower()
    unit = unit[:-1] if unit.endswith("s") else unit
    if unit not in UNITS:
        problems.append(Problem("unit", f"{values.get('unit')!r}: use month or year"))
    out["unit"] = unit
    start = values.get("start_date")
    out["start_date"] = attempt(date_input, start if start not in (None, "") else "", "start")
    count, until = values.get("count"), values.get("until")
    has_count = count not in (None, "")
    has_until = until not in (None, "")
    if has_count and has_until:
        problems.append(Problem("count", "give a count or an end date, not both"))
    out["count"] = attempt(_whole, count, "count", 1, MAX_COUNT) if has_count else None
    out["until"] = attempt(date_input, until, "until") if has_until else None
    if out["until"] and out["start_date"] and out["until"] < out["start_date"]:
        problems.append(Problem("until", "must not be before the start date"))
    days = values.get("due_days")
    out["due_days"] = attempt(_whole, days, "due_days", 0, MAX_DUE_DAYS) \
        if days not in (None, "") else 0
    out["payment_method"] = attempt(billing_settings.check_payment_method,
                                    values.get("payment_method") or "", "payment_method") or ""
    out["notes"] = str(values.get("notes") or "").strip()
    if problems:
        raise ValidationFailed(problems)
    return out


# --- reading

def _currency(client_id: int) -> str:
    return clients.client_currency(client_id)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _records(where: Any) -> list[RecurringRecord]:
    rows = list(RecurringInvoice.select(RecurringInvoice, Client.currency)
                .join(Client, on=(RecurringInvoice.client == Client.id)).where(where)
                .order_by(RecurringInvoice.id.desc()).objects())
    if not rows:
        return []
    lines: dict[int, list[TemplateLine]] = {}
    currencies = {r.id: r.currency for r in rows}
    for rid, description, amount, taxed in (
            RecurringLine.select(RecurringLine.recurring, RecurringLine.description,
                                 RecurringLine.amount, RecurringLine.taxed)
            .where(RecurringLine.recurring.in_([r.id for r in rows]))
            .order_by(RecurringLine.recurring, RecurringLine.position).tuples()):
        lines.setdefault(rid, [])
        currency = currencies[rid]
        lines[rid].append(TemplateLine(description, Money.from_minor(amount, currency),
                                       bool(taxed)))
    return [RecurringRecord(r.id, r.client_id, r.every, r.unit, _date(r.start_date),
                            _date(r.next_date), r.count, _date(r.until), r.issued, r.status,
                            r.due_days, r.payment_method, r.notes, lines.get(r.id, []))
            for r in rows]


def get_recurring(recurring_id: int) -> RecurringRecord:
    found = _records(RecurringInvoice.id == recurring_id)
    if not found:
        raise NotFound("id", f"no recurring invoice #{recurring_id}")
    return found[0]


def list_recurring(client_id: int, statuses: tuple[str, ...] | None = None
                   ) -> list[RecurringRecord]:
    """The client's templates (of these statuses; None = all), newest first."""
    _currency(client_id)
    where = RecurringInvoice.client == client_id
    if statuses is not None:
        where &= RecurringInvoice.status.in_(statuses)
    return _records(where)


def active(client_id: int) -> list[RecurringRecord]:
    """Active templates, the next to issue first (the Summary tab)."""
    found = list_recurring(client_id, ("Active",))
    return sorted(found, key=lambda r: (r.next_date or dt.date.max, r.id))


# --- writing

def _write_lines(recurring_id: int, checked: list) -> None:
    RecurringLine.delete().where(RecurringLine.recurring == recurring_id).execute()
    RecurringLine.insert_many([
        {"recurring": recurring_id, "position": pos, "description": line.description,
         "amount": amount.minor_units, "taxed": line.taxed}
        for pos, (line, amount) in enumerate(checked, start=1)]).execute()


def add_recurring(client_id: int, lines: Any, *, every: Any = 1, unit: str = "month",
                  start_date: Any = None, count: Any = None, until: Any = None,
                  due_days: Any = 0, payment_method: str = "", notes: str = "",
                  actor: str | None = None) -> int:
    """A new Active template. ``lines``: LineInput or (description, amount
    [, taxed]) tuples. A start date in the past is issued (each missed
    date) by the next generation."""
    currency = _currency(client_id)
    clients.check_writable(client_id)  # C11: an archived client is read-only
    clean = check({"lines": lines, "every": every, "unit": unit, "start_date": start_date,
                   "count": count, "until": until, "due_days": due_days,
                   "payment_method": payment_method, "notes": notes}, currency)
    checked = clean.pop("lines")
    next_date, status = next_state(clean["start_date"], clean["every"], clean["unit"], 0,
                                   clean["count"], clean["until"])
    stamp = now()
    with database.atomic():
        rid = RecurringInvoice.insert(client=client_id, next_date=next_date, status=status,
                                      created_at=stamp, updated_at=stamp, **clean).execute()
        _write_lines(rid, checked)
        record = get_recurring(rid)
        changelog.record(client_id, f"Recurring invoice #{rid} created: {record.total} {currency}, "
                         f"{record.schedule().lower()}, from {record.start_date.isoformat()}",
                         actor=actor)
    return rid


def edit_recurring(recurring_id: int, *, actor: str | None = None, **changes: Any
                   ) -> RecurringRecord:
    """Change a template (lines, every, unit, start_date, count, until,
    due_days, payment_method, notes). Issues already made stay; the next
    date is counted again from the start date. The start date and the
    schedule (every, unit) are fixed once an invoice was issued; a count
    below the issues made is refused."""
    allowed = {"lines", "every", "unit", "start_date", "count", "until", "due_days",
               "payment_method", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed here")
    old = get_recurring(recurring_id)
    clients.check_writable(old.client_id)
    values = {"lines": old.lines, "every": old.every, "unit": old.unit,
              "start_date": old.start_date, "count": old.count, "until": old.until,
              "due_days": old.due_days, "payment_method": old.payment_method, "notes": old.notes}
    values.update(changes)
    clean = check(values, _currency(old.client_id))
    if old.issued and clean["start_date"] != old.start_date:
        raise Conflict("start", f"{counted(old.issued, 'invoice was', 'invoices were')} issued "
                                "from this start date")
    for name, field in (("every", "every"), ("unit", "unit")):
        # the dates already issued were counted with the old step: counting
        # again with a new one would bill some periods twice and skip others
        if old.issued and clean[name] != getattr(old, name):
            raise Conflict(field, f"{counted(old.issued, 'invoice was', 'invoices were')} issued "
                                  "on this schedule; stop "
                                  "this recurring invoice and start a new one")
    if clean["count"] is not None and clean["count"] < old.issued:
        raise InvalidInput("count", f"{counted(old.issued, 'invoice was', 'invoices were')} "
                                    "issued already")
    checked = clean.pop("lines")
    next_date, status = next_state(clean["start_date"], clean["every"], clean["unit"],
                                   old.issued, clean["count"], clean["until"])
    if old.status == "Stopped":
        next_date, status = None, "Stopped"
    with database.atomic():
        RecurringInvoice.update(next_date=next_date, status=status, updated_at=now(), **clean
                                ).where(RecurringInvoice.id == recurring_id).execute()
        _write_lines(recurring_id, checked)
        new = get_recurring(recurring_id)
        changelog.record(old.client_id, f"Recurring invoice #{recurring_id} changed: "
                         f"{new.total} {new.currency}, {new.schedule().lower()}", actor=actor)
    return new


def stop_recurring(recurring_id: int, *, actor: str | None = None) -> RecurringRecord:
    """Issue no more invoices from this template."""
    old = get_recurring(recurring_id)
    clients.check_writable(old.client_id)
    if old.status != "Active":
        raise Conflict("status", f"recurring invoice #{recurring_id} is {old.status}")
    with database.atomic():
        RecurringInvoice.update(status="Stopped", next_date=None, updated_at=now()).where(
            RecurringInvoice.id == recurring_id).execute()
        changelog.record(old.client_id, "", field=f"Recurring invoice #{recurring_id} status",
                         old="Active", new="Stopped", actor=actor)
    return get_recurring(recurring_id)


def delete_recurring(recurring_id: int, *, actor: str | None = None) -> None:
    """Delete a template; invoices it issued stay (their link is cleared)."""
    old = get_recurring(recurring_id)
    clients.check_writable(old.client_id)
    with database.atomic():
        RecurringInvoice.delete().where(RecurringInvoice.id == recurring_id).execute()
        changelog.record(old.client_id, f"Recurring invoice #{recurring_id} deleted", actor=actor)
