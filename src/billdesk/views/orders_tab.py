"""A client's orders (S8): the Orders tab of the client window.

One row per order, newest first: number, date, items, promotion, total,
status and invoice. Place order… opens the order dialog; Accept makes a
Pending order and its Pending items Active; Cancel order (after asking)
cancels the order, its items and its unpaid invoice; Open invoice opens
the order's first invoice through the owner (the client window). Writes
run on the database worker and report ``Changes(orders=…, services=…,
billing=…)``; the tab reloads itself when a change touches its client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, NotFound
from billdesk.services import orders
from billdesk.services.orders import OrderRecord
from billdesk.views.errors import show_error
from billdesk.views.models import SortRole
from billdesk.views.models.order_tables import OrderColumn, OrderTableModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table


class Owner(Protocol):
    """What the tab needs from the window it sits in."""

    client_id: int
    ops: Operations

    def open_invoice(self, invoice_id: int) -> None: ...


class OrdersTab(QWidget):
    """The owner's client's orders with their actions."""

    def __init__(self, owner: Owner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owner = owner
        self.setObjectName("ordersTab")
        self.dialog: QWidget | None = None  # the last order dialog opened
        self.model = OrderTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = QTableView()
        self.view.setObjectName("ordersTable")
        self.view.setModel(self.proxy)
        setup_table(self.view, OrderColumn.ITEMS)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(OrderColumn.DATE, Qt.SortOrder.DescendingOrder)
        for column, width in ((OrderColumn.NUMBER, 110), (OrderColumn.DATE, 95),
                              (OrderColumn.PROMO, 110), (OrderColumn.TOTAL, 100),
                              (OrderColumn.STATUS, 90), (OrderColumn.INVOICE, 240)):
            self.view.setColumnWidth(column, width)
        self.view.doubleClicked.connect(lambda _index: self.open_invoice())

        self.buttons: dict[str, QPushButton] = {}
        self.count = QLabel()
        self.count.setObjectName("orderCount")
        top = QHBoxLayout()
        for key, text, slot in (("placeOrder", "Place order…", self.place_order),
                                ("accept", "Accept", self.accept_selected),
                                ("cancel", "Cancel order", self.cancel_selected),
                                ("openInvoice", "Open invoice", self.open_invoice)):
            top.addWidget(self._button(key, text, slot))
        top.addStretch(1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._enable)
        self.model.modelReset.connect(self._enable)
        owner.ops.changed.connect(self._changed)
        self.load()

    def _button(self, name: str, text: str, slot: Callable[..., Any]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons[name] = button
        return button

    # --- showing
    def load(self) -> None:
        """The client's orders as stored; the highlighted one stays highlighted."""
        chosen = self.selected()
        try:
            self.model.load(self.owner.client_id)
        except NotFound:  # the client went: its window closes
            return
        n = self.model.rowCount()
        self.count.setText(f"{n} order{'' if n == 1 else 's'}")
        if chosen is not None:
            self.select(chosen.id)

    def _changed(self, changes: Changes) -> None:
        if ((changes.orders or changes.services or changes.billing)
                and changes.touches(self.owner.client_id)):
            self.load()

    def selected(self) -> OrderRecord | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.record(self.proxy.mapToSource(rows[0]).row())

    def select(self, order_id: int) -> None:
        row = self.model.row_of(order_id)
        if row is not None:
            self.view.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def _enable(self) -> None:
        order = self.selected()
        self.buttons["accept"].setEnabled(order is not None and order.status == "Pending")
        self.buttons["cancel"].setEnabled(order is not None and order.status != "Cancelled")
        self.buttons["openInvoice"].setEnabled(order is not None and order.invoice_id is not None)

    # --- actions
    def _run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> None:
        self.owner.ops.run(fn, changes=Changes(orders=True, services=True, billing=True,
                                               client_id=self.owner.client_id),
                           on_done=on_done, on_error=lambda exc: show_error(self, exc))

    def place_order(self) -> None:
        from billdesk.views.order_dialog import OrderDialog

        try:
            dialog = OrderDialog(self.owner.ops, self.owner.client_id, self)
        except BilldeskError as exc:
            show_error(self, exc)
            return
        dialog.order_placed.connect(self._placed)
        self.dialog = dialog
        dialog.open()

    def _placed(self, order_id: int) -> None:
        self.load()
        self.select(order_id)

    def accept_selected(self) -> None:
        order = self.selected()
        if order is None or order.status != "Pending":
            return
        order_id = order.id
        self._run(lambda: orders.accept_order(order_id), on_done=lambda _r: self.select(order_id))

    def cancel_selected(self) -> None:
        order = self.selected()
        if order is None or order.status == "Cancelled":
            return
        invoice = ("" if order.invoice_id is None or order.invoice_status not in
                   ("Unpaid", "Collections") else
                   f" Its unpaid invoice #{order.invoice_number} is cancelled too (credit "
                   "applied to it returns to the client's credit).")
        answer = QMessageBox.question(
            self, "Cancel order", f"Cancel order #{order.number}? Its services, addons and "
            f"domains become Cancelled.{invoice}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        order_id = order.id
        self._run(lambda: orders.cancel_order(order_id), on_done=lambda _r: self.select(order_id))

    def open_invoice(self) -> None:
        order = self.selected()
        if order is not None and order.invoice_id is not None:
            self.owner.open_invoice(order.invoice_id)
