"""A client's services, addons and domains as a table (S2, S3, S6): one row
per item, by id, with a check box in the ID column for the bulk actions.

One list holds one kind set (services and addons, or domains). The rows
come from one ``subscriptions.list_services`` call per load; the status
filter (remembered for the life of the process by ``subscriptions``) is
applied here, so the model knows how many items it hides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont

from billdesk.models import SERVICE_KINDS
from billdesk.services import subscriptions
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.services.subscriptions import ServiceRecord
from billdesk.views import fmt
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel

STATUS_COLOURS = {
    "Pending": "#9a6b00", "Active": "#2e7d32", "Suspended": "#c62828", "Terminated": "#8a8a8a",
    "Cancelled": "#8a8a8a", "Fraud": "#6a1b1b", "Pending transfer": "#9a6b00",
    "Expired": "#c62828", "Transferred away": "#8a8a8a",
}
_CYCLE_ORDER = {cycle: i for i, cycle in enumerate(CYCLE_LABELS)}


class ServiceColumn(IntEnum):
    ID = 0
    NAME = 1
    LABEL = 2
    CYCLE = 3
    AMOUNT = 4
    SIGNUP = 5
    NEXT_DUE = 6
    EXPIRY = 7
    STATUS = 8
    GROUP = 9


class ServiceTableModel(_ListModel):
    """Items of ``kinds`` for one client. ``checked_changed`` is emitted
    whenever the set of checked items changes (a click or a reload)."""

    HEADERS = {ServiceColumn.ID: "ID", ServiceColumn.NAME: "Product / service",
               ServiceColumn.LABEL: "Label / domain", ServiceColumn.CYCLE: "Billing cycle",
               ServiceColumn.AMOUNT: "Amount", ServiceColumn.SIGNUP: "Signup date",
               ServiceColumn.NEXT_DUE: "Next due", ServiceColumn.EXPIRY: "Expiry",
               ServiceColumn.STATUS: "Status", ServiceColumn.GROUP: "Group"}
    DOMAIN_HEADERS = {ServiceColumn.NAME: "Domain", ServiceColumn.LABEL: "Label",
                      ServiceColumn.SIGNUP: "Registered"}
    MONEY_COLUMNS = frozenset({ServiceColumn.AMOUNT})

    checked_changed = Signal()

    def __init__(self, kinds: Iterable[str] = ("service", "addon"), parent: Any = None) -> None:
        super().__init__(parent)
        self.kinds = tuple(kinds)
        self.domains = self.kinds == ("domain",)
        self.total = 0  # items of these kinds before the status filter
        self._checked: set[int] = set()
        self._parents: dict[int, str] = {}  # id → "Web hosting (#3)", for addons
        self.today = dt.date.today()

    # --- loading
    def load(self, client_id: int) -> None:
        """The client's items of this list's kinds, as the status filter
        lets through; checks stay on the items still shown."""
        self.show_items(subscriptions.list_services(client_id, SERVICE_KINDS))

    def show_items(self, everything: list[ServiceRecord]) -> None:
        """Show this list's part of all of one client's items (one query
        can feed several lists)."""
        mine = [r for r in everything if r.kind in self.kinds]
        filters = {kind: subscriptions.status_filter(kind) for kind in self.kinds}
        shown = [r for r in mine if filters[r.kind] is None or r.status in filters[r.kind]]
        self.set_records(shown, {r.id: r.title for r in everything}, total=len(mine))

    def set_records(self, records: list[ServiceRecord], parents: dict[int, str] | None = None,
                    *, total: int | None = None) -> None:
        before = set(self._checked)
        self._parents = parents or {}
        self.total = len(records) if total is None else total
        self.today = dt.date.today()
        self._checked &= {r.id for r in records}
        self.set_rows(list(records))
        if self._checked != before:
            self.checked_changed.emit()

    # --- rows and checks
    def record(self, row: int) -> ServiceRecord | None:
        return self.row(row)

    def records(self) -> list[ServiceRecord]:
        return list(self._rows)

    def row_of(self, service_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == service_id), None)

    def checked(self) -> list[ServiceRecord]:
        """The checked items, by id."""
        return [r for r in self._rows if r.id in self._checked]

    def set_checked(self, service_id: int, on: bool) -> None:
        row = self.row_of(service_id)
        if row is None or (service_id in self._checked) == on:
            return
        if on:
            self._checked.add(service_id)
        else:
            self._checked.discard(service_id)
        index = self.index(row, ServiceColumn.ID)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()

    def set_all_checked(self, on: bool) -> None:
        wanted = {r.id for r in self._rows} if on else set()
        if wanted == self._checked:
            return
        self._checked = wanted
        if self._rows:
            self.dataChanged.emit(self.index(0, ServiceColumn.ID),
                                  self.index(len(self._rows) - 1, ServiceColumn.ID),
                                  [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()

    def parent_name(self, record: ServiceRecord) -> str:
        if record.parent_id is None:
            return ""
        return self._parents.get(record.parent_id, f"#{record.parent_id}")

    # --- Qt
    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (self.domains and orientation == Qt.Orientation.Horizontal
                and role == Qt.ItemDataRole.DisplayRole and section in self.DOMAIN_HEADERS):
            return self.DOMAIN_HEADERS[ServiceColumn(section)]
        return super().headerData(section, orientation, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == ServiceColumn.ID:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (not index.isValid() or index.column() != ServiceColumn.ID
                or role != Qt.ItemDataRole.CheckStateRole):
            return False
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
        self.set_checked(self._rows[index.row()].id, state == Qt.CheckState.Checked)
        return True

    def _label(self, r: ServiceRecord) -> str:
        if r.kind == "addon":
            parent = f"on {self.parent_name(r)}"
            return f"{r.label} ({parent})" if r.label else parent
        return r.label

    def _overdue(self, r: ServiceRecord) -> bool:
        return (r.next_due is not None and r.next_due < self.today
                and r.status in ("Active", "Suspended"))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: ServiceRecord = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                ServiceColumn.ID: str(r.id),
                ServiceColumn.NAME: r.name,
                ServiceColumn.LABEL: self._label(r),
                ServiceColumn.CYCLE: CYCLE_LABELS.get(r.cycle, r.cycle),
                ServiceColumn.AMOUNT: fmt.money(r.amount),
                ServiceColumn.SIGNUP: fmt.date(r.signup_date),
                ServiceColumn.NEXT_DUE: fmt.date(r.next_due) or "—",
                ServiceColumn.EXPIRY: fmt.date(r.expiry_date),
                ServiceColumn.STATUS: r.status,
                ServiceColumn.GROUP: r.group_name,
            }[ServiceColumn(column)]
        if role == SortRole:
            return {
                ServiceColumn.ID: r.id,
                ServiceColumn.NAME: r.name.casefold(),
                ServiceColumn.LABEL: self._label(r).casefold(),
                ServiceColumn.CYCLE: _CYCLE_ORDER.get(r.cycle, 99),
                ServiceColumn.AMOUNT: r.amount.amount,
                ServiceColumn.SIGNUP: r.signup_date,
                ServiceColumn.NEXT_DUE: r.next_due or dt.date.max,
                ServiceColumn.EXPIRY: r.expiry_date or dt.date.max,
                ServiceColumn.STATUS: r.status,
                ServiceColumn.GROUP: r.group_name.casefold(),
            }[ServiceColumn(column)]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.CheckStateRole and column == ServiceColumn.ID:
            return Qt.CheckState.Checked if r.id in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.MONEY_COLUMNS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == ServiceColumn.STATUS:
                return QColor(STATUS_COLOURS.get(r.status, "#000000"))
            if column == ServiceColumn.NEXT_DUE and self._overdue(r):
                return QColor("#c62828")
        if role == Qt.ItemDataRole.FontRole and column == ServiceColumn.NAME and r.kind == "addon":
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r)
        return None

    def _tooltip(self, r: ServiceRecord) -> str:
        lines = [f"{subscriptions.KIND_LABELS[r.kind]} {r.title}"]
        if r.kind == "addon":
            lines.append(f"Addon to {self.parent_name(r)}")
        if r.next_due is not None and self._overdue(r):
            lines.append(f"Overdue since {fmt.date(r.next_due)}")
        if r.payment_method:
            lines.append(f"Payment method: {r.payment_method}")
        if r.override_suspend:
            lines.append("Auto-suspend overridden")
        if r.notes:
            lines.append(r.notes if len(r.notes) < 200 else r.notes[:200] + "…")
        return "\n".join(lines)
