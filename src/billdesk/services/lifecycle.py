"""A client's lifecycle (C7–C11): change the currency, merge two clients,
close, delete, archive and anonymize.

Every destructive action (merge, close, delete, anonymize) first takes a
backup of the book (services/backup.py, outside any transaction), then
acts in ONE transaction, and names the backup in its result. ``impact``
says beforehand what an action will touch, for the confirmation.

Which tables hold a client's records is read from the schema itself (the
foreign keys that reference ``client(id)``), so a table added by a later
migration is merged and counted without a change here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from peewee import fn

from billdesk.errors import Conflict, InvalidInput
from billdesk.models import (
    Affiliate,
    AffiliatePayout,
    BillableItem,
    Client,
    ClientLog,
    Contact,
    CreditEntry,
    Email,
    Invoice,
    InvoiceLine,
    Order,
    PayMethod,
    Quote,
    QuoteLine,
    RecurringInvoice,
    RecurringLine,
    Service,
    Ticket,
    Transaction,
    database,
    now,
)
from billdesk.models.tables import ClientFile, ClientNote
from billdesk.money import Money, check_currency, minor_digits
from billdesk.services import activity, changelog, clients, credit, invoicing, settings, taxes

log = logging.getLogger(__name__)

ACTIONS = ("merge", "close", "delete", "delete_with_transactions", "anonymize", "archive")
KEEP = ("target", "source")

# How people name a table's rows (one, many); a table not listed is named as it is.
TABLE_LABELS = {
    "invoice": ("invoice", "invoices"), "txn": ("transaction", "transactions"),
    "credit_entry": ("credit ledger entry", "credit ledger entries"),
    "service": ("service, addon or domain", "services, addons and domains"),
    "service_group": ("service group", "service groups"), "contact": ("contact", "contacts"),
    "client_log": ("log entry", "log entries"), "client_order": ("order", "orders"),
    "quote": ("quote", "quotes"), "billable_item": ("billable item", "billable items"),
    "recurring_invoice": ("recurring invoice", "recurring invoices"),
    "email": ("email", "emails"), "client_file": ("file", "files"), "client_note": ("note", "notes"),
    "pay_method": ("pay method", "pay methods"), "ticket": ("ticket", "tickets"),
    "ticket_reply": ("ticket message", "ticket messages"),
    "affiliate": ("affiliate record", "affiliate records"),
    "affiliate_referral": ("referral", "referrals"),
    "affiliate_commission": ("commission", "commissions"),
    "affiliate_payout": ("payout", "payouts"),
}
# Tables whose amounts are money in the client's currency (an affiliate's
# commissions and payouts are in its client's): a merge across currencies
# is refused while the source has any of them (C7 first).
MONEY_TABLES = ("invoice", "txn", "credit_entry", "service", "quote", "billable_item",
                "recurring_invoice", "client_order", "affiliate")
LIVE_ITEM_STATUSES = ("Pending", "Active", "Suspended", "Pending transfer")  # the run bills them
OPEN_QUOTE_STAGES = ("Draft", "Delivered", "On hold")
# Profile fields ``merge_clients(keep="source")`` copies onto the kept client.
# Not the currency (the money records decide it), the status (closing is
# its own action) nor two-factor (the client turns it on).
MERGE_PROFILE = tuple(k for k in clients.EDITABLE if k not in ("currency", "status", "two_factor"))
ANONYMIZED_FIRST = "Anonymized"
# What anonymizing deletes (the rest stays, without notes).
ANONYMIZE_DELETES = ("contact", "client_note", "client_file", "email", "pay_method", "ticket",
                     "client_log")


def _anonymous_values(client_id: int) -> dict[str, Any]:
    return {"first_name": ANONYMIZED_FIRST, "last_name": f"Client #{client_id}", "company": "",
            "email": f"anonymized-{client_id}@anonymized.invalid", "phone": "", "address1": "",
            "address2": "", "city": "", "state": "", "postcode": "", "tax_id": "", "notes": ""}


# --------------------------------------------------------------------------- the schema

@dataclass(frozen=True, slots=True)
class Reference:
    """A column that refers to a client, as the schema declares it."""

    table: str
    column: str
    on_delete: str


def references() -> list[Reference]:
    """Every column of every table with a foreign key to ``client(id)``
    (PRAGMA foreign_key_list), in table order."""
    db = database.obj
    found = []
    tables = db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name").fetchall()
    for (table,) in tables:
        for row in db.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall():
            _id, _seq, target, column, to, _on_update, on_delete = row[:7]
            if target.lower() == "client" and (to is None or to.lower() == "id"):
                found.append(Reference(table, column, (on_delete or "NO ACTION").upper()))
    return found


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def record_counts(client_id: int) -> dict[str, int]:
    """How many rows of each table refer to the client (tables with none left out)."""
    counts: dict[str, int] = {}
    for ref in references():
        n = database.execute_sql(f"SELECT count(*) FROM {_q(ref.table)} WHERE {_q(ref.column)} = ?",
                                 (client_id,)).fetchone()[0]
        if n:
            counts[ref.table] = counts.get(ref.table, 0) + n
    return counts


def _label(table: str, n: int = 2) -> str:
    one, many = TABLE_LABELS.get(table, (table.replace("_", " "),) * 2)
    return one if n == 1 else many


def counted(table: str, n: int, adjective: str = "") -> str:
    """"1 unpaid invoice", "3 unpaid invoices"."""
    return f"{n} {adjective + ' ' if adjective else ''}{_label(table, n)}"


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {_label(t, n)}" for t, n in counts.items() if n) or "no records"


# --------------------------------------------------------------------------- helpers

def _name(client_id: int) -> str:
    return clients.get_client(client_id).display_name  # NotFound (id) first


def _money(units: int, currency: str) -> Money:
    return Money.from_minor(units, currency)


def _backup(action: str, client_id: int) -> Path:
    from billdesk.services import backup

    if database.in_transaction():
        raise Conflict("db", f"{action} takes a backup first and cannot run inside a transaction")
    return backup.backup(reason=f"before-{action}", automatic=True, client_id=client_id)


def _remove_files(client_id: int, actor: str | None) -> int:
    """The client's file rows, inside the caller's transaction (F1:
    services/files.py); ``_purge_files`` drops their bytes after the commit."""
    try:
        from billdesk.services import files
    except ImportError:  # F1 not there: the rows alone
        return ClientFile.delete().where(ClientFile.client == client_id).execute()
    return files.remove_all(client_id, actor=actor)


def _purge_files() -> None:
    """After the commit: the stored bytes no file row names any more."""
    try:
        from billdesk.services import files
    except ImportError:
        return
    try:
        files.purge_orphans()
    except OSError:  # the rows are gone; bytes left behind go at the next purge
        log.exception("could not delete stored file bytes")


def _remove_notes(client_id: int, actor: str | None) -> int:
    try:
        from billdesk.services import notes
    except ImportError:  # F2 not there
        return ClientNote.delete().where(ClientNote.client == client_id).execute()
    return notes.remove_all(client_id, actor=actor)


def _open_invoices(client_id: int, statuses: tuple[str, ...] = invoicing.OPEN) -> list[tuple]:
    return list(Invoice.select(Invoice.id, Invoice.number, Invoice.status, Invoice.total,
                               Invoice.credit, Invoice.paid, Invoice.refunded, Invoice.currency)
                .where(Invoice.client == client_id, Invoice.status.in_(statuses))
                .order_by(Invoice.id).tuples())


def _invoice_label(number: str | None, invoice_id: int) -> str:
    return f"#{number}" if number else f"draft {invoice_id}"


def _waiting_items(client_id: int) -> Any:
    """Billable items still to be invoiced (billable.BillableRecord.waiting)."""
    return BillableItem.select(BillableItem.id).where(
        BillableItem.client == client_id,
        ((BillableItem.action.in_(("next", "due"))) & (BillableItem.invoiced == 0))
        | ((BillableItem.action == "recur")
           & (BillableItem.count.is_null() | (BillableItem.invoiced < BillableItem.count))))


def _open_quotes(client_id: int) -> Any:
    return Quote.select(Quote.id).where(Quote.client == client_id,
                                        Quote.stage.in_(OPEN_QUOTE_STAGES), Quote.invoice.is_null())


def _open_tickets(client_id: int) -> list[tuple[int, str]]:
    """(id, status) of the client's tickets that are not Closed."""
    return list(Ticket.select(Ticket.id, Ticket.status)
                .where(Ticket.client == client_id, Ticket.status != "Closed")
                .order_by(Ticket.id).tuples())


