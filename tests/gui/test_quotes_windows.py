"""Quotes through the windows (B4; acceptance 6): the Quotes tab and its
editor, standalone with an owner as the client window gives it — new quote
with lines whose totals follow the typing, convert to an invoice (once),
refusals beside their field, the stage filter, PDF, delete, the Summary
tab's current quotes; plus the table models under qtmodeltester."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from billdesk.models import Invoice
from billdesk.money import Money
from billdesk.services import billing_settings, invoicing, quotes
from billdesk.services.quotes import LineInput
from billdesk.views.models.quote_tables import QuoteColumn, QuoteLineColumn

from gui_helpers import shown

TODAY = dt.date.today()


@pytest.fixture
def client_book(client_book: int) -> int:
    billing_settings.add_tax_rule(1, "VAT", "20")
    return client_book


class FakeOwner:
    """What the client window gives its tabs: the client, the worker, and
    a way to open invoices (recorded here)."""

    def __init__(self, client_id: int, ops) -> None:  # noqa: ANN001
        self.client_id = client_id
        self.ops = ops
        self.opened: list[int] = []

    def open_invoice(self, invoice_id: int) -> None:
        self.opened.append(invoice_id)


@pytest.fixture
def owner(client_ops, client_book: int) -> FakeOwner:  # noqa: ANN001
    return FakeOwner(client_book, client_ops)


@pytest.fixture
def tab(qtbot, owner):  # noqa: ANN001, ANN201
    from billdesk.views.quotes_tab import QuoteList

    return shown(qtbot, QuoteList(owner))


def type_cell(editor, row: int, column: int, text: str) -> None:  # noqa: ANN001
    """Type into a line's cell as the delegate commits it."""
    model = editor.lines
    assert model.setData(model.index(row, column), text, Qt.ItemDataRole.EditRole)


def figure(editor, key: str) -> str:  # noqa: ANN001
    return editor.figures[key].text().replace("<b>", "").replace("</b>", "")


def money(text: str) -> str:
    from billdesk.views import fmt

    return fmt.money(Money.of(text, "GBP"))


def row_of(tab, quote_id: int) -> int:  # noqa: ANN001
    row = tab.model.row_of(quote_id)
    assert row is not None
    return row


