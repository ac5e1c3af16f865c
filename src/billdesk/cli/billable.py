"""billable add|list|show|delete and recurring add|list|show|stop|delete
(SPEC.md B3, B5, D5).

Billable items are picked up, and recurring invoices issued, by
``invoice generate`` (and the daily run). Amounts and dates reach the
services as typed; they refuse before writing (exit 1, naming the field).
``--every`` of a billable item counts ``--unit`` steps: day, week, month
(the default) or year."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.services.text import counted


def register(commands: Any) -> None:
    item = commands.add_parser("billable", help="a client's billable items (one-off or recurring "
                                                "charges, hours × rate)")
    sub = item.add_subparsers(dest="billable_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a billable item")
    add.add_argument("client_id", help="client id")
    add.add_argument("--description", required=True)
    add.add_argument("--amount", help="the amount (optional with --hours and --rate; if given "
                                      "too, it must equal hours × rate)")
    add.add_argument("--hours", help="hours worked: amount = hours × rate, rounded half-up")
    add.add_argument("--rate", help="rate per hour")
    add.add_argument("--action", default="none", help="none (don't invoice, the default), "
                     "next (the next generation), due (as normal for --due), recur")
    add.add_argument("--due", metavar="YYYY-MM-DD", help="due date: required for due; for recur "
                     "the first due date (default today)")
    add.add_argument("--every", metavar="N", help="recur every N units")
    add.add_argument("--unit", help="day, week, month or year (default month)")
    add.add_argument("--count", metavar="K", help="recur K times in all")
    add.add_argument("--taxed", action="store_true", help="charge tax on it")
    add.add_argument("--notes", default="")
    add.set_defaults(handler=billable_add)

    lst = sub.add_parser("list", help="a client's billable items, newest first")
    lst.add_argument("client_id", help="client id")
    lst.add_argument("--queued", action="store_true",
                     help="only those waiting for a coming invoice")
    lst.set_defaults(handler=billable_list)

    show = sub.add_parser("show", help="one billable item")
    show.add_argument("id", help="billable item id")
    show.set_defaults(handler=billable_show)

    delete = sub.add_parser("delete", help="delete a billable item (invoices keep their lines)")
    delete.add_argument("id", help="billable item id")
    delete.set_defaults(handler=billable_delete)

    rec = commands.add_parser("recurring", help="a client's recurring invoices (templates issued "
                                                "every N months or years)")
    rsub = rec.add_subparsers(dest="recurring_command", metavar="ACTION", required=True)
    radd = rsub.add_parser("add", help="a new recurring invoice")
    radd.add_argument("client_id", help="client id")
    radd.add_argument("--item", action="append", default=[], metavar="DESCRIPTION=AMOUNT",
                      help="one line; split at its last '=' (repeat for more lines)")
    radd.add_argument("--taxed", action="store_true", help="charge tax on every line")
    radd.add_argument("--every", metavar="N", default="1", help="every N units (default 1)")
    radd.add_argument("--unit", default="month", help="month or year (default month)")
    radd.add_argument("--start", required=True, metavar="YYYY-MM-DD",
                      help="the date of the first invoice")
    end = radd.add_mutually_exclusive_group()
    end.add_argument("--count", metavar="K", help="issue K invoices in all")
    end.add_argument("--until", metavar="YYYY-MM-DD", help="issue none after this date")
    radd.add_argument("--due-days", metavar="N", default="0",
                      help="each invoice is due N days after its date (default 0)")
    radd.add_argument("--payment-method", default="", help="default: the client's")
    radd.add_argument("--notes", default="")
    radd.set_defaults(handler=recurring_add)

    rlist = rsub.add_parser("list", help="a client's recurring invoices, newest first")
    rlist.add_argument("client_id", help="client id")
    rlist.set_defaults(handler=recurring_list)

    rshow = rsub.add_parser("show", help="one recurring invoice")
    rshow.add_argument("id", help="recurring invoice id")
    rshow.set_defaults(handler=recurring_show)

    stop = rsub.add_parser("stop", help="issue no more invoices from it")
    stop.add_argument("id", help="recurring invoice id")
    stop.set_defaults(handler=recurring_stop)

    rdel = rsub.add_parser("delete", help="delete it (issued invoices stay)")
    rdel.add_argument("id", help="recurring invoice id")
    rdel.set_defaults(handler=recurring_delete)


# --------------------------------------------------------------------------- text

def item_text(item: Any, head: str = "") -> str:
    how = f"{item.hours:f} h × {item.rate} = " if item.hours is not None else ""
    due = f", due {item.due_date.isoformat()}" if item.due_date else ""
    return (f"{head}Billable item #{item.id} (client #{item.client_id}): {item.description} — "
            f"{how}{item.amount} {item.amount.currency}{' taxed' if item.taxed else ''}; "
            f"{item.schedule()}{due}")


def items_text(found: list[Any], empty: str) -> str:
    if not found:
        return empty
    width = max(len(str(i.amount)) for i in found)
    rows = [f"{'ID':>6}  {'Description':32}  {'Amount':>{width}}  {'Due':10}  Invoice action"]
    for i in found:
        rows.append(f"{i.id:>6}  {i.description[:32]:32}  {str(i.amount):>{width}}  "
                    f"{i.due_date.isoformat() if i.due_date else '—':10}  {i.schedule()}")
    rows.append(counted(len(found), "item"))
    return "\n".join(rows)


def recurring_text(rec: Any, head: str = "") -> str:
    lines = [f"{head}Recurring invoice #{rec.id} (client #{rec.client_id}) — {rec.status}: "
             f"{rec.schedule()} from {rec.start_date.isoformat()}, next "
             f"{rec.next_date.isoformat() if rec.next_date else '—'}"]
    lines += [f"  {line.description}: {line.amount}{' taxed' if line.taxed else ''}"
              for line in rec.lines]
    lines.append(f"  Total before tax {rec.total} {rec.currency}; "
                 f"due {counted(rec.due_days, 'day')} after "
                 "its date" + (f"; paid by {rec.payment_method}" if rec.payment_method else ""))
    return "\n".join(lines)


def recurrings_text(found: list[Any], empty: str) -> str:
    if not found:
        return empty
    rows = [f"{'ID':>6}  {'Lines':32}  {'Total':>12}  {'Next':10}  {'Status':8}  Schedule"]
    for r in found:
        rows.append(f"{r.id:>6}  {r.description[:32]:32}  {str(r.total):>12}  "
                    f"{r.next_date.isoformat() if r.next_date else '—':10}  {r.status:8}  "
                    f"{r.schedule()}")
    rows.append(counted(len(found), "recurring invoice"))
    return "\n".join(rows)


# --------------------------------------------------------------------------- billable

def billable_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import billable

    client_id = parse.record_id(args.client_id, "client_id")
    item_id = billable.add_item(
        client_id, description=args.description, amount=args.amount, hours=args.hours,
        rate=args.rate, taxed=args.taxed, action=args.action, due_date=args.due,
        every=args.every, unit=args.unit, count=args.count, notes=args.notes)
    item = billable.get_item(item_id)
    out.emit(item.as_json(), lambda: item_text(item, "Added "))


def billable_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import billable

    client_id = parse.record_id(args.client_id, "client_id")
    found = billable.queued(client_id) if args.queued else billable.list_items(client_id)
    out.emit({"billable_items": [i.as_json() for i in found]},
             lambda: items_text(found, f"Client #{client_id} has no "
                                       f"{'queued ' if args.queued else ''}billable items."))


def billable_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import billable

    item = billable.get_item(parse.record_id(args.id))
    out.emit(item.as_json(), lambda: item_text(item))


def billable_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import billable

    item = billable.get_item(parse.record_id(args.id))
    billable.delete_item(item.id)
    out.emit({"deleted": item.id}, f"Deleted billable item #{item.id}")


# --------------------------------------------------------------------------- recurring

def recurring_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.cli.billing import _as_items, _items
    from billdesk.errors import InvalidInput
    from billdesk.services import recurring

    client_id = parse.record_id(args.client_id, "client_id")
    lines = _items(args.item, args.taxed)
    try:
        rid = recurring.add_recurring(
            client_id, lines, every=args.every, unit=args.unit, start_date=args.start,
            count=args.count, until=args.until, due_days=args.due_days,
            payment_method=args.payment_method, notes=args.notes)
    except InvalidInput as exc:
        raise _as_items(exc, len(lines)) from None
    rec = recurring.get_recurring(rid)
    out.emit(rec.as_json(), lambda: recurring_text(rec, "Added "))


def recurring_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import recurring

    client_id = parse.record_id(args.client_id, "client_id")
    found = recurring.list_recurring(client_id)
    out.emit({"recurring_invoices": [r.as_json() for r in found]},
             lambda: recurrings_text(found, f"Client #{client_id} has no recurring invoices."))


def recurring_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import recurring

    rec = recurring.get_recurring(parse.record_id(args.id))
    out.emit(rec.as_json(), lambda: recurring_text(rec))


def recurring_stop(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import recurring

    rec = recurring.stop_recurring(parse.record_id(args.id))
    out.emit(rec.as_json(), lambda: recurring_text(rec, "Stopped "))


def recurring_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import recurring

    rec = recurring.get_recurring(parse.record_id(args.id))
    recurring.delete_recurring(rec.id)
    out.emit({"deleted": rec.id}, f"Deleted recurring invoice #{rec.id}")
