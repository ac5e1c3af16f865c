"""A client's support tickets (F3): a subject, a priority, a status and
the thread of messages, the first of them the opening one.

As in WHMCS and HostBill, staff open a ticket on the client's behalf
(status Open); a staff reply makes it Answered, a client's reply
(recorded by the owner, say from a phone call) Customer reply, and any
reply to a closed ticket opens it again. Every write is refused for an
archived client (C11), runs in one transaction and is logged on the
client's log; every timestamp comes from the one clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from billdesk.errors import InvalidInput, NotFound
from billdesk.models import (
    TICKET_AUTHORS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Client,
    Ticket,
    TicketReply,
    database,
    now,
)
from billdesk.services import changelog, clients, validate

SUBJECT_LIMIT = 250
MESSAGE_LIMIT = 50000
NAME_LIMIT = 200
GIST_LENGTH = 60
ACTIVE = "Active"  # the filter "every status but Closed"
CLOSED = "Closed"
REPLY_STATUS = {"staff": "Answered", "client": "Customer reply"}


def _stamp(value: datetime) -> str:
    return value.isoformat(sep=" ")


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """One ticket as the lists show it."""

    id: int
    client_id: int
    subject: str
    priority: str
    status: str
    created_at: datetime
    updated_at: datetime
    replies_count: int  # every message, the opening one included
    last_reply_by: str  # "staff" or "client"

    @property
    def active(self) -> bool:
        return self.status != CLOSED

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "subject": self.subject,
                "priority": self.priority, "status": self.status,
                "date": self.created_at.date().isoformat(),
                "created_at": _stamp(self.created_at), "updated_at": _stamp(self.updated_at),
                "replies_count": self.replies_count, "last_reply_by": self.last_reply_by}


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One message of a ticket's thread."""

    id: int
    ticket_id: int
    author: str  # "staff" or "client"
    name: str
    message: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "ticket_id": self.ticket_id, "author": self.author,
                "name": self.name, "message": self.message,
                "created_at": _stamp(self.created_at)}


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """A ticket and its whole thread, oldest message first."""

    ticket: TicketRecord
    replies: list[ReplyRecord]

    @property
    def id(self) -> int:
        return self.ticket.id

    @property
    def client_id(self) -> int:
        return self.ticket.client_id

    @property
    def status(self) -> str:
        return self.ticket.status

    def as_json(self) -> dict[str, Any]:
        return {**self.ticket.as_json(), "replies": [r.as_json() for r in self.replies]}


# --------------------------------------------------------------------------- checking input

def gist(text: str, length: int = GIST_LENGTH) -> str:
    """The first line, cut to ``length`` with an ellipsis (for the log)."""
    lines = text.strip().splitlines()
    line = lines[0].strip() if lines else ""
    if len(line) > length:
        return line[:length - 1].rstrip() + "…"
    return line + (" …" if len(lines) > 1 else "")


def _choice(value: Any, choices: tuple[str, ...], field: str) -> str:
    """``value`` as one of ``choices`` (any case); refused otherwise."""
    text = str(value if value is not None else "").strip()
    for known in choices:
        if text.casefold() == known.casefold():
            return known
    raise InvalidInput(field, f"{text!r}: must be one of {', '.join(choices)}")


def priority_of(value: Any) -> str:
    return _choice(value, TICKET_PRIORITIES, "priority")


def status_of(value: Any) -> str:
    return _choice(value, TICKET_STATUSES, "status")


def author_of(value: Any) -> str:
    return _choice(value, TICKET_AUTHORS, "author")


def clean_subject(subject: str | None) -> str:
    return validate.bounded_text(subject, "subject", SUBJECT_LIMIT, one_line=True,
                                 empty="is empty; say what the ticket is about")


def clean_message(message: str | None) -> str:
    return validate.bounded_text(message, "message", MESSAGE_LIMIT,
                                 empty="is empty; write the message")


def _clean_name(name: str | None) -> str:
    return validate.bounded_text(name, "name", NAME_LIMIT, one_line=True)


