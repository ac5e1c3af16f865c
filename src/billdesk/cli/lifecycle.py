"""client currency|merge|close|delete|archive|unarchive|anonymize (C7–C11)."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.errors import InvalidInput


def register_client(sub: Any) -> None:
    """Adds the lifecycle actions to the ``client`` command's subparsers."""
    currency = sub.add_parser("currency", help="change a client's currency (C7)")
    currency.add_argument("id", help="client id")
    currency.add_argument("code", help="ISO 4217 code of one of your currencies, e.g. EUR")
    how = currency.add_mutually_exclusive_group(required=True)
    how.add_argument("--convert", action="store_true",
                     help="convert open amounts at the stored exchange rates")
    how.add_argument("--code-only", action="store_true",
                     help="change the code only; amounts keep their figures")
    currency.set_defaults(handler=client_currency)

    merge = sub.add_parser("merge", help="merge one client into another (C8)")
    merge.add_argument("source_id", help="the client merged away (removed)")
    merge.add_argument("into_id", help="the client kept")
    merge.add_argument("--keep", default="target", metavar="target|source",
                       help="whose profile the kept client has (default target)")
    merge.add_argument("--yes", action="store_true", help="do it without asking")
    merge.set_defaults(handler=client_merge)

    close = sub.add_parser("close", help="close a client: cancel what is open (C9)")
    close.add_argument("id", help="client id")
    close.add_argument("--yes", action="store_true", help="do it without asking")
    close.set_defaults(handler=client_close)

    delete = sub.add_parser("delete", help="delete a client and their records (C10)")
    delete.add_argument("id", help="client id")
    delete.add_argument("--with-transactions", action="store_true",
                        help="delete their transactions too (kept, unlinked, by default)")
    delete.add_argument("--yes", action="store_true", help="do it without asking")
    delete.set_defaults(handler=client_delete)

    archive = sub.add_parser("archive", help="hide a client from the list, read-only (C11)")
    archive.add_argument("id", help="client id")
    archive.set_defaults(handler=client_archive)
    unarchive = sub.add_parser("unarchive", help="show an archived client again, editable")
    unarchive.add_argument("id", help="client id")
    unarchive.set_defaults(handler=client_unarchive)

    anonymize = sub.add_parser("anonymize", help="replace a client's personal data (C11)")
    anonymize.add_argument("id", help="client id")
    anonymize.add_argument("--yes", action="store_true", help="do it without asking")
    anonymize.set_defaults(handler=client_anonymize)


def _show_document(client_id: int) -> dict[str, Any]:
    """The client as ``client show`` prints it."""
    from billdesk.services import clients, contacts, credit, invoicing, payments

    document = clients.get_client(client_id).as_json()
    document["contacts"] = [c.as_json() for c in contacts.list_contacts(client_id)]
    document["credit_balance"] = str(credit.balance(client_id))
    document["invoices"] = {status: {"count": figure.count, "total": str(figure.total)}
                            for status, figure in invoicing.summary(client_id).items()}
    document["income"] = payments.income(client_id).as_json()
    return document


def client_currency(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import lifecycle

    client_id = parse.record_id(args.id)
    preview = lifecycle.currency_preview(client_id, args.code)
    lifecycle.change_currency(client_id, args.code, convert=args.convert)
    document = _show_document(client_id)
    how = "converted" if args.convert else "code only"
    lines = [f"Client #{client_id}: currency {preview.old} → {preview.new} ({how})"]
    if args.convert:
        lines += [f"  {i.label}: {i.before} {i.before.currency} → {i.after} {i.after.currency}"
                  for i in preview.items]
    out.emit(document, "\n".join(lines))


def client_merge(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import lifecycle

    source_id = parse.record_id(args.source_id, "source_id")
    into_id = parse.record_id(args.into_id, "into_id")
    keep = args.keep.strip().lower()
    if keep not in lifecycle.KEEP:
        raise InvalidInput("keep", f"{args.keep!r}: must be target or source")
    preview = lifecycle.merge_preview(source_id, into_id)  # unknown ids before asking
    parse.confirmed(args.yes, f"Merge client #{source_id} {preview.source['display_name']} into "
                    f"#{into_id} {preview.into['display_name']}?",
                   details=lifecycle.impact(source_id, "merge").text(),
                   prompt="Go ahead? A backup is taken first.", refused="nothing changed")
    result = lifecycle.merge_clients(source_id, into_id, keep=keep)
    out.emit(result.as_json(),
             f"Merged client #{source_id} into #{into_id}: "
             f"{lifecycle.describe_counts(result.moved)}; backup {result.backup}")


def client_close(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    record = clients.get_client(client_id)
    parse.confirmed(args.yes, f"Close client #{client_id} {record.display_name}?",
                   details=lifecycle.impact(client_id, "close").text(),
                   prompt="Go ahead? A backup is taken first.", refused="nothing changed")
    result = lifecycle.close_client(client_id)
    out.emit(result.as_json(),
             f"Closed client #{client_id} {record.display_name}: "
             f"{len(result.invoices_cancelled)} invoice(s) cancelled, "
             f"{len(result.items_cancelled)} service(s) cancelled, "
             f"{len(result.recurring_stopped)} recurring invoice(s) stopped; "
             f"backup {result.backup}")


def client_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    record = clients.get_client(client_id)
    action = "delete_with_transactions" if args.with_transactions else "delete"
    parse.confirmed(args.yes, f"Delete client #{client_id} {record.display_name}?",
                   details=lifecycle.impact(client_id, action).text(),
                   prompt="Go ahead? A backup is taken first.", refused="nothing changed")
    result = lifecycle.delete_client(client_id, with_transactions=args.with_transactions)
    kept = (f"; {result.transactions_kept} transaction(s) kept" if result.transactions_kept
            else "")
    out.emit(result.as_json(),
             f"Deleted client #{client_id} {result.name}: "
             f"{lifecycle.describe_counts(result.deleted)}{kept}; backup {result.backup}")


def client_archive(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    lifecycle.archive_client(client_id)
    record = clients.get_client(client_id)
    out.emit(record.as_json(), f"Archived client #{client_id} {record.display_name}")


def client_unarchive(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    lifecycle.unarchive_client(client_id)
    record = clients.get_client(client_id)
    out.emit(record.as_json(), f"Unarchived client #{client_id} {record.display_name}")


def client_anonymize(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    record = clients.get_client(client_id)
    parse.confirmed(args.yes, f"Anonymize client #{client_id} {record.display_name}?",
                   details=lifecycle.impact(client_id, "anonymize").text(),
                   prompt="Go ahead? A backup is taken first.", refused="nothing changed")
    result = lifecycle.anonymize_client(client_id)
    out.emit(result.as_json(),
             f"Anonymized client #{client_id}: now {result.name!r}; "
             f"{lifecycle.describe_counts(result.cleared)} deleted; backup {result.backup}")
