"""The client list: a keyset-paged window onto 100,000 clients. It holds
the rows fetched so far and asks for the next page when the view scrolls
near the end (canFetchMore/fetchMore); sorting and filtering run in SQL."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor

from billdesk.services import clientlist, clients, settings
from billdesk.services.clientlist import ClientQuery, ClientRow
from billdesk.views.models import IdRole, SortRole

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    ID = 0
    NAME = 1
    COMPANY = 2
    EMAIL = 3
    PHONE = 4
    COUNTRY = 5
    GROUP = 6
    STATUS = 7
    CREATED = 8


HEADERS = {
    Column.ID: "ID", Column.NAME: "Name", Column.COMPANY: "Company", Column.EMAIL: "Email",
    Column.PHONE: "Phone", Column.COUNTRY: "Country", Column.GROUP: "Group",
    Column.STATUS: "Status", Column.CREATED: "Signed up",
}
SORT_KEYS = {
    Column.ID: "id", Column.NAME: "name", Column.COMPANY: "company", Column.EMAIL: "email",
    Column.PHONE: "phone", Column.COUNTRY: "country", Column.GROUP: "group",
    Column.STATUS: "status", Column.CREATED: "created",
}
STATUS_COLOURS = {"Inactive": QColor("#9a6b00"), "Closed": QColor("#8a8a8a")}


class ClientTableModel(QAbstractTableModel):
    """``total_changed`` tells the count of matches once it is known: a
    keystroke paints the first page after a capped count, and the exact
    count of a broad search follows right after, off the typing path."""

    total_changed = Signal(int)

    FIRST_PAGE = 64  # enough to fill a tall window; the rest come by fetchMore

    def __init__(self, parent: Any = None, page_size: int = clientlist.PAGE) -> None:
        super().__init__(parent)
        self._query = ClientQuery()
        self._rows: list[ClientRow] = []
        self._total: int | None = 0
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(0)
        self._count_timer.timeout.connect(self._count_exactly)
        self._page_size = page_size
        self._more = False
        self._probe: int | None = 0
        self._format = "first_last"
        self._fetching = False

    # --- what the view asks -------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == IdRole:
            return row.id
        if role == SortRole:
            return row.key
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATUS:
            colour = STATUS_COLOURS.get(row.status)
            return QBrush(colour) if colour else None
        if role == Qt.ItemDataRole.DecorationRole and column == Column.GROUP and row.group_colour:
            return QColor(row.group_colour)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.ID:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: ClientRow, column: Column) -> str:
        if column == Column.ID:
            return str(row.id)
        if column == Column.NAME:
            return clients.display_name(row.first_name, row.last_name, row.company, self._format)
        if column == Column.CREATED:
            return row.created_at.date().isoformat()
        return {
            Column.COMPANY: row.company, Column.EMAIL: row.email, Column.PHONE: row.phone,
            Column.COUNTRY: row.country, Column.GROUP: row.group, Column.STATUS: row.status,
        }[column]

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        # Views (and model testers) may ask again while rows are being
        # inserted; one page at a time.
        if parent.isValid() or not self._more or not self._rows or self._fetching:
            return
        self._fetching = True
        try:
            rows = clientlist.page(self._query, clientlist.after_key(self._rows[-1]),
                                   self._page_size, matches=self._probe)
            self._more = len(rows) == self._page_size
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
        finally:
            self._fetching = False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.set_query(self._query.with_(sort=SORT_KEYS[Column(column)],
                                         descending=order == Qt.SortOrder.DescendingOrder))

    # --- what the window asks ----------------------------------------------
    @property
    def query(self) -> ClientQuery:
        return self._query

    @property
    def total(self) -> int:
        """How many clients match, loaded or not (counted now if need be)."""
        if self._total is None:
            self._count_exactly()
        assert self._total is not None
        return self._total

    def client_id(self, row: int) -> int | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, client_id: int) -> int | None:
        for i, row in enumerate(self._rows):
            if row.id == client_id:
                return i
        return None

    def set_query(self, query: ClientQuery) -> None:
        self._load(query, min(self.FIRST_PAGE, self._page_size))

    def refresh(self) -> None:
        """Read again what is shown (after a write), keeping as many rows."""
        self._load(self._query, max(min(self.FIRST_PAGE, self._page_size), len(self._rows)))

    def _load(self, query: ClientQuery, limit: int) -> None:
        """What a keystroke costs: one page. Sorts other than name need a
        capped count to choose their plan; the exact count comes later."""
        self.beginResetModel()
        self._query = query
        self._format = settings.display_format()
        self._probe = None
        self._total = None
        if query.search.strip() and query.sort != "name":
            cap = clientlist.dense_cap(clientlist.total())
            self._probe = clientlist.count(query, cap=cap)
            if self._probe < cap:
                self._total = self._probe
        self._rows = clientlist.page(query, limit=limit, matches=self._probe)
        self._more = len(self._rows) == limit
        if not self._more:
            self._total = len(self._rows)
        self.endResetModel()
        if self._total is None:
            self._count_timer.start()
        else:
            self._count_timer.stop()
            self.total_changed.emit(self._total)

    def _count_exactly(self) -> None:
        if self._total is None:
            self._total = clientlist.count(self._query)
            self.total_changed.emit(self._total)