def _statuses(status: None | str | Iterable[str]) -> tuple[str, ...] | None:
    """The statuses a filter keeps; None for every one. "Active" is every
    status but Closed."""
    if status is None:
        return None
    wanted = [status] if isinstance(status, str) else list(status)
    found: list[str] = []
    for value in wanted:
        if str(value).strip().casefold() == ACTIVE.casefold():
            found.extend(s for s in TICKET_STATUSES if s != CLOSED)
        else:
            found.append(status_of(value))
    return tuple(dict.fromkeys(found))


# --------------------------------------------------------------------------- reading


def _client_name(client_id: int) -> str:
    row = (Client.select(Client.first_name, Client.last_name, Client.company)
           .where(Client.id == client_id).tuples().first())
    if row is None:
        return ""
    first, last, company = (value or "" for value in row)
    return f"{first} {last}".strip() or company


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _query() -> Any:
    replies = (TicketReply.select(fn.COUNT(TicketReply.id))
               .where(TicketReply.ticket == Ticket.id))
    last_by = (TicketReply.select(TicketReply.author).where(TicketReply.ticket == Ticket.id)
               .order_by(TicketReply.id.desc()).limit(1))
    return Ticket.select(Ticket.id, Ticket.client, Ticket.subject, Ticket.priority, Ticket.status,
                         Ticket.created_at, Ticket.updated_at, replies.alias("replies_count"),
                         last_by.alias("last_reply_by"))


def _record(row: tuple) -> TicketRecord:
    return TicketRecord(id=row[0], client_id=row[1], subject=row[2], priority=row[3],
                        status=row[4], created_at=_as_datetime(row[5]),
                        updated_at=_as_datetime(row[6]), replies_count=int(row[7] or 0),
                        last_reply_by=row[8] or "staff")


def _ticket(ticket_id: int) -> TicketRecord:
    row = _query().where(Ticket.id == ticket_id).tuples().first()
    if row is None:
        raise NotFound("ticket", f"no ticket with id {ticket_id}")
    return _record(row)


def replies(ticket_id: int) -> list[ReplyRecord]:
    """The ticket's messages, oldest first (the opening one first)."""
    rows = (TicketReply.select(TicketReply.id, TicketReply.ticket, TicketReply.author,
                               TicketReply.name, TicketReply.message, TicketReply.created_at)
            .where(TicketReply.ticket == ticket_id).order_by(TicketReply.id).tuples())
    return [ReplyRecord(id=r[0], ticket_id=r[1], author=r[2], name=r[3], message=r[4],
                        created_at=_as_datetime(r[5])) for r in rows]


def get(ticket_id: int) -> TicketDetail:
    """The ticket and its thread; NotFound("ticket") for an unknown id."""
    ticket = _ticket(ticket_id)
    return TicketDetail(ticket, replies(ticket_id))


def list_tickets(client_id: int, *, status: None | str | Iterable[str] = None
                 ) -> list[TicketRecord]:
    """The client's tickets, the latest activity first; ``status`` keeps
    only those in that status or statuses ("Active": all but Closed)."""
    wanted = _statuses(status)
    clients.require(client_id)
    query = _query().where(Ticket.client == client_id)
    if wanted is not None:
        query = query.where(Ticket.status.in_(wanted))
    rows = query.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).tuples()
    return [_record(row) for row in rows]


def counts(client_id: int) -> dict[str, int]:
    """How many of the client's tickets are in each status (all four,
    zeros included), plus "active" (not Closed) and "total"."""
    clients.require(client_id)
    found = dict.fromkeys(TICKET_STATUSES, 0)
    rows = (Ticket.select(Ticket.status, fn.COUNT(Ticket.id)).where(Ticket.client == client_id)
            .group_by(Ticket.status).tuples())
    for status, number in rows:
        found[status] = found.get(status, 0) + number
    total = sum(found.values())
    return {**found, "active": total - found[CLOSED], "total": total}


# --------------------------------------------------------------------------- writing

def _add_reply(ticket_id: int, client_id: int, author: str, name: str, message: str,
               stamp: datetime, actor: str | None) -> None:
    if not name:
        name = ((actor or changelog.current_actor()) if author == "staff"
                else _client_name(client_id))
    TicketReply.insert(ticket=ticket_id, author=author, name=name, message=message,
                       created_at=stamp).execute()


