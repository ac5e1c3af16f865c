"""Manage credits (P4): the credit log — how credit was earned and spent —
with Add, Remove, Delete entry and a manual balance adjustment."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import clients, credit
from billdesk.views import fmt
from billdesk.views.errors import show_error
from billdesk.views.models.billing_tables import CreditColumn, CreditLogModel
from billdesk.views.money_dialogs import AmountDialog
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table, text_width


class ManageCreditsDialog(QDialog):
    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.client_id = client_id
        record = clients.get_client(client_id)
        self.currency = record.values["currency"]
        self.setWindowTitle(f"Manage credits — #{client_id} {record.display_name}")
        self.balance = QLabel()
        self.balance.setObjectName("creditBalance")
        font = self.balance.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.balance.setFont(font)

        self.model = CreditLogModel(self)
        self.view = QTableView()
        self.view.setObjectName("creditLog")
        self.view.setModel(self.model)
        setup_table(self.view, CreditColumn.DESCRIPTION)
        header = self.view.horizontalHeader()
        header.resizeSection(CreditColumn.DATE, 95)
        header.resizeSection(CreditColumn.KIND, max(150, text_width(
            self.view, (label + " (deleted)" for label in credit.KIND_LABELS.values()))))
        header.resizeSection(CreditColumn.AMOUNT, 110)

        self.add = QPushButton("Add credit…")
        self.add.setObjectName("addCredit")
        self.add.clicked.connect(self._add)
        self.remove = QPushButton("Remove credit…")
        self.remove.setObjectName("removeCredit")
        self.remove.clicked.connect(self._remove)
        self.delete = QPushButton("Delete entry")
        self.delete.setObjectName("deleteEntry")
        self.delete.setToolTip("Reverse the selected entry; both stay in the log")
        self.delete.clicked.connect(self._delete)
        self.adjust = QPushButton("Adjust balance…")
        self.adjust.setObjectName("adjustBalance")
        self.adjust.clicked.connect(self._adjust)
        buttons = QHBoxLayout()
        for b in (self.add, self.remove, self.delete, self.adjust):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Credit balance:"))
        top.addWidget(self.balance)
        top.addStretch(1)
        layout.addLayout(top)
        intro = QLabel("Every movement of this client's credit, newest first. Credit is used "
                       "on the next invoices billdesk generates, or applied by hand from an invoice.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.resize(720, 460)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        ops.changed.connect(self._changed)
        self.finished.connect(self._disconnect)
        self.reload()

    def reload(self) -> None:
        found = self.model.load(self.client_id)
        self.balance.setText(fmt.money(found.balance))
        self.remove.setEnabled(bool(found.balance))
        self._selection()

    def _selection(self) -> None:
        entry = self.selected()
        deletable = entry is not None and not entry.reversed_by and entry.kind in credit.DELETABLE
        self.delete.setEnabled(deletable)
        self.delete.setToolTip(
            "Reverse the selected entry; both stay in the log" if deletable or entry is None else
            "Made by billdesk with an invoice or payment: undo it there (refund, cancel the "
            "invoice) or remove credit by hand")

    def selected(self) -> credit.Entry | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _changed(self, changes: Changes) -> None:
        if (changes.billing or changes.clients) and changes.touches(self.client_id):
            self.reload()

    def _disconnect(self) -> None:
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass

    def _add(self) -> None:
        client_id = self.client_id
        AmountDialog(self.ops, client_id, "Add credit",
                     "Credit the client, e.g. for downtime or money received outside an invoice.",
                     self.currency, lambda a, d: credit.add_credit(client_id, a, d),
                     describe="Description", save_text="Add credit", parent=self).open()

    def _remove(self) -> None:
        client_id = self.client_id
        AmountDialog(self.ops, client_id, "Remove credit",
                     f"Take credit away (at most {self.balance.text()}), with the reason.",
                     self.currency, lambda a, d: credit.remove_credit(client_id, a, d),
                     describe="Reason", save_text="Remove credit", parent=self).open()

    def _adjust(self) -> None:
        client_id = self.client_id
        AmountDialog(self.ops, client_id, "Adjust credit balance",
                     "Set the balance to a new figure. The difference is written to the log "
                     "as one entry.", self.currency,
                     lambda a, d: credit.adjust_balance(client_id, a, d), describe="Reason",
                     amount=str(credit.balance(client_id)),
                     field_names=("credit_balance", "reason"), save_text="Set balance",
                     amount_label="New balance", parent=self).open()

    def _delete(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        answer = QMessageBox.question(
            self, "Delete credit entry",
            f"Delete “{entry.description}” ({fmt.money(entry.amount)})?\n\nThe balance changes by "
            f"{fmt.money(-entry.amount)}; the entry stays in the log, marked deleted.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ops.run(lambda: credit.delete_entry(entry.id),
                     changes=Changes(billing=True, client_id=self.client_id),
                     on_error=lambda exc: show_error(self, exc))


def open_credits(ops: Operations, client_id: int, parent: QWidget | None = None) -> ManageCreditsDialog:
    dialog = ManageCreditsDialog(ops, client_id, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
