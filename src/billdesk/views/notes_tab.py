"""The client window's Notes tab (F2): dated notes, sticky ones first.

The list shows each note's date, a sticky marker and its first line; the
selected note's whole text below it. Under that a box to write a new note
("Sticky" keeps it on top; Ctrl+Enter adds it). Edit…, Make sticky /
Unsticky and Delete… act on the selected note. Writes run on the database
worker and report ``Changes(clients=True, client_id=…)``. (The Summary
tab's "Admin notes" box is the client's one free-text note; the sticky
notes also show across the top of the Summary tab, ``StickyNotes``.)"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QMouseEvent, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
)

from billdesk.services import notes
from billdesk.services.notes import NoteRecord
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import Index, _ListModel
from billdesk.views.record_tab import RecordTab, confirmed, kept_splitter

PIN = "★"


class NoteColumn(IntEnum):
    DATE = 0
    STICKY = 1
    NOTE = 2


class NoteTableModel(_ListModel):
    """A client's notes as the service orders them: sticky first, then newest."""

    HEADERS = {NoteColumn.DATE: "Date", NoteColumn.STICKY: "Sticky", NoteColumn.NOTE: "Note"}

    def load(self, client_id: int) -> None:
        self.set_rows(notes.list_notes(client_id))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        note: NoteRecord = self._rows[index.row()]
        column = NoteColumn(index.column())
        if role == SortRole:
            return {NoteColumn.DATE: note.created_at, NoteColumn.STICKY: int(note.sticky),
                    NoteColumn.NOTE: note.text.casefold()}[column]
        if role == Qt.ItemDataRole.DisplayRole:
            first = note.first_line
            if note.text.count("\n"):
                first += "  …"
            return {NoteColumn.DATE: f"{note.created_at:%Y-%m-%d %H:%M}",
                    NoteColumn.STICKY: f"{PIN} Sticky" if note.sticky else "",
                    NoteColumn.NOTE: first}[column]
        if role == IdRole:
            return note.id
        if role == Qt.ItemDataRole.FontRole and note.sticky and column == NoteColumn.NOTE:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == NoteColumn.STICKY:
            return QColor("#9a6b00")
        if role == Qt.ItemDataRole.ToolTipRole and column == NoteColumn.NOTE:
            return note.text
        return None


class NoteDialog(QDialog):
    """Edit a note's text and sticky flag; saves on the worker."""

    def __init__(self, tab: NotesTab, note: NoteRecord) -> None:
        super().__init__(tab)
        self.tab = tab
        self.note_id = note.id
        self.setWindowTitle(f"Note of {note.created_at:%Y-%m-%d %H:%M}")
        self.text = QPlainTextEdit(note.text)
        self.text.setObjectName("noteEditText")
        self.sticky = QCheckBox("Sticky (kept on top)")
        self.sticky.setObjectName("noteEditSticky")
        self.sticky.setChecked(note.sticky)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.sticky)
        layout.addWidget(self.buttons)
        self.resize(520, 320)

    def save(self) -> None:
        text, sticky, note_id = self.text.toPlainText(), self.sticky.isChecked(), self.note_id
        self.buttons.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)  # the typing stays to fix
            show_error(self, exc)

        self.tab.write(lambda: notes.update_note(note_id, text=text, sticky=sticky), note_id,
                       on_done=lambda _result: self.accept(), on_failed=failed)


