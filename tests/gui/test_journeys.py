"""The real windows, driven as a user would (JOURNEYS.md 1–3)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from billdesk.models import Client, ClientLog
from billdesk.services import clients, contacts


def _type(qtbot, widget, text: str) -> None:  # noqa: ANN001
    """Type like a user; QTest can only press ASCII keys, so other
    characters go in as a keyboard layout would put them: insert()."""
    widget.clear()
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            widget.insert(char)


def _active_dialog(kind):  # noqa: ANN001, ANN202
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, kind) and widget.isVisible():
            return widget
    return None


def test_add_search_open_edit_and_add_billing_contact(qtbot, main_window):  # noqa: ANN001
    from billdesk.views.client_form import NewClientDialog
    from billdesk.views.contact_dialog import ContactDialog

    # New client (Ctrl+N) → the form
    main_window.new_client_action.trigger()
    dialog = _active_dialog(NewClientDialog)
    assert dialog is not None
    fields = dialog.form.form.fields
    _type(qtbot, fields["first_name"].widget, "Siobhán")
    _type(qtbot, fields["last_name"].widget, "O'Sullivan-Ní")
    _type(qtbot, fields["email"].widget, "siobhan@ceol.example")
    _type(qtbot, fields["phone"].widget, "+353 1 555 0199")
    with qtbot.waitSignal(dialog.client_added, timeout=5000) as added:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    client_id = added.args[0]
    assert clients.get_values(client_id)["email"] == "siobhan@ceol.example"
    # Save opens the client's window on the Summary tab
    qtbot.waitUntil(lambda: client_id in main_window.client_windows)
    window = main_window.client_windows[client_id]
    assert window.tabs.currentWidget() is window.summary
    assert "Siobhán" in window.summary.title.text()
    window.close()

    # Find them: accents and apostrophes do not matter, Enter opens the top hit
    main_window.focus_search()
    _type(qtbot, main_window.search, "siobhan o'sull")
    assert main_window.model.total == 1
    assert main_window.model.client_id(0) == client_id
    qtbot.keyClick(main_window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: client_id in main_window.client_windows)
    window = main_window.client_windows[client_id]

    # Edit a field on the Profile tab, with a reason
    window.tabs.setCurrentWidget(window.profile)
    company = window.profile.form.form.fields["company"].widget
    qtbot.keyClicks(company, "Ceol Teoranta")
    assert window.profile.save.isEnabled()
    window.profile.reason.setText("new letterhead")
    with qtbot.waitSignal(main_window.ops.changed, timeout=5000):
        qtbot.mouseClick(window.profile.save, Qt.MouseButton.LeftButton)
    assert clients.get_values(client_id)["company"] == "Ceol Teoranta"
    # The Log tab shows it, newest first
    log = window.log.model
    qtbot.waitUntil(lambda: log.rowCount() >= 2)
    assert log.index(0, 2).data() == "Company"
    assert log.index(0, 4).data() == "Ceol Teoranta"
    assert log.index(0, 5).data() == "new letterhead"

    # Add a contact and make it the billing contact
    window.tabs.setCurrentWidget(window.contacts)
    qtbot.mouseClick(window.contacts.findChild(type(window.profile.save), "addContact"),
                     Qt.MouseButton.LeftButton)
    contact_dialog = _active_dialog(ContactDialog)
    assert contact_dialog is not None
    cf = contact_dialog.form.fields
    _type(qtbot, cf["first_name"].widget, "Pádraig")
    _type(qtbot, cf["last_name"].widget, "Ó Briain")
    _type(qtbot, cf["email"].widget, "accounts@ceol.example")
    contact_dialog.categories["invoice"].setChecked(True)
    contact_dialog.billing.setChecked(True)
    with qtbot.waitSignal(contact_dialog.saved, timeout=5000):
        qtbot.mouseClick(contact_dialog.save_button, Qt.MouseButton.LeftButton)
    people = contacts.list_contacts(client_id)
    assert [p.name for p in people] == ["Pádraig Ó Briain"]
    assert people[0].is_billing
    assert people[0].values["categories"] == ("general", "invoice")
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() == 1)
    assert "Pádraig" in window.summary.other_labels["billing"].text()


def test_refused_input_shows_beside_the_field_and_writes_nothing(qtbot, main_window):  # noqa: ANN001
    from billdesk.views.client_form import NewClientDialog

    before = Client.select().count()
    existing = clients.get_values(1)["email"]
    main_window.new_client()
    dialog = _active_dialog(NewClientDialog)
    fields = dialog.form.form.fields
    _type(qtbot, fields["first_name"].widget, "Ana")
    _type(qtbot, fields["last_name"].widget, "Núñez")
    _type(qtbot, fields["email"].widget, "not-an-email")
    problem: QLabel = fields["email"].problem
    assert problem.isVisible() and "not a valid email" in problem.text()
    # duplicate email in other case
    _type(qtbot, fields["email"].widget, existing.upper())
    assert "already used by client #1" in problem.text()
    # empty first name
    fields["first_name"].widget.clear()
    _type(qtbot, fields["last_name"].widget, "Núñez")
    assert fields["first_name"].problem.isVisible()
    assert fields["first_name"].problem.text() == "is required"
    # a message of two lines is shown whole: the dialog grows, the label is as tall as its lines
    _type(qtbot, fields["phone"].widget, "abc!!")
    phone = fields["phone"].problem
    assert phone.isVisible() and "is not a phone number" in phone.text()
    qtbot.waitUntil(lambda: phone.height() >= phone.heightForWidth(phone.width()))
    assert phone.heightForWidth(phone.width()) > phone.fontMetrics().height() * 1.5  # 2 lines
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert dialog.isVisible()
    assert Client.select().count() == before
    dialog.reject()


def test_profile_refuses_bad_email_beside_field(qtbot, main_window):  # noqa: ANN001
    window = main_window.open_client(2)
    window.tabs.setCurrentWidget(window.profile)
    email = window.profile.form.form.fields["email"]
    before = clients.get_values(2)
    logged = ClientLog.select().count()
    _type(qtbot, email.widget, "broken@")
    assert email.problem.isVisible()
    qtbot.mouseClick(window.profile.save, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert clients.get_values(2) == before
    assert ClientLog.select().count() == logged


def test_summary_toggles_save_at_once(qtbot, main_window):  # noqa: ANN001
    window = main_window.open_client(3)
    toggle = window.summary.toggles["tax_exempt"]
    was = clients.get_values(3)["tax_exempt"]
    with qtbot.waitSignal(main_window.ops.changed, timeout=5000):
        toggle.click()
    assert clients.get_values(3)["tax_exempt"] is (not was)
    assert window.log.model.index(0, 2).data() == "Tax exempt"


def test_filters_sort_and_arrows(qtbot, main_window):  # noqa: ANN001
    model = main_window.model
    total = model.total
    index = main_window.status_filter.findData("Closed")
    main_window.status_filter.setCurrentIndex(index)
    closed = Client.select().where(Client.status == "Closed").count()
    assert model.total == closed < total
    main_window.status_filter.setCurrentIndex(0)
    assert model.total == total
    # sort by id descending through the header
    main_window.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert model.client_id(0) == max(c.id for c in Client.select(Client.id))
    main_window.focus_search()
    qtbot.keyClick(main_window.search, Qt.Key.Key_Down)
    qtbot.keyClick(main_window.search, Qt.Key.Key_Down)
    assert main_window.table.currentIndex().row() == 1


def test_display_format_setting_changes_names(qtbot, main_window):  # noqa: ANN001
    from billdesk.views.settings_dialog import SettingsDialog

    client_id = clients.add_client({"first_name": "Mei", "last_name": "Chen", "company": "Quill Ltd",
                                    "email": "mei@quill.example"})
    main_window.model.refresh()
    dialog = SettingsDialog(main_window.ops, main_window)
    qtbot.addWidget(dialog)
    dialog.findChild(type(dialog.formats.button(0)), "format_company_or_name").setChecked(True)
    with qtbot.waitSignal(main_window.ops.changed, timeout=5000):
        dialog.save()
    row = main_window.model.row_of(client_id)
    assert row is not None
    assert main_window.model.index(row, 1).data() == "Quill Ltd"


def test_first_run_dialog_creates_company_profile(qtbot, tmp_path):  # noqa: ANN001
    from billdesk.models import close_database, init_db
    from billdesk.services import settings
    from billdesk.views.settings_dialog import FirstRunDialog

    init_db(tmp_path / "new.sqlite3")
    try:
        assert not settings.has_company()
        dialog = FirstRunDialog()
        qtbot.addWidget(dialog)
        dialog.show()
        fields = dialog.company_form.form.fields
        dialog.save()  # nothing typed: refused beside the field
        assert fields["name"].problem.isVisible()
        assert not settings.has_company()
        _type(qtbot, fields["name"].widget, "Zoë's Bakery")
        fields["currency"].set_value("EUR")
        dialog.save()
        assert settings.company().name == "Zoë's Bakery"
        assert settings.default_currency() == "EUR"
    finally:
        close_database()


def test_every_table_model_passes_qtmodeltester(qtmodeltester, main_window):  # noqa: ANN001
    from billdesk.views.groups_dialog import GroupTableModel
    from billdesk.views.models.client_table import ClientTableModel
    from billdesk.views.models.simple_tables import ContactTableModel, LogTableModel

    from billdesk.services.clientlist import ClientQuery

    # Small pages, so the tester also pages through fetchMore. (A fresh model
    # per query: pytest-qt's tester runs its checks on modelReset before it
    # marks the reset done, so it cannot follow a fetchMore model through a
    # reset.)
    for query in (ClientQuery(), ClientQuery(sort="email", descending=True),
                  ClientQuery(search="an"), ClientQuery(search="o'b", status="Active")):
        model = ClientTableModel(page_size=7)
        model.set_query(query)
        qtmodeltester.check(model, force_py=True)
        while model.canFetchMore():  # every page, each insert watched by the tester
            model.fetchMore()
        assert model.rowCount() == model.total
        ids = [model.client_id(row) for row in range(model.rowCount())]
        assert len(set(ids)) == len(ids)
    people = ContactTableModel()
    with_contacts = next(c.id for c in Client.select(Client.id)
                         if contacts.list_contacts(c.id))
    people.load(with_contacts)
    qtmodeltester.check(people, force_py=True)
    log = LogTableModel()
    log.load(1)
    qtmodeltester.check(log, force_py=True)
    group_model = GroupTableModel()
    group_model.load()
    qtmodeltester.check(group_model, force_py=True)


def test_admin_notes_save_and_profile_revert(qtbot, main_window):  # noqa: ANN001
    window = main_window.open_client(4)
    summary = window.summary
    assert not summary.save_notes.isEnabled()
    summary.notes.setPlainText("Call before the 5th.")
    assert summary.save_notes.isEnabled()
    with qtbot.waitSignal(main_window.ops.changed, timeout=5000):
        qtbot.mouseClick(summary.save_notes, Qt.MouseButton.LeftButton)
    assert clients.get_values(4)["notes"] == "Call before the 5th."
    assert window.log.model.index(0, 2).data() == "Admin notes"

    profile = window.profile
    city = profile.form.form.fields["city"].widget
    stored = city.text()
    _type(qtbot, city, "Somewhere else")
    assert profile.revert.isEnabled()
    qtbot.mouseClick(profile.revert, Qt.MouseButton.LeftButton)
    assert city.text() == stored
    assert not profile.save.isEnabled()
    assert clients.get_values(4)["city"] == stored


def test_closing_with_unsaved_edits_asks_and_keeps_them(qtbot, main_window, monkeypatch):  # noqa: ANN001
    from PySide6.QtWidgets import QMessageBox

    answers: list[QMessageBox.StandardButton] = []
    asked: list[str] = []

    def question(parent, title, text, *args):  # noqa: ANN001, ANN202
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    window = main_window.open_client(5)
    city = window.profile.form.form.fields["city"].widget
    _type(qtbot, city, "Unsaved City")
    window.summary.notes.setPlainText("unsaved note")

    answers.append(QMessageBox.StandardButton.Cancel)  # keep editing
    assert not window.close()
    assert "Profile" in asked[0] and "admin notes" in asked[0]
    assert window.isVisible() and city.text() == "Unsaved City"

    answers.append(QMessageBox.StandardButton.Save)  # save, then close
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.close()
    values = clients.get_values(5)
    assert (values["city"], values["notes"]) == ("Unsaved City", "unsaved note")

    window = main_window.open_client(6)
    _type(qtbot, window.profile.form.form.fields["city"].widget, "Thrown away")
    answers.append(QMessageBox.StandardButton.Discard)
    assert window.close()
    assert clients.get_values(6)["city"] != "Thrown away"


def test_an_archived_client_typed_by_id_is_said_so(qtbot, main_window):  # noqa: ANN001
    from billdesk.models import Client

    Client.update(archived=True).where(Client.id == 12).execute()  # (as archive leaves it)
    main_window.search.setText("#12")
    assert main_window.model.rowCount() == 0
    assert main_window.table.placeholder == "Client #12 is archived: tick Show archived to see it."
    main_window.search.setText("12")
    assert main_window.model.rowCount() > 0 and main_window.model.client_id(0) != 12
    assert "Client #12 is archived" in main_window.statusBar().currentMessage()
    main_window.search.setText("zz unrelated")  # the hint was about #12: it goes
    assert "Client #12" not in main_window.statusBar().currentMessage()
    # typed by name, not id: the empty list says an archived client matches
    name = clients.get_values(12)["last_name"]
    others = [c for c in clients_named(name) if c != 12]
    Client.update(archived=True).where(Client.id.in_(others)).execute()
    main_window.search.setText(name)
    assert main_window.model.rowCount() == 0
    assert main_window.table.placeholder.startswith(f"No client matches “{name}” — ")
    assert "tick Show archived to see them" in main_window.table.placeholder
    main_window.show_archived.setChecked(True)
    main_window.search.setText("#12")
    assert main_window.model.rowCount() == 1 and main_window.model.client_id(0) == 12


def clients_named(last_name: str) -> list[int]:
    from billdesk.models import Client

    return [c.id for c in Client.select(Client.id).where(Client.last_name == last_name)]


def test_an_empty_list_says_why(qtbot, main_window):  # noqa: ANN001
    _type(qtbot, main_window.search, "xyzzy nobody")
    assert main_window.model.rowCount() == 0
    assert main_window.table.placeholder == "No client matches “xyzzy nobody”."
    main_window.search.clear()
    assert main_window.model.rowCount() > 0


def test_a_clients_id_typed_in_the_search_picks_that_client(qtbot, main_window):  # noqa: ANN001
    """JOURNEYS 2: "…or id": typing 12 (or #12) selects client #12, though the
    list, by name, also holds others whose phone or id contains 12; Enter
    opens it."""
    from billdesk.views.models import IdRole

    from gui_helpers import wait_for

    def selected() -> int:
        return main_window.table.selectionModel().selectedRows()[0].data(IdRole)

    for typed in ("12", "#12", " 12 "):
        main_window.search.setText(typed)
        assert selected() == 12, typed
    main_window.search.setText("1")
    assert selected() == 1
    assert main_window.model.rowCount() > 1  # (others hold a 1 too)
    qtbot.keyClick(main_window.search, Qt.Key.Key_Return)
    window = wait_for(qtbot, lambda: main_window.client_windows.get(1))
    assert window.client_id == 1
    window.close()
