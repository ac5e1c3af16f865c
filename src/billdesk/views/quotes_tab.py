"""A client's quotes in the client window (B4, C3, C4): the Quotes tab
(list with a stage filter; New quote…, Edit…, Convert to invoice, Save
PDF…, Delete) and ``CurrentQuotes``, the Summary tab's list of quotes still
on offer (valid until today or later, not Accepted, Lost or Dead).

Writes run on the database worker and report ``Changes(quotes=True, …)``
(a conversion also ``billing=True``); both widgets reload themselves when
such a change touches their client, so they work in any window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError
from billdesk.services import invoicing, quotes
from billdesk.services.quotes import QuoteRecord
from billdesk.views import fmt
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.quote_tables import QuoteColumn, QuoteTableModel
from billdesk.views.notices import file_saved
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import PlaceholderTable, setup_table

ALL_STAGES = "All stages"


class Owner(Protocol):
    """What the list needs from the window it sits in."""

    client_id: int
    ops: Operations

    def open_invoice(self, invoice_id: int) -> None: ...


def _open_invoice(owner: Any, parent: QWidget, invoice_id: int) -> None:
    """The owner's way of opening an invoice, else an editor of our own."""
    opener = getattr(owner, "open_invoice", None)
    if opener is not None:
        opener(invoice_id)
        return
    from billdesk.views.invoice_editor import open_editor

    open_editor(owner.ops, invoice_id, parent.window())


