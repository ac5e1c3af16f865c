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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import NotFound
from billdesk.views.errors import show_error
from billdesk.views.models.email_tables import (
    STATUS_COLOURS,
    EmailColumn,
    EmailTableModel,
    cc_text,
    status_colour,
    status_text,
)
from billdesk.views import mailer
from billdesk.views.ops import Changes, Operations
from billdesk.views.record_tab import RecordTab, kept_splitter, link_list

log = logging.getLogger("billdesk.views.emails")


def deliver(ops: Operations, *, parent: QWidget | None = None, quiet: bool = True,
            on_done: Callable[[Any], None] | None = None, retry_now: bool = False) -> None:
    """Send what is due (``mailer.deliver``: in batches, the server talked
    to beside the database worker, never on it). A server
    that cannot be reached leaves the mail queued with its error (shown in
    the log). ``quiet`` only logs why nothing went (mail not set up, the
    server unreachable); otherwise it is said in a message box. ``retry_now``
    tries the messages waiting out a back-off too."""
    def done(result: Any) -> None:
        reason = getattr(result, "reason", "")
        if reason:
            if quiet:
                log.info("delivery: %s", reason)
            else:
                text = reason[:1].upper() + reason[1:]
                QMessageBox.information(parent, "Mail not sent",
                                        f"{text.rstrip('.')}.\n\nThe messages wait in the "
                                        "outbox and are sent when the server answers.")
        if on_done is not None:
            on_done(result)

    def failed(exc: BaseException) -> None:
        if quiet:
            log.warning("delivery did not run: %s", exc)
        else:
            show_error(parent, exc)

    mailer.deliver(ops, retry_now=retry_now, on_done=done, on_error=failed)


def resend(parent: QWidget, ops: Operations, row: Any,
           on_error: Callable[[], None] | None = None) -> bool:
    """Put a failed or sent message back in the outbox (a sent one after
    asking: the recipients get a second copy) and deliver. Returns whether
    it went ahead."""
    from billdesk.services import outbox

    if row.status == "Sent" and QMessageBox.question(
            parent, "Send again",
            f"“{row.subject}” was sent on {row.sent_at or row.created_at:%Y-%m-%d %H:%M}. "
            "Send it again? The recipients get a second copy; the log keeps the first "
            "as sent.") != QMessageBox.StandardButton.Yes:
        return False
    if row.status == "Failed" and outbox.held_back(row.error) and QMessageBox.question(
            parent, "Send anyway",
            f"“{row.subject}” was held back: {row.error.removeprefix(outbox.HELD_BACK)}. "
            "Send it anyway?") != QMessageBox.StandardButton.Yes:
        return False
    email_id = row.id

    def failed(exc: BaseException) -> None:
        show_error(parent, exc)
        if on_error is not None:
            on_error()

    ops.run(lambda: outbox.resend(email_id),
            changes=Changes(emails=True, client_id=row.client_id),
            on_done=lambda _r: deliver(ops, parent=parent), on_error=failed)
    return True


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


