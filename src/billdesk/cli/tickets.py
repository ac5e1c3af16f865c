"""ticket open|reply|list|show|close (F3): a client's support tickets."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.models import TICKET_PRIORITIES, TICKET_STATUSES


def register(commands: Any) -> None:
    """Adds the ``ticket`` command."""
    ticket = commands.add_parser("ticket", help="a client's support tickets")
    sub = ticket.add_subparsers(dest="ticket_command", metavar="ACTION", required=True)

    opening = sub.add_parser("open", help="open a ticket for a client (status Open)")
    opening.add_argument("client_id")
    opening.add_argument("--subject", required=True, help="what the ticket is about")
    opening.add_argument("--message", required=True, help="the opening message")
    opening.add_argument("--priority", default="Medium",
                         help=f"{' | '.join(TICKET_PRIORITIES)} (default: Medium)")
    opening.add_argument("--from-client", action="store_true",
                         help="the message is the client's (say, taken on the phone)")
    opening.set_defaults(handler=ticket_open)

    answer = sub.add_parser("reply", help="add a reply: by staff the ticket becomes Answered, "
                            "from the client Customer reply")
    answer.add_argument("id", help="ticket id")
    answer.add_argument("--message", required=True, help="the reply")
    answer.add_argument("--from-client", action="store_true",
                        help="the reply is the client's (status Customer reply)")
    answer.add_argument("--status", help=f"the status after it: {' | '.join(TICKET_STATUSES)}")
    answer.add_argument("--close", action="store_true", help="reply and close the ticket")
    answer.set_defaults(handler=ticket_reply)

    lst = sub.add_parser("list", help="a client's tickets, the latest activity first")
    lst.add_argument("client_id")
    lst.add_argument("--status", help=f"only those in a status: {' | '.join(TICKET_STATUSES)}, "
                     "or Active (all but Closed)")
    lst.set_defaults(handler=ticket_list)

    show = sub.add_parser("show", help="a ticket and its messages")
    show.add_argument("id", help="ticket id")
    show.set_defaults(handler=ticket_show)

    closing = sub.add_parser("close", help="close a ticket")
    closing.add_argument("id", help="ticket id")
    closing.set_defaults(handler=ticket_close)


# --------------------------------------------------------------------------- text

def _line(record: Any) -> str:
    replies = f"{record.replies_count} message{'' if record.replies_count == 1 else 's'}"
    return (f"#{record.id:<4} {record.updated_at:%Y-%m-%d %H:%M}  {record.status:<14} "
            f"{record.priority:<6}  {record.subject}  ({replies})")


def _detail_text(detail: Any, verb: str = "") -> str:
    t = detail.ticket
    lines = [f"{verb + ' ticket' if verb else 'Ticket'} #{t.id} for client #{t.client_id}: "
             f"{t.subject}",
             f"Status: {t.status}   Priority: {t.priority}   "
             f"Opened: {t.created_at:%Y-%m-%d %H:%M}   Last update: {t.updated_at:%Y-%m-%d %H:%M}"]
    for r in detail.replies:
        who = r.name or r.author
        lines.append("")
        lines.append(f"--- {r.created_at:%Y-%m-%d %H:%M}  {who} "
                     f"({'client' if r.author == 'client' else 'staff'})")
        lines.extend("    " + line for line in r.message.splitlines())
    return "\n".join(lines)


# --------------------------------------------------------------------------- handlers

def ticket_open(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import tickets

    client_id = parse.record_id(args.client_id, "client_id")
    detail = tickets.open_ticket(client_id, subject=args.subject, message=args.message,
                                 priority=args.priority,
                                 author="client" if args.from_client else "staff")
    out.emit(detail.as_json(), lambda: _detail_text(detail, "Opened"))


def ticket_reply(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import InvalidInput
    from billdesk.services import tickets

    ticket_id = parse.record_id(args.id, "id")
    status = args.status
    if args.close:
        if status is not None and tickets.status_of(status) != tickets.CLOSED:
            raise InvalidInput("status", f"{status!r} and --close say different things; "
                               "give one of them")
        status = tickets.CLOSED
    detail = tickets.reply(ticket_id, message=args.message,
                           author="client" if args.from_client else "staff", status=status)
    out.emit(detail.as_json(), lambda: _detail_text(detail, "Replied to"))


def ticket_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import tickets

    client_id = parse.record_id(args.client_id, "client_id")
    records = tickets.list_tickets(client_id, status=args.status)
    where = f" {args.status.strip()}" if args.status else ""
    out.emit({"tickets": [r.as_json() for r in records]},
             lambda: "\n".join(_line(r) for r in records) if records
             else f"Client #{client_id} has no{where} tickets.")


def ticket_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import tickets

    detail = tickets.get(parse.record_id(args.id, "id"))
    out.emit(detail.as_json(), lambda: _detail_text(detail))


def ticket_close(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import tickets

    ticket_id = parse.record_id(args.id, "id")
    tickets.close(ticket_id)
    detail = tickets.get(ticket_id)
    out.emit(detail.as_json(), lambda: f"Closed ticket #{ticket_id}: {detail.ticket.subject}")
