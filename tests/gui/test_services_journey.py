"""A service group from the dialog to the printed invoice (S7, B2, E5),
all through the windows: the Service groups dialog puts a service in a
group, the Services tab invoices it ("Invoice selected"), the invoice
editor saves the PDF, and the PDF heads the service's line with the
group's name; unless the group is marked "don't show on invoice"."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyleOptionButton,
)

from billdesk.services import invoicing, service_groups, subscriptions

from gui_helpers import click, tree, visible, wait_for

DUE = dt.date.today() + dt.timedelta(days=40)  # far off: invoiced early, on request


@pytest.fixture
def client_fields() -> dict:
    return {"payment_method": "Card"}


@pytest.fixture
def book(client_book: int) -> dict:
    shop = subscriptions.add_service(client_book, name="Web shop hosting", amount="1234.50",
                                     cycle="monthly", next_due=DUE)
    spare = subscriptions.add_service(client_book, name="Spare mailbox", amount="4",
                                      cycle="monthly", next_due=DUE)
    return {"client": client_book, "shop": shop, "spare": spare}


@pytest.fixture
def window(open_window, book, monkeypatch):  # noqa: ANN001, ANN201
    """The client's window; a question is answered without showing (Open, or Yes)."""

    def question(parent, title, text, buttons=None, default=None):  # noqa: ANN001, ANN202
        if buttons is not None and buttons & QMessageBox.StandardButton.Open:
            return QMessageBox.StandardButton.Open
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return open_window()


def click_row(qtbot, view, index) -> None:  # noqa: ANN001
    """Click a row of a table or tree, where the user would see it."""
    assert index.isValid()
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(index).center())


def click_check_box(qtbot, box) -> None:  # noqa: ANN001
    """Click on the box itself (a box without text takes clicks only there)."""
    option = QStyleOptionButton()
    box.initStyleOption(option)
    spot = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxClickRect, option, box)
    assert box.isEnabled()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=spot.center())


def open_groups_dialog(qtbot, window):  # noqa: ANN001, ANN201
    from billdesk.views.service_groups_dialog import ServiceGroupsDialog

    window.tabs.setCurrentWidget(window.services)
    click(qtbot, window.services.buttons["serviceGroups"])
    return wait_for(qtbot, lambda: visible(window.services, ServiceGroupsDialog))


def group_editor(qtbot, dialog):  # noqa: ANN001, ANN201
    from billdesk.views.service_groups_dialog import ServiceGroupEditor

    return wait_for(qtbot, lambda: visible(dialog, ServiceGroupEditor))


def close_dialog(qtbot, dialog) -> None:  # noqa: ANN001
    box = dialog.findChild(QDialogButtonBox)
    click(qtbot, box.button(QDialogButtonBox.StandardButton.Close))
    qtbot.waitUntil(lambda: not dialog.isVisible())


def invoice_and_save_pdf(qtbot, window, item: int, pdf: Path, monkeypatch):  # noqa: ANN001, ANN201
    """Highlight the service ``item`` in the Services tab, "Invoice selected", open the
    invoice (the report's Open), "Save PDF…" to ``pdf``. The editor and the
    PDF's text."""
    from pypdf import PdfReader

    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.models import IdRole
    from billdesk.views.models.service_tables import ServiceColumn

    services = window.services
    window.tabs.setCurrentWidget(services)
    proxy = services.view.model()
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(IdRole) == item)
    assert not services.buttons["invoiceSelected"].isEnabled()  # nothing chosen yet
    click_row(qtbot, services.view, proxy.index(row, ServiceColumn.NAME))
    assert [r.id for r in services.targets()] == [item]
    click(qtbot, services.buttons["invoiceSelected"])
    editor = wait_for(qtbot, lambda: visible(window, InvoiceEditor))

    asked = []

    def save_as(parent, caption, start, filters):  # noqa: ANN001, ANN202
        asked.append(start)
        return str(pdf), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    click(qtbot, editor.pdf_button)
    qtbot.waitUntil(pdf.exists)  # written atomically: there means whole
    assert asked and Path(asked[0]).name.startswith("invoice-")
    # the editor says where it went, with a button that opens it
    notice = wait_for(qtbot, lambda: visible(editor, QMessageBox))
    assert notice.objectName() == "file_saved" and notice.informativeText() == str(pdf)
    assert notice.findChild(QPushButton, "open_file").text() == "Open"
    notice.close()
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return editor, text


