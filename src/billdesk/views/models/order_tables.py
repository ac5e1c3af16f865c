"""A client's orders and the promotion codes as tables (S8). Both lists
are small and loaded whole: ``orders.list_orders`` (newest first) and
``promos.list_promos`` (by code)."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from billdesk.services import orders, promos
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.services.orders import OrderRecord
from billdesk.services.promos import PromoRecord
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel

ORDER_STATUS_COLOURS = {"Pending": "#9a6b00", "Active": "#2e7d32", "Cancelled": "#8a8a8a",
                        "Fraud": "#6a1b1b"}


class OrderColumn(IntEnum):
    NUMBER = 0
    DATE = 1
    ITEMS = 2
    PROMO = 3
    TOTAL = 4
    STATUS = 5
    INVOICE = 6


class OrderTableModel(_ListModel):
    HEADERS = {OrderColumn.NUMBER: "Order #", OrderColumn.DATE: "Date",
               OrderColumn.ITEMS: "Items", OrderColumn.PROMO: "Promotion",
               OrderColumn.TOTAL: "Total", OrderColumn.STATUS: "Status",
               OrderColumn.INVOICE: "Invoice"}
    MONEY_COLUMNS = frozenset({OrderColumn.TOTAL})

    def load(self, client_id: int) -> None:
        self.set_rows(orders.list_orders(client_id))

    def record(self, row: int) -> OrderRecord | None:
        return self.row(row)

    def row_of(self, order_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == order_id), None)

    @staticmethod
    def invoice_text(r: OrderRecord) -> str:
        if r.invoice_id is None:
            return "—"
        return f"#{r.invoice_number or r.invoice_id} ({r.invoice_status})"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: OrderRecord = self._rows[index.row()]
        column = OrderColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                OrderColumn.NUMBER: r.number,
                OrderColumn.DATE: fmt.date(r.date),
                OrderColumn.ITEMS: r.items_text,
                OrderColumn.PROMO: r.promo_code,
                OrderColumn.TOTAL: fmt.money(r.amount),
                OrderColumn.STATUS: r.status,
                OrderColumn.INVOICE: self.invoice_text(r),
            }[column]
        if role == SortRole:
            return {
                OrderColumn.NUMBER: r.number,
                OrderColumn.DATE: r.date,
                OrderColumn.ITEMS: r.items_text.casefold(),
                OrderColumn.PROMO: r.promo_code.casefold(),
                OrderColumn.TOTAL: r.amount.amount,
                OrderColumn.STATUS: r.status,
                OrderColumn.INVOICE: r.invoice_id or 0,
            }[column]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == OrderColumn.STATUS:
            return QColor(ORDER_STATUS_COLOURS.get(r.status, "#000000"))
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(
                [f"Order #{r.number} (id {r.id})"]
                + [f"{item.name}" + (f" - {item.label}" if item.label else "")
                   + f": {item.status}, {CYCLE_LABELS.get(item.cycle, item.cycle)} "
                   f"{fmt.money(item.amount)}" for item in r.items]
                + ([r.notes] if r.notes else []))
        return None


class PromoColumn(IntEnum):
    CODE = 0
    VALUE = 1
    RECURRING = 2
    PRODUCTS = 3
    CYCLES = 4
    START = 5
    END = 6
    USES = 7


class PromoTableModel(_ListModel):
    HEADERS = {PromoColumn.CODE: "Code", PromoColumn.VALUE: "Discount",
               PromoColumn.RECURRING: "Applies", PromoColumn.PRODUCTS: "Products",
               PromoColumn.CYCLES: "Cycles", PromoColumn.START: "Starts",
               PromoColumn.END: "Ends", PromoColumn.USES: "Uses"}
    MONEY_COLUMNS = frozenset({PromoColumn.VALUE})

    def load(self) -> None:
        self.set_rows(promos.list_promos())

    def record(self, row: int) -> PromoRecord | None:
        return self.row(row)

    def row_of(self, promo_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == promo_id), None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: PromoRecord = self._rows[index.row()]
        column = PromoColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                PromoColumn.CODE: r.code,
                PromoColumn.VALUE: r.value_text if r.kind == "percent" else f"{r.value_text} off",
                PromoColumn.RECURRING: "Every payment" if r.recurring else "First payment",
                PromoColumn.PRODUCTS: ", ".join(n for _i, n in r.products) or "All",
                PromoColumn.CYCLES: ", ".join(CYCLE_LABELS[c] for c in r.cycles) or "All",
                PromoColumn.START: fmt.date(r.start_date),
                PromoColumn.END: fmt.date(r.end_date),
                PromoColumn.USES: f"{r.uses} of {r.max_uses}" if r.max_uses else str(r.uses),
            }[column]
        if role == SortRole:
            return {
                PromoColumn.CODE: r.code.casefold(),
                PromoColumn.VALUE: r.value,
                PromoColumn.RECURRING: int(r.recurring),
                PromoColumn.PRODUCTS: len(r.products),
                PromoColumn.CYCLES: len(r.cycles),
                PromoColumn.START: r.start_date or dt.date.min,
                PromoColumn.END: r.end_date or dt.date.max,
                PromoColumn.USES: r.uses,
            }[column]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and self._spent(r):
            return QColor("#8a8a8a")
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.notes or None
        return None

    @staticmethod
    def _spent(r: PromoRecord) -> bool:
        """Expired or used up: greyed."""
        return bool((r.end_date and r.end_date < dt.date.today())
                    or (r.max_uses and r.uses >= r.max_uses))


class QuoteColumn(IntEnum):
    DESCRIPTION = 0
    AMOUNT = 1
    TAXED = 2


class QuoteLineModel(_ListModel):
    """The first invoice's lines as placing the order would write them."""

    HEADERS = {QuoteColumn.DESCRIPTION: "Description", QuoteColumn.AMOUNT: "Amount",
               QuoteColumn.TAXED: "Taxed"}
    MONEY_COLUMNS = frozenset({QuoteColumn.AMOUNT})

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line: orders.QuoteLine = self._rows[index.row()]
        column = QuoteColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return {QuoteColumn.DESCRIPTION: line.description,
                    QuoteColumn.AMOUNT: fmt.money(line.amount),
                    QuoteColumn.TAXED: "Yes" if line.taxed else ""}[column]
        if role == SortRole:
            return {QuoteColumn.DESCRIPTION: line.description.casefold(),
                    QuoteColumn.AMOUNT: line.amount.amount,
                    QuoteColumn.TAXED: int(line.taxed)}[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if (role == Qt.ItemDataRole.ForegroundRole and column == QuoteColumn.AMOUNT
                and line.amount.amount < 0):
            return QColor("#2e7d32")
        return None