AFFILIATE_CHILDREN = ("affiliate_referral", "affiliate_commission", "affiliate_payout")


def _affiliate_children(client_id: int) -> dict[str, tuple[int, int]]:
    """The client's own affiliate account's records (they refer to the
    affiliate, not to the client, so ``record_counts`` does not see them):
    table -> (rows, sum of amounts in minor units; 0 for referrals)."""
    found = {}
    for table in AFFILIATE_CHILDREN:
        amount = "0" if table == "affiliate_referral" else "COALESCE(SUM(amount), 0)"
        n, units = database.execute_sql(
            f"SELECT count(*), {amount} FROM {table} WHERE affiliate_id IN "
            "(SELECT id FROM affiliate WHERE client_id = ?)", (client_id,)).fetchone()
        if n:
            found[table] = (n, units)
    return found


def _describe_affiliate(client_id: int, currency: str) -> str:
    """"3 referrals, 2 commissions (GBP 25.00), 1 payout (GBP 10.00)" of the
    client's affiliate account ("" when it has none)."""
    parts = []
    for table, (n, units) in _affiliate_children(client_id).items():
        money = f" ({currency} {_money(units, currency)})" if table != "affiliate_referral" else ""
        parts.append(f"{n} {_label(table, n)}{money}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- impact

@dataclass(frozen=True)
class Impact:
    """What an action will touch, for the confirmation text."""

    lines: list[str]

    def text(self) -> str:
        return "\n".join(f"  - {line}" for line in self.lines)


def impact(client_id: int, action: str) -> Impact:
    """What ``action`` ("merge": of the client merged away, "close",
    "delete", "delete_with_transactions", "anonymize", "archive") will do."""
    if action not in ACTIONS:
        raise InvalidInput("action", f"{action!r}: must be one of {', '.join(ACTIONS)}")
    name = _name(client_id)
    currency = clients.client_currency(client_id)
    counts = record_counts(client_id)
    lines: list[str] = []
    owing = _open_invoices(client_id)
    unpaid = [r for r in owing if r[2] in invoicing.OWING]
    unpaid_sum = _money(sum(r[3] - r[4] - r[5] for r in unpaid), currency)
    credit_now = credit.balance(client_id)
    if action == "merge":
        lines.append(f"client #{client_id} {name} is removed; these move to the kept client:")
        lines += [f"{n} {_label(t, n)}" for t, n in counts.items()] or ["no records"]
        if credit_now:
            lines.append(f"credit {currency} {credit_now} (through the ledger)")
        if counts.get("affiliate"):
            account = _describe_affiliate(client_id, currency)
            lines.append("their affiliate account" + (f" ({account})" if account else "")
                         + " moves; if the kept client is an affiliate too, its account takes "
                           "the referrals, commissions and payouts over")
    elif action == "close":
        lines.append(f"client #{client_id} {name}: status Closed; nothing is deleted")
        if unpaid:
            lines.append(f"{counted('invoice', len(unpaid), 'unpaid')} cancelled "
                         f"({currency} {unpaid_sum}); "
                         "credit and payments on them go to the credit balance")
        drafts = [r for r in owing if r[2] == "Draft"]
        if drafts:
            lines.append(f"{counted('invoice', len(drafts), 'draft')} cancelled")
        live = (Service.select().where(Service.client == client_id,
                                       Service.status.in_(LIVE_ITEM_STATUSES)).count())
        if live:
            lines.append(f"{counted('service', live)} cancelled")
        active = (RecurringInvoice.select().where(RecurringInvoice.client == client_id,
                                                  RecurringInvoice.status == "Active").count())
        if active:
            lines.append(f"{counted('recurring_invoice', active)} stopped")
        waiting = _waiting_items(client_id).count()
        if waiting:
            lines.append(f"{counted('billable_item', waiting)} no longer invoiced")
        tickets = len(_open_tickets(client_id))
        if tickets:
            lines.append(f"{counted('ticket', tickets, 'open')} closed")
        cancelling = {str(r[0]) for r in unpaid}  # (their messages: "{template}:invoice:{id}")
        waiting = sum(1 for (key,) in database.execute_sql(
            "SELECT event_key FROM email WHERE client_id = ? AND status = 'Queued' "
            "AND event_key LIKE '%:invoice:%'", (client_id,))
            if key.rpartition(":")[2] in cancelling)
        if waiting:
            lines.append(f"{counted('email', waiting, 'waiting')} about those invoices not sent")
    elif action in ("delete", "delete_with_transactions"):
        txns = counts.pop("txn", 0)
        kept = counts.pop("affiliate_commission", 0)  # ON DELETE SET NULL: the affiliate's
        lines.append(f"client #{client_id} {name} is deleted with everything of theirs:")
        lines += [f"{n} {_label(t, n)}" for t, n in counts.items()]
        account = _describe_affiliate(client_id, currency) if counts.get("affiliate") else ""
        if account:
            lines.append(f"their affiliate account's records: {account}")
        if kept:
            lines.append(f"{describe_counts({'affiliate_commission': kept})} earned on their "
                         "invoices kept for the affiliate who referred them, no longer linked")
        if unpaid:
            lines.append(f"({len(unpaid)} unpaid invoice{'s' if len(unpaid) != 1 else ''}, "
                         f"{currency} {unpaid_sum})")
        if credit_now:
            lines.append(f"(credit balance {currency} {credit_now})")
        if txns:
            txn_text = describe_counts({"txn": txns})
            lines.append(f"{txn_text} deleted" if action == "delete_with_transactions"
                         else f"{txn_text} kept with their amounts and the name {name!r}, "
                              "no longer linked")
    elif action == "archive":
        lines.append(f"client #{client_id} {name} is hidden from the client list and its "
                     "search (Show archived lists it)")
        lines.append("everything of theirs is read-only, here and on the command line, until "
                     "it is unarchived")
        lines.append("nothing is changed or deleted: Client → Unarchive undoes it")
    else:  # anonymize
        lines.append(f"client #{client_id} {name}: name, company, email, phone, address, tax ID "
                     "and admin notes replaced; country, currency and group kept")
        for table in ANONYMIZE_DELETES:
            if counts.get(table):
                lines.append(f"{counts[table]} {_label(table, counts[table])} deleted")
        kept = {t: n for t, n in counts.items()
                if t in ("invoice", "txn", "credit_entry", "service", "quote", "client_order",
                         "affiliate", "affiliate_referral", "affiliate_commission")}
        if kept:
            lines.append(f"kept, without notes: {describe_counts(kept)}")
        payouts = _affiliate_children(client_id).get("affiliate_payout")
        if payouts:
            lines.append(f"{payouts[0]} affiliate {_label('affiliate_payout', payouts[0])} kept "
                         "with their amounts, without notes")
    return Impact(lines)


# --------------------------------------------------------------------------- C7 currency

@dataclass(frozen=True, slots=True)
class PreviewItem:
    kind: str  # invoice | service | recurring | billable | quote | credit
    id: int | None
    label: str
    before: Money
    after: Money

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label, "before": str(self.before),
                "before_currency": self.before.currency, "after": str(self.after),
                "after_currency": self.after.currency}


