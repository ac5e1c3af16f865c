"""How every data table in billdesk looks: whole-row selection, one line
per row at a compact height, and the free width given to one text column
(never to an amount)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


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
