"""The billing lists of a client window: invoices and transactions (paged,
newest first, fetched a page at a time as the view scrolls), the credit
log, the account statement, and one invoice's lines and payments."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from billdesk.services import credit, invoicing, payments
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, _ListModel

Index = QModelIndex | QPersistentModelIndex
STATUS_COLOURS = {"Draft": "#6d6d6d", "Unpaid": "#c62828", "Paid": "#2e7d32",
                  "Cancelled": "#8a8a8a", "Refunded": "#6a4fb3", "Collections": "#9a3412"}
PAGE = 200


class _PagedModel(_ListModel):
    """Rows with a ``key``; the first page on load, more on fetchMore."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._more = False
        self._fetch: Callable[[tuple | None, int], list[Any]] | None = None

    def _load(self, fetch: Callable[[tuple | None, int], list[Any]]) -> None:
        self.beginResetModel()
        self._fetch = fetch
        self._rows = fetch(None, PAGE)
        self._more = len(self._rows) == PAGE
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or not self._more or self._fetch is None or not self._rows:
            return
        more = self._fetch(self._rows[-1].key, PAGE)
        self._more = len(more) == PAGE
        if more:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(more) - 1)
            self._rows.extend(more)
            self.endInsertRows()


class InvoiceColumn(IntEnum):
    NUMBER = 0
    DATE = 1
    DUE = 2
    PAID = 3
    TOTAL = 4
    BALANCE = 5
    METHOD = 6
    STATUS = 7


class InvoiceTableModel(_PagedModel):
    HEADERS = {InvoiceColumn.NUMBER: "Invoice", InvoiceColumn.DATE: "Date",
               InvoiceColumn.DUE: "Due", InvoiceColumn.PAID: "Paid on",
               InvoiceColumn.TOTAL: "Total", InvoiceColumn.BALANCE: "Balance due",
               InvoiceColumn.METHOD: "Payment method", InvoiceColumn.STATUS: "Status"}
    MONEY_COLUMNS = frozenset({InvoiceColumn.TOTAL, InvoiceColumn.BALANCE})

    def load(self, client_id: int, status: str | None = None, currency: str | None = None) -> None:
        self._load(lambda after, limit: invoicing.page(client_id, status=status, after=after,
                                                        limit=limit, currency=currency))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: invoicing.InvoiceRow = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == InvoiceColumn.NUMBER:
                text = r.number or f"Draft {r.id}"
                return f"{text} (add funds)" if r.kind == "add_funds" else text
            if column == InvoiceColumn.DATE:
                return fmt.date(r.date)
            if column == InvoiceColumn.DUE:
                return fmt.date(r.due_date)
            if column == InvoiceColumn.PAID:
                return fmt.date(r.paid_date)
            if column == InvoiceColumn.TOTAL:
                return fmt.money(r.total)
            if column == InvoiceColumn.BALANCE:
                return fmt.money(r.balance, blank_zero=True)
            if column == InvoiceColumn.METHOD:
                return r.payment_method
            return r.status
        if role == SortRole:
            return (r.number or "", r.date, r.due_date, r.paid_date, r.total.amount, r.balance.amount,
                    r.payment_method, r.status)[column]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == InvoiceColumn.STATUS:
            return QColor(STATUS_COLOURS.get(r.status, "#000000"))
        return None


class TransactionColumn(IntEnum):
    ID = 0  # what "Refund of transaction #1788" names
    DATE = 1
    METHOD = 2
    DESCRIPTION = 3
    INVOICE = 4
    REFERENCE = 5
    IN = 6
    FEE = 7
    OUT = 8


