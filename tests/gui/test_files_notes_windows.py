"""The client window's Files and Notes tabs (F1, F2) as a user works them:
drop files from the file manager on the Files tab (listed, stored by
hash), add by the dialog, open a copy, rename, flag admin only, remove;
write, pin, edit and delete dated notes; the table models under
qtmodeltester."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from billdesk.services import changelog, files, notes

from gui_helpers import click, type_into, wait_for


def file_names(tab) -> list[str]:  # noqa: ANN001
    """The Files table as shown, top to bottom: name, size, admin only."""
    model = tab.view.model()
    return [" | ".join(model.index(r, c).data() for c in (0, 1, 3)).rstrip(" |")
            for r in range(model.rowCount())]


def drag(tab, paths: list[Path]) -> tuple[bool, bool]:  # noqa: ANN001
    """Drag those paths from a file manager onto the tab and drop them:
    whether the tab took the drag, and the drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = tab.rect().center()
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_drop_files_on_the_files_tab_stores_them_by_hash(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    tab = window.files
    window.tabs.setCurrentWidget(tab)
    assert file_names(tab) == [] and tab.count.text() == "0 files"
    contract = tmp_path / "Contract.pdf"
    contract.write_bytes(b"%PDF contract " * 200)
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(b"\xff\xd8 jpeg")
    assert drag(tab, [contract, scan, tmp_path]) == (True, True)  # the folder is passed over
    wait_for(qtbot, lambda: tab.model.rowCount() == 2)
    assert sorted(file_names(tab)) == ["Contract.pdf | 2.7 KB", "scan.jpg | 7 bytes"]
    assert tab.count.text() == "2 files, 2.7 KB"
    for record, source in zip(sorted(files.list_files(window.client_id), key=lambda r: r.name),
                              (contract, scan)):
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        assert record.sha256 == sha
        assert files.stored_path(sha).read_bytes() == source.read_bytes()
    assert tab.selected() is not None  # the last one added is selected
    assert any(e.message == "File added: scan.jpg (7 bytes)"
               for e in changelog.entries(window.client_id))


def test_a_drag_without_files_is_refused(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    tab = window.files
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    assert not enter.isAccepted()
    assert drag(tab, [tmp_path]) == (False, False)  # a folder alone
    assert files.list_files(window.client_id) == []


def test_add_open_rename_flag_and_remove(qtbot, window, tmp_path, answers,  # noqa: ANN001
                                         monkeypatch) -> None:
    tab = window.files
    window.tabs.setCurrentWidget(tab)
    source = tmp_path / "notes.txt"
    source.write_text("hello from the client")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(source)], ""))
    for key in ("openFile", "renameFile", "adminOnly", "removeFile"):
        assert not tab.buttons[key].isEnabled()
    click(qtbot, tab.buttons["addFile"])
    wait_for(qtbot, lambda: tab.model.rowCount() == 1)
    assert file_names(tab) == ["notes.txt | 21 bytes"]
    tab.view.selectRow(0)
    assert tab.buttons["openFile"].isEnabled()

    # Open: a read-only copy named like the file, handed to the system
    opened: list[QUrl] = []
    tab.opener = lambda url: opened.append(url) or True
    click(qtbot, tab.buttons["openFile"])
    url = wait_for(qtbot, lambda: opened and opened[0])
    copy = Path(url.toLocalFile())
    assert copy.name == "notes.txt" and copy.read_text() == "hello from the client"
    assert not os.stat(copy).st_mode & stat.S_IWUSR
    assert copy != files.stored_path(tab.selected().sha256)

    # Rename…
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("Call notes.txt", True))
    click(qtbot, tab.buttons["renameFile"])
    wait_for(qtbot, lambda: file_names(tab) == ["Call notes.txt | 21 bytes"])
    assert tab.selected().name == "Call notes.txt"

    # Admin only, on and off
    admin = tab.buttons["adminOnly"]
    assert not admin.isChecked()
    click(qtbot, admin)
    wait_for(qtbot, lambda: file_names(tab) == ["Call notes.txt | 21 bytes | Yes"])
    assert admin.isChecked() and tab.selected().admin_only

    # Remove… asks, naming the file; No keeps it
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, tab.buttons["removeFile"])
    assert "Call notes.txt" in answers.said[-1]
    assert tab.model.rowCount() == 1
    sha = tab.selected().sha256
    click(qtbot, tab.buttons["removeFile"])
    wait_for(qtbot, lambda: tab.model.rowCount() == 0)
    assert not files.stored_path(sha).exists()
    assert tab.count.text() == "0 files"
    messages = [e.describe() for e in changelog.entries(window.client_id)]
    assert messages[:4] == ["File removed: Call notes.txt (21 bytes)",
                            "File Call notes.txt: admin only: No → Yes",
                            "File name: notes.txt → Call notes.txt",
                            "File added: notes.txt (21 bytes)"]


def test_a_refused_rename_says_why_and_keeps_the_name(qtbot, window, tmp_path, answers,  # noqa: ANN001
                                                       monkeypatch) -> None:
    source = tmp_path / "a.txt"
    source.write_text("a")
    files.add_file(window.client_id, source)
    tab = window.files
    tab.load()
    tab.view.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("x/y.txt", True))
    click(qtbot, tab.buttons["renameFile"])
    wait_for(qtbot, lambda: answers.said)
    assert answers.said[-1].startswith("Name: ")
    assert file_names(tab) == ["a.txt | 1 byte"]


