"""The main window: toolbar, search and filters over the client list, and a
status bar with the database file and the count (JOURNEYS.md 1–2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from billdesk.models import CLIENT_STATUSES
from billdesk.services import clientlist, groups
from billdesk.views.client_window import ClientWindow
from billdesk.views.models.client_table import Column, ClientTableModel
from billdesk.views.ops import Changes, Operations

# What a restored backup may have changed: everything each window shows.
EVERYTHING = Changes(clients=True, contacts=True, groups=True, settings=True, billing=True,
                     services=True, products=True, orders=True, quotes=True, billable=True,
                     emails=True, pay_methods=True, tickets=True, affiliates=True)
from billdesk.views.scheduler import Scheduler
from billdesk.views.tables import PlaceholderTable


class ClientListModel(ClientTableModel):
    """The main list: archived clients (shown under "Show archived", C11)
    in grey italics."""

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN001, ANN201
        if index.isValid() and self.archived(index.row()):
            if role == Qt.ItemDataRole.FontRole:
                font = QApplication.font()
                font.setItalic(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                           QPalette.ColorRole.Text))
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Archived: read-only until unarchived"
            if role == Qt.ItemDataRole.DisplayRole and index.column() == Column.STATUS:
                return f"{super().data(index, role)}, archived"
        return super().data(index, role)

    def archived(self, row: int) -> bool:
        rows = self._rows
        return 0 <= row < len(rows) and bool(getattr(rows[row], "archived", False))


class ClientTableView(PlaceholderTable):
    """Fixed row heights and no per-row sizing: cheap with 100k rows."""

    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setSortingEnabled(True)
        self.setWordWrap(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def paintEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().paintEvent(event)
        self.painted.emit()


class MainWindow(QMainWindow):
    def __init__(self, ops: Operations, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.db_path = db_path
        self.client_windows: dict[int, ClientWindow] = {}
        self.automation_window = None  # AutomationWindow, made when first opened
        self.email_log_window = None  # EmailLogWindow, made when first opened
        self.activity_window = None  # ActivityWindow, made when first opened
        self.backups_dialog = None  # BackupsDialog, made when first opened
        self.catch_up_box: QMessageBox | None = None
        # The daily run (A1); the app starts it (tests drive it themselves).
        self.scheduler = Scheduler(ops, parent=self)
        self.setWindowTitle(f"billdesk — {db_path.name}")
        self.resize(1180, 720)

        self.model = ClientListModel(self)
        self.table = ClientTableView(self)
        self.table.setModel(self.model)
        self.table.activated.connect(self._open_index)
        self.table.horizontalHeader().customContextMenuRequested.connect(self._column_menu)

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search name, company, email, phone or id   (Ctrl+K)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)
        self.search.installEventFilter(self)

        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.addItem("All statuses", None)
        for status in CLIENT_STATUSES:
            self.status_filter.addItem(status, status)
        self.status_filter.currentIndexChanged.connect(self._filters_changed)
        self.group_filter = QComboBox(self)
        self.group_filter.setObjectName("groupFilter")
        self.group_filter.currentIndexChanged.connect(self._filters_changed)
        self._fill_groups()
        self.show_archived = QCheckBox("Show archived", self)
        self.show_archived.setObjectName("showArchived")
        self.show_archived.setToolTip("Archived clients too, in grey italics (hidden otherwise)")
        self.show_archived.toggled.connect(self._filters_changed)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(QLabel("Status:", self))
        bar.addWidget(self.status_filter)
        bar.addWidget(self.show_archived)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Group:", self))
        bar.addWidget(self.group_filter)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)

        self.count_label = QLabel(self)
        self._hint_shown = False  # the status bar says an archived client was named
        self.statusBar().addWidget(QLabel(f"Book: {db_path}", self), 1)
        self.automation_progress = QProgressBar(self)
        self.automation_progress.setObjectName("automationProgress")
        self.automation_progress.setMaximumWidth(160)
        self.automation_progress.setMaximumHeight(self.fontMetrics().height() + 4)
        self.automation_progress.setTextVisible(False)
        self.automation_progress.hide()
        self.automation_label = QLabel(self)
        self.automation_label.setObjectName("automationStatus")
        self.outbox_label = QLabel(self)  # "2,113 emails waiting", a link to the Email log
        self.outbox_label.setObjectName("outboxWaiting")
        self.outbox_label.setToolTip("Emails in the outbox, not sent yet: open the Email log")
        self.outbox_label.linkActivated.connect(lambda _link: self.open_email_log("waiting"))
        self.statusBar().addPermanentWidget(self.automation_progress)
        for label in (self.automation_label, self.outbox_label, self.count_label):
            label.setContentsMargins(14, 0, 4, 0)  # (apart: they do not run into each other)
            self.statusBar().addPermanentWidget(label)
        self._connect_scheduler()
        self._make_actions()

        self.model.total_changed.connect(self._update_count)
        self.model.modelReset.connect(self._update_placeholder)
        self.model.set_query(clientlist.ClientQuery())
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self._restore_view()
        ops.changed.connect(self._changed)
        self._show_next_run()
        self._show_outbox()

    # --- actions --------------------------------------------------------------
    def _make_actions(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)

        self.new_client_action = QAction("New client", self)
        self.new_client_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_client_action.setToolTip("Add a client (Ctrl+N)")
        self.new_client_action.triggered.connect(self.new_client)
        self.new_invoice_action = QAction("New invoice", self)
        self.new_invoice_action.setShortcut(QKeySequence("Ctrl+I"))
        self.new_invoice_action.setToolTip("A new invoice for the client selected in the list (Ctrl+I)")
        self.new_invoice_action.triggered.connect(self.new_invoice)
        self.search_action = QAction("Search", self)
        self.search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence("Ctrl+F")])
        self.search_action.setToolTip("Search clients (Ctrl+K)")
        self.search_action.triggered.connect(self.focus_search)
        self.groups_action = QAction("Client groups…", self)
        self.groups_action.triggered.connect(self.edit_groups)
        self.settings_action = QAction("Settings", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.edit_settings)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        self.run_automation_action = QAction("Run automation", self)
        self.run_automation_action.setToolTip("Run the daily automation now for every day that "
                                              "has not run, up to today")
        self.run_automation_action.triggered.connect(self.run_automation_now)
        self.run_now_action = QAction("Run now", self)
        self.run_now_action.triggered.connect(self.run_automation_now)
        self.run_log_action = QAction("Run log…", self)
        self.run_log_action.triggered.connect(self.open_automation)
        self.email_log_action = QAction("Email log…", self)
        self.email_log_action.setToolTip("Every client's emails: what waits in the outbox, "
                                         "what failed, what was sent")
        self.email_log_action.triggered.connect(lambda: self.open_email_log())
        self.activity_action = QAction("Activity log…", self)
        self.activity_action.setToolTip("Every client's changes, newest first; clients deleted "
                                        "and backups restored")
        self.activity_action.triggered.connect(lambda: self.open_activity_log())

        for action in (self.new_client_action, self.new_invoice_action, self.search_action,
                       self.run_automation_action, self.groups_action, self.settings_action):
            toolbar.addAction(action)
        self.backups_action = QAction("Backups…", self)
        self.backups_action.setToolTip("The book's backups: back up now, or restore one")
        self.backups_action.triggered.connect(self.open_backups)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.backups_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        clients_menu = self.menuBar().addMenu("&Clients")
        clients_menu.addAction(self.new_client_action)
        clients_menu.addAction(self.new_invoice_action)
        clients_menu.addAction(self.search_action)
        clients_menu.addAction(self.groups_action)
        clients_menu.addAction(self.activity_action)
        automation_menu = self.menuBar().addMenu("&Automation")
        automation_menu.addAction(self.run_now_action)
        automation_menu.addAction(self.run_log_action)
        automation_menu.addAction(self.email_log_action)
        help_menu = self.menuBar().addMenu("&Help")
        log_action = QAction("Where is the log file?", self)
        log_action.triggered.connect(self._show_log_location)
        help_menu.addAction(log_action)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def new_client(self) -> None:
        from billdesk.views.client_form import NewClientDialog

        dialog = NewClientDialog(self.ops, self)
        dialog.client_added.connect(self.open_client)
        dialog.open()

    def new_invoice(self) -> None:
        """Open the selected client and start a draft invoice in the editor."""
        index = self.table.currentIndex()
        client_id = self.model.client_id(index.row()) if index.isValid() else None
        if client_id is None:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.information(self, "New invoice", "Select the client in the list first "
                                    "(search for them with Ctrl+K).")
            return
        self.open_client(client_id).create_invoice()

    def edit_groups(self) -> None:
        from billdesk.views.groups_dialog import GroupsDialog

        GroupsDialog(self.ops, self).open()

    def edit_settings(self) -> None:
        from billdesk.views.settings_dialog import SettingsDialog

        SettingsDialog(self.ops, self).open()

    def _show_log_location(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from billdesk import paths

        QMessageBox.information(self, "billdesk", f"The log file is\n{paths.log_file()}")

    def open_client(self, client_id: int) -> ClientWindow:
        window = self.client_windows.get(client_id)
        if window is None:
            window = ClientWindow(client_id, self.ops)
            window.closed.connect(self._client_window_closed)
            self.client_windows[client_id] = window
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def _client_window_closed(self, client_id: int) -> None:
        self.client_windows.pop(client_id, None)

    # --- automation (A1-A3) -----------------------------------------------------
    def _connect_scheduler(self) -> None:
        scheduler = self.scheduler
        scheduler.catch_up_pending.connect(self._ask_catch_up)
        scheduler.run_started.connect(self._automation_started)
        scheduler.progress.connect(self._automation_progress)
        scheduler.run_finished.connect(self._automation_finished)
        scheduler.run_failed.connect(self._automation_failed)
        scheduler.emails_unwritten.connect(  # (after the run: its last day's invoice emails)
            lambda error: self.statusBar().showMessage(f"Automation run: {error}", 60_000))
        scheduler.next_run_changed.connect(self._show_next_run)

    def open_automation(self):  # noqa: ANN201 (AutomationWindow)
        from billdesk.views.automation_window import AutomationWindow

        if self.automation_window is None:
            self.automation_window = AutomationWindow(self.scheduler, self)
            self.automation_window.email_log_requested.connect(
                lambda: self.open_email_log("waiting"))
        self.automation_window.show()
        self.automation_window.raise_()
        self.automation_window.activateWindow()
        return self.automation_window

    # --- backups (D3, JOURNEYS 7) -------------------------------------------------
    def open_backups(self):  # noqa: ANN201 (BackupsDialog)
        from billdesk.views.backups_dialog import BackupsDialog

        if self.backups_dialog is None:
            self.backups_dialog = BackupsDialog(self.ops, self.restore_backup, self)
        self.backups_dialog.reload()
        self.backups_dialog.show()
        self.backups_dialog.raise_()
        self.backups_dialog.activateWindow()
        return self.backups_dialog

    def restore_backup(self, path: Path) -> None:
        """Ask, close the client windows, and put the book back as the
        backup at ``path`` holds it (on the database worker)."""
        from billdesk.services import backup
        from billdesk.views.backups_dialog import why_text
        from billdesk.views.errors import show_error

        info = next((b for b in backup.backups(path.parent) if b.path == path), None)
        when = f"{info.created:%Y-%m-%d %H:%M}" if info else path.name
        why = f" ({why_text(info, inline=True)})" if info else ""
        parent = self.backups_dialog or self
        answer = QMessageBox.question(
            parent, "Restore a backup",
            f"Put the book back as it was on {when}{why}?\n\nEverything done since — clients, "
            "invoices, payments, emails, settings — is replaced by what the backup holds. The "
            "book as it is now is backed up first and kept, so restoring that one undoes this."
            "\n\nOpen client windows are closed first.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        for window in list(self.client_windows.values()):
            if not window.close():  # unsaved typing kept (or being saved): nothing is restored
                self.statusBar().showMessage("Nothing was restored: a client window still has "
                                             "changes to save. Restore again once it is closed.",
                                             30_000)
                return

        def after() -> None:
            self.scheduler.hold()  # the restored book's days wait for Run now
            if self.automation_window is not None:
                self.automation_window.reload()
            if self.backups_dialog is not None:
                self.backups_dialog.reload()

        def done(kept: Path) -> None:
            after()
            self.statusBar().showMessage(f"Restored the backup of {when}.", 30_000)
            if self.backups_dialog is not None:  # (not what was said before, e.g. "Backed up to")
                self.backups_dialog.state.setText(f"Restored the backup of {when}; the book as "
                                                  f"it was is kept in {kept.name}.")
            QMessageBox.information(
                parent, "Backup restored",
                f"The book is back as it was on {when}.\n\nMail sent since then stays sent. "
                "The daily run does not run by itself the days the backup has not run: "
                "Automation → Run now runs them when you are ready.\n\nThe book as it was "
                f"just before is kept in:\n{kept}")

        def failed(exc: BaseException) -> None:
            after()
            self.ops.changed.emit(EVERYTHING)  # (a failure after the copy: show what is there)
            show_error(parent, exc)

        self.ops.run(lambda: backup.restore(path), changes=EVERYTHING, on_done=done,
                     on_error=failed)

    def open_email_log(self, show: str | None = None):  # noqa: ANN201 (EmailLogWindow)
        """The Email log, read anew; ``show`` picks its view ("waiting"…)."""
        from billdesk.views.email_log_window import EmailLogWindow

        if self.email_log_window is None:
            self.email_log_window = EmailLogWindow(self.ops, self.open_client, self)
        return _present(self.email_log_window, show)

    def open_activity_log(self, show: str | None = None):  # noqa: ANN201 (ActivityWindow)
        """The Activity log, read anew; ``show`` picks its list ("changes", "book")."""
        from billdesk.views.activity_window import ActivityWindow

        if self.activity_window is None:
            self.activity_window = ActivityWindow(self.ops, self.open_client, self)
        return _present(self.activity_window, show)

    def _show_outbox(self) -> None:
        from billdesk.services import outbox
        from billdesk.views.email_log_window import waiting_text

        try:
            waiting, configured = outbox.waiting_count(), outbox.is_configured()
            trouble = outbox.trouble() if waiting and configured else None
            text = waiting_text(waiting, configured, trouble, short=True)
        except Exception:  # a book without the tables yet: say nothing rather than fail
            text, trouble = "", None
        self.outbox_label.setText(f'<a href="log">{text}</a>' if text else "")
        self.outbox_label.setToolTip(
            f"Not sent: {trouble.error}. Open the Email log" if trouble is not None
            else "Emails in the outbox, not sent yet: open the Email log")
        self.outbox_label.setVisible(bool(text))

    def run_automation_now(self) -> None:
        """Open the run log and run (several pending days are shown first)."""
        self.open_automation().run_now()

    def _ask_catch_up(self, days: list) -> None:
        """Days missed while billdesk was closed: list them, run on Yes."""
        many = len(days) > 1
        box = QMessageBox(QMessageBox.Icon.Question, "Automation",
                          f"The daily run has {len(days)} days to catch up." if many else
                          f"The daily run for {days[0].isoformat()} has not run yet.",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("catchUp")
        box.setInformativeText(
            ("billdesk will run these days now, one after another:\n"
             + "\n".join(d.isoformat() for d in days[:31]) + ("\n…" if len(days) > 31 else "")
             if many else "It generates due invoices, applies credit, sends reminders and "
             "overdue notices, adds late fees and suspends what stays unpaid.")
            + "\n\nLater: it asks again at the next scheduled run; Automation → Run now "
            f"runs {'them' if many else 'it'} at any time.")
        run = box.addButton("Run them now" if many else "Run it now",
                            QMessageBox.ButtonRole.AcceptRole)
        run.setObjectName("runCatchUp")
        later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        later.setObjectName("laterCatchUp")
        box.setDefaultButton(run)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def answered(_result: int) -> None:
            self.catch_up_box = None
            self.scheduler.confirm_catch_up(box.clickedButton() is run)

        box.finished.connect(answered)
        self.catch_up_box = box
        box.open()

    def _automation_started(self, days: list) -> None:
        from billdesk.views.models.automation_tables import days_text

        if self.catch_up_box is not None:  # Run now went first: the question is moot
            self.catch_up_box.close()
        self.automation_progress.setRange(0, 0)
        self.automation_progress.show()
        self.automation_label.setText(f"Automation: running {days_text(days)}…" if days
                                      else "Automation: running…")

    def _automation_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            if self.automation_progress.maximum() != total:
                self.automation_progress.setRange(0, total)
            self.automation_progress.setValue(min(done, total))
        if text:
            self.automation_label.setText(f"Automation: {text}")

    def _automation_finished(self, report) -> None:  # noqa: ANN001 (automation.RunReport)
        from billdesk.views.models.automation_tables import days_text, run_days, run_steps, summary

        self.automation_progress.hide()
        days = run_days(report)
        status = getattr(report, "status", "Completed")
        errors = len(getattr(report, "errors", []) or [])
        # every count that did something: suspensions and terminations too
        problems = list(getattr(report, "errors", []) or [])
        if status != "Completed" and not days:  # stopped before any day (no backup…)
            text = (f"Automation run {status.lower()}: "
                    + (problems[0] if problems else "no day was run"))
        else:
            text = (f"Automation run {'finished' if status == 'Completed' else status.lower()}"
                    + (f" for {days_text(days)}: " if days else ", nothing was pending: ")
                    + summary(run_steps(report)))
        if errors:
            text += f" — {errors} error{'s' if errors != 1 else ''}, see Automation → Run log"
        self.statusBar().showMessage(text, 30_000)
        self._show_next_run()
        self._show_outbox()

    def _automation_failed(self, exc: BaseException) -> None:
        from billdesk.errors import BilldeskError
        from billdesk.views.errors import message_for

        self.automation_progress.hide()
        what = message_for(exc) if isinstance(exc, BilldeskError) else f"{type(exc).__name__}: {exc}"
        self.statusBar().showMessage(f"The automation run stopped: {what} (Automation → Run log)",
                                     60_000)
        self._show_next_run()

    def _show_next_run(self, *_: object) -> None:
        if self.scheduler.running:
            return
        try:
            when = self.scheduler.next_run()
        except Exception:  # a book without the settings yet: say nothing rather than fail
            self.automation_label.setText("")
            return
        held = self.scheduler.held_days()
        if held:  # (Later, or a restore: the status bar would name tomorrow's run)
            from billdesk.services import automation

            self.automation_label.setText(
                f"Automation: {automation.describe_days(held)} not run — Automation → Run now")
        elif when is None:
            self.automation_label.setText("Automation off")
        elif when <= self.scheduler.now():
            self.automation_label.setText("Automation: a run is due")
        else:
            self.automation_label.setText(f"Next run {when:%Y-%m-%d %H:%M}")

    # --- list ---------------------------------------------------------------
    def _search_changed(self, text: str) -> None:
        self.model.set_query(self.model.query.with_(search=text))
        if self.model.rowCount():
            # the top hit: a client's id typed ("18") comes first
            # (clientlist.pinned_id; "#18" is that client alone), so Enter opens it
            self.table.selectRow(0)
        hidden = clientlist.archived_id(self.model.query)
        if hidden is not None:
            self.statusBar().showMessage(f"Client #{hidden} is archived: tick Show archived "
                                         "to see it.", 15_000)
            self._hint_shown = True
        elif self._hint_shown:  # (the hint was about another search)
            self.statusBar().clearMessage()
            self._hint_shown = False

    def _filters_changed(self) -> None:
        self.model.set_query(self.model.query.with_(status=self.status_filter.currentData(),
                                                    group_id=self.group_filter.currentData(),
                                                    archived=self.show_archived.isChecked()))

    def _fill_groups(self) -> None:
        current = self.group_filter.currentData()
        self.group_filter.blockSignals(True)
        self.group_filter.clear()
        self.group_filter.addItem("All groups", None)
        self.group_filter.addItem("No group", clientlist.NO_GROUP)
        for group in groups.list_groups():
            self.group_filter.addItem(group.name, group.id)
        found = self.group_filter.findData(current)
        self.group_filter.setCurrentIndex(max(found, 0))
        self.group_filter.blockSignals(False)

    def _update_placeholder(self) -> None:
        """What an empty list says: why it is empty and what to do."""
        query = self.model.query
        hidden = clientlist.archived_id(query) if query.search.strip() else None
        if hidden is not None:
            text = f"Client #{hidden} is archived: tick Show archived to see it."
        elif query.search.strip():
            text = f"No client matches “{query.search.strip()}”."
            if not query.archived:  # one archived may: say so, rather than nothing
                archived = clientlist.count(query.with_(archived=True))
                if archived:
                    which = ("an archived one does" if archived == 1
                             else f"{archived:,} archived ones do")
                    text = (f"No client matches “{query.search.strip()}” — {which}: tick Show "
                            "archived to see them.")
        elif query.status is not None or query.group_id is not None:
            text = "No client matches these filters."
        elif not query.archived and not self.model.rowCount() and clientlist.total():
            text = "Every client is archived: tick Show archived to see them."
        else:
            text = "No clients yet. Add your first one with New client (Ctrl+N)."
        self.table.placeholder = text
        self.table.viewport().update()

    def _update_count(self, total: int) -> None:
        self.count_label.setText(f"{total:,} client{'s' if total != 1 else ''}")

    def _open_index(self, index) -> None:  # noqa: ANN001 (QModelIndex)
        client_id = self.model.client_id(index.row())
        if client_id is not None:
            self.open_client(client_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Arrows in the search box move through the list; Enter opens."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                current = self.table.currentIndex().row()
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 20,
                        Qt.Key.Key_PageUp: -20}[Qt.Key(key)]
                row = max(0, min(self.model.rowCount() - 1, current + step))
                if self.model.rowCount():
                    self.table.selectRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                row = max(self.table.currentIndex().row(), 0)
                client_id = self.model.client_id(row)
                if client_id is not None:
                    self.open_client(client_id)
                return True
        return super().eventFilter(watched, event)

    def _column_menu(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for column in Column:
            action = menu.addAction(self.model.headerData(column, Qt.Orientation.Horizontal))
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setEnabled(column != Column.NAME)
            action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
        menu.exec(header.mapToGlobal(pos))

    def _changed(self, changes: Changes) -> None:
        if changes.settings:
            self._show_next_run()
        self._show_outbox()  # (most writes queue an email: an indexed count)
        if changes.groups:
            self._fill_groups()
        if changes.clients or changes.groups or changes.settings:
            self.model.refresh()

    # --- remembered view ------------------------------------------------------
    def _restore_view(self) -> None:
        header = self.table.horizontalHeader()
        widths = {Column.ID: 64, Column.NAME: 200, Column.COMPANY: 180, Column.EMAIL: 250,
                  Column.PHONE: 140, Column.COUNTRY: 64, Column.GROUP: 110, Column.STATUS: 80}
        for column, width in widths.items():
            header.resizeSection(column, width)
        stored = QSettings()
        geometry = stored.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = stored.value("main/header")
        if state is not None:
            header.restoreState(state)
        else:
            header.setSectionHidden(Column.CREATED, True)

    def closeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        stored = QSettings()
        stored.setValue("main/geometry", self.saveGeometry())
        stored.setValue("main/header", self.table.horizontalHeader().saveState())
        for window in list(self.client_windows.values()):
            if not window.close():  # the user chose to keep editing (or it is saving)
                event.ignore()
                return
        self.scheduler.stop()
        if self.automation_window is not None:
            self.automation_window.close()
        for other in (self.email_log_window, self.activity_window, self.backups_dialog):
            if other is not None:
                other.close()
        super().closeEvent(event)


def _present(window: Any, show: str | None) -> Any:
    """A log window brought up, read anew on the list ``show`` names (or
    the one it shows)."""
    if show is not None:
        window.set_show(show)
    else:
        window.reload()
    window.show()
    window.raise_()
    window.activateWindow()
    return window
