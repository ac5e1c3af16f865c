"""Billing cycles and due-date arithmetic, in one place (S2, S4, S5).

Recurring cycles are whole months. A due date keeps its day of month (the
*due day*, normally the signup day) when the month has it, and takes the
month's last day when it does not: 31 Jan → 28/29 Feb → 31 Mar → 30 Apr →
31 May. Stepping is always counted from the due day, never from the date
before, so a short month never drags later due dates down.

Prorata (SPEC.md "Money rules"): amount × days between the dates ÷ days in
the cycle that the old due date closes, rounded half-up to the minor unit.
"""

from __future__ import annotations

import calendar
import datetime as dt

from billdesk.errors import InvalidInput
from billdesk.models import BILLING_CYCLES
from billdesk.money import Money

CYCLE_MONTHS = {
    "monthly": 1, "quarterly": 3, "semiannually": 6, "annually": 12, "biennially": 24,
    "triennially": 36,
}
RECURRING = tuple(CYCLE_MONTHS)
CYCLE_LABELS = {
    "free": "Free", "onetime": "One time", "monthly": "Monthly", "quarterly": "Quarterly",
    "semiannually": "Semi-annually", "annually": "Annually", "biennially": "Biennially",
    "triennially": "Triennially",
}


def check_cycle(value: object, field: str = "cycle") -> str:
    text = str(value or "").strip().lower().replace("-", "").replace(" ", "")
    if text in ("onetime", "one time"):
        text = "onetime"
    if text not in BILLING_CYCLES:
        raise InvalidInput(field, f"unknown billing cycle {value!r}: use {', '.join(BILLING_CYCLES)}")
    return text


def is_recurring(cycle: str) -> bool:
    return cycle in CYCLE_MONTHS


def add_months(when: dt.date, months: int, due_day: int | None = None) -> dt.date:
    """``when`` moved by ``months`` (may be negative), on ``due_day`` (the
    day of ``when`` by default) or the month's last day when shorter."""
    day = due_day or when.day
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise InvalidInput("next_due", "the date would leave the calendar")
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day, last))


def next_due(when: dt.date, cycle: str, due_day: int | None = None, times: int = 1) -> dt.date:
    """The due date ``times`` cycles after ``when``."""
    if cycle not in CYCLE_MONTHS:
        raise ValueError(f"{cycle} does not recur")
    return add_months(when, CYCLE_MONTHS[cycle] * times, due_day)


def previous_due(when: dt.date, cycle: str, due_day: int | None = None) -> dt.date:
    """The due date one cycle before ``when``: the start of the cycle that
    ``when`` closes."""
    return next_due(when, cycle, due_day, times=-1)


def period(due: dt.date, cycle: str, due_day: int | None = None) -> tuple[dt.date, dt.date]:
    """The days a renewal due on ``due`` pays for: from ``due`` to the day
    before the next due date, both included."""
    return due, next_due(due, cycle, due_day) - dt.timedelta(days=1)


def cycle_days(old_due: dt.date, cycle: str, due_day: int | None = None) -> int:
    """Days in the cycle that ``old_due`` closes."""
    return (old_due - previous_due(old_due, cycle, due_day)).days


def prorata(amount: Money, cycle: str, old_due: dt.date, new_due: dt.date,
            due_day: int | None = None) -> Money:
    """What moving the due date from ``old_due`` to ``new_due`` costs
    (negative when it moves back). Nothing for cycles that do not recur."""
    if cycle not in CYCLE_MONTHS or old_due == new_due:
        return Money.zero(amount.currency)
    days = (new_due - old_due).days
    return Money(amount.amount * days / cycle_days(old_due, cycle, due_day), amount.currency)