class NotesTab(RecordTab):
    """Dated notes of the window's client, with the box for a new one."""

    NOUN = "note"
    EMPTY = "No notes yet. Add note keeps a dated note; a sticky one shows on the Summary."

    def __init__(self, window) -> None:  # noqa: ANN001 (ClientWindow)
        super().__init__(window, window)
        self.window_ = window
        self.setObjectName("notesTab")
        self.dialog: NoteDialog | None = None  # the last edit dialog opened
        self._table(NoteTableModel(self), "notesTable", NoteColumn.NOTE,
                    ((NoteColumn.DATE, 130), (NoteColumn.STICKY, 90)))
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())
        bar = self._button_bar((("editNote", "Edit…", self.edit_selected),
                                ("stickNote", "Make sticky", self.toggle_sticky),
                                ("deleteNote", "Delete…", self.delete_selected)), "noteCount")

        self.reader = QPlainTextEdit()
        self.reader.setObjectName("noteText")
        self.reader.setReadOnly(True)
        self.reader.setPlaceholderText("Select a note to read all of it.")

        self.splitter = kept_splitter("notesSplitter", "client/notesSplitter", self.view,
                                      self.reader, [300, 120])

        # a new note
        self.new_text = QPlainTextEdit()
        self.new_text.setObjectName("newNote")
        self.new_text.setPlaceholderText("Write a note… (Ctrl+Enter adds it)")
        self.new_text.setFixedHeight(self.new_text.fontMetrics().height() * 4 + 14)
        self.new_sticky = QCheckBox("Sticky (kept on top)")
        self.new_sticky.setObjectName("newNoteSticky")
        self.add = QPushButton("Add note")
        self.add.setObjectName("addNote")
        self.add.setDefault(False)
        self.add.setEnabled(False)
        self.add.clicked.connect(self.add_note)
        self.new_text.textChanged.connect(
            lambda: self.add.setEnabled(bool(self.new_text.toPlainText().strip())))
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.new_text)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.add_note)
        self.new_box = new_box = QGroupBox("New note")
        nl = QVBoxLayout(new_box)
        nl.addWidget(self.new_text)
        row = QHBoxLayout()
        row.addWidget(self.new_sticky)
        row.addStretch(1)
        row.addWidget(self.add)
        nl.addLayout(row)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(new_box)
        self._delete_key(self.delete_selected)
        self._follow_selection(self._selection)

    # --- showing

    def count_text(self, records: list[NoteRecord]) -> str:
        sticky = sum(1 for note in records if note.sticky)
        return super().count_text(records) + (f", {sticky} sticky" if sticky else "")

    def set_read_only(self, read_only: bool) -> None:
        """An archived client's notes (C11): read, not written."""
        self.read_only = read_only
        self.new_box.setEnabled(not read_only)
        self.new_text.setPlaceholderText("The client is archived: unarchive it to add notes."
                                         if read_only else "Write a note… (Ctrl+Enter adds it)")
        self._selection()

    def _selection(self) -> None:
        note = self.selected()
        for button in self.buttons.values():
            button.setEnabled(note is not None and not self.read_only)
        self.buttons["stickNote"].setText("Unsticky" if note is not None and note.sticky
                                          else "Make sticky")
        if note is None:
            self.reader.clear()
        else:
            edited = f", edited {note.updated_at:%Y-%m-%d %H:%M}" if note.edited else ""
            self.reader.setPlainText(note.text)
            self.reader.setToolTip(f"Written {note.created_at:%Y-%m-%d %H:%M}{edited}")

    # --- writing

    def add_note(self) -> None:
        if self.read_only:
            return
        text = self.new_text.toPlainText()
        if not text.strip() or not self.add.isEnabled():
            return
        sticky = self.new_sticky.isChecked()
        client_id = self.window_.client_id
        self.add.setEnabled(False)

        def added(_note_id: int) -> None:
            self.new_text.clear()
            self.new_sticky.setChecked(False)

        def failed(exc: BaseException) -> None:
            self.add.setEnabled(True)  # the typing stays to try again
            show_error(self, exc)

        self.write(lambda: notes.add_note(client_id, text, sticky=sticky), None, on_done=added,
                   on_failed=failed)

    def edit_selected(self) -> None:
        note = self._editable()
        if note is None:
            return
        self.dialog = NoteDialog(self, note)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog.open()

    def toggle_sticky(self) -> None:
        note = self._editable()
        if note is None:
            return
        note_id, sticky = note.id, not note.sticky
        self.write(lambda: notes.update_note(note_id, sticky=sticky), note_id)

    def delete_selected(self) -> None:
        note = self._editable()
        if note is None:
            return
        if not confirmed(self, "Delete note", f"Delete the note of {note.created_at:%Y-%m-%d %H:%M}"
                         f", “{notes.gist(note.text)}”?"):
            return
        note_id = note.id
        self.write(lambda: notes.delete_note(note_id), None)

    def unsaved(self) -> bool:
        """Whether a new note is typed and not added."""
        return bool(self.new_text.toPlainText().strip())


