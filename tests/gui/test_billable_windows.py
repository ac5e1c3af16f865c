"""Billable items and recurring invoices in the window (B3, B5;
acceptance 6): the QueuedItems panel, the add/edit dialogs with refusals
beside their field, and the table models under qtmodeltester."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from billdesk.services import billable, billing_run, recurring
from billdesk.views.models.billable_tables import BillableTableModel, RecurringTableModel

from gui_helpers import shown

TODAY = dt.date.today()


@pytest.fixture
def panel(qtbot, client_ops, client_book: int):  # noqa: ANN001, ANN201
    from billdesk.views.queued_items import QueuedItems

    widget = QueuedItems(client_ops)
    widget.load(client_book)
    return shown(qtbot, widget)


@pytest.fixture
def yes(answers):  # noqa: ANN001, ANN201
    """The questions asked (each answered Yes)."""
    return answers.said


def problem(dialog, name: str) -> str:  # noqa: ANN001
    label = dialog.findChild(QLabel, f"{name}_problem")
    return label.text() if label.isVisible() else ""


def test_add_a_billable_item_and_see_it_in_the_queued_items(  # noqa: ANN001
        qtbot, panel, client_book) -> None:
    assert panel.items_model.rowCount() == 0 and panel.items_empty.isVisible()
    dialog = panel.add_item()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.description, "Migration work")
    qtbot.keyClicks(dialog.hours, "2.5")
    qtbot.keyClicks(dialog.rate, "40")
    assert dialog.amount.placeholderText() == "hours × rate"
    assert "£100.00" in dialog.summary.text() or "100.00" in dialog.summary.text()
    dialog.action.setCurrentIndex(dialog.action.findData("next"))
    assert not dialog.due.isVisible() and not dialog.every.isVisible()
    with qtbot.waitSignal(dialog.item_saved, timeout=5000) as saved:
        dialog.save_button.click()
    item = billable.get_item(saved.args[0])
    assert (item.description, item.amount.minor_units, item.action) == ("Migration work", 10000,
                                                                        "next")
    qtbot.waitUntil(lambda: panel.items_model.rowCount() == 1)
    index = panel.items_model.index(0, 0)
    assert index.data() == "Migration work"
    assert panel.items_model.index(0, 2).data() == "next run"
    assert panel.items_view.isVisible() and not panel.items_empty.isVisible()
    # Generation bills it: it leaves the queue.
    billing_run.generate_due(client_id=client_book)
    from billdesk.views.ops import Changes

    panel.ops.changed.emit(Changes(billing=True, client_id=client_book))
    assert panel.items_model.rowCount() == 0


def test_refusals_are_shown_beside_their_field_and_nothing_is_written(qtbot, panel,  # noqa: ANN001
                                                                     client_book) -> None:
    dialog = panel.add_item()
    qtbot.keyClicks(dialog.hours, "2")
    qtbot.keyClicks(dialog.amount, "-4")
    dialog.action.setCurrentIndex(dialog.action.findData("recur"))
    assert dialog.every.isVisible() and dialog.count.isVisible() and dialog.due.isVisible()
    dialog.save_button.click()
    assert problem(dialog, "description") == "is required"
    assert problem(dialog, "amount") == "must not be negative"
    assert "required" in problem(dialog, "rate")
    assert "required" in problem(dialog, "every") and "required" in problem(dialog, "count")
    assert billable.list_items(client_book) == []
    dialog.reject()


def test_edit_and_delete_a_queued_item(qtbot, panel, client_book, yes) -> None:  # noqa: ANN001
    item_id = billable.add_item(client_book, description="Support", amount="10", action="due",
                                due_date=TODAY + dt.timedelta(days=30))
    panel.load(client_book)
    panel.items_view.selectRow(0)
    dialog = panel.edit_item()
    assert dialog.description.text() == "Support" and dialog.due.isVisible()
    dialog.amount.setText("12.50")
    dialog.action.setCurrentIndex(dialog.action.findData("recur"))
    qtbot.keyClicks(dialog.every, "1")
    dialog.unit.setCurrentIndex(dialog.unit.findData("week"))
    qtbot.keyClicks(dialog.count, "3")
    with qtbot.waitSignal(dialog.item_saved, timeout=5000):
        dialog.save_button.click()
    item = billable.get_item(item_id)
    assert (str(item.amount), item.action, item.every, item.unit, item.count) == (
        "12.50", "recur", 1, "week", 3)
    qtbot.waitUntil(lambda: panel.items_model.index(0, 3).data() == "Every 1 week, 0 of 3 done")
    panel.items_view.selectRow(0)
    with qtbot.waitSignal(panel.items_changed, timeout=5000):
        panel.delete_item_button.click()
    assert yes and billable.list_items(client_book) == []
    qtbot.waitUntil(lambda: panel.items_model.rowCount() == 0)


def test_new_recurring_invoice_and_stop_it(qtbot, panel, client_book, yes) -> None:  # noqa: ANN001
    dialog = panel.add_recurring()
    qtbot.waitExposed(dialog)
    row = dialog.rows[0]
    qtbot.keyClicks(row.description, "Support plan")
    qtbot.keyClicks(row.amount, "abc")
    assert "Line 1 amount" in dialog.lines_problem.text()
    row.amount.setText("30")
    assert not dialog.lines_problem.isVisible()
    dialog.add_line_button.click()
    dialog.rows[1].description.setText("Licence")
    dialog.rows[1].amount.setText("5")
    dialog.rows[1].taxed.setChecked(True)
    dialog.end.setCurrentIndex(dialog.end.findData("count"))
    assert dialog.count.isVisible() and not dialog.until.isVisible()
    dialog.save_button.click()
    assert "required" in problem(dialog, "count")
    qtbot.keyClicks(dialog.count, "6")
    dialog.due_days.setText("14")
    assert "35.00" in dialog.total.text()
    with qtbot.waitSignal(dialog.recurring_saved, timeout=5000) as saved:
        dialog.save_button.click()
    rec = recurring.get_recurring(saved.args[0])
    assert ([(ln.description, str(ln.amount), ln.taxed) for ln in rec.lines],
            rec.count, rec.due_days, rec.next_date) == (
        [("Support plan", "30.00", False), ("Licence", "5.00", True)], 6, 14, TODAY)
    qtbot.waitUntil(lambda: panel.recurring_model.rowCount() == 1)
    assert panel.recurring_model.index(0, 0).data() == "Support plan (+1 more)"
    # edit: the lines come back; remove one
    panel.recurring_view.selectRow(0)
    edit = panel.edit_recurring()
    assert [r.description.text() for r in edit.rows] == ["Support plan", "Licence"]
    edit.rows[1].remove.click()
    with qtbot.waitSignal(edit.recurring_saved, timeout=5000):
        edit.save_button.click()
    assert [ln.description for ln in recurring.get_recurring(rec.id).lines] == ["Support plan"]
    panel.recurring_view.selectRow(0)
    with qtbot.waitSignal(panel.items_changed, timeout=5000):
        panel.stop_recurring_button.click()
    assert recurring.get_recurring(rec.id).status == "Stopped"
    qtbot.waitUntil(lambda: panel.recurring_model.rowCount() == 0)


def test_models_pass_the_model_tester(qtmodeltester, client_book) -> None:  # noqa: ANN001
    billable.add_item(client_book, description="A", amount="1", action="next")
    billable.add_item(client_book, description="B", hours="1.5", rate="10", action="recur",
                      every=2, unit="month", count=2)
    recurring.add_recurring(client_book, [("Plan", "9.99", True)], start_date=TODAY, count=3)
    items = BillableTableModel()
    items.load(client_book)
    assert items.rowCount() == 2
    qtmodeltester.check(items)
    templates = RecurringTableModel()
    templates.load(client_book)
    assert templates.rowCount() == 1
    assert templates.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole)
    qtmodeltester.check(templates)
