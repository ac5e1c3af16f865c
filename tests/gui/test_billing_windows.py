"""Getting paid through the real windows (JOURNEYS.md 4): create an invoice
in the editor, take a partial payment, add and remove credit, open the
statement; plus the table models under qtmodeltester."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from billdesk.services import billing_settings, credit, invoicing, payments
from billdesk.services.invoicing import LineInput

from gui_helpers import visible, wait_for


@pytest.fixture
def client_fields() -> dict:
    return {"payment_method": "Card"}


@pytest.fixture
def client_book(client_book: int) -> int:
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    return client_book


def test_create_invoice_take_partial_payment_manage_credit_and_see_statement(qtbot, window, monkeypatch):  # noqa: ANN001
    from billdesk.views.credit_dialog import ManageCreditsDialog
    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.models.billing_tables import LineColumn
    from billdesk.views.money_dialogs import AmountDialog, PaymentDialog
    from billdesk.views.statement_window import StatementWindow

    client_id = window.client_id
    summary = window.summary.billing
    assert summary.values["count_Unpaid"].text() == "0"

    # Create invoice → an empty draft opens in the editor
    qtbot.mouseClick(summary.findChild(QPushButton, "createInvoice"), Qt.MouseButton.LeftButton)
    editor: InvoiceEditor = wait_for(qtbot, lambda: visible(window, InvoiceEditor))
    qtbot.waitExposed(editor)
    assert editor.invoice.status == "Draft" and editor.invoice.number is None
    assert editor.invoice.payment_method == "Card"  # the client's default (C5)
    # a draft has no number yet: its title says so, not its id as if it were one
    title = editor.title.text()
    assert "numbered when published" in title and str(editor.invoice.id) not in title

    # add two lines; the totals follow the typing
    qtbot.mouseClick(editor.add_line, Qt.MouseButton.LeftButton)
    model = editor.lines
    model.setData(model.index(0, LineColumn.DESCRIPTION), "Website redesign")
    model.setData(model.index(0, LineColumn.AMOUNT), "100")
    assert editor.figures["total"].text().endswith("120.00")  # 20 % VAT (taxed by default)
    qtbot.mouseClick(editor.add_line, Qt.MouseButton.LeftButton)
    model.setData(model.index(1, LineColumn.DESCRIPTION), "Domain (no tax)")
    model.setData(model.index(1, LineColumn.TAXED), Qt.CheckState.Unchecked.value,
                  Qt.ItemDataRole.CheckStateRole)
    for refused in ("12,50", "1e3"):  # what Save refuses is not counted while typing either
        model.setData(model.index(1, LineColumn.AMOUNT), refused)
        assert editor.figures["subtotal"].text().endswith("100.00"), refused
        assert model.index(1, LineColumn.AMOUNT).data(Qt.ItemDataRole.ToolTipRole) == (
            "not an amount")
    model.setData(model.index(1, LineColumn.AMOUNT), "12.5")
    assert editor.figures["subtotal"].text().endswith("112.50")
    assert editor.figures["tax1"].text().endswith("20.00")
    assert editor.figures["total"].text().endswith("132.50")
    assert editor.figures["balance"].text().endswith("132.50")

    # Publish: saves the lines, gives the number
    qtbot.mouseClick(editor.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.invoice.status == "Unpaid")
    assert editor.invoice.number and str(editor.invoice.total) == "132.50"
    assert "Unpaid" in editor.title.text() and editor.invoice.number in editor.title.text()

    # Add payment: a partial one
    qtbot.mouseClick(editor.pay_button, Qt.MouseButton.LeftButton)
    dialog: PaymentDialog = wait_for(qtbot, lambda: visible(editor, PaymentDialog))
    dialog.amount.setText("50")
    assert "stays due" in dialog.hint.text()
    dialog.form.fields["fee"].widget.setText("1.50")
    dialog.save()
    qtbot.waitUntil(lambda: str(editor.invoice.balance) == "82.50")
    assert editor.invoice.status == "Unpaid"
    assert editor.payments.rowCount() == 1
    # (Unpaid was 1 since publishing: wait for what the payment changes)
    qtbot.waitUntil(lambda: summary.values["gross"].text().endswith("50.00"))
    assert summary.values["count_Unpaid"].text() == "1"
    assert summary.values["expenses"].text().endswith("1.50")
    qtbot.waitUntil(lambda: window.transactions.model.rowCount() == 1)

    # Manage credits: add, then remove
    qtbot.mouseClick(summary.findChild(QPushButton, "manageCredits"), Qt.MouseButton.LeftButton)
    credits: ManageCreditsDialog = wait_for(qtbot, lambda: visible(window, ManageCreditsDialog))
    qtbot.mouseClick(credits.add, Qt.MouseButton.LeftButton)
    add: AmountDialog = wait_for(qtbot, lambda: visible(credits, AmountDialog))
    add.amount.setText("25")
    add.description.setText("Downtime in March")
    add.save()
    qtbot.waitUntil(lambda: credits.balance.text().endswith("25.00"))
    assert credits.model.rowCount() == 1
    qtbot.mouseClick(credits.remove, Qt.MouseButton.LeftButton)
    remove: AmountDialog = wait_for(qtbot, lambda: visible(credits, AmountDialog))
    remove.amount.setText("30")  # more than there is: refused beside the field
    remove.description.setText("Too much")
    remove.save()
    problem = remove.form.fields["amount"].problem
    qtbot.waitUntil(lambda: problem.isVisible())
    assert "more than the credit balance" in problem.text()
    assert str(credit.balance(client_id)) == "25.00"
    remove.amount.setText("5")
    remove.save()
    qtbot.waitUntil(lambda: credits.balance.text().endswith("20.00"))
    qtbot.waitUntil(lambda: summary.values["credit"].text().endswith("20.00"))
    credits.close()

    # Statement: all rows, running balance, self-check
    qtbot.mouseClick(summary.findChild(QPushButton, "viewStatement"), Qt.MouseButton.LeftButton)
    statement: StatementWindow = wait_for(qtbot, lambda: visible(window, StatementWindow))
    rows = [(r.type, str(r.debit), str(r.credit), str(r.balance)) for r in statement.statement.rows]
    assert rows == [("Invoice", "132.50", "0.00", "132.50"), ("Payment", "0.00", "50.00", "82.50"),
                    ("Credit added", "0.00", "25.00", "57.50"),
                    ("Credit removed", "5.00", "0.00", "62.50")]
    assert statement.closing.text().endswith("62.50")
    assert "Checked" in statement.check.text()
    # a range the wrong way round: said, and the dates go back to the rows shown
    said: list[str] = []
    monkeypatch.setattr("billdesk.views.statement_window.show_error",
                        lambda _parent, exc: said.append(str(exc)))
    shown = (statement.start.date(), statement.end.date())
    statement.start.setDate(statement.end.date().addDays(30))
    statement.refresh()
    assert said and "to: must not be before the from date" in said[0]
    assert (statement.start.date(), statement.end.date()) == shown
    assert len(statement.statement.rows) == 4
    statement.close()


def test_refused_line_amount_is_shown_on_the_line_and_nothing_saved(qtbot, window):  # noqa: ANN001
    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.models.billing_tables import LineColumn

    invoice_id = invoicing.create_invoice(window.client_id, [LineInput("Hosting", "10")])
    window.open_invoice(invoice_id)
    editor = wait_for(qtbot, lambda: visible(window, InvoiceEditor))
    editor.lines.setData(editor.lines.index(0, LineColumn.AMOUNT), "12,x")
    assert editor.dirty
    editor.save()
    qtbot.waitUntil(lambda: editor.problem.isVisible())
    assert "Line 1" in editor.problem.text() and "amount" in editor.problem.text()
    assert (0, LineColumn.AMOUNT) in editor.lines.problems
    assert str(invoicing.get_invoice(invoice_id).total) == "10.00"  # unchanged
    # rows added and left empty are not lines: no "is required" for them, and a problem
    # below one is named by its row on screen
    editor.lines.add_line(taxed=False)
    editor.lines.add_line(taxed=False)
    last = editor.lines.rowCount() - 1
    editor.lines.setData(editor.lines.index(last, LineColumn.DESCRIPTION), "Support")
    editor.lines.setData(editor.lines.index(last, LineColumn.AMOUNT), "abc")
    editor.lines.setData(editor.lines.index(0, LineColumn.AMOUNT), "10")
    editor.save()
    qtbot.waitUntil(lambda: "'abc'" in editor.problem.text())
    assert (last, LineColumn.AMOUNT) in editor.lines.problems
    assert editor.problem.text() == f"Line {last + 1}: amount: 'abc' is not an amount"
    assert "is required" not in editor.problem.text()
    editor.lines.setData(editor.lines.index(last, LineColumn.AMOUNT), "5")
    editor.save()
    qtbot.waitUntil(lambda: str(invoicing.get_invoice(invoice_id).total) == "15.00")
    assert [ln.description for ln in invoicing.get_invoice(invoice_id).lines] == [
        "Hosting", "Support"]
    editor.dirty = False


def test_overpayment_says_where_the_rest_went(qtbot, window, monkeypatch):  # noqa: ANN001
    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.money_dialogs import PaymentDialog

    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
    invoice_id = invoicing.create_invoice(window.client_id, [LineInput("Hosting", "10", True)])
    window.open_invoice(invoice_id)
    editor = wait_for(qtbot, lambda: visible(window, InvoiceEditor))
    editor._add_payment()
    dialog = wait_for(qtbot, lambda: visible(editor, PaymentDialog))
    dialog.amount.setText("20")
    assert "8.00 goes to the client's credit" in dialog.hint.text()
    dialog.save()
    qtbot.waitUntil(lambda: editor.invoice.status == "Paid")
    qtbot.waitUntil(lambda: bool(told))
    assert "8.00 went to the client's credit" in told[0]


def test_refund_from_the_transactions_tab(qtbot, window):  # noqa: ANN001
    from billdesk.views.money_dialogs import RefundDialog

    invoice_id = invoicing.create_invoice(window.client_id, [LineInput("Hosting", "10", False)])
    payments.add_payment(invoice_id, "10")
    window.reload_billing()
    window.tabs.setCurrentWidget(window.transactions)
    window.transactions.view.selectRow(0)
    assert window.transactions.refund.isEnabled()
    window.transactions._refund()
    dialog = wait_for(qtbot, lambda: visible(window.transactions, RefundDialog))
    dialog.to_credit.setChecked(True)
    dialog.save()
    qtbot.waitUntil(lambda: invoicing.get_invoice(invoice_id).status == "Refunded")
    qtbot.waitUntil(lambda: window.transactions.model.rowCount() == 2)
    assert str(credit.balance(window.client_id)) == "10.00"
    # the refund names the payment by the number the ID column shows
    from billdesk.views.models.billing_tables import TransactionColumn

    model = window.transactions.model
    shown = {model.index(row, TransactionColumn.ID).data():
             model.index(row, TransactionColumn.DESCRIPTION).data() for row in range(2)}
    refund = next(text for text in shown.values() if text.startswith("Refund"))
    paid_id = next(key for key, text in shown.items() if not text.startswith("Refund"))
    assert f"#{paid_id}" in refund


def test_billing_models_pass_the_model_tester(qtmodeltester, client_book):  # noqa: ANN001
    from billdesk.services import statements
    from billdesk.views.models.billing_tables import (
        CreditLogModel,
        InvoiceTableModel,
        LinesModel,
        StatementModel,
        TransactionTableModel,
    )

    for n in range(3):
        iid = invoicing.create_invoice(client_book, [LineInput(f"Line {n}", "10", True)])
        payments.add_payment(iid, "15")
    invoices = InvoiceTableModel()
    invoices.load(client_book)
    qtmodeltester.check(invoices)
    txns = TransactionTableModel()
    txns.load(client_book)
    qtmodeltester.check(txns)
    log = CreditLogModel()
    log.load(client_book)
    qtmodeltester.check(log)
    st = StatementModel()
    st.set_rows(statements.all_time(client_book).rows)
    qtmodeltester.check(st)
    lines = LinesModel()
    lines.set_lines(invoicing.get_invoice(1).lines)
    qtmodeltester.check(lines)


def test_invoices_tab_pages_through_many_invoices(qtbot, window):  # noqa: ANN001
    from billdesk.models import database

    client_id = window.client_id
    with database.atomic():
        for n in range(450):
            invoicing.create_invoice(client_id, [LineInput("Month", "1", False)], draft=n % 2 == 0)
    window.reload_billing()
    model = window.invoices.model
    assert model.rowCount() == 200 and model.canFetchMore()
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 450 and not model.canFetchMore()
    ids = [model.row(i).id for i in range(450)]
    assert len(set(ids)) == 450
    assert window.invoices.count.text() == "450 invoices"
    window.invoices.status.setCurrentIndex(window.invoices.status.findData("Draft"))
    assert window.invoices.count.text() == "225 invoices"


def test_new_invoice_from_the_main_window_opens_a_draft_for_the_selected_client(qtbot, main_window):  # noqa: ANN001
    from billdesk.views.invoice_editor import InvoiceEditor

    main_window.table.selectRow(0)
    client_id = main_window.model.client_id(0)
    main_window.new_invoice_action.trigger()
    client_window = main_window.client_windows[client_id]
    editor = wait_for(qtbot, lambda: visible(client_window, InvoiceEditor))
    assert editor.client_id == client_id and editor.invoice.status == "Draft"
    editor.close()  # an empty draft left untouched goes away again
    qtbot.waitUntil(lambda: not invoicing.count(client_id, "Draft"))


def test_a_refused_payment_in_the_window_writes_nothing(qtbot, window):  # noqa: ANN001
    from billdesk.models import database
    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.money_dialogs import PaymentDialog

    invoice_id = invoicing.create_invoice(window.client_id, [LineInput("Hosting", "10")])
    window.open_invoice(invoice_id)
    editor = wait_for(qtbot, lambda: visible(window, InvoiceEditor))
    before = list(database.obj.connection().iterdump())
    for amount, fee, message in (("-5", "", "must not be negative"), ("12,x", "", "is not an amount"),
                                 ("5", "6", "is more than the payment")):
        editor._add_payment()
        dialog = wait_for(qtbot, lambda: visible(editor, PaymentDialog))
        dialog.amount.setText(amount)
        dialog.form.fields["fee"].widget.setText(fee)
        dialog.save()
        field = "fee" if fee else "amount"
        problem = dialog.form.fields[field].problem
        qtbot.waitUntil(lambda: problem.isVisible())
        assert message in problem.text()
        dialog.form.fields[field].widget.setText("3")  # changed: the old words go
        assert not problem.isVisible() and problem.text() == ""
        dialog.reject()
        dialog.deleteLater()
        qtbot.waitUntil(lambda: visible(editor, PaymentDialog) is None)
    assert list(database.obj.connection().iterdump()) == before


def test_type_columns_show_their_longest_words_whole(qtbot, window):  # noqa: ANN001
    """The credit log's and the statement's Type columns are as wide as
    their longest type ("Credit removed (deleted)", "Credit entry
    deleted"); the dialogs' amount fields name their currency and what
    the amount is."""
    from billdesk.views.credit_dialog import ManageCreditsDialog
    from billdesk.views.models.billing_tables import CreditColumn, StatementColumn
    from billdesk.views.statement_window import StatementWindow

    credits = ManageCreditsDialog(window.ops, window.client_id, window)
    qtbot.addWidget(credits)
    width = credits.view.horizontalHeader().sectionSize(CreditColumn.KIND)
    assert width >= credits.view.fontMetrics().horizontalAdvance("Balance adjustment (deleted)")
    statement = StatementWindow(window.ops, window.client_id, window)
    qtbot.addWidget(statement)
    width = statement.view.horizontalHeader().sectionSize(StatementColumn.TYPE)
    assert width >= statement.view.fontMetrics().horizontalAdvance("Credit entry deleted")
    from PySide6.QtWidgets import QLabel

    from billdesk.views.money_dialogs import AmountDialog

    credits.show()
    credits._adjust()
    adjust = wait_for(qtbot, lambda: visible(credits, AmountDialog))
    assert "New balance (GBP)" in [label.text() for label in adjust.findChildren(QLabel)]
    adjust.reject()