def test_notes_tab_add_pin_edit_delete(qtbot, window, answers) -> None:  # noqa: ANN001
    tab = window.notes
    window.tabs.setCurrentWidget(tab)
    assert tab.model.rowCount() == 0 and not tab.add.isEnabled()
    for key in ("editNote", "stickNote", "deleteNote"):
        assert not tab.buttons[key].isEnabled()

    type_into(qtbot, tab.new_text, "Called about the renewal.")
    qtbot.keyClick(tab.new_text, Qt.Key.Key_Return)
    qtbot.keyClicks(tab.new_text, "Follow up Friday.")
    click(qtbot, tab.add)
    wait_for(qtbot, lambda: tab.model.rowCount() == 1)
    assert tab.new_text.toPlainText() == ""  # ready for the next one
    type_into(qtbot, tab.new_text, "Never call before 10:00")
    tab.new_sticky.setChecked(True)
    click(qtbot, tab.add)
    wait_for(qtbot, lambda: tab.model.rowCount() == 2)
    model = tab.view.model()
    shown = [(model.index(r, 1).data(), model.index(r, 2).data()) for r in range(2)]
    assert shown == [("★ Sticky", "Never call before 10:00"),
                     ("", "Called about the renewal.  …")]
    assert not tab.new_sticky.isChecked()
    assert tab.count.text() == "2 notes, 1 sticky"

    # the selected note's whole text below the list
    tab.select(notes.list_notes(window.client_id)[1].id)
    assert tab.reader.toPlainText() == "Called about the renewal.\nFollow up Friday."
    assert tab.buttons["stickNote"].text() == "Make sticky"
    click(qtbot, tab.buttons["stickNote"])
    wait_for(qtbot, lambda: tab.count.text() == "2 notes, 2 sticky")
    assert tab.selected().text.startswith("Called") and tab.selected().sticky
    assert tab.buttons["stickNote"].text() == "Unsticky"

    # Edit… in a dialog
    click(qtbot, tab.buttons["editNote"])
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    type_into(qtbot, dialog.text, "Renewal agreed for two years.")
    dialog.sticky.setChecked(False)
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))
    wait_for(qtbot, lambda: tab.selected() is not None
             and tab.selected().text == "Renewal agreed for two years.")
    assert [n.sticky for n in notes.list_notes(window.client_id)] == [True, False]

    # Delete… asks first
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, tab.buttons["deleteNote"])
    assert "Renewal agreed for two years." in answers.said[-1]
    assert tab.model.rowCount() == 2
    click(qtbot, tab.buttons["deleteNote"])
    wait_for(qtbot, lambda: tab.model.rowCount() == 1)
    assert [n.text for n in notes.list_notes(window.client_id)] == ["Never call before 10:00"]


def test_an_empty_note_cannot_be_added_and_ctrl_enter_adds(qtbot, window) -> None:  # noqa: ANN001
    tab = window.notes
    window.tabs.setCurrentWidget(tab)
    type_into(qtbot, tab.new_text, "   ")
    assert not tab.add.isEnabled()
    type_into(qtbot, tab.new_text, "Quick note")
    tab.new_text.setFocus()
    qtbot.keyClick(tab.new_text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: tab.model.rowCount() == 1)
    assert notes.list_notes(window.client_id)[0].text == "Quick note"


def test_models_pass_the_model_tester(qtmodeltester, client_book, tmp_path) -> None:  # noqa: ANN001
    from billdesk.views.files_tab import FileTableModel
    from billdesk.views.notes_tab import NoteTableModel

    source = tmp_path / "a.txt"
    source.write_text("a")
    files.add_file(client_book, source, admin_only=True)
    files.add_file(client_book, source, name="b.txt")
    notes.add_note(client_book, "one", sticky=True)
    notes.add_note(client_book, "two\nlines")
    file_model = FileTableModel()
    file_model.load(client_book)
    qtmodeltester.check(file_model)
    note_model = NoteTableModel()
    note_model.load(client_book)
    qtmodeltester.check(note_model)


def test_an_archived_clients_files_and_notes_are_read_only(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    from billdesk.models import Client

    source = tmp_path / "a.txt"
    source.write_text("a")
    files.add_file(window.client_id, source)
    notes.add_note(window.client_id, "kept")
    Client.update(archived=True).where(Client.id == window.client_id).execute()
    window.reload()
    tab = window.files
    tab.view.selectRow(0)
    assert tab.buttons["openFile"].isEnabled()
    assert not any(tab.buttons[k].isEnabled() for k in ("addFile", "renameFile", "adminOnly",
                                                       "removeFile"))
    other = tmp_path / "b.txt"
    other.write_text("b")
    assert drag(tab, [other]) == (False, False)
    assert "archived" in tab.hint.text()
    window.notes.view.selectRow(0)
    assert not window.notes.new_box.isEnabled()
    assert not any(b.isEnabled() for b in window.notes.buttons.values())
    assert window.notes.reader.toPlainText() == "kept"
    assert [f.name for f in files.list_files(window.client_id)] == ["a.txt"]
