"""How every data table in billdesk looks: whole-row selection, one line
per row at a compact height, and the free width given to one text column
(never to an amount)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLineEdit, QStyledItemDelegate, QTableView


def setup_table(view: QTableView, stretch: int | None = None, *, editable: bool = False,
                row_numbers: bool = False) -> QTableView:
    """Call after ``setModel``: the header keeps per-column modes only for
    columns that exist."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if not editable:
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(row_numbers)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


class LiveDelegate(QStyledItemDelegate):
    """Commits every keystroke, so amounts and totals follow the typing;
    editors of the model's right-aligned columns (``RIGHT_COLUMNS``) align
    right too."""

    def createEditor(self, parent, option, index):  # noqa: ANN001, ANN201
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit):
            editor.textEdited.connect(lambda _text, e=editor: self.commitData.emit(e))
            if index.column() in getattr(index.model(), "RIGHT_COLUMNS", ()):
                editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        return editor