class QuoteList(QWidget):
    """The Quotes tab for the owner's client."""

    converted = Signal(int, int)  # quote id, invoice id

    def __init__(self, owner: Owner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quoteList")
        self.owner = owner
        self.editor: QDialog | None = None  # the last editor opened
        self.last_report = ""

        self.model = QuoteTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = PlaceholderTable()
        self.view.setObjectName("quotesTable")
        self.view.setModel(self.proxy)
        setup_table(self.view, QuoteColumn.SUBJECT)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(QuoteColumn.ID, Qt.SortOrder.DescendingOrder)
        for column, width in ((QuoteColumn.ID, 70), (QuoteColumn.DATE, 95),
                              (QuoteColumn.VALID_UNTIL, 95), (QuoteColumn.TOTAL, 110),
                              (QuoteColumn.STAGE, 90), (QuoteColumn.INVOICE, 130)):
            self.view.setColumnWidth(column, width)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())

        self.stage_filter = QComboBox()
        self.stage_filter.setObjectName("stageFilter")
        self.stage_filter.addItem(ALL_STAGES, None)
        for stage in quotes.STAGES:
            self.stage_filter.addItem(stage, stage)
        self.stage_filter.currentIndexChanged.connect(lambda _i: self.load())
        self.count = QLabel()
        self.count.setObjectName("quoteCount")

        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        for key, text, slot in (("newQuote", "New quote…", self.new_quote),
                                ("editQuote", "Edit…", self.edit_selected),
                                ("convertQuote", "Convert to invoice", self.convert_selected),
                                ("quotePdf", "Save PDF…", self.save_pdf),
                                ("deleteQuote", "Delete", self.delete_selected)):
            top.addWidget(self._button(key, text, slot))
        top.addStretch(1)
        top.addWidget(self.count)
        top.addWidget(QLabel("Stage:"))
        top.addWidget(self.stage_filter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

        self.view.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        self.model.modelReset.connect(self._enable)
        owner.ops.changed.connect(self._changed)
        self.load()

    def _button(self, name: str, text: str, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons[name] = button
        return button

    # --- showing

    def stage(self) -> str | None:
        return self.stage_filter.currentData()

    def load(self) -> None:
        selected = self.selected()
        try:
            self.model.load(self.owner.client_id, self.stage())
        except BilldeskError:  # the client went away
            self.model.set_records([])
        total = quotes.count(self.owner.client_id)
        shown = self.model.rowCount()
        self.view.placeholder = ("No quotes yet. New quote… writes one to send the client."
                                 if not total else f"No quotes at stage {self.stage()}. "
                                 f"{ALL_STAGES} lists every one.")
        self.count.setText(f"{shown} of {total} quotes" if shown != total else
                           f"{total} quote{'' if total == 1 else 's'}")
        if selected is not None:
            self.select(selected.id)
        self._enable()

    def _changed(self, changes: Changes) -> None:
        if not shiboken6.isValid(self):  # closed with its window
            return
        if (changes.quotes or changes.billing or changes.clients) and \
                changes.touches(self.owner.client_id):
            self.load()

    def selected(self) -> QuoteRecord | None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if not rows:
            return None
        quote_id = rows[0].data(IdRole)
        row = self.model.row_of(quote_id)
        return self.model.record(row) if row is not None else None

    def select(self, quote_id: int) -> bool:
        row = self.model.row_of(quote_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.view.selectRow(index.row())
        return True

    def _enable(self) -> None:
        q = self.selected()
        self.buttons["editQuote"].setEnabled(q is not None)
        self.buttons["convertQuote"].setEnabled(q is not None and not q.converted and bool(q.lines))
        self.buttons["convertQuote"].setToolTip(
            "" if q is None or not q.converted else "Already converted to an invoice")
        self.buttons["quotePdf"].setEnabled(q is not None)
        self.buttons["deleteQuote"].setEnabled(q is not None)

    # --- actions

    def _run(self, fn: Callable[[], Any], *, billing: bool = False,
             on_done: Callable[[Any], None] | None = None) -> None:
        self.owner.ops.run(fn, changes=Changes(quotes=True, billing=billing,
                                               client_id=self.owner.client_id),
                           on_done=on_done, on_error=lambda exc: show_error(self, exc))

    def _open(self, dialog: QDialog) -> None:
        self.editor = dialog
        dialog.saved.connect(self.select_later)
        dialog.open()

    def select_later(self, quote_id: int) -> None:
        self.load()
        self.select(quote_id)

    def new_quote(self) -> None:
        from billdesk.views.quote_editor import QuoteEditor

        try:
            self._open(QuoteEditor(self.owner.ops, self.owner.client_id, None, self))
        except BilldeskError as exc:
            show_error(self, exc)

    def edit_selected(self) -> None:
        from billdesk.views.quote_editor import QuoteEditor

        q = self.selected()
        if q is None:
            return
        try:
            self._open(QuoteEditor(self.owner.ops, self.owner.client_id, q.id, self))
        except BilldeskError as exc:
            show_error(self, exc)

    def convert_selected(self) -> None:
        """Make the quote an invoice (once), then offer to open it."""
        q = self.selected()
        if q is None:
            return
        if q.converted:
            self.last_report = f"Quote #{q.id} was already converted to an invoice."
            QMessageBox.information(self, "Convert to invoice", self.last_report)
            return
        answer = QMessageBox.question(
            self, "Convert to invoice",
            f"Make an invoice of quote #{q.id} ({fmt.money(q.total)})?\n\nThe invoice is "
            "published with the quote's lines and tax, and the quote becomes Accepted.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            return
        quote_id = q.id

        def work() -> tuple[int, str]:
            invoice_id = quotes.convert(quote_id)
            return invoice_id, invoicing.get_invoice(invoice_id).label

        self._run(work, billing=True, on_done=lambda found: self._converted(quote_id, *found))

    def _converted(self, quote_id: int, invoice_id: int, label: str) -> None:
        self.last_report = f"Quote #{quote_id} converted to invoice {label}."
        self.converted.emit(quote_id, invoice_id)
        answer = QMessageBox.question(
            self, "Convert to invoice", f"{self.last_report}\n\nOpen it in the invoice editor?",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close,
            QMessageBox.StandardButton.Open)
        if answer == QMessageBox.StandardButton.Open:
            _open_invoice(self.owner, self, invoice_id)

    def save_pdf(self) -> None:
        q = self.selected()
        if q is None:
            return
        folder = QSettings().value("pdf/folder", str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(self, "Save quote PDF",
                                              str(Path(folder) / f"quote-{q.id}.pdf"),
                                              "PDF files (*.pdf)")
        if not path:
            return
        QSettings().setValue("pdf/folder", str(Path(path).parent))
        self.write_pdf(q.id, path)

    def write_pdf(self, quote_id: int, path: str) -> None:
        from billdesk.services import quote_documents

        self.owner.ops.run(lambda: quote_documents.quote_pdf(quote_id, path), changes=None,
                           on_done=lambda _data: file_saved(self, path, "The quote PDF"),
                           on_error=lambda exc: show_error(self, exc))

    def delete_selected(self) -> None:
        q = self.selected()
        if q is None:
            return
        extra = " The invoice made from it stays." if q.converted else ""
        answer = QMessageBox.question(
            self, "Delete quote", f"Delete quote #{q.id}"
            + (f" ({q.subject})" if q.subject else "") + f"?{extra} This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        quote_id = q.id
        self._run(lambda: quotes.delete_quote(quote_id))


class CurrentQuotes(QGroupBox):
    """The Summary tab's quotes still on offer, soonest to run out first.
    With an ``owner`` it follows changes by itself and a double click opens
    the quote in the editor. ``counted`` says how many it shows."""

    counted = Signal(int)

    def __init__(self, owner: Owner | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Current quotes", parent)
        self.setObjectName("currentQuotes")
        self.owner = owner
        self.client_id: int | None = None
        self.editor: QDialog | None = None
        self.model = QuoteTableModel(self)
        self.view = QTableView()
        self.view.setObjectName("currentQuotesTable")
        self.view.setModel(self.model)
        setup_table(self.view, QuoteColumn.SUBJECT)
        for column in (QuoteColumn.DATE, QuoteColumn.INVOICE):
            self.view.setColumnHidden(column, True)
        for column, width in ((QuoteColumn.ID, 70), (QuoteColumn.VALID_UNTIL, 95),
                              (QuoteColumn.TOTAL, 110), (QuoteColumn.STAGE, 90)):
            self.view.setColumnWidth(column, width)
        self.empty = QLabel("No current quotes.")
        self.empty.setObjectName("noCurrentQuotes")
        self.empty.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        if owner is not None:
            self.follow(owner)

    def follow(self, owner: Owner) -> None:
        """Show the owner's client, follow its changes, open quotes on a
        double click."""
        self.owner = owner
        self.view.doubleClicked.connect(self._open)
        owner.ops.changed.connect(self._changed)
        self.load(owner.client_id)

    def load(self, client_id: int) -> None:
        self.client_id = client_id
        try:
            found = quotes.current_quotes(client_id)
        except BilldeskError:
            found = []
        self.model.set_records(found)
        self.view.setVisible(bool(found))
        self.empty.setVisible(not found)
        self.setTitle(f"Current quotes ({len(found)})" if found else "Current quotes")
        self.counted.emit(len(found))

    def records(self) -> list[QuoteRecord]:
        return self.model.records()

    def _changed(self, changes: Changes) -> None:
        if not shiboken6.isValid(self):
            return
        if self.client_id is not None and (changes.quotes or changes.clients) \
                and changes.touches(self.client_id):
            self.load(self.client_id)

    def _open(self, index: Any) -> None:
        from billdesk.views.quote_editor import QuoteEditor

        if self.owner is None or self.client_id is None:
            return
        quote_id = index.data(IdRole)
        try:
            self.editor = QuoteEditor(self.owner.ops, self.client_id, quote_id, self)
        except BilldeskError as exc:
            show_error(self, exc)
            return
        self.editor.open()
