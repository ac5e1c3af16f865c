"""The client window's Tickets tab (F3) as a user works it: open a ticket
(from the tab and from the Client menu), read its thread, reply as staff
and as the client, close it — the status in the list and the dialog and
the Summary's ticket counts following; the status filter kept; an
archived client's tickets read, not written; the table model under
qtmodeltester."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QSettings, Qt

from billdesk.services import changelog, tickets
from billdesk.views.tickets_tab import (
    OpenTicketDialog,
    TicketColumn,
    TicketDialog,
    TicketsTab,
    TicketTableModel,
)

from gui_helpers import click, type_into, wait_for


def rows(tab) -> list[str]:  # noqa: ANN001
    """The table as shown, top to bottom: subject, priority, status, replies."""
    model = tab.view.model()
    return [" | ".join(model.index(r, c).data() for c in (TicketColumn.SUBJECT,
                                                          TicketColumn.PRIORITY,
                                                          TicketColumn.STATUS,
                                                          TicketColumn.REPLIES))
            for r in range(model.rowCount())]


def summary_counts(window) -> tuple[str, str]:  # noqa: ANN001
    values = window.summary.counts.values
    return values["ticket_active"].text(), values["ticket_total"].text()


def asking(tab: TicketsTab) -> OpenTicketDialog | None:
    """The Open ticket dialog, while it is shown."""
    dialog = tab.open_dialog
    return dialog if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible() \
        else None


def open_one(qtbot, tab: TicketsTab, subject: str, message: str, priority: str = "Medium",
             *, from_client: bool = False) -> OpenTicketDialog:
    """Fill in the Open ticket dialog the tab shows and click Open ticket."""
    dialog = wait_for(qtbot, lambda: asking(tab))
    assert not dialog.ok.isEnabled()  # nothing typed yet
    type_into(qtbot, dialog.subject, subject)
    dialog.priority.setCurrentText(priority)
    dialog.message.setPlainText(message)
    dialog.from_client.setChecked(from_client)
    click(qtbot, dialog.ok)
    wait_for(qtbot, lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
    return dialog


def test_open_a_ticket_and_reply_from_the_client_window(qtbot, window) -> None:  # noqa: ANN001
    tab = window.tickets
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "Tickets"
    assert window.tabs.indexOf(tab) == window.tabs.indexOf(window.emails) + 1
    assert summary_counts(window) == ("0", "0")
    window.tabs.setCurrentWidget(tab)
    assert rows(tab) == [] and tab.count.text() == "0 tickets"
    assert not tab.buttons["viewTicket"].isEnabled()

    click(qtbot, tab.buttons["openTicket"])
    open_one(qtbot, tab, "Mail is down", "No mail since noon.\nPlease look.", "High")
    wait_for(qtbot, lambda: tab.model.rowCount() == 1)
    assert rows(tab) == ["Mail is down | High | Open | 1"]
    assert tab.selected() is not None and tab.selected().subject == "Mail is down"  # the new one
    assert "No mail since noon." in tab.reader.toPlainText()
    wait_for(qtbot, lambda: summary_counts(window) == ("1", "1"))
    ticket_id = tab.selected().id
    assert any(e.message == f"Ticket #{ticket_id} opened: Mail is down"
               for e in changelog.entries(window.client_id))

    # read it and answer
    click(qtbot, tab.buttons["viewTicket"])
    dialog = wait_for(qtbot, lambda: tab.shown_dialog())
    assert isinstance(dialog, TicketDialog)
    assert "Mail is down" in dialog.windowTitle()
    assert "No mail since noon." in dialog.thread.toPlainText()
    assert "Status: Open" in dialog.state.text().replace("<b style='color:#2e7d32'>", "").replace(
        "</b>", "")
    assert not dialog.send.isEnabled()
    dialog.reply_text.setPlainText("The relay is fixed, try again.")
    assert dialog.send.isEnabled()
    click(qtbot, dialog.send)
    wait_for(qtbot, lambda: tickets.get(ticket_id).status == "Answered")
    wait_for(qtbot, lambda: rows(tab) == ["Mail is down | High | Answered | 2"])
    wait_for(qtbot, lambda: "The relay is fixed" in dialog.thread.toPlainText())
    assert dialog.reply_text.toPlainText() == ""  # sent, the box is empty again
    assert "Answered" in dialog.state.text()

    # what the client said on the phone
    dialog.reply_text.setPlainText("Works now, thanks!")
    dialog.as_client.setChecked(True)
    click(qtbot, dialog.send)
    wait_for(qtbot, lambda: rows(tab) == ["Mail is down | High | Customer reply | 3"])
    wait_for(qtbot, lambda: "Works now, thanks!" in dialog.thread.toPlainText())
    assert "Grace Hopper (Client)" in dialog.thread.toPlainText()
    assert not dialog.as_client.isChecked()
    detail = tickets.get(ticket_id)
    assert [(r.author, r.message) for r in detail.replies] == [
        ("staff", "No mail since noon.\nPlease look."),
        ("staff", "The relay is fixed, try again."), ("client", "Works now, thanks!")]
    assert summary_counts(window) == ("1", "1")

    # close it from the dialog: the Summary counts it no more as active
    click(qtbot, dialog.close_ticket)
    wait_for(qtbot, lambda: rows(tab) == ["Mail is down | High | Closed | 3"])
    wait_for(qtbot, lambda: summary_counts(window) == ("0", "1"))
    wait_for(qtbot, lambda: not dialog.close_ticket.isEnabled())
    assert tickets.get(ticket_id).status == "Closed"
    assert any(e.describe() == f"Ticket #{ticket_id} status: Customer reply → Closed"
               for e in changelog.entries(window.client_id))
    dialog.close()


def test_reply_and_close_at_once_and_priority_from_the_dialog(qtbot, window) -> None:  # noqa: ANN001
    ticket_id = tickets.open_ticket(window.client_id, subject="Backups", message="Restore").id
    window.reload()
    tab = window.tickets
    window.tabs.setCurrentWidget(tab)
    assert tab.select(ticket_id)
    dialog = tab.show_ticket(ticket_id)
    dialog.priority.setCurrentText("Low")
    dialog.priority.activated.emit(dialog.priority.currentIndex())
    wait_for(qtbot, lambda: tickets.get(ticket_id).ticket.priority == "Low")
    dialog.reply_text.setPlainText("Restored, closing.")
    dialog.status.setCurrentIndex(dialog.status.findData("Closed"))
    wait_for(qtbot, lambda: dialog.send.isEnabled())  # once the priority is saved
    assert dialog.priority.currentText() == "Low"
    click(qtbot, dialog.send)
    wait_for(qtbot, lambda: rows(tab) == ["Backups | Low | Closed | 2"])
    wait_for(qtbot, lambda: summary_counts(window) == ("0", "1"))
    dialog.close()


def test_open_ticket_from_the_client_menu_and_close_from_the_list(qtbot, window) -> None:  # noqa: ANN001
    tab = window.tickets
    action = window.open_ticket_action
    assert action in window.client_menu.actions()
    action.trigger()
    assert window.tabs.currentWidget() is tab
    open_one(qtbot, tab, "Invoice question", "Why two lines?", from_client=True)
    wait_for(qtbot, lambda: rows(tab) == ["Invoice question | Medium | Open | 1"])
    [record] = tickets.list_tickets(window.client_id)
    assert record.last_reply_by == "client"
    assert tab.selected_id() == record.id
    click(qtbot, tab.buttons["closeTicket"])
    wait_for(qtbot, lambda: rows(tab) == ["Invoice question | Medium | Closed | 1"])
    assert not tab.buttons["closeTicket"].isEnabled()  # closed already


def test_a_refused_ticket_keeps_the_dialog_and_says_why(qtbot, window, answers) -> None:  # noqa: ANN001
    tab = window.tickets
    click(qtbot, tab.buttons["openTicket"])
    dialog = wait_for(qtbot, lambda: asking(tab))
    type_into(qtbot, dialog.subject, "x" * 300)
    dialog.message.setPlainText("too long a subject")
    click(qtbot, dialog.ok)
    wait_for(qtbot, lambda: answers.said)
    assert answers.said[-1].startswith("Subject: is too long")
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    assert tickets.list_tickets(window.client_id) == []
    dialog.reject()


def test_the_status_filter_shows_some_and_is_kept(qtbot, window) -> None:  # noqa: ANN001
    cid = window.client_id
    open_id = tickets.open_ticket(cid, subject="Still open", message="m").id
    closed_id = tickets.open_ticket(cid, subject="Done with", message="m").id
    tickets.close(closed_id)
    window.reload()
    tab = window.tickets
    assert tab.filter.currentData() == "All"  # the default: all of the client's tickets
    assert sorted(rows(tab)) == ["Done with | Medium | Closed | 1", "Still open | Medium | Open | 1"]
    assert tab.count.text() == "2 tickets, 1 active"
    tab.filter.setCurrentIndex(tab.filter.findData("Active"))
    assert rows(tab) == ["Still open | Medium | Open | 1"]
    assert tab.count.text() == "1 active ticket"
    tab.filter.setCurrentIndex(tab.filter.findData("Closed"))
    assert [tab.model.row(0).id] == [closed_id]
    assert tab.count.text() == "1 ticket (Closed)"
    assert QSettings().value("client/ticketFilter") == "Closed"
    again = TicketsTab(window)  # a new window's tab starts with the kept filter
    again.load()
    assert again.filter.currentData() == "Closed"
    assert [again.model.row(r).id for r in range(again.model.rowCount())] == [closed_id]
    again.deleteLater()
    tab.filter.setCurrentIndex(tab.filter.findData("All"))
    assert tab.model.rowCount() == 2 and open_id in {r.id for r in tab.records()}


def test_an_archived_clients_tickets_are_read_not_written(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.models import Client

    ticket_id = tickets.open_ticket(window.client_id, subject="Old", message="kept").id
    Client.update(archived=True).where(Client.id == window.client_id).execute()
    window.reload()
    tab = window.tickets
    window.tabs.setCurrentWidget(tab)
    assert tab.select(ticket_id)
    assert tab.buttons["viewTicket"].isEnabled()
    assert not any(tab.buttons[k].isEnabled()
                   for k in ("openTicket", "closeTicket", "deleteTicket"))
    assert not window.open_ticket_action.isEnabled()
    assert "kept" in tab.reader.toPlainText()
    where = tab.view.visualRect(tab.view.model().index(0, 1)).center()
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    dialog = wait_for(qtbot, lambda: tab.shown_dialog())  # still read
    assert "kept" in dialog.thread.toPlainText()
    assert not dialog.reply_box.isEnabled() and not dialog.close_ticket.isEnabled()
    assert not dialog.priority.isEnabled()
    dialog.close()
    Client.update(archived=False).where(Client.id == window.client_id).execute()
    window.reload()
    assert tab.buttons["closeTicket"].isEnabled() and window.open_ticket_action.isEnabled()


def test_delete_a_ticket_after_asking(qtbot, window, answers) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QMessageBox

    ticket_id = tickets.open_ticket(window.client_id, subject="Spam", message="m").id
    window.reload()
    tab = window.tickets
    assert tab.select(ticket_id)
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, tab.buttons["deleteTicket"])
    assert "Delete ticket #" in answers.said[-1] and tab.model.rowCount() == 1
    click(qtbot, tab.buttons["deleteTicket"])
    wait_for(qtbot, lambda: tab.model.rowCount() == 0)
    wait_for(qtbot, lambda: summary_counts(window) == ("0", "0"))
    assert tickets.list_tickets(window.client_id) == []


def test_the_model_passes_the_model_tester(qtmodeltester, client_book) -> None:  # noqa: ANN001
    first = tickets.open_ticket(client_book, subject="One", message="m", priority="High").id
    tickets.open_ticket(client_book, subject="Two", message="m", author="client")
    tickets.close(first)
    model = TicketTableModel()
    model.load(client_book)
    assert model.rowCount() == 2
    qtmodeltester.check(model)
