"""The main window: toolbar, search and filters over the client list, and a
status bar with the database file and the count (JOURNEYS.md 1–2)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from billdesk.models import CLIENT_STATUSES
from billdesk.services import clientlist, groups
from billdesk.views.client_window import ClientWindow
from billdesk.views.models.client_table import Column, ClientTableModel
from billdesk.views.ops import Changes, Operations


class ClientTableView(QTableView):
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

        self.placeholder = ""

    def paintEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().paintEvent(event)
        if self.placeholder and self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(20, 40, -20, 0),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                 | Qt.TextFlag.TextWordWrap), self.placeholder)
            painter.end()
        self.painted.emit()


class MainWindow(QMainWindow):
    def __init__(self, ops: Operations, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.db_path = db_path
        self.client_windows: dict[int, ClientWindow] = {}
        self.setWindowTitle(f"billdesk — {db_path.name}")
        self.resize(1180, 720)

        self.model = ClientTableModel(self)
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

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(QLabel("Status:", self))
        bar.addWidget(self.status_filter)
        bar.addWidget(QLabel("Group:", self))
        bar.addWidget(self.group_filter)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(central)

        self.count_label = QLabel(self)
        self.statusBar().addWidget(QLabel(f"Book: {db_path}", self), 1)
        self.statusBar().addPermanentWidget(self.count_label)
        self._make_actions()

        self.model.total_changed.connect(self._update_count)
        self.model.modelReset.connect(self._update_placeholder)
        self.model.set_query(clientlist.ClientQuery())
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self._restore_view()
        ops.changed.connect(self._changed)

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

        for action in (self.new_client_action, self.new_invoice_action, self.search_action,
                       self.groups_action, self.settings_action):
            toolbar.addAction(action)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        clients_menu = self.menuBar().addMenu("&Clients")
        clients_menu.addAction(self.new_client_action)
        clients_menu.addAction(self.new_invoice_action)
        clients_menu.addAction(self.search_action)
        clients_menu.addAction(self.groups_action)
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

    # --- list ---------------------------------------------------------------
    def _search_changed(self, text: str) -> None:
        self.model.set_query(self.model.query.with_(search=text))
        if self.model.rowCount():
            self.table.selectRow(0)

    def _filters_changed(self) -> None:
        self.model.set_query(self.model.query.with_(status=self.status_filter.currentData(),
                                                    group_id=self.group_filter.currentData()))

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
        if query.search.strip():
            text = f"No client matches “{query.search.strip()}”."
        elif query.status is not None or query.group_id is not None:
            text = "No client matches these filters."
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
        super().closeEvent(event)
