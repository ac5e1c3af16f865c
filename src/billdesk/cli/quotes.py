"""quote create|show|list|stage|accept|pdf (SPEC.md B4, D5).

``quote create CLIENT_ID --item "DESCRIPTION=AMOUNT"…`` makes a quote; each
item splits at its last ``=`` and is one unit at that price; ``--taxed``
marks every line taxed. ``quote accept ID`` converts the quote to an
invoice and prints that invoice as ``invoice show`` does; a second accept
is refused (exit 1)."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.cli.billing import money_table
from billdesk.errors import InvalidInput, ValidationFailed


def register(commands: Any) -> None:
    """Adds this module's commands to the parser."""
    quote = commands.add_parser("quote", help="quotes: create, show, accept (convert to an "
                                              "invoice) and PDF")
    sub = quote.add_subparsers(dest="quote_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="a new quote for a client")
    create.add_argument("client_id", help="client id")
    create.add_argument("--item", action="append", default=[], metavar="DESCRIPTION=AMOUNT",
                        help="one line; split at its last '=' (repeat for more lines)")
    create.add_argument("--taxed", action="store_true", help="charge tax on every line")
    create.add_argument("--subject", default="", help="what the quote is for")
    create.add_argument("--valid-until", metavar="YYYY-MM-DD",
                        help="last day the quote may be accepted (default: 30 days from today)")
    create.add_argument("--stage", default="Draft",
                        help="Draft (default), Delivered, On hold, Accepted, Lost or Dead")
    create.add_argument("--proposal", default="", help="the proposal text printed on the quote")
    create.add_argument("--notes", default="", help="notes for the customer, printed on the quote")
    create.set_defaults(handler=quote_create)

    show = sub.add_parser("show", help="one quote with its lines and totals")
    show.add_argument("id", help="quote id")
    show.set_defaults(handler=quote_show)

    lst = sub.add_parser("list", help="a client's quotes, newest first")
    lst.add_argument("client_id", help="client id")
    lst.add_argument("--stage", help="only this stage")
    lst.add_argument("--current", action="store_true",
                     help="only quotes still on offer (valid until today or later, and not "
                          "Accepted, Lost or Dead)")
    lst.set_defaults(handler=quote_list)

    stage = sub.add_parser("stage", help="move a quote to another stage")
    stage.add_argument("id", help="quote id")
    stage.add_argument("stage", help="Draft, Delivered, On hold, Accepted, Lost or Dead")
    stage.set_defaults(handler=quote_stage)

    accept = sub.add_parser("accept", help="convert the quote to an invoice (once) and print "
                                           "the invoice")
    accept.add_argument("id", help="quote id")
    accept.set_defaults(handler=quote_accept)

    pdf = sub.add_parser("pdf", help="write the quote as a PDF file")
    pdf.add_argument("id", help="quote id")
    pdf.add_argument("-o", "--output", metavar="FILE",
                     help="the PDF file to write (default: quote-ID.pdf here)")
    pdf.set_defaults(handler=quote_pdf)


# --------------------------------------------------------------------------- helpers

def _quote_id(value: str) -> int:
    return parse.record_id(value, "quote")


def _items(values: list[str], taxed: bool) -> list[Any]:
    from billdesk.services.quotes import LineInput

    return [LineInput(description, amount, taxed=taxed)
            for description, amount in parse.items(values)]


def quote_text(q: Any) -> str:
    """A readable quote: header, lines, totals."""
    head = f"Quote #{q.id}" + (f": {q.subject}" if q.subject else "") + f" — {q.stage}"
    lines = [head, f"  Client #{q.client_id}   Date {q.date.isoformat()}   Valid until "
                   f"{q.valid_until.isoformat()}   {q.currency}"
             + (f"   Invoice id {q.invoice_id}" if q.invoice_id else "")]
    lines += money_table([(ln.invoice_description, ln.amount, ln.taxed) for ln in q.lines], q)
    if q.proposal:
        lines += ["", q.proposal]
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands

def quote_create(args: argparse.Namespace, out: Any) -> None:
    from billdesk.cli.billing import _LINE_FIELD, _as_items
    from billdesk.services import quotes

    client_id = parse.record_id(args.client_id, "client_id")
    lines = _items(args.item, args.taxed)
    try:
        quote_id = quotes.create_quote(client_id, lines, subject=args.subject,
                                       valid_until=args.valid_until, stage=args.stage,
                                       proposal=args.proposal, customer_notes=args.notes)
    except InvalidInput as exc:
        if isinstance(exc, ValidationFailed) or _LINE_FIELD.match(exc.field or ""):
            raise _renamed(_as_items(exc, len(lines))) from None
        raise
    q = quotes.get_quote(quote_id)
    out.emit(q.as_json(), lambda: "Created " + quote_text(q))


def _renamed(exc: InvalidInput) -> InvalidInput:
    """The option names as typed: ``valid-until``, not ``valid_until``."""
    from billdesk.errors import Problem

    problems = exc.problems if isinstance(exc, ValidationFailed) else [Problem(exc.field, exc.message)]
    return ValidationFailed([Problem(p.field.replace("valid_until", "valid-until")
                                     .replace("customer_notes", "notes"), p.message)
                             for p in problems])


def quote_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import quotes

    q = quotes.get_quote(_quote_id(args.id))
    out.emit(q.as_json(), lambda: quote_text(q))


def quote_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import quotes

    client_id = parse.record_id(args.client_id, "client_id")
    if args.current:
        found = quotes.current_quotes(client_id)
        if args.stage is not None:
            stage = quotes.check_stage(args.stage)
            found = [q for q in found if q.stage == stage]
    else:
        found = quotes.list_quotes(client_id, args.stage)

    def text() -> str:
        if not found:
            return "No quotes."
        return "\n".join(f"#{q.id:<6} {q.stage:10} {q.date.isoformat()}  valid until "
                         f"{q.valid_until.isoformat()}  {str(q.total):>12} {q.currency}  "
                         f"{q.subject}" for q in found)

    out.emit({"quotes": [q.as_json() for q in found]}, text)


def quote_stage(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import quotes

    q = quotes.set_stage(_quote_id(args.id), args.stage)
    out.emit(q.as_json(), lambda: quote_text(q))


def quote_accept(args: argparse.Namespace, out: Any) -> None:
    from billdesk.cli.billing import invoice_text
    from billdesk.services import invoicing, quotes

    quote_id = _quote_id(args.id)
    invoice_id = quotes.convert(quote_id)
    inv = invoicing.get_invoice(invoice_id)
    out.emit(inv.as_json(), lambda: f"Quote #{quote_id} accepted. Created " + invoice_text(inv))


def quote_pdf(args: argparse.Namespace, out: Any) -> None:
    from billdesk.cli.billing import _written
    from billdesk.services import quotes

    quote_id = _quote_id(args.id)
    path = parse.output_path(args.output if args.output is not None else f"quote-{quote_id}.pdf")
    quotes.get_quote(quote_id)
    from billdesk.services import quote_documents

    data = quote_documents.quote_pdf(quote_id, path)
    size = _written(path, data)
    out.emit({"id": quote_id, "file": str(path), "bytes": size},
             f"Wrote quote #{quote_id} to {path} ({size} bytes)")
