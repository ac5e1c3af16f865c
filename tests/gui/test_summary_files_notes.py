"""The Summary tab's Files panel and sticky notes (C4, F1, F2) through the
real client window: the panel lists the newest files with the admin-only
mark, a name opens the file as the Files tab does, Add file… and files
dropped on the panel are added on the worker, All files… goes to the
Files tab; the sticky notes show in the strip at the top and go when
unstuck, a click on the strip opens the Notes tab; an archived client's
panel cannot add."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from billdesk.services import changelog, files, notes

from gui_helpers import click, wait_for


def listed(panel) -> list[str]:  # noqa: ANN001
    """The Files panel's lines as shown: name, size and the admin-only mark."""
    text = panel.list.text()
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    return [" | ".join(c for c in (re.sub(r"<[^>]+>", "", cell).replace("&amp;", "&")
                                   for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)) if c)
            for row in rows]


def add_files(client_id: int, folder: Path, names: list[str], admin_only: set[str] = frozenset()
              ) -> None:
    for n, name in enumerate(names):
        path = folder / name
        path.write_bytes(b"x" * (n + 1))
        files.add_file(client_id, path, admin_only=name in admin_only)


def test_the_panel_lists_the_newest_files_and_opens_them(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    panel = window.summary.files_panel
    assert panel.isVisible() and panel.title() == "Files"
    assert "No files yet" in panel.list.text() and not panel.more.isVisible()

    add_files(window.client_id, tmp_path, ["contract.pdf", "scan.jpg"], admin_only={"scan.jpg"})
    window.reload()
    assert listed(panel) == ["scan.jpg | 2 bytes | admin only", "contract.pdf | 1 byte"]
    assert not panel.more.isVisible()  # nothing more than shown

    # a name opens a read-only copy, as the Files tab's Open does
    opened: list[QUrl] = []
    window.files.opener = lambda url: opened.append(url) or True
    contract = next(r for r in files.list_files(window.client_id) if r.name == "contract.pdf")
    panel.list.linkActivated.emit(str(contract.id))
    url = wait_for(qtbot, lambda: opened and opened[0])
    copy = Path(url.toLocalFile())
    assert copy.name == "contract.pdf" and copy.read_bytes() == b"x"
    assert window.tabs.currentWidget() is window.summary

    # more than five: the newest five, and All files… to the Files tab
    add_files(window.client_id, tmp_path, [f"page{n}.txt" for n in range(1, 6)])
    window.reload()
    names = [line.split(" | ")[0] for line in listed(panel)]
    newest = [r.name for r in files.list_files(window.client_id)][:5]
    assert names == newest and "contract.pdf" not in names
    assert panel.more.isVisible() and "All 7 files" in panel.more.text()
    panel.more.linkActivated.emit("all")
    assert window.tabs.currentWidget() is window.files


def test_add_file_adds_through_the_worker(qtbot, window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    panel = window.summary.files_panel
    source = tmp_path / "Signed order.pdf"
    source.write_bytes(b"%PDF order")
    asked: list[str] = []

    def choose(parent, caption, folder, *args, **kwargs):  # noqa: ANN001, ANN202
        asked.append(caption)
        return [str(source)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", choose)
    assert panel.add.text() == "Add file…"
    click(qtbot, panel.add)
    wait_for(qtbot, lambda: listed(panel) == ["Signed order.pdf | 10 bytes"])
    assert asked == ["Add files"]
    assert [f.name for f in files.list_files(window.client_id)] == ["Signed order.pdf"]
    assert window.files.model.rowCount() == 1  # the Files tab too
    assert any(e.message == "File added: Signed order.pdf (10 bytes)"
               for e in changelog.entries(window.client_id))
    assert window.tabs.currentWidget() is window.summary


def drop_on(widget, paths: list[Path]) -> tuple[bool, bool]:  # noqa: ANN001
    """Drag those paths from a file manager onto the widget and drop them:
    whether it took the drag, and the drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = widget.rect().center()
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_files_dropped_on_the_panel_are_added(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    panel = window.summary.files_panel
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("bb")
    assert drop_on(panel, [a, b, tmp_path]) == (True, True)  # the folder is passed over
    wait_for(qtbot, lambda: len(listed(panel)) == 2)
    assert sorted(listed(panel)) == ["a.txt | 1 byte", "b.txt | 2 bytes"]
    assert sorted(f.name for f in files.list_files(window.client_id)) == ["a.txt", "b.txt"]


def test_a_sticky_note_shows_on_the_summary_until_unstuck(qtbot, window) -> None:  # noqa: ANN001
    strip = window.summary.sticky
    assert not strip.isVisible()  # none yet
    notes.add_note(window.client_id, "Only a plain note")
    window.reload()
    assert not strip.isVisible()  # a note that is not sticky stays on the Notes tab

    pinned = notes.add_note(window.client_id, "Never call before 10:00\nEmail instead.",
                            sticky=True)
    window.reload()
    assert strip.isVisible()
    record = notes.get_note(pinned)
    assert strip.dates[0].text() == f"★ {record.created_at:%Y-%m-%d}"
    assert strip.texts[0].full == "Never call before 10:00  …"
    assert strip.texts[0].toolTip() == "Never call before 10:00\nEmail instead."
    assert not strip.texts[1].isVisible() and not strip.more.isVisible()
    assert strip.y() < window.summary.title.y()  # at the top of the tab

    # a click on the strip opens the note on the Notes tab
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton,
                     pos=strip.texts[0].geometry().center())
    assert window.tabs.currentWidget() is window.notes
    assert window.notes.selected().id == pinned

    # unstuck there, it leaves the Summary
    assert window.notes.buttons["stickNote"].text() == "Unsticky"
    click(qtbot, window.notes.buttons["stickNote"])
    wait_for(qtbot, lambda: not notes.get_note(pinned).sticky)
    window.tabs.setCurrentWidget(window.summary)
    wait_for(qtbot, lambda: not strip.isVisible())
    assert strip.notes == []


def test_more_sticky_notes_than_the_strip_shows(qtbot, window) -> None:  # noqa: ANN001
    strip = window.summary.sticky
    for n in range(5):
        notes.add_note(window.client_id, f"Sticky {n}", sticky=True)
    window.reload()
    shown = [t.full for t in strip.texts if t.isVisible()]
    assert len(shown) == strip.SHOWN == 3
    assert shown == [n.text for n in notes.list_notes(window.client_id)][:3]
    assert strip.more.isVisible() and strip.more.text() == "and 2 more sticky notes…"


def test_an_archived_clients_panel_cannot_add(qtbot, window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from billdesk.models import Client

    add_files(window.client_id, tmp_path, ["kept.txt"])
    notes.add_note(window.client_id, "Still shown", sticky=True)
    Client.update(archived=True).where(Client.id == window.client_id).execute()
    window.reload()
    panel = window.summary.files_panel
    assert not panel.add.isEnabled()
    assert listed(panel) == ["kept.txt | 1 byte"]  # still listed
    assert window.summary.sticky.isVisible()  # and the sticky notes still read
    other = tmp_path / "other.txt"
    other.write_text("o")
    assert drop_on(panel, [other]) == (False, False)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(other)], ""))
    panel.add.click()  # refused even if reached
    window.files.choose_files()
    qtbot.wait(50)
    assert [f.name for f in files.list_files(window.client_id)] == ["kept.txt"]

    # unarchived: it adds again
    Client.update(archived=False).where(Client.id == window.client_id).execute()
    window.reload()
    assert panel.add.isEnabled()
    click(qtbot, panel.add)
    wait_for(qtbot, lambda: len(listed(panel)) == 2)
