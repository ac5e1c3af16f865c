"""The client window's Tickets tab (F3): the client's support tickets,
browsed by status as in HostBill and WHMCS.

The list shows each ticket's number, subject, priority, status, last
update and how many messages it has, the latest activity first; the
selected ticket's thread below it. "Open ticket…" asks for a subject, a
priority and the opening message; "View…" (or a double-click) opens the
ticket: its whole thread (the client's messages set apart from staff
replies), a box to reply (as staff, or as the client when the owner
records what the client said), the status after the reply, "Send reply"
and "Close ticket". The status filter is kept in QSettings. Writes run on
the database worker and report ``Changes(tickets=True, client_id=…)``; an
archived client's tickets are read, not written (C11)."""

from __future__ import annotations

import html
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import NotFound
from billdesk.models import TICKET_PRIORITIES, TICKET_STATUSES
from billdesk.services import tickets
from billdesk.services.tickets import TicketDetail, TicketRecord
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel
from billdesk.views.ops import Changes
from billdesk.views.record_tab import RecordTab, confirmed, kept_splitter

# as WHMCS shows them
STATUS_COLOURS = {"Open": "#2e7d32", "Answered": "#1f3b57", "Customer reply": "#e65100",
                  "Closed": "#888888"}
PRIORITY_COLOURS = {"High": "#c62828", "Medium": "", "Low": "#6d6d6d"}
CLIENT_BACKGROUND = "#fff3e0"  # the client's messages
STAFF_BACKGROUND = "#eef3f9"  # staff replies
FILTERS = (("Active", "Active (not closed)"), ("All", "All tickets"),
           *((status, status) for status in TICKET_STATUSES))
FILTER_KEY = "client/ticketFilter"
DEFAULT_FILTER = "All"  # the client's Tickets tab lists all of them, as WHMCS's does
AUTOMATIC = "Automatic"


class TicketColumn(IntEnum):
    NUMBER = 0
    SUBJECT = 1
    PRIORITY = 2
    STATUS = 3
    UPDATED = 4
    REPLIES = 5


class TicketTableModel(_ListModel):
    """A client's tickets as the service orders them (latest activity
    first), those in ``status`` (a status, "Active", or None for all)."""

    HEADERS = {TicketColumn.NUMBER: "#", TicketColumn.SUBJECT: "Subject",
               TicketColumn.PRIORITY: "Priority", TicketColumn.STATUS: "Status",
               TicketColumn.UPDATED: "Last update", TicketColumn.REPLIES: "Replies"}
    MONEY_COLUMNS = frozenset({TicketColumn.REPLIES})  # right-aligned

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.status: str | None = None

    def load(self, client_id: int) -> None:
        self.set_rows(tickets.list_tickets(client_id, status=self.status))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ticket: TicketRecord = self._rows[index.row()]
        column = TicketColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {TicketColumn.NUMBER: f"#{ticket.id}", TicketColumn.SUBJECT: ticket.subject,
                    TicketColumn.PRIORITY: ticket.priority, TicketColumn.STATUS: ticket.status,
                    TicketColumn.UPDATED: f"{ticket.updated_at:%Y-%m-%d %H:%M}",
                    TicketColumn.REPLIES: str(ticket.replies_count)}[column]
        if role == SortRole:
            return {TicketColumn.NUMBER: ticket.id, TicketColumn.SUBJECT: ticket.subject.casefold(),
                    TicketColumn.PRIORITY: TICKET_PRIORITIES.index(ticket.priority),
                    TicketColumn.STATUS: TICKET_STATUSES.index(ticket.status),
                    TicketColumn.UPDATED: ticket.updated_at,
                    TicketColumn.REPLIES: ticket.replies_count}[column]
        if role == IdRole:
            return ticket.id
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = ""
            if column == TicketColumn.STATUS:
                colour = STATUS_COLOURS.get(ticket.status, "")
            elif column == TicketColumn.PRIORITY:
                colour = PRIORITY_COLOURS.get(ticket.priority, "")
            elif not ticket.active:
                colour = STATUS_COLOURS["Closed"]
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.FontRole and (
                (column == TicketColumn.STATUS and ticket.status == "Customer reply")
                or (column == TicketColumn.PRIORITY and ticket.priority == "High")):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == TicketColumn.REPLIES:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            by = "the client" if ticket.last_reply_by == "client" else "staff"
            return (f"{ticket.subject}\nOpened {ticket.created_at:%Y-%m-%d %H:%M}; last message "
                    f"by {by}")
        return None