class TransactionTableModel(_PagedModel):
    HEADERS = {TransactionColumn.ID: "ID", TransactionColumn.DATE: "Date",
               TransactionColumn.METHOD: "Method",
               TransactionColumn.DESCRIPTION: "Description", TransactionColumn.INVOICE: "Invoice",
               TransactionColumn.REFERENCE: "Reference", TransactionColumn.IN: "Amount in",
               TransactionColumn.FEE: "Fee", TransactionColumn.OUT: "Amount out"}
    MONEY_COLUMNS = frozenset({TransactionColumn.IN, TransactionColumn.FEE, TransactionColumn.OUT})

    def load(self, client_id: int, currency: str | None = None) -> None:
        self._load(lambda after, limit: payments.page(client_id, after=after, limit=limit,
                                                       currency=currency))

    def load_invoice(self, invoice_id: int) -> None:
        rows = payments.for_invoice(invoice_id)
        self._load(lambda after, limit: [] if after else rows)
        self._more = False

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: payments.TransactionRow = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                TransactionColumn.ID: str(r.id),
                TransactionColumn.DATE: fmt.date(r.date), TransactionColumn.METHOD: r.method,
                TransactionColumn.DESCRIPTION: r.description,
                TransactionColumn.INVOICE: r.invoice_number or "",
                TransactionColumn.REFERENCE: r.reference,
                TransactionColumn.IN: fmt.money(r.amount_in, blank_zero=True),
                TransactionColumn.FEE: fmt.money(r.fee, blank_zero=True),
                TransactionColumn.OUT: fmt.money(r.amount_out, blank_zero=True),
            }[TransactionColumn(column)]
        if role == SortRole:
            return (r.id, r.date, r.method, r.description, r.invoice_number or "", r.reference,
                    r.amount_in.amount, r.fee.amount, r.amount_out.amount)[column]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        return None


class CreditColumn(IntEnum):
    DATE = 0
    KIND = 1
    DESCRIPTION = 2
    AMOUNT = 3


class CreditLogModel(_ListModel):
    HEADERS = {CreditColumn.DATE: "Date", CreditColumn.KIND: "Type",
               CreditColumn.DESCRIPTION: "Description", CreditColumn.AMOUNT: "Amount"}
    MONEY_COLUMNS = frozenset({CreditColumn.AMOUNT})

    def load(self, client_id: int) -> credit.CreditLog:
        found = credit.credit_log(client_id)
        self.set_rows(found.entries)
        return found

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e: credit.Entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == CreditColumn.DATE:
                return fmt.date(e.date)
            if column == CreditColumn.KIND:
                return e.label + (" (deleted)" if e.reversed_by else "")
            if column == CreditColumn.DESCRIPTION:
                return e.description
            return fmt.money(e.amount)
        if role == SortRole:
            return (e.date, e.label, e.description, e.amount.amount)[column]
        if role == IdRole:
            return e.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if e.reversed_by or e.kind == "reversal":
                return QColor("#8a8a8a")
            if column == CreditColumn.AMOUNT:
                return QColor("#2e7d32" if e.amount.amount > 0 else "#c62828")
        return None


class StatementColumn(IntEnum):
    DATE = 0
    TYPE = 1
    DESCRIPTION = 2
    DEBIT = 3
    CREDIT = 4
    BALANCE = 5


class StatementModel(_ListModel):
    HEADERS = {StatementColumn.DATE: "Date", StatementColumn.TYPE: "Type",
               StatementColumn.DESCRIPTION: "Description", StatementColumn.DEBIT: "Debit",
               StatementColumn.CREDIT: "Credit", StatementColumn.BALANCE: "Balance"}
    MONEY_COLUMNS = frozenset({StatementColumn.DEBIT, StatementColumn.CREDIT, StatementColumn.BALANCE})

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (fmt.date(r.date), r.type, r.description, fmt.money(r.debit, blank_zero=True),
                    fmt.money(r.credit, blank_zero=True), fmt.money(r.balance))[column]
        if role == SortRole:
            return (r.date, r.type, r.description, r.debit.amount, r.credit.amount,
                    r.balance.amount)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == StatementColumn.DESCRIPTION:
            return r.description  # (whole, where the column cuts it)
        return None


class LineColumn(IntEnum):
    DESCRIPTION = 0
    AMOUNT = 1
    TAXED = 2
    GROUP = 3  # the service group heading the line on the invoice (S7); read-only


