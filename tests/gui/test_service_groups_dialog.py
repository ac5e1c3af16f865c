"""The service groups dialog (SPEC.md S7): groups in order with their items,
new / edit / delete / reorder groups, move items in, out and within a
group; refusals beside their field. Plus the Group column of the invoice
editor's lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from billdesk.services import clients, service_groups, subscriptions

from gui_helpers import tree


@pytest.fixture
def book(db_path: Path) -> Iterator[dict]:
    from billdesk.models import close_database, init_db

    init_db(db_path)
    client_id = clients.add_client({"first_name": "Grace", "last_name": "Hopper",
                                    "email": "grace@example.com", "currency": "USD"})
    other = clients.add_client({"first_name": "Alan", "last_name": "Turing",
                                "email": "alan@example.com", "currency": "USD"})
    shop = service_groups.create_group(client_id, "Shop project", "the web shop")
    office = service_groups.create_group(client_id, "Office", hide_on_invoice=True)
    ids = {}
    for name, group in (("Web A", shop), ("Web B", shop), ("Web C", shop), ("Mail", office),
                        ("VPS", None)):
        ids[name] = subscriptions.add_service(client_id, name=name, amount="10", cycle="monthly",
                                              next_due="2030-01-15", group_id=group)
    ids["example.com"] = subscriptions.add_domain(client_id, "example.com", amount="12")
    service_groups.create_group(other, "Not yours")
    yield {"client": client_id, "shop": shop, "office": office, **ids}
    close_database()


@pytest.fixture
def dialog(qtbot, ops, book):  # noqa: ANN001, ANN201
    from billdesk.views.service_groups_dialog import ServiceGroupsDialog

    dlg = ServiceGroupsDialog(book["client"], ops)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.close()


def select(dlg, *, group: int | None = ..., items: tuple[int, ...] = ()) -> None:  # noqa: ANN001
    selection = dlg.view.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    if group is not ...:
        selection.select(dlg.model.group_index(group), flags)
    for item in items:
        selection.select(dlg.model.item_index(item), flags)


def members(group_id: int) -> list[str]:
    return [s.name for s in sorted(
        (s for s in subscriptions.list_services(service_groups.get_group(group_id).client_id,
                                                ("service", "addon", "domain"))
         if s.group_id == group_id), key=lambda s: s.position)]


def editor_of(qtbot, dlg):  # noqa: ANN001, ANN201
    from billdesk.views.service_groups_dialog import ServiceGroupEditor

    found = []

    def check() -> None:
        visible = [e for e in dlg.findChildren(ServiceGroupEditor) if e.isVisible()]
        assert len(visible) == 1
        found.append(visible[0])

    qtbot.waitUntil(check)
    return found[-1]


def test_groups_in_order_with_their_items_then_the_rest(dialog, qtmodeltester):  # noqa: ANN001
    assert tree(dialog) == [
        ("Shop project (3)", ["Web A", "Web B", "Web C"]),
        ("Office (1)", ["Mail"]),
        ("Not in a group (2)", ["VPS", "example.com"]),
    ]
    model = dialog.model
    office = model.index(1, 0)
    assert model.index(1, 1).data() == "not shown on invoice"
    assert model.index(0, 1).data() == "the web shop"
    web_a = model.index(0, 0, model.index(0, 0))
    assert model.index(0, 1, model.index(0, 0)).data().startswith("Service · Monthly")
    assert model.index(0, 2, model.index(0, 0)).data() == "Active"
    assert model.group_at(office).name == "Office" and model.item_at(office) is None
    assert model.item_at(web_a).name == "Web A"
    assert "Not yours" not in str(tree(dialog))  # another client's group
    qtmodeltester.check(model)


def test_new_group_with_its_options(qtbot, dialog, book):  # noqa: ANN001
    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    editor = editor_of(qtbot, dialog)
    editor.form.fields["name"].widget.setText("Backups")
    editor.form.fields["description"].widget.setPlainText("off-site copies")
    editor.form.fields["hide_on_invoice"].widget.setChecked(True)
    with qtbot.waitSignal(dialog.ops.changed, timeout=5000) as changed:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)

    assert changed.args[0].services and changed.args[0].client_id == book["client"]
    qtbot.waitUntil(lambda: [t for t, _ in tree(dialog)][2] == "Backups (0)")
    created = service_groups.list_groups(book["client"])[-1]
    assert (created.name, created.description, created.hide_on_invoice) == (
        "Backups", "off-site copies", True)
    assert dialog._chosen() == ([created.id], [])  # the new group is selected
    assert dialog.target.findText("Backups") >= 0  # and can take items


def test_refusals_show_beside_the_name(qtbot, dialog, book):  # noqa: ANN001
    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    editor = editor_of(qtbot, dialog)
    problem = editor.form.fields["name"].problem
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)  # no name
    qtbot.waitUntil(lambda: problem.isVisible())
    assert "required" in problem.text()

    editor.form.fields["name"].widget.setText("  shop PROJECT ")  # a name the client has
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already has" in problem.text())
    assert editor.isVisible()
    assert len(service_groups.list_groups(book["client"])) == 2  # nothing written
    editor.reject()


def test_edit_renames_and_changes_the_invoice_flag(qtbot, dialog, book):  # noqa: ANN001
    select(dialog, group=book["office"])
    assert dialog.edit_button.isEnabled() and dialog.delete_button.isEnabled()
    assert not dialog.move_button.isEnabled()
    qtbot.mouseClick(dialog.edit_button, Qt.MouseButton.LeftButton)
    editor = editor_of(qtbot, dialog)
    assert editor.form.fields["hide_on_invoice"].widget.isChecked()
    editor.form.fields["name"].widget.setText("Head office")
    editor.form.fields["hide_on_invoice"].widget.setChecked(False)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: tree(dialog)[1][0] == "Head office (1)")
    group = service_groups.get_group(book["office"])
    assert group.name == "Head office" and not group.hide_on_invoice
    assert dialog.model.index(1, 1).data() in ("", None)
    assert dialog._chosen() == ([book["office"]], [])  # still selected


def test_delete_leaves_the_items_ungrouped(qtbot, dialog, book, monkeypatch):  # noqa: ANN001
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    select(dialog, group=book["shop"])
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: len(tree(dialog)) == 2)
    assert "Shop project" in asked[0] and "3 items" in asked[0]
    assert tree(dialog)[1] == ("Not in a group (5)",
                               ["Web A", "Web B", "Web C", "VPS", "example.com"])
    assert [g.name for g in service_groups.list_groups(book["client"])] == ["Office"]


def test_no_answer_deletes_nothing(qtbot, dialog, book, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    select(dialog, group=book["shop"])
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert len(service_groups.list_groups(book["client"])) == 2


def test_groups_move_up_and_down(qtbot, dialog, book):  # noqa: ANN001
    select(dialog, group=book["shop"])
    assert not dialog.up_button.isEnabled() and dialog.down_button.isEnabled()
    qtbot.mouseClick(dialog.down_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tree(dialog)[0][0] == "Office (1)")
    assert [g.id for g in service_groups.list_groups(book["client"])] == [book["office"],
                                                                          book["shop"]]
    assert dialog._chosen() == ([book["shop"]], [])  # the moved group stays selected
    assert dialog.up_button.isEnabled() and not dialog.down_button.isEnabled()
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tree(dialog)[0][0] == "Shop project (3)")

    select(dialog, group=None)  # "Not in a group" is not a group: it stays last
    assert not dialog.up_button.isEnabled() and not dialog.edit_button.isEnabled()


def test_items_move_into_out_of_and_within_a_group(qtbot, dialog, book):  # noqa: ANN001
    # VPS and the domain into the Office group, at its end
    select(dialog, items=(book["VPS"], book["example.com"]))
    assert dialog.move_button.isEnabled() and not dialog.up_button.isEnabled()
    dialog.target.setCurrentIndex(dialog.target.findData(book["office"]))
    qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tree(dialog)[1] == ("Office (3)", ["Mail", "VPS", "example.com"]))
    assert members(book["office"]) == ["Mail", "VPS", "example.com"]
    assert dialog._chosen() == ([], [book["VPS"], book["example.com"]])

    # Web C up, twice: to the top of its group
    select(dialog, items=(book["Web C"],))
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: members(book["shop"]) == ["Web A", "Web C", "Web B"])
    qtbot.waitUntil(lambda: dialog.up_button.isEnabled())
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tree(dialog)[0][1] == ["Web C", "Web A", "Web B"])
    assert not dialog.up_button.isEnabled() and dialog.down_button.isEnabled()

    # Web C and Web A down together
    select(dialog, items=(book["Web C"], book["Web A"]))
    qtbot.mouseClick(dialog.down_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: members(book["shop"]) == ["Web B", "Web C", "Web A"])

    # Mail out of any group
    select(dialog, items=(book["Mail"],))
    dialog.target.setCurrentIndex(dialog.target.findData(None))
    qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tree(dialog)[2] == ("Not in a group (1)", ["Mail"]))
    assert subscriptions.get_service(book["Mail"]).group_id is None


def test_a_refused_move_shows_its_reason(qtbot, dialog, book):  # noqa: ANN001
    select(dialog, items=(book["Mail"],))
    service_groups.delete_group(book["shop"])  # gone behind the dialog's back
    dialog.target.setCurrentIndex(dialog.target.findData(book["shop"]))
    qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.isVisible())
    assert "no service group" in dialog.problem.text()
    assert dialog.target.findData(book["shop"]) < 0  # the tree was read again


def test_invoice_lines_show_their_group(qtbot, book, qtmodeltester):  # noqa: ANN001
    from billdesk.services import invoicing
    from billdesk.views.models.billing_tables import LineColumn, LinesModel

    invoice_id = invoicing.create_invoice(book["client"], [
        invoicing.LineInput("Web A", "10", group="Shop project"),
        invoicing.LineInput("Support", "5")])
    model = LinesModel()
    model.set_lines(invoicing.get_invoice(invoice_id).lines)
    assert model.headerData(LineColumn.GROUP, Qt.Orientation.Horizontal) == "Group"
    assert model.index(0, LineColumn.GROUP).data() == "Shop project"
    assert model.index(1, LineColumn.GROUP).data() == ""
    assert not model.flags(model.index(0, LineColumn.GROUP)) & Qt.ItemFlag.ItemIsEditable
    assert model.has_groups()
    assert [line.group for line in model.lines()] == ["Shop project", ""]
    qtmodeltester.check(model)