@dataclass(frozen=True, slots=True)
class CurrencyPreview:
    client_id: int
    old: str
    new: str
    rate: Decimal | None  # new units per old unit; None when a rate is missing
    items: list[PreviewItem]  # the open amounts, before and after conversion
    blocked: list[str]  # why converting is refused, if it is
    code_only_blocked: list[str]  # why changing the code only is refused, if it is

    def as_json(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "old": self.old, "new": self.new,
                "rate": None if self.rate is None else f"{self.rate:f}",
                "items": [i.as_json() for i in self.items], "convert_refused": self.blocked,
                "code_only_refused": self.code_only_blocked}


def _rates() -> dict[str, Decimal]:
    from billdesk.services import billing_settings

    return billing_settings.currencies()


def _convert(units: int, old: str, new: str, rate: Decimal) -> Money:
    """Minor units of ``old`` × rate, rounded half-up in ``new`` (Money rounds so)."""
    return Money(Money.from_minor(units, old).amount * rate, new)


def _check_new_currency(client_id: int, code: str) -> tuple[str, str]:
    old = clients.client_currency(client_id)
    code = check_currency(code)
    known = _rates()
    if code not in known:
        raise InvalidInput("currency", f"{code} is not one of your currencies "
                                       f"({', '.join(known)}): add it with its rate first")
    if code == old:
        raise Conflict("currency", f"client #{client_id} already uses {code}")
    return old, code


def currency_preview(client_id: int, code: str) -> CurrencyPreview:
    """What converting the client's open amounts to ``code`` gives, item by
    item, and what (if anything) refuses either way of changing it."""
    old, new = _check_new_currency(client_id, code)
    known = _rates()
    rate = known[new] / known[old] if old in known else None
    items: list[PreviewItem] = []
    blocked: list[str] = []
    code_only: list[str] = []
    if rate is None:
        blocked.append(f"{old} has no exchange rate: add it with its rate to convert")
    conv = (lambda units: _convert(units, old, new, rate)) if rate is not None else (
        lambda units: Money.from_minor(units, old))
    for iid, number, status, total, applied, paid, refunded, _cur in _open_invoices(client_id):
        label = f"Invoice {_invoice_label(number, iid)} ({status})"
        if paid or applied or refunded:
            blocked.append(f"invoice {_invoice_label(number, iid)} has {old} "
                           f"{_money(paid + applied, old)} paid or credited: settle or cancel it "
                           "first")
        if paid or refunded:
            code_only.append(f"invoice {_invoice_label(number, iid)} has payments in {old}: "
                             "settle or cancel it first")
        if rate is not None:
            lines = list(InvoiceLine.select(InvoiceLine.amount, InvoiceLine.taxed)
                         .where(InvoiceLine.invoice == iid).tuples())
            inv = invoicing.get_invoice(iid)
            after = taxes.compute(((conv(a), bool(t)) for a, t in lines), inv.rates, new).total
        else:
            after = _money(total, old)
        items.append(PreviewItem("invoice", iid, label, _money(total, old), after))
    for sid, kind, name, amount in (Service.select(Service.id, Service.kind, Service.name,
                                                   Service.amount)
                                    .where(Service.client == client_id, Service.amount != 0)
                                    .order_by(Service.id).tuples()):
        items.append(PreviewItem("service", sid, f"{kind.capitalize()} {name} (#{sid})",
                                 _money(amount, old), conv(amount)))
    for rid, in RecurringInvoice.select(RecurringInvoice.id).where(
            RecurringInvoice.client == client_id).order_by(RecurringInvoice.id).tuples():
        amounts = [a for a, in RecurringLine.select(RecurringLine.amount)
                   .where(RecurringLine.recurring == rid).tuples()]
        items.append(PreviewItem("recurring", rid, f"Recurring invoice #{rid}",
                                 _money(sum(amounts), old),
                                 sum((conv(a) for a in amounts), Money.zero(new if rate else old))))
    for bid, description, amount in (BillableItem.select(BillableItem.id, BillableItem.description,
                                                         BillableItem.amount)
                                     .where(BillableItem.client == client_id)
                                     .order_by(BillableItem.id).tuples()):
        items.append(PreviewItem("billable", bid, f"Billable item {description} (#{bid})",
                                 _money(amount, old), conv(amount)))
    for qid, subject, total in (Quote.select(Quote.id, Quote.subject, Quote.total)
                                .where(Quote.id.in_(_open_quotes(client_id)))
                                .order_by(Quote.id).tuples()):
        items.append(PreviewItem("quote", qid, f"Quote #{qid} {subject}".rstrip(),
                                 _money(total, old), conv(total)))
    account = _affiliate_amounts(client_id)
    if account is not None:
        affiliate_id, fixed, commissions, payouts = account
        for label, amounts in (("Affiliate commission per paid invoice", [fixed] if fixed else []),
                               ("Affiliate commissions earned", commissions),
                               ("Affiliate payouts", payouts)):
            if amounts:
                items.append(PreviewItem(
                    "affiliate", affiliate_id, label, _money(sum(amounts), old),
                    sum((conv(a) for a in amounts), Money.zero(new if rate else old))))
    balance = Client.select(Client.credit_balance).where(Client.id == client_id).scalar()
    if balance:  # the last item (change_currency's log reads it)
        items.append(PreviewItem("credit", None, "Credit balance", _money(balance, old),
                                 conv(balance)))
    if minor_digits(old) != minor_digits(new):
        if items or CreditEntry.select().where(CreditEntry.client == client_id).exists():
            code_only.append(f"{old} has {minor_digits(old)} decimals and {new} "
                             f"{minor_digits(new)}: the client's amounts would change in value; "
                             "convert them instead")
    return CurrencyPreview(client_id, old, new, rate, items, blocked, code_only)