class EditableLinesModel(QAbstractTableModel):
    """Lines being typed into an editor (an invoice's, a quote's): rows of
    typed values, read-only once the document is settled, a problem per
    (row, column) shown as tooltip and colour. Subclasses say the columns
    (HEADERS, RIGHT_COLUMNS), what a row holds, and data/setData."""

    HEADERS: dict[int, str] = {}
    RIGHT_COLUMNS: frozenset[int] = frozenset()
    edited = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[list[Any]] = []
        self.read_only = False
        self.problems: dict[tuple[int, int], str] = {}

    def _reset(self, rows: list[list[Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.problems = {}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return list(self.HEADERS.values())[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in self.RIGHT_COLUMNS:
                return RIGHT
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def _problem_data(self, index: Index, role: int) -> Any:
        """The tooltip and colour of a cell the last save refused."""
        problem = self.problems.get((index.row(), index.column()))
        if problem:
            if role == Qt.ItemDataRole.ToolTipRole:
                return problem
            if role == Qt.ItemDataRole.BackgroundRole:
                return QColor("#fde2e2")
        return None

    def _append(self, row_values: list[Any]) -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(row_values)
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove_line(self, row: int) -> None:
        if not 0 <= row < len(self._rows):
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()
        self.problems = {}
        self.edited.emit()

    def show_problems(self, problems: list[tuple[int, int, str]]) -> None:
        self.problems = {(r, c): text for r, c, text in problems}
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, self.columnCount() - 1))


class LinesModel(EditableLinesModel):
    """An invoice's lines while they are edited: the amount stays the text
    the user typed until the invoice is saved (the service checks it)."""

    HEADERS = {LineColumn.DESCRIPTION: "Description", LineColumn.AMOUNT: "Amount",
               LineColumn.TAXED: "Taxed", LineColumn.GROUP: "Group"}
    RIGHT_COLUMNS = frozenset({LineColumn.AMOUNT})
    # a row: [description, amount text, taxed, type, link, id, renewal due date, group]

    def set_lines(self, lines: list[invoicing.Line]) -> None:
        self._reset([[ln.description, str(ln.amount), ln.taxed, ln.type, ln.link_id, ln.id,
                      ln.due_date, ln.group] for ln in lines])

    def lines(self) -> list[invoicing.LineInput]:
        return [invoicing.LineInput(d, a, t, ty, link, due, group)
                for d, a, t, ty, link, _, due, group in self._rows]

    def line_id(self, row: int) -> int | None:
        return self._rows[row][5] if 0 <= row < len(self._rows) else None

    def has_groups(self) -> bool:
        """Whether any line sits under a service group heading."""
        return any(row[7] for row in self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.read_only or index.column() == LineColumn.GROUP:
            return base
        if index.column() == LineColumn.TAXED:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == LineColumn.DESCRIPTION:
                return row[0]
            if column == LineColumn.AMOUNT:
                return row[1]
            if column == LineColumn.GROUP:
                return row[7]
            return None
        if role == Qt.ItemDataRole.CheckStateRole and column == LineColumn.TAXED:
            return Qt.CheckState.Checked if row[2] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and column == LineColumn.AMOUNT:
            return RIGHT
        return self._problem_data(index, role)

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or self.read_only:
            return False
        row = self._rows[index.row()]
        column = index.column()
        if column == LineColumn.TAXED and role == Qt.ItemDataRole.CheckStateRole:
            row[2] = Qt.CheckState(value) == Qt.CheckState.Checked
        elif column in (LineColumn.DESCRIPTION, LineColumn.AMOUNT) and role == Qt.ItemDataRole.EditRole:
            row[0 if column == LineColumn.DESCRIPTION else 1] = str(value)
        else:
            return False
        self.problems.pop((index.row(), column), None)
        self.dataChanged.emit(index, index, [role])
        self.edited.emit()
        return True

    def add_line(self, description: str = "", amount: str = "", taxed: bool = False) -> int:
        return self._append([description, amount, taxed, "", None, None, None, ""])
