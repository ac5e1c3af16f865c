"""The book's activity log, as WHMCS's: every client's changes in one list,
newest first (the rows of each client's change log, C13), and what no
client's log can hold — a client deleted, whose log goes with it (C10),
and the book restored from a backup (D3) — kept in the ``activity`` table.

Both are read a page at a time by id, newest first: the client log
through its primary key, so the first page of a book with millions of
entries costs what a page costs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from billdesk.models import database, now
from billdesk.services import changelog

# every client's changes (all, by people, by the daily run); deletions and restores
SHOWS = ("changes", "people", "automation", "book")
RUN_ACTOR = "automation"  # who the daily run's changes are by (automation.ACTOR)

DELETED = "Client deleted"
MERGED = "Client merged"  # merged away into another (C8): removed, as a delete
RESTORED = "Book restored"
REMOVED = (DELETED, MERGED)  # what ends a client's id (SQLite may hand it out again)


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: datetime
    actor: str
    client_id: int | None
    client_name: str  # as the client was called (a deleted one's name)
    what: str
    exists: bool  # the client is still in the book (can be opened)


def record(action: str, message: str, *, client_id: int | None = None, client_name: str = "",
           actor: str | None = None) -> None:
    """One book event, in the caller's transaction."""
    database.execute_sql(
        "INSERT INTO activity (at, actor, client_id, client_name, action, message) "
        "VALUES (?,?,?,?,?,?)",
        (now().isoformat(sep=" "), actor or changelog.current_actor(), client_id, client_name,
         action, message))


def entries(show: str = "changes", *, before: int | None = None,
            shown: Sequence[int] = (), limit: int = 500) -> list[Entry]:
    """A page, newest first; ``before`` is the last id of the page before.
    In "changes" and "people" the book's events (deletes, restores: by
    people, and few) fall among the changes by time, with negative ids;
    the next page then also takes the book ids ``shown`` so far (see
    ``cursor``), so that each is shown once."""
    if show not in SHOWS:
        raise ValueError(f"unknown activity list {show!r}")
    if show == "book":
        return _book("AND x.id < ?" if before is not None else "",
                     [] if before is None else [before], limit)
    changes = _changes(show, before, limit)
    if show == "automation":
        return changes
    clauses, params = [], []
    if shown:
        clauses.append("AND x.id NOT IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(shown)))
    if len(changes) == limit:  # (not the last page: those no older than its changes)
        clauses.append("AND x.at >= ?")
        params.append(min(e.at for e in changes).isoformat(sep=" "))
    book = sorted((replace(e, id=-e.id) for e in _book(" ".join(clauses), params, None)),
                  key=lambda e: e.at, reverse=True)
    # each before the first change (as written, newest first) not newer than it
    out: list[Entry] = []
    for change in changes:
        while book and book[0].at >= change.at:
            out.append(book.pop(0))
        out.append(change)
    return out + book


def cursor(rows: Sequence[Entry]) -> tuple[int | None, list[int]]:
    """(before, shown) for the page after the entries read so far."""
    changes = [e.id for e in rows if e.id > 0]
    return (min(changes) if changes else None), [-e.id for e in rows if e.id < 0]


def client_names(client_ids: Sequence[int]) -> dict[int, str]:
    """The clients' names as shown: those in the book as they are called
    now, those deleted as they were (from their deletion's entry)."""
    from billdesk.services import clients, settings

    ids = json.dumps(sorted(set(client_ids)))
    style = settings.display_format()
    names = {cid: clients.display_name(first, last, company, style)
             for cid, first, last, company in database.execute_sql(
                 "SELECT id, first_name, last_name, company FROM client "
                 "WHERE id IN (SELECT value FROM json_each(?))", (ids,))}
    for cid, name in database.execute_sql(
            "SELECT client_id, client_name FROM activity WHERE action IN (?, ?) "
            "AND client_id IN (SELECT value FROM json_each(?)) ORDER BY id", (*REMOVED, ids)):
        names.setdefault(cid, name)
    return names


def removed_name(client_id: int, since: datetime) -> str | None:
    """The name of client #id as it was when it was deleted or merged away
    at or after ``since`` (a backup taken just before); None if it was not.
    (A later client may have the id now: SQLite hands a deleted one out
    again.)"""
    row = database.execute_sql(
        "SELECT client_name FROM activity WHERE action IN (?, ?) AND client_id = ? AND at >= ? "
        "ORDER BY at, id LIMIT 1", (*REMOVED, client_id, since.isoformat(sep=" "))).fetchone()
    return row[0] if row else None


def _book(where: str, params: list[Any], limit: int | None) -> list[Entry]:
    rows = database.execute_sql(
        "SELECT x.id, x.at, x.actor, x.client_id, x.client_name, x.action, x.message, "
        "c.id IS NOT NULL FROM activity x LEFT JOIN client c ON c.id = x.client_id "
        f"WHERE 1 {where} ORDER BY x.id DESC" + (" LIMIT ?" if limit else ""),
        [*params, limit] if limit else params).fetchall()
    return [Entry(i, _when(at), actor, cid, name, f"{action}: {message}" if message else action,
                  bool(exists))
            for i, at, actor, cid, name, action, message, exists in rows]


def _changes(show: str, before: int | None, limit: int) -> list[Entry]:
    from billdesk.services import clients, settings

    after = "" if before is None else "AND x.id < ?"
    params: list[Any] = [] if before is None else [before]
    if show != "changes":  # (walking the log newest first, testing who)
        after += " AND x.actor = ?" if show == "automation" else " AND x.actor <> ?"
        params.append(RUN_ACTOR)
    style = settings.display_format()
    rows = database.execute_sql(
        "SELECT x.id, x.client_id, x.at, x.actor, x.field, x.old_value, x.new_value, x.reason, "
        "x.message, c.first_name, c.last_name, c.company FROM client_log x "
        f"JOIN client c ON c.id = x.client_id WHERE 1 {after} ORDER BY x.id DESC LIMIT ?",
        [*params, limit]).fetchall()
    return [Entry(row[0], _when(row[2]), row[3], row[1],
                  clients.display_name(row[9], row[10], row[11] or "", style),
                  changelog.LogEntry(row[0], row[1], _when(row[2]), *row[3:9]).describe(), True)
            for row in rows]


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
