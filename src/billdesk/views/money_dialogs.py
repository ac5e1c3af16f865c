"""Small dialogs that move money: take a payment (P2), refund one (P3),
and an amount with a description (add or remove credit, adjust the
balance, apply credit, add funds). Each shows refusals beside the field
and writes through the one database worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QVBoxLayout, QWidget

from billdesk.errors import InvalidInput
from billdesk.money import Money
from billdesk.services import billing_settings, invoicing, payments
from billdesk.services.amounts import amount_input
from billdesk.views import fmt
from billdesk.views.forms import Form, combo, date_edit, line, save_cancel
from billdesk.views.ops import Changes, Operations


def _typed(text: str, currency: str) -> Money | None:
    """What the user typed so far, read as saving will read it
    (``amounts.amount_input``: "12,50" and "1e3" are not amounts, "£5"
    is), so that live totals and hints never show a figure Save refuses;
    None while it is empty or not an amount. Its sign and size are left
    to the service's check."""
    if not text.strip():
        return None
    try:
        return amount_input(text, currency, zero_ok=True, negative_ok=True)
    except InvalidInput:
        return None


def method_combo(current: str = "") -> Any:
    """The payment methods of Settings, "—" for none, on ``current``; a
    method no longer offered is still shown when it is the current one
    (not silently dropped)."""
    names = billing_settings.payment_methods()
    widget = combo([("—", "")] + [(n, n) for n in names])
    if current and widget.findData(current) < 0:
        widget.addItem(current, current)
    widget.setCurrentIndex(max(widget.findData(current), 0))
    return widget


class PaymentDialog(QDialog):
    """Add payment: amount (the balance due to start with), date, method,
    fee, reference. Says beforehand what goes to credit."""

    def __init__(self, ops: Operations, invoice: invoicing.InvoiceRecord,
                 parent: QWidget | None = None,
                 on_done: Callable[[payments.PaymentResult], None] | None = None) -> None:
        super().__init__(parent)
        self.ops, self.invoice, self.on_done = ops, invoice, on_done
        self.setWindowTitle(f"Add payment — invoice {invoice.label}")
        self.form = Form(self)
        layout = QFormLayout()
        self.amount = self.form.add(layout, "amount", f"Amount ({invoice.currency})", line("0.00", 20)).widget
        self.form.add(layout, "date", "Date", date_edit())
        self.form.add(layout, "method", "Method", method_combo(invoice.payment_method))
        self.form.add(layout, "fee", f"Fee ({invoice.currency})", line("0.00", 20))
        self.form.add(layout, "ref", "Reference", line("transaction id, cheque number…", 200))
        self.amount.setText(str(invoice.balance))
        self.hint = QLabel()
        self.hint.setObjectName("paymentHint")
        self.hint.setWordWrap(True)
        self.amount.textChanged.connect(self._hint)
        buttons, self.save_button = save_cancel(self, "Add payment")
        box = QVBoxLayout(self)
        box.addWidget(QLabel(f"Balance due: <b>{fmt.money(invoice.balance)}</b>"))
        box.addLayout(layout)
        box.addWidget(self.hint)
        box.addWidget(buttons)
        self.setMinimumWidth(440)
        self._hint()
        self.amount.selectAll()

    def _hint(self) -> None:
        typed = _typed(self.amount.text(), self.invoice.currency)
        due = self.invoice.balance
        if typed is None or typed.amount <= 0:
            text = ""
        elif self.invoice.is_add_funds:
            text = f"{fmt.money(typed)} goes to the client's credit."
        elif typed > due:
            text = (f"Pays the invoice in full; the other {fmt.money(typed - due)} goes to the "
                    "client's credit.")
        elif typed == due:
            text = "Pays the invoice in full."
        else:
            text = f"A partial payment: {fmt.money(due - typed)} stays due."
        self.hint.setText(text)

    def save(self) -> None:
        v = self.form.values()
        invoice_id = self.invoice.id
        self.save_button.setEnabled(False)

        def done(result: payments.PaymentResult) -> None:
            if self.on_done:
                self.on_done(result)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(lambda: payments.add_payment(invoice_id, v["amount"], fee=v["fee"] or None,
                                                  date=v["date"], method=v["method"] or "",
                                                  reference=v["ref"]),
                     changes=Changes(billing=True, client_id=self.invoice.client_id),
                     on_done=done, on_error=failed)


class RefundDialog(QDialog):
    """Refund (part of) a payment, by its method or to the client's credit."""

    def __init__(self, ops: Operations, client_id: int, transaction: payments.TransactionRow,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id, self.transaction = ops, client_id, transaction
        left = payments.refundable(transaction.id)
        self.setWindowTitle(f"Refund transaction #{transaction.id}")
        self.form = Form(self)
        layout = QFormLayout()
        self.form.add(layout, "amount", f"Amount ({left.currency})", line("0.00", 20)).widget.setText(str(left))
        self.form.add(layout, "date", "Date", date_edit())
        self.to_credit = QCheckBox()
        self.form.add(layout, "to_credit", "Keep it as credit instead of paying it back", self.to_credit)
        buttons, self.save_button = save_cancel(self, "Refund")
        box = QVBoxLayout(self)
        what = (f"Payment of {fmt.money(transaction.amount_in)} on {fmt.date(transaction.date)}"
                f" by {transaction.method or 'unknown method'}"
                + (f" for invoice #{transaction.invoice_number}" if transaction.invoice_number else ""))
        box.addWidget(QLabel(what))
        box.addWidget(QLabel(f"Up to {fmt.money(left)} can be refunded. A whole refund marks a paid "
                             "invoice Refunded."))
        box.addLayout(layout)
        box.addWidget(buttons)
        self.setMinimumWidth(440)

    def save(self) -> None:
        v = self.form.values()
        tx_id = self.transaction.id
        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(lambda: payments.refund(tx_id, v["amount"], to_credit=v["to_credit"],
                                             date=v["date"]),
                     changes=Changes(billing=True, client_id=self.client_id),
                     on_done=lambda _r: self.accept(), on_error=failed)


class AmountDialog(QDialog):
    """An amount, and a description when ``describe`` names its label.
    ``call(amount, description)`` runs on the worker."""

    def __init__(self, ops: Operations, client_id: int, title: str, intro: str, currency: str,
                 call: Callable[[str, str], Any], *, describe: str | None = "Description",
                 amount: str = "", field_names: tuple[str, str] = ("amount", "description"),
                 save_text: str = "Save", amount_label: str = "Amount",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id, self.call = ops, client_id, call
        self.setWindowTitle(title)
        self.form = Form(self)
        self.field_names = field_names
        layout = QFormLayout()
        self.amount = self.form.add(layout, field_names[0], f"{amount_label} ({currency})",
                                    line("0.00", 20)).widget
        self.amount.setText(amount)
        self.description = None
        if describe:
            self.description = self.form.add(layout, field_names[1], describe, line("", 500)).widget
        buttons, self.save_button = save_cancel(self, save_text)
        box = QVBoxLayout(self)
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            box.addWidget(text)
        box.addLayout(layout)
        box.addWidget(buttons)
        self.setMinimumWidth(380)

    def save(self) -> None:
        amount = self.amount.text()
        description = self.description.text() if self.description is not None else ""
        call = self.call
        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(lambda: call(amount, description),
                     changes=Changes(billing=True, client_id=self.client_id),
                     on_done=lambda _r: self.accept(), on_error=failed)
