"""client add|list|show|edit, contact add|list, group add|list."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from billdesk.cli import parse
from billdesk.services.text import counted

# option → client field, for add and edit
HELP = {
    "country": "ISO 3166 code, e.g. GB, DE, US", "currency": "ISO 4217 code, e.g. GBP, EUR",
    "language": "language code, e.g. en, de, fr", "account-type": "private or organization",
    "phone": "digits, spaces, + - ( ) . /", "notes": "admin notes, only you see them",
}

TEXT_OPTIONS = {
    "first": "first_name", "last": "last_name", "email": "email", "company": "company",
    "phone": "phone", "country": "country", "currency": "currency", "language": "language",
    "address1": "address1", "address2": "address2", "city": "city", "state": "state",
    "postcode": "postcode", "tax_id": "tax_id", "account_type": "account_type", "notes": "notes",
}
BOOL_OPTIONS = {
    "tax_exempt": "tax_exempt", "late_fees": "late_fees", "overdue_notices": "overdue_notices",
    "separate_invoices": "separate_invoices", "auto_cc": "auto_cc",
}


def register(commands: Any) -> None:
    client = commands.add_parser("client", help="add, find, show and edit clients")
    sub = client.add_subparsers(dest="client_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a client")
    add.add_argument("--first", required=True, help="first name")
    add.add_argument("--last", required=True, help="last name")
    add.add_argument("--email", required=True)
    for name in ("company", "phone", "country", "currency", "language", "address1", "address2",
                 "city", "state", "postcode", "tax-id", "account-type", "notes"):
        add.add_argument(f"--{name}", help=HELP.get(name))
    add.add_argument("--group", help="group name")
    add.add_argument("--welcome", action="store_true",
                     help="queue the welcome email (sent with the outbox)")
    add.set_defaults(handler=client_add)

    lst = sub.add_parser("list", help="list or search clients")
    lst.add_argument("--search", default="", help="name, company, email, phone or id")
    lst.add_argument("--status", help="Active, Inactive or Closed")
    lst.add_argument("--group", help="group name")
    lst.add_argument("--limit", default="100", help="at most this many (default 100)")
    lst.add_argument("--sort", default="name", help="id, name, company, email, phone, country, "
                     "group, status or created")
    lst.add_argument("--desc", action="store_true", help="sort in descending order")
    lst.add_argument("--archived", action="store_true", help="include archived clients")
    lst.set_defaults(handler=client_list)

    show = sub.add_parser("show", help="one client with contacts")
    show.add_argument("id", help="client id")
    show.set_defaults(handler=client_show)

    edit = sub.add_parser("edit", help="change a client's fields (each change is logged)")
    edit.add_argument("id", help="client id")
    for name in ("first", "last", "email", "company", "phone", "country", "currency", "language",
                 "address1", "address2", "city", "state", "postcode", "tax-id", "account-type",
                 "notes"):
        edit.add_argument(f"--{name}", help=HELP.get(name))
    edit.add_argument("--status", help="Active, Inactive or Closed")
    edit.add_argument("--group", help='group name ("" for none)')
    for name in ("tax-exempt", "late-fees", "overdue-notices", "separate-invoices", "auto-cc"):
        edit.add_argument(f"--{name}", metavar="yes|no")
    edit.add_argument("--reason", default="", help="why, for the change log")
    edit.set_defaults(handler=client_edit)

    from billdesk.cli import gdpr, lifecycle

    lifecycle.register_client(sub)
    gdpr.register_client(sub)

    contact = commands.add_parser("contact", help="a client's contacts")
    csub = contact.add_subparsers(dest="contact_command", metavar="ACTION", required=True)
    cadd = csub.add_parser("add", help="add a contact to a client")
    cadd.add_argument("client_id")
    cadd.add_argument("--first", required=True)
    cadd.add_argument("--last", required=True)
    cadd.add_argument("--email", required=True)
    cadd.add_argument("--phone")
    cadd.add_argument("--company")
    cadd.add_argument("--categories", help="general,invoice,support,product,domain,affiliate")
    cadd.add_argument("--billing", action="store_true", help="make it the default billing contact")
    cadd.set_defaults(handler=contact_add)
    clist = csub.add_parser("list", help="a client's contacts")
    clist.add_argument("client_id")
    clist.set_defaults(handler=contact_list)

    group = commands.add_parser("group", help="client groups")
    gsub = group.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    gadd = gsub.add_parser("add", help="add a client group")
    gadd.add_argument("name")
    gadd.add_argument("--colour", default="#5b8def")
    gadd.add_argument("--discount", default="0", help="percent")
    gadd.add_argument("--separate-invoices", default="no", metavar="yes|no")
    gadd.set_defaults(handler=group_add)
    glist = gsub.add_parser("list", help="client groups")
    glist.set_defaults(handler=group_list)


def _group_id(name: str | None) -> int | None:
    from billdesk.services import groups

    if name is None or not name.strip():
        return None
    return groups.find_group(name).id


def _values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option, field in TEXT_OPTIONS.items():
        value = getattr(args, option, None)
        if value is not None:
            values[field] = value
    for option, field in BOOL_OPTIONS.items():
        value = getattr(args, option, None)
        if value is not None:
            values[field] = parse.yes_no(value, option.replace("_", "-"))
    return values


def client_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients

    values = _values(args)
    if args.group is not None:
        values["group_id"] = _group_id(args.group)
    client_id = clients.add_client(values, welcome=args.welcome)
    record = clients.get_client(client_id)
    out.emit(record.as_json(), f"Added client #{client_id}: {record.display_name} <{record.values['email']}>")


def client_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import InvalidInput
    from billdesk.services import clientlist

    limit = parse.integer(args.limit, "limit", minimum=1)
    if args.sort not in clientlist.SORTS:
        raise InvalidInput("sort", f"{args.sort!r}: must be one of {', '.join(clientlist.SORTS)}")
    query = clientlist.ClientQuery(
        search=args.search,
        status=parse.status(args.status) if args.status else None,
        group_id=_group_id(args.group) if args.group else None,
        sort=args.sort,
        descending=args.desc,
        archived=args.archived,
    )
    total = clientlist.count(query)
    rows = clientlist.page(query, limit=limit, matches=total)

    def text() -> str:
        from billdesk.services import clients, settings

        fmt = settings.display_format()
        lines = [f"{'ID':>7}  {'Name':32}  {'Email':36}  {'Status':8}  Group"]
        for r in rows:
            name = clients.display_name(r.first_name, r.last_name, r.company, fmt)
            lines.append(f"{r.id:>7}  {name[:32]:32}  {r.email[:36]:36}  {r.status:8}  {r.group}"
                         + ("  (archived)" if r.archived else ""))
        lines.append(f"{len(rows)} of {total} clients")
        return "\n".join(lines)

    out.emit({"clients": [r.as_json() for r in rows], "total": total}, text)


def show_document(client_id: int) -> tuple[dict[str, Any], Callable[[], str]]:
    """The client as ``client show`` prints it (D5): the JSON document and
    its text; other commands that change a client print the same."""
    from billdesk.services import clients, contacts, credit, invoicing, payments

    record = clients.get_client(client_id)
    people = contacts.list_contacts(client_id)
    credit_balance = credit.balance(client_id)
    invoices = invoicing.summary(client_id)
    income = payments.income(client_id)
    document = record.as_json()
    document["contacts"] = [c.as_json() for c in people]
    document["credit_balance"] = str(credit_balance)
    document["invoices"] = {status: {"count": figure.count, "total": str(figure.total)}
                            for status, figure in invoices.items()}
    document["income"] = income.as_json()

    def text() -> str:
        v = record.values
        lines = [f"#{record.id} {record.display_name}", f"  Email:    {v['email']}"]
        for label, key in (("Company", "company"), ("Phone", "phone"), ("Country", "country"),
                           ("Tax ID", "tax_id")):
            if v[key]:
                lines.append(f"  {label + ':':9} {v[key]}")
        lines += [f"  Status:   {v['status']}", f"  Group:    {record.group_name or '—'}",
                  f"  Currency: {v['currency']}   Language: {v['language']}",
                  f"  Signed up {record.created_at:%Y-%m-%d}"]
        for c in people:
            mark = " (billing)" if c.is_billing else ""
            lines.append(f"  Contact #{c.id}: {c.name} <{c.values['email']}>{mark}")
        lines.append(f"  Credit balance: {credit_balance} {credit_balance.currency}")
        lines.append("  Invoices: " + ", ".join(f"{status} {figure.count} ({figure.total})"
                                                for status, figure in invoices.items()))
        lines.append(f"  Income:   gross {income.gross}, expenses {income.expenses}, "
                     f"net {income.net}")
        return "\n".join(lines)

    return document, text


def client_show(args: argparse.Namespace, out: Any) -> None:
    out.emit(*show_document(parse.record_id(args.id)))


def client_edit(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients

    client_id = parse.record_id(args.id)
    clients.get_values(client_id)  # unknown id first, before any other complaint
    changes = _values(args)
    if args.status is not None:
        changes["status"] = parse.status(args.status)
    if args.group is not None:
        changes["group_id"] = _group_id(args.group)
    changed = clients.update_client(client_id, changes, reason=args.reason)
    record = clients.get_client(client_id)
    document = record.as_json()
    document["changed"] = [c.field for c in changed]
    lines = [f"  {clients.LABELS[c.field]}: {clients.describe_value(c.field, c.old) or '(empty)'} → "
             f"{clients.describe_value(c.field, c.new) or '(empty)'}" for c in changed]
    said = counted(len(changed), "change") if changed else "nothing changed"
    out.emit(document, "\n".join([f"Client #{client_id} {record.display_name}: {said}"]
                                  + lines))


def contact_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import contacts

    client_id = parse.record_id(args.client_id, "client_id")
    values = {"first_name": args.first, "last_name": args.last, "email": args.email}
    for option in ("phone", "company", "categories"):
        if getattr(args, option) is not None:
            values[option] = getattr(args, option)
    contact_id = contacts.add_contact(client_id, values, billing=args.billing)
    record = contacts.get_contact(contact_id)
    out.emit(record.as_json(), f"Added contact #{contact_id} {record.name} to client #{client_id}"
             + (" as billing contact" if record.is_billing else ""))


def contact_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import contacts

    client_id = parse.record_id(args.client_id, "client_id")
    people = contacts.list_contacts(client_id)

    def text() -> str:
        if not people:
            return f"Client #{client_id} has no contacts."
        return "\n".join(
            f"#{c.id:<6} {c.name:30} {c.values['email']:36} {','.join(c.values['categories'])}"
            + ("  (billing)" if c.is_billing else "") for c in people)

    out.emit({"contacts": [c.as_json() for c in people]}, text)


def group_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import groups

    group_id = groups.add_group(args.name, args.colour, args.discount,
                                parse.yes_no(args.separate_invoices, "separate-invoices"))
    group = groups.get_group(group_id)
    out.emit(group.as_json(), f"Added group #{group.id} {group.name}")


def group_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import groups

    found = groups.list_groups()
    out.emit({"groups": [g.as_json() for g in found]},
             "\n".join(f"#{g.id:<4} {g.name:24} {g.colour}  discount {g.discount}%"
                       + ("  separate invoices" if g.separate_invoices else "") for g in found)
             or "No groups.")
