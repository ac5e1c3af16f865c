"""Orders and promotion codes through the windows (S8): place an order
with a promotion code in the order dialog (the code checked as it is
typed, the first invoice's lines and total shown before placing), accept
and cancel it from the Orders tab, open its invoice; the Promotions page
adds, edits and deletes codes with problems beside their fields; and the
table models under qtmodeltester."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from billdesk.models import Service
from billdesk.services import catalog, invoicing, orders, promos

from gui_helpers import click, shown, type_into

TODAY = dt.date.today()


@pytest.fixture
def client_fields() -> dict:
    return {"payment_method": "Card"}


@pytest.fixture
def client_book(client_book: int) -> int:
    catalog.add_product("Web Hosting", group="Shared", taxed=True, hidden=True, currency="GBP",
                        prices={"monthly": ("10.00", "5.00"), "annually": "100.00"})
    catalog.add_product("VPS", currency="GBP", prices={"monthly": "20.00"})
    return client_book


class Owner(QWidget):
    """Stands in for the client window: what the Orders tab asks of it."""

    def __init__(self, client_id: int, ops) -> None:  # noqa: ANN001
        super().__init__()
        self.client_id, self.ops = client_id, ops
        self.opened: list[int] = []

    def open_invoice(self, invoice_id: int) -> None:
        self.opened.append(invoice_id)


@pytest.fixture
def tab(qtbot, client_ops, client_book: int):  # noqa: ANN001, ANN201
    from billdesk.views.orders_tab import OrdersTab

    owner = Owner(client_book, client_ops)
    widget = OrdersTab(owner, owner)
    owner.resize(1000, 500)
    shown(qtbot, owner)
    return widget


def lines_shown(dialog) -> list[tuple[str, str]]:  # noqa: ANN001
    model = dialog.lines
    return [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(model.rowCount())]


def test_place_an_order_with_a_promotion_code(qtbot, tab, answers) -> None:  # noqa: ANN001
    from billdesk.views.order_dialog import OrderDialog

    promos.add_promo("SPRING", percent="10", products=["Web Hosting"])
    promos.add_promo("OLD", percent="10", end_date="2020-01-01")
    assert tab.model.rowCount() == 0 and tab.count.text() == "0 orders"
    click(qtbot, tab.buttons["placeOrder"])
    dialog: OrderDialog = tab.dialog
    qtbot.waitExposed(dialog)
    # the hidden product is offered, marked; its cycles show their prices
    dialog.product.setCurrentIndex(dialog.product.findData(
        catalog.find_product("Web Hosting").id))
    assert dialog.product.currentText() == "Shared › Web Hosting (hidden)"
    assert [dialog.cycle.itemData(i) for i in range(dialog.cycle.count())] == [
        "free", "monthly", "annually"]
    assert dialog.cycle.currentData() == "monthly"
    type_into(qtbot, dialog.domain, "grace.example")
    # a refused code shows why beside the field, and nothing can be placed with it
    type_into(qtbot, dialog.promo, "OLD")
    assert dialog.promo_status.text() == "OLD expired on 2020-01-01"
    assert not dialog.place_button.isEnabled()
    type_into(qtbot, dialog.promo, "spring")
    assert dialog.promo_status.text() == "✓ 10% off the first payment: £1.50 now"
    span = (f"{invoicing_date(TODAY)} - "
            f"{invoicing_date(orders.cycles.next_due(TODAY, 'monthly') - dt.timedelta(days=1))}")
    assert lines_shown(dialog) == [
        (f"Web Hosting - grace.example ({span})", "£10.00"),
        ("Setup fee: Web Hosting - grace.example", "£5.00"),
        ("Promotional Code: SPRING - 10% One Time Discount", "-£1.50")]
    assert (dialog.totals["subtotal"].text(), dialog.totals["total"].text()) == ("£13.50",
                                                                                 "£13.50")
    # a malformed custom price is refused beside its field, then put right
    type_into(qtbot, dialog.price, "abc")
    assert dialog.form.fields["price"].problem.text() == "'abc' is not an amount"
    assert not dialog.place_button.isEnabled()
    dialog.price.clear()
    assert dialog.place_button.isEnabled()
    click(qtbot, dialog.place_button)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    assert not dialog.isVisible()
    order = tab.model.record(0)
    assert (order.status, order.promo_code, str(order.amount), order.items_text) == (
        "Pending", "SPRING", "13.50", "Web Hosting - grace.example")
    assert tab.selected().id == order.id  # the new order is highlighted
    svc = Service.get_by_id(order.items[0].id)
    assert (svc.status, svc.payment_method, svc.first_payment) == ("Pending", "Card", 1350)
    assert promos.find_promo("SPRING").uses == 1

    # Open invoice asks the owner to open it
    click(qtbot, tab.buttons["openInvoice"])
    assert tab.owner.opened == [order.invoice_id]
    # Accept: the order and its item become Active
    click(qtbot, tab.buttons["accept"])
    qtbot.waitUntil(lambda: tab.model.record(0).status == "Active")
    assert tab.model.record(0).items[0].status == "Active"
    assert not tab.buttons["accept"].isEnabled()
    # Cancel, after asking: the items and the unpaid invoice too
    tab.view.selectRow(0)
    click(qtbot, tab.buttons["cancel"])
    assert "is cancelled too" in answers.said[-1]
    qtbot.waitUntil(lambda: tab.model.record(0).status == "Cancelled")
    assert tab.model.record(0).items[0].status == "Cancelled"
    assert invoicing.get_invoice(order.invoice_id).status == "Cancelled"
    assert not tab.buttons["cancel"].isEnabled()


def invoicing_date(value: dt.date) -> str:
    from billdesk.services.billing_run import date_text

    return date_text(value, "en")


def test_cancel_can_be_declined(qtbot, tab, answers) -> None:  # noqa: ANN001
    order_id = orders.place_order(tab.owner.client_id, "VPS", "monthly")
    tab.load()
    tab.view.selectRow(0)
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, tab.buttons["cancel"])
    assert orders.get_order(order_id).status == "Pending"


def test_promotions_page_adds_edits_and_deletes(qtbot, client_ops, answers) -> None:  # noqa: ANN001
    from billdesk.views.promos_tab import PromoDialog, PromosPage

    page = shown(qtbot, PromosPage(client_ops))
    assert page.model.rowCount() == 0 and not page.edit_button.isEnabled()
    click(qtbot, page.add_button)
    dialog: PromoDialog = page.editor
    type_into(qtbot, dialog.code, "two words")
    assert "no spaces" in dialog.form.fields["code"].problem.text()
    type_into(qtbot, dialog.code, "SUMMER")
    dialog.kind.setCurrentIndex(dialog.kind.findData("fixed"))
    type_into(qtbot, dialog.value, "-3")
    assert dialog.form.fields["value"].problem.text() == "'-3' is not a number"
    type_into(qtbot, dialog.value, "3.50")
    dialog.cycle_boxes["annually"].setChecked(True)
    dialog.product_list.item(1).setCheckState(Qt.CheckState.Checked)  # Web Hosting (by name)
    dialog.end.set_value(dt.date(2030, 6, 30))
    type_into(qtbot, dialog.max_uses, "100")
    assert dialog.check()
    dialog.save()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    saved = promos.find_promo("SUMMER")
    assert (saved.kind, str(saved.value), saved.cycles, [n for _i, n in saved.products],
            saved.end_date, saved.max_uses) == ("fixed", "3.50", ("annually",),
                                                ["Web Hosting"], dt.date(2030, 6, 30), 100)
    assert page.model.index(0, 1).data() == "3.50 off"
    # edit: a percent now, every payment, no end date
    page.view.selectRow(0)
    click(qtbot, page.edit_button)
    editor: PromoDialog = page.editor
    assert editor.code.text() == "SUMMER" and editor.cycle_boxes["annually"].isChecked()
    editor.kind.setCurrentIndex(editor.kind.findData("percent"))
    type_into(qtbot, editor.value, "15")
    editor.recurring.setChecked(True)
    editor.end.set_value(None)
    editor.save()
    qtbot.waitUntil(lambda: promos.find_promo("SUMMER").kind == "percent")
    changed = promos.find_promo("SUMMER")
    assert (str(changed.value), changed.recurring, changed.end_date) == ("15", True, None)
    qtbot.waitUntil(lambda: page.model.index(0, 1).data() == "15%")
    # delete, after asking
    page.view.selectRow(0)
    click(qtbot, page.delete_button)
    assert "Delete the promotion code SUMMER" in answers.said[-1]
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    assert promos.list_promos() == []


def test_models_pass_the_model_tester(qtmodeltester, client_book: int) -> None:  # noqa: ANN001
    from billdesk.views.models.order_tables import OrderTableModel, PromoTableModel, QuoteLineModel

    promos.add_promo("SPRING", percent="10", max_uses=3, cycles=["monthly"])
    orders.place_order(client_book, "Web Hosting", "monthly", promo="SPRING", label="a.example")
    orders.place_order(client_book, "VPS", "monthly")
    model = OrderTableModel()
    model.load(client_book)
    assert model.rowCount() == 2
    qtmodeltester.check(model)
    promo_model = PromoTableModel()
    promo_model.load()
    qtmodeltester.check(promo_model)
    quote = QuoteLineModel()
    quote.set_rows(orders.quote_order(client_book, "Web Hosting", "monthly", promo="SPRING").lines)
    assert quote.rowCount() == 3
    qtmodeltester.check(quote)
