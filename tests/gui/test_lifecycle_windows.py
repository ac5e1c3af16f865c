"""The client lifecycle in the windows (C7–C12): the Client menu of the
client window, the Merge dialog (find the other client, both profiles side
by side, the profile kept), archiving (the client leaves the list and comes
back under "Show archived"; its window is read-only with a banner), the
confirmation naming what will go before close / delete / anonymize, the
Change currency dialog and the GDPR report."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from billdesk.services import billing_settings, clients, contacts, invoicing
from billdesk.services.invoicing import LineInput

from gui_helpers import click, type_into, visible, wait_for


def add(first: str, last: str, email: str, **more: object) -> int:
    return clients.add_client({"first_name": first, "last_name": last, "email": email,
                               "currency": "USD", "country": "US", **more})


def tick(qtbot, button) -> None:  # noqa: ANN001
    """Click a radio button or checkbox on its indicator (a wide one does
    not toggle when clicked in its empty part)."""
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(6, button.height() // 2))


def listed(main_window, client_id: int) -> bool:  # noqa: ANN001
    """Whether the main list shows the client (after it refreshed)."""
    return main_window.model.row_of(client_id) is not None


def done_box(qtbot):  # noqa: ANN001, ANN201
    """The note a finished action leaves (non-blocking), closed once read."""
    from PySide6.QtWidgets import QApplication

    box = wait_for(qtbot, lambda: next((w for w in QApplication.topLevelWidgets()
                                        if w.objectName() == "lifecycleDone" and w.isVisible()),
                                       None))
    text = f"{box.text()}\n{box.informativeText()}"
    box.close()
    return text


def gone(window) -> bool:  # noqa: ANN001
    return not shiboken6.isValid(window) or not window.isVisible()


def test_merge_two_clients_through_the_dialog(qtbot, main_window, answers) -> None:  # noqa: ANN001
    from billdesk.views.lifecycle_dialogs import MergeDialog

    keeper = add("Kim", "Keeper", "kim@keeper.example")
    other = add("Otto", "Mergee", "otto@mergee.example", company="Mergee Ltd",
                phone="+1 555 0100")
    contacts.add_contact(other, {"first_name": "Olga", "last_name": "Mergee",
                                 "email": "olga@mergee.example"})
    main_window.model.refresh()
    assert listed(main_window, keeper) and listed(main_window, other)
    window = main_window.open_client(keeper)
    other_window = main_window.open_client(other)
    qtbot.waitExposed(window)

    assert window.merge_action in window.client_menu.actions()
    assert window.other_actions.menu() is window.client_menu  # the Summary tab's button
    window.merge_action.trigger()
    dialog = wait_for(qtbot, lambda: visible(window, MergeDialog))
    assert not dialog.ok.isEnabled()  # nobody chosen yet
    type_into(qtbot, dialog.search, "mergee ltd")  # by company
    wait_for(qtbot, lambda: dialog.results.count() > 0
             and dialog.results.item(0).data(Qt.ItemDataRole.UserRole) == other)
    dialog.results.setCurrentRow(0)
    # both profiles side by side
    assert dialog.values[("display_name", 1)].text().endswith("Kim Keeper")
    assert "Otto Mergee" in dialog.values[("display_name", 2)].text()
    assert "otto@mergee.example" in dialog.values[("email", 2)].text()
    assert "1 contact." in dialog.moves.text()
    assert not dialog.conflict.isVisible()
    assert "backup" in dialog.findChild(type(dialog.moves), "backupNote").text()
    tick(qtbot, dialog.keep_other)  # keep the other client's profile
    assert dialog.keep_source
    assert dialog.ok.text() == f"Merge and remove #{other}"
    click(qtbot, dialog.ok)

    qtbot.waitUntil(lambda: not clients.exists(other), timeout=10000)
    text = done_box(qtbot)
    assert f"#{other} was merged into #{keeper}" in text and "Backup taken first" in text
    # the other client's window went with it, this one shows the kept profile
    qtbot.waitUntil(lambda: gone(other_window))
    assert other not in main_window.client_windows
    qtbot.waitUntil(lambda: "otto@mergee.example" in window.summary.info.full_text())
    assert "Mergee" in window.windowTitle(), window.windowTitle()
    assert window.windowTitle().startswith(f"#{keeper} ")
    assert [p.values["email"] for p in contacts.list_contacts(keeper)] == ["olga@mergee.example"]
    assert not listed(main_window, other) and listed(main_window, keeper)


def test_merge_refuses_clients_in_different_currencies(qtbot, main_window) -> None:  # noqa: ANN001
    from billdesk.views.lifecycle_dialogs import MergeDialog

    billing_settings.set_currency_rate("EUR", "0.9")
    euro = add("Erika", "Euro", "erika@euro.example", currency="EUR")
    invoicing.create_invoice(euro, [LineInput("Hosting", "10.00")])
    dollar = add("Dora", "Dollar", "dora@dollar.example")
    window = main_window.open_client(dollar)
    window.merge_action.trigger()
    dialog = wait_for(qtbot, lambda: visible(window, MergeDialog))
    dialog.choose(euro)
    assert dialog.conflict.isVisible()
    assert "EUR" in dialog.conflict.text() and "USD" in dialog.conflict.text()
    assert not dialog.ok.isEnabled()
    dialog.reject()
    assert clients.exists(euro)


def test_archive_leaves_the_list_and_comes_back_under_show_archived(
        qtbot, main_window, answers) -> None:  # noqa: ANN001
    client_id = add("Ari", "Archived", "ari@archive.example")
    main_window.model.refresh()
    assert listed(main_window, client_id)
    window = main_window.open_client(client_id)
    qtbot.waitExposed(window)
    create = window.summary.billing.findChild(QPushButton, "createInvoice")
    assert not window.banner.isVisible() and create.isEnabled()

    assert window.archive_action.text() == "Archive…"
    window.archive_action.trigger()  # asked first, naming what it does (JOURNEYS 6)
    dialog = confirm(qtbot, window)
    what = dialog.what.text()
    assert "hidden from the client list" in what and "read-only" in what
    assert "Unarchive undoes it" in what and "backup" in dialog.backup.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter is Cancel: nothing changes
    qtbot.waitUntil(lambda: gone(dialog))
    assert not clients.is_archived(client_id)
    window.archive_action.trigger()
    click(qtbot, confirm(qtbot, window).ok)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    from billdesk.services import backup

    taken = [b for b in backup.backups() if b.reason == "before-archive"]
    assert len(taken) == 1  # the backup first, named in the status bar
    assert f"backup {taken[0].path.name}" in window.statusBar().currentMessage()
    assert "Archived — read-only" in window.banner.text.text()
    assert clients.is_archived(client_id)
    # gone from the list; the list comes back with it under Show archived
    qtbot.waitUntil(lambda: not listed(main_window, client_id))
    tick(qtbot, main_window.show_archived)
    qtbot.waitUntil(lambda: listed(main_window, client_id))
    index = main_window.model.index(main_window.model.row_of(client_id), 1)
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
    other = main_window.model.index(0 if main_window.model.row_of(client_id) else 1, 1)
    assert other.data(Qt.ItemDataRole.FontRole) is None  # the others look as before

    # read-only: the editing controls are off, the tabs and tables browsable
    assert not create.isEnabled() and create.isVisibleTo(window)
    assert not window.summary.toggles["tax_exempt"].isEnabled()
    assert window.summary.notes.isReadOnly()
    assert not window.profile.form.isEnabled() and not window.profile.save.isEnabled()
    assert not window.contacts.findChild(QPushButton, "addContact").isEnabled()
    assert window.files.read_only and window.notes.read_only  # their own read-only state
    assert window.invoices.view.isEnabled() and window.tabs.isEnabled()
    assert window.invoices.findChild(QPushButton, "openInvoice").parentWidget().isEnabled()
    assert not window.currency_action.isEnabled() and not window.merge_action.isEnabled()
    affiliate = window.summary.affiliate  # not made an affiliate, nor given a referrer, now
    assert not affiliate.menu_action.isEnabled() and "assign" not in affiliate.referred.text()
    assert window.archive_action.text() == "Unarchive"
    window.create_invoice()  # refused with a word, not written
    assert "is archived" in answers.said[-1]
    assert invoicing.count(client_id) == 0
    said = len(answers.said)  # a double-click that would edit (a service) is refused too
    qtbot.mouseDClick(window.services.view.viewport(), Qt.MouseButton.LeftButton)
    assert len(answers.said) == said + 1 and "is archived" in answers.said[-1]

    click(qtbot, window.banner.unarchive)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    assert not clients.is_archived(client_id)
    assert affiliate.menu_action.isEnabled() and "assign" in affiliate.referred.text()
    assert create.isEnabled() and window.profile.form.isEnabled()
    assert not window.files.read_only and not window.notes.read_only
    assert not window.summary.notes.isReadOnly()
    tick(qtbot, main_window.show_archived)
    qtbot.waitUntil(lambda: listed(main_window, client_id))
    index = main_window.model.index(main_window.model.row_of(client_id), 1)
    assert index.data(Qt.ItemDataRole.FontRole) is None


def test_archive_with_open_items_is_refused_with_what_is_open(
        qtbot, main_window, answers) -> None:  # noqa: ANN001
    client_id = add("Opal", "Open", "opal@open.example")
    invoicing.create_invoice(client_id, [LineInput("Hosting", "10.00")])
    window = main_window.open_client(client_id)
    window.archive_action.trigger()  # refused at once, before any question or backup
    box = wait_for(qtbot, lambda: next((w for w in window.findChildren(QMessageBox)
                                        if w.objectName() == "notArchived" and w.isVisible()),
                                       None))
    assert "cannot be archived" in box.text()
    assert "• 1 open invoice" in box.informativeText()
    assert "Close the account" in box.informativeText()
    box.close()
    assert not clients.is_archived(client_id) and not window.banner.isVisible()
    from billdesk.views.lifecycle_dialogs import ConfirmDialog

    assert visible(window, ConfirmDialog) is None


def confirm(qtbot, window):  # noqa: ANN001, ANN201
    from billdesk.views.lifecycle_dialogs import ConfirmDialog

    return wait_for(qtbot, lambda: visible(window, ConfirmDialog))


def test_close_account_names_what_goes_then_closes(qtbot, main_window) -> None:  # noqa: ANN001
    client_id = add("Cleo", "Closing", "cleo@close.example")
    invoice_id = invoicing.create_invoice(client_id, [LineInput("Hosting", "12.50")])
    window = main_window.open_client(client_id)

    window.close_action.trigger()
    dialog = confirm(qtbot, window)
    what = dialog.what.text()
    assert "status Closed" in what and "1 unpaid invoice cancelled" in what
    assert "USD 12.50" in what
    assert "backup" in dialog.backup.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter is Cancel: nothing changes
    qtbot.waitUntil(lambda: gone(dialog))
    assert clients.get_values(client_id)["status"] == "Active"

    window.close_action.trigger()
    dialog = confirm(qtbot, window)
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: clients.get_values(client_id)["status"] == "Closed", timeout=10000)
    text = done_box(qtbot)
    assert "1 invoice cancelled" in text and "Backup taken first" in text
    from billdesk.services import backup

    name = text.rsplit("Backup taken first: ", 1)[1].split(" (File → Backups…)")[0]
    assert (backup.book_folder() / name).is_file()
    assert invoicing.get_invoice(invoice_id).status == "Cancelled"
    qtbot.waitUntil(lambda: "Closed" in window.summary.other_labels["status"].text())


def test_delete_client_asks_then_the_window_closes(qtbot, main_window, answers) -> None:  # noqa: ANN001
    client_id = add("Dee", "Leted", "dee@delete.example")
    contacts.add_contact(client_id, {"first_name": "Dan", "last_name": "Leted",
                                     "email": "dan@delete.example"})
    main_window.model.refresh()
    window = main_window.open_client(client_id)
    window.profile.form.form.fields["phone"].widget.setText("+1 555 0199")  # typing left
    assert window.profile.dirty

    window.delete_action.trigger()
    dialog = confirm(qtbot, window)
    assert "is deleted with everything of theirs" in dialog.what.text()
    assert "<li>1 contact</li>" in dialog.what.text()
    assert dialog.option is not None and "transactions" in dialog.option.text()
    assert "cannot be undone" in dialog.findChild(type(dialog.what), "warning").text()
    with_text = dialog.what.text()
    dialog.option.setChecked(True)  # the text follows the choice (same here: no transactions)
    assert dialog.ticked and dialog.what.text() == with_text
    dialog.option.setChecked(False)
    click(qtbot, dialog.ok)
    assert "not saved" in answers.said[-1]  # the typing left: dropped on Yes
    qtbot.waitUntil(lambda: not clients.exists(client_id), timeout=10000)
    text = done_box(qtbot)
    assert "is deleted" in text and "Backup taken first" in text
    assert "The deletion is in Clients → Activity log." in text
    qtbot.waitUntil(lambda: gone(window))  # closed without asking to save
    assert client_id not in main_window.client_windows
    assert not listed(main_window, client_id)


def test_anonymize_asks_then_shows_the_neutral_profile(qtbot, main_window) -> None:  # noqa: ANN001
    client_id = add("Ann", "Onymous", "ann@private.example", phone="+1 555 0142")
    window = main_window.open_client(client_id)
    window.anonymize_action.trigger()
    dialog = confirm(qtbot, window)
    assert "replaced" in dialog.what.text() and "cannot be undone" in (
        dialog.findChild(type(dialog.what), "warning").text())
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: clients.get_values(client_id)["email"] != "ann@private.example",
                    timeout=10000)
    assert "anonymized" in done_box(qtbot)
    qtbot.waitUntil(lambda: "ann@private.example" not in window.summary.info.full_text())
    assert clients.get_values(client_id)["phone"] == ""


@pytest.fixture
def client_fields() -> dict:
    return {"currency": "USD", "country": "US"}


def test_currency_fixed_by_invoices_changes_through_the_dialog(
        qtbot, window, client_book) -> None:  # noqa: ANN001
    from billdesk.views.lifecycle_dialogs import CurrencyDialog

    billing_settings.set_currency_rate("EUR", "0.5")
    profile = window.profile
    combo = profile.form.form.fields["currency"].widget
    assert combo.isEnabled() and profile.form.change_currency.isHidden()  # no invoice yet
    invoice_id = invoicing.create_invoice(client_book, [LineInput("Hosting", "10.00")])
    window.reload()
    # read-only in the Profile form once invoices fix it, with the button beside it
    assert not combo.isEnabled() and not profile.form.change_currency.isHidden()
    click(qtbot, profile.form.change_currency)
    dialog = wait_for(qtbot, lambda: visible(window, CurrencyDialog))
    dialog.code.setCurrentIndex(dialog.code.findData("EUR"))
    assert dialog.rate.text().startswith("1 USD = 0.5 EUR")
    assert "$10.00" in dialog.items.text() and "€5.00" in dialog.items.text()
    assert dialog.convert.isChecked() and dialog.ok.isEnabled()
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: clients.client_currency(client_book) == "EUR", timeout=10000)
    invoice = invoicing.get_invoice(invoice_id)
    assert invoice.currency == "EUR" and str(invoice.total.amount) == "5.00"
    qtbot.waitUntil(lambda: combo.currentData() == "EUR")
    assert "USD to EUR" in window.statusBar().currentMessage()


def test_currency_code_only(qtbot, window, client_book) -> None:  # noqa: ANN001
    from billdesk.views.lifecycle_dialogs import CurrencyDialog

    billing_settings.set_currency_rate("EUR", "0.5")
    invoice_id = invoicing.create_invoice(client_book, [LineInput("Hosting", "10.00")])
    window.currency_action.trigger()
    dialog = wait_for(qtbot, lambda: visible(window, CurrencyDialog))
    dialog.code.setCurrentIndex(dialog.code.findData("EUR"))
    tick(qtbot, dialog.code_only)
    assert dialog.code_only.isChecked()
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: clients.client_currency(client_book) == "EUR", timeout=10000)
    assert str(invoicing.get_invoice(invoice_id).total.amount) == "10.00"


def test_gdpr_report_asks_where_and_offers_to_open(qtbot, window, client_book, tmp_path,
                                                   monkeypatch) -> None:  # noqa: ANN001
    asked: list[str] = []
    target = tmp_path / "report.pdf"

    def save_name(_parent, _title, suggested, _filter):  # noqa: ANN001, ANN202
        asked.append(suggested)
        return str(target), "PDF files (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    window.gdpr_action.trigger()
    assert asked and asked[0].endswith(f"client-{client_book}-gdpr.pdf")
    box = wait_for(qtbot, lambda: visible(window, QMessageBox))
    assert box.objectName() == "file_saved" and str(target) in box.informativeText()
    assert box.findChild(QPushButton, "open_file") is not None
    assert target.read_bytes().startswith(b"%PDF")
    box.close()


def test_a_deleted_client_is_in_the_activity_log(qtbot, main_window, answers) -> None:  # noqa: ANN001
    """JOURNEYS 6: a delete "is in the change log" — the client's own log
    goes with it, so the book's Activity log (Clients → Activity log…)
    keeps it: who, when, the name, what went and the backup."""
    from billdesk.views.activity_window import ActivityColumn

    kept = add("Kay", "Kept", "kay@kept.example")
    clients.update_client(kept, {"phone": "+1 555 0100"})
    client_id = add("Dee", "Leted", "dee@delete.example")
    main_window.model.refresh()
    window = main_window.open_client(client_id)
    window.delete_action.trigger()
    click(qtbot, confirm(qtbot, window).ok)
    qtbot.waitUntil(lambda: not clients.exists(client_id), timeout=10000)
    done_box(qtbot)

    main_window.activity_action.trigger()
    log = main_window.activity_window
    assert log.isVisible() and log.show_box.currentData() == "changes"
    texts = [log.model.index(r, ActivityColumn.WHAT).data() for r in range(log.model.rowCount())]
    assert any("+1 555 0100" in t for t in texts)  # every client's changes, the kept one's too
    assert texts[0].startswith("Client deleted:")  # and the deletion, the newest
    log.set_show("book")
    assert log.model.rowCount() == 1
    assert log.model.index(0, ActivityColumn.CLIENT).data() == f"#{client_id} Dee Leted (deleted)"
    what = log.model.index(0, ActivityColumn.WHAT).data()
    assert what.startswith("Client deleted:") and ".sqlite3" in what
    log.view.selectRow(0)
    assert not log.client_button.isEnabled()  # (nothing to open)
    assert log.detail.text() == what  # (whole, where the list may cut it)
    # the changes list opens the client of a row
    log.set_show("people")
    log.view.selectRow(1)
    assert log.client_button.isEnabled()
    click(qtbot, log.client_button)
    assert wait_for(qtbot, lambda: main_window.client_windows.get(log.selected().client_id))
    main_window.close()
    assert not log.isVisible()


def test_names_with_apostrophes_and_ampersands_read_as_typed(qtbot, main_window) -> None:  # noqa: ANN001
    """An escaped name (O&#x27;Brien) shown in a label that does not read
    rich text is a bug: the client window, its invoice editor and the
    merge dialog show "O'Brien" and "O'Neil & Sons" as typed."""
    from PySide6.QtGui import Qt as GuiQt
    from PySide6.QtWidgets import QApplication, QLabel

    from billdesk.views.invoice_editor import InvoiceEditor
    from billdesk.views.lifecycle_dialogs import MergeDialog

    client_id = add("Laura", "O'Brien", "laura@obrien.example", company="O'Neil & Sons")
    other = add("Ann", "Other", "ann@other.example")
    window = main_window.open_client(client_id)
    invoice_id = invoicing.create_invoice(client_id, [LineInput("Hosting", "10.00")])
    window.open_invoice(invoice_id)
    wait_for(qtbot, lambda: visible(window, InvoiceEditor))
    window.merge_action.trigger()
    dialog = wait_for(qtbot, lambda: visible(window, MergeDialog))
    dialog.choose(other)

    def plain(label: QLabel) -> bool:
        return label.textFormat() == Qt.TextFormat.PlainText or (
            label.textFormat() == Qt.TextFormat.AutoText
            and not GuiQt.mightBeRichText(label.text()))

    shown = [label.text() for top in QApplication.topLevelWidgets() if top.isVisible()
             for label in top.findChildren(QLabel) if plain(label)]
    assert any("O'Brien" in text for text in shown)
    assert not [text for text in shown if "&#x27;" in text or "&amp;" in text]
    dialog.reject()
