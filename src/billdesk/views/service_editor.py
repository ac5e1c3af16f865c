"""Add or edit one service, addon or domain (S2, S3).

A new service is chosen from the product catalogue: its name, taxed flag
and amount follow the product and the billing cycle (the price in the
client's currency) until typed over. An addon goes on one of the client's
services or domains. Typing is checked as it goes; the service checks
again on Save, on the database worker, and a refusal is shown beside its
field with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import InvalidInput, NotFound, Problem
from billdesk.models import BILLING_CYCLES
from billdesk.services import catalog, clients, cycles, service_groups, subscriptions
from billdesk.services.amounts import amount_input
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.services.subscriptions import DOMAIN_CYCLES, KIND_LABELS, STATUSES, ServiceRecord
from billdesk.views import fmt, forms
from billdesk.views.billing_settings_tab import hint
from billdesk.views.money_dialogs import method_combo
from billdesk.views.ops import Changes, Operations


class OptionalDate(QWidget):
    """A date that may be left out: the box turns the date on."""

    toggled = Signal(bool)

    def __init__(self, text: str, value: dt.date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox(text)
        self.date = forms.date_edit(value)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        row.addWidget(self.date, 1)
        self.check.toggled.connect(self.date.setEnabled)
        self.check.toggled.connect(self.toggled)
        self.set_value(value)

    def value(self) -> str | None:
        return self.date.date().toString("yyyy-MM-dd") if self.check.isChecked() else None

    def set_value(self, value: dt.date | None) -> None:
        self.check.setChecked(value is not None)
        self.date.setEnabled(value is not None)
        if value is not None:
            self.date.setDate(QDate(value.year, value.month, value.day))


def typed_amount_problem(text: str, currency: str, field: str) -> Problem | None:
    """What is wrong with an amount typed so far (blank is left to the
    service: it may mean "the product's price")."""
    if not text.strip():
        return None
    try:
        amount_input(text, currency, field, zero_ok=True)
    except InvalidInput as exc:
        return Problem(field, exc.message)
    return None


class ServiceDialog(QDialog):
    """Add (``record`` None) or edit a service, addon or domain."""

    service_saved = Signal(int)  # the item's id, after the worker wrote it

    def __init__(self, ops: Operations, client_id: int, kind: str,
                 record: ServiceRecord | None = None, parent: QWidget | None = None, *,
                 parent_id: int | None = None) -> None:
        super().__init__(parent)
        if kind not in KIND_LABELS:
            raise ValueError(kind)
        self.ops, self.client_id, self.kind, self.record = ops, client_id, kind, record
        client = clients.get_client(client_id)
        self.currency = record.currency if record else client.values["currency"]
        self.adding = record is None
        what = KIND_LABELS[kind].lower()
        self.setWindowTitle(f"Add {what} — {client.display_name}" if self.adding
                            else f"Edit {what} {record.title}")
        self.form = forms.Form(self)
        self.products: dict[int, catalog.ProductRecord] = {}
        # what follows the product / cycle / signup date until typed over
        self._auto = {"amount": self.adding, "first_payment": self.adding,
                      "name": self.adding, "taxed": self.adding, "next_due": self.adding}

        item = QFormLayout()
        billing = QFormLayout()
        self._item_fields(item, record, parent_id)
        self._billing_fields(billing, record, client.values["payment_method"])
        if record is not None:
            self._show(record)
        else:
            self._product_changed()
        self.form.edited.connect(self.check)

        item_box = QGroupBox(KIND_LABELS[kind])
        item_box.setLayout(item)
        billing_box = QGroupBox(f"Billing ({self.currency})")
        billing_box.setLayout(billing)
        columns = QHBoxLayout()
        columns.addWidget(item_box, 1)
        columns.addWidget(billing_box, 1)
        buttons, self.save_button = forms.save_cancel(
            self, f"Add {what}" if self.adding else "Save")
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(buttons)
        self.setMinimumWidth(800)

    # --- building
    def _item_fields(self, layout: QFormLayout, record: ServiceRecord | None,
                     parent_id: int | None) -> None:
        kind, add = self.kind, self.form.add
        self.product = self.parent_combo = None
        if kind == "addon":
            if record is None:
                parents = subscriptions.list_services(self.client_id, ("service", "domain"))
                self.parent_combo = forms.combo(
                    [(f"{p.name}{' – ' + p.label if p.label else ''} (#{p.id})", p.id)
                     for p in parents])
                add(layout, "parent_id", "Addon to *", self.parent_combo)
                if parent_id is not None:
                    self.parent_combo.setCurrentIndex(max(self.parent_combo.findData(parent_id), 0))
            else:
                parent = self._parent_title(record.parent_id)
                layout.addRow("Addon to", QLabel(parent))
        if kind in ("service", "addon"):
            if record is None:
                wanted = ("addon",) if kind == "addon" else ("hosting", "reseller", "server",
                                                             "other")
                found = [p for p in catalog.list_products() if p.type in wanted]
                if kind == "addon" and not found:  # no addon products yet: offer the rest
                    found = [p for p in catalog.list_products() if p.type != "domain"]
                self.products = {p.id: p for p in found}
                items = [("— none: name it below —", None)]
                items += [((f"{p.product_group} › {p.name}" if p.product_group else p.name)
                           + (" (hidden)" if p.hidden else ""), p.id) for p in found]
                self.product = forms.combo(items)
                self.product.setMaxVisibleItems(20)
                if found:
                    self.product.setCurrentIndex(1)
                add(layout, "product", "Product", self.product)
                self.product.currentIndexChanged.connect(lambda _i: self._product_changed())
            elif record.product_id is not None:
                try:
                    name = catalog.get_product(record.product_id).name
                except NotFound:
                    name = f"#{record.product_id} (deleted)"
                layout.addRow("Product", QLabel(name))
        name_label = "Domain *" if kind == "domain" else "Name"
        placeholder = "example.com" if kind == "domain" else "the product's name"
        self.name = add(layout, "name", name_label,
                        forms.line(placeholder, subscriptions.LIMITS["name"])).widget
        self.name.textEdited.connect(lambda _t: self._typed("name"))
        if kind == "service":
            add(layout, "label", "Label", forms.line("e.g. the site or server it is for",
                                                     subscriptions.LIMITS["label"]))
            groups = service_groups.list_groups(self.client_id)
            add(layout, "group_id", "Service group",
                forms.combo([("— none —", None)] + [(g.name, g.id) for g in groups]))
        add(layout, "status", "Status", forms.combo([(s, s) for s in STATUSES[kind]]))
        self.form.set_values({"status": "Active"})
        notes = QPlainTextEdit()
        notes.setPlaceholderText("Notes only you see")
        notes.setMinimumHeight(notes.fontMetrics().height() * 4 + 12)
        add(layout, "notes", "Notes", notes)

    def _billing_fields(self, layout: QFormLayout, record: ServiceRecord | None,
                        client_method: str) -> None:
        add = self.form.add
        choices = DOMAIN_CYCLES if self.kind == "domain" else BILLING_CYCLES
        self.cycle = add(layout, "cycle", "Billing cycle",
                         forms.combo([(CYCLE_LABELS[c], c) for c in choices])).widget
        self.cycle.setCurrentIndex(self.cycle.findData(
            "annually" if self.kind == "domain" else "monthly"))
        self.cycle.currentIndexChanged.connect(lambda _i: self._cycle_changed())
        self.amount = add(layout, "amount", "Recurring amount", forms.line("0.00", 24)).widget
        self.amount.textEdited.connect(lambda _t: self._typed("amount"))
        self.price_hint = hint("")
        self.price_hint.setObjectName("priceHint")
        layout.addRow("", self.price_hint)
        self._billing_layout = layout
        self._set_hint("")
        self.first_payment = None
        if record is None:
            self.first_payment = add(layout, "first_payment", "First payment",
                                     forms.line("same as the amount", 24)).widget
            self.first_payment.textEdited.connect(lambda _t: self._typed("first_payment"))
            self.signup_name = "registration_date" if self.kind == "domain" else "signup_date"
            self.signup = add(layout, self.signup_name,
                              "Registration date" if self.kind == "domain" else "Signup date",
                              forms.date_edit()).widget
            self.signup.dateChanged.connect(self._signup_changed)
        else:
            layout.addRow("First payment", QLabel(fmt.money(record.first_payment)))
            layout.addRow("Registered" if self.kind == "domain" else "Signup date",
                          QLabel(fmt.date(record.signup_date)))
        self.next_due = add(layout, "next_due", "Next due date", forms.date_edit()).widget
        self.next_due.dateChanged.connect(lambda _d: self._typed("next_due"))
        self.expiry = None
        if self.kind in ("addon", "domain"):
            self.expiry = OptionalDate("Expires on")
            add(layout, "expiry_date", "Expiry date", self.expiry, self.expiry.date)
            self.expiry.toggled.connect(self.form.edited)
        current = record.payment_method if record else client_method
        add(layout, "payment_method", "Payment method", method_combo(current))
        self.override = None
        if self.kind != "domain":
            self.override = add(layout, "override_suspend", "Override auto-suspend",
                                QCheckBox()).widget
        self.taxed = add(layout, "taxed", "Charge tax on it", QCheckBox()).widget
        self.taxed.clicked.connect(lambda _on: self._typed("taxed"))
        self._cycle_changed()

    def _parent_title(self, parent_id: int | None) -> str:
        if parent_id is None:
            return "—"
        try:
            return subscriptions.get_service(parent_id).title
        except NotFound:
            return f"#{parent_id}"

    def _show(self, r: ServiceRecord) -> None:
        values: dict[str, Any] = {"name": r.name, "status": r.status, "cycle": r.cycle,
                                  "amount": str(r.amount), "payment_method": r.payment_method,
                                  "taxed": r.taxed, "notes": r.notes}
        if self.kind == "service":
            values.update(label=r.label, group_id=r.group_id)
        if self.override is not None:
            values["override_suspend"] = r.override_suspend
        if r.next_due is not None:
            values["next_due"] = r.next_due
        self.form.set_values(values)
        if self.expiry is not None:
            self.expiry.set_value(r.expiry_date)
        self._cycle_changed()

    # --- following the product, cycle and signup date
    def _typed(self, name: str) -> None:
        self._auto[name] = False

    def _chosen_product(self) -> catalog.ProductRecord | None:
        if self.product is None:
            return None
        return self.products.get(self.product.currentData())

    def _product_changed(self) -> None:
        product = self._chosen_product()
        # the cycles the product is sold in show their price
        for i in range(self.cycle.count()):
            cycle = self.cycle.itemData(i)
            price = product.price(self.currency, cycle) if product else None
            label = CYCLE_LABELS[cycle]
            self.cycle.setItemText(i, f"{label} — {fmt.money(price[0])}" if price else label)
        if product is not None and self.adding:
            if product.price(self.currency, self.cycle.currentData()) is None:
                priced = [c for c in BILLING_CYCLES if product.price(self.currency, c)]
                if priced:
                    self.cycle.setCurrentIndex(self.cycle.findData(
                        "monthly" if "monthly" in priced else priced[0]))
            if self._auto["name"]:
                self.name.setText(product.name)
            if self._auto["taxed"]:
                self.taxed.setChecked(product.taxed)
        elif self.adding and self._auto["name"]:
            self.name.clear()
        self.name.setPlaceholderText("the product's name" if product else "what the client has")
        self._fill_price()

    def _cycle_changed(self) -> None:
        cycle = self.cycle.currentData()
        self.next_due.setEnabled(cycles.is_recurring(cycle))
        self.next_due.setToolTip("" if cycles.is_recurring(cycle)
                                 else f"A {CYCLE_LABELS[cycle].lower()} item has no due date")
        free = cycle == "free"
        if free:
            self.amount.setText("0")
        self.amount.setEnabled(not free)
        if self.first_payment is not None:
            self.first_payment.setEnabled(not free)
        self._fill_price()

    def _fill_price(self) -> None:
        """The product's price for the cycle in the client's currency, while
        the amounts have not been typed over; a hint says where it came from."""
        if not self.adding:
            return
        product, cycle = self._chosen_product(), self.cycle.currentData()
        if cycle == "free":
            self._set_hint("A free item costs nothing and is never invoiced.")
            return
        if product is None:
            self._set_hint("")
            return
        price = product.price(self.currency, cycle)
        if price is None:
            self._set_hint(f"{product.name} has no {CYCLE_LABELS[cycle].lower()} price "
                                    f"in {self.currency}: type the amount.")
            if self._auto["amount"]:
                self.amount.clear()
            if self._auto["first_payment"] and self.first_payment is not None:
                self.first_payment.clear()
            return
        amount, setup_fee = price
        self._set_hint(f"The product's {CYCLE_LABELS[cycle].lower()} price"
                                + (f", plus a setup fee of {fmt.money(setup_fee)} on the "
                                   "first payment." if setup_fee else "."))
        if self._auto["amount"]:
            self.amount.setText(str(amount))
        if self._auto["first_payment"] and self.first_payment is not None:
            self.first_payment.setText(str(amount + setup_fee) if setup_fee else "")

    def _set_hint(self, text: str) -> None:
        self.price_hint.setText(text)
        self._billing_layout.setRowVisible(self.price_hint, bool(text))

    def _signup_changed(self, value: QDate) -> None:
        if self._auto["next_due"]:
            self.next_due.blockSignals(True)
            self.next_due.setDate(value)
            self.next_due.blockSignals(False)

    # --- checking and saving
    def problems(self) -> list[Problem]:
        """What is wrong with the typing so far (the service checks the rest)."""
        found = []
        for field, widget in (("amount", self.amount), ("first_payment", self.first_payment)):
            if widget is not None and widget.isEnabled():
                problem = typed_amount_problem(widget.text(), self.currency, field)
                if problem:
                    found.append(problem)
        name = self.name.text().strip()
        if self.kind == "domain":
            try:
                subscriptions.check_domain_name(name)
            except InvalidInput as exc:
                found.append(Problem("name", exc.message))
        elif not name and self._chosen_product() is None:
            found.append(Problem("name", "is required: choose a product or name it"))
        if self.kind == "addon" and self.adding and self.parent_combo.currentData() is None:
            found.append(Problem("parent_id", "the client has no service or domain to add it to"))
        return found

    def check(self) -> bool:
        problems = self.problems()
        self.form.show_problems(problems)
        return not problems

    def values(self) -> dict[str, Any]:
        """The typed values, as the service functions take them."""
        v = self.form.values()
        cycle = v["cycle"]
        found: dict[str, Any] = {
            "status": v["status"], "cycle": cycle, "notes": v["notes"],
            "amount": v["amount"].strip() or None, "payment_method": v["payment_method"] or "",
            "taxed": v["taxed"],
            "next_due": v["next_due"] if cycles.is_recurring(cycle) else None,
        }
        name = v["name"].strip()
        found["name"] = name or None
        if self.kind == "service":
            found.update(label=v["label"], group_id=v["group_id"])
        if self.override is not None:
            found["override_suspend"] = v["override_suspend"]
        if self.expiry is not None:
            found["expiry_date"] = self.expiry.value()
        if self.adding:
            found["first_payment"] = (v["first_payment"].strip() or None) if cycle != "free" else None
            found[self.signup_name] = v[self.signup_name]
            if self.product is not None:
                found["product"] = self.product.currentData()
            if self.parent_combo is not None:
                found["parent_id"] = self.parent_combo.currentData()
        return found

    def _work(self) -> Any:
        v, client_id = self.values(), self.client_id
        if not self.adding:
            service_id = self.record.id
            if v["amount"] is None:
                v["amount"] = ""  # a blank amount is refused, not left as it was
            if v.get("name") is None:
                v["name"] = ""
            group = v.pop("group_id", ...)

            def edit() -> int:
                subscriptions.edit_service(service_id, group_id=group, **v)
                return service_id

            return edit
        if self.kind == "service":
            return lambda: subscriptions.add_service(client_id, **v)
        if self.kind == "addon":
            parent_id = v.pop("parent_id")
            return lambda: subscriptions.add_addon(client_id, parent_id, **v)
        name = v.pop("name") or ""
        return lambda: subscriptions.add_domain(client_id, name, **v)

    def save(self) -> None:
        if not self.check():
            return
        work = self._work()

        def done(service_id: int) -> None:
            self.service_saved.emit(service_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(services=True, client_id=self.client_id),
                     on_done=done, on_error=failed)
