"""service add|list|show|edit|mass-update|delete, addon add|list,
domain add|list (SPEC.md S2, S3, S5, D5).

Amounts and dates reach the services as the text that was typed; they are
the one place that says what is refused (naming ``amount``, ``next_due``,
``cycle``, ``status``…) and they refuse before writing. A negative amount
such as ``--amount -5`` is taken as the option's value (no option here
looks like a negative number) and refused with exit 1."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.errors import InvalidInput
from billdesk.services.text import counted

KINDS = ("service", "addon", "domain", "all")
CYCLE_HELP = "free, onetime, monthly, quarterly, semiannually, annually, biennially, triennially"


def register(commands: Any) -> None:
    service = commands.add_parser("service", help="a client's services: add, list, edit, "
                                                  "mass update, delete")
    sub = service.add_subparsers(dest="service_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a service from the product catalogue")
    add.add_argument("client_id", help="client id")
    add.add_argument("--product", required=True, help="product id or exact name")
    add.add_argument("--cycle", required=True, help=CYCLE_HELP)
    add.add_argument("--amount", help="recurring amount (default: the product's price for the "
                                      "cycle in the client's currency)")
    add.add_argument("--first-payment", help="first payment (default: the amount)")
    add.add_argument("--next-due", metavar="YYYY-MM-DD",
                     help="next due date (default: the signup date; none for free)")
    add.add_argument("--signup-date", metavar="YYYY-MM-DD", help="signup date (default today)")
    add.add_argument("--name", help="name (default: the product's)")
    add.add_argument("--label", default="", help="label or domain, e.g. example.com")
    add.add_argument("--status", default="Active", help="Pending, Active, Suspended, Terminated, "
                                                        "Cancelled or Fraud (default Active)")
    add.add_argument("--payment-method", help="default: the client's")
    add.add_argument("--notes", default="")
    add.set_defaults(handler=service_add)

    lst = sub.add_parser("list", help="a client's services, by id")
    lst.add_argument("client_id", help="client id")
    lst.add_argument("--kind", default="service", help="service, addon, domain or all "
                                                       "(default service)")
    lst.add_argument("--status", action="append", help="only this status (repeat for more)")
    lst.set_defaults(handler=service_list)

    show = sub.add_parser("show", help="one service, addon or domain")
    show.add_argument("id", help="service id")
    show.set_defaults(handler=service_show)

    edit = sub.add_parser("edit", help="change one service, addon or domain (logged)")
    edit.add_argument("id", help="service id")
    _change_options(edit)
    edit.add_argument("--name")
    edit.add_argument("--label")
    edit.add_argument("--notes")
    edit.add_argument("--taxed", metavar="yes|no")
    edit.add_argument("--expiry-date", metavar="YYYY-MM-DD")
    edit.set_defaults(handler=service_edit)

    mass = sub.add_parser("mass-update", help="the same changes to several items of one client")
    mass.add_argument("ids", nargs="+", help="service, addon and domain ids")
    _change_options(mass)
    mass.set_defaults(handler=service_mass_update)

    delete = sub.add_parser("delete", help="delete services, addons or domains (their addons "
                                           "go with them)")
    delete.add_argument("ids", nargs="+", help="service, addon and domain ids")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    delete.set_defaults(handler=service_delete)

    addon = commands.add_parser("addon", help="addons on a client's services and domains")
    asub = addon.add_subparsers(dest="addon_command", metavar="ACTION", required=True)
    aadd = asub.add_parser("add", help="add an addon to a service or domain")
    aadd.add_argument("client_id", help="client id")
    aadd.add_argument("parent_id", help="the service or domain it goes on")
    aadd.add_argument("--name", help="name (default: the product's)")
    aadd.add_argument("--product", help="product id or exact name")
    aadd.add_argument("--amount", help="recurring amount (default: the product's price)")
    aadd.add_argument("--cycle", required=True, help=CYCLE_HELP)
    aadd.add_argument("--next-due", metavar="YYYY-MM-DD", help="default: today (none for free)")
    aadd.add_argument("--status", default="Active")
    aadd.add_argument("--payment-method", help="default: the client's")
    aadd.set_defaults(handler=addon_add)
    alist = asub.add_parser("list", help="a client's addons, by id")
    alist.add_argument("client_id", help="client id")
    alist.set_defaults(handler=addon_list)

    domain = commands.add_parser("domain", help="a client's domains")
    dsub = domain.add_subparsers(dest="domain_command", metavar="ACTION", required=True)
    dadd = dsub.add_parser("add", help="add a domain")
    dadd.add_argument("client_id", help="client id")
    dadd.add_argument("name", help="domain name, e.g. example.com")
    dadd.add_argument("--amount", required=True, help="recurring amount")
    dadd.add_argument("--cycle", default="annually",
                      help="annually, biennially or triennially (or free, onetime); default annually")
    dadd.add_argument("--next-due", metavar="YYYY-MM-DD",
                      help="next due date (default: the registration date)")
    dadd.add_argument("--registration-date", metavar="YYYY-MM-DD", help="default today")
    dadd.add_argument("--expiry-date", metavar="YYYY-MM-DD")
    dadd.add_argument("--status", default="Active", help="Pending, Pending transfer, Active, "
                      "Expired, Cancelled, Fraud or Transferred away (default Active)")
    dadd.add_argument("--payment-method", help="default: the client's")
    dadd.add_argument("--taxed", action="store_true", help="charge tax on it")
    dadd.set_defaults(handler=domain_add)
    dlist = dsub.add_parser("list", help="a client's domains, by id")
    dlist.add_argument("client_id", help="client id")
    dlist.set_defaults(handler=domain_list)


def _change_options(parser: argparse.ArgumentParser) -> None:
    """The fields a mass update changes (S5)."""
    parser.add_argument("--status", help="new status")
    parser.add_argument("--payment-method", help="new payment method")
    parser.add_argument("--override-suspend", metavar="yes|no", help="override auto-suspend")
    parser.add_argument("--amount", help="new recurring amount")
    parser.add_argument("--cycle", help=CYCLE_HELP)
    parser.add_argument("--next-due", metavar="YYYY-MM-DD", help="new next due date")
    parser.add_argument("--prorata", action="store_true",
                        help="invoice the days between the old and the new next due date")


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for option in ("status", "payment_method", "amount", "cycle", "next_due"):
        value = getattr(args, option)
        if value is not None:
            changes[option] = value
    if args.override_suspend is not None:
        changes["override_suspend"] = parse.yes_no(args.override_suspend, "override-suspend")
    return changes


def _ids(values: list[str]) -> list[int]:
    return [parse.record_id(value, "id") for value in values]


# --------------------------------------------------------------------------- text

def services_text(found: list[Any], empty: str) -> str:
    if not found:
        return empty
    from billdesk.services.cycles import CYCLE_LABELS

    width = max(len(str(s.amount)) for s in found)
    rows = [f"{'ID':>6}  {'Name':32}  {'Status':16}  {'Cycle':13}  {'Amount':>{width}}  Next due"]
    for s in found:
        name = s.name + (f" ({s.label})" if s.label else "")
        rows.append(f"{s.id:>6}  {name[:32]:32}  {s.status:16}  {CYCLE_LABELS[s.cycle]:13}  "
                    f"{str(s.amount):>{width}}  {s.next_due.isoformat() if s.next_due else '—'}")
    rows.append(counted(len(found), "item"))
    return "\n".join(rows)


def service_text(s: Any, head: str = "") -> str:
    from billdesk.services.cycles import CYCLE_LABELS
    from billdesk.services.subscriptions import KIND_LABELS

    lines = [f"{head}{KIND_LABELS[s.kind]} #{s.id}: {s.name}" + (f" ({s.label})" if s.label else "")
             + f" — {s.status}",
             f"  Client #{s.client_id}   {CYCLE_LABELS[s.cycle]} {s.amount} {s.currency}"
             + (f"   first payment {s.first_payment}" if s.first_payment != s.amount else "")
             + ("   taxed" if s.taxed else ""),
             f"  Signed up {s.signup_date.isoformat()}   Next due "
             + (s.next_due.isoformat() if s.next_due else "—")
             + (f"   Expires {s.expiry_date.isoformat()}" if s.expiry_date else "")]
    extra = []
    if s.parent_id:
        extra.append(f"on #{s.parent_id}")
    if s.payment_method:
        extra.append(f"paid by {s.payment_method}")
    if s.override_suspend:
        extra.append("never suspended automatically")
    if s.group_name:
        extra.append(f"group {s.group_name}")
    if extra:
        lines.append("  " + ", ".join(extra))
    if s.notes:
        lines.append(f"  {s.notes}")
    return "\n".join(lines)


def _invoice_json(invoice_id: int | None) -> dict[str, Any] | None:
    if invoice_id is None:
        return None
    from billdesk.services import invoicing

    return invoicing.get_invoice(invoice_id).as_json()


def _invoice_text(invoice: dict[str, Any] | None) -> str:
    if invoice is None:
        return ""
    return (f"\nProrata invoice #{invoice['number'] or invoice['id']}: total {invoice['total']}, "
            f"balance {invoice['balance']}")


# --------------------------------------------------------------------------- services

def service_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    client_id = parse.record_id(args.client_id, "client_id")
    service_id = subscriptions.add_service(
        client_id, product=args.product, name=args.name, label=args.label, amount=args.amount,
        first_payment=args.first_payment, cycle=args.cycle, next_due=args.next_due,
        signup_date=args.signup_date, status=args.status, payment_method=args.payment_method,
        notes=args.notes)
    record = subscriptions.get_service(service_id)
    out.emit(record.as_json(), lambda: service_text(record, "Added "))


def _kinds(value: str) -> tuple[str, ...]:
    kind = (value or "").strip().lower()
    if kind not in KINDS:
        raise InvalidInput("kind", f"{value!r}: must be one of {', '.join(KINDS)}")
    return ("service", "addon", "domain") if kind == "all" else (kind,)


def _statuses(values: list[str] | None, kinds: tuple[str, ...]) -> list[str] | None:
    from billdesk.services.subscriptions import STATUSES, check_status

    if not values:
        return None
    chosen = []
    for value in values:
        for kind in kinds:
            try:
                chosen.append(check_status(value, kind))
                break
            except InvalidInput:
                continue
        else:
            known = list(dict.fromkeys(s for kind in kinds for s in STATUSES[kind]))
            raise InvalidInput("status", f"{value.strip()!r}: must be one of {', '.join(known)}")
    return chosen


def service_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    client_id = parse.record_id(args.client_id, "client_id")
    kinds = _kinds(args.kind)
    found = subscriptions.list_services(client_id, kinds, _statuses(args.status, kinds))
    out.emit({"services": [s.as_json() for s in found]},
             lambda: services_text(found, f"Client #{client_id} has no such items."))


def service_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    record = subscriptions.get_service(parse.record_id(args.id))
    out.emit(record.as_json(), lambda: service_text(record))


def service_edit(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    service_id = parse.record_id(args.id)
    subscriptions.get_service(service_id)  # an unknown id first, before any other complaint
    changes = _changes(args)
    for option in ("name", "label", "notes", "expiry_date"):
        value = getattr(args, option)
        if value is not None:
            changes[option] = value
    if args.taxed is not None:
        changes["taxed"] = parse.yes_no(args.taxed, "taxed")
    result = subscriptions.edit_service(service_id, prorata=args.prorata, **changes)
    record = subscriptions.get_service(service_id)
    invoice = _invoice_json(result.invoice_id)
    document = record.as_json()
    document["prorata_invoice"] = invoice
    said = "Changed " if result.updated else "Nothing changed: "
    out.emit(document, lambda: service_text(record, said) + _invoice_text(invoice))


def service_mass_update(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    ids = _ids(args.ids)
    result = subscriptions.mass_update(ids, prorata=args.prorata, **_changes(args))
    records = [subscriptions.get_service(i) for i in dict.fromkeys(ids)]
    invoice = _invoice_json(result.invoice_id)
    document = {"updated": result.updated, "services": [r.as_json() for r in records],
                "prorata_invoice": invoice}
    out.emit(document, lambda: f"{len(result.updated)} of {counted(len(records), 'item')} "
                                 "changed.\n"
             + services_text(records, "") + _invoice_text(invoice))


def service_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    ids = list(dict.fromkeys(_ids(args.ids)))
    records = [subscriptions.get_service(i) for i in ids]  # unknown ids before asking
    parse.confirmed(args.yes, f"Delete {', '.join(r.title for r in records)} and their addons?")
    removed = subscriptions.delete_services(ids)
    out.emit({"deleted": ids, "removed": removed},
             f"Deleted {counted(removed, 'record')}: " + ", ".join(r.title for r in records))


# --------------------------------------------------------------------------- addons, domains

def addon_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    addon_id = subscriptions.add_addon(
        parse.record_id(args.client_id, "client_id"), parse.record_id(args.parent_id, "parent_id"),
        name=args.name, product=args.product, amount=args.amount, cycle=args.cycle,
        next_due=args.next_due, status=args.status, payment_method=args.payment_method)
    record = subscriptions.get_service(addon_id)
    out.emit(record.as_json(), lambda: service_text(record, "Added "))


def addon_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    client_id = parse.record_id(args.client_id, "client_id")
    found = subscriptions.list_services(client_id, ("addon",))
    out.emit({"addons": [s.as_json() for s in found]},
             lambda: services_text(found, f"Client #{client_id} has no addons."))


def domain_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    domain_id = subscriptions.add_domain(
        parse.record_id(args.client_id, "client_id"), args.name, amount=args.amount,
        cycle=args.cycle, next_due=args.next_due, registration_date=args.registration_date,
        expiry_date=args.expiry_date, status=args.status, payment_method=args.payment_method,
        taxed=args.taxed)
    record = subscriptions.get_service(domain_id)
    out.emit(record.as_json(), lambda: service_text(record, "Added "))


def domain_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import subscriptions

    client_id = parse.record_id(args.client_id, "client_id")
    found = subscriptions.list_services(client_id, ("domain",))
    out.emit({"domains": [s.as_json() for s in found]},
             lambda: services_text(found, f"Client #{client_id} has no domains."))
