"""File → Backups… (D3, JOURNEYS 7): the book's backups, newest first, with
why each was taken and how long it is kept; Back up now adds one kept until
deleted; Restore… asks, naming what happens, closes the client windows,
puts the book back as the backup holds it (the list shows it at once), and
keeps the book as it was, so the restore can be undone."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QMessageBox

from billdesk.services import clients

from gui_helpers import click, wait_for


def rows(dialog) -> list[tuple[str, str]]:  # noqa: ANN001
    model = dialog.model
    return [(model.index(n, 1).data(), model.index(n, 2).data()) for n in range(model.rowCount())]


def test_back_up_now_then_restore_from_the_file_menu(qtbot, main_window, answers) -> None:  # noqa: ANN001
    assert main_window.backups_action in main_window.menuBar().actions()[0].menu().actions()
    main_window.backups_action.trigger()
    dialog = main_window.backups_dialog
    assert dialog is not None and dialog.isVisible()
    before = dialog.model.rowCount()
    click(qtbot, dialog.backup_now)
    wait_for(qtbot, lambda: dialog.model.rowCount() == before + 1)
    assert rows(dialog)[0] == ("Backed up by hand", "until you delete it")
    assert dialog.state.text().startswith("Backed up to billdesk-")

    # a client added after the backup, with its window open
    added = clients.add_client({"first_name": "Zed", "last_name": "Later",
                                "email": "zed@example.com", "currency": "GBP", "country": "GB"})
    main_window.model.refresh()
    window = main_window.open_client(added)
    total = main_window.model.total
    dialog.view.selectRow(0)
    click(qtbot, dialog.restore_button)
    wait_for(qtbot, lambda: any("The book is back as it was" in s for s in answers.said))
    question = answers.said[0]
    assert question.startswith("Put the book back as it was on") and "backed up by hand" in question
    assert "replaced by what the backup holds" in question and "undoes this" in question
    assert not shiboken6.isValid(window) or not window.isVisible()  # (closed, and deleted)
    assert added not in main_window.client_windows
    wait_for(qtbot, lambda: main_window.model.total == total - 1)
    assert main_window.model.row_of(added) is None
    assert rows(dialog)[0] == ("Before a restore", "until you delete it")
    assert dialog.state.text().startswith("Restored the backup of")  # not "Backed up to…"


def test_cancel_restores_nothing(qtbot, main_window, answers) -> None:  # noqa: ANN001
    dialog = main_window.open_backups()
    click(qtbot, dialog.backup_now)
    wait_for(qtbot, lambda: dialog.model.rowCount() >= 1)
    added = clients.add_client({"first_name": "Zed", "last_name": "Later",
                                "email": "zed@example.com", "currency": "GBP", "country": "GB"})
    answers.replies = [QMessageBox.StandardButton.Cancel]
    dialog.view.selectRow(0)
    click(qtbot, dialog.restore_button)
    qtbot.wait(200)
    assert clients.get_client(added).id == added
    assert len(answers.said) == 1  # the question, and nothing after it


def test_restoring_the_backup_of_a_daily_run_does_not_run_that_day_again(
        qtbot, main_window, answers) -> None:  # noqa: ANN001
    """The backup taken before today's run, restored: the run's day is not
    run again by the next minute's check (Run now runs it); the next run
    said is tomorrow's."""
    import datetime as dt
    from pathlib import Path

    from billdesk import clock
    from billdesk.services import automation

    today = clock.now().date()
    at = dt.datetime.combine(today, dt.time(23, 0))
    report = automation.run(today, clock=at, deliver=False)
    assert report.backup and automation.pending_days(today) == []
    scheduler = main_window.scheduler
    scheduler.clock = lambda: at
    scheduler.started = True  # (as in an app that has been open a while)
    started = []
    scheduler.run_started.connect(started.append)
    main_window.restore_backup(Path(report.backup))
    wait_for(qtbot, lambda: any("Backup restored" in s or "is back as it was" in s
                                for s in answers.said))
    assert "Mail sent since then stays sent" in answers.said[-1]
    assert automation.pending_days(today) == [today]  # the restored book has not run it
    scheduler.check()
    qtbot.wait(100)
    assert started == []
    assert scheduler.next_run() == dt.datetime.combine(today + dt.timedelta(days=1),
                                                       dt.time(automation.automation_settings().hour))
    # the status bar says the day waits for Run now, not tomorrow's run
    main_window._show_next_run()
    assert main_window.automation_label.text() == (
        f"Automation: {today.isoformat()} not run — Automation → Run now")


def test_delete_a_backup_after_asking(qtbot, main_window, answers) -> None:  # noqa: ANN001
    """The list says a backup by hand is "kept until you delete it": Delete…
    does, after asking; Cancel keeps it; the book does not change."""
    dialog = main_window.open_backups()
    click(qtbot, dialog.backup_now)
    wait_for(qtbot, lambda: dialog.state.text().startswith("Backed up to"))
    before = dialog.model.rowCount()
    dialog.view.selectRow(0)
    path = dialog.selected().path
    answers.replies = [QMessageBox.StandardButton.Cancel]
    click(qtbot, dialog.delete_button)
    qtbot.wait(200)
    assert path.exists() and dialog.model.rowCount() == before
    assert "backed up by hand" in answers.said[-1] and "cannot be restored" in answers.said[-1]
    total = main_window.model.total
    click(qtbot, dialog.delete_button)  # (Yes)
    wait_for(qtbot, lambda: dialog.model.rowCount() == before - 1)
    assert not path.exists() and dialog.state.text() == f"Deleted {path.name}."
    assert main_window.model.total == total


def test_the_list_names_whose_backup_it_was(qtbot, main_window, answers) -> None:  # noqa: ANN001
    """A backup taken before an action on a client names the client — as
    it is called now, or, once deleted, as it was called."""
    from billdesk.services import lifecycle

    kept = clients.add_client({"first_name": "Cora", "last_name": "Closed",
                               "email": "cora@example.com", "currency": "GBP", "country": "GB"})
    gone = clients.add_client({"first_name": "Dan", "last_name": "Deleted",
                               "email": "dan@example.com", "currency": "GBP", "country": "GB"})
    lifecycle.close_client(kept)
    lifecycle.delete_client(gone)
    # SQLite hands the last id out again: the backup still names the client it was taken for
    later = clients.add_client({"first_name": "Eve", "last_name": "Later",
                                "email": "eve@example.com", "currency": "GBP", "country": "GB"})
    assert later == gone
    merged = clients.add_client({"first_name": "Max", "last_name": "Merged",
                                 "email": "max@example.com", "currency": "GBP", "country": "GB"})
    lifecycle.merge_clients(merged, later)
    dialog = main_window.open_backups()
    wait_for(qtbot, lambda: dialog.model.rowCount() >= 3)
    why = [why for why, _kept in rows(dialog)]
    assert why[:3] == [f"Before merging clients: #{merged} Max Merged",
                       f"Before deleting a client: #{gone} Dan Deleted",
                       f"Before closing a client: #{kept} Cora Closed"]
    dialog.view.selectRow(1)
    answers.replies = [QMessageBox.StandardButton.Cancel]
    click(qtbot, dialog.restore_button)
    wait_for(qtbot, lambda: answers.said)
    assert f"(before deleting a client: #{gone} Dan Deleted)?" in answers.said[-1]
    assert clients.get_values(gone)["first_name"] == "Eve"  # (Cancel: nothing restored)
