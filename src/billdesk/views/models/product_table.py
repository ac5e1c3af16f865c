"""The product catalogue (S1) as a table: one row per product, by group and
name, with its monthly and annual price in one currency (the business's
default) and the other prices summed up in a column and its tooltip."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from billdesk.services import catalog
from billdesk.services.catalog import ProductRecord
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel


class ProductColumn(IntEnum):
    NAME = 0
    TYPE = 1
    GROUP = 2
    MONTHLY = 3
    ANNUALLY = 4
    OTHER = 5
    HIDDEN = 6


class ProductTableModel(_ListModel):
    """Products with their prices; ``currency`` is the one shown in the
    Monthly and Annually columns."""

    HEADERS = {ProductColumn.NAME: "Name", ProductColumn.TYPE: "Type", ProductColumn.GROUP: "Group",
               ProductColumn.MONTHLY: "Monthly", ProductColumn.ANNUALLY: "Annually",
               ProductColumn.OTHER: "Other prices", ProductColumn.HIDDEN: "Hidden"}
    MONEY_COLUMNS = frozenset({ProductColumn.MONTHLY, ProductColumn.ANNUALLY})
    _CYCLE = {ProductColumn.MONTHLY: "monthly", ProductColumn.ANNUALLY: "annually"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = "USD"

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and section in self.MONEY_COLUMNS):
            return f"{self.HEADERS[ProductColumn(section)]} ({self.currency})"
        return super().headerData(section, orientation, role)

    def load(self, currency: str) -> None:
        self.set_products(catalog.list_products(), currency)

    def set_products(self, products: list[ProductRecord], currency: str) -> None:
        self.currency = currency
        self.set_rows(list(products))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)

    def product(self, row: int) -> ProductRecord | None:
        return self.row(row)

    def row_of(self, product_id: int) -> int | None:
        return next((i for i, p in enumerate(self._rows) if p.id == product_id), None)

    def remove(self, product_id: int) -> None:
        row = self.row_of(product_id)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def _other_prices(self, product: ProductRecord) -> str:
        """Every price not in the Monthly and Annually columns."""
        parts = []
        for (currency, cycle), (amount, _fee) in product.prices.items():
            if currency == self.currency and cycle in self._CYCLE.values():
                continue
            label = CYCLE_LABELS[cycle]
            parts.append(f"{label} {fmt.money(amount)}")
        return ", ".join(parts)

    @staticmethod
    def _tooltip(product: ProductRecord) -> str:
        lines = [product.name]
        for (_currency, cycle), (amount, fee) in product.prices.items():
            line = f"{CYCLE_LABELS[cycle]}: {fmt.money(amount)}"
            if fee:
                line += f" + {fmt.money(fee)} setup"
            lines.append(line)
        if not product.prices:
            lines.append("No prices: not offered in any billing cycle")
        if product.hidden:
            lines.append("Hidden: left out of order forms")
        return "\n".join(lines)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        product: ProductRecord = self._rows[index.row()]
        column = ProductColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if column in self._CYCLE:
                price = product.price(self.currency, self._CYCLE[column])
                return fmt.money(price[0]) if price else ""
            return {
                ProductColumn.NAME: product.name,
                ProductColumn.TYPE: catalog.TYPE_LABELS.get(product.type, product.type),
                ProductColumn.GROUP: product.product_group,
                ProductColumn.OTHER: self._other_prices(product),
                ProductColumn.HIDDEN: "Hidden" if product.hidden else "",
            }.get(column)
        if role == SortRole:
            if column in self._CYCLE:
                price = product.price(self.currency, self._CYCLE[column])
                return price[0].amount if price else None
            return {
                ProductColumn.NAME: product.name.casefold(),
                ProductColumn.TYPE: product.type,
                ProductColumn.GROUP: product.product_group.casefold(),
                ProductColumn.OTHER: len(product.prices),
                ProductColumn.HIDDEN: product.hidden,
            }.get(column)
        if role == IdRole:
            return product.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and product.hidden:
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(product)
        return None
