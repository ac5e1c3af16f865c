"""The Products page of the Settings window (S1): products added, edited
and deleted through their dialog as a user would; a refused value is shown
beside its field and nothing is written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from billdesk.money import Money
from billdesk.services import catalog, settings
from billdesk.views.models import SortRole
from billdesk.views.models.product_table import ProductColumn, ProductTableModel

from gui_helpers import click, type_into


@pytest.fixture
def dialog(settings_dialog):  # noqa: ANN001, ANN201
    settings_dialog.tabs.setCurrentWidget(settings_dialog.products)
    return settings_dialog


def _row(model: ProductTableModel, product_id: int) -> list[str]:
    row = model.row_of(product_id)
    assert row is not None
    return [model.index(row, c).data() for c in range(model.columnCount())]


def test_add_edit_and_delete_a_product(qtbot, ops, dialog, monkeypatch):  # noqa: ANN001
    page = dialog.products
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Products"
    currency = settings.default_currency()
    count = page.model.rowCount()
    assert not page.edit_button.isEnabled() and not page.delete_button.isEnabled()

    click(qtbot, page.add_button)
    editor = page.editor
    qtbot.waitExposed(editor)
    fields = editor.form.fields
    assert fields["currency"].value() == currency
    type_into(qtbot, fields["name"].widget, "Web hosting S")
    fields["type"].set_value("reseller")
    fields["group"].widget.setEditText("Shared hosting")
    fields["description"].widget.setPlainText("One site")
    fields["taxed"].widget.click()
    type_into(qtbot, editor.amount_edits["monthly"], "4.99")
    type_into(qtbot, editor.fee_edits["monthly"], "10")
    type_into(qtbot, editor.amount_edits["annually"], "49.9")
    assert not any(f.problem.isVisible() for f in fields.values())

    # prices in a second currency: the grid keeps what was typed for each
    other = "EUR" if currency != "EUR" else "GBP"
    fields["currency"].set_value(other)
    assert editor.amount_edits["monthly"].text() == ""
    type_into(qtbot, editor.amount_edits["quarterly"], "13")
    fields["currency"].set_value(currency)
    assert editor.amount_edits["monthly"].text() == "4.99"

    with qtbot.waitSignal(editor.product_saved, timeout=5000) as saved:
        click(qtbot, editor.save_button)
    product_id = saved.args[0]
    assert editor.result() == editor.DialogCode.Accepted
    assert page.model.rowCount() == count + 1
    shown = _row(page.model, product_id)
    assert shown[:3] == ["Web hosting S", "Reseller hosting", "Shared hosting"]
    assert Decimal("4.99") == Decimal(shown[ProductColumn.MONTHLY].lstrip("$€£").replace(",", ""))
    assert "49.90" in shown[ProductColumn.ANNUALLY]
    assert "Quarterly" in shown[ProductColumn.OTHER] and "13.00" in shown[ProductColumn.OTHER]
    assert shown[ProductColumn.HIDDEN] == ""
    assert page.selected().id == product_id  # the new product is selected

    record = catalog.get_product(product_id)
    assert (record.name, record.type, record.product_group, record.description, record.taxed,
            record.hidden) == ("Web hosting S", "reseller", "Shared hosting", "One site", True, False)
    assert record.prices == {
        (currency, "monthly"): (Money(Decimal("4.99"), currency), Money(Decimal(10), currency)),
        (currency, "annually"): (Money(Decimal("49.90"), currency), Money(Decimal(0), currency)),
        (other, "quarterly"): (Money(Decimal(13), other), Money(Decimal(0), other)),
    }

    # edit: the dialog opens filled in; blank a price (no longer offered), hide it
    click(qtbot, page.edit_button)
    editor = page.editor
    fields = editor.form.fields
    assert fields["name"].value() == "Web hosting S"
    assert fields["group"].value() == "Shared hosting"
    assert editor.amount_edits["monthly"].text() == "4.99"
    assert editor.fee_edits["monthly"].text() == "10.00"
    assert editor.fee_edits["annually"].text() == ""
    editor.amount_edits["annually"].clear()
    fields["hidden"].widget.click()
    with qtbot.waitSignal(editor.product_saved, timeout=5000):
        click(qtbot, editor.save_button)
    record = catalog.get_product(product_id)
    assert record.hidden and set(record.prices) == {(other, "quarterly"), (currency, "monthly")}
    assert _row(page.model, product_id)[ProductColumn.HIDDEN] == "Hidden"

    # delete, after asking
    page.view.selectRow(page.model.row_of(product_id))
    asked: list[str] = []

    def answer(parent, title, text):  # noqa: ANN001, ANN202
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    with qtbot.waitSignal(ops.changed, timeout=5000):
        click(qtbot, page.delete_button)
    assert "Web hosting S" in asked[0]
    assert page.model.row_of(product_id) is None
    assert page.model.rowCount() == count
    assert all(p.id != product_id for p in catalog.list_products())


def test_refused_values_are_shown_beside_their_fields_and_nothing_is_saved(  # noqa: ANN001
        qtbot, ops, dialog, monkeypatch):
    page = dialog.products
    taken = catalog.add_product("Existing plan", prices={"monthly": "1"})
    page.reload()
    before = catalog.list_products()

    click(qtbot, page.add_button)
    editor = page.editor
    fields = editor.form.fields
    type_into(qtbot, fields["name"].widget, "New plan")
    type_into(qtbot, editor.amount_edits["monthly"], "abc")
    problem = fields["monthly"].problem
    assert problem.isVisible() and problem.text() == "'abc' is not an amount"
    assert not fields["name"].problem.isVisible()
    type_into(qtbot, editor.fee_edits["annually"], "-1")
    assert fields["annually"].problem.text() == "is required when a setup fee is given"
    type_into(qtbot, editor.amount_edits["annually"], "12")
    assert fields["annually_setup_fee"].problem.text() == "must not be negative"
    assert not fields["annually"].problem.isVisible()

    # another currency only once the prices shown are right
    currency = fields["currency"].value()
    fields["currency"].set_value("EUR" if currency != "EUR" else "GBP")
    assert fields["currency"].value() == currency
    assert "Fix the" in fields["currency"].problem.text()

    with qtbot.assertNotEmitted(ops.changed, wait=200):
        click(qtbot, editor.save_button)
    assert editor.isVisible() and problem.isVisible()

    # a name already taken (case folded) is shown beside the name
    type_into(qtbot, editor.amount_edits["monthly"], "5")
    type_into(qtbot, editor.fee_edits["annually"], "0")
    type_into(qtbot, fields["name"].widget, "EXISTING PLAN")
    assert fields["name"].problem.text() == f"a product named 'Existing plan' exists (#{taken})"
    assert not fields["monthly"].problem.isVisible()
    with qtbot.assertNotEmitted(ops.changed, wait=200):
        click(qtbot, editor.save_button)
    assert editor.isVisible()

    # one the worker refuses (another writer took the name after the dialog
    # checked it): beside the name, the dialog stays open, nothing written
    type_into(qtbot, fields["name"].widget, "Racing plan")
    assert not fields["name"].problem.isVisible()
    catalog.add_product("racing PLAN")
    before = catalog.list_products()
    monkeypatch.setattr(catalog, "product_problems", lambda *args, **kwargs: [])
    click(qtbot, editor.save_button)
    qtbot.waitUntil(fields["name"].problem.isVisible, timeout=5000)
    assert "a product named 'racing PLAN' exists" in fields["name"].problem.text()
    assert editor.isVisible() and editor.save_button.isEnabled()
    assert catalog.list_products() == before
    editor.reject()


def test_product_table_model_passes_qtmodeltester(qtmodeltester, qtbot, db):  # noqa: ANN001
    # (an empty book: the demo's catalogue would crowd the two products here)
    catalog.add_product("Plan B", group="Shared", prices={"monthly": "5", "annually": "50"},
                        setup_fee="1", currency="USD", price_table={"EUR": {"onetime": "9"}})
    catalog.add_product("Plan A", hidden=True)
    model = ProductTableModel()
    model.load("USD")
    assert model.rowCount() == 2
    qtmodeltester.check(model, force_py=True)
    assert [model.index(r, ProductColumn.NAME).data() for r in range(2)] == ["Plan A", "Plan B"]
    assert model.headerData(ProductColumn.MONTHLY, Qt.Orientation.Horizontal) == "Monthly (USD)"
    row = model.row_of(catalog.find_product("Plan B").id)
    assert model.index(row, ProductColumn.MONTHLY).data(SortRole) == Decimal("5.00")
    assert model.index(row, ProductColumn.OTHER).data() == "One time €9.00"
    model.remove(catalog.find_product("Plan A").id)
    model.load("EUR")
    assert model.headerData(ProductColumn.ANNUALLY, Qt.Orientation.Horizontal) == "Annually (EUR)"

    empty = ProductTableModel()
    qtmodeltester.check(empty, force_py=True)
