"""A client's quotes as a table (B4), and a quote's lines while they are
edited (quantity, unit price, discount, taxed; the amount follows)."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from billdesk.services import quotes
from billdesk.services.quotes import LineInput, QuoteRecord
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.billing_tables import EditableLinesModel
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel

STAGE_COLOURS = {
    "Draft": "#66707c", "Delivered": "#1f4e79", "On hold": "#9a6b00", "Accepted": "#2e7d32",
    "Lost": "#8a8a8a", "Dead": "#8a8a8a",
}


class QuoteColumn(IntEnum):
    ID = 0
    SUBJECT = 1
    DATE = 2
    VALID_UNTIL = 3
    TOTAL = 4
    STAGE = 5
    INVOICE = 6


class QuoteTableModel(_ListModel):
    """Quotes of one client, newest first (as ``quotes.list_quotes`` gives them)."""

    HEADERS = {QuoteColumn.ID: "Quote #", QuoteColumn.SUBJECT: "Subject",
               QuoteColumn.DATE: "Date", QuoteColumn.VALID_UNTIL: "Valid until",
               QuoteColumn.TOTAL: "Total", QuoteColumn.STAGE: "Stage",
               QuoteColumn.INVOICE: "Invoice"}
    MONEY_COLUMNS = frozenset({QuoteColumn.TOTAL})

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.today = dt.date.today()
        self.invoice_labels: dict[int, str] = {}

    def load(self, client_id: int, stage: str | None = None) -> None:
        self.set_records(quotes.list_quotes(client_id, stage))

    def set_records(self, records: list[QuoteRecord]) -> None:
        from billdesk.services import invoicing

        self.today = dt.date.today()
        ids = [r.invoice_id for r in records if r.invoice_id is not None]
        self.invoice_labels = invoicing.labels(ids)
        self.set_rows(list(records))

    def record(self, row: int) -> QuoteRecord | None:
        return self.row(row)

    def records(self) -> list[QuoteRecord]:
        return list(self._rows)

    def row_of(self, quote_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == quote_id), None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        q: QuoteRecord = self._rows[index.row()]
        column = QuoteColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                QuoteColumn.ID: str(q.id), QuoteColumn.SUBJECT: q.subject,
                QuoteColumn.DATE: fmt.date(q.date), QuoteColumn.VALID_UNTIL: fmt.date(q.valid_until),
                QuoteColumn.TOTAL: fmt.money(q.total), QuoteColumn.STAGE: q.stage,
                QuoteColumn.INVOICE: self.invoice_labels.get(q.invoice_id, "")
                if q.invoice_id is not None else "",
            }[column]
        if role == SortRole:
            return {
                QuoteColumn.ID: q.id, QuoteColumn.SUBJECT: q.subject.lower(),
                QuoteColumn.DATE: q.date, QuoteColumn.VALID_UNTIL: q.valid_until,
                QuoteColumn.TOTAL: q.total.amount, QuoteColumn.STAGE: quotes.STAGES.index(q.stage),
                QuoteColumn.INVOICE: q.invoice_id or 0,
            }[column]
        if role == IdRole:
            return q.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == QuoteColumn.STAGE:
                return QColor(STAGE_COLOURS.get(q.stage, "#000000"))
            if column == QuoteColumn.VALID_UNTIL and q.valid_until < self.today \
                    and q.stage not in quotes.CLOSED_STAGES:
                return QColor("#c62828")
        if role == Qt.ItemDataRole.ToolTipRole and column == QuoteColumn.VALID_UNTIL \
                and q.valid_until < self.today and q.stage not in quotes.CLOSED_STAGES:
            return "Expired"
        return None


class QuoteLineColumn(IntEnum):
    DESCRIPTION = 0
    QUANTITY = 1
    UNIT_PRICE = 2
    DISCOUNT = 3
    AMOUNT = 4  # read-only: follows the typing
    TAXED = 5


_FIELDS = {QuoteLineColumn.DESCRIPTION: "description", QuoteLineColumn.QUANTITY: "quantity",
           QuoteLineColumn.UNIT_PRICE: "unit_price", QuoteLineColumn.DISCOUNT: "discount"}


class QuoteLinesModel(EditableLinesModel):
    """A quote's lines while they are edited: the values stay the text the
    user typed until the quote is saved (the service checks them); the
    amount column shows what each line comes to so far."""

    HEADERS = {QuoteLineColumn.DESCRIPTION: "Description", QuoteLineColumn.QUANTITY: "Qty",
               QuoteLineColumn.UNIT_PRICE: "Unit price", QuoteLineColumn.DISCOUNT: "Discount %",
               QuoteLineColumn.AMOUNT: "Amount", QuoteLineColumn.TAXED: "Taxed"}
    RIGHT_COLUMNS = frozenset({QuoteLineColumn.QUANTITY, QuoteLineColumn.UNIT_PRICE,
                               QuoteLineColumn.DISCOUNT, QuoteLineColumn.AMOUNT})
    # a row: [description, quantity, unit price, discount, taxed] as typed

    def __init__(self, currency: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = currency

    def set_lines(self, lines: list[quotes.Line]) -> None:
        self._reset([[ln.description, quotes._plain(ln.quantity), str(ln.unit_price),
                      quotes._plain(ln.discount), ln.taxed] for ln in lines])

    def lines(self) -> list[LineInput]:
        return [LineInput(d, u, quantity=q, discount=disc or "0", taxed=t)
                for d, q, u, disc, t in self._rows]

    def amounts(self) -> list[tuple[Any, bool] | None]:
        """What each line comes to as typed so far (None: not yet a line)."""
        found: list[tuple[Any, bool] | None] = []
        for n, line in enumerate(self.lines(), start=1):
            checked, _problems = quotes.check_line(
                LineInput(line.description or "-", line.unit_price, line.quantity, line.discount,
                          line.taxed), self.currency, n)
            found.append((checked.amount, checked.taxed) if checked else None)
        return found

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.read_only or index.column() == QuoteLineColumn.AMOUNT:
            return base
        if index.column() == QuoteLineColumn.TAXED:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    def _amount_text(self, row: int) -> str:
        d, q, u, disc, t = self._rows[row]
        checked, _ = quotes.check_line(LineInput(d or "-", u, q, disc or "0", t), self.currency)
        return fmt.money(checked.amount) if checked else ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = QuoteLineColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == QuoteLineColumn.TAXED:
                return None
            if column == QuoteLineColumn.AMOUNT:
                return self._amount_text(index.row())
            return row[column]
        if role == Qt.ItemDataRole.CheckStateRole and column == QuoteLineColumn.TAXED:
            return Qt.CheckState.Checked if row[4] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.RIGHT_COLUMNS:
            return RIGHT
        return self._problem_data(index, role)

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or self.read_only:
            return False
        row = self._rows[index.row()]
        column = index.column()
        if column == QuoteLineColumn.TAXED and role == Qt.ItemDataRole.CheckStateRole:
            row[4] = Qt.CheckState(value) == Qt.CheckState.Checked
        elif column in _FIELDS and role == Qt.ItemDataRole.EditRole:
            row[column] = "" if value is None else str(value)
        else:
            return False
        self.problems.pop((index.row(), column), None)
        self.dataChanged.emit(index, index, [role])
        amount = self.index(index.row(), QuoteLineColumn.AMOUNT)
        self.dataChanged.emit(amount, amount, [Qt.ItemDataRole.DisplayRole])
        self.edited.emit()
        return True

    def add_line(self, description: str = "", unit_price: str = "", quantity: str = "1",
                 discount: str = "0", taxed: bool = False) -> int:
        return self._append([description, quantity, unit_price, discount, taxed])

    @staticmethod
    def column_of(field_name: str) -> int:
        """The column of a service field name (``quantity``, ``unit_price``…)."""
        for column, name in _FIELDS.items():
            if name == field_name:
                return column
        return QuoteLineColumn.DESCRIPTION