class _ElidedLabel(QLabel):
    """One line of plain text, cut with an ellipsis to the width it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full(self, text: str) -> None:
        self.full = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight,
                                                   max(self.width(), 40)))


class StickyNotes(QFrame):
    """The client's sticky notes across the top of the Summary tab (F2),
    like WHMCS's: date and first line of each on a yellow note, hidden when
    there are none. A click goes to the Notes tab with that note selected.
    The window shows its notes here after each load."""

    SHOWN = 3
    STYLE = ("#stickyNotes { background: #fff4b8; border: 1px solid #e2c85c; border-radius: 3px; }"
             "#stickyNotes QLabel { color: #4d3d00; background: transparent; border: none; }")

    def __init__(self, window) -> None:  # noqa: ANN001 (ClientWindow)
        super().__init__(window)
        self.window_ = window
        self.setObjectName("stickyNotes")
        self.setStyleSheet(self.STYLE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.notes: list[NoteRecord] = []
        self.dates: list[QLabel] = []
        self.texts: list[_ElidedLabel] = []
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 5, 10, 5)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        for n in range(self.SHOWN):
            date = QLabel()
            date.setObjectName(f"stickyDate{n}")
            font = date.font()
            font.setBold(True)
            date.setFont(font)
            text = _ElidedLabel()
            text.setObjectName(f"stickyText{n}")
            grid.addWidget(date, n, 0)
            grid.addWidget(text, n, 1)
            self.dates.append(date)
            self.texts.append(text)
        self.more = QLabel()
        self.more.setObjectName("stickyMore")
        grid.addWidget(self.more, self.SHOWN, 1)
        grid.setColumnStretch(1, 1)
        self.hide()

    def show_notes(self, records: list[NoteRecord]) -> None:
        """Show the sticky ones among ``records`` (all of a client's notes)."""
        self.notes = [note for note in records if note.sticky]
        for n, (date, text) in enumerate(zip(self.dates, self.texts)):
            note = self.notes[n] if n < len(self.notes) else None
            date.setVisible(note is not None)
            text.setVisible(note is not None)
            if note is not None:
                date.setText(f"{PIN} {note.created_at:%Y-%m-%d}")
                lines = note.text.splitlines()
                text.set_full(note.first_line + ("  …" if len(lines) > 1 else ""))
                text.setToolTip(note.text)
        more = len(self.notes) - self.SHOWN
        self.more.setVisible(more > 0)
        self.more.setText(f"and {more} more sticky note{'' if more == 1 else 's'}…"
                          if more > 0 else "")
        self.setToolTip("Sticky notes: click to open them on the Notes tab")
        self.setVisible(bool(self.notes))

    def note_at(self, y: int) -> NoteRecord | None:
        """The note shown on the line at ``y`` (in this widget)."""
        for n, text in enumerate(self.texts):
            if n < len(self.notes) and text.isVisible():
                line = text.geometry().united(self.dates[n].geometry())
                if y <= line.bottom() + 1:
                    return self.notes[n]
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the release comes here

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.rect().contains(
                event.position().toPoint()):
            return
        self.open_note(self.note_at(event.position().toPoint().y()))

    def open_note(self, note: NoteRecord | None = None) -> None:
        """The Notes tab, with ``note`` selected when given."""
        notes_tab = self.window_.notes
        self.window_.tabs.setCurrentWidget(notes_tab)
        if note is not None:
            notes_tab.select(note.id)
