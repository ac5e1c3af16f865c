"""The billing part of the Settings window (D6; B1 tax and numbering, B6 late
fees, S4 how early due invoices are generated): two pages, "Taxes &
numbering" and "Payments & currencies". They edit a working copy; the
window's Save writes it with the rest of the settings in one transaction
(billing_settings.apply_changes), so Cancel leaves everything as it was
and a refusal anywhere writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QStringListModel, Qt
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import billing_settings as bs
from billdesk.services import settings
from billdesk.services.billing_settings import BillingChanges, BillingSettings, TaxRuleRecord
from billdesk.views import forms
from billdesk.views.models.settings_tables import (
    CurrencyColumn,
    CurrencyTableModel,
    TaxRuleColumn,
    TaxRuleTableModel,
)

PLACEHOLDER_HINT = ("Placeholders: {seq} the number, {seq:05} the number padded to 5 digits, "
                    "{year}, {month}, {day} (the invoice date)")
SETTINGS_FIELDS = ("tax_inclusive", "tax_compound", "number_format", "late_fee_kind",
                   "late_fee_amount", "late_fee_minimum", "late_fee_days", "invoice_lead_days")
LISTS = ("tax_rules", "payment_methods", "currencies")  # problems shown under the list


def hint(text: str) -> QLabel:
    """A quiet line of help under a field or a list."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def problem_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(f"{name}_problem")
    label.setStyleSheet(forms.PROBLEM_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def with_unit(widget: QWidget, unit: QLabel | str, before: str = "") -> QWidget:
    """A field with its unit beside it ("1 USD = [0.92] EUR")."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    if before:
        layout.addWidget(QLabel(before))
    layout.addWidget(widget, 1)
    layout.addWidget(unit if isinstance(unit, QLabel) else QLabel(unit))
    return row


class SpinField(forms.Field):
    """A whole number in a spin box (forms.Field knows text, checks, combos)."""

    def value(self) -> Any:
        return self.widget.value()

    def set_value(self, value: Any) -> None:
        self.widget.setValue(int(value))


def add_spin(form: forms.Form, layout: QFormLayout, name: str, label: str, spin: QSpinBox,
             row: QWidget | None = None) -> forms.Field:
    field = SpinField(name, label, spin)
    form.fields[name] = field
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(row or spin)
    box.addWidget(field.problem)
    layout.addRow(label, holder)
    spin.valueChanged.connect(form.edited)
    return field


def table_view(name: str, model: Any) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    return view


def button(text: str, name: str) -> QPushButton:
    widget = QPushButton(text)
    widget.setObjectName(name)
    return widget


def button_column(*buttons: QPushButton) -> QVBoxLayout:
    column = QVBoxLayout()
    for b in buttons:
        column.addWidget(b)
    column.addStretch(1)
    return column


# --- the small dialogs ---------------------------------------------------------

class TaxRuleDialog(QDialog):
    """One tax rule; checks as you type, each problem beside its field."""

    def __init__(self, rule: TaxRuleRecord | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rule = rule
        self.setWindowTitle("Edit tax rule" if rule else "New tax rule")
        self.form = forms.Form(self)
        layout = QFormLayout()
        self.form.add(layout, "level", "Level", forms.combo(
            [("1 (the main tax)", 1), ("2 (a second tax, e.g. state or provincial)", 2)]))
        self.form.add(layout, "name", "Name *", forms.line("e.g. VAT, GST, Sales tax", 60))
        rate = forms.line("e.g. 20 or 17.5", 12)
        self.form.add(layout, "rate", "Rate *", with_unit(rate, "%"), rate)
        country = forms.country_combo()
        country.setItemText(0, "All countries")
        self.form.add(layout, "country", "Country", country)
        self.form.add(layout, "state", "State/Region", forms.line("All states and regions", 60))
        self.form.set_values({"level": rule.level if rule else 1, "name": rule.name if rule else "",
                              "rate": format(rule.rate, "f") if rule else "",
                              "country": rule.country if rule else "",
                              "state": rule.state if rule else ""})
        self.form.edited.connect(self.check)
        buttons, self.ok_button = forms.save_cancel(self, "OK")
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(hint("At each level, the most specific rule for the client's address "
                           "applies: country and state, then country, then all countries."))
        box.addWidget(buttons)
        self.setMinimumWidth(460)

    def check(self) -> bool:
        v = self.form.values()
        problems = bs.tax_rule_problems(v["level"], v["name"], v["rate"], v["country"], v["state"])
        self.form.show_problems(problems)
        return not problems

    def record(self, rule_id: int) -> TaxRuleRecord:
        v = self.form.values()
        return TaxRuleRecord(rule_id, v["level"], v["name"].strip(), bs.parse_rate(v["rate"]),
                             v["country"].strip().upper(), v["state"].strip())

    def save(self) -> None:
        if self.check():
            self.accept()


class CurrencyRateDialog(QDialog):
    """A currency and its rate against the default currency."""

    def __init__(self, default: str, code: str | None, rate: Decimal | None,
                 taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.default = default
        self.setWindowTitle(f"Exchange rate for {code}" if code else "Add a currency")
        self.form = forms.Form(self)
        layout = QFormLayout()
        currency = forms.currency_combo()
        for other in taken:
            currency.removeItem(currency.findData(other))
        if code:
            currency.setCurrentIndex(max(currency.findData(code), 0))
            currency.setEnabled(False)
        self.form.add(layout, "currency", "Currency", currency)
        rate_edit = forms.line("e.g. 0.92", 24)
        self.unit = QLabel()
        self.form.add(layout, "rate", "Rate", with_unit(rate_edit, self.unit, f"1 {default} ="),
                      rate_edit)
        if rate is not None:
            self.form.set_values({"rate": format(rate, "f")})
        self.form.edited.connect(self.check)
        self.form.edited.connect(self._show_unit)
        buttons, self.ok_button = forms.save_cancel(self, "OK")
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(hint(f"How much of the currency one {default} buys; amounts are converted "
                           "with it, e.g. when a client's currency changes."))
        box.addWidget(buttons)
        self.setMinimumWidth(420)
        self._show_unit()

    def _show_unit(self) -> None:
        self.unit.setText(self.form.fields["currency"].value() or "")

    def check(self) -> bool:
        v = self.form.values()
        problems = bs.currency_rate_problems(v["currency"] or "", v["rate"])
        self.form.show_problems(problems)
        return not problems

    def value(self) -> tuple[str, Decimal]:
        v = self.form.values()
        return v["currency"], Decimal(v["rate"].strip())

    def save(self) -> None:
        if self.check():
            self.accept()


# --- the two pages ---------------------------------------------------------------

class BillingSettingsEditor(QObject):
    """Builds the pages, holds the working copy, checks it as you type and
    hands Save a plain BillingChanges (no Qt) to write on the worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = forms.Form(self)
        self.list_problems = {name: problem_label(name) for name in LISTS}
        self.default_currency = settings.default_currency()
        self.rules_model = TaxRuleTableModel(self)
        self.methods_model = QStringListModel(self)
        self.currency_model = CurrencyTableModel(self)
        self.taxes_page = self._taxes_page()
        self.payments_page = self._payments_page()
        self._next_rule_id = -1
        self.rule_dialog: TaxRuleDialog | None = None  # the last one opened
        self.currency_dialog: CurrencyRateDialog | None = None
        for view in (self.rules_view, self.currencies_view, self.methods_view):
            view.selectionModel().selectionChanged.connect(self._enable_buttons)
        self.load()
        self.form.edited.connect(self.check)
        for signal in (self.methods_model.dataChanged, self.methods_model.rowsInserted,
                       self.methods_model.rowsRemoved, self.methods_model.rowsMoved):
            signal.connect(self.check)

    def pages(self) -> list[tuple[QWidget, str]]:
        return [(self.taxes_page, "Taxes && numbering"), (self.payments_page,
                                                          "Payments && currencies")]

    # --- building
    def _taxes_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("billing_taxes_page")

        tax = QGroupBox("Tax")
        modes = QFormLayout()
        self.form.add(modes, "tax_inclusive", "Prices include tax", QCheckBox())
        self.form.add(modes, "tax_compound", "Level 2 is compound (charged on level 1 too)",
                      QCheckBox())
        self.rules_view = table_view("tax_rules", self.rules_model)
        self.rules_view.doubleClicked.connect(self.edit_rule)
        self.add_rule_button = button("Add rule…", "add_tax_rule")
        self.add_rule_button.clicked.connect(self.add_rule)
        self.edit_rule_button = button("Edit…", "edit_tax_rule")
        self.edit_rule_button.clicked.connect(self.edit_rule)
        self.delete_rule_button = button("Delete", "delete_tax_rule")
        self.delete_rule_button.clicked.connect(self.delete_rule)
        rules_row = QHBoxLayout()
        rules_row.addWidget(self.rules_view, 1)
        rules_row.addLayout(button_column(self.add_rule_button, self.edit_rule_button,
                                          self.delete_rule_button))
        tl = QVBoxLayout(tax)
        tl.addLayout(modes)
        tl.addLayout(rules_row, 1)
        tl.addWidget(self.list_problems["tax_rules"])
        tl.addWidget(hint("A rule with no country applies to every country. Clients marked tax "
                          "exempt pay none."))

        numbering = QGroupBox("Invoice numbering and generation")
        nl = QFormLayout(numbering)
        self.form.add(nl, "number_format", "Format", forms.line(bs.DEFAULT_NUMBER_FORMAT, 60))
        nl.addRow("", hint(PLACEHOLDER_HINT))
        self.next_number_spin = QSpinBox()
        self.next_number_spin.setRange(1, 999_999_999)
        self.next_number_spin.setMaximumWidth(160)
        add_spin(self.form, nl, "next_number", "Next number", self.next_number_spin)
        self.preview = QLabel()
        self.preview.setObjectName("number_preview")
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        nl.addRow("Next invoice", self.preview)
        lead = QSpinBox()
        lead.setRange(0, 365)
        lead.setSuffix(" days before the due date")
        lead.setMaximumWidth(260)
        lead.setToolTip("Services, addons and domains are invoiced this many days before they "
                        "fall due (0: on the due date)")
        add_spin(self.form, nl, "invoice_lead_days", "Generate invoices", lead)

        fees = QGroupBox("Late fees")
        fl = QFormLayout(fees)
        self.form.add(fl, "late_fee_kind", "Fee", forms.combo(
            [("Fixed amount", "fixed"), ("Percent of the invoice total", "percent")]))
        amount = forms.line("0", 20)
        self.amount_unit = QLabel()
        self.form.add(fl, "late_fee_amount", "Amount", with_unit(amount, self.amount_unit), amount)
        minimum = forms.line("0", 20)
        self.form.add(fl, "late_fee_minimum", "At least",
                      with_unit(minimum, self.default_currency), minimum)
        from billdesk.views.automation_settings_tab import DaysSpin  # (it imports this module)

        # 0 charges the day after the due date, as 1 does: said so, not "0 days overdue"
        days = DaysSpin("overdue", "1 day overdue")
        add_spin(self.form, fl, "late_fee_days", "Charge after", days)
        fl.addRow(hint("Added once per invoice. An amount of 0 charges none; clients and "
                       "groups can opt out. An invoice in another currency gets the fixed "
                       "amount and the minimum converted at its rate under Currencies."))
        self.form.fields["late_fee_kind"].widget.currentIndexChanged.connect(self._show_fee_kind)

        bottom = QHBoxLayout()
        bottom.addWidget(numbering, 1)
        bottom.addWidget(fees, 1)
        layout = QVBoxLayout(page)
        layout.addWidget(tax, 1)
        layout.addLayout(bottom)
        return page

    def _payments_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("billing_payments_page")

        methods = QGroupBox("Payment methods")
        self.methods_view = QListView()
        self.methods_view.setObjectName("payment_methods")
        self.methods_view.setModel(self.methods_model)
        self.methods_view.setSpacing(2)
        self.methods_view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                          | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.rename_method_button = button("Rename", "rename_payment_method")
        self.rename_method_button.clicked.connect(self.rename_method)
        self.remove_method_button = button("Remove", "remove_payment_method")
        self.remove_method_button.clicked.connect(self.remove_method)
        self.up_button = button("Move up", "move_payment_method_up")
        self.up_button.clicked.connect(lambda: self.move_method(-1))
        self.down_button = button("Move down", "move_payment_method_down")
        self.down_button.clicked.connect(lambda: self.move_method(1))
        list_row = QHBoxLayout()
        list_row.addWidget(self.methods_view, 1)
        list_row.addLayout(button_column(self.rename_method_button, self.remove_method_button,
                                         self.up_button, self.down_button))
        self.new_method = forms.line("e.g. Bank transfer", 40)
        self.new_method.installEventFilter(self)  # Enter adds (and does not save the window)
        self.add_method_button = button("Add", "add_payment_method")
        self.add_method_button.clicked.connect(self.add_method)
        add_row = QWidget()
        al = QHBoxLayout(add_row)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(self.new_method, 1)
        al.addWidget(self.add_method_button)
        new_layout = QFormLayout()
        self.form.add(new_layout, "new_payment_method", "New method", add_row, self.new_method)
        ml = QVBoxLayout(methods)
        ml.addLayout(list_row, 1)
        ml.addWidget(self.list_problems["payment_methods"])
        ml.addLayout(new_layout)
        ml.addWidget(hint("In this order on invoices and payments. Renaming or removing one "
                          "leaves past invoices and payments as they are."))

        currencies = QGroupBox("Currencies")
        self.currencies_view = table_view("currencies", self.currency_model)
        self.currencies_view.doubleClicked.connect(self.edit_currency)
        self.add_currency_button = button("Add…", "add_currency")
        self.add_currency_button.clicked.connect(self.add_currency)
        self.edit_currency_button = button("Edit rate…", "edit_currency")
        self.edit_currency_button.clicked.connect(self.edit_currency)
        self.remove_currency_button = button("Remove", "remove_currency")
        self.remove_currency_button.clicked.connect(self.remove_currency)
        cur_row = QHBoxLayout()
        cur_row.addWidget(self.currencies_view, 1)
        cur_row.addLayout(button_column(self.add_currency_button, self.edit_currency_button,
                                        self.remove_currency_button))
        cl = QVBoxLayout(currencies)
        cl.addLayout(cur_row, 1)
        cl.addWidget(self.list_problems["currencies"])
        cl.addWidget(hint(f"Rates are how much of each currency one {self.default_currency} "
                          "buys. The default currency is set on the Company tab."))

        layout = QHBoxLayout(page)
        layout.addWidget(methods, 1)
        layout.addWidget(currencies, 1)
        return page

    # --- loading and reading
    def load(self) -> None:
        """Show what is stored; remember it, so Save writes only what changed."""
        self._settings = bs.billing()
        self._next_number = bs.next_number()
        self._rules = bs.tax_rules()
        self._methods = bs.payment_methods()
        self._rates = bs.currencies()
        values: dict[str, Any] = {name: getattr(self._settings, name) for name in SETTINGS_FIELDS}
        values["next_number"] = self._next_number
        self.form.set_values(values)
        self.rules_model.set_rules(list(self._rules))
        self.methods_model.setStringList(list(self._methods))
        self.currency_model.set_rates(dict(self._rates), self.default_currency)
        self.rules_view.setColumnWidth(TaxRuleColumn.LEVEL, 50)
        self.rules_view.setColumnWidth(TaxRuleColumn.NAME, 200)
        self.rules_view.setColumnWidth(TaxRuleColumn.RATE, 70)
        self.rules_view.setColumnWidth(TaxRuleColumn.COUNTRY, 120)
        self.currencies_view.setColumnWidth(CurrencyColumn.CODE, 120)
        self._show_fee_kind()
        self._show_preview()
        self._enable_buttons()

    def billing(self) -> BillingSettings:
        v = self.form.values(SETTINGS_FIELDS)
        return BillingSettings(
            tax_inclusive=v["tax_inclusive"], tax_compound=v["tax_compound"],
            number_format=v["number_format"].strip(), late_fee_kind=v["late_fee_kind"],
            late_fee_amount=v["late_fee_amount"].strip() or "0",
            late_fee_minimum=v["late_fee_minimum"].strip() or "0",
            late_fee_days=v["late_fee_days"], invoice_lead_days=v["invoice_lead_days"])

    def next_number(self) -> int:
        return self.next_number_spin.value()

    def payment_methods(self) -> list[str]:
        return self.methods_model.stringList()

    def changes(self) -> BillingChanges:
        """What Save writes: only what differs from what was loaded."""
        billing = self.billing()
        rules = self.rules_model.rules()
        stored = {r.id: r for r in self._rules}
        kept = {r.id for r in rules}
        rates = self.currency_model.rates()
        methods = [m.strip() for m in self.payment_methods()]
        return BillingChanges(
            settings=None if billing == self._settings else billing,
            next_number=None if self.next_number() == self._next_number else self.next_number(),
            deleted_rules=[i for i in stored if i not in kept],
            updated_rules=[r for r in rules if r.id in stored and r != stored[r.id]],
            added_rules=[r for r in rules if r.id < 0],
            payment_methods=None if methods == self._methods else methods,
            removed_currencies=[c for c in self._rates if c not in rates],
            rates={c: r for c, r in rates.items()
                   if c != self.default_currency and self._rates.get(c) != r})

    # --- checking and showing problems
    def check(self) -> bool:
        problems = self.billing().problems() + bs.payment_method_problems(self.payment_methods())
        self.show_problems(problems)
        self._show_preview()
        return not problems

    def show_problems(self, problems: list[Problem]) -> list[Problem]:
        """Each problem beside its field or under its list; returns the ones
        that belong to neither."""
        by_list: dict[str, list[str]] = {name: [] for name in LISTS}
        rest = []
        for problem in problems:
            name, _, number = problem.field.partition("[")
            if name in by_list:
                by_list[name].append(f"Method {number.rstrip(']')}: {problem.message}" if number
                                     else problem.message)
            else:
                rest.append(problem)
        for name, messages in by_list.items():
            self.list_problems[name].setText("\n".join(messages))
            self.list_problems[name].setVisible(bool(messages))
        return self.form.show_problems(rest)

    def problem_page(self) -> QWidget | None:
        """The first page showing a problem, to switch to it."""
        for page in (self.taxes_page, self.payments_page):
            labels = [f.problem for f in self.form.fields.values()] + list(self.list_problems.values())
            if any(not label.isHidden() and page.isAncestorOf(label) for label in labels):
                return page
        return None

    def show_refusal(self, exc: BaseException) -> QWidget | None:
        """A refused Save: when every problem is about these pages, show
        each beside its field and return the page to switch to; else None."""
        if not isinstance(exc, BilldeskError):
            return None
        problems = exc.problems if isinstance(exc, ValidationFailed) else [
            Problem(exc.field, exc.message)]
        mine = set(self.form.fields) | set(LISTS)
        if any(p.field.partition("[")[0] not in mine for p in problems):
            return None
        self.show_problems(problems)
        return self.problem_page()

    def _show_preview(self) -> None:
        template = self.form.fields["number_format"].value().strip()
        if bs.number_format_problems(template):
            self.preview.setText("—")
            return
        number = bs.format_number(template, self.next_number(), dt.date.today())
        self.preview.setText(f"<b>{number}</b>")

    def _show_fee_kind(self) -> None:
        percent = self.form.fields["late_fee_kind"].value() == "percent"
        self.amount_unit.setText("%" if percent else self.default_currency)
        self.form.fields["late_fee_minimum"].widget.setEnabled(percent)

    def _enable_buttons(self) -> None:
        rule = self._selected_row(self.rules_view) is not None
        self.edit_rule_button.setEnabled(rule)
        self.delete_rule_button.setEnabled(rule)
        method = self._selected_row(self.methods_view)
        self.rename_method_button.setEnabled(method is not None)
        self.remove_method_button.setEnabled(method is not None)
        self.up_button.setEnabled(bool(method))
        self.down_button.setEnabled(method is not None
                                    and method < self.methods_model.rowCount() - 1)
        code = self._selected_currency()
        self.edit_currency_button.setEnabled(code is not None and code != self.default_currency)
        self.remove_currency_button.setEnabled(code is not None and code != self.default_currency)

    @staticmethod
    def _selected_row(view: QAbstractItemView) -> int | None:
        rows = view.selectionModel().selectedRows() or view.selectionModel().selectedIndexes()
        return rows[0].row() if rows else None

    def _select(self, view: QAbstractItemView, row: int | None) -> None:
        if row is not None and row >= 0:
            view.setCurrentIndex(view.model().index(row, 0))
            view.selectionModel().select(view.model().index(row, 0),
                                         QItemSelectionModel.SelectionFlag.ClearAndSelect
                                         | QItemSelectionModel.SelectionFlag.Rows)
        self._enable_buttons()

    # --- tax rules
    def add_rule(self) -> None:
        dialog = TaxRuleDialog(None, self.taxes_page)
        dialog.accepted.connect(lambda: self._put_rule(dialog.record(self._take_rule_id())))
        dialog.open()
        self.rule_dialog = dialog

    def edit_rule(self, *_: object) -> None:
        row = self._selected_row(self.rules_view)
        rule = self.rules_model.rule(row) if row is not None else None
        if rule is None:
            return
        dialog = TaxRuleDialog(rule, self.taxes_page)
        dialog.accepted.connect(lambda: self._put_rule(dialog.record(rule.id)))
        dialog.open()
        self.rule_dialog = dialog

    def _take_rule_id(self) -> int:
        self._next_rule_id -= 1
        return self._next_rule_id + 1

    def _put_rule(self, rule: TaxRuleRecord) -> None:
        self.rules_model.put(rule)
        self.list_problems["tax_rules"].hide()
        self._select(self.rules_view, self.rules_model.row_of(rule.id))

    def delete_rule(self) -> None:
        row = self._selected_row(self.rules_view)
        rule = self.rules_model.rule(row) if row is not None else None
        if rule is not None:
            self.rules_model.remove(rule.id)
            self._select(self.rules_view, min(row, self.rules_model.rowCount() - 1)
                         if self.rules_model.rowCount() else None)

    # --- payment methods
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if (watched is self.new_method and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.add_method()
            return True
        return super().eventFilter(watched, event)

    def add_method(self) -> None:
        name = self.new_method.text().strip()
        names = self.payment_methods() + [name]
        problems = [p for p in bs.payment_method_problems(names)
                    if p.field == f"payment_methods[{len(names)}]"]
        if problems:
            self.form.fields["new_payment_method"].show_problem(problems[0].message)
            return
        row = self.methods_model.rowCount()
        self.methods_model.insertRows(row, 1)
        self.methods_model.setData(self.methods_model.index(row, 0), name)
        self.new_method.clear()
        self._select(self.methods_view, row)

    def rename_method(self) -> None:
        row = self._selected_row(self.methods_view)
        if row is not None:
            self.methods_view.edit(self.methods_model.index(row, 0))

    def remove_method(self) -> None:
        row = self._selected_row(self.methods_view)
        if row is not None:
            self.methods_model.removeRows(row, 1)
            count = self.methods_model.rowCount()
            self._select(self.methods_view, min(row, count - 1) if count else None)

    def move_method(self, step: int) -> None:
        row = self._selected_row(self.methods_view)
        if row is None or not 0 <= row + step < self.methods_model.rowCount():
            return
        # moveRows takes the row *before which* to put it
        self.methods_model.moveRows(QModelIndex(), row, 1, QModelIndex(),
                                    row + step + (1 if step > 0 else 0))
        self._select(self.methods_view, row + step)

    # --- currencies
    def _selected_currency(self) -> str | None:
        row = self._selected_row(self.currencies_view)
        return self.currency_model.code(row) if row is not None else None

    def add_currency(self) -> None:
        taken = set(self.currency_model.rates())
        dialog = CurrencyRateDialog(self.default_currency, None, None, taken, self.payments_page)
        dialog.accepted.connect(lambda: self._put_rate(*dialog.value()))
        dialog.open()
        self.currency_dialog = dialog

    def edit_currency(self, *_: object) -> None:
        code = self._selected_currency()
        if code is None or code == self.default_currency:
            return
        rate = self.currency_model.rates()[code]
        dialog = CurrencyRateDialog(self.default_currency, code, rate, set(), self.payments_page)
        dialog.accepted.connect(lambda: self._put_rate(*dialog.value()))
        dialog.open()
        self.currency_dialog = dialog

    def _put_rate(self, code: str, rate: Decimal) -> None:
        self.currency_model.set_rate(code, rate)
        self.list_problems["currencies"].hide()
        self._select(self.currencies_view, self.currency_model.row_of(code))

    def remove_currency(self) -> None:
        code = self._selected_currency()
        if code is not None and code != self.default_currency:
            row = self.currency_model.row_of(code)
            self.currency_model.remove(code)
            self._select(self.currencies_view, min(row or 0, self.currency_model.rowCount() - 1))