def total_in(text: str) -> Decimal:
    found = re.search(r"^Total\s*(.+)$", text, re.MULTILINE)
    assert found, text
    return Decimal(re.sub(r"[^\d.]", "", found.group(1)))


def test_group_made_in_the_dialog_heads_its_line_on_the_invoice_pdf(
        qtbot, window, book, tmp_path, monkeypatch):  # noqa: ANN001
    dialog = open_groups_dialog(qtbot, window)
    assert tree(dialog) == [("Not in a group (2)", ["Web shop hosting", "Spare mailbox"])]

    # a new group, typed into its editor
    click(qtbot, dialog.new_button)
    editor = group_editor(qtbot, dialog)
    qtbot.keyClicks(editor.form.fields["name"].widget, "Shop project")
    assert not editor.form.fields["hide_on_invoice"].widget.isChecked()
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: [title for title, _ in tree(dialog)][0] == "Shop project (0)")
    group = service_groups.list_groups(book["client"])[0]
    assert (group.name, group.hide_on_invoice) == ("Shop project", False)

    # the shop's hosting into it
    click_row(qtbot, dialog.view, dialog.model.item_index(book["shop"]))
    assert dialog.move_button.isEnabled()
    dialog.target.setCurrentIndex(dialog.target.findText("Shop project"))
    click(qtbot, dialog.move_button)
    qtbot.waitUntil(lambda: tree(dialog)[0] == ("Shop project (1)", ["Web shop hosting"]))
    assert tree(dialog)[1] == ("Not in a group (1)", ["Spare mailbox"])
    assert subscriptions.get_service(book["shop"]).group_id == group.id
    close_dialog(qtbot, dialog)
    qtbot.waitUntil(lambda: {r.name: r.group_name for r in window.services.model.records()}
                    == {"Web shop hosting": "Shop project", "Spare mailbox": ""})

    invoice_editor, text = invoice_and_save_pdf(qtbot, window, book["shop"],
                                                tmp_path / "invoice.pdf", monkeypatch)
    invoice = invoicing.get_invoice(invoice_editor.invoice_id)
    assert [(line.link_id, line.group) for line in invoice.lines] == [(book["shop"],
                                                                       "Shop project")]
    description = invoice.lines[0].description
    assert description.startswith("Web shop hosting")
    assert "Shop project" in text and description in text
    assert text.index("Shop project") < text.index(description)  # the heading comes first
    assert "Spare mailbox" not in text  # only what was selected
    assert invoice.total.amount == Decimal("1234.50")
    assert total_in(text) == invoice.total.amount


def test_group_not_shown_on_invoice_leaves_no_heading_in_the_pdf(
        qtbot, window, book, tmp_path, monkeypatch):  # noqa: ANN001
    group_id = service_groups.create_group(book["client"], "Shop project")
    service_groups.move_services([book["shop"]], group_id)
    dialog = open_groups_dialog(qtbot, window)

    # tick "Don't show on invoice" on the group
    click_row(qtbot, dialog.view, dialog.model.group_index(group_id))
    click(qtbot, dialog.edit_button)
    editor = group_editor(qtbot, dialog)
    box = editor.form.fields["hide_on_invoice"].widget
    assert not box.isChecked()
    click_check_box(qtbot, box)
    assert box.isChecked()
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: dialog.model.index(0, 1).data() == "not shown on invoice")
    assert service_groups.get_group(group_id).hide_on_invoice
    close_dialog(qtbot, dialog)

    invoice_editor, text = invoice_and_save_pdf(qtbot, window, book["shop"],
                                                tmp_path / "hidden.pdf", monkeypatch)
    invoice = invoicing.get_invoice(invoice_editor.invoice_id)
    assert [(line.link_id, line.group) for line in invoice.lines] == [(book["shop"], "")]
    assert invoice.lines[0].description in text  # the line is printed …
    assert "Shop project" not in text  # … without its group's name
    assert total_in(text) == invoice.total.amount == Decimal("1234.50")
