"""The billing pages of the Settings window (D6): edited as a user would,
saved with the rest of the settings, refused values shown beside their
fields with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit

from billdesk.errors import ValidationFailed
from billdesk.models import Client
from billdesk.services import billing_settings as bs
from billdesk.services import settings

from gui_helpers import click, type_into


@pytest.fixture
def dialog(settings_dialog):  # noqa: ANN001, ANN201
    return settings_dialog


def _snapshot() -> tuple:
    return (bs.billing(), bs.next_number(), bs.tax_rules(), bs.payment_methods(),
            bs.currencies(), settings.company())


def test_billing_settings_are_edited_and_saved_with_the_rest(qtbot, ops, dialog):  # noqa: ANN001
    editor = dialog.billing
    dialog.tabs.setCurrentWidget(editor.taxes_page)
    rules_before = bs.tax_rules()

    # a tax rule, through its dialog
    click(qtbot, editor.add_rule_button)
    rule_dialog = editor.rule_dialog
    qtbot.waitExposed(rule_dialog)
    fields = rule_dialog.form.fields
    fields["level"].set_value(2)
    type_into(qtbot, fields["name"].widget, "Eco levy")
    type_into(qtbot, fields["rate"].widget, "1.5")
    fields["country"].set_value("NL")
    click(qtbot, rule_dialog.ok_button)
    assert not rule_dialog.isVisible()
    assert editor.rules_model.rowCount() == len(rules_before) + 1
    row = editor.rules_view.currentIndex().row()  # the new rule is selected
    assert [editor.rules_model.index(row, c).data() for c in range(5)] == [
        "2", "Eco levy", "1.5", "NL", "All"]

    # edit an existing rule: double-click opens it filled in
    first = editor.rules_model.rule(0)
    editor.rules_view.selectRow(0)
    click(qtbot, editor.edit_rule_button)
    assert editor.rule_dialog.form.fields["name"].value() == first.name
    type_into(qtbot, editor.rule_dialog.form.fields["rate"].widget, "12.5")
    click(qtbot, editor.rule_dialog.ok_button)

    # tax mode
    editor.form.fields["tax_inclusive"].widget.click()
    # numbering: the preview follows the format and the next number
    type_into(qtbot, editor.form.fields["number_format"].widget, "B-{year}/{seq:04}")
    editor.next_number_spin.setValue(42)
    assert editor.preview.text() == f"<b>B-{dt.date.today().year}/0042</b>"
    editor.next_number_spin.setValue(1)
    editor.next_number_spin.stepBy(-1)  # never below 1
    assert editor.next_number_spin.value() == 1
    editor.next_number_spin.setValue(42)
    # late fees: percent with a minimum after 14 days
    editor.form.fields["late_fee_kind"].set_value("percent")
    assert editor.amount_unit.text() == "%"
    assert editor.form.fields["late_fee_minimum"].widget.isEnabled()
    type_into(qtbot, editor.form.fields["late_fee_amount"].widget, "1.5")
    type_into(qtbot, editor.form.fields["late_fee_minimum"].widget, "5")
    days = editor.form.fields["late_fee_days"].widget
    days.setValue(0)  # charged the day after the due date, as 1 is: said so
    assert days.text() == "1 day overdue"
    days.setValue(14)
    assert days.text() == "14 days overdue"

    # payment methods: add one (Enter), move it up, rename another in place
    dialog.tabs.setCurrentWidget(editor.payments_page)
    methods = bs.payment_methods()
    type_into(qtbot, editor.new_method, "Crypto")
    qtbot.keyClick(editor.new_method, Qt.Key.Key_Return)
    assert editor.payment_methods() == methods + ["Crypto"]
    assert editor.new_method.text() == ""
    assert dialog.isVisible() and dialog.save_button.isEnabled()  # Enter added, did not save
    click(qtbot, editor.up_button)
    assert editor.payment_methods() == methods[:-1] + ["Crypto", methods[-1]]
    editor.methods_view.setCurrentIndex(editor.methods_model.index(0, 0))
    click(qtbot, editor.rename_method_button)  # edits in place
    line = editor.methods_view.viewport().findChild(QLineEdit)
    assert line is not None and line.text() == methods[0]
    line.selectAll()
    qtbot.keyClicks(line, "Wire transfer")
    qtbot.keyClick(line, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: editor.payment_methods()[0] == "Wire transfer", timeout=2000)
    assert dialog.isVisible() and dialog.save_button.isEnabled()

    # currencies: add one, change a rate
    default = settings.default_currency()
    rates = bs.currencies()
    assert "CHF" not in rates and "EUR" in rates and default != "EUR"
    click(qtbot, editor.add_currency_button)
    currency_dialog = editor.currency_dialog
    currency_dialog.form.fields["currency"].set_value("CHF")
    type_into(qtbot, currency_dialog.form.fields["rate"].widget, "1.12")
    assert currency_dialog.unit.text() == "CHF"
    click(qtbot, currency_dialog.ok_button)
    editor.currencies_view.selectRow(editor.currency_model.row_of("EUR"))
    click(qtbot, editor.edit_currency_button)
    type_into(qtbot, editor.currency_dialog.form.fields["rate"].widget, "1.2")
    click(qtbot, editor.currency_dialog.ok_button)
    # the default currency has rate 1 and cannot be edited or removed
    editor.currencies_view.selectRow(editor.currency_model.row_of(default))
    assert editor.currency_model.index(editor.currency_model.row_of(default), 1).data() == "1"
    assert not editor.remove_currency_button.isEnabled()
    assert not editor.edit_currency_button.isEnabled()

    with qtbot.waitSignal(ops.changed, timeout=5000) as changed:
        click(qtbot, dialog.save_button)
    assert changed.args[0].settings
    assert dialog.result() == dialog.DialogCode.Accepted

    saved = bs.billing()
    assert saved.tax_inclusive and not saved.tax_compound
    assert saved.number_format == "B-{year}/{seq:04}"
    assert (saved.late_fee_kind, saved.late_fee_amount, saved.late_fee_minimum,
            saved.late_fee_days) == ("percent", "1.5", "5", 14)
    assert bs.next_number() == 42
    after = {r.id: r for r in bs.tax_rules()}
    assert after[first.id].rate == Decimal("12.5")
    new = [r for r in after.values() if r.id not in {old.id for old in rules_before}]
    assert [(r.level, r.name, r.rate, r.country, r.state) for r in new] == [
        (2, "Eco levy", Decimal("1.5"), "NL", "")]
    assert bs.payment_methods() == ["Wire transfer"] + methods[1:-1] + ["Crypto", methods[-1]]
    assert bs.currencies() == {**rates, "CHF": Decimal("1.12"), "EUR": Decimal("1.2")}


def test_refused_values_are_shown_beside_their_fields_and_nothing_is_saved(  # noqa: ANN001
        qtbot, ops, dialog):
    editor = dialog.billing
    before = _snapshot()

    # a tax rate "abc": the rule dialog says so beside the rate and stays open
    click(qtbot, editor.add_rule_button)
    rule_dialog = editor.rule_dialog
    type_into(qtbot, rule_dialog.form.fields["name"].widget, "VAT")
    type_into(qtbot, rule_dialog.form.fields["rate"].widget, "abc")
    rate_problem = rule_dialog.form.fields["rate"].problem
    assert rate_problem.isVisible() and "not a percentage" in rate_problem.text()
    assert not rule_dialog.form.fields["name"].problem.isVisible()
    click(qtbot, rule_dialog.ok_button)
    assert rule_dialog.isVisible()
    rule_dialog.reject()
    assert editor.rules_model.rowCount() == len(before[2])

    # an exchange rate "abc": the same, in the currency dialog
    dialog.tabs.setCurrentWidget(editor.payments_page)
    click(qtbot, editor.add_currency_button)
    currency_dialog = editor.currency_dialog
    type_into(qtbot, currency_dialog.form.fields["rate"].widget, "abc")
    click(qtbot, currency_dialog.ok_button)
    assert currency_dialog.isVisible()
    assert currency_dialog.form.fields["rate"].problem.text() == "'abc' is not a number"
    currency_dialog.reject()

    # a payment method listed twice, a number format without {seq}
    type_into(qtbot, editor.new_method, editor.payment_methods()[0].upper())
    click(qtbot, editor.add_method_button)
    assert "listed twice" in editor.form.fields["new_payment_method"].problem.text()
    model = editor.methods_model
    model.setData(model.index(1, 0), model.index(0, 0).data())
    methods_problem = editor.list_problems["payment_methods"]
    assert methods_problem.text().startswith("Method 2: ") and "listed twice" in methods_problem.text()
    dialog.tabs.setCurrentWidget(editor.taxes_page)
    editor.form.fields["tax_inclusive"].widget.click()
    type_into(qtbot, editor.form.fields["number_format"].widget, "INV-{year}")
    format_problem = editor.form.fields["number_format"].problem
    assert format_problem.isVisible() and "{seq}" in format_problem.text()
    assert editor.preview.text() == "—"

    with qtbot.assertNotEmitted(ops.changed, wait=200):
        click(qtbot, dialog.save_button)
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert _snapshot() == before

    # fixed here; now one the worker refuses: removing a currency clients use.
    # Nothing is written, the company's new name included (one transaction).
    type_into(qtbot, editor.form.fields["number_format"].widget, "INV-{seq}")
    model.setData(model.index(1, 0), before[3][1])
    assert not format_problem.isVisible() and not methods_problem.isVisible()
    default = settings.default_currency()
    used = (Client.select(Client.currency).where(Client.currency != default)
            .order_by(Client.currency).first().currency)
    assert used in bs.currencies()
    dialog.tabs.setCurrentWidget(editor.payments_page)
    editor.currencies_view.selectRow(editor.currency_model.row_of(used))
    click(qtbot, editor.remove_currency_button)
    assert editor.currency_model.row_of(used) is None
    type_into(qtbot, dialog.company_form.form.fields["name"].widget, "Renamed Ltd")
    dialog.tabs.setCurrentWidget(dialog.company_form)
    click(qtbot, dialog.save_button)
    problem = editor.list_problems["currencies"]
    qtbot.waitUntil(problem.isVisible, timeout=5000)
    assert f"{used} is used by clients" in problem.text()
    assert dialog.tabs.currentWidget() is editor.payments_page
    assert dialog.save_button.isEnabled() and dialog.isVisible()
    assert _snapshot() == before


def test_billing_models_pass_qtmodeltester(qtmodeltester, qtbot, book):  # noqa: ANN001
    from billdesk.views.billing_settings_tab import BillingSettingsEditor
    from billdesk.views.models.settings_tables import CurrencyTableModel, TaxRuleTableModel

    # (one check per model: the tester then watches every change made after it)
    rules = TaxRuleTableModel()
    rules.set_rules(bs.tax_rules() + [bs.TaxRuleRecord(-1, 2, "Levy", Decimal("0.5"), "", "")])
    assert rules.rowCount() > 1
    qtmodeltester.check(rules, force_py=True)
    rules.remove(-1)
    rules.remove(rules.rule(0).id)
    assert rules.row_of(-1) is None
    rules.put(bs.TaxRuleRecord(-2, 1, "Zero", Decimal(0), "DE", "Berlin"))  # (a reset)
    assert rules.index(rules.row_of(-2), 2).data() == "0"

    empty = TaxRuleTableModel()
    qtmodeltester.check(empty, force_py=True)

    currencies = CurrencyTableModel()
    currencies.set_rates(bs.currencies(), settings.default_currency())
    qtmodeltester.check(currencies, force_py=True)
    currencies.set_rate("CHF", Decimal("1.12"))
    currencies.set_rate("CHF", Decimal("1.13"))
    currencies.remove("CHF")
    assert currencies.headerData(1, Qt.Orientation.Horizontal) == (
        f"Rate (per 1 {settings.default_currency()})")

    editor = BillingSettingsEditor()
    methods = editor.methods_model
    qtmodeltester.check(methods, force_py=True)
    assert methods.rowCount(QModelIndex()) == len(bs.payment_methods())
    editor.new_method.setText("Crypto")
    editor.add_method()
    editor.methods_view.setCurrentIndex(methods.index(methods.rowCount() - 1, 0))
    editor.move_method(-1)
    editor.remove_method()
    assert editor.payment_methods() == bs.payment_methods()


def test_invoice_lead_days_are_saved_and_a_refusal_shows_beside_them(qtbot, ops, dialog):  # noqa: ANN001
    editor = dialog.billing
    dialog.tabs.setCurrentWidget(editor.taxes_page)
    field = editor.form.fields["invoice_lead_days"]
    spin = field.widget
    assert spin.value() == bs.billing().invoice_lead_days == 14
    assert spin.suffix() == " days before the due date"
    spin.setValue(30)
    assert editor.changes().settings.invoice_lead_days == 30

    # a refusal about the field (as the worker would send it) shows beside it
    refused = bs.BillingSettings(invoice_lead_days=400).problems()
    assert editor.show_refusal(ValidationFailed(refused)) is editor.taxes_page
    assert field.problem.isVisible() and "0 to 365" in field.problem.text()
    assert editor.check() and not field.problem.isVisible()  # 30 is fine

    with qtbot.waitSignal(ops.changed, timeout=5000):
        click(qtbot, dialog.save_button)
    assert bs.billing().invoice_lead_days == 30

