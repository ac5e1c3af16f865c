"""The Summary tab's wiring through the real client window (C4; B3, B4,
S8): the billing panel's Place order…, New quote… and Add billable item…
open their dialogs; the Products / services panel counts orders and
current quotes as they change, without reopening the window; the bottom
lists include Current quotes and Queued invoice items; the window has
Orders and Quotes tabs."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from billdesk.services import billable, catalog, orders, quotes
from billdesk.services.quotes import LineInput
from billdesk.views.ops import Changes

from gui_helpers import click, visible, wait_for

TODAY = dt.date.today()


@pytest.fixture
def client_book(client_book: int) -> int:
    catalog.add_product("VPS", currency="GBP", prices={"monthly": "20.00"})
    return client_book


def run(qtbot, window, fn, **changes: bool):  # noqa: ANN001, ANN201
    """A write on the window's database worker, announced as the views
    announce theirs (``Changes`` for this client); its result once done."""
    outcome: list = []
    window.ops.run(fn, changes=Changes(client_id=window.client_id, **changes),
                   on_done=outcome.append, on_error=outcome.append)
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert not isinstance(outcome[0], BaseException), outcome[0]
    return outcome[0]


def counts(window) -> dict[str, str]:  # noqa: ANN001
    """The order and quote figures of the Products / services panel, by objectName."""
    panel = window.summary.counts
    names = ("count_order_active", "count_order_total", "count_quote_active", "count_quote_total")
    return {name: panel.findChild(QLabel, name).text() for name in names}


def test_billing_panel_buttons_open_their_dialogs(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.views.billable_dialog import BillableDialog
    from billdesk.views.order_dialog import OrderDialog
    from billdesk.views.quote_editor import QuoteEditor

    panel = window.summary.billing
    for name, text, kind in (("placeOrder", "Place order…", OrderDialog),
                             ("newQuote", "New quote…", QuoteEditor),
                             ("addBillable", "Add billable item…", BillableDialog)):
        button = panel.findChild(QPushButton, name)
        assert button is not None and button.text() == text
        assert visible(window, kind) is None
        click(qtbot, button)
        dialog = wait_for(qtbot, lambda kind=kind: visible(window, kind))
        assert dialog.client_id == window.client_id, name
        assert "Grace Hopper" in dialog.windowTitle(), name
        dialog.reject()
        qtbot.waitUntil(lambda dialog=dialog: not dialog.isVisible())
    # each for a new record, not an existing one
    assert window.orders.dialog is not None
    assert window.quotes.editor.quote is None
    assert visible(window, BillableDialog) is None


def test_counts_of_orders_and_quotes_follow_without_reopening(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.views.order_dialog import OrderDialog

    panel = window.summary.counts
    assert panel.title() == "Products / services"
    captions = [label.text() for label in panel.findChildren(QLabel)]
    assert "Orders" in captions and "Quotes (current)" in captions
    assert counts(window) == {"count_order_active": "0", "count_order_total": "0",
                              "count_quote_active": "0", "count_quote_total": "0"}

    # an order placed in the dialog the Summary opens: Pending, so not active yet
    click(qtbot, window.summary.billing.findChild(QPushButton, "placeOrder"))
    dialog: OrderDialog = wait_for(qtbot, lambda: visible(window, OrderDialog))
    dialog.product.setCurrentIndex(dialog.product.findData(catalog.find_product("VPS").id))
    with qtbot.waitSignal(dialog.order_placed, timeout=5000) as placed:
        click(qtbot, dialog.place_button)
    order_id = placed.args[0]
    qtbot.waitUntil(lambda: counts(window)["count_order_total"] == "1")
    assert counts(window)["count_order_active"] == "0"
    assert orders.get_order(order_id).status == "Pending"
    # accepted, and a second order, through the services on the worker
    run(qtbot, window, lambda: orders.accept_order(order_id), orders=True, services=True,
        billing=True)
    qtbot.waitUntil(lambda: counts(window)["count_order_active"] == "1")
    run(qtbot, window, lambda: orders.place_order(window.client_id, "VPS", "monthly"),
        orders=True, services=True, billing=True)
    qtbot.waitUntil(lambda: counts(window)["count_order_total"] == "2")
    assert counts(window)["count_order_active"] == "1"

    # quotes: current of all; an expired one counts only in the total
    current = run(qtbot, window, lambda: quotes.create_quote(
        window.client_id, [LineInput("Design", "100")], valid_until=TODAY + dt.timedelta(days=30)),
        quotes=True)
    qtbot.waitUntil(lambda: counts(window)["count_quote_total"] == "1")
    assert counts(window)["count_quote_active"] == "1"
    run(qtbot, window, lambda: quotes.create_quote(
        window.client_id, [LineInput("Old", "10")], date=TODAY - dt.timedelta(days=5),
        valid_until=TODAY - dt.timedelta(days=1)), quotes=True)
    qtbot.waitUntil(lambda: counts(window)["count_quote_total"] == "2")
    assert counts(window)["count_quote_active"] == "1"
    run(qtbot, window, lambda: quotes.set_stage(current, "Lost"), quotes=True)
    qtbot.waitUntil(lambda: counts(window)["count_quote_active"] == "0")
    assert counts(window) == {"count_order_active": "1", "count_order_total": "2",
                              "count_quote_active": "0", "count_quote_total": "2"}


def test_bottom_lists_show_current_quotes_and_queued_items(qtbot, window) -> None:  # noqa: ANN001
    summary = window.summary
    lists = summary.lists
    titles = [lists.tabText(i) for i in range(lists.count())]
    assert "Current quotes" in titles and "Queued invoice items" in titles
    assert lists.widget(titles.index("Current quotes")) is summary.current_quotes
    assert lists.widget(titles.index("Queued invoice items")) is summary.queued

    # a billable item for the next invoice run is listed as queued
    lists.setCurrentWidget(summary.queued)
    queued = summary.queued
    assert queued.isVisible() and queued.items_model.rowCount() == 0
    assert queued.items_empty.isVisible()
    item_id = run(qtbot, window, lambda: billable.add_item(
        window.client_id, description="Migration work", amount="100", action="next"),
        billable=True)
    qtbot.waitUntil(lambda: queued.items_model.rowCount() == 1)
    assert queued.items_model.index(0, 0).data() == "Migration work"
    assert queued.items_model.index(0, 2).data() == "next run"
    assert queued.items_model.item(0).id == item_id
    assert queued.items_view.isVisible() and not queued.items_empty.isVisible()

    # a current quote is listed; a lost one is not
    lists.setCurrentWidget(summary.current_quotes)
    assert summary.current_quotes.records() == []
    quote_id = run(qtbot, window, lambda: quotes.create_quote(
        window.client_id, [LineInput("Design", "100")], subject="Website",
        valid_until=TODAY + dt.timedelta(days=30)), quotes=True)
    run(qtbot, window, lambda: quotes.create_quote(
        window.client_id, [LineInput("Other", "5")], stage="Lost"), quotes=True)
    qtbot.waitUntil(lambda: [q.id for q in summary.current_quotes.records()] == [quote_id])
    assert summary.current_quotes.view.isVisible()
    assert lists.tabText(lists.indexOf(summary.current_quotes)) == "Current quotes (1)"


def test_orders_and_quotes_tabs_are_in_the_tab_bar(qtbot, window) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt

    bar = window.tabs.tabBar()
    titles = [bar.tabText(i) for i in range(bar.count())]
    for title, tab in (("Orders", window.orders), ("Quotes", window.quotes)):
        assert title in titles
        index = titles.index(title)
        assert window.tabs.widget(index) is tab
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
        assert window.tabs.currentWidget() is tab and tab.isVisible()


def test_the_window_fits_a_laptop_screen_and_the_summary_scrolls(qtbot, window) -> None:  # noqa: ANN001
    """A 768-pixel screen leaves about 700 pixels for a window: the client
    window goes that short, and the Summary tab then scrolls to its bulk
    actions instead of the window running off the screen."""
    from PySide6.QtWidgets import QScrollArea

    assert window.minimumSizeHint().height() <= 600
    scroll = window.summary.findChild(QScrollArea, "summaryScroll")
    window.resize(1120, 1000)
    wait_for(qtbot, lambda: window.height() == 1000)
    assert scroll.verticalScrollBar().maximum() == 0  # room enough: nothing to scroll
    window.resize(1120, 600)
    wait_for(qtbot, lambda: window.height() == 600 and scroll.verticalScrollBar().maximum() > 0)
    bulk = window.summary.lists
    scroll.ensureWidgetVisible(bulk, 0, 0)
    top = bulk.mapTo(scroll.widget(), bulk.rect().bottomLeft()).y() - scroll.verticalScrollBar().value()
    assert top <= scroll.viewport().height()  # the lists' bottom (bulk actions) is in view


def test_the_log_gives_its_free_width_to_what_changed(qtbot, window) -> None:  # noqa: ANN001
    """Log: "What" (the messages, the long part) takes the width left;
    the values and the reason, often empty, keep theirs."""
    from billdesk.views.models.simple_tables import LogColumn

    window.resize(1120, 800)
    window.tabs.setCurrentWidget(window.log)
    window.log.load()
    header = window.log.view.horizontalHeader()
    wait_for(qtbot, lambda: header.sectionSize(LogColumn.WHAT) > 300)
    assert all(header.sectionSize(LogColumn.WHAT) > header.sectionSize(c)
               for c in LogColumn if c != LogColumn.WHAT)
    assert header.sectionSize(LogColumn.REASON) == 160


def test_last_activity_follows_a_payment(qtbot, window) -> None:  # noqa: ANN001
    """Other information → Last activity moves when money moves (its newest
    log entry), not only when the client's own details are edited."""
    from billdesk.models import Client, ClientLog
    from billdesk.services import invoicing
    from billdesk.services.invoicing import LineInput

    client_id = window.client_id
    Client.update(updated_at="2020-01-01 00:00:00").where(Client.id == client_id).execute()
    ClientLog.update(at="2020-01-01 00:00:00").where(ClientLog.client == client_id).execute()
    window.reload()
    label = window.summary.other_labels["activity"]
    assert label.text() == "2020-01-01 00:00"
    window.ops.run(lambda: invoicing.create_invoice(client_id, [LineInput("Hosting", "10.00")]),
                   changes=Changes(billing=True, client_id=client_id))
    wait_for(qtbot, lambda: not label.text().startswith("2020"))
    from billdesk import clock

    assert label.text()[:10] == clock.now().date().isoformat()