def thread_html(detail: TicketDetail) -> str:
    """The ticket's messages, oldest first: each with who wrote it and
    when; the client's on their own colour, marked "Client"."""
    blocks = []
    for reply in detail.replies:
        client = reply.author == "client"
        who = html.escape(reply.name or ("Client" if client else "Staff"))
        role = "Client" if client else "Staff"
        background = CLIENT_BACKGROUND if client else STAFF_BACKGROUND
        colour = STATUS_COLOURS["Customer reply"] if client else STATUS_COLOURS["Answered"]
        body = html.escape(reply.message).replace("\n", "<br>")
        blocks.append(
            f"<table width='100%' cellpadding='6' cellspacing='0' "
            f"style='background:{background}; margin-bottom:8px'>"
            f"<tr><td><b style='color:{colour}'>{who}</b> "
            f"<span style='color:{colour}'>({role})</span>"
            f"<span style='color:#666'> — {reply.created_at:%Y-%m-%d %H:%M}</span></td></tr>"
            f"<tr><td>{body}</td></tr></table>")
    return "".join(blocks) or "<i>No messages.</i>"


def _status_box(name: str, automatic: bool) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    if automatic:
        box.addItem("Automatic (Answered / Customer reply)", None)
    for status in TICKET_STATUSES:
        box.addItem(status, status)
    return box


class OpenTicketDialog(QDialog):
    """A new ticket: subject, priority and the opening message (staff's,
    or the client's when "From the client" is ticked)."""

    def __init__(self, tab: TicketsTab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.setWindowTitle(f"Open ticket — {tab.window_.display_name or 'client'}")
        self.subject = QLineEdit()
        self.subject.setObjectName("ticketSubject")
        self.subject.setPlaceholderText("What it is about")
        self.priority = QComboBox()
        self.priority.setObjectName("ticketPriority")
        self.priority.addItems(list(TICKET_PRIORITIES))
        self.priority.setCurrentText("Medium")
        self.message = QPlainTextEdit()
        self.message.setObjectName("ticketMessage")
        self.message.setPlaceholderText("The first message")
        self.from_client = QCheckBox("The message is the client's (taken on the phone, by mail…)")
        self.from_client.setObjectName("ticketFromClient")
        form = QFormLayout()
        form.addRow("Subject:", self.subject)
        form.addRow("Priority:", self.priority)
        form.addRow("Message:", self.message)
        form.addRow("", self.from_client)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Open ticket")
        self.ok.setObjectName("openTicketOk")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for edited in (self.subject.textChanged, self.message.textChanged):
            edited.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 380)
        self.opened: TicketDetail | None = None

    def _check(self) -> None:
        self.ok.setEnabled(bool(self.subject.text().strip())
                           and bool(self.message.toPlainText().strip()))

    def save(self) -> None:
        if not self.ok.isEnabled():
            return
        client_id = self.tab.window_.client_id
        subject, message = self.subject.text(), self.message.toPlainText()
        priority = self.priority.currentText()
        author = "client" if self.from_client.isChecked() else "staff"
        self.buttons.setEnabled(False)

        def done(detail: TicketDetail) -> None:
            if shiboken6.isValid(self):
                self.opened = detail
                self.accept()

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                show_error(None, exc)
                return
            self.buttons.setEnabled(True)  # the typing stays to fix
            show_error(self, exc)

        self.tab.write(lambda: tickets.open_ticket(client_id, subject=subject, message=message,
                                                   priority=priority, author=author),
                       None, on_done=done, on_failed=failed)