def change_currency(client_id: int, code: str, *, convert: bool,
                    actor: str | None = None) -> Path | None:
    """Change the client's currency (C7). ``convert``: open amounts —
    open invoices (Draft, Unpaid, Collections: lines, then totals),
    every service's, addon's and domain's amounts, recurring invoice lines,
    billable items, open quotes and the credit balance (one ledger
    adjustment) — are multiplied by new rate / old rate and rounded half-up
    to the new currency. Otherwise only the code changes (the amounts keep
    their figures). Paid and cancelled invoices keep their currency.
    The client's affiliate account (its fixed commission, commissions and
    payouts) is in the client's currency: converting converts it too.
    Converting rewrites amounts, so a backup is taken first: its path is
    returned (None for a code-only change)."""
    clients.check_writable(client_id)
    if convert:
        preview = currency_preview(client_id, code)  # a refusal comes before the backup
        if preview.blocked:
            raise Conflict("currency", "; ".join(preview.blocked))
    path = _backup("currency", client_id) if convert else None
    actor = actor or changelog.current_actor()
    stamp = now()
    with database.atomic():  # the checks and the change under one write lock
        plan = currency_preview(client_id, code)
        refused = plan.blocked if convert else plan.code_only_blocked
        if refused:
            raise Conflict("currency", "; ".join(refused))
        old, new, rate = plan.old, plan.new, plan.rate
        open_ids = [r[0] for r in _open_invoices(client_id)]
        quote_ids = [q for q, in _open_quotes(client_id).tuples()]
        Client.update(currency=new, updated_at=stamp).where(Client.id == client_id).execute()
        if open_ids:
            Invoice.update(currency=new, updated_at=stamp).where(Invoice.id.in_(open_ids)).execute()
        if quote_ids:
            Quote.update(currency=new, updated_at=stamp).where(Quote.id.in_(quote_ids)).execute()
        if convert:
            assert rate is not None
            _convert_amounts(client_id, old, new, rate, open_ids, quote_ids)
        changed = describe_counts({
            "invoice": len(open_ids),
            "service": Service.select().where(Service.client == client_id,
                                              Service.amount != 0).count(),
            "quote": len(quote_ids)})
        how = (f"open amounts converted at {rate:f} {new} per {old} ({changed}"
               + (f"; credit {plan.items[-1].before} → {plan.items[-1].after}"
                  if plan.items and plan.items[-1].kind == "credit" else "") + ")"
               if convert else "code only: amounts keep their figures")
        changelog.record(client_id, f"Currency changed, {how}", field="Currency", old=old, new=new,
                         actor=actor)
    return path


def _affiliate_amounts(client_id: int) -> tuple[int, int, list[int], list[int]] | None:
    """The client's affiliate account in its currency: (affiliate id, the
    fixed commission or 0, each commission's amount, each payout's), or
    None when the client is not an affiliate."""
    row = (Affiliate.select(Affiliate.id, Affiliate.commission_type, Affiliate.commission_value)
           .where(Affiliate.client == client_id).tuples().first())
    if row is None:
        return None
    affiliate_id, kind, value = row
    commissions = [a for a, in database.execute_sql(
        "SELECT amount FROM affiliate_commission WHERE affiliate_id = ? ORDER BY id",
        (affiliate_id,)).fetchall()]
    payouts = [a for a, in database.execute_sql(
        "SELECT amount FROM affiliate_payout WHERE affiliate_id = ? ORDER BY id",
        (affiliate_id,)).fetchall()]
    return affiliate_id, value if kind == "fixed" else 0, commissions, payouts


def _convert_amounts(client_id: int, old: str, new: str, rate: Decimal, open_ids: list[int],
                     quote_ids: list[int]) -> None:
    from billdesk.services import billable, quotes

    conv = lambda units: _convert(units, old, new, rate).minor_units  # noqa: E731
    conn = database.connection()
    stamp = now()
    if open_ids:
        marks = ",".join("?" * len(open_ids))
        rows = conn.execute(f"SELECT id, amount FROM invoice_line WHERE invoice_id IN ({marks})",
                            open_ids).fetchall()
        conn.executemany("UPDATE invoice_line SET amount = ? WHERE id = ?",
                         [(conv(a), i) for i, a in rows])
        for invoice_id in open_ids:
            invoicing._refresh_totals(invoice_id)  # the invoice's own rule for its totals
    rows = conn.execute("SELECT id, amount, first_payment FROM service WHERE client_id = ?",
                        (client_id,)).fetchall()
    conn.executemany("UPDATE service SET amount = ?, first_payment = ?, updated_at = ? WHERE id = ?",
                     [(conv(a), conv(f), str(stamp), i) for i, a, f in rows])
    rows = conn.execute("SELECT l.id, l.amount FROM recurring_line l JOIN recurring_invoice r "
                        "ON r.id = l.recurring_id WHERE r.client_id = ?", (client_id,)).fetchall()
    conn.executemany("UPDATE recurring_line SET amount = ? WHERE id = ?",
                     [(conv(a), i) for i, a in rows])
    rows = conn.execute("SELECT id, hours, rate, amount FROM billable_item WHERE client_id = ?",
                        (client_id,)).fetchall()
    updates = []
    for item_id, hours, item_rate, amount in rows:
        if hours is not None and item_rate is not None:  # amount = hours × rate, as billable.py keeps it
            new_rate = _convert(item_rate, old, new, rate)
            updates.append((new_rate.minor_units,
                            billable.times_rate(Decimal(hours), new_rate).minor_units, item_id))
        else:
            updates.append((None if item_rate is None else conv(item_rate), conv(amount), item_id))
    conn.executemany("UPDATE billable_item SET rate = ?, amount = ?, updated_at = ? WHERE id = ?",
                     [(r, a, str(stamp), i) for r, a, i in updates])
    for quote_id in quote_ids:
        q = quotes.get_quote(quote_id)  # already in the new currency: amounts read as new units
        lines = []
        for line in q.lines:
            unit = _convert(line.unit_price.minor_units, old, new, rate)
            amount = quotes.line_amount(line.quantity, unit, line.discount)
            QuoteLine.update(unit_price=unit.minor_units, amount=amount.minor_units).where(
                QuoteLine.id == line.id).execute()
            lines.append((amount, line.taxed))
        totals = taxes.compute(lines, q.rates, new)
        Quote.update(subtotal=totals.subtotal.minor_units, tax1=totals.tax1.minor_units,
                     tax2=totals.tax2.minor_units, total=totals.total.minor_units,
                     updated_at=stamp).where(Quote.id == quote_id).execute()
    # The affiliate account is in the client's currency: its fixed
    # commission, every commission and payout (a payout stays above 0).
    account = _affiliate_amounts(client_id)
    if account is not None:
        affiliate_id = account[0]
        conn.execute("UPDATE affiliate SET commission_value = ? WHERE id = ? "
                     "AND commission_type = 'fixed'", (conv(account[1]), affiliate_id))
        for table, low in (("affiliate_commission", 0), ("affiliate_payout", 1)):
            rows = conn.execute(f"SELECT id, amount FROM {table} WHERE affiliate_id = ?",
                                (affiliate_id,)).fetchall()
            conn.executemany(f"UPDATE {table} SET amount = ? WHERE id = ?",
                             [(max(conv(a), low), i) for i, a in rows])
    # Credit: the ledger's entries now read in the new currency; one
    # adjustment brings the sum to the converted balance.
    units = Client.select(Client.credit_balance).where(Client.id == client_id).scalar()
    if units:
        target = _convert(units, old, new, rate)
        difference = target.minor_units - units
        if difference:
            credit.post(client_id, Money.from_minor(difference, new), "adjustment",
                        f"Currency changed from {old} to {new}: credit {old} "
                        f"{_money(units, old)} converted to {new} {target}")


