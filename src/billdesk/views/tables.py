"""How every data table in billdesk looks: whole-row selection, one line
per row at a compact height, and the free width given to one text column
(never to an amount)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QStyledItemDelegate,
    QTableView,
    QWidget,
)

from billdesk.views.models import SortRole


class PlaceholderTable(QTableView):
    """A table that says, while it has no rows, why and what to do
    (``placeholder``), in the viewport's placeholder colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = ""

    def paintEvent(self, event: QEvent) -> None:  # type: ignore[override]  # noqa: N802
        super().paintEvent(event)
        if self.placeholder and self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(20, 40, -20, 0),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                 | Qt.TextFlag.TextWordWrap), self.placeholder)
            painter.end()


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


def text_width(view: QTableView, texts: Iterable[str], padding: int = 24) -> int:
    """A column's width that shows the longest of ``texts`` whole."""
    metrics = view.fontMetrics()
    return max((metrics.horizontalAdvance(t) for t in texts), default=0) + padding


def record_view(model: QAbstractItemModel, name: str, stretch: int | None,
                widths: Iterable[tuple[int, int]] = (), *,
                sort_by: tuple[int, Qt.SortOrder] | None = None,
                parent: QObject | None = None) -> PlaceholderTable:
    """A list's table view named ``name`` over ``model``, set up as above
    with the given column widths. With ``sort_by`` (column, order) it shows
    the model through a ``QSortFilterProxyModel`` on ``SortRole`` (owned by
    ``parent``; ``view.model()``), sorted that way and sortable by a click
    on a header."""
    view = PlaceholderTable()
    view.setObjectName(name)
    if sort_by is not None:
        proxy = QSortFilterProxyModel(parent)
        proxy.setSourceModel(model)
        proxy.setSortRole(SortRole)
        model = proxy
    view.setModel(model)
    setup_table(view, stretch)
    if sort_by is not None:
        view.setSortingEnabled(True)
        view.sortByColumn(*sort_by)
    for column, width in widths:
        view.setColumnWidth(column, width)
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