def test_new_quote_then_convert_to_an_invoice_through_the_windows(qtbot, tab, owner, answers):
    """Acceptance 6: a quote made in the editor becomes one invoice with the
    same lines and tax; the second conversion is refused."""
    from billdesk.views.quote_editor import QuoteEditor

    qtbot.mouseClick(tab.buttons["newQuote"], Qt.MouseButton.LeftButton)
    editor = tab.editor
    assert isinstance(editor, QuoteEditor) and editor.isVisible()
    editor.subject.widget.setText("New website")
    editor.stage.widget.setCurrentText("Delivered")
    editor.proposal.widget.setPlainText("Six weeks of work.")

    # the first line: the totals follow the typing
    qtbot.mouseClick(editor.add_line_button, Qt.MouseButton.LeftButton)
    editor.lines_view.closePersistentEditor(editor.lines_view.currentIndex())
    type_cell(editor, 0, QuoteLineColumn.DESCRIPTION, "Design")
    type_cell(editor, 0, QuoteLineColumn.UNIT_PRICE, "1000")
    assert figure(editor, "subtotal") == money("1000")
    assert figure(editor, "tax1") == money("200")
    assert figure(editor, "total") == money("1200")
    # a second, untaxed line with quantity and discount
    qtbot.mouseClick(editor.add_line_button, Qt.MouseButton.LeftButton)
    editor.lines_view.closePersistentEditor(editor.lines_view.currentIndex())
    type_cell(editor, 1, QuoteLineColumn.DESCRIPTION, "Hosting")
    type_cell(editor, 1, QuoteLineColumn.QUANTITY, "12")
    type_cell(editor, 1, QuoteLineColumn.UNIT_PRICE, "10")
    type_cell(editor, 1, QuoteLineColumn.DISCOUNT, "10")
    editor.lines.setData(editor.lines.index(1, QuoteLineColumn.TAXED),
                         Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert editor.lines.index(1, QuoteLineColumn.AMOUNT).data() == money("108")
    assert figure(editor, "subtotal") == money("1108")
    assert figure(editor, "total") == money("1308")

    with qtbot.waitSignal(editor.saved, timeout=5000) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    quote_id = saved.args[0]
    qtbot.waitUntil(lambda: tab.model.row_of(quote_id) is not None, timeout=5000)
    assert not editor.isVisible()
    q = quotes.get_quote(quote_id)
    assert (q.subject, q.stage, q.proposal, q.total) == (
        "New website", "Delivered", "Six weeks of work.", Money.of("1308", "GBP"))
    assert tab.selected() is not None and tab.selected().id == quote_id
    assert tab.buttons["convertQuote"].isEnabled()

    # convert: confirmed, then "Open" the invoice
    qtbot.mouseClick(tab.buttons["convertQuote"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(owner.opened), timeout=5000)
    invoice_id = owner.opened[0]
    inv = invoicing.get_invoice(invoice_id)
    assert inv.status == "Unpaid" and inv.number
    assert [(ln.amount, ln.taxed) for ln in inv.lines] == [(ln.amount, ln.taxed) for ln in q.lines]
    assert (inv.subtotal, inv.tax, inv.total) == (q.subtotal, q.tax, q.total)
    assert f"converted to invoice {inv.label}" in tab.last_report
    qtbot.waitUntil(lambda: tab.model.record(row_of(tab, quote_id)).stage == "Accepted",
                    timeout=5000)
    tab.select(quote_id)
    row = tab.proxy.mapFromSource(tab.model.index(row_of(tab, quote_id), QuoteColumn.INVOICE)).row()
    assert tab.proxy.index(row, QuoteColumn.INVOICE).data() == inv.label
    # a second conversion is refused: the button is off, and the action says so
    assert not tab.buttons["convertQuote"].isEnabled()
    tab.convert_selected()
    assert "already converted" in answers.said[-1]
    assert Invoice.select().where(Invoice.client == owner.client_id).count() == 1

    # the converted quote opens with its lines locked
    tab.edit_selected()
    locked = tab.editor
    assert locked.lines.read_only and not locked.add_line_button.isEnabled()
    assert locked.converted_note.isVisible() and inv.label in locked.converted_note.text()
    locked.reject()


def test_refused_input_is_shown_beside_its_field(qtbot, tab, owner, answers):
    tab.new_quote()
    editor = tab.editor
    editor.add_line()  # left empty: not a line, nothing said of it
    editor.lines_view.closePersistentEditor(editor.lines_view.currentIndex())
    editor.add_line()
    editor.lines_view.closePersistentEditor(editor.lines_view.currentIndex())
    type_cell(editor, 1, QuoteLineColumn.DESCRIPTION, "Design")
    type_cell(editor, 1, QuoteLineColumn.QUANTITY, "0")
    type_cell(editor, 1, QuoteLineColumn.UNIT_PRICE, "ten")
    editor.valid_until.widget.setDate(editor.date.widget.date().addDays(-1))
    editor.save()
    qtbot.waitUntil(lambda: editor.lines_problem.isVisible(), timeout=5000)
    assert "Line 2 qty" in editor.lines_problem.text()  # the row on screen
    assert "Line 2 unit price" in editor.lines_problem.text()
    assert "Line 1" not in editor.lines_problem.text()
    assert editor.lines.problems[(1, QuoteLineColumn.QUANTITY)] == "must be more than 0"
    assert editor.lines.index(1, QuoteLineColumn.UNIT_PRICE).data(Qt.ItemDataRole.ToolTipRole)
    assert editor.valid_until.problem.isVisible()
    assert "before the quote date" in editor.valid_until.problem.text()
    assert editor.isVisible() and editor.save_button.isEnabled()
    assert quotes.count(owner.client_id) == 0
    # put right, it saves
    type_cell(editor, 1, QuoteLineColumn.QUANTITY, "2")
    type_cell(editor, 1, QuoteLineColumn.UNIT_PRICE, "10")
    editor.valid_until.widget.setDate(editor.date.widget.date().addDays(10))
    with qtbot.waitSignal(editor.saved, timeout=5000):
        editor.save()
    assert quotes.list_quotes(owner.client_id)[0].total == Money.of("24", "GBP")


def test_edit_stage_filter_pdf_and_delete(qtbot, tab, owner, answers, monkeypatch, tmp_path):
    a = quotes.create_quote(owner.client_id, [LineInput("A", "10", taxed=True)], subject="Alpha")
    b = quotes.create_quote(owner.client_id, [LineInput("B", "20")], subject="Beta",
                            stage="Lost")
    tab.load()
    assert tab.model.rowCount() == 2 and tab.count.text() == "2 quotes"
    tab.stage_filter.setCurrentText("Lost")
    assert [r.id for r in tab.model.records()] == [b]
    assert tab.count.text() == "1 of 2 quotes"
    tab.stage_filter.setCurrentIndex(0)
    assert tab.model.rowCount() == 2

    # edit: change the subject and the stage
    assert tab.select(a)
    tab.edit_selected()
    editor = tab.editor
    assert [ln.description for ln in editor.lines.lines()] == ["A"]
    editor.subject.widget.setText("Alpha 2")
    editor.stage.widget.setCurrentText("On hold")
    with qtbot.waitSignal(editor.saved, timeout=5000):
        editor.save()
    qtbot.waitUntil(lambda: tab.model.record(row_of(tab, a)).subject == "Alpha 2", timeout=5000)
    assert quotes.get_quote(a).stage == "On hold"

    # PDF
    target = tmp_path / "quote.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(target), "PDF files (*.pdf)"))
    tab.select(a)
    tab.save_pdf()
    qtbot.waitUntil(target.exists, timeout=5000)
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert "Quote" in text and "Alpha 2" in text and "On hold" in text

    # delete, after a confirmation; "No" keeps it
    tab.select(b)
    answers.replies = [QMessageBox.StandardButton.No]
    tab.delete_selected()
    assert quotes.count(owner.client_id) == 2
    tab.select(b)
    tab.delete_selected()
    qtbot.waitUntil(lambda: tab.model.row_of(b) is None, timeout=5000)
    assert "Delete quote" in answers.said[-1] and quotes.count(owner.client_id) == 1


def test_current_quotes_on_the_summary(qtbot, owner):
    from billdesk.views.quotes_tab import CurrentQuotes

    standalone = CurrentQuotes()
    qtbot.addWidget(standalone)
    standalone.load(owner.client_id)
    assert not standalone.records() and standalone.title() == "Current quotes"

    current = quotes.create_quote(owner.client_id, [LineInput("A", "10")], valid_until=TODAY)
    quotes.create_quote(owner.client_id, [LineInput("B", "10")], date=TODAY - dt.timedelta(days=5),
                        valid_until=TODAY - dt.timedelta(days=1))
    quotes.create_quote(owner.client_id, [LineInput("C", "10")], stage="Dead")
    standalone.load(owner.client_id)
    assert [q.id for q in standalone.records()] == [current]
    assert standalone.title() == "Current quotes (1)"

    # with an owner it follows the changes made through the worker
    followed = CurrentQuotes(owner)
    qtbot.addWidget(followed)
    assert [q.id for q in followed.records()] == [current]
    from billdesk.views.ops import Changes

    with qtbot.waitSignal(owner.ops.changed, timeout=5000):
        owner.ops.run(lambda: quotes.set_stage(current, "Lost"),
                      changes=Changes(quotes=True, client_id=owner.client_id))
    assert followed.records() == [] and followed.empty.isVisibleTo(followed)


def test_quote_models_pass_the_model_tester(qtmodeltester, client_book):  # noqa: ANN001
    from billdesk.views.models.quote_tables import QuoteLinesModel, QuoteTableModel

    a = quotes.create_quote(client_book, [LineInput("A", "10", quantity="2", discount="5",
                                                    taxed=True)], subject="x")
    quotes.create_quote(client_book, [LineInput("B", "1")], stage="Lost")
    quotes.convert(a)
    table = QuoteTableModel()
    table.load(client_book)
    assert table.rowCount() == 2
    qtmodeltester.check(table)
    lines = QuoteLinesModel("GBP")
    lines.set_lines(quotes.get_quote(a).lines)
    lines.add_line("C", "abc")
    assert lines.index(0, QuoteLineColumn.AMOUNT).data() != ""
    assert lines.index(1, QuoteLineColumn.AMOUNT).data() == ""
    qtmodeltester.check(lines)
    qtmodeltester.check(QuoteTableModel())
