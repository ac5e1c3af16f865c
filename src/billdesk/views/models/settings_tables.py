"""The billing settings lists (D6): tax rules and currencies with their
rates. Both hold a working copy that the Settings window edits; nothing is
written until it saves."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from billdesk.services.billing_settings import TaxRuleRecord
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import Index, _ListModel

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _muted() -> Any:
    return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def _percent(rate: Decimal) -> str:
    """17.5, 20 (never 2E+1)."""
    return format(rate.normalize(), "f") if rate else "0"


class TaxRuleColumn(IntEnum):
    LEVEL = 0
    NAME = 1
    RATE = 2
    COUNTRY = 3
    STATE = 4


class TaxRuleTableModel(_ListModel):
    """Tax rules, by level, then country and state. New rules (not yet
    saved) have negative ids."""

    HEADERS = {TaxRuleColumn.LEVEL: "Level", TaxRuleColumn.NAME: "Name",
               TaxRuleColumn.RATE: "Rate %", TaxRuleColumn.COUNTRY: "Country",
               TaxRuleColumn.STATE: "State/Region"}

    def set_rules(self, rules: list[TaxRuleRecord]) -> None:
        self.set_rows(sorted(rules, key=lambda r: (r.level, r.country, r.state.casefold(),
                                                   r.id < 0, abs(r.id))))

    def rules(self) -> list[TaxRuleRecord]:
        return list(self._rows)

    def rule(self, row: int) -> TaxRuleRecord | None:
        return self.row(row)

    def row_of(self, rule_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == rule_id), None)

    def put(self, rule: TaxRuleRecord) -> None:
        """Add the rule, or replace the one with its id."""
        self.set_rules([r for r in self._rows if r.id != rule.id] + [rule])

    def remove(self, rule_id: int) -> None:
        row = self.row_of(rule_id)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rule: TaxRuleRecord = self._rows[index.row()]
        column = TaxRuleColumn(index.column())
        if role == SortRole:
            return {TaxRuleColumn.LEVEL: rule.level, TaxRuleColumn.NAME: rule.name,
                    TaxRuleColumn.RATE: rule.rate, TaxRuleColumn.COUNTRY: rule.country,
                    TaxRuleColumn.STATE: rule.state}[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                TaxRuleColumn.LEVEL: str(rule.level),
                TaxRuleColumn.NAME: rule.name,
                TaxRuleColumn.RATE: _percent(rule.rate),
                TaxRuleColumn.COUNTRY: rule.country or "All countries",
                TaxRuleColumn.STATE: rule.state or ("All" if rule.country else ""),
            }[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (TaxRuleColumn.LEVEL,
                                                                    TaxRuleColumn.RATE):
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and (
                (column == TaxRuleColumn.COUNTRY and not rule.country)
                or (column == TaxRuleColumn.STATE and not rule.state)):
            return _muted()
        if role == Qt.ItemDataRole.ToolTipRole:
            where = rule.country or "every country"
            if rule.state:
                where += f", {rule.state}"
            return f"Level {rule.level}: {rule.name} {_percent(rule.rate)}% for {where}"
        if role == IdRole:
            return rule.id
        return None


class CurrencyColumn(IntEnum):
    CODE = 0
    RATE = 1


class CurrencyTableModel(_ListModel):
    """Currency codes and their rates (units per one unit of the default
    currency, which is listed with rate 1)."""

    HEADERS = {CurrencyColumn.CODE: "Currency", CurrencyColumn.RATE: "Rate"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.default = "USD"

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and section == CurrencyColumn.RATE):
            return f"Rate (per 1 {self.default})"
        return super().headerData(section, orientation, role)

    def set_rates(self, rates: dict[str, Decimal], default: str) -> None:
        self.default = default
        rates = {**rates, default: Decimal(1)}
        self.set_rows(sorted(rates.items()))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)

    def rates(self) -> dict[str, Decimal]:
        return dict(self._rows)

    def code(self, row: int) -> str | None:
        found = self.row(row)
        return found[0] if found else None

    def row_of(self, code: str) -> int | None:
        return next((i for i, (c, _r) in enumerate(self._rows) if c == code), None)

    def set_rate(self, code: str, rate: Decimal) -> None:
        row = self.row_of(code)
        if row is not None:
            self._rows[row] = (code, rate)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
            return
        row = sum(1 for c, _r in self._rows if c < code)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, (code, rate))
        self.endInsertRows()

    def remove(self, code: str) -> None:
        row = self.row_of(code)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        code, rate = self._rows[index.row()]
        column = CurrencyColumn(index.column())
        is_default = code == self.default
        if role == SortRole:
            return code if column == CurrencyColumn.CODE else rate
        if role == Qt.ItemDataRole.DisplayRole:
            if column == CurrencyColumn.CODE:
                return f"{code} (default)" if is_default else code
            return format(rate, "f")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == CurrencyColumn.RATE:
            return _RIGHT
        if role == Qt.ItemDataRole.FontRole and is_default:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if is_default:
                return f"{code} is the default currency (Company tab): its rate is always 1"
            return f"1 {self.default} = {format(rate, 'f')} {code}"
        if role == IdRole:
            return code
        return None