class TicketDialog(QDialog):
    """One ticket: its thread, a reply box, the status after the reply,
    Send reply and Close ticket; the priority changes at once."""

    def __init__(self, tab: TicketsTab, ticket_id: int) -> None:
        super().__init__(tab)
        self.tab = tab
        self.ticket_id = ticket_id
        self.detail: TicketDetail | None = None
        self.title = QLabel()
        self.title.setObjectName("ticketTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        self.state = QLabel()
        self.state.setObjectName("ticketState")
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.priority = QComboBox()
        self.priority.setObjectName("ticketPriority")
        self.priority.addItems(list(TICKET_PRIORITIES))
        self.priority.setToolTip("Changes at once")
        self.priority.activated.connect(lambda _i: self._set_priority())
        head = QHBoxLayout()
        head.addWidget(self.state, 1)
        head.addWidget(QLabel("Priority:"))
        head.addWidget(self.priority)

        self.thread = QTextBrowser()
        self.thread.setObjectName("ticketThread")
        self.thread.setOpenLinks(False)

        self.reply_text = QPlainTextEdit()
        self.reply_text.setObjectName("ticketReply")
        self.reply_text.setPlaceholderText("Write a reply… (Ctrl+Enter sends it)")
        self.reply_text.setFixedHeight(self.reply_text.fontMetrics().height() * 5 + 14)
        self.as_client = QCheckBox("Reply as client")
        self.as_client.setObjectName("replyAsClient")
        self.as_client.setToolTip("Record what the client said (on the phone, by mail): "
                                  "the ticket becomes Customer reply")
        self.status = _status_box("replyStatus", automatic=True)
        self.status.setToolTip("The status after the reply: by default Answered for a staff "
                               "reply, Customer reply for the client's")
        self.send = QPushButton("Send reply")
        self.send.setObjectName("sendReply")
        self.send.setEnabled(False)
        self.send.clicked.connect(self.send_reply)
        self.close_ticket = QPushButton("Close ticket")
        self.close_ticket.setObjectName("closeTicketNow")
        self.close_ticket.clicked.connect(self.close_now)
        for button in (self.send, self.close_ticket):  # Enter in a box is not a click
            button.setAutoDefault(False)
        self.reply_text.textChanged.connect(self._check)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.reply_text)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.send_reply)
        options = QHBoxLayout()
        options.addWidget(self.as_client)
        options.addStretch(1)
        options.addWidget(QLabel("Status after:"))
        options.addWidget(self.status)
        actions = QHBoxLayout()
        actions.addWidget(self.close_ticket)
        actions.addStretch(1)
        actions.addWidget(self.send)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)

        self.reply_box = QWidget()
        rl = QVBoxLayout(self.reply_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.reply_text)
        rl.addLayout(options)
        rl.addLayout(actions)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(head)
        layout.addWidget(self.thread, 1)
        layout.addWidget(self.reply_box)
        layout.addWidget(self.buttons)
        self.resize(680, 620)
        self._busy = False
        self.load()

    # --- showing

    def load(self) -> None:
        """The ticket as stored; gone (deleted elsewhere) closes the dialog."""
        try:
            self.detail = detail = tickets.get(self.ticket_id)
        except NotFound:
            self.reject()
            return
        t = detail.ticket
        self.setWindowTitle(f"Ticket #{t.id} — {t.subject}")
        self.title.setText(f"<b>#{t.id}</b>&nbsp;&nbsp;{html.escape(t.subject)}")
        colour = STATUS_COLOURS.get(t.status, "")
        self.state.setText(f"Status: <b style='color:{colour}'>{html.escape(t.status)}</b>"
                           f"&nbsp;&nbsp; Opened {t.created_at:%Y-%m-%d %H:%M}, last update "
                           f"{t.updated_at:%Y-%m-%d %H:%M}")
        self.priority.setCurrentText(t.priority)
        self.thread.setHtml(thread_html(detail))
        bar = self.thread.verticalScrollBar()
        bar.setValue(bar.maximum())  # the latest message
        self._enable()

    def _enable(self) -> None:
        writable = not self.tab.read_only and not self._busy
        self.reply_box.setEnabled(not self.tab.read_only)
        self.priority.setEnabled(writable)
        self.close_ticket.setEnabled(writable and self.detail is not None
                                     and self.detail.status != "Closed")
        self._check()
        if self.tab.read_only:
            self.reply_text.setPlaceholderText("The client is archived: unarchive it to reply.")

    def _check(self) -> None:
        self.send.setEnabled(not self.tab.read_only and not self._busy
                             and bool(self.reply_text.toPlainText().strip()))

    # --- writing

    def _write(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> None:
        self._busy = True
        self._enable()

        def done(result: Any) -> None:
            if not shiboken6.isValid(self):  # closed meanwhile
                return
            self._busy = False
            if on_done is not None:
                on_done(result)
            self.load()

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                show_error(None, exc)
                return
            self._busy = False  # the typing stays to try again
            self._enable()
            show_error(self, exc)

        self.tab.write(fn, self.ticket_id, on_done=done, on_failed=failed)

    def send_reply(self) -> None:
        message = self.reply_text.toPlainText()
        if self.tab.read_only or self._busy or not message.strip():
            return
        ticket_id = self.ticket_id
        author = "client" if self.as_client.isChecked() else "staff"
        status = self.status.currentData()

        def sent(_detail: Any) -> None:
            self.reply_text.clear()
            self.as_client.setChecked(False)
            self.status.setCurrentIndex(0)

        self._write(lambda: tickets.reply(ticket_id, message=message, author=author,
                                          status=status), sent)

    def close_now(self) -> None:
        if self.tab.read_only or self._busy:
            return
        ticket_id = self.ticket_id
        self._write(lambda: tickets.close(ticket_id))

    def _set_priority(self) -> None:
        if self.detail is None or self.priority.currentText() == self.detail.ticket.priority:
            return
        ticket_id, priority = self.ticket_id, self.priority.currentText()
        self._write(lambda: tickets.set_priority(ticket_id, priority))

    def unsaved(self) -> bool:
        return bool(self.reply_text.toPlainText().strip())


class TicketsTab(RecordTab):
    """The support tickets of the window's client (F3)."""

    NOUN = "ticket"
    EMPTY = "No tickets yet. Open ticket… records a question or a request."

    def __init__(self, window: Any) -> None:
        super().__init__(window, window)
        self.window_ = window
        self.setObjectName("ticketsTab")
        self.dialog: TicketDialog | None = None  # the last ticket opened
        self.open_dialog: OpenTicketDialog | None = None  # the last "Open ticket…"
        self._table(TicketTableModel(self), "ticketsTable", TicketColumn.SUBJECT,
                    ((TicketColumn.NUMBER, 60), (TicketColumn.PRIORITY, 80),
                     (TicketColumn.STATUS, 120), (TicketColumn.UPDATED, 130),
                     (TicketColumn.REPLIES, 70)))
        self.view.doubleClicked.connect(lambda _index: self.view_selected())
        self.view.activated.connect(lambda _index: self.view_selected())
        bar = self._button_bar((
            ("openTicket", "Open ticket…", self.open_ticket,
             "Open a support ticket for the client"),
            ("viewTicket", "View…", self.view_selected, "Read the ticket and reply"),
            ("closeTicket", "Close ticket", self.close_selected),
            ("deleteTicket", "Delete…", self.delete_selected)), "ticketCount")
        self.filter = QComboBox()
        self.filter.setObjectName("ticketFilter")
        self.filter.setToolTip("Show the tickets in a status")
        for key, text in FILTERS:
            self.filter.addItem(text, key)
        stored = QSettings().value(FILTER_KEY, DEFAULT_FILTER)
        found = self.filter.findData(stored)
        self.filter.setCurrentIndex(found if found >= 0 else self.filter.findData(DEFAULT_FILTER))
        self._apply_filter()
        self.filter.currentIndexChanged.connect(lambda _i: self._filter_chosen())
        bar.addWidget(self.filter)

        self.reader = QTextBrowser()
        self.reader.setObjectName("ticketPreview")
        self.reader.setOpenLinks(False)
        self.reader.setPlaceholderText("Select a ticket to read its messages.")
        self.splitter = kept_splitter("ticketsSplitter", "client/ticketsSplitter", self.view,
                                      self.reader, [280, 220])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._delete_key(self.delete_selected)
        self._follow_selection(self._selection)

    # --- showing

    def _apply_filter(self) -> None:
        key = self.filter.currentData()
        self.model.status = None if key == "All" else key
        # what an empty list means depends on the filter
        self.view.placeholder = (self.EMPTY if key == "All" else
                                 f"No {'active' if key == 'Active' else key.lower()} tickets. "
                                 "All tickets lists every one; Open ticket… records a new one.")

    def _filter_chosen(self) -> None:
        QSettings().setValue(FILTER_KEY, self.filter.currentData())
        self._apply_filter()
        self.load()

    def count_text(self, records: list[TicketRecord]) -> str:
        text = super().count_text(records)
        key = self.filter.currentData()
        if key == "Active":
            return text.replace("ticket", "active ticket", 1)
        if key != "All":
            return f"{text} ({key})"
        active = sum(1 for t in records if t.active)
        return f"{text}, {active} active" if records else text

    def counts(self) -> dict[str, int]:
        """The client's tickets per status, "active" and "total" (for the Summary)."""
        return tickets.counts(self.window_.client_id)

    def set_read_only(self, read_only: bool) -> None:
        """An archived client's tickets (C11): read, not written."""
        self.read_only = read_only
        action = getattr(self.window_, "open_ticket_action", None)
        if action is not None:
            action.setEnabled(not read_only)
        self._selection()
        shown = self.shown_dialog()
        if shown is not None:
            shown._enable()

    def _selection(self) -> None:
        ticket = self.selected()
        self.buttons["openTicket"].setEnabled(not self.read_only)
        self.buttons["viewTicket"].setEnabled(ticket is not None)
        self.buttons["closeTicket"].setEnabled(ticket is not None and ticket.active
                                               and not self.read_only)
        self.buttons["deleteTicket"].setEnabled(ticket is not None and not self.read_only)
        if ticket is None:
            self.reader.clear()
            return
        try:
            self.reader.setHtml(thread_html(tickets.get(ticket.id)))
        except NotFound:
            self.reader.clear()

    def load(self) -> None:
        super().load()
        shown = self.shown_dialog()
        if shown is not None and not shown._busy:
            shown.load()

    # --- writing

    def write(self, fn: Callable[[], Any], keep: int | None, *,
              on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None) -> None:
        """``fn`` on the worker as a change of the client's tickets; the
        window reloads this tab and the Summary's counts when told. Then
        ``keep`` (or the ticket ``fn`` returned) is selected."""
        client_id = self.owner.client_id

        def done(result: Any) -> None:
            self.load()
            target = keep if keep is not None else getattr(result, "id", None)
            if isinstance(target, int):
                self.select(target)
            if on_done is not None:
                on_done(result)

        self.owner.ops.run(fn, changes=Changes(tickets=True, client_id=client_id), on_done=done,
                           on_error=on_failed or (lambda exc: show_error(self, exc)))

    def open_ticket(self) -> None:
        """Ask for a new ticket (the Client menu's "Open ticket…" too)."""
        refuse = getattr(self.window_, "refuse_archived", None)
        if self.read_only or (callable(refuse) and refuse()):
            return
        self.window_.tabs.setCurrentWidget(self)
        self.open_dialog = OpenTicketDialog(self)
        self.open_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.open_dialog.accepted.connect(self._opened)
        self.open_dialog.open()

    def _opened(self) -> None:
        dialog = self.open_dialog
        detail = dialog.opened if dialog is not None else None
        if detail is None:
            return
        if not self.select(detail.id) and self.filter.currentData() not in ("All", "Active"):
            self.filter.setCurrentIndex(self.filter.findData("All"))  # show the new one
            self.select(detail.id)

    def shown_dialog(self) -> TicketDialog | None:
        """The ticket dialog, while it is open."""
        dialog = self.dialog
        if dialog is None or not shiboken6.isValid(dialog) or not dialog.isVisible():
            return None
        return dialog

    def show_ticket(self, ticket_id: int) -> TicketDialog:
        """Open the ticket's dialog (one at a time)."""
        shown = self.shown_dialog()
        if shown is not None:
            if shown.ticket_id == ticket_id:  # (a double-click also activates)
                shown.raise_()
                shown.activateWindow()
                return shown
            shown.close()
        self.dialog = TicketDialog(self, ticket_id)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog.open()
        return self.dialog

    def view_selected(self) -> None:
        ticket = self.selected()
        if ticket is not None:
            self.show_ticket(ticket.id)

    def close_selected(self) -> None:
        ticket = self._editable()
        if ticket is None or not ticket.active:
            return
        ticket_id = ticket.id
        self.write(lambda: tickets.close(ticket_id), ticket_id)

    def delete_selected(self) -> None:
        ticket = self._editable()
        if ticket is None:
            return
        n = ticket.replies_count
        question = (f"Delete ticket #{ticket.id} “{ticket.subject}” and its {n} "
                    f"message{'' if n == 1 else 's'}?")
        if not confirmed(self, "Delete ticket", question):
            return
        ticket_id = ticket.id
        self.write(lambda: tickets.delete_ticket(ticket_id), None)

    def unsaved(self) -> bool:
        """Whether a reply is typed and not sent."""
        shown = self.shown_dialog()
        return shown is not None and shown.unsaved()
