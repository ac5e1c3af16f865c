"""Billable items (B3): one-off or recurring charges of a client, typed as
an amount or as hours × rate, each with an invoice action (as WHMCS):

- ``none``  — don't invoice (kept for the record, or to invoice by hand);
- ``next``  — invoice on the next generation of due invoices, once;
- ``due``   — invoice as normal for its due date: once its due date falls
  within the lead days;
- ``recur`` — recur every N days, weeks, months or years, ``count`` times in
  all: invoiced when its due date falls within the lead days, after which
  the due date moves on by one step (months and years keep the day of the
  first due date, as services do; the month's last day when shorter).

Hours × rate is rounded half-up to the minor unit. With hours and rate an
amount may still be typed, but it must equal hours × rate (else refused).

The items are picked up by ``billing_run.generate_due`` (one transaction
with the rest of generation): each bill is a line of type "Item" whose
``link_id`` is the item id; ``invoiced`` counts the bills and
``invoice_id`` names the last invoice. Every write is logged on the client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billdesk.errors import InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import BillableItem, Client, database, now
from billdesk.money import Money, minor_digits
from billdesk.services import changelog, clients, cycles
from billdesk.services.amounts import amount_input, date_input

ACTIONS = ("none", "next", "due", "recur")
ACTION_LABELS = {"none": "Don't invoice", "next": "Invoice on next run",
                 "due": "Invoice for due date", "recur": "Recur"}
UNITS = ("day", "week", "month", "year")
MAX_HOURS = Decimal("100000")
MAX_EVERY = 1000
MAX_COUNT = 10000
LIMITS = {"description": 1000, "notes": 20000}


@dataclass(frozen=True, slots=True)
class BillableRecord:
    id: int
    client_id: int
    description: str
    hours: Decimal | None
    rate: Money | None
    amount: Money
    taxed: bool
    action: str
    due_date: dt.date | None
    every: int | None
    unit: str | None
    count: int | None
    invoiced: int
    invoice_id: int | None
    notes: str

    @property
    def waiting(self) -> bool:
        """Still to be invoiced by generation (a "queued invoice item")."""
        if self.action in ("next", "due"):
            return self.invoiced == 0
        if self.action == "recur":
            return self.count is None or self.invoiced < self.count
        return False

    @property
    def title(self) -> str:
        return f"{self.description} (#{self.id})"

    def schedule(self) -> str:
        """What happens next, in words: "Recur every 2 months (1 of 3 done)"."""
        if self.action == "recur":
            unit = f"{self.unit}{'s' if (self.every or 1) != 1 else ''}"
            left = f", {self.invoiced} of {self.count} done" if self.count else ""
            return f"Every {self.every} {unit}{left}"
        if self.action in ("next", "due") and self.invoiced:
            return "Invoiced"
        return ACTION_LABELS[self.action]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "client_id": self.client_id, "description": self.description,
            "hours": None if self.hours is None else f"{self.hours:f}",
            "rate": None if self.rate is None else str(self.rate),
            "amount": str(self.amount), "currency": self.amount.currency, "taxed": self.taxed,
            "action": self.action, "due_date": self.due_date.isoformat() if self.due_date else None,
            "every": self.every, "unit": self.unit, "count": self.count,
            "invoiced": self.invoiced, "invoice_id": self.invoice_id, "waiting": self.waiting,
            "notes": self.notes,
        }


def hours_input(value: Any, field: str = "hours") -> Decimal:
    """Hours as typed: a decimal number more than 0, at most 4 decimals."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise InvalidInput(field, "is required")
    if isinstance(value, float):
        raise InvalidInput(field, "type the hours as text or Decimal, not a float")
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(field, f"{text!r} is not a number of hours") from None
    if not number.is_finite() or "e" in text.lower():
        raise InvalidInput(field, f"{text!r} is not a number of hours")
    if number <= 0:
        raise InvalidInput(field, "must be more than 0")
    if number > MAX_HOURS:
        raise InvalidInput(field, f"must be at most {MAX_HOURS}")
    if number != number.quantize(Decimal("0.0001")):
        raise InvalidInput(field, "use at most 4 decimals")
    return number.normalize() if number == number.to_integral() else number


