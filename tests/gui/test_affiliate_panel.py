"""The affiliate panel on the Summary tab (F4) through the real client
window: Activate as affiliate… (a refusal shown beside its field), Refer a
client… with the client picker, the figures following a referred client's
payment made elsewhere, Record payout…, Details… (its lists pass the model
tester), "Referred by" assigned and removed, and the Client menu's action."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QLabel

from billdesk.models import AffiliatePayout
from billdesk.money import Money
from billdesk.services import affiliates, clients, invoicing, payments
from billdesk.services.invoicing import LineInput
from billdesk.views import fmt
from billdesk.views.affiliate_panel import (
    ActivateDialog,
    ClientPicker,
    DetailsDialog,
    PayoutDialog,
    ReferrerDialog,
)
from billdesk.views.ops import Changes

from gui_helpers import click, type_into, visible, wait_for


def new_client(first: str) -> int:
    return clients.add_client({"first_name": first, "last_name": "Lee",
                               "email": f"{first.lower()}@example.com", "currency": "GBP",
                               "country": "GB"})


def run(qtbot, window, fn, changes: Changes):  # noqa: ANN001, ANN201
    """A write on the window's worker, announced as the views announce theirs."""
    outcome: list = []
    window.ops.run(fn, changes=changes, on_done=outcome.append, on_error=outcome.append)
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert not isinstance(outcome[0], BaseException), outcome[0]
    return outcome[0]


def value(panel, key: str) -> str:  # noqa: ANN001
    return panel.findChild(QLabel, f"affiliate_{key}").text()


def test_activate_refer_follow_a_payment_and_record_a_payout(qtbot, window, answers):  # noqa: ANN001
    bob = new_client("Bob")
    panel = window.summary.affiliate
    assert panel.isVisible() and panel.activate_button.isVisible()
    assert not panel.refer_button.isVisible() and not panel.details_link.isVisible()
    assert panel.referred.text().startswith("Referred by: —")
    assert panel.menu_action is not None and panel.menu_action.text() == "Activate as affiliate…"

    click(qtbot, panel.activate_button)
    dialog = wait_for(qtbot, lambda: visible(window, ActivateDialog))
    type_into(qtbot, dialog.percent.widget, "0")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: dialog.percent.problem.isVisible())
    assert "more than 0" in dialog.percent.problem.text()
    assert not affiliates.is_affiliate(window.client_id)
    type_into(qtbot, dialog.percent.widget, "10")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: panel.record is not None and panel.refer_button.isVisible())
    assert value(panel, "commission") == "10.00 %" and value(panel, "signups") == "0"
    assert not panel.activate_button.isVisible() and panel.details_link.isVisible()
    assert panel.menu_action.text() == "Affiliate details…"
    assert not panel.payout_button.isEnabled()  # nothing payable yet

    click(qtbot, panel.refer_button)
    picker = wait_for(qtbot, lambda: visible(window, ClientPicker))
    type_into(qtbot, picker.search, "Bob")
    qtbot.waitUntil(lambda: picker.results.count() == 1 and picker.ok.isEnabled())
    assert picker.results.item(0).text().startswith(f"#{bob} Bob Lee")
    click(qtbot, picker.ok)
    qtbot.waitUntil(lambda: value(panel, "signups") == "1")
    assert affiliates.referred_by(bob)[0] == window.client_id

    # Bob pays an invoice (in his own window): this panel follows
    invoice_id = invoicing.create_invoice(bob, [LineInput("Design", "120.00")])
    run(qtbot, window, lambda: payments.add_payment(invoice_id, "120.00",
                                                    date=dt.date(2000, 1, 3)),
        Changes(billing=True, client_id=bob))
    twelve = fmt.money(Money.of("12.00", "GBP"))
    qtbot.waitUntil(lambda: value(panel, "balance") == twelve)
    assert panel.payout_button.isEnabled()

    click(qtbot, panel.payout_button)
    payout = wait_for(qtbot, lambda: visible(window, PayoutDialog))
    assert payout.amount.text() == "12.00"
    type_into(qtbot, payout.amount, "12.01")
    click(qtbot, payout.save_button)
    problem = payout.form.fields["amount"].problem
    qtbot.waitUntil(problem.isVisible)
    assert "balance (12.00 GBP)" in problem.text()
    type_into(qtbot, payout.amount, "5.00")
    payout.form.fields["method"].widget.setText("Bank transfer")
    click(qtbot, payout.save_button)
    qtbot.waitUntil(lambda: value(panel, "paid_out") == fmt.money(Money.of("5.00", "GBP")))
    assert value(panel, "balance") == fmt.money(Money.of("7.00", "GBP"))
    assert [(p.amount, p.method) for p in AffiliatePayout.select()] == [(500, "Bank transfer")]

    panel.menu_action.trigger()  # Client → Affiliate details…
    details = wait_for(qtbot, lambda: visible(window, DetailsDialog))
    assert details.payouts.rowCount() == 1
    details.close()


