"""The Summary tab's "queued invoice items" (B3, B5): the client's billable
items waiting for a coming invoice and the active recurring invoices, with
"Add billable item…" and "New recurring invoice…", Edit (or double-click)
and Delete / Stop for the selected row.

Standalone: ``QueuedItems(ops)``, then ``load(client_id)``. It reloads
itself when a write touching billable items or invoices of its client
finishes (``Operations.changed``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import billable, recurring
from billdesk.views.billable_dialog import BillableDialog
from billdesk.views.models.billable_tables import (
    BillableColumn,
    BillableTableModel,
    RecurringColumn,
    RecurringTableModel,
)
from billdesk.views.ops import Changes, Operations
from billdesk.views.recurring_dialog import RecurringDialog
from billdesk.views.tables import setup_table


class QueuedItems(QWidget):
    """Queued billable items and active recurring invoices of one client."""

    items_changed = Signal()  # after an add, edit, delete or stop was written

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.client_id: int | None = None

        self.items_model = BillableTableModel(self)
        self.items_view = QTableView()
        self.items_view.setObjectName("queued_items")
        self.items_view.setModel(self.items_model)
        setup_table(self.items_view, stretch=BillableColumn.DESCRIPTION)
        self.items_view.horizontalHeader().setSectionResizeMode(
            BillableColumn.ACTION, QHeaderView.ResizeMode.ResizeToContents)
        self.items_view.doubleClicked.connect(lambda _index: self.edit_item())
        self.items_empty = QLabel("No billable items are waiting for an invoice.")
        self.add_item_button = QPushButton("Add billable item…")
        self.add_item_button.setObjectName("add_billable")
        self.add_item_button.clicked.connect(self.add_item)
        self.edit_item_button = QPushButton("Edit…")
        self.edit_item_button.setObjectName("edit_billable")
        self.edit_item_button.clicked.connect(self.edit_item)
        self.delete_item_button = QPushButton("Delete")
        self.delete_item_button.setObjectName("delete_billable")
        self.delete_item_button.clicked.connect(self.delete_item)

        self.recurring_model = RecurringTableModel(self)
        self.recurring_view = QTableView()
        self.recurring_view.setObjectName("recurring_invoices")
        self.recurring_view.setModel(self.recurring_model)
        setup_table(self.recurring_view, stretch=RecurringColumn.DESCRIPTION)
        self.recurring_view.doubleClicked.connect(lambda _index: self.edit_recurring())
        self.recurring_empty = QLabel("No recurring invoices.")
        self.add_recurring_button = QPushButton("New recurring invoice…")
        self.add_recurring_button.setObjectName("add_recurring")
        self.add_recurring_button.clicked.connect(self.add_recurring)
        self.edit_recurring_button = QPushButton("Edit…")
        self.edit_recurring_button.setObjectName("edit_recurring")
        self.edit_recurring_button.clicked.connect(self.edit_recurring)
        self.stop_recurring_button = QPushButton("Stop")
        self.stop_recurring_button.setObjectName("stop_recurring")
        self.stop_recurring_button.clicked.connect(self.stop_recurring)

        items_box = QGroupBox("Queued invoice items")
        items_layout = QVBoxLayout(items_box)
        items_layout.addWidget(self.items_view)
        items_layout.addWidget(self.items_empty)
        items_layout.addLayout(_row(self.add_item_button, self.edit_item_button,
                                    self.delete_item_button))
        recurring_box = QGroupBox("Recurring invoices")
        recurring_layout = QVBoxLayout(recurring_box)
        recurring_layout.addWidget(self.recurring_view)
        recurring_layout.addWidget(self.recurring_empty)
        recurring_layout.addLayout(_row(self.add_recurring_button, self.edit_recurring_button,
                                        self.stop_recurring_button))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(items_box)
        layout.addWidget(recurring_box)

        self.items_view.selectionModel().selectionChanged.connect(self._follow_selection)
        self.recurring_view.selectionModel().selectionChanged.connect(self._follow_selection)
        ops.changed.connect(self._changed)
        self._follow_selection()

    # --- showing
    def load(self, client_id: int) -> None:
        self.client_id = client_id
        self.items_model.load(client_id)
        self.recurring_model.load(client_id)
        self.items_view.setVisible(self.items_model.rowCount() > 0)
        self.items_empty.setVisible(self.items_model.rowCount() == 0)
        self.recurring_view.setVisible(self.recurring_model.rowCount() > 0)
        self.recurring_empty.setVisible(self.recurring_model.rowCount() == 0)
        self._follow_selection()

    def _changed(self, changes: Changes) -> None:
        if self.client_id is None or not changes.touches(self.client_id):
            return
        if changes.billable or changes.billing or changes.clients:
            self.load(self.client_id)

    def _follow_selection(self, *_args: object) -> None:
        has_item = self.selected_item() is not None
        has_template = self.selected_recurring() is not None
        self.edit_item_button.setEnabled(has_item)
        self.delete_item_button.setEnabled(has_item)
        self.edit_recurring_button.setEnabled(has_template)
        self.stop_recurring_button.setEnabled(has_template)
        for button in (self.add_item_button, self.add_recurring_button):
            button.setEnabled(self.client_id is not None)

    def selected_item(self) -> billable.BillableRecord | None:
        rows = self.items_view.selectionModel().selectedRows()
        return self.items_model.item(rows[0].row()) if rows else None

    def selected_recurring(self) -> recurring.RecurringRecord | None:
        rows = self.recurring_view.selectionModel().selectedRows()
        return self.recurring_model.template(rows[0].row()) if rows else None

    # --- actions
    def add_item(self) -> BillableDialog | None:
        return self._open(BillableDialog(self.ops, self.client_id, parent=self))

    def edit_item(self) -> BillableDialog | None:
        item = self.selected_item()
        if item is None:
            return None
        return self._open(BillableDialog(self.ops, self.client_id, item, parent=self))

    def add_recurring(self) -> RecurringDialog | None:
        return self._open(RecurringDialog(self.ops, self.client_id, parent=self))

    def edit_recurring(self) -> RecurringDialog | None:
        template = self.selected_recurring()
        if template is None:
            return None
        return self._open(RecurringDialog(self.ops, self.client_id, template, parent=self))

    def _open(self, dialog: BillableDialog | RecurringDialog) -> BillableDialog | RecurringDialog:
        """Opens the dialog (not modal: the worker reports back to it)."""
        if self.client_id is None:
            raise RuntimeError("load a client first")
        saved = dialog.item_saved if isinstance(dialog, BillableDialog) else dialog.recurring_saved
        saved.connect(lambda _id: self.items_changed.emit())
        dialog.open()
        return dialog

    def delete_item(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        answer = QMessageBox.question(self, "Delete billable item",
                                      f"Delete billable item “{item.description}”?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._write(lambda: billable.delete_item(item.id))

    def stop_recurring(self) -> None:
        template = self.selected_recurring()
        if template is None:
            return
        answer = QMessageBox.question(
            self, "Stop recurring invoice",
            f"Issue no more invoices from recurring invoice #{template.id} "
            f"({template.description})?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._write(lambda: recurring.stop_recurring(template.id))

    def _write(self, work) -> None:  # noqa: ANN001
        from billdesk.views.errors import show_error

        self.ops.run(work, changes=Changes(billable=True, client_id=self.client_id),
                     on_done=lambda _result: self.items_changed.emit(),
                     on_error=lambda exc: show_error(self, exc))


def _row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row

