"""The client window's Files tab (F1): the client's files, newest first,
with name, size, when added and the admin-only flag. Add… (a file dialog)
or drag files from the file manager onto the tab; Open (a temporary,
read-only copy named like the file, opened with the program the system
picks for it); Rename…; Admin only; Remove… (asks first). The Summary
tab's Files panel (``SummaryFiles``, C4) shows the newest few and adds and
opens through this tab.

Writes run on the database worker and report ``Changes(clients=True,
client_id=…)``; the window reloads the tab."""

from __future__ import annotations

import html
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, QSettings, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from billdesk.errors import BilldeskError
from billdesk.services import files
from billdesk.services.files import FileRecord
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel
from billdesk.views.record_tab import RecordTab, confirmed, link_list

ADMIN_ONLY_COLOUR = "#9a6b00"


class FileColumn(IntEnum):
    NAME = 0
    SIZE = 1
    ADDED = 2
    ADMIN_ONLY = 3


class FileTableModel(_ListModel):
    """A client's files (``files.FileRecord``), loaded whole."""

    HEADERS = {FileColumn.NAME: "Name", FileColumn.SIZE: "Size", FileColumn.ADDED: "Added",
               FileColumn.ADMIN_ONLY: "Admin only"}
    MONEY_COLUMNS = frozenset({FileColumn.SIZE})  # right-aligned

    def load(self, client_id: int) -> None:
        self.set_rows(files.list_files(client_id))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record: FileRecord = self._rows[index.row()]
        column = FileColumn(index.column())
        if role == SortRole:
            return {FileColumn.NAME: record.name.casefold(), FileColumn.SIZE: record.size,
                    FileColumn.ADDED: record.added_at,
                    FileColumn.ADMIN_ONLY: int(record.admin_only)}[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return {FileColumn.NAME: record.name, FileColumn.SIZE: record.size_text,
                    FileColumn.ADDED: f"{record.added_at:%Y-%m-%d %H:%M}",
                    FileColumn.ADMIN_ONLY: "Yes" if record.admin_only else ""}[column]
        if role == IdRole:
            return record.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column == FileColumn.SIZE:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == FileColumn.ADMIN_ONLY:
            return QColor(ADMIN_ONLY_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{record.name}\n{record.size:,} bytes, added {record.added_at:%Y-%m-%d %H:%M}"
                    + ("\nAdmin only" if record.admin_only else ""))
        return None


def dropped_paths(mime: Any) -> list[str]:
    """The local files (not folders) among dragged URLs."""
    if mime is None or not mime.hasUrls():
        return []
    found = []
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            if os.path.isfile(path):
                found.append(path)
    return found


_open_folder: str | None = None  # this session's temporary copies, removed at quit


def _session_folder() -> str:
    global _open_folder
    if _open_folder is None or not os.path.isdir(_open_folder):
        _open_folder = tempfile.mkdtemp(prefix="billdesk-open-")
        app = QCoreApplication.instance()
        if app is not None:
            folder = _open_folder
            app.aboutToQuit.connect(lambda: shutil.rmtree(folder, ignore_errors=True))
    return _open_folder


def copy_for_opening(file_id: int, session: str) -> Path:
    """A read-only copy under its own name in a new temporary folder inside
    ``session`` (two files of one name never meet); runs on the worker."""
    folder = tempfile.mkdtemp(dir=session)
    path = files.copy_out(file_id, folder)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # changes would not be stored
    return path


class FileDrops:
    """Takes local files dragged from the file manager and adds them
    through the window's Files tab (``_files_tab``), outlined while a drag
    that it would take is over it (``_highlight``). For a QWidget subclass
    that lists it first among its bases."""

    window_: Any

    def _files_tab(self) -> FilesTab:
        return self.window_.files

    def _highlight(self, on: bool) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._files_tab().takes(event.mimeData()):
            event.acceptProposedAction()
            self._highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._files_tab().takes(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: ANN001
        self._highlight(False)
        super().dragLeaveEvent(event)  # type: ignore[misc]

    def dropEvent(self, event: QDropEvent) -> None:
        self._highlight(False)
        paths = self._files_tab().takes(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self._files_tab().add_paths(paths)


class FilesTab(FileDrops, RecordTab):
    """The client's files with their actions; takes dropped files."""

    NOUN = "file"
    EMPTY = "No files yet. Add… copies files in; or drop them here."
    DROP_HINT = ("Drop files from your file manager here to add them. They are copied into "
                 "billdesk's data folder; the originals stay where they are.")
    ARCHIVED_HINT = "The client is archived: its files can be opened, not changed."

    def __init__(self, window) -> None:  # noqa: ANN001 (ClientWindow)
        super().__init__(window, window)
        self.window_ = window
        self.setObjectName("filesTab")
        self.setAcceptDrops(True)
        self.opener: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests look in
        self._table(FileTableModel(self), "filesTable", FileColumn.NAME,
                    ((FileColumn.SIZE, 100), (FileColumn.ADDED, 130), (FileColumn.ADMIN_ONLY, 90)),
                    sort_by=(FileColumn.ADDED, Qt.SortOrder.DescendingOrder))
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        bar = self._button_bar((
            ("addFile", "Add…", self.choose_files, "Copy files into the client's files "
             "(or drag them from your file manager onto this tab)"),
            ("openFile", "Open", self.open_selected, "Open a copy with its program"),
            ("renameFile", "Rename…", self.rename_selected),
            ("adminOnly", "Admin only", self.toggle_admin_only,
             "Only staff see it: not for the client (and left out of what the client is sent)"),
            ("removeFile", "Remove…", self.remove_selected)), "fileCount")
        self.buttons["adminOnly"].setCheckable(True)

        self.hint = QLabel(self.DROP_HINT)
        self.hint.setObjectName("dropHint")
        self.hint.setWordWrap(True)
        hint_palette = self.hint.palette()
        hint_palette.setColor(QPalette.ColorRole.WindowText,
                              hint_palette.color(QPalette.ColorRole.PlaceholderText))
        self.hint.setPalette(hint_palette)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)
        self._delete_key(self.remove_selected)
        self._follow_selection(self._enable)

    # --- showing

    def count_text(self, records: list[FileRecord]) -> str:
        total = sum(record.size for record in records)
        return super().count_text(records) + (f", {files.human_size(total)}" if records else "")

    def set_read_only(self, read_only: bool) -> None:
        """An archived client's files (C11): listed and opened, not changed."""
        self.read_only = read_only
        self.setAcceptDrops(not read_only)
        self.hint.setText(self.ARCHIVED_HINT if read_only else self.DROP_HINT)
        self._enable()

    def _enable(self) -> None:
        record = self.selected()
        self.buttons["addFile"].setEnabled(not self.read_only)
        self.buttons["openFile"].setEnabled(record is not None)
        for key in ("renameFile", "adminOnly", "removeFile"):
            self.buttons[key].setEnabled(record is not None and not self.read_only)
        admin = self.buttons["adminOnly"]
        admin.blockSignals(True)
        admin.setChecked(record is not None and record.admin_only)
        admin.blockSignals(False)

    # --- adding

    def choose_files(self) -> None:
        if self.read_only:
            return
        start = QSettings().value("client/filesFolder") or QDir.homePath()
        chosen, _filter = QFileDialog.getOpenFileNames(self, "Add files", str(start))
        if chosen:
            QSettings().setValue("client/filesFolder", os.path.dirname(chosen[0]))
            self.add_paths(chosen)

    def add_paths(self, paths: Sequence[str]) -> None:
        """Copy each file in on the worker, one transaction each; say which
        could not be added, and select the last one that was."""
        if self.read_only:
            return
        client_id = self.window_.client_id
        paths = list(paths)

        def work() -> tuple[list[int], list[str]]:
            added: list[int] = []
            refused: list[str] = []
            for n, path in enumerate(paths):
                try:
                    added.append(files.add_file(client_id, path))
                except BilldeskError as exc:
                    refused.append(f"{os.path.basename(path) or path}: {exc.message}")
                    if exc.field not in ("path", "name"):  # about the client: the rest fail too
                        refused += [f"{os.path.basename(p)}: not added" for p in paths[n + 1:]]
                        break
            return added, refused

        def done(result: tuple[list[int], list[str]]) -> None:
            added, refused = result
            if added:
                self.select(added[-1])
            if refused:
                QMessageBox.warning(self, "billdesk", "Not added:\n" + "\n".join(refused))

        self.write(work, None, on_done=done)

    def takes(self, mime: Any) -> list[str]:
        """The dragged local files this tab would add (none while read-only)."""
        return [] if self.read_only else dropped_paths(mime)

    def _files_tab(self) -> FilesTab:
        return self

    def _highlight(self, on: bool) -> None:
        self.view.setStyleSheet("QTableView { border: 2px dashed palette(highlight); }"
                                if on else "")

    # --- the selected file

    def open_selected(self) -> None:
        record = self.selected()
        if record is not None:
            self.open_file(record.id, record.name)

    def open_file(self, file_id: int, name: str) -> None:
        """Open a read-only temporary copy of the file with the program the
        system picks for it (copied on the worker)."""
        session = _session_folder()

        def done(path: Path) -> None:
            if not self.opener(QUrl.fromLocalFile(str(path))):
                QMessageBox.warning(self, "billdesk", f"No program opens {name} on this computer."
                                    f"\n\nA copy is at {path}.")

        self.window_.ops.run(lambda: copy_for_opening(file_id, session), changes=None, on_done=done,
                             on_error=lambda exc: show_error(self, exc))

    def rename_selected(self) -> None:
        record = self._editable()
        if record is None:
            return
        name, ok = QInputDialog.getText(self, "Rename file", "Name:", QLineEdit.EchoMode.Normal,
                                        record.name)
        if not ok or name.strip() == record.name:
            return
        file_id = record.id
        self._write(lambda: files.rename_file(file_id, name), file_id)

    def toggle_admin_only(self) -> None:
        record = self._editable()
        if record is None:
            return
        file_id, flag = record.id, not record.admin_only
        self._write(lambda: files.set_admin_only(file_id, flag), file_id)

    def remove_selected(self) -> None:
        record = self._editable()
        if record is None:
            return
        if not confirmed(self, "Remove file", f"Remove “{record.name}” ({record.size_text}) "
                         "from this client's files? The stored copy is deleted too, unless "
                         "another client has the same file."):
            return
        file_id = record.id
        self._write(lambda: files.remove_file(file_id), None)

    def _write(self, fn: Callable[[], Any], keep: int | None) -> None:
        def failed(exc: BaseException) -> None:
            show_error(self, exc)
            self.load()  # the flag button back as stored

        self.write(fn, keep, on_failed=failed)


class SummaryFiles(FileDrops, QGroupBox):
    """The Summary tab's Files panel (C4, F1), like WHMCS's: the newest few
    files with size and the admin-only mark, each name a link that opens it;
    Add file… (or files dropped on the panel); All files… to the Files tab
    when there are more. Adding and opening go through the window's Files
    tab; the window shows its files here after each load."""

    SHOWN = 5

    def __init__(self, window) -> None:  # noqa: ANN001 (ClientWindow)
        super().__init__("Files", window)
        self.window_ = window
        self.setObjectName("summaryFiles")
        self.setAcceptDrops(True)
        self.setToolTip("Drop files here from your file manager to add them")
        self.records: list[FileRecord] = []
        self.list = link_list("summaryFileList", self._open)
        self.add = QPushButton("Add file…")
        self.add.setObjectName("summaryAddFile")
        self.add.setToolTip("Copy files into the client's files (or drop them on this panel "
                            "from your file manager)")
        self.add.clicked.connect(lambda: self.window_.files.choose_files())
        self.more = QLabel()
        self.more.setObjectName("allFiles")
        self.more.setTextFormat(Qt.TextFormat.RichText)
        self.more.linkActivated.connect(lambda _link: self.window_.tabs.setCurrentWidget(
            self.window_.files))
        self.more.hide()
        row = QHBoxLayout()
        row.addWidget(self.add)
        row.addStretch(1)
        row.addWidget(self.more)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addStretch(1)
        layout.addLayout(row)
        self.show_files([])

    def show_files(self, records: list[FileRecord]) -> None:
        """Show the newest of ``records`` (newest first, as the Files tab has them)."""
        self.records = list(records)
        more = len(self.records) - self.SHOWN
        self.more.setVisible(more > 0)
        self.more.setText(f"<a href='all'>All {len(self.records)} files…</a>" if more > 0 else "")
        self._render()

    def _render(self) -> None:
        """The list, each name cut to the width there is (the size and the
        admin-only mark stay on its line)."""
        shown = self.records[:self.SHOWN]
        if not shown:
            self.list.setText("<i>No files yet.</i>")
            self.list.setToolTip("")
            return
        metrics = self.list.fontMetrics()
        sizes = max(metrics.horizontalAdvance(r.size_text) for r in shown)
        mark = (metrics.horizontalAdvance("admin only") + 8
                if any(r.admin_only for r in shown) else 0)
        room = max(self.list.contentsRect().width() - sizes - mark - 24, 60)
        lines = []
        for record in shown:
            name = metrics.elidedText(record.name, Qt.TextElideMode.ElideMiddle, room)
            flag = (f"<td style='color:{ADMIN_ONLY_COLOUR}; padding-left:8px'>admin only</td>"
                    if record.admin_only else "<td></td>")
            lines.append(f"<tr><td style='padding-right:8px; white-space:nowrap'>"
                         f"<a href='{record.id}'>{html.escape(name)}</a></td>"
                         f"<td align='right' style='white-space:nowrap'>"
                         f"{html.escape(record.size_text)}</td>{flag}</tr>")
        self.list.setText("<table>" + "".join(lines) + "</table>")
        self.list.setToolTip("\n".join(
            f"{r.name}  ({r.size_text}, added {r.added_at:%Y-%m-%d %H:%M}"
            f"{', admin only' if r.admin_only else ''})" for r in shown))

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._render()

    def _open(self, link: str) -> None:
        record = next((r for r in self.records if str(r.id) == link), None)
        if record is not None:
            self.window_.files.open_file(record.id, record.name)

    # --- files dropped on the panel: added as on the Files tab (``FileDrops``)

    def _highlight(self, on: bool) -> None:
        self.list.setStyleSheet("QLabel { border: 2px dashed palette(highlight); }" if on else "")
