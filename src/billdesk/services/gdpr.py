"""The GDPR data report (C12): one PDF of everything stored about a client.

``collect(client_id)`` reads every section in one read transaction (so the
report is one consistent picture) and returns them as a dict of plain
values: Money, dates and datetimes as they are, ready for the PDF;
``as_json(collected)`` turns that into JSON (amounts as strings, dates
"YYYY-MM-DD"). ``export(client_id, path)`` writes the PDF and says how
many pages and records it holds; ``write_report`` is the same, giving the
path.

What is in it: the profile (every field a person would recognise, the
automation overrides, archived, the affiliate who referred the client),
contacts, pay methods (masked: brand, holder, first six / last four,
expiry, bank name — never a full number: the report reads no encrypted
column and needs no passphrase), services, addons and domains, orders,
quotes with their lines, invoices with their lines, transactions, the
credit ledger and balance, billable items, recurring invoices, the emails
with their text, the support tickets with every message, the files (name,
size, date, admin-only, SHA-256; never their content), the dated notes,
the client's affiliate account (commission, referrals by name,
commissions with their invoice numbers, payouts) and the change log. The
company is named as the data controller. No password, card number or
gateway token appears.

The PDF is drawn with the invoice's blocks from ``documents.py`` (its
letterhead, fonts, long-table flowable that repeats its header on every
page, Babel amounts and dates in the client's language); those helpers are
private there and imported on purpose, as ``quote_documents.py`` does.

No Qt here (services never import it)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from billdesk.errors import InvalidInput
from billdesk.models import AffiliateReferral, Client, Contact, Invoice, database, now
from billdesk.models.tables import ClientFile, ClientNote
from billdesk.money import Money
from billdesk.services import (
    affiliates,
    billable,
    changelog,
    clients,
    contacts,
    credit,
    invoicing,
    mail,
    orders,
    payments,
    paymethods,
    quotes,
    recurring,
    settings,
    subscriptions,
    tickets,
)
from billdesk.services import documents as doc

__all__ = ["SECTIONS", "ReportInfo", "as_json", "collect", "counts", "export", "page_count",
           "render", "write_report"]

# The sections with records, in the report's order (the CLI counts them).
SECTIONS = ("contacts", "pay_methods", "services", "addons", "domains", "orders", "quotes",
            "invoices", "transactions", "credit_entries", "billable_items", "recurring_invoices",
            "emails", "tickets", "files", "notes", "referrals", "commissions", "payouts",
            "changes")

TITLES = {
    "profile": "Profile", "contacts": "Contacts", "pay_methods": "Pay methods",
    "services": "Services", "addons": "Addons", "domains": "Domains", "orders": "Orders",
    "quotes": "Quotes", "invoices": "Invoices", "transactions": "Transactions",
    "credit_entries": "Credit", "billable_items": "Billable items",
    "recurring_invoices": "Recurring invoices", "emails": "Emails", "tickets": "Tickets",
    "files": "Files", "notes": "Notes", "referrals": "Affiliate referrals",
    "commissions": "Affiliate commissions", "payouts": "Affiliate payouts",
    "changes": "Change log",
}


# --------------------------------------------------------------------------- collecting

def _dt(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


def _profile(client_id: int) -> dict[str, Any]:
    record = clients.get_client(client_id)  # NotFound("id", …) for an unknown client
    v = record.values
    extra = (Client.select(Client.archived, Client.credit_balance, Client.currency)
             .where(Client.id == client_id).tuples().first())
    archived, balance_units, currency = extra
    billing_contact = ""
    if v["billing_contact_id"] is not None:
        row = (Contact.select(Contact.first_name, Contact.last_name, Contact.email)
               .where(Contact.id == v["billing_contact_id"]).tuples().first())
        if row:
            billing_contact = f"{row[0]} {row[1]} <{row[2]}>".strip()
    profile: dict[str, Any] = {"id": client_id, "display_name": record.display_name}
    for key in ("first_name", "last_name", "company", "email", "phone", "address1", "address2",
                "city", "state", "postcode", "country", "tax_id", "account_type"):
        profile[key] = v[key]
    profile.update(
        group=record.group_name, language=v["language"], currency=v["currency"], status=v["status"],
        payment_method=v["payment_method"], billing_contact=billing_contact,
        tax_exempt=v["tax_exempt"], auto_cc=v["auto_cc"], overdue_notices=v["overdue_notices"],
        late_fees=v["late_fees"], separate_invoices=v["separate_invoices"],
        two_factor=v["two_factor"],
        **{key: v[key] for key in clients.OVERRIDE_FIELDS},
        archived=bool(archived), credit_balance=Money.from_minor(balance_units, currency),
        created_at=record.created_at, updated_at=record.updated_at,
        last_activity=record.last_activity, notes=v["notes"],
    )
    return profile


def _contacts(client_id: int) -> list[dict[str, Any]]:
    added = dict(Contact.select(Contact.id, Contact.created_at)
                 .where(Contact.client == client_id).tuples())
    out = []
    for c in contacts.list_contacts(client_id):
        row = {"id": c.id, **c.values, "categories": list(c.values["categories"]),
               "billing": c.is_billing, "created_at": _dt(added.get(c.id))}
        out.append(row)
    return out


def _services(client_id: int) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {"service": [], "addon": [], "domain": []}
    names: dict[int, str] = {}
    records = subscriptions.list_services(client_id, ("service", "addon", "domain"))
    for s in records:
        names[s.id] = f"{s.name} - {s.label}" if s.label else s.name
    for s in records:
        found[s.kind].append({
            "id": s.id, "name": s.name, "label": s.label, "status": s.status, "cycle": s.cycle,
            "amount": s.amount, "first_payment": s.first_payment, "taxed": s.taxed,
            "signup_date": s.signup_date, "next_due": s.next_due, "expiry_date": s.expiry_date,
            "payment_method": s.payment_method, "group": s.group_name,
            "parent": names.get(s.parent_id, f"#{s.parent_id}") if s.parent_id else "",
            "notes": s.notes,
        })
    return found


def _invoice_names(invoice_ids: Iterable[int | None]) -> dict[int, str]:
    """Invoice numbers as the invoices section shows them ("Draft 12" before publishing)."""
    found = invoicing.labels([i for i in invoice_ids if i is not None])
    return {i: label[1:] if label.startswith("#") else label.capitalize()
            for i, label in found.items()}


def _orders(client_id: int) -> list[dict[str, Any]]:
    found = list(reversed(orders.list_orders(client_id)))
    labels = _invoice_names(o.invoice_id for o in found)
    return [{"id": o.id, "number": o.number, "date": o.date, "status": o.status,
             "items": o.items_text, "promo_code": o.promo_code,
             "invoice": labels.get(o.invoice_id, "") if o.invoice_id else "",
             "total": o.amount, "payment_method": o.payment_method, "notes": o.notes}
            for o in found]


def _quotes(client_id: int) -> list[dict[str, Any]]:
    found = sorted(quotes.list_quotes(client_id), key=lambda q: (q.date, q.id))
    labels = _invoice_names(q.invoice_id for q in found)
    out = []
    for q in found:
        out.append({
            "id": q.id, "subject": q.subject, "stage": q.stage, "date": q.date,
            "valid_until": q.valid_until, "subtotal": q.subtotal, "tax": q.tax, "total": q.total,
            "proposal": q.proposal, "customer_notes": q.customer_notes,
            "admin_notes": q.admin_notes,
            "invoice": labels.get(q.invoice_id, "") if q.invoice_id else "",
            "lines": [{"description": ln.description, "quantity": ln.quantity,
                       "unit_price": ln.unit_price, "discount": ln.discount,
                       "amount": ln.amount, "taxed": ln.taxed} for ln in q.lines],
        })
    return out


def _invoices(client_id: int) -> list[dict[str, Any]]:
    ids = [i for (i,) in Invoice.select(Invoice.id).where(Invoice.client == client_id)
           .order_by(Invoice.date, Invoice.id).tuples()]
    out = []
    for inv in invoicing.get_invoices(ids):
        taxes = [f"{name or 'Tax'} {rate.normalize():f} %"
                 for name, rate in ((inv.rates.name1, inv.rates.rate1),
                                    (inv.rates.name2, inv.rates.rate2)) if rate]
        out.append({
            "id": inv.id, "number": inv.number or "", "label": inv.number or f"Draft {inv.id}",
            "kind": inv.kind, "status": inv.status, "date": inv.date, "due_date": inv.due_date,
            "paid_date": inv.paid_date, "payment_method": inv.payment_method,
            "taxes": ", ".join(taxes) + (" (included)" if taxes and inv.rates.inclusive else ""),
            "subtotal": inv.subtotal, "tax": inv.tax, "total": inv.total,
            "credit_applied": inv.credit, "paid": inv.paid, "refunded": inv.refunded,
            "balance": inv.balance, "notes": inv.notes,
            "lines": [{"description": ln.description, "type": ln.type, "taxed": ln.taxed,
                       "amount": ln.amount} for ln in inv.lines],
        })
    return out


def _transactions(client_id: int) -> list[dict[str, Any]]:
    return [{"id": t.id, "date": t.date, "description": t.description, "method": t.method,
             "reference": t.reference, "invoice": t.invoice_number or "",
             "amount_in": t.amount_in, "fee": t.fee, "amount_out": t.amount_out,
             "to_credit": t.to_credit}
            for t in reversed(payments.transactions(client_id))]


def _credit(client_id: int) -> tuple[Money, list[dict[str, Any]]]:
    log = credit.credit_log(client_id)
    return log.balance, [{"id": e.id, "date": e.date, "kind": e.label,
                          "description": e.description, "invoice": e.invoice_number or "",
                          "amount": e.amount} for e in reversed(log.entries)]


def _billable(client_id: int) -> list[dict[str, Any]]:
    items = list(reversed(billable.list_items(client_id)))
    labels = _invoice_names(i.invoice_id for i in items)
    return [{"id": i.id, "description": i.description, "hours": i.hours, "rate": i.rate,
             "amount": i.amount, "taxed": i.taxed, "schedule": i.schedule(),
             "due_date": i.due_date,
             "invoice": labels.get(i.invoice_id, "") if i.invoice_id else "",
             "notes": i.notes} for i in items]


def _recurring(client_id: int) -> list[dict[str, Any]]:
    return [{"id": r.id, "schedule": r.schedule(), "start_date": r.start_date,
             "next_date": r.next_date, "status": r.status, "due_days": r.due_days,
             "payment_method": r.payment_method, "total": r.total, "notes": r.notes,
             "lines": [{"description": ln.description, "amount": ln.amount, "taxed": ln.taxed}
                       for ln in r.lines]}
            for r in reversed(recurring.list_recurring(client_id))]


def _emails(client_id: int) -> list[dict[str, Any]]:
    return [{"id": e.id, "date": e.sent_at or e.created_at, "created_at": e.created_at,
             "sent_at": e.sent_at, "to": e.to_addr,
             "cc": ", ".join(a.strip() for a in e.cc.split(",") if a.strip()),
             "subject": e.subject, "body": e.body, "status": e.status, "error": e.error,
             "attachments": [a.filename for a in e.attachments]}
            for e in reversed(mail.emails(client_id))]


def _files(client_id: int) -> list[dict[str, Any]]:
    rows = (ClientFile.select(ClientFile.id, ClientFile.name, ClientFile.size,
                              ClientFile.added_at, ClientFile.admin_only, ClientFile.sha256)
            .where(ClientFile.client == client_id).order_by(ClientFile.added_at, ClientFile.id)
            .tuples())
    return [{"id": i, "name": name, "size": size, "added_at": _dt(added),
             "admin_only": bool(admin), "sha256": sha} for i, name, size, added, admin, sha in rows]


def _notes(client_id: int) -> list[dict[str, Any]]:
    rows = (ClientNote.select(ClientNote.id, ClientNote.created_at, ClientNote.updated_at,
                              ClientNote.sticky, ClientNote.text)
            .where(ClientNote.client == client_id).order_by(ClientNote.created_at, ClientNote.id)
            .tuples())
    return [{"id": i, "created_at": _dt(created), "updated_at": _dt(updated),
             "sticky": bool(sticky), "text": text} for i, created, updated, sticky, text in rows]


def _pay_methods(client_id: int) -> list[dict[str, Any]]:
    """Masked only: the encrypted number is never read."""
    return [{"id": p.id, "kind": p.kind, "label": p.label, "description": p.description,
             "holder": p.holder, "brand": p.brand, "first_six": p.first_six,
             "last_four": p.last_four, "masked": p.masked, "expiry": p.expiry,
             "bank_name": p.bank_name, "gateway": p.gateway, "default": p.is_default,
             "created_at": _dt(p.created_at)}
            for p in sorted(paymethods.list_pay_methods(client_id), key=lambda p: p.id)]


def _tickets(client_id: int) -> list[dict[str, Any]]:
    found = sorted(tickets.list_tickets(client_id), key=lambda t: (t.created_at, t.id))
    return [{"id": t.id, "subject": t.subject, "priority": t.priority, "status": t.status,
             "created_at": _dt(t.created_at), "updated_at": _dt(t.updated_at),
             "messages": [{"author": r.author, "name": r.name, "message": r.message,
                           "created_at": _dt(r.created_at)} for r in tickets.replies(t.id)]}
            for t in found]


def _affiliate(client_id: int) -> dict[str, Any]:
    """The client's affiliate account: its terms and totals (None when the
    client is not an affiliate), referrals, commissions and payouts,
    oldest first."""
    record = affiliates.for_client(client_id)
    if record is None:
        return {"affiliate": None, "referrals": [], "commissions": [], "payouts": []}
    found = affiliates.summary(record.id)
    names = {r.client_id: r.name for r in found.referrals}
    return {
        "affiliate": {"id": record.id, "commission": record.commission_text,
                      "commission_type": record.commission_type, "status": record.status,
                      "activated_at": _dt(record.activated_at), "pending": found.pending,
                      "payable": found.payable, "paid_out": found.paid_out,
                      "balance": found.balance},
        "referrals": [{"client_id": r.client_id, "name": r.name, "referred_at": _dt(r.referred_at),
                       "paid_invoices": r.paid_invoices} for r in found.referrals],
        "commissions": [{"invoice": c.invoice_number,
                         "client": (names.get(c.client_id) or f"#{c.client_id}")
                         if c.client_id is not None else "(client deleted)",
                         "amount": c.amount, "earned_on": c.earned_on,
                         "payable_on": c.payable_on, "state": c.state}
                        for c in reversed(found.commissions)],
        "payouts": [{"amount": p.amount, "paid_on": p.paid_on, "method": p.method,
                     "notes": p.notes} for p in reversed(found.payouts)],
    }


def _referred_by(client_id: int) -> dict[str, Any] | None:
    who = affiliates.referred_by(client_id)
    if who is None:
        return None
    at = (AffiliateReferral.select(AffiliateReferral.referred_at)
          .where(AffiliateReferral.client == client_id).scalar())
    return {"affiliate_id": who[0], "name": who[1], "referred_at": _dt(at)}


def _changes(client_id: int) -> list[dict[str, Any]]:
    return [{"at": _dt(e.at), "actor": e.actor, "change": e.describe()}
            for e in reversed(changelog.entries(client_id))]


def collect(client_id: int) -> dict[str, Any]:
    """Every section of the report, read in one transaction. NotFound
    (field "id") when there is no such client."""
    with database.atomic():
        profile = _profile(client_id)
        profile["referred_by"] = _referred_by(client_id)
        services = _services(client_id)
        balance, credit_entries = _credit(client_id)
        affiliate = _affiliate(client_id)
        company = settings.company()
        return {
            "client_id": client_id,
            "name": f"{profile['first_name']} {profile['last_name']}".strip(),
            "generated": now(),
            "controller": {f.name: getattr(company, f.name) for f in fields(company)
                           if f.name != "currency"},
            "profile": profile,
            "contacts": _contacts(client_id),
            "pay_methods": _pay_methods(client_id),
            "services": services["service"],
            "addons": services["addon"],
            "domains": services["domain"],
            "orders": _orders(client_id),
            "quotes": _quotes(client_id),
            "invoices": _invoices(client_id),
            "transactions": _transactions(client_id),
            "credit_balance": balance,
            "credit_entries": credit_entries,
            "billable_items": _billable(client_id),
            "recurring_invoices": _recurring(client_id),
            "emails": _emails(client_id),
            "tickets": _tickets(client_id),
            "files": _files(client_id),
            "notes": _notes(client_id),
            **affiliate,
            "changes": _changes(client_id),
        }


def counts(collected: dict[str, Any]) -> dict[str, int]:
    """How many records each section holds."""
    return {name: len(collected[name]) for name in SECTIONS}


def as_json(value: Any) -> Any:
    """``collect``'s result as JSON values: amounts as strings with the
    currency's decimals, dates "YYYY-MM-DD", times "YYYY-MM-DD HH:MM:SS"."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


