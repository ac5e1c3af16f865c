"""The daily run (A1–A3): everything billdesk does on its own each day.

For each day D not done yet, in order, each step counted:

1. generate due invoices (``billing_run.generate_due``: renewals, billable
   items and recurring invoices; their "invoice created" emails are queued
   by the billing writer in the same transaction);
2. apply credit to the Unpaid invoices of clients who have credit;
3. payment reminders for Unpaid invoices due on D + ``reminder_days``
   (unless the client turned reminders off, C6);
4. first / second / third overdue notices on due + ``overdue_days[i]``
   (none for clients with "don't send overdue emails");
5. late fees (B6) on Unpaid invoices ``late_fee_days`` overdue, once per
   invoice, not for clients or groups opted out;
6. suspend Active services and addons billed on an Unpaid invoice
   ``suspend_days`` overdue (client override wins; an item's
   "override auto-suspend" exempts it). As in WHMCS, the run also
   unsuspends: an item it suspended ("Overdue on payment") that no overdue
   Unpaid invoice bills any more is Active again. Unsuspensions are not one
   of the 13 counts: they are written to the client's change log and
   reported as ``RunReport.unsuspended``;
7. terminate services and addons ``terminate_days`` overdue, when
   termination is on (client override wins). Domains are never terminated;
   items with "override auto-suspend" are not terminated either;
8. automatic client status (C15), unless switched off globally or for the
   client: Inactive without an Active/Suspended service or addon and
   without an Active/Pending transfer domain, Active again with one;
   Closed clients are never touched;
9. expire quotes (``quotes.expire``).

The "invoice created" emails of step 1 are queued without their text; it
is written from the templates at the end of their day (as of that day:
a later day's late fee is not in them) — for the run's last day, after the
run (``write_emails``: at its end from cron; in the window by the courier,
a batch at a time beside the user's work). Then the outbox is delivered
(``outbox.deliver``) when mail is set up.

Safety. A backup is taken before a run that has days to do. Each step
works on batches of clients, each batch one transaction, and each step is
idempotent on its own (an invoice is made once per item and due date, an
email once per event key, a late fee once per invoice, a status changes
only when it differs): a crash leaves the book consistent, and running the
day again finishes the work and changes nothing already done. A day is
written to ``automation_day`` when all its steps finished; the next run
starts after the last such day. Every timestamp comes from the run's
clock (``clock.frozen``), so a rerun writes the very same rows. Steps 1
and 2 reach a fixed point within the day: credit that pays a renewal
billed late moves its due date on, and what is then due is billed the
same day (``billing_run._bill_again``), so a rerun bills nothing more.
A backup that fails stops the run (no days are run without one).

One run at a time per book (a lock file beside it, which the OS drops
when the process dies). For the crash tests,
``BILLDESK_AUTOMATION_PAUSE_AFTER=step[:N]`` makes the run say "paused
after …" on stderr and sleep after that step (or after its N-th committed
batch of clients)."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from billdesk import clock as clocks
from billdesk import paths
from billdesk.errors import (
    BilldeskError,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    ValidationFailed,
)
from billdesk.models import AutomationDay, AutomationRun, Client, database, now
from billdesk.services import billing_settings, changelog
from billdesk.services import settings as base
from billdesk.services.text import counted

ACTOR = "automation"
SUSPEND_REASON = "Overdue on payment"
BATCH_CLIENTS = 500  # clients per write transaction in a step
# who started a run, as the window and ``automation log`` name it
TRIGGER_LABELS = {"scheduler": "Schedule", "catch-up": "Catch-up", "manual": "Run now",
                  "cli": "Command line"}
STEP_KEYS = ("invoices_created", "credit_applied", "reminders", "overdue_notices", "late_fees",
             "suspended", "terminated", "status_changes", "quotes_expired", "recurring_invoices",
             "billable_items", "emails_queued", "emails_sent")
# The steps of a day, in order (the name is the count each one reports).
DAY_STEPS = ("invoices_created", "credit_applied", "reminders", "overdue_notices", "late_fees",
             "suspended", "terminated", "status_changes", "quotes_expired")
STEP_TITLES = {
    "invoices_created": "Generate due invoices", "credit_applied": "Apply credit",
    "reminders": "Payment reminders", "overdue_notices": "Overdue notices",
    "late_fees": "Late fees", "suspended": "Suspend overdue services",
    "terminated": "Terminate overdue services", "status_changes": "Automatic client status",
    "quotes_expired": "Expire quotes", "recurring_invoices": "Recurring invoices issued",
    "billable_items": "Billable items invoiced", "emails_queued": "Emails queued",
    "emails_sent": "Emails sent",
}
PAUSE_ENV = "BILLDESK_AUTOMATION_PAUSE_AFTER"  # tests: "step" or "step:N" (after N batches)

Progress = Callable[[int, int, str], None]


# --- settings (D6 "automation days")

@dataclass(slots=True)
class AutomationSettings:
    enabled: bool = True  # the scheduler runs it on its own
    hour: int = 3  # at this hour (0-23), local time
    reminder_days: int = 7  # payment reminder this many days before due; 0: none
    overdue_days: list[int] = field(default_factory=lambda: [1, 8, 15])  # 0: that notice off
    suspend: bool = True
    suspend_days: int = 7
    terminate: bool = False
    terminate_days: int = 30
    auto_status: bool = True  # C15
    credit_added_email: bool = False  # email the client when credit is added by hand

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        for name in ("enabled", "suspend", "terminate", "auto_status", "credit_added_email"):
            if not isinstance(getattr(self, name), bool):
                found.append(Problem(name, "must be yes or no"))
        if not _whole(self.hour) or not 0 <= self.hour <= 23:
            found.append(Problem("hour", "must be a whole hour from 0 to 23"))
        for name, low in (("reminder_days", 0), ("suspend_days", 1), ("terminate_days", 1)):
            value = getattr(self, name)
            if not _whole(value) or not low <= value <= 3650:
                found.append(Problem(name, f"must be a whole number of days from {low} to 3650"))
        days = self.overdue_days
        if not isinstance(days, (list, tuple)) or len(days) != 3:
            found.append(Problem("overdue_days",
                                 "needs three numbers of days (0: that notice off)"))
        else:
            last = 0
            for n, value in enumerate(days, 1):
                where = f"overdue_days[{n}]"
                if not _whole(value) or not 0 <= value <= 3650:
                    found.append(Problem(where, "must be a whole number of days from 0 to 3650"))
                elif value:
                    if value <= last:
                        found.append(Problem(where, f"must come after the earlier notice "
                                                    f"({counted(last, 'day')})"))
                    last = value
        if (_whole(self.terminate_days) and _whole(self.suspend_days) and self.suspend
                and self.terminate and self.terminate_days < self.suspend_days):
            found.append(Problem("terminate_days", "must not be fewer than the suspend days "
                                                   f"({counted(self.suspend_days, 'day')})"))
        return found


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def automation_settings() -> AutomationSettings:
    stored = base._get("automation", {}) or {}
    known = {f.name for f in fields(AutomationSettings)}
    value = AutomationSettings(**{k: v for k, v in stored.items() if k in known})
    value.overdue_days = list(value.overdue_days)
    return value


def save_automation_settings(value: AutomationSettings) -> AutomationSettings:
    """Store the settings; every problem at once, each naming its field."""
    problems = value.problems()
    if problems:
        raise ValidationFailed(problems)
    value.overdue_days = list(value.overdue_days)
    with database.atomic():
        base._put("automation", asdict(value))
    return value


# --- per-client overrides (C6; NULL = the global setting)

OVERRIDE_FIELDS = ("auto_suspend", "suspend_days", "auto_terminate", "terminate_days",
                   "payment_reminders", "auto_status")
OVERRIDE_LABELS = {"auto_suspend": "Automation: suspend overdue services",
                   "suspend_days": "Automation: suspend after days",
                   "auto_terminate": "Automation: terminate overdue services",
                   "terminate_days": "Automation: terminate after days",
                   "payment_reminders": "Automation: payment reminders",
                   "auto_status": "Automation: automatic status"}


@dataclass(slots=True)
class ClientOverrides:
    """A client's own automation settings; None follows the global one."""

    auto_suspend: bool | None = None
    suspend_days: int | None = None
    auto_terminate: bool | None = None
    terminate_days: int | None = None
    payment_reminders: bool | None = None
    auto_status: bool | None = None

    def problems(self) -> list[Problem]:
        found = []
        for name in ("auto_suspend", "auto_terminate", "payment_reminders", "auto_status"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                found.append(Problem(name, "must be yes, no or the global setting"))
        for name in ("suspend_days", "terminate_days"):
            value = getattr(self, name)
            if value is not None and (not _whole(value) or not 1 <= value <= 3650):
                found.append(Problem(name, "must be a whole number of days from 1 to 3650"))
        if not found and any(getattr(self, n) is not None for n in OVERRIDE_FIELDS):
            # as the global page refuses it: terminating before suspending
            rule = automation_settings()
            suspend = rule.suspend if self.auto_suspend is None else self.auto_suspend
            terminate = rule.terminate if self.auto_terminate is None else self.auto_terminate
            days = rule.suspend_days if self.suspend_days is None else self.suspend_days
            ended = rule.terminate_days if self.terminate_days is None else self.terminate_days
            if suspend and terminate and ended < days:
                found.append(Problem("terminate_days", "must not be fewer than the suspend "
                                                       f"days ({counted(days, 'day')})"))
        return found


def client_overrides(client_id: int) -> ClientOverrides:
    row = (Client.select(*[getattr(Client, n) for n in OVERRIDE_FIELDS])
           .where(Client.id == client_id).tuples().first())
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    return ClientOverrides(*[None if v is None else (v if isinstance(v, int) and n.endswith("days")
                                                     else bool(v))
                             for n, v in zip(OVERRIDE_FIELDS, row, strict=True)])


def save_client_overrides(client_id: int, value: ClientOverrides, *,
                          actor: str | None = None) -> ClientOverrides:
    """Store a client's overrides, each change in the client's change log."""
    problems = value.problems()
    if problems:
        raise ValidationFailed(problems)
    with database.atomic():
        old = client_overrides(client_id)
        changed = {n: getattr(value, n) for n in OVERRIDE_FIELDS
                   if getattr(value, n) != getattr(old, n)}
        if changed:
            Client.update(**changed, updated_at=now()).where(Client.id == client_id).execute()
            for name, new in changed.items():
                changelog.record(client_id, "", field=OVERRIDE_LABELS[name],
                                 old=_shown(getattr(old, name)), new=_shown(new), actor=actor)
    return client_overrides(client_id)


def _shown(value: Any) -> str:
    if value is None:
        return "global setting"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --- C15: automatic client status

_LIVE_SQL = """EXISTS (SELECT 1 FROM service s WHERE s.client_id = c.id AND (
    (s.kind IN ('service', 'addon') AND s.status IN ('Active', 'Suspended'))
    OR (s.kind = 'domain' AND s.status IN ('Active', 'Pending transfer'))))"""


def client_status(client_id: int) -> str:
    """The status C15 gives the client now: 'Active' with an Active or
    Suspended service or addon or an Active / Pending transfer domain,
    else 'Inactive'; a Closed client stays 'Closed'."""
    row = database.execute_sql(f"SELECT c.status, {_LIVE_SQL} FROM client c WHERE c.id = ?",
                               (client_id,)).fetchone()
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    status, live = row
    if status == "Closed":
        return status
    return "Active" if live else "Inactive"


# --- which days

def last_completed() -> dt.date | None:
    value = AutomationDay.select(AutomationDay.date).order_by(AutomationDay.date.desc()).scalar()
    return _as_date(value) if value else None


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def pending_days(until: dt.date) -> list[dt.date]:
    """Every day after the last completed day up to ``until``; ``until``
    alone when the run never completed a day."""
    last = last_completed()
    if last is None:
        return [until]
    days = []
    day = last + dt.timedelta(days=1)
    while day <= until:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


# --- the report and the log

@dataclass(slots=True)
class RunReport:
    run_id: int
    days: list[dt.date]
    steps: dict[str, int]
    errors: list[str]
    duration_ms: int
    status: str = "Completed"
    unsuspended: int = 0  # items the run set Active again (not one of the 13 counts)
    backup: str = ""  # the backup file taken first

    def as_json(self) -> dict[str, Any]:
        """SPEC.md D5: {"days": [...], "steps": {13 counts}, "errors": [...]}."""
        return {"days": [d.isoformat() for d in self.days],
                "steps": {key: int(self.steps.get(key, 0)) for key in STEP_KEYS},
                "errors": list(self.errors)}

    def text(self) -> str:
        if not self.days and self.status != "Completed":
            head = "No day was run"
        elif not self.days:
            sent = self.steps.get("emails_sent", 0)
            head = ("Every day is done; the outbox delivered "
                    f"{counted(sent, 'waiting email')}" if sent
                    else "Nothing to do: every day is done.")
        elif len(self.days) == 1:
            head = f"Ran {self.days[0].isoformat()}"
        else:
            head = (f"Ran {len(self.days)} days, {self.days[0].isoformat()} to "
                    f"{self.days[-1].isoformat()}")
        rows = [f"{head} ({self.status}, {self.duration_ms / 1000:.1f} s)"]
        if self.days or self.steps.get("emails_sent"):
            width = max(len(t) for t in STEP_TITLES.values())
            rows += [f"  {STEP_TITLES[key]:<{width}}  {self.steps.get(key, 0):>7}"
                     for key in STEP_KEYS]
        if self.unsuspended:
            rows.append(f"  {counted(self.unsuspended, 'item')} unsuspended: nothing overdue "
                        "any more")
        rows += [f"  error: {text}" for text in self.errors]
        return "\n".join(rows)


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    trigger: str
    days: list[dt.date]
    status: str
    steps: dict[str, int]
    errors: list[str]
    duration_ms: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": _stamp(self.started_at),
                "finished_at": _stamp(self.finished_at), "trigger": self.trigger,
                "days": [d.isoformat() for d in self.days], "status": self.status,
                "steps": {key: int(self.steps.get(key, 0)) for key in STEP_KEYS},
                "errors": list(self.errors), "duration_ms": self.duration_ms}


