"""client currency|merge|close|delete|archive|unarchive|anonymize (C7–C11)."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import clients as clients_cli
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


def _confirmed(args: argparse.Namespace, question: str, client_id: int, action: str) -> None:
    """D5: --yes, else ask on a terminal naming what the action touches."""
    from billdesk.services import lifecycle

    parse.confirmed(args.yes, question, details=lifecycle.impact(client_id, action).text(),
                    prompt="Go ahead? A backup is taken first.", refused="nothing changed")


def client_currency(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import lifecycle

    client_id = parse.record_id(args.id)
    preview = lifecycle.currency_preview(client_id, args.code)
    lifecycle.change_currency(client_id, args.code, convert=args.convert)
    document, _ = clients_cli.show_document(client_id)
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
    _confirmed(args, f"Merge client #{source_id} {preview.source['display_name']} into "
               f"#{into_id} {preview.into['display_name']}?", source_id, "merge")
    result = lifecycle.merge_clients(source_id, into_id, keep=keep)
    out.emit(result.as_json(),
             f"Merged client #{source_id} into #{into_id}: "
             f"{lifecycle.describe_counts(result.moved)}; backup {result.backup}")


def client_close(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    record = clients.get_client(client_id)
    _confirmed(args, f"Close client #{client_id} {record.display_name}?", client_id, "close")
    result = lifecycle.close_client(client_id)
    out.emit(result.as_json(),
             f"Closed client #{client_id} {record.display_name}: "
             f"{lifecycle.counted('invoice', len(result.invoices_cancelled))} cancelled, "
             f"{lifecycle.counted('service', len(result.items_cancelled))} cancelled, "
             f"{lifecycle.counted('recurring_invoice', len(result.recurring_stopped))} stopped, "
             f"{lifecycle.counted('ticket', len(result.tickets_closed))} closed; "
             f"backup {result.backup}")


def client_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    record = clients.get_client(client_id)
    action = "delete_with_transactions" if args.with_transactions else "delete"
    _confirmed(args, f"Delete client #{client_id} {record.display_name}?", client_id, action)
    result = lifecycle.delete_client(client_id, with_transactions=args.with_transactions)
    kept = (f"; {lifecycle.describe_counts({'txn': result.transactions_kept})} kept"
            if result.transactions_kept else "")
    if result.unlinked:
        kept += f"; kept, no longer linked: {lifecycle.describe_counts(result.unlinked)}"
    out.emit(result.as_json(),
             f"Deleted client #{client_id} {result.name}: "
             f"{lifecycle.describe_counts(result.deleted)}{kept}; backup {result.backup}")


def client_archive(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, lifecycle

    client_id = parse.record_id(args.id)
    result = lifecycle.archive_client(client_id)
    record = clients.get_client(client_id)
    out.emit({**record.as_json(), "backup": str(result.backup)},
             f"Archived client #{client_id} {record.display_name}; backup {result.backup}")


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
    _confirmed(args, f"Anonymize client #{client_id} {record.display_name}?", client_id,
               "anonymize")
    result = lifecycle.anonymize_client(client_id)
    out.emit(result.as_json(),
             f"Anonymized client #{client_id}: now {result.name!r}; "
             f"{lifecycle.describe_counts(result.cleared)} deleted; backup {result.backup}")
