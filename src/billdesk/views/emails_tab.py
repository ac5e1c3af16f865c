"""A client's email log (E4): the Emails tab — every message newest first
with date, to, cc, subject and status (a failed one with its error);
the selected one's body and attachments; Resend and Send now — and the
Summary tab's "Recent emails" box with the last five.

Writes (resend, delivery) run on the database worker; delivery reports
``Changes(emails=True)`` so every open log refreshes."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import NotFound
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole
from billdesk.views.models.email_tables import (
    STATUS_COLOURS,
    EmailColumn,
    EmailTableModel,
    status_text,
)
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table

log = logging.getLogger("billdesk.views.emails")


def deliver(ops: Operations, *, parent: QWidget | None = None, quiet: bool = True,
            on_done: Callable[[Any], None] | None = None, retry_now: bool = False) -> None:
    """Ask the outbox to send what is due, on the database worker. A server
    that cannot be reached leaves the mail queued with its error (shown in
    the log). ``quiet`` only logs why nothing went (mail not set up, the
    server unreachable); otherwise it is said in a message box. ``retry_now``
    tries the messages waiting out a back-off too."""
    from billdesk.services import outbox

    def done(result: Any) -> None:
        reason = getattr(result, "reason", "")
        if reason:
            if quiet:
                log.info("delivery: %s", reason)
            else:
                QMessageBox.information(parent, "billdesk", f"{reason}\n\nThe messages wait in "
                                        "the outbox and are sent when the server answers.")
        if on_done is not None:
            on_done(result)

    def failed(exc: BaseException) -> None:
        if quiet:
            log.warning("delivery did not run: %s", exc)
        else:
            show_error(parent, exc)

    ops.run(lambda: outbox.deliver(retry_now=retry_now), changes=Changes(emails=True),
            on_done=done,
            on_error=failed)


def _attachment_name(attachment: Any) -> str:
    name = getattr(attachment, "filename", None) or str(attachment)
    kind = getattr(attachment, "kind", "")
    size = getattr(attachment, "size", None)
    if kind == "invoice":
        return f"{name}  (invoice PDF, made when sent)"
    if kind == "quote":
        return f"{name}  (quote PDF, made when sent)"
    if size:
        return f"{name}  ({_size(size)})"
    return name


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


class EmailsTab(QWidget):
    """Every email of one client (E4)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.model = EmailTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, EmailColumn.SUBJECT)
        self.view.setObjectName("emailsTable")
        header = self.view.horizontalHeader()
        for column, width in ((EmailColumn.DATE, 120), (EmailColumn.TO, 190),
                              (EmailColumn.CC, 170), (EmailColumn.STATUS, 170)):
            header.resizeSection(column, width)

        self.compose = QPushButton("Send email…")
        self.compose.setObjectName("sendEmail")
        self.compose.clicked.connect(lambda: self.window_.send_email())
        self.resend = QPushButton("Resend")
        self.resend.setObjectName("resendEmail")
        self.resend.setToolTip("Put the message back in the outbox and send it again")
        self.resend.clicked.connect(self._resend)
        self.send_now = QPushButton("Send now")
        self.send_now.setObjectName("sendNow")
        self.send_now.setToolTip("Send what waits in the outbox now")
        self.send_now.clicked.connect(self._send_now)
        self.count = QLabel()
        self.count.setObjectName("emailCount")
        bar = QHBoxLayout()
        for button in (self.compose, self.resend, self.send_now):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.count)

        # the selected message
        self.heading = QFormLayout()
        self.heading.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("date", "Date"), ("to", "To"), ("cc", "Cc"),
                           ("subject", "Subject"), ("status", "Status")):
            value = QLabel()
            value.setObjectName(f"email_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.fields[key] = value
            self.heading.addRow(label + ":", value)
        self.body = QPlainTextEdit()
        self.body.setObjectName("emailBody")
        self.body.setReadOnly(True)
        self.body.setPlaceholderText("Select a message to read it.")
        self.attachments = QListWidget()
        self.attachments.setObjectName("emailAttachments")
        self.attachments.setMaximumHeight(self.fontMetrics().height() * 4 + 12)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(4, 6, 0, 0)
        dl.addLayout(self.heading)
        dl.addWidget(self.body, 1)
        self.attachments_label = QLabel("Attachments:")
        dl.addWidget(self.attachments_label)
        dl.addWidget(self.attachments)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("emailsSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(detail)
        self.splitter.setSizes([260, 320])
        state = QSettings().value("client/emailsSplitter")
        if state is not None:
            self.splitter.restoreState(state)
        self.splitter.splitterMoved.connect(lambda _pos, _index: QSettings().setValue(
            "client/emailsSplitter", self.splitter.saveState()))

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.model.modelReset.connect(self._selection)
        self._selection()

    # --- reading

    def load(self) -> None:
        keep = self.selected_id()
        try:
            self.model.load(self.window_.client_id)
        except NotFound:
            return
        n = self.model.rowCount()
        queued = sum(1 for r in range(n) if self.model.row(r).status in ("Queued", "Sending"))
        self.count.setText(f"{n} email{'s' if n != 1 else ''}"
                           + (f", {queued} waiting in the outbox" if queued else ""))
        if keep is None or not self.select(keep):
            if n:
                self.view.selectRow(0)  # the newest, to read at once

    def selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(IdRole) if rows else None

    def select(self, email_id: int) -> bool:
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if index.data(IdRole) == email_id:
                self.view.selectRow(row)
                self.view.scrollTo(index)
                return True
        return False

    def _selection(self) -> None:
        email_id = self.selected_id()
        row = None
        if email_id is not None:
            from billdesk.services import mail

            try:
                row = mail.get_email(email_id)
            except NotFound:
                row = None
        self.show_email(row)
        self.resend.setEnabled(row is not None and row.status in ("Failed", "Sent"))
        self.send_now.setEnabled(any(self.model.row(n).status == "Queued"
                                     for n in range(self.model.rowCount())))

    def show_email(self, row: Any) -> None:
        f = self.fields
        if row is None:
            for label in f.values():
                label.clear()
            self.body.clear()
            self.attachments.clear()
            self.attachments.setVisible(False)
            self.attachments_label.setVisible(False)
            return
        sent = getattr(row, "sent_at", None)
        when = f"{row.created_at:%Y-%m-%d %H:%M}"
        if sent:
            when += f" (sent {sent:%Y-%m-%d %H:%M})"
        elif row.status == "Queued" and getattr(row, "next_attempt", None) and row.attempts:
            when += f" (next try {row.next_attempt:%Y-%m-%d %H:%M})"
        f["date"].setText(when)
        f["to"].setText(row.to_addr)
        f["cc"].setText(row.cc or "—")
        f["subject"].setText(row.subject)
        colour = STATUS_COLOURS.get(row.status, "")
        f["status"].setTextFormat(Qt.TextFormat.RichText)
        text = html.escape(status_text(row))
        attempts = getattr(row, "attempts", 0) or 0
        if attempts and row.status != "Sent":
            text += f" — {attempts} attempt{'s' if attempts != 1 else ''}"
        f["status"].setText(f'<b style="color:{colour}">{text}</b>' if colour else text)
        self.body.setPlainText(row.body)
        self.attachments.clear()
        attached = list(getattr(row, "attachments", None) or ())
        for attachment in attached:
            self.attachments.addItem(_attachment_name(attachment))
        self.attachments.setVisible(bool(attached))
        self.attachments_label.setVisible(bool(attached))

    # --- writing

    def _resend(self) -> None:
        email_id = self.selected_id()
        if email_id is None:
            return
        from billdesk.services import outbox

        row = self.model.row(self.view.selectionModel().selectedRows()[0].row())
        if row.status == "Sent" and QMessageBox.question(
                self, "Send again",
                f"“{row.subject}” was sent on {row.sent_at or row.created_at:%Y-%m-%d %H:%M}. "
                "Send it again? The recipients get a second copy.") != QMessageBox.StandardButton.Yes:
            return
        self.resend.setEnabled(False)
        ops = self.window_.ops
        client_id = self.window_.client_id
        ops.run(lambda: outbox.resend(email_id),
                changes=Changes(emails=True, client_id=client_id),
                on_done=lambda _r: deliver(ops, parent=self),
                on_error=lambda exc: (show_error(self, exc), self._selection()))

    def _send_now(self) -> None:
        self.send_now.setEnabled(False)
        deliver(self.window_.ops, parent=self, quiet=False, retry_now=True)


class RecentEmails(QGroupBox):
    """The Summary tab's last five emails (C4): date, subject, status; a
    click opens the message on the Emails tab. (Send email… is among the
    billing panel's actions.)"""

    def __init__(self, window: Any) -> None:
        super().__init__("Recent emails", window)
        self.window_ = window
        self.setObjectName("recentEmails")
        self.list = QLabel()
        self.list.setObjectName("recentEmailList")
        self.list.setTextFormat(Qt.TextFormat.RichText)
        self.list.setWordWrap(True)
        self.list.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.list.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.list.linkActivated.connect(self._open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addStretch(1)
        self.rows: list[Any] = []

    def load(self, client_id: int) -> None:
        from billdesk.services import mail

        try:
            self.rows = list(mail.recent(client_id, 5))
        except NotFound:
            return
        if not self.rows:
            self.list.setText("<i>No emails yet.</i>")
            return
        lines = []
        for row in self.rows:
            colour = STATUS_COLOURS.get(row.status, "")
            status = html.escape(row.status)
            subject = row.subject if len(row.subject) <= 44 else row.subject[:42].rstrip() + "…"
            lines.append(
                f"<tr><td style='padding-right:8px'>{row.created_at:%Y-%m-%d}</td>"
                f"<td style='padding-right:8px'><a href='{row.id}'>{html.escape(subject)}</a></td>"
                f"<td style='color:{colour}'>{status}</td></tr>")
        self.list.setText("<table>" + "".join(lines) + "</table>")
        self.list.setToolTip("\n".join(f"{r.created_at:%Y-%m-%d %H:%M}  {r.subject}  "
                                       f"({status_text(r)})" for r in self.rows))

    def _open(self, link: str) -> None:
        self.window_.show_email(int(link))
