"""The Email log window (E3, E4 for every client, as WHMCS's email message
log): the messages waiting in the outbox — or those that failed, those
sent, all — newest first, with the selected one in full; Send now,
Resend and Open client. Opened from Automation → Email log… and from the
status bar's count of messages waiting. It follows every write that
touches email (``Changes(emails=True)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from billdesk import clock
from billdesk.views.emails_tab import EmailView, deliver, resend
from billdesk.views.models import IdRole
from billdesk.views.models.email_tables import EmailLogModel, LogColumn
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import PlaceholderTable, setup_table

SHOWS = (("waiting", "Waiting in the outbox"), ("failed", "Failed"), ("sent", "Sent"),
         ("all", "All emails"))
EMPTY = {"waiting": "Nothing waits in the outbox: every message has been sent.",
         "failed": "No message has failed.",
         "sent": "No message has been sent yet.",
         "all": "No emails yet. billdesk writes them here as it makes them: invoices, "
                "reminders, receipts, and what you send from a client's window."}


def waiting_text(waiting: int, configured: bool, trouble: Any = None, *,
                 short: bool = False) -> str:
    """The status bar's (``short``) and the window's line about the
    outbox: how many wait, and why when mail is not set up or the server
    failed (``outbox.Trouble``) — with when it is tried again."""
    if not waiting:
        return ""
    text = f"{waiting:,} email{'s' if waiting != 1 else ''} waiting"
    if not configured:
        return text + " (mail is not set up)"
    if trouble is None:
        return text
    when = ""
    if trouble.next_try is not None:
        when = f"; next try {trouble.next_try:%H:%M}" if trouble.next_try.date() == \
            clock.now().date() else f"; next try {trouble.next_try:%Y-%m-%d %H:%M}"
    if short:
        return f"{text} — the mail server failed{when}"
    return f"{text} — not sent: {trouble.error}{when}"


class EmailLogWindow(QWidget):
    """Every client's emails; by default those waiting in the outbox."""

    def __init__(self, ops: Operations, open_client: Callable[[int], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("emailLogWindow")
        self.setWindowTitle("Email log")
        self.ops = ops
        self.open_client_ = open_client

        self.show_box = QComboBox()
        self.show_box.setObjectName("emailLogShow")
        for key, label in SHOWS:
            self.show_box.addItem(label, key)
        self.show_box.currentIndexChanged.connect(lambda _n: self.reload())
        self.state = QLabel()
        self.state.setObjectName("outboxState")
        self.state.setWordWrap(True)
        self.send_now = QPushButton("Send now")
        self.send_now.setObjectName("logSendNow")
        self.send_now.setToolTip("Send what waits in the outbox now, without waiting for "
                                 "the retry times")
        self.send_now.clicked.connect(self._send_now)
        self.resend_button = QPushButton("Resend")
        self.resend_button.setObjectName("logResend")
        self.resend_button.setToolTip("Put the message back in the outbox and send it again")
        self.resend_button.clicked.connect(self._resend)
        self.client_button = QPushButton("Open client")
        self.client_button.setObjectName("logOpenClient")
        self.client_button.clicked.connect(self._open_client)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.show_box)
        top.addWidget(self.state, 1)
        for button in (self.send_now, self.resend_button, self.client_button):
            top.addWidget(button)

        self.model = EmailLogModel(self)
        self.view = PlaceholderTable()
        self.view.setObjectName("emailLog")
        self.view.setModel(self.model)
        setup_table(self.view, LogColumn.SUBJECT)
        for column, width in ((LogColumn.DATE, 120), (LogColumn.CLIENT, 170),
                              (LogColumn.TO, 220), (LogColumn.STATUS, 170)):
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.view.doubleClicked.connect(lambda _i: self._open_client())
        self.detail = EmailView()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("emailLogSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.resize(1100, 720)
        self._restore()
        ops.changed.connect(self._changed)
        self.reload()

    # --- reading ------------------------------------------------------------------
    @property
    def show_key(self) -> str:
        return self.show_box.currentData()

    def set_show(self, key: str) -> None:
        """Show that view (``SHOWS``' keys); the list is read again."""
        n = next(n for n, (k, _l) in enumerate(SHOWS) if k == key)
        if n == self.show_box.currentIndex():
            self.reload()
        else:
            self.show_box.setCurrentIndex(n)  # (reloads)

    def reload(self) -> None:
        """Read the list again: a refresh of the same view keeps the rows
        read so far, the scroll position and the selected message (or, when
        it has left the view, the one now in its place)."""
        from billdesk.services import outbox

        same = self.model.show == self.show_key
        current = self.selected_id() if same else None
        old_row = self.view.selectionModel().selectedRows()
        old_row = old_row[0].row() if old_row else 0
        scrolled = self.view.verticalScrollBar().value() if same else 0
        self.model.load(self.show_key)
        self.view.placeholder = EMPTY[self.show_key]
        waiting, configured = outbox.waiting_count(), outbox.is_configured()
        trouble = outbox.trouble() if waiting and configured else None
        self.state.setText(
            waiting_text(waiting, configured, trouble)
            + ("" if configured else " — they go once it is, in Settings → Mail")
            + (" (Send now tries at once)" if trouble is not None else "")
            if waiting else "The outbox is empty.")
        self.send_now.setEnabled(waiting > 0 and configured)
        count = self.model.rowCount()
        row = self.model.row_of(current) if current is not None else None
        if row is None and count:
            row = min(old_row, count - 1)
        if row is None:
            self.view.clearSelection()
            self._selection()
        else:
            index = self.model.index(row, 0)
            self.view.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.view.setCurrentIndex(index)
        self.view.verticalScrollBar().setValue(scrolled)

    def selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(IdRole) if rows else None

    def selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selection(self, *_: object) -> None:
        row = self.detail.show_id(self.selected_id())
        self.resend_button.setEnabled(row is not None and row.status in ("Failed", "Sent"))
        self.client_button.setEnabled(row is not None and row.client_id is not None)

    def _changed(self, changes: Changes) -> None:
        # (any write may queue a message — a payment its receipt, a quote
        # its delivery — or rename a client: the list is read from indexes;
        # a closed log is read again when it is opened)
        if self.isVisible():
            self.reload()

    # --- acting -------------------------------------------------------------------
    def _send_now(self) -> None:
        self.send_now.setEnabled(False)
        deliver(self.ops, parent=self, quiet=False, retry_now=True)

    def _resend(self) -> None:
        row = self.selected()
        if row is not None and resend(self, self.ops, row, self._selection):
            self.resend_button.setEnabled(False)

    def _open_client(self) -> None:
        row = self.selected()
        if row is not None and row.client_id is not None:
            window = self.open_client_(row.client_id)
            if window is not None and hasattr(window, "show_email"):
                window.show_email(row.id)

    # --- remembered view ----------------------------------------------------------
    def _restore(self) -> None:
        stored = QSettings()
        geometry = stored.value("emailLog/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = stored.value("emailLog/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([380, 320])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt)
        stored = QSettings()
        stored.setValue("emailLog/geometry", self.saveGeometry())
        stored.setValue("emailLog/splitter", self.splitter.saveState())
        super().closeEvent(event)