def open_ticket(client_id: int, *, subject: str, message: str, priority: str = "Medium",
                author: str = "staff", name: str = "", actor: str | None = None) -> TicketDetail:
    """A new ticket for the client, status Open, ``message`` its first
    message (by staff, or by the client when the owner records one)."""
    subject = clean_subject(subject)
    text = clean_message(message)
    priority = priority_of(priority)
    author = author_of(author)
    name = _clean_name(name)
    with database.atomic():
        clients.require_writable(client_id)
        stamp = now()
        ticket_id = Ticket.insert(client=client_id, subject=subject, priority=priority,
                                  status="Open", created_at=stamp, updated_at=stamp).execute()
        _add_reply(ticket_id, client_id, author, name, text, stamp, actor)
        by = " (by the client)" if author == "client" else ""
        changelog.record(client_id, f"Ticket #{ticket_id} opened{by}: {subject}", actor=actor)
    return get(ticket_id)


def reply(ticket_id: int, *, message: str, author: str = "staff", name: str = "",
          status: str | None = None, actor: str | None = None) -> TicketDetail:
    """Add a message to the thread: a staff reply makes the ticket
    Answered, a client's Customer reply (a closed ticket opens again);
    ``status`` says otherwise (say, reply and close)."""
    text = clean_message(message)
    author = author_of(author)
    name = _clean_name(name)
    new_status = REPLY_STATUS[author] if status is None else status_of(status)
    with database.atomic():
        current = _ticket(ticket_id)
        clients.require_writable(current.client_id)
        stamp = now()
        _add_reply(ticket_id, current.client_id, author, name, text, stamp, actor)
        Ticket.update(status=new_status, updated_at=stamp).where(Ticket.id == ticket_id).execute()
        who = "Staff reply" if author == "staff" else "Client reply"
        message_text = f"{who} on ticket #{ticket_id}: {gist(text)}"
        if new_status != current.status:
            changelog.record(current.client_id, message_text, field=f"Ticket #{ticket_id} status",
                             old=current.status, new=new_status, actor=actor)
        else:
            changelog.record(current.client_id, message_text, actor=actor)
    return get(ticket_id)


def _change(ticket_id: int, column: str, value: str, actor: str | None) -> TicketRecord:
    with database.atomic():
        current = _ticket(ticket_id)
        clients.require_writable(current.client_id)
        old = getattr(current, column)
        if old == value:
            return current
        Ticket.update({getattr(Ticket, column): value, Ticket.updated_at: now()}).where(
            Ticket.id == ticket_id).execute()
        changelog.record(current.client_id, field=f"Ticket #{ticket_id} {column}", old=old,
                         new=value, actor=actor)
    return _ticket(ticket_id)


def set_status(ticket_id: int, status: str, *, actor: str | None = None) -> TicketRecord:
    """The ticket in ``status``; the same status writes nothing."""
    return _change(ticket_id, "status", status_of(status), actor)


def set_priority(ticket_id: int, priority: str, *, actor: str | None = None) -> TicketRecord:
    """The ticket at ``priority``; the same priority writes nothing."""
    return _change(ticket_id, "priority", priority_of(priority), actor)


def close(ticket_id: int, *, actor: str | None = None) -> TicketRecord:
    return set_status(ticket_id, CLOSED, actor=actor)


def delete_ticket(ticket_id: int, *, actor: str | None = None) -> None:
    """Remove the ticket and its thread."""
    with database.atomic():
        current = _ticket(ticket_id)
        clients.require_writable(current.client_id)
        TicketReply.delete().where(TicketReply.ticket == ticket_id).execute()
        Ticket.delete().where(Ticket.id == ticket_id).execute()
        n = current.replies_count
        changelog.record(current.client_id, f"Ticket #{ticket_id} deleted: {current.subject} "
                         f"({n} message{'' if n == 1 else 's'})", actor=actor)


def remove_all(client_id: int, *, actor: str | None = None) -> int:
    """Delete every ticket of the client and their threads (anonymize);
    how many. Not refused for an archived client: its caller decides."""
    with database.atomic():
        clients.require(client_id)
        ids = Ticket.select(Ticket.id).where(Ticket.client == client_id)
        TicketReply.delete().where(TicketReply.ticket.in_(ids)).execute()
        count = Ticket.delete().where(Ticket.client == client_id).execute()
        if count:
            changelog.record(client_id, f"All tickets deleted ({count})", actor=actor)
    return count