# --------------------------------------------------------------------------- C8 merge

@dataclass(frozen=True, slots=True)
class MergePreview:
    source: dict[str, Any]  # the client merged away, as ``client show`` has it
    into: dict[str, Any]  # the client kept
    counts: dict[str, int]  # the source's rows per table: what moves
    into_counts: dict[str, int]
    currency_conflict: str | None  # why the merge is refused until C7, if it is

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "into": self.into, "moves": self.counts,
                "into_counts": self.into_counts, "currency_conflict": self.currency_conflict}


@dataclass(frozen=True, slots=True)
class MergeResult:
    id: int
    merged: int
    moved: dict[str, int]
    credit: Money  # the credit that came with the source
    keep: str
    backup: Path

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "merged": self.merged, "moved": self.moved,
                "credit_moved": str(self.credit), "keep": self.keep, "backup": str(self.backup)}


def _currency_conflict(source_id: int, into_id: int, counts: dict[str, int]) -> str | None:
    source_currency = clients.client_currency(source_id)
    into_currency = clients.client_currency(into_id)
    if source_currency == into_currency:
        return None
    money = [t for t in MONEY_TABLES if counts.get(t)]
    if not money:
        return None
    return (f"client #{source_id} uses {source_currency} and #{into_id} {into_currency}; "
            f"#{source_id} has {describe_counts({t: counts[t] for t in money})}: change "
            f"#{source_id}'s currency to {into_currency} first")


def merge_preview(source_id: int, into_id: int) -> MergePreview:
    """Both profiles side by side, what moves, and a currency conflict if any."""
    if source_id == into_id:
        raise InvalidInput("into", "a client cannot be merged into itself")
    source = clients.get_client(source_id)
    into = clients.get_client(into_id)
    counts = record_counts(source_id)
    return MergePreview(source.as_json(), into.as_json(), counts, record_counts(into_id),
                        _currency_conflict(source_id, into_id, counts))


def _unique_groups(table: str, column: str) -> list[tuple[str, list[tuple[str | None, str]]]]:
    """The UNIQUE indexes of ``table`` that hold ``column``: (index name,
    the other columns with their collation)."""
    out = []
    for row in database.execute_sql(f"PRAGMA index_list({_q(table)})").fetchall():
        name, unique = row[1], row[2]
        if not unique:
            continue
        columns = [(r[2], r[4]) for r in database.execute_sql(f"PRAGMA index_xinfo({_q(name)})")
                   if r[5]]  # key columns only
        if column in [c for c, _ in columns]:
            out.append((name, [(c, coll) for c, coll in columns if c != column]))
    return out


def _collisions(table: str, column: str, others: list[tuple[str | None, str]], source_id: int,
                into_id: int) -> int:
    """How many of the source's rows would break the unique index once moved."""
    if any(c is None for c, _ in others):  # an expression: compare whole rows is not possible
        both = database.execute_sql(
            f"SELECT (SELECT count(*) FROM {_q(table)} WHERE {_q(column)} = ?) * "
            f"(SELECT count(*) FROM {_q(table)} WHERE {_q(column)} = ?)", (source_id, into_id))
        return both.fetchone()[0]
    same = "".join(f" AND k.{_q(c)} = s.{_q(c)} COLLATE {coll}" for c, coll in others)
    return database.execute_sql(
        f"SELECT count(*) FROM {_q(table)} s WHERE s.{_q(column)} = ? AND EXISTS "
        f"(SELECT 1 FROM {_q(table)} k WHERE k.{_q(column)} = ?{same})",
        (source_id, into_id)).fetchone()[0]


def _rename_service_groups(source_id: int, into_id: int) -> list[str]:
    """Service groups of the source named as one of the kept client's get
    "(from #ID)" added, so both stay as they were."""
    from billdesk.models import ServiceGroup

    taken = {n.casefold() for n, in ServiceGroup.select(ServiceGroup.name)
             .where(ServiceGroup.client == into_id).tuples()}
    renamed = []
    for group_id, name in (ServiceGroup.select(ServiceGroup.id, ServiceGroup.name)
                           .where(ServiceGroup.client == source_id).tuples()):
        if name.casefold() not in taken:
            continue
        new, n = f"{name} (from #{source_id})", 1
        while new.casefold() in taken:
            n += 1
            new = f"{name} (from #{source_id}, {n})"
        ServiceGroup.update(name=new).where(ServiceGroup.id == group_id).execute()
        taken.add(new.casefold())
        renamed.append(f"service group {name!r} renamed {new!r}")
    return renamed


def _one_default_pay_method(source_id: int, into_id: int) -> list[str]:
    """One default pay method per client (a partial unique index): when
    the kept client has one, the source's cards follow, not default.
    Called whenever both clients have pay methods (the collision check
    does not read the index's WHERE): harmless when there is nothing to do."""
    if not PayMethod.select().where(PayMethod.client == into_id, PayMethod.is_default).exists():
        return []
    cleared = (PayMethod.update(is_default=False, updated_at=now())
               .where(PayMethod.client == source_id, PayMethod.is_default).execute())
    return ["the merged client's default pay method is no longer the default"] if cleared else []


def _has_affiliate_records(*client_ids: int) -> bool:
    marks = ",".join("?" * len(client_ids))
    return bool(database.execute_sql(
        f"SELECT EXISTS (SELECT 1 FROM affiliate WHERE client_id IN ({marks})) "
        f"OR EXISTS (SELECT 1 FROM affiliate_referral WHERE client_id IN ({marks}))",
        (*client_ids, *client_ids)).fetchone()[0])


