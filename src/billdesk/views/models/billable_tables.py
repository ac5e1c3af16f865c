"""A client's queued billable items (B3) and recurring invoices (B5) as
tables, for the Summary tab's "queued invoice items"."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from billdesk.services import billable, recurring
from billdesk.services.billable import BillableRecord
from billdesk.services.recurring import RecurringRecord
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel


class BillableColumn(IntEnum):
    DESCRIPTION = 0
    AMOUNT = 1
    DUE = 2
    ACTION = 3


class BillableTableModel(_ListModel):
    """The client's billable items: the queued ones (default) or all."""

    HEADERS = {BillableColumn.DESCRIPTION: "Description", BillableColumn.AMOUNT: "Amount",
               BillableColumn.DUE: "Due", BillableColumn.ACTION: "Invoice action"}
    MONEY_COLUMNS = frozenset({BillableColumn.AMOUNT})

    def load(self, client_id: int, queued_only: bool = True) -> None:
        self.set_rows(billable.queued(client_id) if queued_only
                      else billable.list_items(client_id))

    def item(self, row: int) -> BillableRecord | None:
        return self.row(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item: BillableRecord = self._rows[index.row()]
        column = BillableColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if column == BillableColumn.DESCRIPTION:
                return item.description
            if column == BillableColumn.AMOUNT:
                return fmt.money(item.amount)
            if column == BillableColumn.DUE:
                return "next run" if item.action == "next" else fmt.date(item.due_date)
            return item.schedule()
        if role == SortRole:
            return {BillableColumn.DESCRIPTION: item.description.casefold(),
                    BillableColumn.AMOUNT: item.amount.amount,
                    BillableColumn.DUE: fmt.date(item.due_date),
                    BillableColumn.ACTION: item.schedule()}[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == BillableColumn.AMOUNT:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            how = (f"{item.hours:f} hours × {fmt.money(item.rate)}\n"
                   if item.hours is not None and item.rate is not None else "")
            return f"{how}{item.notes}".strip() or None
        if role == IdRole:
            return item.id
        return None


class RecurringColumn(IntEnum):
    DESCRIPTION = 0
    TOTAL = 1
    NEXT = 2
    SCHEDULE = 3
    STATUS = 4


class RecurringTableModel(_ListModel):
    """The client's recurring invoices: the active ones (default) or all."""

    HEADERS = {RecurringColumn.DESCRIPTION: "Recurring invoice", RecurringColumn.TOTAL: "Total",
               RecurringColumn.NEXT: "Next invoice", RecurringColumn.SCHEDULE: "Schedule",
               RecurringColumn.STATUS: "Status"}
    MONEY_COLUMNS = frozenset({RecurringColumn.TOTAL})

    def load(self, client_id: int, active_only: bool = True) -> None:
        self.set_rows(recurring.active(client_id) if active_only
                      else recurring.list_recurring(client_id))

    def template(self, row: int) -> RecurringRecord | None:
        return self.row(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec: RecurringRecord = self._rows[index.row()]
        column = RecurringColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {RecurringColumn.DESCRIPTION: rec.description,
                    RecurringColumn.TOTAL: fmt.money(rec.total),
                    RecurringColumn.NEXT: fmt.date(rec.next_date),
                    RecurringColumn.SCHEDULE: rec.schedule(),
                    RecurringColumn.STATUS: rec.status}[column]
        if role == SortRole:
            return {RecurringColumn.DESCRIPTION: rec.description.casefold(),
                    RecurringColumn.TOTAL: rec.total.amount if rec.total else 0,
                    RecurringColumn.NEXT: fmt.date(rec.next_date),
                    RecurringColumn.SCHEDULE: rec.schedule(),
                    RecurringColumn.STATUS: rec.status}[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == RecurringColumn.TOTAL:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == RecurringColumn.DESCRIPTION:
            return "\n".join(f"{line.description}: {fmt.money(line.amount)}"
                             + (" (taxed)" if line.taxed else "") for line in rec.lines)
        if role == IdRole:
            return rec.id
        return None
