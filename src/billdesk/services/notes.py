"""A client's dated notes (F2), sticky ones first. (The one free-text
"Admin notes" box of the Summary tab is ``client.notes``, in clients.py.)

Every write is logged on the client's log in its own transaction and
refused for an archived client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billdesk.errors import NotFound
from billdesk.models import database, now
from billdesk.models.tables import ClientNote
from billdesk.services import changelog, clients, validate

TEXT_LIMIT = 20000
GIST_LENGTH = 60


@dataclass(frozen=True, slots=True)
class NoteRecord:
    id: int
    client_id: int
    created_at: datetime
    updated_at: datetime
    text: str
    sticky: bool

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0] if self.text else ""

    @property
    def edited(self) -> bool:
        return self.updated_at != self.created_at

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "text": self.text,
                "sticky": self.sticky, "date": self.created_at.date().isoformat(),
                "created_at": self.created_at.isoformat(sep=" "),
                "updated_at": self.updated_at.isoformat(sep=" ")}


def gist(text: str, length: int = GIST_LENGTH) -> str:
    """The first line, cut to ``length`` with an ellipsis (for the log)."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    more = len(text.strip().splitlines()) > 1
    if len(line) > length:
        return line[:length - 1].rstrip() + "…"
    return line + (" …" if more else "")


def clean_text(text: str | None) -> str:
    return validate.bounded_text(text, "text", TEXT_LIMIT, empty="is empty; write the note")


_COLUMNS = (ClientNote.id, ClientNote.client, ClientNote.created_at, ClientNote.updated_at,
            ClientNote.text, ClientNote.sticky)


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _record(row: tuple) -> NoteRecord:
    return NoteRecord(id=row[0], client_id=row[1], created_at=_as_datetime(row[2]),
                      updated_at=_as_datetime(row[3]), text=row[4], sticky=bool(row[5]))


def get_note(note_id: int) -> NoteRecord:
    row = ClientNote.select(*_COLUMNS).where(ClientNote.id == note_id).tuples().first()
    if row is None:
        raise NotFound("note_id", f"no note with id {note_id}")
    return _record(row)


def list_notes(client_id: int) -> list[NoteRecord]:
    """Sticky notes first, then the newest first."""
    clients.require(client_id)
    rows = (ClientNote.select(*_COLUMNS).where(ClientNote.client == client_id)
            .order_by(ClientNote.sticky.desc(), ClientNote.created_at.desc(), ClientNote.id.desc())
            .tuples())
    return [_record(row) for row in rows]


def add_note(client_id: int, text: str, *, sticky: bool = False, actor: str | None = None) -> int:
    value = clean_text(text)
    with database.atomic():
        clients.require_writable(client_id)
        stamp = now()
        note_id = ClientNote.insert(client=client_id, created_at=stamp, updated_at=stamp,
                                    text=value, sticky=bool(sticky)).execute()
        changelog.record(client_id, f"{'Sticky note' if sticky else 'Note'} added: {gist(value)}",
                         actor=actor)
    return note_id


def update_note(note_id: int, *, text: str | None = None, sticky: bool | None = None,
                actor: str | None = None) -> None:
    """Change the text, the sticky flag or both; nothing given or nothing
    different writes nothing."""
    value = None if text is None else clean_text(text)
    with database.atomic():
        current = get_note(note_id)
        clients.require_writable(current.client_id)
        row: dict[str, Any] = {}
        entries = []
        label = f"Note of {current.created_at:%Y-%m-%d}"
        if value is not None and value != current.text:
            row["text"] = value
            entries.append({"field": f"{label}: text", "old_value": gist(current.text),
                            "new_value": gist(value)})
        if sticky is not None and bool(sticky) != current.sticky:
            row["sticky"] = bool(sticky)
            entries.append({"field": f"{label}: sticky", "old_value": "Yes" if current.sticky else "No",
                            "new_value": "Yes" if sticky else "No"})
        if not row:
            return
        stamp = now()
        row["updated_at"] = stamp
        ClientNote.update(**row).where(ClientNote.id == note_id).execute()
        changelog.record_many([dict(entry, client=current.client_id, at=stamp, actor=actor)
                               for entry in entries])


def delete_note(note_id: int, *, actor: str | None = None) -> None:
    with database.atomic():
        current = get_note(note_id)
        clients.require_writable(current.client_id)
        ClientNote.delete().where(ClientNote.id == note_id).execute()
        changelog.record(current.client_id, f"Note deleted: {gist(current.text)}", actor=actor)


def remove_all(client_id: int, *, actor: str | None = None) -> int:
    """Delete every dated note of the client (anonymize); how many. Not
    refused for an archived client: its caller decides."""
    with database.atomic():
        clients.require(client_id)
        count = ClientNote.delete().where(ClientNote.client == client_id).execute()
        if count:
            changelog.record(client_id, f"All notes deleted ({count})", actor=actor)
    return count
