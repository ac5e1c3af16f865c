"""Add or edit one contact (K1): name and email required, which emails
they get copied on, and whether they are the default billing contact."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QVBoxLayout,
    QWidget,
)

from billdesk.models import EMAIL_CATEGORIES
from billdesk.services import contacts
from billdesk.views import forms
from billdesk.views.ops import Changes, Operations


class ContactDialog(QDialog):
    saved = Signal(int)

    def __init__(self, ops: Operations, client_id: int, contact_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.client_id = client_id
        self.contact_id = contact_id
        self.setWindowTitle("Edit contact" if contact_id else "Add contact")
        self.form = forms.Form(self)
        self.form.edited.connect(self.check)

        details = QGroupBox("Contact")
        dl = QFormLayout(details)
        self.form.add(dl, "first_name", "First name *", forms.line())
        self.form.add(dl, "last_name", "Last name *", forms.line())
        self.form.add(dl, "email", "Email *", forms.line("name@example.com", 254))
        self.form.add(dl, "phone", "Phone", forms.line("", 40))
        self.form.add(dl, "company", "Company", forms.line())
        address = QGroupBox("Address")
        forms.add_address(self.form, QFormLayout(address))

        emails = QGroupBox("Copy this contact on emails about")
        el = QGridLayout(emails)
        self.categories: dict[str, QCheckBox] = {}
        for i, category in enumerate(EMAIL_CATEGORIES):
            box = QCheckBox(contacts.CATEGORY_LABELS[category])
            box.setObjectName(f"category_{category}")
            self.categories[category] = box
            el.addWidget(box, i // 3, i % 3)
        self.billing = QCheckBox("Default billing contact: their name and address go on "
                                 "invoices and statements")
        self.billing.setObjectName("billing")

        buttons, self.save_button = forms.save_cancel(self)

        top = QGridLayout()
        top.addWidget(details, 0, 0)
        top.addWidget(address, 0, 1)
        top.setColumnStretch(0, 1)
        top.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(emails)
        layout.addWidget(self.billing)
        layout.addWidget(buttons)
        self.resize(760, self.sizeHint().height())

        if contact_id is not None:
            record = contacts.get_contact(contact_id)
            self.form.set_values(record.values)
            for category, box in self.categories.items():
                box.setChecked(category in record.values["categories"])
            self.billing.setChecked(record.is_billing)
        else:
            self.categories["general"].setChecked(True)

    def values(self) -> dict:
        values = self.form.values()
        values["categories"] = [c for c, box in self.categories.items() if box.isChecked()]
        return values

    def check(self) -> bool:
        values = dict(contacts.normalise(self.values()))
        problems = contacts.problems(values, self.client_id, self.contact_id)
        self.form.show_problems(problems)
        return not problems

    def save(self) -> None:
        if not self.check():
            return
        values, billing = self.values(), self.billing.isChecked()
        self.save_button.setEnabled(False)
        contact_id = self.contact_id

        def work() -> int:
            if contact_id is None:
                return contacts.add_contact(self.client_id, values, billing=billing)
            contacts.update_contact(contact_id, values, billing=billing)
            return contact_id

        def done(saved_id: int) -> None:
            self.accept()
            self.saved.emit(saved_id)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(work, changes=Changes(clients=True, contacts=True, client_id=self.client_id),
                     on_done=done, on_error=failed)
