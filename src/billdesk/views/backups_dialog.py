"""File → Backups… (D3, JOURNEYS 7): the backups of the book, newest first —
when, why, whether the rotation keeps them — with Back up now and Restore….
Restoring asks first, naming what happens; the main window closes the
client windows and runs it on the database worker (``MainWindow.
restore_backup``)."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import files
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole
from billdesk.views.models.simple_tables import Index, _ListModel
from billdesk.views.ops import Operations
from billdesk.views.record_tab import confirmed
from billdesk.views.tables import PlaceholderTable, setup_table

REASONS = {"automation": "Before the daily run", "bench": "Benchmark",
           "by-hand": "Backed up by hand", "before-restore": "Before a restore",
           "before-merge": "Before merging clients", "before-close": "Before closing a client",
           "before-delete": "Before deleting a client",
           "before-anonymize": "Before anonymizing a client",
           "before-archive": "Before archiving a client",
           "before-currency": "Before converting a client's currency"}


REMOVING = ("before-delete", "before-merge")  # taken before an action that ends the client


def reason_text(reason: str) -> str:
    if reason in REASONS:
        return REASONS[reason]
    if reason.startswith("before-migration-v"):
        return f"Before updating the book (migration {reason.rpartition('v')[2]})"
    return reason.replace("-", " ").capitalize()


def why_text(info: Any, names: dict[int, str] | None = None, *, inline: bool = False) -> str:
    """Why a backup was taken, with whose it was: "Before deleting a
    client: #12 Jane Smith" (``inline``: to go inside a sentence)."""
    text = reason_text(info.reason)
    if info.client_id is not None:
        from billdesk.services import activity

        name = None
        if info.reason in REMOVING:  # as it was called when it went (its id may be reused)
            name = activity.removed_name(info.client_id, info.created)
        if name is None and info.reason not in REMOVING:
            if names is None:
                names = activity.client_names([info.client_id])
            name = names.get(info.client_id)
        text += f": #{info.client_id}" + (f" {name}" if name else "")
    return text[:1].lower() + text[1:] if inline else text


class BackupColumn(IntEnum):
    TAKEN = 0
    WHY = 1
    KEPT = 2
    SIZE = 3


class BackupTableModel(_ListModel):
    """The backups in the folder, newest first (``backup.BackupInfo``)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.names: dict[int, str] = {}  # the clients the backups were taken for

    HEADERS = {BackupColumn.TAKEN: "Taken", BackupColumn.WHY: "Why",
               BackupColumn.KEPT: "Kept", BackupColumn.SIZE: "Size"}
    MONEY_COLUMNS = frozenset({BackupColumn.SIZE})  # (right-aligned)

    def load(self) -> None:
        from billdesk.services import activity, backup

        rows = list(reversed(backup.backups()))
        self.names = activity.client_names([r.client_id for r in rows if r.client_id])
        self.set_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        info = self._rows[index.row()]
        column = BackupColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {BackupColumn.TAKEN: f"{info.created:%Y-%m-%d %H:%M:%S}",
                    BackupColumn.WHY: why_text(info, self.names),
                    BackupColumn.KEPT: "the last 10 of this kind" if info.automatic
                    else "until you delete it",
                    BackupColumn.SIZE: files.human_size(info.size)}[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == BackupColumn.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(info.path)
        if role == IdRole:
            return str(info.path)
        return None


class BackupsDialog(QDialog):
    """The book's backups; ``restore(path)`` is the main window's."""

    def __init__(self, ops: Operations, restore: Callable[[Path], None],
                 parent: QWidget | None = None) -> None:
        from billdesk.services import backup

        super().__init__(parent)
        self.setObjectName("backupsDialog")
        self.setWindowTitle("Backups")
        self.ops = ops
        self.restore_ = restore
        intro = QLabel(
            f"Copies of the whole book, in {backup.book_folder()}. billdesk takes one before "
            "each daily run and before it merges, closes, archives, deletes or anonymizes a "
            "client or converts its currency; the "
            "last 10 of each kind are kept. Back up now takes one that is kept until you "
            "delete it. Restore puts the book back as a backup holds it — after backing up "
            "the book as it is, so a restore can be undone too.")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = BackupTableModel(self)
        self.view = PlaceholderTable()
        self.view.setObjectName("backupList")
        self.view.setModel(self.model)
        setup_table(self.view, BackupColumn.WHY)
        for column, width in ((BackupColumn.TAKEN, 150), (BackupColumn.KEPT, 170),
                              (BackupColumn.SIZE, 80)):
            self.view.setColumnWidth(column, width)
        self.view.placeholder = ("No backups yet. The first is taken before the first daily "
                                 "run; Back up now takes one at once.")
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._selection())
        self.view.doubleClicked.connect(lambda _i: self._restore())
        self.backup_now = QPushButton("Back up now")
        self.backup_now.setObjectName("backupNow")
        self.backup_now.clicked.connect(self._backup_now)
        self.restore_button = QPushButton("Restore…")
        self.restore_button.setObjectName("restoreBackup")
        self.restore_button.clicked.connect(self._restore)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deleteBackup")
        self.delete_button.clicked.connect(self._delete)
        self.state = QLabel()
        self.state.setObjectName("backupState")
        self.state.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.backup_now)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.state, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.resize(760, 460)
        self.reload()

    def reload(self) -> None:
        self.model.load()
        if self.model.rowCount():
            self.view.selectRow(0)
        self._selection()

    def selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selection(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None)
        self.delete_button.setEnabled(self.selected() is not None)

    def _backup_now(self) -> None:
        from billdesk.services import backup

        self.backup_now.setEnabled(False)
        self.state.setText("Backing up…")

        def done(path: Path) -> None:
            self.backup_now.setEnabled(True)
            self.state.setText(f"Backed up to {path.name}.")
            self.reload()

        def failed(exc: BaseException) -> None:
            self.backup_now.setEnabled(True)
            self.state.setText("")
            show_error(self, exc)

        self.ops.run(lambda: backup.backup(reason="by-hand", automatic=False), changes=None,
                     on_done=done, on_error=failed)

    def _delete(self) -> None:
        from billdesk.services import backup

        info = self.selected()
        if info is None:
            return
        if not confirmed(self, "Delete backup",
                         f"Delete the backup taken {info.created:%Y-%m-%d %H:%M} "
                         f"({why_text(info, self.model.names, inline=True)})? It cannot be "
                         "restored afterwards; the book itself does not change."):
            return
        path = info.path

        def done(_result: Any) -> None:
            self.state.setText(f"Deleted {path.name}.")
            self.reload()

        self.ops.run(lambda: backup.delete_backup(path), changes=None, on_done=done,
                     on_error=lambda exc: show_error(self, exc))

    def _restore(self) -> None:
        info = self.selected()
        if info is not None:
            self.restore_(info.path)
