"""The automation run log (A3): one row per run, newest first, from
``automation.runs()``; the helpers also word a run for the details pane
and the status bar."""

from __future__ import annotations

import datetime as dt
import json
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from billdesk.services.automation import TRIGGER_LABELS
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel

# The report's steps, in the run's order, with how the window names them.
STEPS: tuple[tuple[str, str, str], ...] = (
    # key, label in the details, words for a summary line ("one|many")
    ("invoices_created", "Invoices created", "invoice|invoices"),
    ("credit_applied", "Credit applied", "credit applied|credits applied"),
    ("reminders", "Payment reminders", "reminder|reminders"),
    ("overdue_notices", "Overdue notices", "overdue notice|overdue notices"),
    ("late_fees", "Late fees", "late fee|late fees"),
    ("suspended", "Services suspended", "suspended|suspended"),
    ("terminated", "Services terminated", "terminated|terminated"),
    ("status_changes", "Client status changes", "status change|status changes"),
    ("quotes_expired", "Quotes expired", "quote expired|quotes expired"),
    ("recurring_invoices", "Recurring invoices", "recurring invoice|recurring invoices"),
    ("billable_items", "Billable items invoiced", "billable item|billable items"),
    ("emails_queued", "Emails queued", "email queued|emails queued"),
    ("emails_sent", "Emails sent", "email sent|emails sent"),
)
STEP_LABELS = {key: label for key, label, _ in STEPS}
STATUS_COLOURS = {"Completed": "#2e7d32", "Failed": "#c62828", "Running": "#1565c0"}


# --- reading a run (RunRow or RunReport) whatever shape its fields have ---------

def _loaded(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return [part for part in str(value).split(",") if part.strip()] \
                if isinstance(default, list) else default
    return value


def run_days(run: Any) -> list[dt.date]:
    days = _loaded(getattr(run, "days", None), [])
    out = []
    for day in days:
        if isinstance(day, dt.datetime):
            out.append(day.date())
        elif isinstance(day, dt.date):
            out.append(day)
        else:
            try:
                out.append(dt.date.fromisoformat(str(day).strip()))
            except ValueError:
                continue
    return out


def run_steps(run: Any) -> dict[str, int]:
    steps = _loaded(getattr(run, "steps", None), {})
    return {key: int(steps.get(key, 0) or 0) for key, _label, _word in STEPS} | {
        key: int(value or 0) for key, value in steps.items() if key not in STEP_LABELS}


def run_errors(run: Any) -> list[str]:
    return [str(e) for e in _loaded(getattr(run, "errors", None), [])]


def days_text(days: list[dt.date], limit: int = 6) -> str:
    """"2026-11-28" · "2026-11-26 – 2026-11-28 (3 days)" · "…, 5 days"."""
    if not days:
        return "—"
    if len(days) == 1:
        return days[0].isoformat()
    consecutive = all((b - a).days == 1 for a, b in zip(days, days[1:]))
    if consecutive:
        return f"{days[0].isoformat()} – {days[-1].isoformat()} ({len(days)} days)"
    shown = ", ".join(d.isoformat() for d in days[:limit])
    return shown + (f", … ({len(days)} days)" if len(days) > limit else "")


def duration_text(ms: Any) -> str:
    if ms is None:
        return ""
    ms = int(ms)
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def summary(steps: dict[str, int], limit: int | None = None) -> str:
    """"12 invoices, 3 reminders, 1 suspended" (the steps that did something)."""
    parts = [f"{steps[key]:,} {words.split('|')[steps[key] != 1]}"
             for key, _label, words in STEPS if steps.get(key)]
    if limit is not None and len(parts) > limit:
        parts = parts[:limit] + ["…"]
    return ", ".join(parts) or "nothing to do"


class RunColumn(IntEnum):
    STARTED = 0
    TRIGGER = 1
    DAYS = 2
    DURATION = 3
    STATUS = 4
    INVOICES = 5
    EMAILS = 6
    ERRORS = 7
    DID = 8


class RunTableModel(_ListModel):
    """The run log, newest first."""

    HEADERS = {RunColumn.STARTED: "Started", RunColumn.TRIGGER: "Started by",
               RunColumn.DAYS: "Days", RunColumn.DURATION: "Duration",
               RunColumn.STATUS: "Status", RunColumn.INVOICES: "Invoices",
               RunColumn.EMAILS: "Emails", RunColumn.ERRORS: "Errors",
               RunColumn.DID: "What it did"}
    MONEY_COLUMNS = frozenset({RunColumn.DURATION, RunColumn.INVOICES, RunColumn.EMAILS,
                               RunColumn.ERRORS})
    TRIGGERS = TRIGGER_LABELS

    def load(self, limit: int = 200) -> None:
        from billdesk.services import automation

        self.set_rows(list(automation.runs(limit=limit)))

    def row_of(self, run_id: int) -> int | None:
        for n, run in enumerate(self._rows):
            if getattr(run, "id", None) == run_id:
                return n
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self._rows[index.row()]
        column = RunColumn(index.column())
        if role == IdRole:
            return getattr(run, "id", None)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        status = getattr(run, "status", "")
        if role == Qt.ItemDataRole.ForegroundRole and column == RunColumn.STATUS:
            colour = STATUS_COLOURS.get(status)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.ForegroundRole and column == RunColumn.ERRORS and run_errors(run):
            return QColor(STATUS_COLOURS["Failed"])
        if role not in (Qt.ItemDataRole.DisplayRole, SortRole, Qt.ItemDataRole.ToolTipRole):
            return None
        steps = run_steps(run)
        started = getattr(run, "started_at", None)
        if role == SortRole:
            sort = {RunColumn.STARTED: started, RunColumn.DURATION: getattr(run, "duration_ms", 0),
                    RunColumn.INVOICES: steps["invoices_created"],
                    RunColumn.EMAILS: steps["emails_queued"],
                    RunColumn.ERRORS: len(run_errors(run))}
            if column in sort:
                return sort[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == RunColumn.ERRORS:
                return "\n".join(run_errors(run)) or None
            if column in (RunColumn.DID, RunColumn.DAYS):
                return summary(steps) if column == RunColumn.DID else days_text(run_days(run), 50)
            return None
        trigger = getattr(run, "trigger", "") or ""
        return {
            RunColumn.STARTED: f"{started:%Y-%m-%d %H:%M:%S}" if isinstance(started, dt.datetime)
            else str(started or ""),
            RunColumn.TRIGGER: self.TRIGGERS.get(trigger, trigger.capitalize()),
            RunColumn.DAYS: days_text(run_days(run), 3),
            RunColumn.DURATION: duration_text(getattr(run, "duration_ms", None))
            if status != "Running" else "…",
            RunColumn.STATUS: status,
            RunColumn.INVOICES: f"{steps['invoices_created']:,}",
            RunColumn.EMAILS: f"{steps['emails_queued']:,}",
            RunColumn.ERRORS: f"{len(run_errors(run)):,}",
            RunColumn.DID: summary(steps, 5) if status != "Running" else "running…",
        }[column]
