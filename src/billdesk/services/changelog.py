"""The client change log (C13): who, when, what, old → new, why.
Written by the services in the same transaction as the change itself."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from billdesk.models import ClientLog, database, now


def current_actor() -> str:
    try:
        return getpass.getuser() or "admin"
    except Exception:  # no login name (containers, some services)
        return "admin"


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    client_id: int
    at: datetime
    actor: str
    field: str
    old_value: str
    new_value: str
    reason: str
    message: str

    def describe(self) -> str:
        if self.field:
            text = f"{self.field}: {self.old_value or '(empty)'} → {self.new_value or '(empty)'}"
            if self.message:
                text = f"{self.message} — {text}"
        else:
            text = self.message
        return f"{text} ({self.reason})" if self.reason else text


_INSERT = ("INSERT INTO client_log (client_id, at, actor, field, old_value, new_value, reason, "
           "message) VALUES (?,?,?,?,?,?,?,?)")


def record(client_id: int, message: str = "", *, field: str = "", old: str = "", new: str = "",
           reason: str = "", actor: str | None = None) -> None:
    # What ClientLog.insert(...).execute() writes — each value through its
    # field, as peewee does — without building the query each time (the
    # daily run logs hundreds).
    text = ClientLog.message.db_value
    database.execute_sql(_INSERT, (
        ClientLog.client.db_value(client_id), ClientLog.at.db_value(now()),
        ClientLog.actor.db_value(actor or current_actor()), ClientLog.field.db_value(field),
        text(old), text(new), text(reason), text(message)))


_COLUMNS = ("client", "at", "actor", "field", "old_value", "new_value", "reason", "message")


def record_many(rows: list[dict]) -> None:
    """Many entries at once (one executemany: the daily run logs thousands);
    each row names the columns of ``record``."""
    if rows:
        fallback = current_actor()
        values = [(row["client"], str(row.get("at") or now()), row.get("actor") or fallback,
                   *(row.get(name) or "" for name in _COLUMNS[3:])) for row in rows]
        database.connection().executemany(_INSERT, values)


def record_values(rows: Sequence[tuple]) -> None:
    """Many entries already as (client id, at text, actor, field, old,
    new, reason, message) tuples — the column order of ``record_many``'s
    INSERT, each value final — in one executemany."""
    if rows:
        database.connection().executemany(_INSERT, rows)


def entries(client_id: int, limit: int | None = None) -> list[LogEntry]:
    """Newest first, by time (a merged client's entries keep theirs, and
    fall among the others' by it), then as written."""
    query = (ClientLog.select(ClientLog.id, ClientLog.client, ClientLog.at, ClientLog.actor,
                              ClientLog.field, ClientLog.old_value, ClientLog.new_value,
                              ClientLog.reason, ClientLog.message)
             .where(ClientLog.client == client_id)
             .order_by(ClientLog.at.desc(), ClientLog.id.desc()))
    if limit:
        query = query.limit(limit)
    return [LogEntry(*row) for row in query.tuples()]
