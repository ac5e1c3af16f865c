"""invoice create|show|list|publish|cancel|add-funds|apply-credit|pdf,
payment add, refund, credit add|remove|log, statement (SPEC.md D5, P2–P5).

Amounts and dates reach the services as the text that was typed: they are
the one place that says what is refused (and they refuse before writing).
AMOUNT arguments take negative numbers as values ("-5" is not an option
here, since no option of these commands looks like a negative number), so
a negative amount is refused by the service with exit 1, not by argparse."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path
from typing import Any

from billdesk.cli import parse
from billdesk.errors import InvalidInput, Problem, ValidationFailed
from billdesk.services.text import counted


def register(commands: Any) -> None:
    invoice = commands.add_parser("invoice", help="create, show, pay and cancel invoices")
    sub = invoice.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="a new invoice for a client, published unless --draft")
    create.add_argument("client_id", help="client id")
    create.add_argument("--item", action="append", default=[], metavar="DESCRIPTION=AMOUNT",
                        help="one line; split at its last '=' (repeat for more lines)")
    create.add_argument("--taxed", action="store_true", help="charge tax on every line")
    create.add_argument("--due", metavar="YYYY-MM-DD", help="due date (default today)")
    create.add_argument("--draft", action="store_true",
                        help="keep it a draft: no number yet, lines may be empty")
    create.set_defaults(handler=invoice_create)

    show = sub.add_parser("show", help="one invoice with its lines and totals")
    show.add_argument("id", help="invoice id")
    show.set_defaults(handler=invoice_show)

    lst = sub.add_parser("list", help="a client's invoices, oldest first")
    lst.add_argument("client_id", help="client id")
    lst.add_argument("--status", help="only this status (Draft, Unpaid, Paid, Cancelled, "
                                      "Refunded, Collections)")
    lst.set_defaults(handler=invoice_list)

    generate = sub.add_parser("generate", help="invoice every service, addon and domain due "
                                                "within the lead days (S4)")
    generate.add_argument("--client", metavar="ID", help="only this client (default: everyone)")
    generate.add_argument("--date", metavar="YYYY-MM-DD", help="generate as on this day "
                                                               "(default today)")
    generate.set_defaults(handler=invoice_generate)

    publish = sub.add_parser("publish", help="give a draft its number and make it Unpaid")
    publish.add_argument("id", help="invoice id")
    publish.set_defaults(handler=invoice_publish)

    cancel = sub.add_parser("cancel", help="cancel an open invoice (its credit and payments "
                                           "go to the client's credit)")
    cancel.add_argument("id", help="invoice id")
    cancel.set_defaults(handler=invoice_cancel)

    funds = sub.add_parser("add-funds", help="an invoice whose payment becomes credit")
    funds.add_argument("client_id", help="client id")
    funds.add_argument("amount", help="amount to add to credit once paid")
    funds.add_argument("--due", metavar="YYYY-MM-DD", help="due date (default today)")
    funds.set_defaults(handler=invoice_add_funds)

    apply = sub.add_parser("apply-credit", help="pay (part of) an invoice from the client's credit")
    apply.add_argument("id", help="invoice id")
    apply.add_argument("amount", nargs="?",
                       help="how much (default: the credit balance or the balance due, "
                            "whichever is less)")
    apply.set_defaults(handler=invoice_apply_credit)

    pdf = sub.add_parser("pdf", help="write the invoice as a PDF file")
    pdf.add_argument("id", help="invoice id")
    pdf.add_argument("-o", "--output", required=True, metavar="FILE", help="the PDF file to write")
    pdf.set_defaults(handler=invoice_pdf)

    payment = commands.add_parser("payment", help="record payments on invoices")
    psub = payment.add_subparsers(dest="payment_command", metavar="ACTION", required=True)
    padd = psub.add_parser("add", help="money received for an invoice (excess goes to credit)")
    padd.add_argument("invoice_id", help="invoice id")
    padd.add_argument("amount", help="amount received")
    padd.add_argument("--fee", help="fee the payment provider kept")
    padd.add_argument("--date", metavar="YYYY-MM-DD", help="date received (default today)")
    padd.add_argument("--method", help="payment method (default: the invoice's)")
    padd.add_argument("--ref", default="", help="reference, e.g. the bank's transaction id")
    padd.set_defaults(handler=payment_add)

    refund = commands.add_parser("refund", help="refund (part of) a payment")
    refund.add_argument("transaction_id", help="the payment's transaction id")
    refund.add_argument("amount", help="amount to refund")
    refund.add_argument("--to-credit", action="store_true",
                        help="keep it as the client's credit instead of paying it back")
    refund.add_argument("--date", metavar="YYYY-MM-DD", help="date of the refund (default today)")
    refund.add_argument("--ref", default="", help="reference")
    refund.set_defaults(handler=refund_add)

    credit = commands.add_parser("credit", help="a client's credit balance and its log")
    csub = credit.add_subparsers(dest="credit_command", metavar="ACTION", required=True)
    for name, handler, what in (("add", credit_add, "add credit by hand"),
                                ("remove", credit_remove, "remove credit by hand (never below 0)")):
        p = csub.add_parser(name, help=what)
        p.add_argument("client_id", help="client id")
        p.add_argument("amount", help="a positive amount")
        p.add_argument("--description", required=True, help="why (shown in the credit log)")
        p.add_argument("--date", metavar="YYYY-MM-DD", help="date of the entry (default today)")
        if name == "add":
            p.add_argument("--notify", action="store_true",
                           help="queue the 'credit added' email to the client")
        p.set_defaults(handler=handler)
    clog = csub.add_parser("log", help="every credit movement, newest first, and the balance")
    clog.add_argument("client_id", help="client id")
    clog.set_defaults(handler=credit_log)

    stmt = commands.add_parser("statement", help="a client's account statement for a date range")
    stmt.add_argument("client_id", help="client id")
    stmt.add_argument("--from", dest="start", metavar="YYYY-MM-DD",
                      help="first day (default: the client's first record)")
    stmt.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default today)")
    stmt.add_argument("-o", "--output", metavar="FILE.pdf", help="also write it as a PDF file")
    stmt.set_defaults(handler=statement)


# --------------------------------------------------------------------------- helpers

def _client_id(value: str) -> int:
    return parse.record_id(value, "client_id")


def _invoice_id(value: str) -> int:
    return parse.record_id(value, "invoice")


def _written(path: Path, data: Any) -> int:
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    return path.stat().st_size


_LINE_FIELD = re.compile(r"^lines(?:\[(\d+)\])?")


def _as_items(exc: InvalidInput, count: int) -> InvalidInput:
    """The service names lines ``lines[N].amount``; on the command line
    they are ``--item`` options, so name that (and which one when several)."""
    problems = exc.problems if isinstance(exc, ValidationFailed) else [Problem(exc.field, exc.message)]
    renamed = []
    for p in problems:
        match = _LINE_FIELD.match(p.field)
        if match is None:
            renamed.append(p)
            continue
        where = f" (item {match.group(1)})" if match.group(1) and count > 1 else ""
        renamed.append(Problem("item", p.message + where))
    return ValidationFailed(renamed)


def _items(values: list[str], taxed: bool) -> list[Any]:
    from billdesk.services.invoicing import LineInput

    return [LineInput(description, amount, taxed) for description, amount in parse.items(values)]


def _rate(rate: Any) -> str:
    return f"{rate.normalize():f}%"


def money_table(rows: list[tuple[str, Any, bool]], doc: Any,
                extra: tuple[tuple[str, Any], ...] = ()) -> list[str]:
    """The lines (description, amount, taxed) and the totals of an invoice
    or a quote (``doc`` has subtotal, tax1, tax2, total and rates), then
    ``extra`` (label, amount) rows, in two aligned columns."""
    width = max([len(str(doc.total))] + [len(str(amount)) for _text, amount, _taxed in rows])
    out = []
    for text, amount, taxed in rows:
        text = text if len(text) <= 48 else text[:47] + "…"
        out.append(f"  {text:48} {str(amount):>{width}}" + ("  taxed" if taxed else ""))
    if not rows:
        out.append("  (no lines yet)")
    totals = [("Subtotal", doc.subtotal)]
    if doc.tax1 or doc.rates.rate1:
        totals.append((f"{doc.rates.name1 or 'Tax'} {_rate(doc.rates.rate1)}", doc.tax1))
    if doc.tax2 or doc.rates.rate2:
        totals.append((f"{doc.rates.name2 or 'Tax 2'} {_rate(doc.rates.rate2)}", doc.tax2))
    totals.append(("Total", doc.total))
    out += [f"  {label:>48} {str(money):>{width}}" for label, money in (*totals, *extra)]
    return out


def invoice_text(inv: Any) -> str:
    """A readable invoice: header, lines, totals."""
    head = (f"Invoice #{inv.number}" if inv.number else "Draft invoice") + f" (id {inv.id})"
    if inv.is_add_funds:
        head += ", add funds"
    lines = [f"{head} — {inv.status}",
             f"  Client #{inv.client_id}   Date {inv.date.isoformat()}   Due {inv.due_date.isoformat()}"
             + (f"   Paid {inv.paid_date.isoformat()}" if inv.paid_date else "")
             + f"   {inv.currency}"]
    settled = tuple((label, amount) for label, amount in (
        ("Credit applied", inv.credit), ("Paid", inv.paid), ("Refunded", inv.refunded)) if amount)
    lines += money_table([(ln.description, ln.amount, ln.taxed) for ln in inv.lines], inv,
                         (*settled, ("Balance due", inv.balance)))
    return "\n".join(lines)


# --------------------------------------------------------------------------- invoices

def invoice_create(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    client_id = _client_id(args.client_id)
    lines = _items(args.item, args.taxed)
    try:
        invoice_id = invoicing.create_invoice(client_id, lines, due_date=args.due, draft=args.draft)
    except InvalidInput as exc:
        if isinstance(exc, ValidationFailed) or _LINE_FIELD.match(exc.field or ""):
            raise _as_items(exc, len(lines)) from None
        raise
    inv = invoicing.get_invoice(invoice_id)
    out.emit(inv.as_json(), lambda: "Created " + invoice_text(inv))


def invoice_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    inv = invoicing.get_invoice(_invoice_id(args.id))
    out.emit(inv.as_json(), lambda: invoice_text(inv))


def invoice_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import NotFound
    from billdesk.models import INVOICE_STATUSES, Client, Invoice
    from billdesk.services import invoicing

    client_id = _client_id(args.client_id)
    status = None
    if args.status is not None:
        for known in INVOICE_STATUSES:
            if known.lower() == args.status.strip().lower():
                status = known
        if status is None:
            raise InvalidInput("status", f"{args.status!r}: must be one of "
                                         f"{', '.join(INVOICE_STATUSES)}")
    if not Client.select().where(Client.id == client_id).exists():
        raise NotFound("client_id", f"no client #{client_id}")
    query = Invoice.select(Invoice.id).where(Invoice.client == client_id)
    if status:
        query = query.where(Invoice.status == status)
    found = [invoicing.get_invoice(i) for (i,) in query.order_by(Invoice.id).tuples()]

    def text() -> str:
        if not found:
            return f"Client #{client_id} has no invoices" + (f" that are {status}." if status else ".")
        wide = max([14] + [len(inv.number or "") for inv in found])  # numbers whole
        rows = [f"{'ID':>7}  {'Number':{wide}}  {'Date':10}  {'Due':10}  {'Status':11}  "
                f"{'Total':>12}  {'Balance':>12}"]
        for inv in found:
            rows.append(f"{inv.id:>7}  {inv.number or '(draft)':{wide}}  {inv.date.isoformat()}  "
                        f"{inv.due_date.isoformat()}  {inv.status:11}  {str(inv.total):>12}  "
                        f"{str(inv.balance):>12}" + ("  add funds" if inv.is_add_funds else ""))
        rows.append(counted(len(found), "invoice"))
        return "\n".join(rows)

    out.emit({"invoices": [inv.as_json() for inv in found]}, text)


def invoice_generate(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import billing_run, invoicing

    from billdesk import clock
    from billdesk.errors import InvalidInput
    from billdesk.services.amounts import date_input

    client_id = _client_id(args.client) if args.client is not None else None
    day = date_input(args.date, "date") if args.date not in (None, "") else None
    if day is not None and day > clock.today():  # "2030" invoices in a 2026 book
        raise InvalidInput("date", f"{day.isoformat()} is after today "
                                   f"({clock.today().isoformat()}): invoices are generated on "
                                   "days that have come")
    result = billing_run.generate_due(client_id=client_id, today=day)
    made = invoicing.get_invoices(result.invoice_ids)

    def text() -> str:
        if not made:
            return "Nothing was due: no invoice made."
        rows = [f"{inv.label:18}  client #{inv.client_id:<7}  due {inv.due_date.isoformat()}  "
                f"{str(inv.total):>12} {inv.currency}  {inv.status}" for inv in made]
        rows.append(f"{counted(len(made), 'invoice')} made")
        return "\n".join(rows)

    out.emit({"invoices": [inv.as_json() for inv in made]}, text)


def invoice_publish(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    invoice_id = _invoice_id(args.id)
    invoicing.publish(invoice_id)
    inv = invoicing.get_invoice(invoice_id)
    out.emit(inv.as_json(), lambda: "Published " + invoice_text(inv))


def invoice_cancel(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    inv = invoicing.cancel_invoice(_invoice_id(args.id))
    out.emit(inv.as_json(), lambda: "Cancelled " + invoice_text(inv))


def invoice_add_funds(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    invoice_id = invoicing.create_add_funds(_client_id(args.client_id), args.amount,
                                            due_date=args.due)
    inv = invoicing.get_invoice(invoice_id)
    out.emit(inv.as_json(), lambda: "Created " + invoice_text(inv))


def invoice_apply_credit(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import credit, invoicing

    invoice_id = _invoice_id(args.id)
    applied = invoicing.apply_credit(invoice_id, args.amount)
    inv = invoicing.get_invoice(invoice_id)
    left = credit.balance(inv.client_id)
    out.emit({"id": invoice_id, "applied": str(applied), "invoice": inv.as_json(),
              "credit_balance": str(left)},
             lambda: f"Applied {applied} {inv.currency} of credit to invoice {inv.label}; "
                     f"credit left {left}.\n" + invoice_text(inv))


def invoice_pdf(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing

    invoice_id = _invoice_id(args.id)
    path = parse.output_path(args.output)
    inv = invoicing.get_invoice(invoice_id)
    from billdesk.services import documents

    data = documents.invoice_pdf(invoice_id, path)
    size = _written(path, data)
    out.emit({"id": invoice_id, "number": inv.number, "file": str(path), "bytes": size},
             f"Wrote invoice {inv.label} to {path} ({size} bytes)")


# --------------------------------------------------------------------------- payments

def payment_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import payments

    result = payments.add_payment(_invoice_id(args.invoice_id), args.amount, fee=args.fee,
                                  date=args.date, method=args.method, reference=args.ref)
    inv = result.invoice

    def text() -> str:
        said = f"Payment recorded (transaction #{result.transaction_id}) on invoice {inv.label}"
        if result.credit_added:
            said += f"; {result.credit_added} {inv.currency} added to credit"
        return said + ".\n" + invoice_text(inv)

    out.emit(result.as_json(), text)


def refund_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.models import Transaction
    from billdesk.money import Money
    from billdesk.services import invoicing, payments

    transaction_id = parse.record_id(args.transaction_id, "transaction")
    refund_id = payments.refund(transaction_id, args.amount, to_credit=args.to_credit,
                                date=args.date, reference=args.ref)
    row = Transaction.get_by_id(refund_id)
    amount = Money.from_minor(row.amount_out, row.currency)
    inv = invoicing.get_invoice(Transaction.get_by_id(transaction_id).invoice_id)
    out.emit({"id": refund_id, "refund_of": transaction_id, "amount": str(amount),
              "to_credit": bool(row.to_credit), "invoice": inv.as_json()},
             lambda: f"Refunded {amount} {inv.currency} of transaction #{transaction_id} "
                     + ("to the client's credit" if row.to_credit else "by its method")
                     + f" (transaction #{refund_id}).\n" + invoice_text(inv))


# --------------------------------------------------------------------------- credit

def _entry_document(client_id: int, entry_id: int) -> tuple[dict[str, Any], Any]:
    from billdesk.services import credit

    log = credit.credit_log(client_id)
    entry = next(e for e in log.entries if e.id == entry_id)
    return ({"id": entry.id, "client_id": client_id, "amount": str(entry.amount),
             "description": entry.description, "balance": str(log.balance)}, log.balance)


def credit_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import credit

    client_id = _client_id(args.client_id)
    entry_id = credit.add_credit(client_id, args.amount, args.description, date=args.date,
                                 notify=args.notify)
    document, balance = _entry_document(client_id, entry_id)
    out.emit(document, f"Added {document['amount']} credit to client #{client_id} "
                       f"(entry #{entry_id}); balance {balance} {balance.currency}.")


def credit_remove(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import credit

    client_id = _client_id(args.client_id)
    entry_id = credit.remove_credit(client_id, args.amount, args.description, date=args.date)
    document, balance = _entry_document(client_id, entry_id)
    out.emit(document, f"Removed {document['amount'].lstrip('-')} credit from client #{client_id} "
                       f"(entry #{entry_id}); balance {balance} {balance.currency}.")


def credit_log(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import credit

    client_id = _client_id(args.client_id)
    log = credit.credit_log(client_id)

    def text() -> str:
        rows = [f"{'ID':>6}  {'Date':10}  {'Kind':22}  {'Amount':>12}  Description"]
        for e in log.entries:
            mark = f"  (deleted by #{e.reversed_by})" if e.reversed_by else ""
            rows.append(f"{e.id:>6}  {e.date.isoformat()}  {e.label[:22]:22}  {str(e.amount):>12}  "
                        f"{e.description}{mark}")
        if not log.entries:
            rows = [f"Client #{client_id} has no credit entries."]
        rows.append(f"Credit balance: {log.balance} {log.balance.currency}")
        return "\n".join(rows)

    out.emit(log.as_json(), text)


# --------------------------------------------------------------------------- statement

def statement(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import statements

    client_id = _client_id(args.client_id)
    path = parse.output_path(args.output) if args.output is not None else None
    if args.start is None and args.end is None:
        found = statements.all_time(client_id)
    else:
        from billdesk.services.amounts import date_input

        end = date_input(args.end, "to") if args.end is not None else dt.date.today()
        start = args.start
        if start is None:
            first = statements.first_date(_checked_client(client_id))
            start = min(first or end, end)
        found = statements.statement(client_id, start, end)
    document = found.as_json()
    size = None
    if path is not None:
        from billdesk.services import documents

        size = _written(path, documents.statement_pdf(found, path))
        document["file"] = str(path)
    out.emit(document, lambda: statement_text(found) + (f"\nWrote {path} ({size} bytes)"
                                                        if path is not None else ""))


def _checked_client(client_id: int) -> int:
    from billdesk.services import credit

    credit.balance(client_id)  # NotFound for an unknown client
    return client_id


def statement_text(s: Any) -> str:
    width = 12
    lines = [f"Statement for client #{s.client_id}, {s.start.isoformat()} to {s.end.isoformat()} "
             f"({s.currency})",
             f"{'Date':10}  {'Type':16}  {'Description':44}  {'Debit':>{width}}  {'Credit':>{width}}  "
             f"{'Balance':>{width}}",
             f"{s.start.isoformat()}  {'':16}  {'Opening balance':44}  {'':>{width}}  {'':>{width}}  "
             f"{str(s.opening):>{width}}"]
    for r in s.rows:
        description = r.description if len(r.description) <= 44 else r.description[:43] + "…"
        lines.append(f"{r.date.isoformat()}  {r.type[:16]:16}  {description:44}  "
                     f"{str(r.debit) if r.debit else '':>{width}}  "
                     f"{str(r.credit) if r.credit else '':>{width}}  {str(r.balance):>{width}}")
    lines.append(f"{s.end.isoformat()}  {'':16}  {'Closing balance':44}  {str(s.total_debit):>{width}}  "
                 f"{str(s.total_credit):>{width}}  {str(s.closing):>{width}}")
    if s.closing.amount > 0:
        lines.append(f"The client owes {s.closing} {s.currency}.")
    elif s.closing.amount < 0:
        lines.append(f"The client is {(-s.closing)} {s.currency} in credit.")
    if s.checked_ok is False:
        lines.append(f"Warning: the closing balance should be {s.expected} (unpaid balances less "
                     "credit); see the log.")
    return "\n".join(lines)