def times_rate(hours: Decimal, rate: Money) -> Money:
    """hours × rate, rounded half-up to the minor unit (Money rounds so)."""
    exact = hours * rate.amount
    return Money(exact.quantize(Decimal(1).scaleb(-minor_digits(rate.currency)),
                                rounding=ROUND_HALF_UP), rate.currency)


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise InvalidInput(field, f"{value!r} is not a whole number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise InvalidInput(field, f"must be between {low} and {high}")
    return number


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check(values: dict[str, Any], currency: str, today: dt.date | None = None) -> dict[str, Any]:
    """Every problem with an item as typed, at once (ValidationFailed), or
    the clean column values. Keys: description, amount, hours, rate, taxed,
    action, due_date, every, unit, count, notes."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}

    def attempt(field: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
            return None

    description = str(values.get("description") or "").strip()
    if not description:
        problems.append(Problem("description", "is required"))
    elif len(description) > LIMITS["description"]:
        problems.append(Problem("description",
                                f"must be {LIMITS['description']} characters or fewer"))
    out["description"] = description
    notes = str(values.get("notes") or "").strip()
    if len(notes) > LIMITS["notes"]:
        problems.append(Problem("notes", f"must be {LIMITS['notes']} characters or fewer"))
    out["notes"] = notes
    out["taxed"] = bool(values.get("taxed"))

    raw_hours, raw_rate, raw_amount = values.get("hours"), values.get("rate"), values.get("amount")
    hours = rate = amount = None
    if not _blank(raw_hours):
        hours = attempt("hours", hours_input, raw_hours)
    if not _blank(raw_rate):
        rate = attempt("rate", lambda: amount_input(raw_rate, currency, "rate"))
    if not _blank(raw_amount):
        amount = attempt("amount", lambda: amount_input(raw_amount, currency, "amount"))
    if _blank(raw_hours) != _blank(raw_rate):
        missing = "rate" if _blank(raw_rate) else "hours"
        problems.append(Problem(missing, "is required with "
                                + ("hours" if missing == "rate" else "a rate")))
    if hours is not None and rate is not None:
        product = times_rate(hours, rate)
        if not product:
            problems.append(Problem("amount", f"hours × rate is {product}: must be more than 0"))
        elif amount is not None and amount != product:
            problems.append(Problem("amount", f"must equal hours × rate = {product} (or leave it "
                                              "empty)"))
        amount = product
    elif _blank(raw_amount) and _blank(raw_hours) and _blank(raw_rate):
        problems.append(Problem("amount", "is required (or hours and a rate)"))
    out.update(hours=f"{hours:f}" if hours is not None else None,
               rate=rate.minor_units if rate is not None else None,
               amount=amount.minor_units if amount is not None else None)

    action = str(values.get("action") or "none").strip().lower()
    if action not in ACTIONS:
        problems.append(Problem("action", f"{action!r}: use one of {', '.join(ACTIONS)}"))
    out["action"] = action
    due = None
    if not _blank(values.get("due_date")):
        due = attempt("due", date_input, values.get("due_date"), "due")
    elif action == "due":
        problems.append(Problem("due", "is required to invoice for a due date"))
    elif action == "recur":
        due = today or dt.date.today()  # the first bill goes on the next run
    out["due_date"] = due
    every, unit, count = values.get("every"), values.get("unit"), values.get("count")
    if action == "recur":
        if _blank(every):
            problems.append(Problem("every", "is required to recur"))
        else:
            out["every"] = attempt("every", _whole, every, "every", 1, MAX_EVERY)
        unit_text = str(unit or "month").strip().lower()
        if unit_text.endswith("s"):
            unit_text = unit_text[:-1]
        if unit_text not in UNITS:
            problems.append(Problem("unit", f"{unit!r}: use one of {', '.join(UNITS)}"))
        out["unit"] = unit_text
        if _blank(count):
            problems.append(Problem("count", "is required to recur: how many times in all"))
        else:
            out["count"] = attempt("count", _whole, count, "count", 1, MAX_COUNT)
    else:
        for name, value in (("every", every), ("unit", unit), ("count", count)):
            if not _blank(value):
                problems.append(Problem(name, "applies only to recurring items (action recur)"))
        out.update(every=None, unit=None, count=None)
    if problems:
        raise ValidationFailed(problems)
    return out


def step(due: dt.date, every: int, unit: str, day: int | None = None, times: int = 1
         ) -> dt.date:
    """The due date ``times`` steps of ``every`` ``unit`` after ``due``;
    months and years keep the day of the month ``day`` (the first due
    date's; default ``due``'s)."""
    if unit == "day":
        return due + dt.timedelta(days=every * times)
    if unit == "week":
        return due + dt.timedelta(weeks=every * times)
    months = every * times * (12 if unit == "year" else 1)
    return cycles.add_months(due, months, day or due.day)


# --- reading

_FIELDS = (BillableItem.id, BillableItem.client, BillableItem.description, BillableItem.hours,
           BillableItem.rate, BillableItem.amount, BillableItem.taxed, BillableItem.action,
           BillableItem.due_date, BillableItem.every, BillableItem.unit, BillableItem.count,
           BillableItem.invoiced, BillableItem.invoice, BillableItem.notes, Client.currency)


def _query():
    return BillableItem.select(*_FIELDS).join(Client, on=(BillableItem.client == Client.id))


def _record(row: tuple) -> BillableRecord:
    (iid, cid, description, hours, rate, amount, taxed, action, due, every, unit, count,
     invoiced, invoice_id, notes, currency) = row
    if isinstance(due, str):
        due = dt.date.fromisoformat(due)
    return BillableRecord(
        iid, cid, description, Decimal(hours) if hours is not None else None,
        Money.from_minor(rate, currency) if rate is not None else None,
        Money.from_minor(amount, currency), bool(taxed), action, due, every, unit, count,
        invoiced, invoice_id, notes)


def _currency(client_id: int) -> str:
    return clients.client_currency(client_id)


def get_item(item_id: int) -> BillableRecord:
    row = _query().where(BillableItem.id == item_id).tuples().first()
    if row is None:
        raise NotFound("id", f"no billable item #{item_id}")
    return _record(row)


def list_items(client_id: int) -> list[BillableRecord]:
    """Every billable item of the client, newest first."""
    _currency(client_id)
    return [_record(row) for row in _query().where(BillableItem.client == client_id)
            .order_by(BillableItem.id.desc()).tuples()]


def queued(client_id: int) -> list[BillableRecord]:
    """The items waiting for a coming invoice ("queued invoice items" on the
    Summary tab): action next/due not yet invoiced, recur with bills left;
    by due date (next-run items first), then id."""
    waiting = [item for item in list_items(client_id) if item.waiting]
    return sorted(waiting, key=lambda i: (i.action != "next", i.due_date or dt.date.min, i.id))


# --- writing

def add_item(client_id: int, *, description: str, amount: Any = None, hours: Any = None,
             rate: Any = None, taxed: bool = False, action: str = "none", due_date: Any = None,
             every: Any = None, unit: Any = None, count: Any = None, notes: str = "",
             today: dt.date | None = None, actor: str | None = None) -> int:
    """A new billable item; ValidationFailed names every refused field."""
    currency = _currency(client_id)
    clients.check_writable(client_id)  # C11: an archived client is read-only
    clean = check({"description": description, "amount": amount, "hours": hours, "rate": rate,
                   "taxed": taxed, "action": action, "due_date": due_date, "every": every,
                   "unit": unit, "count": count, "notes": notes}, currency, today)
    stamp = now()
    due_day = clean["due_date"].day if clean.get("due_date") else None
    with database.atomic():
        item_id = BillableItem.insert(client=client_id, created_at=stamp, updated_at=stamp,
                                      due_day=due_day, **clean).execute()
        record = get_item(item_id)
        changelog.record(client_id, f"Billable item {record.title} added: {record.amount} "
                         f"{currency}, {record.schedule()}", actor=actor)
    return item_id


_EDITABLE = ("description", "amount", "hours", "rate", "taxed", "action", "due_date", "every",
             "unit", "count", "notes")


def edit_item(item_id: int, *, actor: str | None = None, today: dt.date | None = None,
              **changes: Any) -> BillableRecord:
    """Change fields of an item (any of ``_EDITABLE``). Giving hours/rate
    without an amount recomputes the amount. A recurring item's count may
    not drop below the times already invoiced."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed here")
    old = get_item(item_id)
    clients.check_writable(old.client_id)
    values: dict[str, Any] = {
        "description": old.description, "amount": old.amount.amount,
        "hours": old.hours, "rate": old.rate.amount if old.rate else None, "taxed": old.taxed,
        "action": old.action, "due_date": old.due_date, "every": old.every, "unit": old.unit,
        "count": old.count, "notes": old.notes}
    if ("hours" in changes or "rate" in changes) and "amount" not in changes:
        values["amount"] = None
    if "amount" in changes and "hours" not in changes and "rate" not in changes:
        values["hours"] = values["rate"] = None  # a typed amount replaces hours × rate
    values.update(changes)
    if values["action"] != "recur":
        values.update(every=None, unit=None, count=None)
    clean = check(values, old.amount.currency, today)
    if clean["action"] == "recur" and clean["count"] is not None and clean["count"] < old.invoiced:
        raise InvalidInput("count", f"is already invoiced {old.invoiced} times")
    if "due_date" in changes:  # a date typed anew: its day is the one months keep
        clean["due_day"] = clean["due_date"].day if clean.get("due_date") else None
    with database.atomic():
        BillableItem.update(updated_at=now(), **clean).where(BillableItem.id == item_id).execute()
        new = get_item(item_id)
        for name in ("description", "amount", "hours", "rate", "taxed", "action", "due_date",
                     "every", "unit", "count", "notes"):
            before, after = getattr(old, name), getattr(new, name)
            if before != after:
                changelog.record(old.client_id, "", field=f"Billable item {new.title} {name}",
                                 old=_text(before), new=_text(after), actor=actor)
    return new


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def delete_item(item_id: int, *, actor: str | None = None) -> None:
    """Delete an item. Invoices that billed it keep their lines."""
    old = get_item(item_id)
    clients.check_writable(old.client_id)
    with database.atomic():
        BillableItem.delete().where(BillableItem.id == item_id).execute()
        changelog.record(old.client_id, f"Billable item {old.title} deleted", actor=actor)
