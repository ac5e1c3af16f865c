"""File → Backups… (D3, JOURNEYS 7): the book's backups, newest first, with
why each was taken and how long it is kept; Back up now adds one kept until
deleted; Restore… asks, naming what happens, closes the client windows,
puts the book back as the backup holds it (the list shows it at once), and
keeps the book as it was, so the restore can be undone."""

from __future__ import annotations

import shiboken6

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


def test_cancel_restores_nothing(qtbot, main_window, answers) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QMessageBox

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
