"""The Automation window (A3): every run with its days, duration, status,
per-step counts and errors; the selected run in detail; Run now, with its
progress and then its report, while the window stays responsive (the run
is on the database worker, see views/scheduler.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError
from billdesk.views import forms
from billdesk.views.errors import message_for
from billdesk.views.models import IdRole
from billdesk.views.models.automation_tables import (
    STEPS,
    RunColumn,
    RunTableModel,
    days_text,
    duration_text,
    run_days,
    run_errors,
    run_steps,
    summary,
)
from billdesk.views.scheduler import Scheduler
from billdesk.views.tables import PlaceholderTable, setup_table

OK_STYLE = "color: #2e7d32;"


def next_run_text(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if when is None:
        return "Automation is off (Settings → Automation)."
    if now is not None and when <= now:
        return "The next run is due now."
    return f"Next scheduled run: {when:%Y-%m-%d %H:%M}"


class RunDetails(QGroupBox):
    """One run: when, which days, how long, and what each step did."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.setObjectName("runDetails")
        self.fields: dict[str, QLabel] = {}
        info = QFormLayout()
        info.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in (("started", "Started"), ("finished", "Finished"),
                           ("trigger", "Started by"), ("days", "Days"),
                           ("duration", "Duration"), ("status", "Status")):
            value = QLabel()
            value.setObjectName(f"run_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            info.addRow(label, value)
            self.fields[key] = value

        counts = QGridLayout()
        counts.setHorizontalSpacing(16)
        counts.setVerticalSpacing(3)
        self.counts: dict[str, QLabel] = {}
        half = (len(STEPS) + 1) // 2
        for n, (key, label, _word) in enumerate(STEPS):
            row, col = n % half, (n // half) * 2
            name = QLabel(label)
            value = QLabel("0")
            value.setObjectName(f"step_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("000,000"))
            counts.addWidget(name, row, col)
            counts.addWidget(value, row, col + 1)
            self.counts[key] = value
        counts.setColumnStretch(1, 1)
        counts.setColumnStretch(3, 1)
        steps_box = QGroupBox("What each step did")
        steps_box.setLayout(counts)

        self.errors = QPlainTextEdit()
        self.errors.setObjectName("run_errors")
        self.errors.setReadOnly(True)
        self.errors.setPlaceholderText("No errors.")
        self.errors.setMaximumHeight(110)

        left = QVBoxLayout()
        left.addLayout(info)
        left.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addWidget(steps_box, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("Errors"))
        layout.addWidget(self.errors)
        self.show_run(None)

    def show_run(self, run: Any) -> None:
        if run is None:
            self.setTitle("Run")
            for label in self.fields.values():
                label.setText("—")
            for label in self.counts.values():
                label.setText("")
            self.errors.setPlainText("")
            self.setEnabled(False)
            return
        self.setEnabled(True)
        run_id = getattr(run, "id", None) or getattr(run, "run_id", None)
        self.setTitle(f"Run #{run_id}" if run_id else "Run")
        started = getattr(run, "started_at", None)
        finished = getattr(run, "finished_at", None)
        trigger = getattr(run, "trigger", "") or ""
        status = getattr(run, "status", "") or ""
        days = run_days(run)
        values = {
            "started": f"{started:%Y-%m-%d %H:%M:%S}" if isinstance(started, dt.datetime) else "—",
            "finished": f"{finished:%Y-%m-%d %H:%M:%S}" if isinstance(finished, dt.datetime)
            else ("still running" if status == "Running" else "—"),
            "trigger": RunTableModel.TRIGGERS.get(trigger, trigger.capitalize() or "—"),
            "days": days_text(days, 10) if days else "none (every day had run)",
            "duration": duration_text(getattr(run, "duration_ms", None)) or "—",
            "status": status or "—",
        }
        for key, text in values.items():
            self.fields[key].setText(text)
        steps = run_steps(run)
        for key, label in self.counts.items():
            label.setText(f"{steps.get(key, 0):,}")
            label.setToolTip("")
        if trigger != "cli" and not steps.get("emails_sent"):
            # (a run in the window leaves its mail to the courier, in the background)
            self.counts["emails_sent"].setText("—")
            self.counts["emails_sent"].setToolTip(
                "The window sends the run's emails in the background: see the Email log")
        self.errors.setPlainText("\n".join(run_errors(run)))


class AutomationWindow(QWidget):
    """The run log, the selected run, Run now and the run's report."""

    email_log_requested = Signal()  # the report's link to the Email log

    def __init__(self, scheduler: Scheduler, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("automationWindow")
        self.setWindowTitle("Automation — run log")
        self.scheduler = scheduler

        self.run_button = QPushButton("Run now")
        self.run_button.setObjectName("runNow")
        self.run_button.setToolTip("Run every day that has not run yet, up to today")
        self.run_button.clicked.connect(self.run_now)
        self.next_label = QLabel()
        self.next_label.setObjectName("nextRun")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("pendingDays")
        self.pending_label.setWordWrap(True)
        info = QVBoxLayout()
        info.setSpacing(2)
        info.addWidget(self.next_label)
        info.addWidget(self.pending_label)
        top = QHBoxLayout()
        top.addLayout(info, 1)
        top.addWidget(self.run_button, 0, Qt.AlignmentFlag.AlignTop)

        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("runProgress")
        self.progress_bar.setTextVisible(True)
        self.progress_text = QLabel()
        self.progress_text.setObjectName("progressText")
        self.progress_row = QWidget()
        pr = QHBoxLayout(self.progress_row)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.addWidget(self.progress_bar, 1)
        pr.addWidget(self.progress_text, 1)
        self.progress_row.hide()

        self.report = QLabel()
        self.report.setObjectName("runReport")
        self.report.setWordWrap(True)
        self.report.setFrameShape(QFrame.Shape.StyledPanel)
        self.report.setMargin(6)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.report.linkActivated.connect(lambda _link: self.email_log_requested.emit())
        self.report.hide()

        self.model = RunTableModel(self)
        self._run_listed = False  # the going run has been read into the list
        self.view = PlaceholderTable()
        self.view.setObjectName("runLog")
        self.view.placeholder = (
            "No runs yet. The daily run starts on its own at the hour set in Settings → "
            "Automation while billdesk is open (or from cron: billdesk automation run); "
            "Run now runs it at once.")
        self.view.setModel(self.model)
        setup_table(self.view, RunColumn.DID)
        from billdesk.views.tables import text_width

        # the longest days text the column holds: a range of a hundred days and more
        days = max(225, text_width(self.view, ["2026-12-02 – 2027-06-01 (182 days)"]))
        widths = {RunColumn.STARTED: 140, RunColumn.TRIGGER: 100, RunColumn.DAYS: days,
                  RunColumn.DURATION: 75, RunColumn.STATUS: 85, RunColumn.INVOICES: 65,
                  RunColumn.EMAILS: 60, RunColumn.ERRORS: 55}
        for column, width in widths.items():
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.details = RunDetails()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("automationSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.report)
        layout.addWidget(self.splitter, 1)
        self.resize(1120, 700)

        scheduler.run_started.connect(self._run_started)
        scheduler.progress.connect(self._progress)
        scheduler.run_finished.connect(self._run_finished)
        scheduler.run_failed.connect(self._run_failed)
        scheduler.next_run_changed.connect(self._show_next)
        self._restore()
        self.reload()
        if scheduler.running:
            self._run_started([])

    # --- loading ----------------------------------------------------------------
    def reload(self, select: int | None = None) -> None:
        current = select if select is not None else self.selected_id()
        self.model.load()
        row = self.model.row_of(current) if current is not None else None
        self._select_row(0 if row is None and self.model.rowCount() else row)
        self._show_next()

    def _select_row(self, row: int | None) -> None:
        if row is None:
            self.details.show_run(None)
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                          | QItemSelectionModel.SelectionFlag.Rows)
        self.view.setCurrentIndex(index)
        self.details.show_run(self.model.row(row))

    def selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(IdRole) if rows else None

    def _selection_changed(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        self.details.show_run(self.model.row(rows[0].row()) if rows else None)

    def _show_next(self, *_: object) -> None:
        try:
            when = self.scheduler.next_run()
            pending = self.scheduler.pending_days()
        except BilldeskError:
            when, pending = None, []
        self.next_label.setText(next_run_text(when, self.scheduler.now()))
        if self.scheduler.running:
            self.pending_label.setText("A run is going.")
        elif pending:
            self.pending_label.setText(f"Run now runs: {days_text(pending, 8)}")
        else:
            self.pending_label.setText("Up to date: every day up to today has run.")

    # --- running ----------------------------------------------------------------
    def run_now(self) -> None:
        """Run every pending day up to today; several days are shown first."""
        if self.scheduler.running:
            return
        today = self.scheduler.now().date()
        pending = self.scheduler.pending_days(today)
        if not pending:
            QMessageBox.information(self, "Run now", f"Every day up to {today.isoformat()} has "
                                    "already run; there is nothing to do. (A day never runs twice.)")
            return
        if len(pending) > 1:
            answer = QMessageBox.question(
                self, "Run now", f"billdesk will run {len(pending)} days, one after another:\n\n"
                + "\n".join(d.isoformat() for d in pending[:31])
                + ("\n…" if len(pending) > 31 else "") + "\n\nRun them now?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.scheduler.run_now(today)

    def _run_started(self, days: list) -> None:
        self._run_listed = False
        self.run_button.setEnabled(False)
        self.report.hide()
        self.progress_bar.setRange(0, 0)  # busy until the first progress
        self.progress_text.setText(f"Running {days_text(days)}…" if days else "Running…")
        self.progress_row.show()
        self.pending_label.setText("A run is going.")

    def _progress(self, done: int, total: int, text: str) -> None:
        if done >= 1 and not self._run_listed:  # in the log now ('Running'): list it once
            self._run_listed = True
            self.reload()
        if total > 0:
            if self.progress_bar.maximum() != total:
                self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
        self.progress_text.setText(text)

    def _run_finished(self, report: Any) -> None:
        self.progress_row.hide()
        self.run_button.setEnabled(True)
        steps = run_steps(report)
        errors = run_errors(report)
        days = run_days(report)
        took = duration_text(getattr(report, "duration_ms", None))
        completed = getattr(report, "status", "Completed") == "Completed"
        head = "Run finished" if completed else "Run stopped"
        text = (f"<b>{head}</b>{' in ' + took if took else ''} — "
                f"{days_text(days) if days else 'no day finished' if not completed else 'no day was pending'}"
                f": {summary(steps)}.")
        if errors:
            text += (f" <span style='color:#c62828'>{len(errors)} error"
                     f"{'s' if len(errors) != 1 else ''}, listed below.</span>")
        if not completed:
            text += " The days it did not finish run again next time; nothing is done twice."
        text += self._outbox_text()
        self.report.setText(text)
        self.report.setStyleSheet(OK_STYLE if completed and not errors else "")
        self.report.show()
        self.reload(select=getattr(report, "run_id", None))

    def _outbox_text(self) -> str:
        """What waits in the outbox after the run, with a link to the log."""
        from billdesk.services import outbox

        try:
            waiting, configured = outbox.waiting_count(), outbox.is_configured()
        except Exception:  # (the report matters more than this line)
            return ""
        if not waiting:
            return ""
        return (f" {waiting:,} email{'s' if waiting != 1 else ''} "
                f"wait{'s' if waiting == 1 else ''} in the outbox"
                + ("" if configured else " (mail is not set up: Settings → Mail)")
                + ": <a href='emails'>Email log</a>.")

    def _run_failed(self, exc: BaseException) -> None:
        self.progress_row.hide()
        self.run_button.setEnabled(True)
        what = message_for(exc) if isinstance(exc, BilldeskError) else f"{type(exc).__name__}: {exc}"
        self.report.setText(f"<b>The run stopped:</b> {what}. The days it did not finish run "
                            "again next time; nothing is done twice.")
        self.report.setStyleSheet(forms.PROBLEM_STYLE)
        self.report.show()
        self.reload()

    # --- remembered view ----------------------------------------------------------
    def _restore(self) -> None:
        stored = QSettings()
        geometry = stored.value("automation/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = stored.value("automation/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([360, 300])
        header = stored.value("automation/header")
        if header is not None:
            self.view.horizontalHeader().restoreState(header)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt)
        stored = QSettings()
        stored.setValue("automation/geometry", self.saveGeometry())
        stored.setValue("automation/splitter", self.splitter.saveState())
        stored.setValue("automation/header", self.view.horizontalHeader().saveState())
        super().closeEvent(event)