class EmailView(QWidget):
    """One message as sent: date, to, cc, subject, status (with its error
    and attempts), the text, and the attachments."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 6, 0, 0)
        layout.addLayout(self.heading)
        layout.addWidget(self.body, 1)
        self.attachments_label = QLabel("Attachments:")
        layout.addWidget(self.attachments_label)
        layout.addWidget(self.attachments)

    def show_id(self, email_id: int | None) -> Any:
        """Read that message whole and show it (nothing for None or one
        gone meanwhile); returns it (``mail.EmailRow``) or None."""
        from billdesk.services import mail

        row = None
        if email_id is not None:
            try:
                row = mail.get_email(email_id)
            except NotFound:
                row = None
        self.show_email(row)
        return row

    def show_email(self, row: Any) -> None:
        f = self.fields
        if row is None:
            for label in f.values():
                label.clear()
            self.body.clear()
            self.body.setPlaceholderText("Select a message to read it.")
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
        f["cc"].setText(cc_text(row.cc) or "—")
        f["subject"].setText(row.subject)
        found = status_colour(row)
        colour = found.name() if found is not None else ""
        f["status"].setTextFormat(Qt.TextFormat.RichText)
        text = html.escape(status_text(row))
        attempts = getattr(row, "attempts", 0) or 0
        if attempts and row.status != "Sent":
            text += f" — {attempts} attempt{'s' if attempts != 1 else ''}"
        f["status"].setText(f'<b style="color:{colour}">{text}</b>' if colour else text)
        self.body.setPlainText(row.body)
        self.body.setPlaceholderText("Its text is written from the template before it is sent."
                                     if getattr(row, "pending", False)
                                     else "(This message has no text.)")
        self.attachments.clear()
        attached = list(getattr(row, "attachments", None) or ())
        for attachment in attached:
            self.attachments.addItem(_attachment_name(attachment))
        if attached:  # as tall as its rows (up to four): the text keeps the room
            line = self.attachments.sizeHintForRow(0)
            self.attachments.setFixedHeight(min(len(attached), 4) * line
                                            + 2 * self.attachments.frameWidth() + 4)
        self.attachments.setVisible(bool(attached))
        self.attachments_label.setVisible(bool(attached))


class EmailsTab(RecordTab):
    """Every email of one client (E4)."""

    NOUN = "email"
    EMPTY = ("No emails yet. Invoices, payments and reminders send theirs; Send email… writes "
             "one now.")
    SELECT_FIRST = True  # the newest, to read at once

    def __init__(self, window: Any) -> None:
        super().__init__(window, window)
        self.window_ = window
        self._table(EmailTableModel(self), "emailsTable", EmailColumn.SUBJECT,
                    ((EmailColumn.DATE, 120), (EmailColumn.TO, 190), (EmailColumn.CC, 170),
                     (EmailColumn.STATUS, 170)))
        bar = self._button_bar((
            ("sendEmail", "Send email…", lambda: self.window_.send_email()),
            ("resendEmail", "Resend", self._resend,
             "Put the message back in the outbox and send it again"),
            ("sendNow", "Send now", self._send_now, "Send what waits in the outbox now")),
            "emailCount")
        self.compose = self.buttons["sendEmail"]
        self.resend = self.buttons["resendEmail"]
        self.send_now = self.buttons["sendNow"]

        # the selected message
        self.detail = EmailView(self)
        self.fields, self.body, self.attachments = (self.detail.fields, self.detail.body,
                                                    self.detail.attachments)

        self.splitter = kept_splitter("emailsSplitter", "client/emailsSplitter", self.view,
                                      self.detail, [260, 320])

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._follow_selection(self._selection)

    # --- reading

    def count_text(self, records: list[Any]) -> str:
        queued = sum(1 for row in records if row.status in ("Queued", "Sending"))
        return super().count_text(records) + (f", {queued} waiting in the outbox"
                                              if queued else "")

    def _selection(self) -> None:
        row = self.detail.show_id(self.selected_id())
        self.resend.setEnabled(row is not None and row.status in ("Failed", "Sent"))
        self.send_now.setEnabled(any(self.model.row(n).status == "Queued"
                                     for n in range(self.model.rowCount())))

    def show_email(self, row: Any) -> None:
        self.detail.show_email(row)

    # --- writing

    def _resend(self) -> None:
        row = self.selected()
        if row is not None and resend(self, self.window_.ops, row, self._selection):
            self.resend.setEnabled(False)

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
        self.list = link_list("recentEmailList", self._open)
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
        # each message on two lines — the subject, then its date and status
        # beneath — so that a narrow column cuts neither
        lines = []
        for row in self.rows:
            colour = STATUS_COLOURS.get(row.status, "")
            status = html.escape(row.status)
            subject = row.subject if len(row.subject) <= 44 else row.subject[:42].rstrip() + "…"
            lines.append(
                f"<p style='margin:0 0 4px 0'><a href='{row.id}'>{html.escape(subject)}</a><br>"
                f"<span style='color:#777'>{row.created_at:%Y-%m-%d}</span> &nbsp;"
                f"<span style='color:{colour or '#777'}'>{status}</span></p>")
        self.list.setText("".join(lines))
        self.list.setToolTip("\n".join(f"{r.created_at:%Y-%m-%d %H:%M}  {r.subject}  "
                                       f"({status_text(r)})" for r in self.rows))

    def _open(self, link: str) -> None:
        self.window_.show_email(int(link))
