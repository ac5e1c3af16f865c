"""The client's fields (C1, C5) as a form: the New client dialog and the
Profile tab both use it. Every problem shows beside its field as you type."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem
from billdesk.models import ACCOUNT_TYPES, CLIENT_STATUSES
from billdesk.services import clients, contacts, groups
from billdesk.views import forms
from billdesk.views.ops import Changes, Operations


class ClientForm(QWidget):
    """All client fields in four panels. ``profile`` adds what only an
    existing client has (status history, billing contact, two-factor)."""

    edited = Signal()

    def __init__(self, client_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client_id = client_id
        self.form = forms.Form(self)
        self.form.edited.connect(self._edited)
        f = self.form

        person = QGroupBox("Client")
        pl = QFormLayout(person)
        f.add(pl, "first_name", "First name *", forms.line())
        f.add(pl, "last_name", "Last name *", forms.line())
        f.add(pl, "company", "Company", forms.line())
        f.add(pl, "email", "Email *", forms.line("name@example.com", 254))
        f.add(pl, "phone", "Phone", forms.line("+44 20 7946 0958", 40))
        f.add(pl, "account_type", "Account type",
              forms.combo([(t.capitalize(), t) for t in ACCOUNT_TYPES]))
        f.add(pl, "tax_id", "Tax ID", forms.line("VAT or tax number", 60))

        address = QGroupBox("Address")
        forms.add_address(f, QFormLayout(address))

        account = QGroupBox("Account")
        acl = QFormLayout(account)
        f.add(acl, "status", "Status", forms.combo([(s, s) for s in CLIENT_STATUSES]))
        f.add(acl, "group_id", "Group", forms.combo([]))
        if client_id is None:
            f.add(acl, "currency", "Currency", forms.currency_combo())
        else:
            # C7: once invoices or transactions fix the currency, it changes
            # only through the Change currency dialog (convert or code only)
            currency = forms.currency_combo()
            self.change_currency = QPushButton("Change currency…")
            self.change_currency.setObjectName("changeCurrency")
            self.change_currency.setToolTip("Convert the open amounts at the exchange rate, "
                                            "or change the code only")
            self.change_currency.hide()
            row = QWidget()
            rl = QHBoxLayout(row)
            rl.setContentsMargins(0, 0, 0, 0)
            rl.addWidget(currency, 1)
            rl.addWidget(self.change_currency)
            f.add(acl, "currency", "Currency", row, currency)
        f.add(acl, "language", "Language", forms.language_combo())
        if client_id is not None:
            f.add(acl, "billing_contact_id", "Default billing contact", forms.combo([]))

        billing = QGroupBox("Billing preferences")
        bl = QFormLayout(billing)
        f.add(bl, "late_fees", "Apply late fees", QCheckBox())
        f.add(bl, "overdue_notices", "Send overdue reminders", QCheckBox())
        f.add(bl, "tax_exempt", "Tax exempt", QCheckBox())
        f.add(bl, "separate_invoices", "Separate invoices", QCheckBox())
        f.add(bl, "auto_cc", "Auto card processing", QCheckBox())
        method = f.add(bl, "payment_method", "Default payment method", forms.combo([])).widget
        method.setToolTip("New invoices take it; open invoices change with it")
        if client_id is not None:
            two_factor = QCheckBox()
            two_factor.setToolTip("Set by the client; clear it here when they lost their device")
            f.add(bl, "two_factor", "Two-factor authentication (can only be cleared)", two_factor)

        notes = QGroupBox("Admin notes")
        nl = QFormLayout(notes)
        note_edit = QPlainTextEdit()
        note_edit.setPlaceholderText("Only you see these")
        note_edit.setMaximumHeight(90)
        f.add(nl, "notes", "", note_edit)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(person, 0, 0)
        grid.addWidget(address, 0, 1)
        grid.addWidget(account, 1, 0)
        grid.addWidget(billing, 1, 1)
        grid.addWidget(notes, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.reload_choices()

    def reload_choices(self) -> None:
        from billdesk.services import billing_settings

        method_box = self.form.fields["payment_method"].widget
        current = method_box.currentData()
        method_box.blockSignals(True)
        method_box.clear()
        method_box.addItem("— none —", "")
        for name in billing_settings.payment_methods():
            method_box.addItem(name, name)
        method_box.setCurrentIndex(max(method_box.findData(current), 0))
        method_box.blockSignals(False)
        group_box = self.form.fields["group_id"].widget
        current = group_box.currentData()
        group_box.blockSignals(True)
        group_box.clear()
        group_box.addItem("— none —", None)
        for group in groups.list_groups():
            group_box.addItem(group.name, group.id)
        group_box.setCurrentIndex(max(group_box.findData(current), 0))
        group_box.blockSignals(False)
        if "billing_contact_id" in self.form.fields and self.client_id is not None:
            box = self.form.fields["billing_contact_id"].widget
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem("— the client —", None)
            for contact in contacts.list_contacts(self.client_id):
                box.addItem(f"{contact.name} <{contact.values['email']}>", contact.id)
            box.setCurrentIndex(max(box.findData(current), 0))
            box.blockSignals(False)

    def fix_currency(self, fixed: bool) -> None:
        """An existing client's currency: read-only here once their invoices
        fix it, with Change currency… beside it instead."""
        if self.client_id is None:
            return
        box = self.form.fields["currency"].widget
        box.setEnabled(not fixed)
        box.setToolTip("Fixed by the client's invoices and transactions: use Change currency…"
                       if fixed else "")
        self.change_currency.setVisible(fixed)

    def values(self) -> dict[str, Any]:
        values = self.form.values()
        if "two_factor" in values:
            values["two_factor"] = bool(values["two_factor"])
        return values

    def set_values(self, values: dict[str, Any]) -> None:
        self.form.set_values(values)
        if "two_factor" in self.form.fields:
            # can only be cleared: enabled while it is on
            self.form.fields["two_factor"].widget.setEnabled(bool(values.get("two_factor")))
        self.check()

    def check(self) -> bool:
        """Show every problem beside its field; True when there is none."""
        try:
            values = clients.normalise(self.values())
        except BilldeskError as exc:
            self.form.show_problems([Problem(exc.field, exc.message)])
            return False
        merged = clients.defaults() if self.client_id is None else {}
        merged.update(values)
        problems = clients.problems(merged, self.client_id)
        self.form.show_problems(problems)
        return not problems

    def show_error(self, exc: BaseException) -> None:
        self.form.show_error(self, exc)

    def _edited(self) -> None:
        self.check()
        self.edited.emit()


class NewClientDialog(QDialog):
    """Ctrl+N: the form, Save → the new client's window opens (JOURNEYS 1.3)."""

    client_added = Signal(int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setWindowTitle("New client")
        self.form = ClientForm(None, self)
        self.form.form.set_values(clients.defaults())
        buttons, self.save_button = forms.save_cancel(self)
        hint = QLabel("Fields marked * are required. Problems show beside each field.")
        self.welcome = QCheckBox("Send a welcome email")
        self.welcome.setObjectName("sendWelcome")
        self.welcome.setToolTip("Queued with the new client (the Welcome template, in the "
                                "client's language) and sent when the mail server answers")
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.welcome)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.resize(860, 640)
        self.form.form.fields["first_name"].widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def save(self) -> None:
        if not self.form.check():
            return
        values = self.form.values()
        welcome = self.welcome.isChecked()
        self.save_button.setEnabled(False)

        def done(client_id: int) -> None:
            self.accept()
            self.client_added.emit(client_id)
            if welcome:
                from billdesk.views.emails_tab import deliver

                deliver(self.ops)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(exc)

        self.ops.run(lambda: clients.add_client(values, welcome=welcome),
                     changes=Changes(clients=True, emails=welcome), on_done=done, on_error=failed)