def _stamp(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ") if value else None


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def runs(limit: int | None = 50) -> list[RunRow]:
    """The run log (A3), newest first."""
    query = AutomationRun.select().order_by(AutomationRun.id.desc())
    if limit:
        query = query.limit(limit)
    out = []
    for row in query:
        try:
            steps = json.loads(row.steps or "{}")
            errors = json.loads(row.errors or "[]")
        except ValueError:
            steps, errors = {}, ["(the stored report could not be read)"]
        out.append(RunRow(row.id, _as_datetime(row.started_at), _as_datetime(row.finished_at),
                          row.trigger, [dt.date.fromisoformat(d) for d in row.days.split(",") if d],
                          row.status, steps, errors, row.duration_ms))
    return out


# --- the run

class _Pause:
    """A test hook (``BILLDESK_AUTOMATION_PAUSE_AFTER=step[:N]``): after the
    step (or its N-th committed batch) the run says so on stderr and
    sleeps, so a test can kill it at a known point."""

    def __init__(self) -> None:
        text = os.environ.get(PAUSE_ENV, "").strip()
        step, _, batch = text.partition(":")
        self.step = step
        self.batch = int(batch) if batch.isdigit() else None

    def after(self, step: str, batch: int | None = None) -> None:
        if not self.step or step != self.step or batch != self.batch:
            return
        sys.stderr.write(f"paused after {step}" + (f":{batch}" if batch else "") + "\n")
        sys.stderr.flush()
        time.sleep(float(os.environ.get("BILLDESK_AUTOMATION_PAUSE_SECONDS", "600")))


@dataclass
class _Day:
    """What the steps of one day share."""

    day: dt.date
    settings: AutomationSettings
    counts: dict[str, int]
    errors: list[str]
    pause: _Pause
    unsuspended: int = 0

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def refused(self, what: str, exc: BilldeskError) -> None:
        self.errors.append(f"{self.day.isoformat()} {what}: {exc.field + ': ' if exc.field else ''}"
                           f"{exc.message}")

    def batches(self, step: str, rows: Sequence[tuple]) -> Iterator[list[tuple]]:
        """Rows (client id first) in batches of whole clients; each batch
        runs in one transaction, committed before the next."""
        n = 0
        for chunk in _client_chunks(rows):
            n += 1
            with database.atomic():
                yield chunk
            self.pause.after(step, n)


def _client_chunks(rows: Sequence[tuple]) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    clients = 0
    last = None
    for row in rows:
        if row[0] != last:
            if clients == BATCH_CLIENTS:
                yield chunk
                chunk, clients = [], 0
            clients += 1
            last = row[0]
        chunk.append(row)
    if chunk:
        yield chunk


def _email_count() -> int:
    return database.execute_sql("SELECT count(*) FROM email").fetchone()[0]


def _step_generate(ctx: _Day) -> None:
    from billdesk.services import billing_run

    result = billing_run.generate_due(today=ctx.day, actor=ACTOR, write_emails=False)
    ctx.add("invoices_created", len(result.invoice_ids))
    ctx.add("credit_applied", result.credited)  # (a new invoice takes the credit as it is made)
    ctx.add("recurring_invoices", len(result.recurring_ids))
    ctx.add("billable_items", len(result.billed_items))


def _step_credit(ctx: _Day) -> None:
    """Credit on the Unpaid invoices, oldest due first. Paying a renewal
    moves its item's due date on; when that is due again (an item billed
    late), the client is billed again in the same transaction, so that
    generating again for the day makes nothing new."""
    from billdesk.services import billing_run, credit, invoicing

    rows = database.execute_sql(
        "SELECT i.client_id, i.id FROM invoice i JOIN client c ON c.id = i.client_id "
        "WHERE c.credit_balance > 0 AND i.status = 'Unpaid' AND i.kind = 'standard' "
        "ORDER BY i.client_id, i.due_date, i.id").fetchall()
    for chunk in ctx.batches("credit_applied", rows):
        paid: list[int] = []
        for client_id, invoice_id in chunk:
            if not credit.balance(client_id):
                continue
            try:
                with database.atomic():
                    if invoicing.apply_credit(invoice_id, when=ctx.day, actor=ACTOR):
                        ctx.add("credit_applied", 1)
            except BilldeskError as exc:
                ctx.refused(f"credit on invoice #{invoice_id}", exc)
                continue
            if _status(invoice_id) == "Paid" and client_id not in paid:
                paid.append(client_id)
        for client_id in paid:
            result = billing_run.generate_due(client_id=client_id, today=ctx.day, actor=ACTOR,
                                              write_emails=False)
            ctx.add("invoices_created", len(result.invoice_ids))
            ctx.add("credit_applied", result.credited)
            ctx.add("recurring_invoices", len(result.recurring_ids))
            ctx.add("billable_items", len(result.billed_items))


def _status(invoice_id: int) -> str:
    return database.execute_sql("SELECT status FROM invoice WHERE id = ?",
                                (invoice_id,)).fetchone()[0]


def _queue(ctx: _Day, step: str, template: str, rows: Sequence[tuple]) -> None:
    """Queue ``template`` for each (client id, invoice id), event key
    ``{template}:invoice:{id}``: in bulk per batch of clients
    (``mail.queue_invoice_emails_many``), one by one when the bulk call
    refuses, so that the refused invoice is named in the run's errors."""
    from billdesk.services import mail

    for chunk in ctx.batches(step, rows):
        try:
            with database.atomic():
                ctx.add(step, mail.queue_invoice_emails_many(
                    template, [invoice_id for _cid, invoice_id in chunk]))
            continue
        except BilldeskError:
            pass
        for client_id, invoice_id in chunk:
            try:
                with database.atomic():
                    email_id = mail.queue_template(
                        template, client_id, invoice_id=invoice_id,
                        event_key=f"{template}:invoice:{invoice_id}")
            except BilldeskError as exc:
                ctx.refused(f"{template} for invoice #{invoice_id}", exc)
                continue
            if email_id is not None:
                ctx.add(step, 1)


_NOT_QUEUED = "NOT EXISTS (SELECT 1 FROM email e WHERE e.event_key = ? || i.id)"


def _step_reminders(ctx: _Day) -> None:
    days = ctx.settings.reminder_days
    if not days:
        return
    due = (ctx.day + dt.timedelta(days=days)).isoformat()
    rows = database.execute_sql(
        "SELECT i.client_id, i.id FROM invoice i JOIN client c ON c.id = i.client_id "
        "WHERE i.status = 'Unpaid' AND i.due_date = ? AND coalesce(c.payment_reminders, 1) = 1 "
        f"AND c.status <> 'Closed' AND {_NOT_QUEUED} ORDER BY i.client_id, i.id",
        (due, "payment_reminder:invoice:")).fetchall()
    _queue(ctx, "reminders", "payment_reminder", rows)


def _step_overdue(ctx: _Day) -> None:
    for n, days in enumerate(ctx.settings.overdue_days, 1):
        if not days:
            continue
        template = f"overdue_{n}"
        due = (ctx.day - dt.timedelta(days=days)).isoformat()
        rows = database.execute_sql(
            "SELECT i.client_id, i.id FROM invoice i JOIN client c ON c.id = i.client_id "
            "WHERE i.status = 'Unpaid' AND i.due_date = ? AND c.overdue_notices = 1 "
            f"AND c.status <> 'Closed' AND {_NOT_QUEUED} ORDER BY i.client_id, i.id",
            (due, f"{template}:invoice:")).fetchall()
        _queue(ctx, "overdue_notices", template, rows)


def _step_late_fees(ctx: _Day) -> None:
    """B6 in bulk: the same rule as ``invoicing.add_late_fee`` (Unpaid, at
    least ``late_fee_days`` overdue, client and group not opted out, once
    per invoice: ``late_fee_date`` is set), the fee from
    ``invoicing.late_fee_for``, an untaxed "LateFee" line appended and the
    totals recomputed with ``taxes.compute_units`` — written with
    executemany per batch of clients, not invoice by invoice."""
    rule = billing_settings.billing()
    try:
        if not Decimal(rule.late_fee_amount):
            return  # no late fees set
    except InvalidOperation:
        return
    last_due = (ctx.day - dt.timedelta(days=max(rule.late_fee_days, 1))).isoformat()
    rows = database.execute_sql(
        "SELECT i.client_id, i.id FROM invoice i JOIN client c ON c.id = i.client_id "
        "LEFT JOIN client_group g ON g.id = c.group_id "
        "WHERE i.status = 'Unpaid' AND i.kind = 'standard' AND i.late_fee_date IS NULL "
        "AND i.due_date <= ? AND c.late_fees = 1 AND coalesce(g.late_fees, 1) = 1 "
        "AND NOT EXISTS (SELECT 1 FROM invoice_line l WHERE l.invoice_id = i.id "
        "AND l.type = 'LateFee') ORDER BY i.client_id, i.id", (last_due,)).fetchall()
    for chunk in ctx.batches("late_fees", rows):
        ctx.add("late_fees", _add_late_fees([invoice_id for _cid, invoice_id in chunk],
                                            ctx.day, rule))


_LATE_FEE_SQL = """
SELECT i.id, i.client_id, i.number, i.currency, i.due_date, i.total, i.tax1_rate, i.tax2_rate,
       i.tax_compound, i.tax_inclusive, coalesce(sum(l.amount), 0),
       coalesce(sum(CASE WHEN l.taxed = 1 THEN l.amount END), 0), coalesce(max(l.position), 0)
  FROM invoice i LEFT JOIN invoice_line l ON l.invoice_id = i.id
 WHERE i.id IN (SELECT value FROM json_each(?)) AND i.status = 'Unpaid'
   AND i.late_fee_date IS NULL
 GROUP BY i.id
 ORDER BY i.id
"""


def _add_late_fees(invoice_ids: list[int], day: dt.date,
                   rule: billing_settings.BillingSettings) -> int:
    """The invoices' lines summed in one query; the fee, the tax rates and
    the amounts' text computed once per distinct value (totals repeat)."""
    from billdesk.money import Money
    from billdesk.services import invoicing, taxes

    stamp = now()
    stamp_text = stamp.isoformat(sep=" ")
    day_text = day.isoformat()
    lines, updates, logs = [], [], []
    fees: dict[tuple[int, str], tuple[int, str] | None] = {}
    rates_of: dict[tuple, taxes.TaxRates] = {}
    sums_of: dict[tuple, tuple[int, int, int, int]] = {}  # (totals repeat too)
    texts: dict[tuple[int, str], str] = {}

    def text_of(units: int, currency: str) -> str:
        key = (units, currency)
        found = texts.get(key)
        if found is None:
            found = texts[key] = str(Money.from_minor(units, currency))
        return found

    rows: list[tuple] = []
    exchange = billing_settings.currencies()  # (a fixed fee is converted per currency)
    conn = database.connection()
    for start in range(0, len(invoice_ids), 500):  # (the order of the rows written)
        rows += conn.execute(_LATE_FEE_SQL, (json.dumps(invoice_ids[start:start + 500]),))
    for (invoice_id, client_id, number, currency, due, total, rate1, rate2, compound,
         inclusive, line_sum, taxed_sum, position) in rows:
        key = (total, currency)
        if key in fees:
            found = fees[key]
        else:
            fee = invoicing.late_fee_for(Money.from_minor(total, currency), rule,
                                         exchange)
            found = fees[key] = (None if not fee or fee.amount < 0
                                 else (fee.minor_units, str(fee)))
        if found is None:
            continue
        units, fee_text = found
        rate_key = (rate1, rate2, compound, inclusive)
        rates = rates_of.get(rate_key)
        if rates is None:
            rates = rates_of[rate_key] = taxes.TaxRates(
                Decimal(rate1 or 0), Decimal(rate2 or 0), bool(compound), bool(inclusive))
        sums_key = (line_sum + units, taxed_sum if rates.any else 0, rate_key)
        sums = sums_of.get(sums_key)
        if sums is None:
            sums = sums_of[sums_key] = taxes.compute_units(*sums_key[:2], rates)
        label = f"#{number}" if number else f"draft {invoice_id}"
        lines.append((invoice_id, position + 1,
                      f"Late fee (invoice {label}, due {str(due)[:10]})", units, 0, "LateFee"))
        updates.append((*sums, day_text, stamp_text, invoice_id))
        logs.append((client_id, stamp_text, ACTOR, f"Invoice {label} total",
                     text_of(total, currency), text_of(sums[3], currency), "",
                     f"Late fee {fee_text} {currency} added to invoice {label} by the daily "
                     f"run of {day_text}"))
    if updates:
        conn.executemany("INSERT INTO invoice_line (invoice_id, position, description, amount, "
                         "taxed, type) VALUES (?,?,?,?,?,?)", lines)
        conn.executemany("UPDATE invoice SET subtotal = ?, tax1 = ?, tax2 = ?, total = ?, "
                         "late_fee_date = ?, updated_at = ? WHERE id = ?", updates)
        changelog.record_values(logs)
    return len(updates)


# Lines that bill a service or addon (an order's setup fee and promo too;
# "Item" lines link billable items, not services). The overdue items are
# found from the overdue invoices (index invoice_due), not item by item,
# and their lines' items and types from the covering index
# invoice_line_links (migration 8), not from the table.
_BILLS = "l.type IN ('Hosting', 'Addon', 'Domain', 'Setup', 'Promo')"
_OVERDUE_CTE = f"""WITH overdue (sid, due) AS (
    SELECT l.link_id, min(i.due_date) FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
     WHERE i.status = 'Unpaid' AND i.due_date < ? AND l.link_id IS NOT NULL AND {_BILLS}
     GROUP BY l.link_id)
"""
_OVERDUE_ITEMS = """SELECT s.client_id, s.id, s.name, s.status
  FROM overdue o JOIN service s ON s.id = o.sid JOIN client c ON c.id = s.client_id
 WHERE s.kind IN ('service', 'addon') AND s.status IN ({statuses}) AND s.override_suspend = 0
   AND coalesce(c.{switch}, ?) = 1
   AND julianday(?) - julianday(o.due) >= max(coalesce(c.{days}, ?), 1)"""
_OVERDUE_ITEMS_SQL = _OVERDUE_CTE + _OVERDUE_ITEMS + "\n ORDER BY s.client_id, s.id"
# Step 6 in one query (the overdue items read once): 0, the Active items to
# suspend; 1, the items the run suspended that no overdue invoice bills any
# more (to set Active again). The two sets never meet (Active / Suspended,
# and what is suspended now is overdue), so reading the second before the
# first is written reads the same rows. The services are walked in id
# order, as stored, then sorted: through service_client it is twice as slow.
_SUSPEND_SQL = (_OVERDUE_CTE + "SELECT 0, * FROM (" + _OVERDUE_ITEMS.format(
    statuses="'Active'", switch="auto_suspend", days="suspend_days") + """)
UNION ALL
SELECT 1, s.client_id, s.id, s.name, s.status FROM service s NOT INDEXED
 WHERE s.kind IN ('service', 'addon') AND s.status = 'Suspended' AND s.suspend_reason = ?
   AND s.id NOT IN (SELECT sid FROM overdue)
 ORDER BY 1, 2, 3""")


def _set_items(ctx: _Day, step: str, rows: Sequence[tuple], new: str, reason: str,
               message: str, *, count: bool = True) -> int:
    """Set items' status in batches, each change in the client's log: per
    batch (one transaction) the items still in the status they were read
    in are read once, then set with one UPDATE per old status and logged
    with one executemany — not a statement per item."""
    done = 0
    reason_set = reason if new != "Active" else ""
    said = f"{message} of {ctx.day.isoformat()}"  # (a catch-up runs many days at one time)
    for chunk in ctx.batches(step, rows):
        stamp = now()
        text = stamp.isoformat(sep=" ")
        conn = database.connection()
        ids = json.dumps([service_id for _cid, service_id, _name, _old in chunk])
        current = dict(conn.execute(
            "SELECT id, status FROM service WHERE id IN (SELECT value FROM json_each(?))",
            (ids,)))
        wanted: dict[str, list[int]] = {}
        logs = []
        for client_id, service_id, name, old in chunk:
            if current.get(service_id) != old:
                continue
            current[service_id] = None  # (an id listed twice is changed once)
            wanted.setdefault(old, []).append(service_id)
            logs.append((client_id, text, ACTOR, f"{name} (#{service_id}) status", old, new,
                         reason, said))
        for old, service_ids in wanted.items():
            conn.execute(
                "UPDATE service SET status = ?, suspend_reason = ?, updated_at = ? "
                "WHERE id IN (SELECT value FROM json_each(?)) AND status = ?",
                (new, reason_set, text, json.dumps(service_ids), old))
        done += len(logs)
        changelog.record_values(logs)
    if count:
        ctx.add(step, done)
    return done


def _step_suspend(ctx: _Day) -> None:
    s = ctx.settings
    day = ctx.day.isoformat()
    rows: tuple[list[tuple], list[tuple]] = ([], [])
    for which, *row in database.execute_sql(
            _SUSPEND_SQL, (day, int(s.suspend), day, s.suspend_days, SUSPEND_REASON)):
        rows[which].append(tuple(row))
    _set_items(ctx, "suspended", rows[0], "Suspended", SUSPEND_REASON,
               "Suspended by the daily run")
    # WHMCS unsuspends on payment: no overdue Unpaid invoice bills it any more.
    ctx.unsuspended += _set_items(ctx, "unsuspended", rows[1], "Active",
                                  "Nothing overdue any more", "Unsuspended by the daily run",
                                  count=False)


_PAID_SUSPENDED_SQL = f"""
SELECT DISTINCT s.client_id, s.id, s.name FROM invoice_line l JOIN service s ON s.id = l.link_id
 WHERE l.invoice_id IN (SELECT value FROM json_each(?)) AND l.link_id IS NOT NULL AND {_BILLS}
   AND s.kind IN ('service', 'addon') AND s.status = 'Suspended' AND s.suspend_reason = ?
   AND NOT EXISTS (SELECT 1 FROM invoice_line m JOIN invoice i ON i.id = m.invoice_id
                    WHERE m.link_id = s.id AND i.status = 'Unpaid' AND i.due_date < ?
                      AND {_BILLS.replace("l.", "m.")})
 ORDER BY s.client_id, s.id"""


def unsuspend_paid(invoice_ids: Sequence[int], actor: str | None = None) -> int:
    """WHMCS's unsuspension on payment: the services and addons these (just
    paid) invoices bill that the daily run suspended for being overdue,
    and that no other overdue invoice bills, are Active again at once —
    not at the next run. Inside the payment's transaction; returns how many."""
    if not invoice_ids:
        return 0
    conn = database.connection()
    rows = conn.execute(_PAID_SUSPENDED_SQL, (json.dumps(list(invoice_ids)), SUSPEND_REASON,
                                              clocks.today().isoformat())).fetchall()
    if not rows:
        return 0
    text = now().isoformat(sep=" ")
    who = actor or changelog.current_actor()
    conn.execute("UPDATE service SET status = 'Active', suspend_reason = '', updated_at = ? "
                 "WHERE id IN (SELECT value FROM json_each(?)) AND status = 'Suspended'",
                 (text, json.dumps([service_id for _c, service_id, _n in rows])))
    changelog.record_values([(client_id, text, who, f"{name} (#{service_id}) status",
                              "Suspended", "Active", "Paid", "Unsuspended: its invoice was paid")
                             for client_id, service_id, name in rows])
    return len(rows)


def _step_terminate(ctx: _Day) -> None:
    s = ctx.settings
    day = ctx.day.isoformat()
    rows = database.execute_sql(
        _OVERDUE_ITEMS_SQL.format(statuses="'Active', 'Suspended'", switch="auto_terminate",
                                  days="terminate_days"),
        (day, int(s.terminate), day, s.terminate_days)).fetchall()
    _set_items(ctx, "terminated", rows, "Terminated", SUSPEND_REASON,
               "Terminated by the daily run")


def _step_status(ctx: _Day) -> None:
    rows = database.execute_sql(
        f"SELECT c.id, c.status, {_LIVE_SQL} FROM client c "
        "WHERE c.status IN ('Active', 'Inactive') AND coalesce(c.auto_status, ?) = 1 "
        "ORDER BY c.id", (int(ctx.settings.auto_status),)).fetchall()
    rows = [(cid, status, "Active" if live else "Inactive") for cid, status, live in rows
            if status != ("Active" if live else "Inactive")]
    for chunk in ctx.batches("status_changes", rows):
        stamp = now()
        conn = database.connection()
        logs = []
        for client_id, old, new in chunk:
            if conn.execute("UPDATE client SET status = ?, updated_at = ? WHERE id = ? "
                            "AND status = ?", (new, stamp.isoformat(sep=" "), client_id,
                                               old)).rowcount:
                ctx.add("status_changes", 1)
                logs.append({"client": client_id, "at": stamp, "actor": ACTOR,
                             "message": f"Automatic status (daily run of {ctx.day.isoformat()})",
                             "field": "Status",
                             "old_value": old, "new_value": new, "reason": ""})
        changelog.record_many(logs)


def _step_quotes(ctx: _Day) -> None:
    from billdesk.services import quotes

    ctx.add("quotes_expired", len(quotes.expire(ctx.day, actor=ACTOR)))


_STEPS: dict[str, Callable[[_Day], None]] = {
    "invoices_created": _step_generate, "credit_applied": _step_credit,
    "reminders": _step_reminders, "overdue_notices": _step_overdue,
    "late_fees": _step_late_fees, "suspended": _step_suspend, "terminated": _step_terminate,
    "status_changes": _step_status, "quotes_expired": _step_quotes,
}


def run_day(day: dt.date, settings: AutomationSettings | None = None, *,
            counts: dict[str, int] | None = None, errors: list[str] | None = None,
            progress: Callable[[str], None] | None = None,
            write: bool = True) -> tuple[bool, _Day]:
    """The steps of one day, in order (no backup, no day record), then,
    with ``write``, the text of the invoice emails they queued, as of the
    day's end (a later day's late fee is not in them). Returns whether every
    step finished."""
    ctx = _Day(day, settings or automation_settings(), counts if counts is not None else {},
               errors if errors is not None else [], _Pause())
    ok = True
    before = _email_count()
    last_id = database.execute_sql("SELECT coalesce(max(id), 0) FROM email").fetchone()[0]
    for name in DAY_STEPS:
        try:
            _STEPS[name](ctx)
        except Exception as exc:  # a step that fails leaves the day to be run again
            ok = False
            if not isinstance(exc, BilldeskError):
                import logging

                logging.getLogger("billdesk.automation").exception("step %s of %s", name, day)
            ctx.errors.append(f"{day.isoformat()} {STEP_TITLES[name]}: {exc}")
        ctx.pause.after(name)
        if progress:
            progress(name)
    if ok and write:
        from billdesk.services import mail

        try:
            mail.render_pending()
        except Exception as exc:  # the messages stay pending: delivery writes them
            ok = False
            ctx.errors.append(f"{day.isoformat()} writing the emails: {exc}")
    _report_unwritten(ctx.errors, "id > ?", last_id, day.isoformat() + " ")
    ctx.add("emails_queued", _email_count() - before)
    return ok, ctx


def _report_unwritten(errors: list[str], where: str, param: Any, when: str = "") -> None:
    """A template that passed its checks but fails on some data: those
    messages (``where``) are Failed with the error (Email log); the run
    says so too, or nobody would look."""
    failed, error = database.execute_sql(
        f"SELECT count(*), min(error) FROM email WHERE {where} AND status = 'Failed' "
        "AND error LIKE 'template %'", (param,)).fetchone()
    if failed:
        errors.append(f"{when}{counted(failed, 'email')} could not be written "
                      f"(Automation → Email log, Failed): {error}")


def write_emails(errors: list[str], limit: int | None = None) -> int:
    """The text of the emails queued without it (the invoice emails of a
    run's last day, ``mail.queue_invoice_emails_pending``), the oldest
    first, at most ``limit``, written from their templates as of now: what
    delivery does first, what ``automation run`` does at its end even when
    mail is not set up, and the window's courier a batch at a time — so
    that the Email log shows them and a template that fails on some data
    is an error of the run (added to ``errors``; the window's courier adds
    them to the run's log, ``note_errors``). Returns how many were written."""
    from billdesk.services import mail

    ids = json.dumps([i for (i,) in database.execute_sql(
        "SELECT id FROM email WHERE pending = 1 ORDER BY id LIMIT ?",
        (-1 if limit is None else limit,))])
    try:
        written = mail.render_pending(limit)
    except Exception as exc:  # they stay queued without their text: delivery writes them
        errors.append(f"writing the emails: {exc}")
        return 0
    if written:
        _report_unwritten(errors, "id IN (SELECT value FROM json_each(?))", ids)
    return written


def note_errors(errors: Sequence[str]) -> None:
    """Errors found after a run (its emails written by the window's
    courier) added to the newest run's log entry, where they belong."""
    if not errors:
        return
    with database.atomic():
        last = AutomationRun.select().order_by(AutomationRun.id.desc()).first()
        if last is not None:
            (AutomationRun.update(errors=json.dumps([*json.loads(last.errors or "[]"), *errors]))
             .where(AutomationRun.id == last.id).execute())


def _deliver(counts: dict[str, int], errors: list[str]) -> None:
    from billdesk.services import outbox

    try:
        if not outbox.is_configured():
            return  # mail is not set up: the messages wait in the outbox
        result = outbox.deliver()
    except Exception as exc:  # delivery never fails the run: the outbox keeps them
        errors.append(f"delivery: {exc}")
        return
    counts["emails_sent"] = counts.get("emails_sent", 0) + int(getattr(result, "sent", 0))


def run(until: dt.date | None = None, *, trigger: str = "cli",
        clock: clocks.Clock | dt.datetime | None = None, progress: Progress | None = None,
        deliver: bool = True, write: bool = True) -> RunReport:
    """Run every pending day up to ``until`` (default: the clock's today),
    then write the text of the invoice emails its last day queued
    (``write_emails``; each earlier day's are written at that day's end;
    ``write=False``: the window's courier writes them, a batch at a time)
    and deliver the outbox. Every timestamp written comes from ``clock``
    (default: the system clock, or ``BILLDESK_NOW``). One run at a time
    per book, across threads and processes: a second one is refused
    (Conflict 'run')."""
    with _run_lock(), clocks.frozen(clock or clocks.system_now), _collector_paused():
        return _run(until, trigger, progress, deliver, write)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the run. The run makes
    millions of short-lived tuples and dicts (rows, contexts); reference
    counting frees them as always, but their sheer number keeps starting
    collections that walk every live object again and again (some 5 % of
    the run's time). It is on again, as before, when the run ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


_thread_lock = threading.Lock()


def _lock_file() -> int:
    name = getattr(database.obj, "database", "") if database.obj is not None else ""
    if name and name != ":memory:" and not str(name).startswith("file:"):
        path = Path(f"{name}.automation-lock")
    else:
        path = paths.data_dir() / "automation.lock"
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # the book's folder is read-only: lock in the data folder
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
        return os.open(paths.data_dir() / f"automation-{digest}.lock",
                       os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def _run_lock() -> Iterator[None]:
    """The operating system drops the lock when its process dies (even by
    kill -9): a run that holds it knows a 'Running' row is a crash's."""
    busy = Conflict("run", "another automation run is in progress on this book; "
                           "try again when it has finished")
    if not _thread_lock.acquire(blocking=False):
        raise busy
    try:
        fd = _lock_file()
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                except OSError:
                    raise busy from None
            else:
                import fcntl

                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise busy from None
            yield
        finally:
            os.close(fd)  # closing the file releases the lock
    finally:
        _thread_lock.release()


def _run(until: dt.date | None, trigger: str, progress: Progress | None,
         deliver: bool, write: bool) -> RunReport:
    if until is not None and not isinstance(until, dt.date):
        raise InvalidInput("date", f"{until!r} is not a date")
    if isinstance(until, dt.datetime):
        until = until.date()
    today = clocks.today()
    if until is not None and until > today:  # a typo would run months ahead, for good
        raise InvalidInput("date", f"{until.isoformat()} is after today ({today.isoformat()}): "
                                   "the daily run only runs days that have come")
    until = until or today
    started = time.monotonic()
    settings = automation_settings()
    days = pending_days(until)
    counts = {key: 0 for key in STEP_KEYS}
    errors: list[str] = []
    backup_path = ""
    total = len(days) * len(DAY_STEPS) + 1 + int(write)
    done = 0

    def tick(text: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, text)

    if days:
        from billdesk.services import backup

        copied = None
        if progress:  # (on a big book the copy takes a while: say what it is, and how far)
            progress(0, total, "Backing up the book")

            def copied(pages: int, of: int) -> None:
                progress(0, total, f"Backing up the book ({pages * 100 // max(of, 1)} %)")
        try:
            backup_path = str(backup.backup(reason="automation", progress=copied))
        except BilldeskError as exc:
            errors.append(f"backup: {exc.message}")
    with database.atomic():
        _close_stale_runs()
        run_row = AutomationRun.create(started_at=now(), trigger=trigger,
                                       days=",".join(d.isoformat() for d in days),
                                       status="Running")
    report = RunReport(run_row.id, [], counts, errors, 0, backup=backup_path)
    status = "Completed"
    if days and not backup_path:
        status = "Failed"  # no backup, no run
        days = []
    for day in days:
        ok, ctx = run_day(day, settings, counts=counts, errors=errors,
                          progress=lambda name, d=day: tick(f"{d.isoformat()}: "
                                                            f"{STEP_TITLES[name]}"),
                          write=day != days[-1])  # (the last day's: write_emails, below)
        report.unsuspended += ctx.unsuspended
        if not ok:
            status = "Failed"
            break
        with database.atomic():
            AutomationDay.insert(date=day, run=run_row.id, finished_at=now()
                                 ).on_conflict_replace().execute()
        report.days.append(day)
    try:  # a catch-up chases no invoice twice, nor reminds of a day gone by (on every
        # run: one killed after its last day ends as one clean run when run again)
        from billdesk.services import mail

        mail.withhold_stale(clocks.today())
    except Exception as exc:  # the messages wait as they are: delivery checks them again
        errors.append(f"holding back stale emails: {exc}")
    if write:  # (the window's courier writes and sends them beside the worker)
        tick("Writing the emails")
        write_emails(errors)
    if deliver:
        _deliver(counts, errors)
    tick("Delivering email")
    report.duration_ms = int((time.monotonic() - started) * 1000)
    report.status = status
    with database.atomic():
        AutomationRun.update(finished_at=now(), status=status,
                             days=",".join(d.isoformat() for d in report.days),
                             steps=json.dumps({k: counts.get(k, 0) for k in STEP_KEYS}),
                             errors=json.dumps(errors), duration_ms=report.duration_ms
                             ).where(AutomationRun.id == run_row.id).execute()
    return report


def _close_stale_runs() -> None:
    """A run still 'Running' in the log was cut off (a crash, a kill): the
    caller holds the run lock, so no other run is writing that row. Its
    days become those it finished (the rest run again now); the error names
    the ones it did not."""
    for cut in AutomationRun.select().where(AutomationRun.status == "Running"):
        done = [day.date for day in AutomationDay.select(AutomationDay.date)
                .where(AutomationDay.run == cut.id).order_by(AutomationDay.date)]
        planned = [dt.date.fromisoformat(text) for text in cut.days.split(",") if text]
        left = [day for day in planned if day not in done]
        error = "the run was interrupted" + (f" before it finished {describe_days(left)}"
                                             if left else "")
        (AutomationRun.update(status="Failed", errors=json.dumps([error]),
                              days=",".join(day.isoformat() for day in done))
         .where(AutomationRun.id == cut.id).execute())


def describe_days(days: Iterable[dt.date]) -> str:
    """"2026-03-01" or "2026-03-01 to 2026-03-04 (4 days)"."""
    days = list(days)
    if not days:
        return "no days"
    if len(days) == 1:
        return days[0].isoformat()
    return f"{days[0].isoformat()} to {days[-1].isoformat()} ({len(days)} days)"
