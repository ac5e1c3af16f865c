"""Small lists, each loaded whole: a client's contacts and change log, and
the client groups."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from billdesk.services import changelog, contacts, groups
from billdesk.services.changelog import LogEntry
from billdesk.services.contacts import ContactRecord
from billdesk.views.models import IdRole, SortRole

Index = QModelIndex | QPersistentModelIndex


RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class _ListModel(QAbstractTableModel):
    HEADERS: dict[IntEnum, str] = {}
    MONEY_COLUMNS: frozenset[int] = frozenset()  # right-aligned, header included

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return list(self.HEADERS.values())[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self.MONEY_COLUMNS:
            return RIGHT
        return None

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row(self, index: int) -> Any:
        return self._rows[index] if 0 <= index < len(self._rows) else None


class PagedListModel(_ListModel):
    """A long list, newest first, read a page at a time as it is scrolled
    (``canFetchMore``); its rows have ``id``s, and ``read(before, limit)``
    gives the page of those older than ``before`` (None: the newest)."""

    PAGE = 500

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._more = False

    def read(self, before: int | None, limit: int) -> list[Any]:
        raise NotImplementedError

    def loaded(self, rows: list[Any]) -> None:
        """What the rows need beside them (names…), read with each page."""

    def page_key(self) -> int:
        """Where the next page starts: the last row's id."""
        return self._rows[-1].id

    def reload(self, keep: bool) -> None:
        """The newest page — or, with ``keep``, as many rows as were read so
        far, so that a refresh keeps where the list was scrolled to."""
        want = max(self.PAGE, len(self._rows) if keep else 0)
        rows = self.read(None, want)
        self._more = len(rows) >= want
        self.loaded(rows)
        self.set_rows(rows)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802 (Qt)
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802 (Qt)
        if parent.isValid() or not self._more or not self._rows:
            return
        rows = self.read(self.page_key(), self.PAGE)
        self._more = len(rows) >= self.PAGE
        if not rows:
            return
        self.loaded(rows)
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
        self._rows += rows
        self.endInsertRows()

    def row_of(self, row_id: int) -> int | None:
        for n, row in enumerate(self._rows):
            if row.id == row_id:
                return n
        return None


class ContactColumn(IntEnum):
    NAME = 0
    EMAIL = 1
    PHONE = 2
    CATEGORIES = 3
    BILLING = 4


class ContactTableModel(_ListModel):
    HEADERS = {ContactColumn.NAME: "Name", ContactColumn.EMAIL: "Email",
               ContactColumn.PHONE: "Phone", ContactColumn.CATEGORIES: "Gets emails about",
               ContactColumn.BILLING: "Billing contact"}

    def load(self, client_id: int) -> None:
        self.set_rows(contacts.list_contacts(client_id))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record: ContactRecord = self._rows[index.row()]
        column = ContactColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            return {
                ContactColumn.NAME: record.name,
                ContactColumn.EMAIL: record.values["email"],
                ContactColumn.PHONE: record.values["phone"],
                ContactColumn.CATEGORIES: ", ".join(contacts.CATEGORY_LABELS[c]
                                                    for c in record.values["categories"]),
                ContactColumn.BILLING: "Yes" if record.is_billing else "",
            }[column]
        if role == IdRole:
            return record.id
        if role == Qt.ItemDataRole.FontRole and record.is_billing and column == ContactColumn.NAME:
            font = QFont()
            font.setBold(True)
            return font
        return None


class LogColumn(IntEnum):
    WHEN = 0
    WHO = 1
    WHAT = 2
    OLD = 3
    NEW = 4
    REASON = 5


class LogTableModel(_ListModel):
    HEADERS = {LogColumn.WHEN: "When", LogColumn.WHO: "Who", LogColumn.WHAT: "What",
               LogColumn.OLD: "Old value", LogColumn.NEW: "New value", LogColumn.REASON: "Reason"}

    def load(self, client_id: int) -> None:
        self.set_rows(changelog.entries(client_id))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry: LogEntry = self._rows[index.row()]
        column = LogColumn(index.column())
        if role == SortRole and column == LogColumn.WHEN:
            return entry.at
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            return {
                LogColumn.WHEN: f"{entry.at:%Y-%m-%d %H:%M}",
                LogColumn.WHO: entry.actor,
                LogColumn.WHAT: entry.field or entry.message,
                LogColumn.OLD: entry.old_value,
                LogColumn.NEW: entry.new_value,
                LogColumn.REASON: entry.reason,
            }[column]
        if role == IdRole:
            return entry.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.describe()
        return None


class GroupColumn(IntEnum):
    NAME = 0
    DISCOUNT = 1
    SEPARATE = 2
    LATE_FEES = 3


class GroupTableModel(_ListModel):
    HEADERS = {GroupColumn.NAME: "Name", GroupColumn.DISCOUNT: "Discount",
               GroupColumn.SEPARATE: "Separate invoices", GroupColumn.LATE_FEES: "Late fees"}

    def load(self) -> None:
        self.set_rows(groups.list_groups())

    def group(self, row: int) -> groups.Group | None:
        return self.row(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        group: groups.Group = self._rows[index.row()]
        column = GroupColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            return {GroupColumn.NAME: group.name, GroupColumn.DISCOUNT: f"{group.discount}%",
                    GroupColumn.SEPARATE: "Yes" if group.separate_invoices else "No",
                    GroupColumn.LATE_FEES: "Charged" if group.late_fees else "Opted out"}[column]
        if role == Qt.ItemDataRole.DecorationRole and column == GroupColumn.NAME:
            return QColor(group.colour)
        if role == IdRole:
            return group.id
        return None