def test_details_lists_pass_the_model_tester(qtbot, qtmodeltester, window, answers):  # noqa: ANN001
    me = window.client_id
    bob = new_client("Bob")
    affiliates.activate(me, fixed="4.00")
    affiliates.refer(me, bob)
    invoice_id = invoicing.create_invoice(bob, [LineInput("Design", "50.00")])
    payments.add_payment(invoice_id, "50.00", date=dt.date(2000, 1, 3))
    affiliates.record_payout(me, amount="1.50", paid_on="2000-03-01")
    panel = window.summary.affiliate
    panel.load()
    panel.details_link.linkActivated.emit("details")  # the "Details…" link
    details = wait_for(qtbot, lambda: visible(window, DetailsDialog))
    assert (details.referrals.rowCount(), details.commissions.rowCount(),
            details.payouts.rowCount()) == (1, 1, 1)
    assert details.commissions.index(0, 4).data() == "2000-02-02"  # payable from
    assert details.commissions.index(0, 5).data() == "Payable"
    assert "balance" in details.header.text()
    for model in (details.referrals, details.commissions, details.payouts):
        qtmodeltester.check(model)
    # a payout deleted from the details: both follow
    details.payouts_view.selectRow(0)
    assert details.delete_payout.isEnabled()
    click(qtbot, details.delete_payout)
    qtbot.waitUntil(lambda: details.payouts.rowCount() == 0)
    qtbot.waitUntil(lambda: value(panel, "balance") == fmt.money(Money.of("4.00", "GBP")))
    details.close()


def test_referred_by_is_assigned_and_removed(qtbot, window, answers):  # noqa: ANN001
    ann = new_client("Ann")
    affiliates.activate(ann, percent="5")
    panel = window.summary.affiliate
    panel.referred.linkActivated.emit("assign")
    dialog = wait_for(qtbot, lambda: visible(window, ReferrerDialog))
    dialog.choice.setCurrentIndex(dialog.choice.findData(ann))
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: f"#{ann} Ann Lee" in panel.referred.text())
    assert affiliates.referred_by(window.client_id) == (ann, "Ann Lee")
    assert "(change)" in panel.referred.text() or ">change<" in panel.referred.text()

    panel.referred.linkActivated.emit("assign")
    dialog = wait_for(qtbot, lambda: visible(window, ReferrerDialog))
    dialog.choice.setCurrentIndex(0)  # no one
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: panel.referred.text().startswith("Referred by: —"))
    assert affiliates.referred_by(window.client_id) is None


def test_activate_with_a_fixed_amount(qtbot, window, answers):  # noqa: ANN001
    panel = window.summary.affiliate
    panel.menu_action.trigger()  # Client → Activate as affiliate…
    dialog = wait_for(qtbot, lambda: visible(window, ActivateDialog))
    assert dialog.percent.widget.isVisible() and not dialog.fixed.widget.isVisible()
    dialog.kind.setCurrentIndex(dialog.kind.findData("fixed"))
    assert dialog.fixed.widget.isVisible() and not dialog.percent.widget.isVisible()
    type_into(qtbot, dialog.fixed.widget, "2.5")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: panel.record is not None and panel.refer_button.isVisible())
    assert value(panel, "commission") == "2.50 GBP each"
    assert affiliates.get(window.client_id).fixed == Money.of("2.50", "GBP")