def test_contacts_say_what_a_contact_is_while_there_is_none(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.views.models.simple_tables import ContactColumn

    window.resize(1120, 800)
    tab = window.contacts
    window.tabs.setCurrentWidget(tab)
    tab.load()
    assert tab.model.rowCount() == 0
    assert tab.view.placeholder.startswith("No contacts yet. Add contact adds")
    header = tab.view.horizontalHeader()
    wait_for(qtbot, lambda: header.sectionSize(ContactColumn.CATEGORIES) > 200)
    assert header.sectionSize(ContactColumn.NAME) == 170  # not squeezed to its header


@pytest.mark.parametrize("client_fields", [{
    "email": "accounts.payable.department@a-very-long-company-name-holdings.example.co.uk",
    "company": "Supercalifragilisticexpialidocious-International-Holdings"}])
def test_a_long_address_is_shortened_not_cut(qtbot, window) -> None:  # noqa: ANN001
    """Client information: an email or a company wider than the panel ends
    in "…" (an address in its middle), the window as wide as before; the
    whole text stays in the tooltip."""
    window.resize(1120, 760)
    info = window.summary.info
    wait_for(qtbot, lambda: info.isVisible() and "…" in info.text())
    metrics = info.fontMetrics()
    width = info.contentsRect().width()
    assert all(metrics.horizontalAdvance(word) <= width
               for line in info.text().split("\n") for word in line.split(" "))
    shortened = next(line for line in info.text().split("\n") if line.startswith("Email: "))[7:]
    assert shortened.startswith("accounts.") and shortened.endswith(".co.uk")  # the middle goes
    assert "accounts.payable.department@a-very-long-company-name-holdings.example.co.uk" in (
        info.toolTip())
    assert window.width() == 1120
    company = "Supercalifragilisticexpialidocious-International-Holdings"
    assert company not in info.text() and "\nSupercalifragilistic" in info.text()
    window.resize(1800, 760)  # the panel wider: the company fits, the address still not
    wait_for(qtbot, lambda: company in info.text())
    assert "department…" in info.text() or "…" in info.text().split("\n")[-1]


def test_the_bulk_actions_are_in_view_on_a_laptop_screen(qtbot, window) -> None:  # noqa: ANN001
    """At 1280×760 with five recent emails the Summary's panels are tall:
    the compact list's actions sit above its rows, so they are in view
    without scrolling (below the rows they were off the bottom)."""
    from PySide6.QtWidgets import QScrollArea

    from billdesk.services import mail

    for n in range(5):
        run(qtbot, window, lambda n=n: mail.queue_message(window.client_id, subject=f"Note {n}",
                                                          body="Hello"), emails=True)
    window.resize(1280, 760)
    scroll = window.summary.findChild(QScrollArea, "summaryScroll")
    wait_for(qtbot, lambda: window.height() == 760 and "Note 4" in
             window.summary.recent.list.text())
    bar = window.summary.lists.services.check_all
    assert scroll.verticalScrollBar().value() == 0
    bottom = bar.mapTo(scroll.widget(), bar.rect().bottomLeft()).y()
    assert bottom <= scroll.viewport().height()


def test_empty_tabs_say_why_and_what_to_do(qtbot, window) -> None:  # noqa: ANN001
    """A new client's Orders, Quotes, Emails, Files, Notes and Tickets
    tabs are empty: each says so, and how to add one, in its list; a list
    emptied by its filter says that instead."""
    window.tickets.filter.setCurrentIndex(window.tickets.filter.findData("All"))
    for tab, words in ((window.orders, "Place order…"), (window.quotes, "New quote…"),
                       (window.emails, "Send email…"), (window.files, "Add…"),
                       (window.notes, "Add note"), (window.tickets, "Open ticket…")):
        view = tab.view
        assert view.model().rowCount() == 0
        assert view.placeholder.startswith("No ") and words in view.placeholder, view.placeholder
    window.tickets.filter.setCurrentIndex(window.tickets.filter.findData("Closed"))
    assert window.tickets.view.placeholder.startswith("No closed tickets. All tickets lists")
    window.tickets.filter.setCurrentIndex(window.tickets.filter.findData("All"))


def test_signup_date_and_client_for_are_rows_of_their_own_on_one_line(qtbot, window) -> None:  # noqa: ANN001
    """Other information gives the signup date and how long the client has
    been one (WHMCS's "Client For") on rows of their own, so that neither
    wraps in the narrow column at the window's usual size."""
    from billdesk.models import Client
    from billdesk.views.client_window import _age

    client_id = window.client_id
    Client.update(created_at="2022-07-21 09:00:00").where(Client.id == client_id).execute()
    window.resize(1280, 800)
    window.reload()
    labels = window.summary.other_labels
    assert labels["signup"].text() == "2022-07-21"
    assert labels["client_for"].text() == _age(dt.datetime(2022, 7, 21, 9))
    qtbot.waitUntil(lambda: labels["activity"].isVisible())
    for key in ("signup", "client_for", "activity"):
        label = labels[key]
        assert not label.wordWrap()
        assert label.width() >= label.sizeHint().width(), key
    assert _age(dt.datetime(2022, 7, 21), dt.datetime(2026, 11, 30)) == "4 years, 4 months"
    assert _age(dt.datetime(2026, 11, 18), dt.datetime(2026, 11, 30)) == "12 days"
    assert _age(dt.datetime(2026, 11, 30, 8), dt.datetime(2026, 11, 30, 9)) == "less than a day"
