"""The Activity log window (as WHMCS's): every client's changes in one
list, newest first — or the book's own events, which no client's log can
hold: clients deleted and restores from a backup (JOURNEYS 6). Opened from
Clients → Activity log…; read a page at a time; it follows every write
while it is open."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from billdesk.services import activity
from billdesk.views.models import IdRole
from billdesk.views.models.simple_tables import Index, PagedListModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import PlaceholderTable, setup_table

SHOWS = (("changes", "Everything"), ("people", "Changes made by people"),
         ("automation", "Changes made by the daily run"),
         ("book", "Clients deleted or merged away, and restores"))
EMPTY = {"changes": "No changes yet: each client's changes are listed here as they are made.",
         "people": "No changes made by people yet.",
         "automation": "The daily run has changed nothing yet.",
         "book": "No client has been deleted or merged away, and no backup restored."}


class ActivityColumn(IntEnum):
    WHEN = 0
    WHO = 1
    CLIENT = 2
    WHAT = 3


class ActivityModel(PagedListModel):
    HEADERS = {ActivityColumn.WHEN: "When", ActivityColumn.WHO: "Who",
               ActivityColumn.CLIENT: "Client", ActivityColumn.WHAT: "What"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.show = "changes"

    def load(self, show: str) -> None:
        same = show == self.show
        self.show = show
        self.reload(keep=same)

    def read(self, before: Any, limit: int) -> list[Any]:
        if before is None or self.show == "book":
            return activity.entries(self.show, before=before, limit=limit)
        after, shown = before
        return activity.entries(self.show, before=after, shown=shown, limit=limit)

    def page_key(self) -> Any:
        if self.show == "book":
            return self._rows[-1].id
        return activity.cursor(self._rows)  # (changes and the book's events among them)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row: activity.Entry = self._rows[index.row()]
        column = ActivityColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == ActivityColumn.CLIENT:
                name = f"#{row.client_id} {row.client_name}" if row.client_id else "—"
                return name if row.exists or not row.client_id else f"{name} (deleted)"
            return {ActivityColumn.WHEN: f"{row.at:%Y-%m-%d %H:%M}", ActivityColumn.WHO: row.actor,
                    ActivityColumn.WHAT: row.what}[column]
        if role == IdRole:
            return row.id
        return None


class ActivityWindow(QWidget):
    def __init__(self, ops: Operations, open_client: Callable[[int], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("activityWindow")
        self.setWindowTitle("Activity log")
        self.open_client_ = open_client
        self.show_box = QComboBox()
        self.show_box.setObjectName("activityShow")
        for key, label in SHOWS:
            self.show_box.addItem(label, key)
        self.show_box.currentIndexChanged.connect(lambda _n: self.reload())
        self.client_button = QPushButton("Open client")
        self.client_button.setObjectName("activityOpenClient")
        self.client_button.clicked.connect(self._open_client)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.show_box)
        top.addStretch(1)
        top.addWidget(self.client_button)

        self.model = ActivityModel(self)
        self.view = PlaceholderTable()
        self.view.setObjectName("activityLog")
        self.view.setModel(self.model)
        setup_table(self.view, ActivityColumn.WHAT)
        for column, width in ((ActivityColumn.WHEN, 130), (ActivityColumn.WHO, 110),
                              (ActivityColumn.CLIENT, 220)):
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.view.doubleClicked.connect(lambda _i: self._open_client())
        self.detail = QLabel()  # the selected entry whole (the list cuts long ones)
        self.detail.setObjectName("activityDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)
        self.resize(1000, 640)
        geometry = QSettings().value("activityLog/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        ops.changed.connect(self._changed)
        self.reload()

    def set_show(self, key: str) -> None:
        self.show_box.setCurrentIndex(next(n for n, (k, _l) in enumerate(SHOWS) if k == key))
        self.reload()

    def reload(self) -> None:
        """Read the list again (a refresh keeps the rows read so far and
        where it was scrolled to)."""
        key = self.show_box.currentData()
        scrolled = self.view.verticalScrollBar().value() if key == self.model.show else 0
        self.model.load(key)
        self.view.placeholder = EMPTY[key]
        self.view.verticalScrollBar().setValue(scrolled)
        self._selection()

    def selected(self) -> activity.Entry | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selection(self, *_: object) -> None:
        row = self.selected()
        self.client_button.setEnabled(row is not None and row.client_id is not None and row.exists)
        self.detail.setText("" if row is None else row.what)
        self.detail.setVisible(row is not None)

    def _changed(self, _changes: Changes) -> None:
        if self.isVisible():  # (a closed log is read again when it is opened)
            self.reload()

    def _open_client(self) -> None:
        row = self.selected()
        if row is not None and row.client_id is not None and row.exists:
            self.open_client_(row.client_id)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt)
        QSettings().setValue("activityLog/geometry", self.saveGeometry())
        super().closeEvent(event)