# --------------------------------------------------------------------------- rendering

BODY_SIZE = 9.0


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _override(value: Any, days: bool = False) -> str:
    if value is None:
        return "Global setting"
    if days:
        return f"{value} days"
    return _yes(bool(value))


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024  # display only: never money
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}"
    return ""  # not reached


@dataclass(slots=True)
class _Style:
    fonts: doc._Fonts
    locale: str

    def date(self, value: dt.date | None) -> str:
        return doc._date(value, self.locale) if value else ""

    def stamp(self, value: dt.datetime | None) -> str:
        if value is None:
            return ""
        return f"{doc._date(value.date(), self.locale)} {value:%H:%M}"

    def money(self, value: Money | None) -> str:
        if value is None:
            return ""
        return doc._amount_formatter(value.currency, self.locale)(value)


def _split_long(grid: doc._Grid, rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A cell never loses text: documents._Grid keeps at most MAX_CELL_LINES
    lines of a cell (so a row fits a page); a longer cell is cut into rows
    of a few lines each, the other cells left blank after the first."""
    out: list[tuple[str, ...]] = []
    limit = doc.MAX_CELL_LINES
    chunk = 10  # lines per row of a long cell: pages fill up to their end
    for row in rows:
        pieces: dict[int, list[str]] = {}
        for col in grid.wrap:
            text = row[col]
            if len(text) < 200 and text.count("\n") < 10:  # far from the limit: fast path
                continue
            lines = doc._wrap(text, grid.fonts.regular, grid.size,
                              grid.widths[col] - 2 * grid.pad_h)
            if len(lines) > limit:
                pieces[col] = ["\n".join(lines[i:i + chunk])
                               for i in range(0, len(lines), chunk)]
        if not pieces:
            out.append(row)
            continue
        chunks = max(len(p) for p in pieces.values())
        for n in range(chunks):
            out.append(tuple((pieces[col][n] if n < len(pieces[col]) else "") if col in pieces
                             else (cell if n == 0 else "") for col, cell in enumerate(row)))
    return out


def _grid(style: _Style, columns: Sequence[tuple[str, float]], *, right: Iterable[int] = (),
          wrap: Iterable[int] | None = None) -> doc._Grid:
    """Columns as (header, width in mm); one width 0 takes what is left."""
    widths = [w * mm for _, w in columns]
    if 0 in widths:
        widths[widths.index(0)] = doc.FRAME_W - sum(widths)
    return doc._Grid(widths, [h for h, _ in columns], right=frozenset(right),
                     wrap=tuple(range(len(columns)) if wrap is None else wrap),
                     fonts=style.fonts, size=8.5, leading=10.5, pad_v=3.5, pad_h=5.0)


def _table(grid: doc._Grid, rows: list[tuple[str, ...]],
           headings: frozenset[int] = frozenset()) -> doc._Rows:
    if headings:
        return doc._Rows.of(grid, rows, headings)
    return doc._Rows.of(grid, _split_long(grid, rows))


class _Story:
    """The report's flowables, section by section."""

    def __init__(self, style: _Style) -> None:
        self.style = style
        self.items: list[Flowable] = []

    def heading(self, title: str, note: str = "") -> None:
        f = self.style.fonts
        self.items.append(CondPageBreak(40 * mm))  # a heading never sits alone at a page end
        texts = [doc._Text(title, f.bold, 13, doc.ACCENT, leading=17, space_after=1.5)]
        if note:
            texts.append(doc._Text(note, f.regular, 8.5, doc.MUTED))
        self.items.append(doc._TextBlock(texts, space_before=7 * mm))
        self.items.append(Spacer(0, 2.5 * mm))

    def subheading(self, title: str) -> None:
        f = self.style.fonts
        self.items.append(CondPageBreak(40 * mm))
        self.items.append(doc._TextBlock([doc._Text(title, f.bold, 10, doc.INK, space_after=2)],
                                         space_before=4 * mm))

    def none(self, text: str = "None stored.") -> None:
        self.items.append(doc._TextBlock([doc._Text(text, self.style.fonts.regular, BODY_SIZE,
                                                    doc.MUTED)]))

    def text(self, text: str, *, label: str = "", muted: str = "",
             space_before: float = 0.0) -> None:
        f = self.style.fonts
        texts = []
        if label:
            texts.append(doc._Text(label, f.bold, BODY_SIZE, doc.INK, space_after=1))
        if muted:
            texts.append(doc._Text(muted, f.regular, 8, doc.MUTED, space_after=1.5))
        texts.append(doc._Text(text, f.regular, BODY_SIZE, doc.INK))
        self.items.append(doc._TextBlock(texts, space_before=space_before))

    def add(self, flowable: Flowable) -> None:
        self.items.append(flowable)


def _referral_text(referred: dict[str, Any] | None, style: _Style) -> str:
    if not referred:
        return "None"
    since = (f", since {style.date(referred['referred_at'].date())}"
             if referred["referred_at"] else "")
    return f"{referred['name']} (affiliate #{referred['affiliate_id']}){since}"


def _expiry(value: str) -> str:
    """'YYYY-MM' as 'MM/YYYY'."""
    return f"{value[5:7]}/{value[:4]}" if len(value) == 7 else value


def _profile_rows(p: dict[str, Any], style: _Style) -> list[tuple[str, str]]:
    address = doc._address(p, style.locale)
    return [
        ("Client number", str(p["id"])),
        ("Name", f"{p['first_name']} {p['last_name']}".strip()),
        ("Company", p["company"]),
        ("Email", p["email"]),
        ("Phone", p["phone"]),
        ("Address", "\n".join(address)),
        ("Country", p["country"]),
        ("Tax ID", p["tax_id"]),
        ("Account type", "Organization" if p["account_type"] == "organization" else "Private"),
        ("Group", p["group"] or "None"),
        ("Language", p["language"]),
        ("Currency", p["currency"]),
        ("Status", p["status"]),
        ("Archived", _yes(p["archived"])),
        ("Default payment method", p["payment_method"] or "None"),
        ("Default billing contact", p["billing_contact"] or "None"),
        ("Referred by", _referral_text(p.get("referred_by"), style)),
        ("Credit balance", style.money(p["credit_balance"])),
        (clients.LABELS["tax_exempt"], _yes(p["tax_exempt"])),
        (clients.LABELS["auto_cc"], _yes(p["auto_cc"])),
        (clients.LABELS["overdue_notices"], _yes(p["overdue_notices"])),
        (clients.LABELS["late_fees"], _yes(p["late_fees"])),
        (clients.LABELS["separate_invoices"], _yes(p["separate_invoices"])),
        (clients.LABELS["two_factor"], _yes(p["two_factor"])),
        (clients.LABELS["auto_suspend"], _override(p["auto_suspend"])),
        (clients.LABELS["suspend_days"], _override(p["suspend_days"], days=True)),
        (clients.LABELS["auto_terminate"], _override(p["auto_terminate"])),
        (clients.LABELS["terminate_days"], _override(p["terminate_days"], days=True)),
        (clients.LABELS["payment_reminders"], _override(p["payment_reminders"])),
        (clients.LABELS["auto_status"], _override(p["auto_status"])),
        ("Created", style.stamp(p["created_at"])),
        ("Last updated", style.stamp(p["updated_at"])),
        ("Last activity", style.stamp(p["last_activity"]) or "None"),
    ]


def _lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _build_story(data: dict[str, Any], style: _Style) -> list[Flowable]:
    s = _Story(style)
    money, date, stamp = style.money, style.date, style.stamp
    p = data["profile"]

    # contents: what follows and how much of it
    s.heading("Contents", "Each section below lists what is stored; amounts are in "
                          f"{p['currency']}.")
    contents = [("Profile", "1")] + [
        (TITLES[name], str(n)) for name, n in counts(data).items()]
    half = (len(contents) + 1) // 2
    g = _grid(style, [("Section", 0), ("Records", 22), ("Section", 67), ("Records", 22)],
              right=(1, 3), wrap=(0, 2))
    s.add(_table(g, [(*contents[n], *(contents[n + half] if n + half < len(contents)
                                      else ("", ""))) for n in range(half)]))

    s.heading("Profile", "The client's details and settings as stored.")
    g = _grid(style, [("Field", 60), ("Value", 0)], wrap=(1,))
    s.add(_table(g, _profile_rows(p, style)))
    if p["notes"]:
        s.text(p["notes"], label="Admin notes", space_before=4 * mm)
    else:
        s.text("None stored.", label="Admin notes", space_before=4 * mm)

    s.heading("Contacts")
    if data["contacts"]:
        g = _grid(style, [("Name", 40), ("Email and phone", 50), ("Address", 0),
                          ("Email categories", 28), ("Added", 22)])
        rows = []
        for c in data["contacts"]:
            name = f"{c['first_name']} {c['last_name']}".strip()
            rows.append((
                _lines(name, c["company"], "Default billing contact" if c["billing"] else ""),
                _lines(c["email"], c["phone"]), "\n".join(doc._address(c, style.locale)),
                ", ".join(contacts.CATEGORY_LABELS.get(k, k) for k in c["categories"]) or "None",
                date(c["created_at"].date()) if c["created_at"] else ""))
        s.add(_table(g, rows))
    else:
        s.none()

    s.heading("Pay methods", "Cards and bank accounts, masked: their numbers are stored "
                             "encrypted and are not part of this report.")
    if data["pay_methods"]:
        g = _grid(style, [("Pay method", 0), ("Holder", 40), ("Number", 38), ("Expires", 18),
                          ("Added", 22)], wrap=(0, 1, 2))
        s.add(_table(g, [(_lines(m["label"], m["description"],
                                 "Default pay method" if m["default"] else ""),
                          m["holder"], m["masked"], _expiry(m["expiry"]),
                          date(m["created_at"].date()) if m["created_at"] else "")
                         for m in data["pay_methods"]]))
    else:
        s.none()

    s.heading("Services, addons and domains",
              "What the client holds; amounts are the recurring price.")
    for key, title in (("services", "Services"), ("addons", "Addons"), ("domains", "Domains")):
        s.subheading(f"{title} ({len(data[key])})")
        if not data[key]:
            s.none()
            continue
        item_h = {"services": "Product", "addons": "Addon", "domains": "Domain"}[key]
        g = _grid(style, [(item_h, 0), ("Cycle", 21), ("Amount", 24), ("First payment", 24),
                          ("Signed up", 21), ("Next due" if key != "domains" else "Expires", 21),
                          ("Status", 19)], right=(2, 3), wrap=(0, 1, 6))
        rows = []
        for x in data[key]:
            item = _lines(
                x["name"] + (f" - {x['label']}" if x["label"] else ""),
                f"Addon to {x['parent']}" if x["parent"] else "",
                f"Group: {x['group']}" if x["group"] else "",
                f"Payment method: {x['payment_method']}" if x["payment_method"] else "",
                f"Next due: {date(x['next_due'])}" if key == "domains" and x["next_due"] else "",
                f"Notes: {x['notes']}" if x["notes"] else "")
            rows.append((item, x["cycle"], money(x["amount"]), money(x["first_payment"]),
                         date(x["signup_date"]),
                         date(x["expiry_date"] if key == "domains" else x["next_due"]),
                         x["status"]))
        s.add(_table(g, rows))

    s.heading("Orders")
    if data["orders"]:
        g = _grid(style, [("Order", 26), ("Date", 21), ("Items", 0), ("Invoice", 30),
                          ("Total", 24), ("Status", 19)], right=(4,), wrap=(2, 3))
        s.add(_table(g, [(o["number"], date(o["date"]),
                          _lines(o["items"] or "No items",
                                 f"Promotion: {o['promo_code']}" if o["promo_code"] else "",
                                 f"Payment method: {o['payment_method']}"
                                 if o["payment_method"] else "",
                                 f"Notes: {o['notes']}" if o["notes"] else ""),
                          o["invoice"], money(o["total"]), o["status"])
                         for o in data["orders"]]))
    else:
        s.none()

    s.heading("Quotes")
    if data["quotes"]:
        g = _grid(style, [("Quote", 16), ("Subject", 0), ("Date", 22), ("Valid until", 22),
                          ("Stage", 20), ("Invoice", 26), ("Total", 24)], right=(6,),
                  wrap=(1, 4, 5))
        s.add(_table(g, [(str(q["id"]), q["subject"], date(q["date"]), date(q["valid_until"]),
                          q["stage"], q["invoice"], money(q["total"])) for q in data["quotes"]]))
        s.subheading("Quote lines and texts")
        g = _grid(style, [("Description", 0), ("Qty", 16), ("Unit price", 26), ("Discount", 18),
                          ("Amount", 26)], right=(1, 2, 3, 4), wrap=(0,))
        rows, headings = [], set()
        for q in data["quotes"]:
            headings.add(len(rows))
            rows.append((f"Quote {q['id']}" + (f": {q['subject']}" if q["subject"] else ""),))
            for ln in q["lines"]:
                rows.append((ln["description"] + (" (taxed)" if ln["taxed"] else ""),
                             quotes._plain(ln["quantity"]), money(ln["unit_price"]),
                             f"{quotes._plain(ln['discount'])} %" if ln["discount"] else "",
                             money(ln["amount"])))
            if not q["lines"]:
                rows.append(("No lines", "", "", "", ""))
            for label, key in (("Proposal", "proposal"), ("Notes to the client", "customer_notes"),
                               ("Admin notes", "admin_notes")):
                if q[key]:
                    rows.append((f"{label}: {q[key]}", "", "", "", ""))
        rows = _split_long_with_headings(g, rows, headings)
        s.add(_table(g, rows[0], frozenset(rows[1])))
    else:
        s.none()

    s.heading("Invoices", "Balance is what was still owed when the report was made.")
    if data["invoices"]:
        g = _grid(style, [("Number", 0), ("Date", 21), ("Due", 21), ("Paid on", 21),
                          ("Status", 19), ("Total", 22), ("Paid", 22), ("Balance", 22)],
                  right=(5, 6, 7), wrap=(0, 4))
        s.add(_table(g, [(i["label"], date(i["date"]), date(i["due_date"]),
                          date(i["paid_date"]), i["status"], money(i["total"]), money(i["paid"]),
                          money(i["balance"])) for i in data["invoices"]]))
        s.subheading("Invoice lines")
        g = _grid(style, [("Description", 0), ("Type", 26), ("Taxed", 14), ("Amount", 28)],
                  right=(3,), wrap=(0, 1))
        rows, headings = [], set()
        for i in data["invoices"]:
            headings.add(len(rows))
            rows.append((f"Invoice {i['label']}  ·  {date(i['date'])}  ·  {i['status']}",))
            for ln in i["lines"]:
                rows.append((ln["description"], ln["type"], _yes(ln["taxed"]),
                             money(ln["amount"])))
            if i["tax"]:
                rows.append(("Subtotal", "", "", money(i["subtotal"])))
                rows.append((f"Tax ({i['taxes']})", "", "", money(i["tax"])))
            rows.append(("Total", "", "", money(i["total"])))
            if i["credit_applied"]:
                rows.append(("Credit applied", "", "", money(i["credit_applied"])))
            if i["refunded"]:
                rows.append(("Refunded", "", "", money(i["refunded"])))
            extra = _lines(f"Payment method: {i['payment_method']}" if i["payment_method"] else "",
                           "Add-funds invoice" if i["kind"] == "add_funds" else "",
                           f"Notes: {i['notes']}" if i["notes"] else "")
            if extra:
                rows.append((extra, "", "", ""))
        rows = _split_long_with_headings(g, rows, headings)
        s.add(_table(g, rows[0], frozenset(rows[1])))
    else:
        s.none()

    s.heading("Transactions", "Payments received, fees and refunds.")
    if data["transactions"]:
        g = _grid(style, [("Date", 21), ("Description", 0), ("Method", 24), ("Invoice", 28),
                          ("In", 22), ("Fee", 18), ("Out", 22)], right=(4, 5, 6),
                  wrap=(1, 2, 3))
        s.add(_table(g, [(date(t["date"]),
                          _lines(t["description"], f"Reference: {t['reference']}"
                                 if t["reference"] else "",
                                 "Kept as credit" if t["to_credit"] else ""),
                          t["method"], t["invoice"],
                          money(t["amount_in"]) if t["amount_in"] else "",
                          money(t["fee"]) if t["fee"] else "",
                          money(t["amount_out"]) if t["amount_out"] else "")
                         for t in data["transactions"]]))
    else:
        s.none()

    s.heading("Credit", f"Balance: {money(data['credit_balance'])}. The ledger of every "
                        "credit movement, oldest first.")
    if data["credit_entries"]:
        g = _grid(style, [("Date", 21), ("Kind", 32), ("Description", 0), ("Invoice", 28),
                          ("Amount", 24)], right=(4,), wrap=(1, 2, 3))
        s.add(_table(g, [(date(e["date"]), e["kind"], e["description"], e["invoice"],
                          money(e["amount"])) for e in data["credit_entries"]]))
    else:
        s.none()

    s.heading("Billable items")
    if data["billable_items"]:
        g = _grid(style, [("Description", 0), ("Hours × rate", 30), ("Amount", 24),
                          ("Invoicing", 34), ("Due", 21), ("Invoice", 26)], right=(2,),
                  wrap=(0, 1, 3, 5))
        rows = []
        for b in data["billable_items"]:
            hours = (f"{quotes._plain(b['hours'])} × {money(b['rate'])}"
                     if b["hours"] is not None and b["rate"] is not None else "")
            rows.append((_lines(b["description"] + (" (taxed)" if b["taxed"] else ""),
                                f"Notes: {b['notes']}" if b["notes"] else ""),
                         hours, money(b["amount"]), b["schedule"], date(b["due_date"]),
                         b["invoice"]))
        s.add(_table(g, rows))
    else:
        s.none()

    s.heading("Recurring invoices")
    if data["recurring_invoices"]:
        g = _grid(style, [("Lines", 0), ("Schedule", 38), ("Started", 21), ("Next", 21),
                          ("Status", 18), ("Total", 24)], right=(5,), wrap=(0, 1))
        rows = []
        for r in data["recurring_invoices"]:
            lines = [f"{ln['description']}: {money(ln['amount'])}" for ln in r["lines"]]
            rows.append((_lines("\n".join(lines),
                                f"Payment method: {r['payment_method']}"
                                if r["payment_method"] else "",
                                f"Due {r['due_days']} days after issue" if r["due_days"] else "",
                                f"Notes: {r['notes']}" if r["notes"] else ""),
                         r["schedule"], date(r["start_date"]), date(r["next_date"]), r["status"],
                         money(r["total"])))
        s.add(_table(g, rows))
    else:
        s.none()

    s.heading("Emails", "Messages sent or waiting to be sent; the full text follows the list.")
    if data["emails"]:
        g = _grid(style, [("Date", 30), ("To and cc", 52), ("Subject", 0), ("Status", 18)],
                  wrap=(1, 2, 3))
        s.add(_table(g, [(stamp(e["date"]), _lines(e["to"], f"cc: {e['cc']}" if e["cc"] else ""),
                          e["subject"], e["status"]) for e in data["emails"]]))
        s.subheading("Email messages")
        for e in data["emails"]:
            head = [f"Date: {stamp(e['date'])}  ·  Status: {e['status']}", f"To: {e['to']}"]
            if e["cc"]:
                head.append(f"Cc: {e['cc']}")
            if e["attachments"]:
                head.append(f"Attachments: {', '.join(e['attachments'])}")
            if e["error"]:
                head.append(f"Error: {e['error']}")
            s.add(CondPageBreak(20 * mm))
            s.text(e["body"] or "(no text)", label=e["subject"] or "(no subject)",
                   muted="\n".join(head), space_before=3 * mm)
    else:
        s.none()

    s.heading("Tickets", "Support tickets; every message follows the list.")
    if data["tickets"]:
        g = _grid(style, [("Ticket", 16), ("Subject", 0), ("Priority", 18), ("Status", 24),
                          ("Opened", 30), ("Last update", 30)], wrap=(1, 3))
        s.add(_table(g, [(str(t["id"]), t["subject"], t["priority"], t["status"],
                          stamp(t["created_at"]), stamp(t["updated_at"]))
                         for t in data["tickets"]]))
        s.subheading("Ticket messages")
        g = _grid(style, [("Written", 30), ("By", 40), ("Message", 0)], wrap=(1, 2))
        rows, headings = [], set()
        for t in data["tickets"]:
            headings.add(len(rows))
            rows.append((f"Ticket {t['id']}: {t['subject']}  ·  {t['status']}",))
            for msg in t["messages"]:
                who = "Staff" if msg["author"] == "staff" else "Client"
                rows.append((stamp(msg["created_at"]),
                              f"{who}: {msg['name']}" if msg["name"] else who, msg["message"]))
            if not t["messages"]:
                rows.append(("", "", "No messages"))
        rows = _split_long_with_headings(g, rows, headings)
        s.add(_table(g, rows[0], frozenset(rows[1])))
    else:
        s.none()

    s.heading("Files", "The files kept for the client: name and checksum, not their content.")
    if data["files"]:
        sha_w = (doc._text_width("0" * 32, style.fonts.regular, 8.5) + 12) / mm  # 2 lines
        g = _grid(style, [("Name", 0), ("Size", 20), ("Added", 30), ("Admin only", 18),
                          ("SHA-256", sha_w)], right=(1,), wrap=(0, 4))
        s.add(_table(g, [(f["name"], _size(f["size"]), stamp(f["added_at"]),
                          _yes(f["admin_only"]), f"{f['sha256'][:32]}\n{f['sha256'][32:]}")
                         for f in data["files"]]))
    else:
        s.none()

    s.heading("Notes", "Dated notes, oldest first.")
    if data["notes"]:
        g = _grid(style, [("Written", 30), ("Edited", 30), ("Sticky", 14), ("Note", 0)],
                  wrap=(3,))
        s.add(_table(g, [(stamp(n["created_at"]),
                          stamp(n["updated_at"]) if n["updated_at"] != n["created_at"] else "",
                          _yes(n["sticky"]), n["text"]) for n in data["notes"]]))
    else:
        s.none()

    account = data["affiliate"]
    if account:
        s.heading("Affiliate", f"Affiliate #{account['id']} since "
                               f"{date(account['activated_at'].date())}, {account['status']}; "
                               f"commission {account['commission']}. Pending "
                               f"{money(account['pending'])}, payable {money(account['payable'])}, "
                               f"paid out {money(account['paid_out'])}, balance "
                               f"{money(account['balance'])}.")
    elif not (data["referrals"] or data["commissions"] or data["payouts"]):
        s.heading("Affiliate")
        s.none("None stored: the client is not an affiliate (no referrals, commissions or "
               "payouts).")
    else:  # not possible: an affiliate's records go with its row
        s.heading("Affiliate", "The client is not an affiliate.")
    if account or data["referrals"] or data["commissions"] or data["payouts"]:
        _affiliate_tables(s, data, style)

    s.heading("Change log", "Who changed what and when, oldest first.")
    if data["changes"]:
        g = _grid(style, [("When", 30), ("By", 26), ("Change", 0)], wrap=(1, 2))
        s.add(_table(g, [(stamp(c["at"]), c["actor"], c["change"]) for c in data["changes"]]))
    else:
        s.none()
    return s.items


def _affiliate_tables(s: _Story, data: dict[str, Any], style: _Style) -> None:
    """The affiliate account's referrals, commissions and payouts."""
    money, date = style.money, style.date
    s.subheading(f"Referrals ({len(data['referrals'])})")
    if data["referrals"]:
        g = _grid(style, [("Client", 0), ("Client number", 26), ("Referred on", 26),
                          ("Paid invoices", 24)], right=(1, 3), wrap=(0,))
        s.add(_table(g, [(r["name"], str(r["client_id"]), date(r["referred_at"].date()),
                          str(r["paid_invoices"])) for r in data["referrals"]]))
    else:
        s.none()
    s.subheading(f"Commissions ({len(data['commissions'])})")
    if data["commissions"]:
        g = _grid(style, [("Invoice", 30), ("Referred client", 0), ("Earned on", 22),
                          ("Payable from", 22), ("State", 18), ("Amount", 24)], right=(5,),
                  wrap=(0, 1))
        s.add(_table(g, [(c["invoice"], c["client"], date(c["earned_on"]),
                          date(c["payable_on"]), c["state"].capitalize(), money(c["amount"]))
                         for c in data["commissions"]]))
    else:
        s.none()
    s.subheading(f"Payouts ({len(data['payouts'])})")
    if data["payouts"]:
        g = _grid(style, [("Paid on", 22), ("Method", 40), ("Notes", 0), ("Amount", 24)],
                  right=(3,), wrap=(1, 2))
        s.add(_table(g, [(date(x["paid_on"]), x["method"], x["notes"], money(x["amount"]))
                         for x in data["payouts"]]))
    else:
        s.none()


def _split_long_with_headings(grid: doc._Grid, rows: list[tuple[str, ...]], headings: set[int]
                              ) -> tuple[list[tuple[str, ...]], set[int]]:
    """_split_long for a table with heading rows: the headings' indices
    move with the rows added before them."""
    out: list[tuple[str, ...]] = []
    moved: set[int] = set()
    for n, row in enumerate(rows):
        if n in headings:
            moved.add(len(out))
            out.append(row)
        else:
            out += _split_long(grid, [row])
    return out, moved


def _texts(data: Any) -> Iterable[str]:
    """Every string in the collected data (to choose the font)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _texts(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _texts(value)


@dataclass(frozen=True, slots=True)
class ReportInfo:
    path: Path
    pages: int
    sections: dict[str, int]

    def as_json(self, client_id: int) -> dict[str, Any]:
        return {"id": client_id, "path": str(self.path), "pages": self.pages,
                "sections": dict(self.sections)}


def render(data: dict[str, Any]) -> bytes:
    """The PDF of ``collect``'s result."""
    p = data["profile"]
    locale = doc._locale_name(p["language"])
    company, logo = doc._company()
    company_lines = doc._company_lines(company, locale)
    name = data["name"]
    generated = data["generated"]
    # what Babel writes in the client's language counts too: month and
    # country names, amounts
    samples = [doc._date(dt.date(2000, month, 28), locale) for month in range(1, 13)]
    samples += [doc._country(row["country"], locale) for row in (p, *data["contacts"])]
    samples.append(doc._amount_formatter(p["currency"], locale)(
        Money.of("-1234.5", p["currency"])))
    fonts = doc._fonts_for([company.name, *company_lines, *samples, *_texts(data)])
    style = _Style(fonts, locale)

    party = doc._Party(name, _lines(p["company"], *doc._address(p, locale), p["email"])
                       .split("\n"))
    controller = company.name or "the business keeping this book"
    subtitle = [f"Everything {controller} stores about this client, as of "
                f"{style.stamp(generated)}."]
    meta = [("Client number", str(data["client_id"]), None),
            ("Report date", style.date(generated.date()), None),
            ("Status", p["status"] + (", archived" if p["archived"] else ""), None),
            ("Data controller", company.name or "(company name not set)", None)]
    header = doc._HeaderData(company, company_lines, logo, f"Personal data held about {name}",
                             subtitle, "Data subject", party, meta, None)
    story: list[Flowable] = [doc._Header(header, fonts)]
    controller_text = ", ".join([company.name, *company_lines]) if company.name else ""
    if controller_text:
        story.append(doc._TextBlock([doc._Text(
            f"Data controller: {controller_text}. Files are listed by name and checksum; "
            "their content is not part of this report.", fonts.regular, 8.5, doc.MUTED)]))
    story += _build_story(data, style)

    label = f"Personal data held about {name}"
    footer = f"{company.name}  ·  Personal data report" if company.name else "Personal data report"
    page = doc._Page(fonts, f"{footer}  ·  {style.date(generated.date())}",
                     f"{label} (continued)")
    return doc._render(story, page, title=label, author=company.name,
                       subject=f"GDPR data report for client {data['client_id']}")


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def page_count(pdf: bytes) -> int:
    """Pages in a PDF billdesk wrote (ReportLab writes no object streams)."""
    return len(_PAGE_OBJECT.findall(pdf))


def export(client_id: int, path: str | os.PathLike[str]) -> ReportInfo:
    """Write the report to ``path`` (atomically); how many pages and records.
    NotFound (field "id") for an unknown client; InvalidInput (field
    "output") when the file cannot be written, and then nothing is."""
    data = collect(client_id)
    pdf = render(data)
    target = Path(path)
    try:
        doc._write(pdf, target)
    except OSError as exc:  # no such folder, no permission, disk full…
        raise InvalidInput("output", f"cannot write {str(target)!r}: "
                                     f"{exc.strerror or exc}") from None
    return ReportInfo(target, page_count(pdf), counts(data))


def write_report(client_id: int, path: str | Path) -> Path:
    """The GDPR data report of one client as a PDF at ``path`` (C12)."""
    return export(client_id, path).path