def _resolve_affiliates(source_id: int, into_id: int) -> list[str]:
    """Before the move (services/affiliates.py ``resolve_merge``): both
    affiliates are combined into the kept client's, a kept client's
    referral wins over the source's, a referral that would make the kept
    client refer itself is dropped. Runs on every merge where either client
    has affiliate records: a self-referral breaks no unique index."""
    if not _has_affiliate_records(source_id, into_id):
        return []
    from billdesk.services import affiliates

    return affiliates.resolve_merge(source_id, into_id)


def _rekey_affiliate(source_id: int, into_id: int) -> list[str]:
    """After the move (services/affiliates.py ``after_merge``): an
    affiliate row that came with the source takes the kept client's id
    (an affiliate's id is its client's id)."""
    if not _has_affiliate_records(into_id):
        return []
    from billdesk.services import affiliates

    return affiliates.after_merge(source_id, into_id)


# A table whose unique index (with the client column) two merged clients
# can break: how to make room. Others are refused, naming the table. A
# resolver runs at most once per merge (one may serve several tables).
RESOLVE_UNIQUE = {"service_group": _rename_service_groups, "pay_method": _one_default_pay_method,
                  "affiliate": _resolve_affiliates, "affiliate_referral": _resolve_affiliates}
# Hooks that run on every merge, before the unique indexes are checked
# (BEFORE_MOVE) and after the records moved, before the source is removed
# (AFTER_MOVE), in the merge's transaction: (source_id, into_id) -> notes
# for the merge's log line.
BEFORE_MOVE = [_resolve_affiliates]
AFTER_MOVE = [_rekey_affiliate]


def _partial(table: str, index: str) -> bool:
    return any(row[1] == index and row[4] for row in
               database.execute_sql(f"PRAGMA index_list({_q(table)})").fetchall())


def _unique_clashes(refs: list[Reference], source_id: int, into_id: int
                    ) -> list[tuple[Reference, str]]:
    """(reference, index) of every unique index the move would break."""
    return [(ref, index) for ref in refs for index, others in _unique_groups(ref.table, ref.column)
            if _collisions(ref.table, ref.column, others, source_id, into_id)]


def merge_clients(source_id: int, into_id: int, *, keep: str = "target",
                  actor: str | None = None) -> MergeResult:
    """Merge ``source_id`` into ``into_id`` (C8): every record of the source
    moves to the kept client in one transaction, the credit with its
    ledger, then the source is removed. ``keep="source"`` copies the
    source's profile onto the kept client (through ``update_client``)."""
    if keep not in KEEP:
        raise InvalidInput("keep", f"{keep!r}: must be target or source")
    preview = merge_preview(source_id, into_id)
    for client_id in (source_id, into_id):
        clients.check_writable(client_id)
    if preview.currency_conflict:
        raise Conflict("currency", preview.currency_conflict)
    actor = actor or changelog.current_actor()
    source = preview.source
    source_name = _name(source_id)
    profile = {k: v for k, v in clients.get_values(source_id).items() if k in MERGE_PROFILE}
    path = _backup("merge", source_id)
    with database.atomic():
        conflict = _currency_conflict(source_id, into_id, record_counts(source_id))
        if conflict:  # money written since the preview
            raise Conflict("currency", conflict)
        refs = references()
        notes: list[str] = []
        ran: set[Any] = set()
        for hook in BEFORE_MOVE:
            ran.add(hook)
            notes += hook(source_id, into_id)
        for ref, index in _unique_clashes(refs, source_id, into_id):
            resolve = RESOLVE_UNIQUE.get(ref.table)
            if resolve is None:
                raise Conflict("client", f"both clients have {_label(ref.table)} that must "
                                         f"stay unique ({index}); remove the duplicates first")
            if resolve not in ran:
                ran.add(resolve)
                notes += resolve(source_id, into_id)
        for ref, index in _unique_clashes(refs, source_id, into_id):
            if _partial(ref.table, index):  # the check reads no WHERE: its resolver ran
                continue
            raise Conflict("client", f"both clients still have {_label(ref.table)} that must "
                                     f"stay unique ({index}); remove the duplicates first")
        into_currency = clients.client_currency(into_id)
        credit_units = Client.select(Client.credit_balance).where(Client.id == source_id).scalar()
        into_before = credit.balance(into_id)
        last = (Client.select(fn.MAX(Client.last_activity))
                .where(Client.id.in_([source_id, into_id])).scalar())
        moved: dict[str, int] = {}
        for ref in refs:
            cursor = database.execute_sql(
                f"UPDATE {_q(ref.table)} SET {_q(ref.column)} = ? WHERE {_q(ref.column)} = ?",
                (into_id, source_id))
            if cursor.rowcount:
                moved[ref.table] = moved.get(ref.table, 0) + cursor.rowcount
        for hook in AFTER_MOVE:
            notes += hook(source_id, into_id)
        # The credit moved as ledger entries: the balance is their sum again.
        ledger = (CreditEntry.select(fn.COALESCE(fn.SUM(CreditEntry.amount), 0))
                  .where(CreditEntry.client == into_id).scalar())
        Client.update(credit_balance=ledger, last_activity=last, updated_at=now()).where(
            Client.id == into_id).execute()
        Client.delete().where(Client.id == source_id).execute()
        # the merged-away client's id ends here: the book's activity log keeps its name
        activity.record(activity.MERGED, f"#{source_id} into #{into_id}; backup {path.name}",
                        client_id=source_id, client_name=source_name, actor=actor)
        credit_moved = _money(credit_units, into_currency)
        if ledger != into_before.minor_units:
            changelog.record(into_id, f"Credit of merged client #{source_id} added through the "
                             "ledger", field="Credit balance", old=str(into_before),
                             new=str(_money(ledger, into_currency)), actor=actor)
        changelog.record(
            into_id, f"Merged #{source_id} {source['display_name']} <{source['email']}> into this "
                     f"client: {describe_counts(moved)}, credit {into_currency} {credit_moved}"
                     + (f" ({'; '.join(notes)})" if notes else "")
                     + ("; kept the merged client's profile" if keep == "source" else ""),
            actor=actor)
        if keep == "source":
            clients.update_client(into_id, profile, reason=f"profile of merged client #{source_id}",
                                  actor=actor)
    return MergeResult(into_id, source_id, moved, credit_moved, keep, path)


# --------------------------------------------------------------------------- C9 close

@dataclass(frozen=True, slots=True)
class CloseResult:
    id: int
    status_was: str
    invoices_cancelled: list[int]
    items_cancelled: list[int]
    recurring_stopped: list[int]
    billable_stopped: list[int]
    credit_returned: Money
    backup: Path
    tickets_closed: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": "Closed", "status_was": self.status_was,
                "invoices_cancelled": len(self.invoices_cancelled),
                "items_cancelled": len(self.items_cancelled),
                "recurring_stopped": len(self.recurring_stopped),
                "billable_stopped": len(self.billable_stopped),
                "tickets_closed": len(self.tickets_closed),
                "credit_returned": str(self.credit_returned), "backup": str(self.backup)}


