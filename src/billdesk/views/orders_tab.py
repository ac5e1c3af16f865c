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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from billdesk.errors import BilldeskError
from billdesk.services import orders
from billdesk.views.errors import show_error
from billdesk.views.models.order_tables import OrderColumn, OrderTableModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.record_tab import RecordTab, confirmed


class Owner(Protocol):
    """What the tab needs from the window it sits in."""

    client_id: int
    ops: Operations

    def open_invoice(self, invoice_id: int) -> None: ...


class OrdersTab(RecordTab):
    """The owner's client's orders with their actions."""

    NOUN = "order"
    EMPTY = "No orders yet. Place order… orders a product for the client."
    owner: Owner

    def __init__(self, owner: Owner, parent: QWidget | None = None) -> None:
        super().__init__(owner, parent)
        self.setObjectName("ordersTab")
        self.dialog: QWidget | None = None  # the last order dialog opened
        self._table(OrderTableModel(self), "ordersTable", OrderColumn.ITEMS,
                    ((OrderColumn.NUMBER, 110), (OrderColumn.DATE, 95), (OrderColumn.PROMO, 110),
                     (OrderColumn.TOTAL, 100), (OrderColumn.STATUS, 90),
                     (OrderColumn.INVOICE, 240)),
                    sort_by=(OrderColumn.DATE, Qt.SortOrder.DescendingOrder))
        self.view.doubleClicked.connect(lambda _index: self.open_invoice())
        top = self._button_bar((("placeOrder", "Place order…", self.place_order),
                                ("accept", "Accept", self.accept_selected),
                                ("cancel", "Cancel order", self.cancel_selected),
                                ("openInvoice", "Open invoice", self.open_invoice)), "orderCount")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._follow_selection(self._enable)
        owner.ops.changed.connect(self._changed)
        self.load()

    # --- showing
    def _changed(self, changes: Changes) -> None:
        if ((changes.orders or changes.services or changes.billing)
                and changes.touches(self.owner.client_id)):
            self.load()

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
        if not confirmed(self, "Cancel order", f"Cancel order #{order.number}? Its services, "
                         f"addons and domains become Cancelled.{invoice}"):
            return
        order_id = order.id
        self._run(lambda: orders.cancel_order(order_id), on_done=lambda _r: self.select(order_id))

    def open_invoice(self) -> None:
        order = self.selected()
        if order is not None and order.invoice_id is not None:
            self.owner.open_invoice(order.invoice_id)
