"""What the client window's list tabs share (files, notes, orders,
emails): a table of the client's records (a ``_ListModel`` with
``load(client_id)``, ``row(n)`` and an ``IdRole``), a bar of buttons with
the count at its end, the selection kept across a reload, ``select(id)``
to show one record, and writes on the owner's database worker that
reload the tab."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QWidget,
)

from billdesk.errors import NotFound
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole
from billdesk.views.ops import Changes
from billdesk.views.tables import record_view

ButtonSpec = tuple[str, str, Callable[[], Any]] | tuple[str, str, Callable[[], Any], str]


def confirmed(parent: QWidget, title: str, question: str) -> bool:
    """Ask before removing or cancelling something: Yes or No, No the default."""
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def kept_splitter(name: str, key: str, top: QWidget, bottom: QWidget,
                  sizes: list[int]) -> QSplitter:
    """A list above what is selected in it, split to ``sizes`` at first;
    where the user moves the split is kept in QSettings under ``key``."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.setObjectName(name)
    splitter.setChildrenCollapsible(False)
    splitter.addWidget(top)
    splitter.addWidget(bottom)
    splitter.setSizes(sizes)
    state = QSettings().value(key)
    if state is not None:
        splitter.restoreState(state)
    splitter.splitterMoved.connect(lambda _pos, _index: QSettings().setValue(
        key, splitter.saveState()))
    return splitter


def link_list(name: str, on_link: Callable[[str], Any]) -> QLabel:
    """A Summary panel's list of records as rich text, each a link
    (``on_link`` gets its href); long lines are cut, not widening the window."""
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.linkActivated.connect(on_link)
    return label


class RecordTab(QWidget):
    """A tab listing one kind of the owner's client's records. ``owner``
    (the client window, or what stands in for it) gives ``client_id`` and
    ``ops``. Subclasses build their table with ``_table`` and their bar
    with ``_button_bar``, and say how the count reads (``count_text``)."""

    NOUN = "record"  # the count: "1 record", "3 records"
    EMPTY = ""  # what the empty list says: why it is empty, and what to do
    SELECT_FIRST = False  # a load that keeps no selection selects the first row

    model: Any
    view: QTableView

    def __init__(self, owner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owner = owner
        self.read_only = False  # an archived client (C11), where the tab honours it
        self.proxy: QSortFilterProxyModel | None = None
        self.buttons: dict[str, QPushButton] = {}
        self.count = QLabel()

    # --- building

    def _table(self, model: Any, name: str, stretch: int | None,
               widths: Iterable[tuple[int, int]] = (), *,
               sort_by: tuple[int, Qt.SortOrder] | None = None) -> QTableView:
        """``self.model`` shown in ``self.view`` (through ``self.proxy`` when sorted)."""
        self.model = model
        self.view = record_view(model, name, stretch, widths, sort_by=sort_by, parent=self)
        self.view.placeholder = self.EMPTY
        shown = self.view.model()
        self.proxy = shown if isinstance(shown, QSortFilterProxyModel) else None
        return self.view

    def _button(self, key: str, text: str, slot: Callable[[], Any], tip: str = "") -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(key)
        if tip:
            button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons[key] = button
        return button

    def _button_bar(self, specs: Iterable[ButtonSpec], count_name: str) -> QHBoxLayout:
        """The buttons (key, text, slot[, tip]) left, the count right."""
        bar = QHBoxLayout()
        for spec in specs:
            bar.addWidget(self._button(*spec))
        bar.addStretch(1)
        self.count.setObjectName(count_name)
        bar.addWidget(self.count)
        return bar

    def _delete_key(self, slot: Callable[[], Any]) -> None:
        """The Delete key on the table does ``slot``."""
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(slot)

    def _follow_selection(self, slot: Callable[[], None]) -> None:
        """``slot`` now and whenever the selection or the rows change."""
        self.view.selectionModel().selectionChanged.connect(slot)
        self.model.modelReset.connect(slot)
        slot()

    # --- showing

    def count_text(self, records: list[Any]) -> str:
        n = len(records)
        return f"{n} {self.NOUN}{'' if n == 1 else 's'}"

    def load(self) -> None:
        """The client's records as stored; the selected one stays selected."""
        keep = self.selected_id()
        try:
            self.model.load(self.owner.client_id)
        except NotFound:  # the client went: its window closes
            return
        self.count.setText(self.count_text(self.records()))
        if keep is not None and self.select(keep):
            return
        if self.SELECT_FIRST and self.model.rowCount():
            self.view.selectRow(0)

    def records(self) -> list[Any]:
        """The records as last loaded, in the service's order."""
        return [self.model.row(r) for r in range(self.model.rowCount())]

    def selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0] if self.proxy is None else self.proxy.mapToSource(rows[0])
        return self.model.row(index.row())

    def selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(IdRole) if rows else None

    def select(self, record_id: int) -> bool:
        """Select the record and scroll to it; False when it is not listed."""
        shown = self.view.model()
        for row in range(shown.rowCount()):
            index = shown.index(row, 0)
            if index.data(IdRole) == record_id:
                self.view.selectRow(row)
                self.view.scrollTo(index)
                return True
        return False

    def _editable(self) -> Any:
        """The selected record when the tab may change it (none while read-only)."""
        return None if self.read_only else self.selected()

    # --- writing

    def write(self, fn: Callable[[], Any], keep: int | None, *,
              on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None) -> None:
        """Run ``fn`` on the worker as a change of the client; then reload
        and select ``keep`` (or the id ``fn`` returned), then ``on_done``
        with the result. A failure is shown unless ``on_failed`` is given."""
        client_id = self.owner.client_id

        def done(result: Any) -> None:
            self.load()
            target = keep if keep is not None else result if isinstance(result, int) else None
            if target is not None:
                self.select(target)
            if on_done is not None:
                on_done(result)

        self.owner.ops.run(fn, changes=Changes(clients=True, client_id=client_id), on_done=done,
                           on_error=on_failed or (lambda exc: show_error(self, exc)))
