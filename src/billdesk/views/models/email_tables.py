"""The email lists: a client's email log (E4), every client's (the Email
log window) and the email templates (E1).
Rows are the services' plain records (``mail.EmailRow``,
``templates.TemplateInfo``), loaded whole — every client's a page at a
time."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from billdesk.services.outbox import held_back
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import Index, PagedListModel, _ListModel

STATUS_COLOURS = {"Sent": "#2e7d32", "Failed": "#c62828", "Queued": "#9a6b00",
                  "Sending": "#1565c0"}


def status_text(row: Any) -> str:
    """"Sent", "Sent — some recipients were refused: …", "Queued — retrying:
    connection refused", "Failed: 550 …", "Not sent: invoice #7 was paid"."""
    status = row.status
    error = (getattr(row, "error", "") or "").strip()
    if status == "Failed" and held_back(error):  # held back by billdesk: said once
        return error
    if status == "Failed" and error:
        return f"Failed: {error}"
    if status == "Queued" and error:
        return f"Queued — retrying: {error}"
    if status == "Sent" and error:  # delivered, but not to everyone
        return f"Sent — {error}"
    return status


def cc_text(cc: str) -> str:
    """The copied addresses as a person writes them: "a@x.example, b@y.example"
    (stored comma-separated without spaces)."""
    return ", ".join(part.strip() for part in (cc or "").split(",") if part.strip())


def status_colour(row: Any) -> QColor | None:
    """The status column's colour (Sent green, Failed red…; sent to some
    recipients only, amber)."""
    if row.status == "Sent" and (getattr(row, "error", "") or "").strip():
        return QColor(STATUS_COLOURS["Queued"])
    colour = STATUS_COLOURS.get(row.status)
    return QColor(colour) if colour else None


class EmailColumn(IntEnum):
    DATE = 0
    TO = 1
    CC = 2
    SUBJECT = 3
    STATUS = 4


class EmailTableModel(_ListModel):
    """A client's emails, newest first."""

    HEADERS = {EmailColumn.DATE: "Date", EmailColumn.TO: "To", EmailColumn.CC: "Cc",
               EmailColumn.SUBJECT: "Subject", EmailColumn.STATUS: "Status"}

    def load(self, client_id: int) -> None:
        from billdesk.services import mail

        self.set_rows(mail.emails(client_id))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = EmailColumn(index.column())
        if role == SortRole and column == EmailColumn.DATE:
            return row.created_at
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            return {
                EmailColumn.DATE: f"{row.created_at:%Y-%m-%d %H:%M}",
                EmailColumn.TO: row.to_addr,
                EmailColumn.CC: cc_text(row.cc),
                EmailColumn.SUBJECT: row.subject,
                EmailColumn.STATUS: status_text(row),
            }[column]
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.ForegroundRole and column == EmailColumn.STATUS:
            return status_colour(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == EmailColumn.STATUS:
                return status_text(row)
            if column in (EmailColumn.TO, EmailColumn.CC, EmailColumn.SUBJECT):
                return self.data(index)
        return None


class LogColumn(IntEnum):
    DATE = 0
    CLIENT = 1
    TO = 2
    SUBJECT = 3
    STATUS = 4


class EmailLogModel(PagedListModel):
    """Every client's emails, newest first (the Email log window), read a
    page at a time as the list is scrolled."""

    HEADERS = {LogColumn.DATE: "Date", LogColumn.CLIENT: "Client", LogColumn.TO: "To",
               LogColumn.SUBJECT: "Subject", LogColumn.STATUS: "Status"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.show = "waiting"
        self._names: dict[int, str] = {}

    def load(self, show: str | None = None) -> None:
        """The newest page of ``show`` (default: as before); the same view
        read again keeps as many rows as were read so far."""
        same = show is None or show == self.show
        self.show = show or self.show
        if not same:
            self._names = {}
        self.reload(keep=same)

    def read(self, before: int | None, limit: int) -> list[Any]:
        from billdesk.services import mail

        return mail.log(show=self.show, before=before, limit=limit)

    def loaded(self, rows: list[Any]) -> None:
        from billdesk.services import mail

        self._names.update(mail.client_names([row.client_id for row in rows]))

    def client_name(self, row: Any) -> str:
        if row.client_id is None:
            return "—"
        return self._names.get(row.client_id) or f"#{row.client_id}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = LogColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                LogColumn.DATE: f"{row.created_at:%Y-%m-%d %H:%M}",
                LogColumn.CLIENT: self.client_name(row),
                LogColumn.TO: row.to_addr if not row.cc else f"{row.to_addr}, cc {cc_text(row.cc)}",
                LogColumn.SUBJECT: row.subject,
                LogColumn.STATUS: status_text(row),
            }[column]
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.ForegroundRole and column == LogColumn.STATUS:
            return status_colour(row)
        if role == Qt.ItemDataRole.ToolTipRole and column != LogColumn.DATE:
            return self.data(index)
        return None


class TemplateColumn(IntEnum):
    NAME = 0
    LANGUAGE = 1
    CATEGORY = 2
    STATE = 3


class TemplateTableModel(_ListModel):
    """Every email template, built-in and custom, per language."""

    HEADERS = {TemplateColumn.NAME: "Template", TemplateColumn.LANGUAGE: "Lang.",
               TemplateColumn.CATEGORY: "Copies contacts on", TemplateColumn.STATE: "State"}

    def load(self) -> None:
        from billdesk.services import templates

        self.set_rows(templates.list_templates())

    def find(self, name: str, language: str) -> int:
        for n, info in enumerate(self._rows):
            if info.name == name and info.language == language:
                return n
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        info = self._rows[index.row()]
        column = TemplateColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            state = []
            if info.kind == "custom":
                state.append("custom")
            elif info.customised:
                state.append("customised")
            if info.disabled:
                state.append("disabled")
            return {
                TemplateColumn.NAME: template_label(info.name),
                TemplateColumn.LANGUAGE: info.language,
                TemplateColumn.CATEGORY: info.category,
                TemplateColumn.STATE: ", ".join(state),
            }[column]
        if role == IdRole:
            return (info.name, info.language)
        if role == Qt.ItemDataRole.FontRole and column == TemplateColumn.NAME and info.customised:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and info.disabled:
            return QColor("#8a8a8a")
        return None


def template_label(name: str) -> str:
    """A built-in template by its readable name; a custom one as named."""
    from billdesk.services.templates import KIND_LABELS

    return KIND_LABELS.get(name, name) if name != "custom" else name
