"""Find one client by name, company, email or id as one types: the search
box and the result list that the merge dialog and the affiliate's client
picker share. Each result holds the client's id (``Qt.UserRole``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QListWidget, QListWidgetItem, QWidget

from billdesk.services import clientlist, clients, settings


class ClientSearch:
    """``search`` (a line edit) and ``results`` (a list) for the caller's
    layout; ``find`` fills the list 150 ms after the last keystroke, without
    the ``exclude`` client; a lone match is selected when ``select_single``."""

    def __init__(self, owner: QWidget, *, name: str, placeholder: str, empty: str,
                 exclude: int | None = None, select_single: bool = False) -> None:
        self.exclude, self.empty, self.select_single = exclude, empty, select_single
        self.search = QLineEdit()
        self.search.setObjectName(f"{name}Search")
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName(f"{name}Results")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._soon = QTimer(owner)
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)
        self._soon.timeout.connect(self.find)
        self.search.textChanged.connect(lambda _t: self._soon.start())

    def find(self) -> None:
        self._soon.stop()
        text = self.search.text().strip()
        self.results.clear()
        if not text:
            return
        style = settings.display_format()
        for row in clientlist.page(clientlist.ClientQuery(search=text), limit=50):
            if row.id == self.exclude:
                continue
            name = clients.display_name(row.first_name, row.last_name, row.company, style)
            parts = [f"#{row.id} {name}"]
            if row.company and row.company not in name:
                parts.append(row.company)
            parts.append(row.email)
            item = QListWidgetItem(" — ".join(parts))
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.results.addItem(item)
        if self.results.count() == 0:
            item = QListWidgetItem(self.empty.format(text=text))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(item)
        elif self.results.count() == 1 and self.select_single:
            self.results.setCurrentRow(0)

    @staticmethod
    def picked(item: QListWidgetItem | None) -> int | None:
        """The id a result holds (None for none or the no-match line)."""
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)