def close_client(client_id: int, *, actor: str | None = None) -> CloseResult:
    """Close the client (C9, WHMCS "Close Client"): status Closed; open
    invoices Cancelled (Unpaid and Collections through ``cancel_invoice``,
    so credit and payments on them go to the credit balance; drafts
    likewise, they hold none); live services, addons and domains Cancelled;
    active recurring invoices Stopped; billable items waiting for an
    invoice set to "don't invoice"; tickets not yet closed Closed (as
    HostBill does when an account is closed); the cancelled invoices'
    emails still waiting are not sent (``cancel_invoice``). Nothing is
    deleted."""
    record = clients.get_client(client_id)
    clients.check_writable(client_id)
    refunded = [_invoice_label(r[1], r[0]) for r in _open_invoices(client_id) if r[6]]
    if refunded:
        raise Conflict("invoice", f"invoice(s) {', '.join(refunded)} have refunds and cannot be "
                                  "cancelled: settle them first")
    actor = actor or changelog.current_actor()
    path = _backup("close", client_id)
    with database.atomic():
        stamp = now()
        before = credit.balance(client_id)
        cancelled = []
        for iid, number, status, *_rest in _open_invoices(client_id):
            if status == "Draft":
                Invoice.update(status="Cancelled", updated_at=stamp).where(
                    Invoice.id == iid).execute()
                InvoiceLine.update(due_date=None).where(InvoiceLine.invoice == iid,
                                                        InvoiceLine.due_date.is_null(False)).execute()
                changelog.record(client_id, "", field=f"Invoice {_invoice_label(number, iid)} status",
                                 old="Draft", new="Cancelled", actor=actor)
            else:
                invoicing.cancel_invoice(iid, actor=actor)
            cancelled.append(iid)
        items = list(Service.select(Service.id, Service.kind, Service.name, Service.status)
                     .where(Service.client == client_id, Service.status.in_(LIVE_ITEM_STATUSES))
                     .order_by(Service.id).tuples())
        if items:
            Service.update(status="Cancelled", updated_at=stamp).where(
                Service.id.in_([i[0] for i in items])).execute()
        log_rows = [{"client": client_id, "at": stamp, "actor": actor, "message": "Client closed",
                     "field": f"{kind.capitalize()} {name} (#{sid}) status", "old_value": status,
                     "new_value": "Cancelled"} for sid, kind, name, status in items]
        stopped = [r for r, in RecurringInvoice.select(RecurringInvoice.id).where(
            RecurringInvoice.client == client_id, RecurringInvoice.status == "Active").tuples()]
        if stopped:
            RecurringInvoice.update(status="Stopped", next_date=None, updated_at=stamp).where(
                RecurringInvoice.id.in_(stopped)).execute()
        log_rows += [{"client": client_id, "at": stamp, "actor": actor, "message": "Client closed",
                      "field": f"Recurring invoice #{r} status", "old_value": "Active",
                      "new_value": "Stopped"} for r in stopped]
        waiting = [b for b, in _waiting_items(client_id).tuples()]
        if waiting:
            BillableItem.update(action="none", updated_at=stamp).where(
                BillableItem.id.in_(waiting)).execute()
        log_rows += [{"client": client_id, "at": stamp, "actor": actor, "message": "Client closed",
                      "field": f"Billable item #{b} action", "old_value": "invoice",
                      "new_value": "none"} for b in waiting]
        tickets = _open_tickets(client_id)
        if tickets:
            Ticket.update(status="Closed", updated_at=stamp).where(
                Ticket.id.in_([t for t, _ in tickets])).execute()
        log_rows += [{"client": client_id, "at": stamp, "actor": actor, "message": "Client closed",
                      "field": f"Ticket #{t} status", "old_value": status,
                      "new_value": "Closed"} for t, status in tickets]
        changelog.record_many(log_rows)
        status_was = record.values["status"]
        Client.update(status="Closed", updated_at=stamp).where(Client.id == client_id).execute()
        changelog.record(client_id, "Client closed", field="Status", old=status_was, new="Closed",
                         reason=f"backup {path.name}", actor=actor)
        returned = credit.balance(client_id) - before
    return CloseResult(client_id, status_was, cancelled, [i[0] for i in items], stopped, waiting,
                       returned, path, [t for t, _ in tickets])


# --------------------------------------------------------------------------- C10 delete

@dataclass(frozen=True, slots=True)
class DeleteResult:
    id: int
    name: str
    deleted: dict[str, int]  # rows per table that went with the client
    transactions_kept: int
    transactions_deleted: int
    backup: Path
    # rows kept with their link to the client cleared (ON DELETE SET NULL),
    # other than transactions: commissions earned on the client's invoices
    unlinked: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "deleted": self.deleted,
                "transactions_kept": self.transactions_kept,
                "transactions_deleted": self.transactions_deleted,
                "unlinked": self.unlinked, "backup": str(self.backup)}


def delete_client(client_id: int, *, with_transactions: bool = False,
                  actor: str | None = None) -> DeleteResult:
    """Delete the client and everything of theirs (C10), except the
    transactions: they keep their amounts and the client's name, their link
    cleared (``with_transactions`` deletes them first). Pay methods,
    tickets with their messages, the client's referral and their affiliate
    account with its referrals, commissions and payouts go too (ON DELETE
    CASCADE); commissions another affiliate earned on the client's invoices
    stay, their client link cleared (ON DELETE SET NULL). An archived client
    may be deleted."""
    name = _name(client_id)
    counts = record_counts(client_id)
    account = {t: n for t, (n, _units) in _affiliate_children(client_id).items()}
    path = _backup("delete", client_id)
    with database.atomic():
        txns = Transaction.select().where(Transaction.client == client_id).count()
        if with_transactions:
            Transaction.delete().where(Transaction.client == client_id).execute()
        else:
            Transaction.update(client_name=name).where(Transaction.client == client_id,
                                                       Transaction.client_name == "").execute()
        files = _remove_files(client_id, actor)
        for ref in references():  # a later table without ON DELETE CASCADE/SET NULL
            if ref.on_delete not in ("CASCADE", "SET NULL"):
                database.execute_sql(f"DELETE FROM {_q(ref.table)} WHERE {_q(ref.column)} = ?",
                                     (client_id,))
        Client.delete().where(Client.id == client_id).execute()
        set_null = {r.table for r in references() if r.on_delete == "SET NULL"}
        deleted = {t: n for t, n in counts.items() if t not in set_null}
        for table, n in account.items():
            deleted[table] = deleted.get(table, 0) + n
        unlinked = {t: n for t, n in counts.items() if t in set_null and t != "txn"}
        if files:
            deleted["client_file"] = files
        # the client's own log goes with it: the book's activity log says so
        kept = ("" if with_transactions or not txns
                else f"; {txns} transaction{'s' if txns != 1 else ''} kept with the name")
        activity.record(activity.DELETED, f"#{client_id} with {describe_counts(deleted)}{kept}; "
                                          f"backup {path.name}",
                        client_id=client_id, client_name=name, actor=actor)
    _purge_files()
    log.info("client #%s %s deleted (%s); backup %s", client_id, name,
             describe_counts(deleted), path)
    return DeleteResult(client_id, name, deleted, 0 if with_transactions else txns,
                        txns if with_transactions else 0, path, unlinked)


# --------------------------------------------------------------------------- C11 archive

def open_items(client_id: int) -> list[str]:
    """What the daily run could still touch for the client, and the
    tickets still waiting for an answer, in words (archiving is refused
    while there is any: an archived client is read-only)."""
    counts = {
        "invoice": Invoice.select().where(Invoice.client == client_id,
                                          Invoice.status.in_(invoicing.OPEN)).count(),
        "service": Service.select().where(Service.client == client_id,
                                          Service.status.in_(LIVE_ITEM_STATUSES)).count(),
        "recurring_invoice": RecurringInvoice.select().where(
            RecurringInvoice.client == client_id, RecurringInvoice.status == "Active").count(),
        "billable_item": _waiting_items(client_id).count(),
        "quote": _open_quotes(client_id).count(),
        "ticket": len(_open_tickets(client_id)),
    }
    what = {"invoice": "open", "service": "pending, active or suspended",
            "recurring_invoice": "active", "billable_item": "waiting to be invoiced",
            "quote": "open", "ticket": "open"}
    return [counted(table, n, what[table]) if table != "billable_item"
            else f"{counted(table, n)} {what[table]}" for table, n in counts.items() if n]


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    id: int
    name: str
    backup: Path

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "backup": str(self.backup)}


def _refuse_archiving(client_id: int) -> None:
    if clients.is_archived(client_id):
        raise Conflict("client", f"#{client_id} is already archived")
    still = open_items(client_id)
    if still:
        raise Conflict("client", f"#{client_id} has {', '.join(still)}: close the account or "
                                 "settle them first")


def archive_client(client_id: int, *, actor: str | None = None) -> ArchiveResult:
    """Archive the client (C11): hidden from the list unless asked for,
    read-only until unarchived. Only when nothing is open; a backup of
    the book is taken first, as before every client action of JOURNEYS 6
    (a refusal comes before it)."""
    name = _name(client_id)  # NotFound first
    _refuse_archiving(client_id)
    path = _backup("archive", client_id)
    with database.atomic():
        _refuse_archiving(client_id)  # (read again under the write lock)
        Client.update(archived=True, updated_at=now()).where(Client.id == client_id).execute()
        changelog.record(client_id, "Client archived", field="Archived", old="No", new="Yes",
                         actor=actor, reason=f"backup {path.name}")
    return ArchiveResult(client_id, name, path)


def unarchive_client(client_id: int, *, actor: str | None = None) -> None:
    if not clients.is_archived(client_id):
        raise Conflict("client", f"#{client_id} is not archived")
    with database.atomic():
        Client.update(archived=False, updated_at=now()).where(Client.id == client_id).execute()
        changelog.record(client_id, "Client unarchived", field="Archived", old="Yes", new="No",
                         actor=actor)


# --------------------------------------------------------------------------- C11 anonymize

@dataclass(frozen=True, slots=True)
class AnonymizeResult:
    id: int
    name: str  # the new display name
    cleared: dict[str, int]  # rows deleted per table
    backup: Path

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "cleared": self.cleared,
                "backup": str(self.backup)}


def anonymize_client(client_id: int, *, actor: str | None = None) -> AnonymizeResult:
    """Replace the client's personal data (C11): name, company, email,
    phone, address, tax ID and admin notes; contacts, dated notes, files
    (bytes too), emails, pay methods (the encrypted numbers with them),
    tickets with their messages and the change log deleted, then one log
    entry. Country, currency and group stay (tax and totals need them);
    invoices, lines, transactions, the credit ledger, services, quotes and
    orders stay, without their notes. Affiliate records are money and stay:
    the client's affiliate account, its referrals, the commissions (its own
    and those earned on the client's invoices) and its payouts with their
    amounts, dates and method, the payouts' notes cleared. An archived
    client may be anonymized."""
    from billdesk.services import paymethods, tickets

    current = clients.get_values(client_id)
    path = _backup("anonymize", client_id)
    fmt = settings.display_format()
    with database.atomic():
        stamp = now()
        values = _anonymous_values(client_id)
        merged = {**current, **values, "id": client_id}
        index = clients.index_values(merged, fmt)
        rank = Client.select(Client.name_rank).where(Client.id == client_id).scalar()
        cleared = {
            "contact": Contact.delete().where(Contact.client == client_id).execute(),
            "client_note": _remove_notes(client_id, actor),
            "client_file": _remove_files(client_id, actor),
            "email": Email.delete().where(Email.client == client_id).execute(),
            "pay_method": paymethods.remove_all(client_id, actor=actor),
            "ticket": tickets.remove_all(client_id, actor=actor),  # their messages too
        }
        Client.update(**values, billing_contact=None, two_factor=False, updated_at=stamp,
                      last_activity=None,
                      name_rank=clients.place_in_name_order(index["sort_name"], client_id, rank),
                      **index).where(Client.id == client_id).execute()
        name = clients.display_name(values["first_name"], values["last_name"], "", fmt)
        Transaction.update(client_name=name).where(Transaction.client == client_id).execute()
        Service.update(notes="", label="", updated_at=stamp).where(
            Service.client == client_id).execute()
        Quote.update(customer_notes="", admin_notes="", proposal="").where(
            Quote.client == client_id).execute()
        Order.update(notes="").where(Order.client == client_id).execute()
        BillableItem.update(notes="").where(BillableItem.client == client_id).execute()
        RecurringInvoice.update(notes="").where(RecurringInvoice.client == client_id).execute()
        AffiliatePayout.update(notes="").where(AffiliatePayout.affiliate.in_(
            Affiliate.select(Affiliate.id).where(Affiliate.client == client_id))).execute()
        cleared["client_log"] = ClientLog.delete().where(ClientLog.client == client_id).execute()
        changelog.record(client_id, "Anonymized", reason=f"backup {path.name}", actor=actor)
        if credit.ledger_sum(client_id) != credit.balance(client_id):  # never: nothing moved
            raise RuntimeError(f"client #{client_id}: the credit ledger no longer adds up")
    _purge_files()
    return AnonymizeResult(client_id, name, {t: n for t, n in cleared.items() if n}, path)


__all__ = [
    "ACTIONS", "AnonymizeResult", "ArchiveResult", "CloseResult", "CurrencyPreview",
    "DeleteResult", "Impact", "MergePreview", "MergeResult", "PreviewItem", "Reference",
    "anonymize_client", "archive_client", "change_currency", "close_client", "counted",
    "currency_preview", "delete_client", "describe_counts", "impact", "merge_clients",
    "merge_preview", "open_items", "record_counts", "references", "unarchive_client",
]
