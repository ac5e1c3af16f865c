"""Queueing email (E1, E2, E4): a message is rendered from its template and
written to the ``email`` table — the outbox and the email log in one —
inside the transaction of the event that caused it (a payment, a
published invoice, the daily run). ``services/outbox.py`` delivers it.

Each message of an event carries an ``event_key`` (``invoice_created:
invoice:12``, ``payment_confirmation:txn:40``…), unique in the table: an
event queues its email once, however often it is replayed, and queueing
it again returns None instead of failing the event.

Recipients: the client's email, with a copy (cc) to each of the client's
contacts whose email categories include the template's category (K1).
The Message-ID is made from the email's id and its creation time, so a
rerun of the same day writes the very same rows.

The context a template sees (``templates.SCHEMA`` lists it): client,
contact (the default billing contact, or None), company, invoice (with
its lines), quote, service, days_overdue, today, plus ``extra``. Amounts
are text in the client's currency and language ("£1,019.99",
"1.019,99 €"), dates in the client's language."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from billdesk.errors import InvalidInput, NotFound
from billdesk.models import EMAIL_CATEGORIES, database, now
from billdesk.money import Money
from billdesk.services import addresses, clients, outbox, templates

ATTACHMENT_KINDS = ("invoice", "quote", "data")
# Templates that go with an invoice carry its PDF (drawn at delivery).
INVOICE_PDF_KINDS = frozenset({"invoice_created", "payment_reminder", "overdue_1", "overdue_2",
                               "overdue_3", "payment_confirmation"})
QUOTE_PDF_KINDS = frozenset({"quote_delivered"})
FALLBACK_DOMAIN = "billdesk.invalid"
_BATCH = 5000  # invoices per read in the bulk path


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: an invoice or quote (its PDF is drawn from
    ``ref_id`` at delivery) or ``data`` (the bytes themselves)."""

    filename: str
    kind: str
    ref_id: int | None = None
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    position: int
    filename: str
    kind: str
    ref_id: int | None
    size: int | None  # bytes of a 'data' attachment
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class EmailRow:
    id: int
    client_id: int | None
    template: str
    event_key: str | None
    message_id: str
    to_addr: str
    cc: str
    subject: str
    body: str
    status: str
    attempts: int
    next_attempt: dt.datetime | None
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attachments: list[AttachmentRow] = field(default_factory=list)
    pending: bool = False  # its text not written yet (render_pending writes it)

    @property
    def recipients(self) -> list[str]:
        return [self.to_addr] + [a for a in self.cc.split(",") if a]

    def as_json(self) -> dict[str, Any]:
        stamp = lambda v: v.isoformat(sep=" ") if v else None  # noqa: E731
        return {"id": self.id, "client_id": self.client_id, "template": self.template,
                "event_key": self.event_key, "message_id": self.message_id, "to": self.to_addr,
                "cc": [a for a in self.cc.split(",") if a], "subject": self.subject,
                "body": self.body, "status": self.status, "attempts": self.attempts,
                "next_attempt": stamp(self.next_attempt), "error": self.error,
                "created_at": stamp(self.created_at), "sent_at": stamp(self.sent_at),
                "attachments": [{"filename": a.filename, "kind": a.kind, "ref_id": a.ref_id}
                                for a in self.attachments]}


# --- switching queueing off (the demo book, bulk imports) -------------------

_local = threading.local()


@contextmanager
def suppressed() -> Iterator[None]:
    """Within the block, on this thread, nothing is queued (queue_* return
    None / 0): for building demo books and imports of past records."""
    before = getattr(_local, "off", False)
    _local.off = True
    try:
        yield
    finally:
        _local.off = before


def _off() -> bool:
    return getattr(_local, "off", False)


# --- formatting for the client's language ----------------------------------

@templates.register_data_type
class _Obj(dict):
    """A placeholder object (client, invoice, a line…): a dict whose keys
    also read as attributes, so ``{{ client.first_name }}`` is one lookup
    in the sandbox rather than a failed getattr and a retry."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _obj(value: Any) -> Any:
    """Mappings in ``extra`` become placeholder objects too."""
    if isinstance(value, Mapping) and not isinstance(value, _Obj):
        return _Obj({k: _obj(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_obj(v) for v in value]
    return value


class _Format:
    """Amounts and dates in one client's currency and language."""

    __slots__ = ("locale", "_money", "currency", "_dates", "_amounts")

    def __init__(self, currency: str, language: str) -> None:
        self.locale = addresses._locale_name(language)
        self.currency = currency
        self._money = addresses._amount_formatter(currency, self.locale)
        self._dates: dict[Any, str] = {}
        self._amounts: dict[int, str] = {}  # few distinct prices: each formatted once

    def money(self, units: int | None) -> str:
        units = units or 0
        found = self._amounts.get(units)
        if found is None:
            if len(self._amounts) > 50_000:
                self._amounts.clear()
            found = self._amounts[units] = self._money(Money.from_minor(units, self.currency))
        return found

    def date(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        found = self._dates.get(value)
        if found is None:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
            found = self._dates[value] = addresses._date(day, self.locale)
        return found


@lru_cache(maxsize=256)
def _format(currency: str, language: str) -> _Format:
    return _Format(currency, language)


# --- reading what the context needs: a few queries for many -----------------

_CLIENT_SQL = """
SELECT c.id, c.first_name, c.last_name, c.company, c.email, c.phone, c.address1, c.address2,
       c.city, c.state, c.postcode, c.country, c.currency, c.language, c.status,
       c.credit_balance, k.first_name, k.last_name, k.email, k.company, k.phone
  FROM client c LEFT JOIN contact k ON k.id = c.billing_contact_id
 WHERE c.id IN (SELECT value FROM json_each(?))
"""
_CONTACTS_SQL = """
SELECT client_id, email, categories FROM contact
 WHERE client_id IN (SELECT value FROM json_each(?)) AND categories <> ''
 ORDER BY client_id, id
"""
_INVOICE_SQL = """
SELECT id, client_id, number, kind, status, date, due_date, paid_date, currency, payment_method,
       subtotal, tax1, tax2, total, credit, paid, notes
  FROM invoice WHERE id IN (SELECT value FROM json_each(?))
"""
_LINES_SQL = """
SELECT invoice_id, description, amount FROM invoice_line
 WHERE invoice_id IN (SELECT value FROM json_each(?))
 ORDER BY invoice_id, position, id
"""


class _ClientData:
    """One client's row, read for the context and the recipients."""

    __slots__ = ("id", "email", "currency", "language", "fmt", "context", "contact", "cc")

    def __init__(self, row: tuple, display_format: str, cc: list[tuple[str, str]],
                 written: frozenset[str] = frozenset()) -> None:
        clients = _clients()
        (cid, first, last, company, email, phone, a1, a2, city, state, postcode, country,
         currency, language, status, credit, k_first, k_last, k_email, k_company, k_phone) = row
        self.id, self.email, self.currency = cid, email, currency
        self.language = (language or templates.FALLBACK_LANGUAGE).lower()
        # dates and amounts in the language the text is in: a client whose
        # language no template is written in reads English, not "7 dic 2026"
        self.fmt = _format(currency, self.language if not written or self.language in written
                           else templates.FALLBACK_LANGUAGE)
        address, country_name = _address_text(a1, a2, city, state, postcode, country,
                                              self.fmt.locale)
        self.context = _Obj({
            "id": str(cid), "first_name": first, "last_name": last,
            "name": clients.display_name(first, last, company or "", display_format),
            "company": company or "", "email": email, "phone": phone or "",
            "address": address, "address1": a1 or "", "address2": a2 or "",
            "city": city or "", "state": state or "", "postcode": postcode or "",
            "country": country_name, "country_code": country or "",
            "currency": currency, "language": self.language, "status": status,
            "credit_balance": self.fmt.money(credit),
        })
        self.contact = None if k_email is None else _Obj({
            "first_name": k_first, "last_name": k_last, "name": f"{k_first} {k_last}".strip(),
            "email": k_email, "company": k_company or "", "phone": k_phone or ""})
        self.cc = cc  # (email, categories) of every contact with categories

    def cc_for(self, category: str) -> str:
        if not self.cc:
            return ""
        seen = {self.email.casefold()}
        out = []
        for email, categories in self.cc:
            if category in categories.split(",") and email.casefold() not in seen:
                seen.add(email.casefold())
                out.append(email)
        return ",".join(out)


@lru_cache(maxsize=4096)
def _address_text(a1: str | None, a2: str | None, city: str | None, state: str | None,
                  postcode: str | None, country: str | None, locale: str) -> tuple[str, str]:
    """(the postal address as lines of text, the country's name) in the
    locale: many clients share a town and country, each done once."""
    lines = addresses._address({"address1": a1, "address2": a2, "city": city, "state": state,
                                "postcode": postcode, "country": country}, locale)
    return "\n".join(lines), addresses._country(country or "", locale)


@lru_cache(maxsize=1)
def _clients() -> Any:
    from billdesk.services import clients

    return clients


def _read_clients(client_ids: Sequence[int], template: str | None = None
                  ) -> dict[int, _ClientData]:
    """The clients, with their dates and amounts written in the language
    of the text they get: their own where ``template`` (or, without one,
    any template) is written in it, else English."""
    from billdesk.services import settings

    ids = json.dumps(sorted(set(client_ids)))
    conn = database.connection()
    contacts: dict[int, list[tuple[str, str]]] = {}
    for cid, email, categories in conn.execute(_CONTACTS_SQL, (ids,)):
        contacts.setdefault(cid, []).append((email, categories))
    display_format = settings.display_format()
    written = templates.languages_written(template)
    return {row[0]: _ClientData(row, display_format, contacts.get(row[0], []), written)
            for row in conn.execute(_CLIENT_SQL, (ids,))}


def _read_invoices(invoice_ids: Sequence[int]) -> tuple[dict[int, tuple], dict[int, list[tuple]]]:
    ids = list(invoice_ids)
    conn = database.connection()
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):  # the billing run's ids: one range on the primary key
        wanted = set(ids)
        range_sql = "BETWEEN ? AND ?"
        params: tuple = (low, high)
    else:
        wanted = None
        range_sql = "IN (SELECT value FROM json_each(?))"
        params = (json.dumps(ids),)
    rows = {row[0]: row for row in conn.execute(
        _INVOICE_SQL.replace("IN (SELECT value FROM json_each(?))", range_sql), params)
        if wanted is None or row[0] in wanted}
    lines: dict[int, list[tuple]] = {iid: [] for iid in rows}
    for iid, description, amount in conn.execute(
            _LINES_SQL.replace("IN (SELECT value FROM json_each(?))", range_sql), params):
        found = lines.get(iid)
        if found is not None:
            found.append((description, amount))
    return rows, lines


_OPEN = ("Draft", "Unpaid", "Collections")


def _invoice_context(row: tuple, lines: list[tuple], fmt: _Format) -> dict[str, Any]:
    (iid, _client_id, number, _kind, status, date, due, paid_date, currency, method, subtotal,
     tax1, tax2, total, credit, paid, notes) = row
    if currency != fmt.currency:  # (a client's currency is fixed by its invoices, C7)
        fmt = _format(currency, fmt.locale)
    balance = max(total - credit - paid, 0) if status in _OPEN else 0
    # amounts and dates repeat across invoices: read from the formatter's
    # caches directly (a C call each), formatted once on a miss
    known, money = fmt._amounts.get, fmt.money
    days, date_text = fmt._dates.get, fmt.date
    subtotal_t, tax_t, total_t, credit_t, paid_t, balance_t = [
        known(units) or money(units) for units in (subtotal, tax1 + tax2, total, credit, paid,
                                                   balance)]
    return _Obj(
        id=str(iid), number=number or "", date=days(date) or date_text(date),
        due_date=days(due) or date_text(due),
        paid_date=(days(paid_date) or date_text(paid_date)) if paid_date else "",
        status=status, payment_method=method or "", subtotal=subtotal_t, tax=tax_t,
        total=total_t, credit=credit_t, paid=paid_t, balance=balance_t, currency=currency,
        notes=notes or "", has_tax=bool(tax1 or tax2), has_payments=bool(credit or paid),
        lines=[_Obj(description=d, amount=known(a) or money(a)) for d, a in lines])


def _quote_context(quote_id: int, fmt: _Format) -> dict[str, Any]:
    from billdesk.services import quotes

    q = quotes.get_quote(quote_id)
    if q.currency != fmt.currency:
        fmt = _format(q.currency, fmt.locale)
    money = lambda m: fmt.money(m.minor_units)  # noqa: E731
    return _Obj({
        "id": str(q.id), "number": str(q.id), "subject": q.subject, "stage": q.stage,
        "date": fmt.date(q.date), "valid_until": fmt.date(q.valid_until),
        "subtotal": money(q.subtotal), "tax": money(q.tax), "total": money(q.total),
        "currency": q.currency, "proposal": q.proposal, "notes": q.customer_notes,
        "lines": [_Obj(description=ln.invoice_description, amount=money(ln.amount))
                  for ln in q.lines],
    })


def _service_context(service_id: int, fmt: _Format) -> dict[str, Any]:
    row = database.execute_sql(
        "SELECT id, name, label, kind, status, cycle, amount, next_due FROM service WHERE id = ?",
        (service_id,)).fetchone()
    if row is None:
        raise NotFound("service", f"no service #{service_id}")
    sid, name, label, kind, status, cycle, amount, next_due = row
    return _Obj({"id": str(sid), "name": name, "label": label or "", "kind": kind,
                 "status": status, "cycle": cycle, "amount": fmt.money(amount),
                 "next_due": fmt.date(next_due)})


def statement_context(client_id: int, start: dt.date, end: dt.date) -> dict[str, str]:
    """``statement.start``, ``.end`` and ``.balance`` (the closing balance)
    for a message that sends the statement, in the client's language."""
    from billdesk.services import statements

    found = statements.statement(client_id, start, end)
    language = database.execute_sql("SELECT language FROM client WHERE id = ?",
                                    (client_id,)).fetchone()[0]
    fmt = _format(found.currency, language or templates.FALLBACK_LANGUAGE)
    return {"start": fmt.date(found.start), "end": fmt.date(found.end),
            "balance": fmt.money(found.closing.minor_units)}


@lru_cache(maxsize=16)
def _company_context(raw: str, locale: str) -> dict[str, Any]:
    from billdesk.services import settings

    company = settings.Company(**json.loads(raw))
    address = addresses._address(
        {"address1": company.address1, "address2": company.address2, "city": company.city,
         "state": company.state, "postcode": company.postcode, "country": company.country},
        locale)
    return _Obj({"name": company.name, "email": company.email, "phone": company.phone,
                 "address": "\n".join(address), "tax_id": company.tax_id})


def _company() -> tuple[str, str]:
    """(the company as JSON text, the Message-ID domain)."""
    from dataclasses import asdict

    from billdesk.services import settings

    company = settings.company()
    domain = company.email.rpartition("@")[2].strip().lower() if "@" in company.email else ""
    return json.dumps(asdict(company), sort_keys=True), domain or FALLBACK_DOMAIN


def _base_context(client: _ClientData, company_raw: str,
                  today: dt.date | None = None) -> dict[str, Any]:
    return {"client": client.context, "contact": client.contact,
            "company": _company_context(company_raw, client.fmt.locale),
            "invoice": None, "quote": None, "service": None, "days_overdue": "",
            "today": client.fmt.date(today or now().date())}


def context(client_id: int, *, invoice_id: int | None = None, quote_id: int | None = None,
            service_id: int | None = None, extra: Mapping[str, Any] | None = None,
            template: str | None = None) -> dict[str, Any]:
    """What a template sees for this client (and invoice, quote, service):
    for previews in the Send email window and for queueing. ``template``:
    the one the text comes from (its language decides the formats)."""
    client = _read_clients([client_id], template or None).get(client_id)
    if client is None:
        raise NotFound("client_id", f"no client #{client_id}")
    return _context(client, _company()[0], invoice_id=invoice_id, quote_id=quote_id,
                    service_id=service_id, extra=extra)


def _context(client: _ClientData, company_raw: str, *, invoice_id: int | None = None,
             quote_id: int | None = None, service_id: int | None = None,
             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    found = _base_context(client, company_raw)
    if invoice_id is not None:
        rows, lines = _read_invoices([invoice_id])
        row = rows.get(invoice_id)
        if row is None or row[1] != client.id:
            raise NotFound("invoice", f"no invoice #{invoice_id} of client #{client.id}")
        found["invoice"] = _invoice_context(row, lines[invoice_id], client.fmt)
        found["days_overdue"] = _days_overdue(row[6], now().date())
    if quote_id is not None:
        found["quote"] = _quote_context(quote_id, client.fmt)
    if service_id is not None:
        found["service"] = _service_context(service_id, client.fmt)
    if extra:
        found.update(_obj(dict(extra)))
    return found


def _days_overdue(due: Any, today: dt.date) -> str:
    if not due:
        return ""
    day = due if isinstance(due, dt.date) else _iso_date(str(due)[:10])
    return str(max((today - day).days, 0))


@lru_cache(maxsize=4096)
def _iso_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- writing ------------------------------------------------------------------

@dataclass(slots=True)
class _Message:
    client_id: int | None
    template: str
    event_key: str | None
    to_addr: str
    cc: str
    subject: str
    body: str
    status: str = "Queued"
    error: str = ""
    attachments: Sequence[Attachment] = ()
    pending: bool = False  # the text is written later (render_pending)


def message_id(email_id: int, created_at: dt.datetime, domain: str) -> str:
    return f"<billdesk.{email_id}.{created_at:%Y%m%d%H%M%S}@{domain}>"


_INSERT_EMAIL = (
    "INSERT INTO email (id, client_id, template, event_key, message_id, to_addr, cc, subject, "
    "body, status, next_attempt, error, created_at, pending) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def _next_email_id(conn: Any) -> int:
    return conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'email'), 0), "
        "coalesce((SELECT max(id) FROM email), 0)) + 1").fetchone()[0]


def _write(messages: Sequence[_Message], domain: str) -> list[int]:
    """Insert the messages (and their attachments) with executemany; ids
    are handed out here, under the write lock the caller's transaction
    holds, so each Message-ID is known before the row is written."""
    if not messages:
        return []
    conn = database.connection()
    first = _next_email_id(conn)
    stamp = now()
    text = stamp.isoformat(sep=" ")
    made = f"{stamp:%Y%m%d%H%M%S}@{domain}>"
    rows, files = [], []
    for n, msg in enumerate(messages):
        email_id = first + n
        rows.append((email_id, msg.client_id, msg.template, msg.event_key,
                     f"<billdesk.{email_id}.{made}", msg.to_addr, msg.cc, msg.subject,
                     msg.body, msg.status, text if msg.status == "Queued" else None, msg.error,
                     text, int(msg.pending)))
        files += [(email_id, pos, a.filename, a.kind, a.ref_id, a.content)
                  for pos, a in enumerate(msg.attachments, 1)]
    conn.executemany(_INSERT_EMAIL, rows)
    if files:
        conn.executemany("INSERT INTO email_attachment (email_id, position, filename, kind, "
                         "ref_id, content) VALUES (?,?,?,?,?,?)", files)
    return [first + n for n in range(len(messages))]


def _check_attachments(attachments: Sequence[Attachment]) -> list[Attachment]:
    out = []
    for n, a in enumerate(attachments, 1):
        if a.kind not in ATTACHMENT_KINDS:
            raise InvalidInput(f"attachments[{n}].kind",
                               f"must be one of {', '.join(ATTACHMENT_KINDS)}")
        if not (a.filename or "").strip():
            raise InvalidInput(f"attachments[{n}].filename", "is required")
        if a.kind == "data" and a.content is None:
            raise InvalidInput(f"attachments[{n}].content", "a data attachment needs its bytes")
        if a.kind != "data" and a.ref_id is None:
            raise InvalidInput(f"attachments[{n}].ref_id", f"an {a.kind} attachment names its "
                                                           f"{a.kind}")
        out.append(Attachment(a.filename.strip(), a.kind, a.ref_id,
                              bytes(a.content) if a.content is not None else None))
    return out


def invoice_filename(number: str | None, invoice_id: int) -> str:
    name = (number or str(invoice_id)).replace("/", "-").replace("\\", "-")
    return f"invoice-{name}.pdf"


def quote_filename(quote_id: int) -> str:
    return f"quote-{quote_id}.pdf"


def _event_taken(event_key: str | None) -> bool:
    return event_key is not None and database.execute_sql(
        "SELECT 1 FROM email WHERE event_key = ?", (event_key,)).fetchone() is not None


def _render(info: templates.TemplateInfo, ctx: Mapping[str, Any], client: _ClientData,
            event_key: str | None, to: str | None,
            attachments: Sequence[Attachment]) -> _Message:
    """The message for one event. A template that fails at send time (it
    passed its checks when saved) gives a Failed message with the error —
    shown in the email log — rather than failing the event itself."""
    cc = client.cc_for(info.category)
    try:
        subject, body = templates.render_parts(info.subject, info.body, ctx)
    except InvalidInput as exc:
        return _Message(client.id, info.name, event_key, to or client.email, cc,
                        f"({info.name}: template could not be rendered)", "", "Failed",
                        f"template {info.name!r} ({info.language}), {exc.field}: {exc.message}",
                        attachments)
    return _Message(client.id, info.name, event_key, to or client.email, cc, subject, body,
                    attachments=attachments)


def queue_template(name: str, client_id: int, *, event_key: str | None = None,
                   invoice_id: int | None = None, quote_id: int | None = None,
                   service_id: int | None = None, extra: Mapping[str, Any] | None = None,
                   attachments: Sequence[Attachment] = (), to: str | None = None) -> int | None:
    """Render template ``name`` in the client's language and queue it (in
    the caller's transaction when there is one). Returns the email id, or
    None when the template is disabled or ``event_key`` was queued
    already. Invoice templates attach the invoice's PDF, quote_delivered
    the quote's."""
    if _off():
        return None
    attachments = _check_attachments(attachments)
    with database.atomic():
        if _event_taken(event_key):
            return None
        client = _read_clients([client_id], name).get(client_id)
        if client is None:
            raise NotFound("client_id", f"no client #{client_id}")
        info = templates.lookup(name, client.language)
        if info.disabled:
            return None
        company_raw, domain = _company()
        ctx = _context(client, company_raw, invoice_id=invoice_id, quote_id=quote_id,
                       service_id=service_id, extra=extra)
        kind = info.kind
        if (kind in INVOICE_PDF_KINDS and invoice_id is not None
                and not any(a.kind == "invoice" for a in attachments)):
            number = ctx["invoice"]["number"] if ctx["invoice"] else None
            attachments.insert(0, Attachment(invoice_filename(number, invoice_id), "invoice",
                                             invoice_id))
        if (kind in QUOTE_PDF_KINDS and quote_id is not None
                and not any(a.kind == "quote" for a in attachments)):
            attachments.insert(0, Attachment(quote_filename(quote_id), "quote", quote_id))
        msg = _render(info, ctx, client, event_key, to, attachments)
        return _write([msg], domain)[0]


# What a message typed or chosen in the Send email window is about, when it
# uses that part's placeholders and there is nothing to fill them from: it
# would go out reading "invoice # has been issued on ." — refused instead.
_ABOUT = {
    "invoice": "is about an invoice, and there is none to fill it from: attach one (Invoice…)",
    "quote": "is about a quote, and there is none to fill it from: it is sent when a quote "
             "is set to Delivered (Quotes tab)",
    "payment": "is a receipt for a payment, and there is none to fill it from: it is sent "
               "when a payment is recorded",
    "credit": "is about credit added, and there is none to fill it from: it is sent when "
              "credit is added (Manage credits)",
    "statement": "is about an account statement, and there is none to fill it from: send it "
                 "from Account statement… → Email statement…",
}


def check_filled(subject: str, body: str, context: Mapping[str, Any]) -> None:
    """InvalidInput naming the part (invoice, quote, payment, credit,
    statement, service) the text uses but the context does not hold."""
    used = templates.names_used(subject or "", body or "")
    for name, why in _ABOUT.items():
        if name in used and not context.get(name):
            raise InvalidInput(name, f"the message {why}")


def queue_message(client_id: int, *, subject: str, body: str, template: str = "",
                  cc_category: str = "general", attachments: Sequence[Attachment] = (),
                  event_key: str | None = None, invoice_id: int | None = None,
                  quote_id: int | None = None, extra: Mapping[str, Any] | None = None,
                  to: str | None = None, save_as: str = "", language: str = "en") -> int:
    """Queue a message typed in the Send email window (E2). Its text may
    use the same placeholders as a template; a refused template raises
    InvalidInput naming 'subject' or 'body' and queues nothing. ``save_as``
    also keeps it as a custom template of that name (in ``language``), in
    the same transaction: both are written, or neither."""
    if cc_category not in EMAIL_CATEGORIES:
        raise InvalidInput("cc_category", f"must be one of {', '.join(EMAIL_CATEGORIES)}")
    if not (subject or "").strip():
        raise InvalidInput("subject", "is required")
    if len(subject) > templates.MAX_SUBJECT:
        raise InvalidInput("subject", f"must be {templates.MAX_SUBJECT} characters or fewer")
    if len(body or "") > templates.MAX_BODY:
        raise InvalidInput("body", f"must be {templates.MAX_BODY} characters or fewer")
    attachments = _check_attachments(attachments)
    templates.check(subject, body or "")
    clients.check_writable(client_id)  # NotFound for an unknown client, Conflict when archived
    if _off():
        return 0
    with database.atomic():
        if save_as:
            templates.save_template(save_as, language=language, subject=subject, body=body,
                                    kind="custom", category=cc_category)
            template = save_as
        if _event_taken(event_key):
            raise InvalidInput("event_key", f"{event_key!r} was queued already")
        client = _read_clients([client_id], (template or "").strip() or None).get(client_id)
        if client is None:
            raise NotFound("client_id", f"no client #{client_id}")
        company_raw, domain = _company()
        ctx = _context(client, company_raw, invoice_id=invoice_id, quote_id=quote_id, extra=extra)
        check_filled(subject, body or "", ctx)
        rendered = templates.render_text(subject, body or "", ctx, category=cc_category)
        msg = _Message(client.id, (template or "").strip(), event_key, to or client.email,
                       client.cc_for(cc_category), rendered.subject, rendered.body,
                       attachments=attachments)
        return _write([msg], domain)[0]


def queue_invoice_created_many(invoice_ids: Sequence[int]) -> int:
    """The bulk path of the billing run: queue 'invoice_created' for many
    invoices at once — the same messages queue_template gives one by one
    (event key ``invoice_created:invoice:ID``). Returns how many were
    queued; invoices queued before are skipped."""
    return queue_invoice_emails_many("invoice_created", invoice_ids)


def queue_invoice_emails_many(name: str, invoice_ids: Sequence[int]) -> int:
    """Queue template ``name`` (invoice_created, payment_reminder,
    overdue_1/2/3…) for many invoices at once, each to its own client with
    the invoice PDF attached (invoice templates), event key
    ``{name}:invoice:{id}`` — what queue_template gives one by one, read a
    few queries per batch and written with executemany. Invoices whose key
    exists are skipped, as are clients for whom the template is disabled.
    Returns how many were queued."""
    if _off() or not invoice_ids:
        return 0
    ids = list(dict.fromkeys(invoice_ids))
    queued = 0
    today = now().date()
    with database.atomic():
        company_raw, domain = _company()
        infos: dict[str, templates.TemplateInfo] = {}
        for start in range(0, len(ids), _BATCH):
            part = _untaken(name, ids[start:start + _BATCH])
            if part:
                made = _invoice_messages(name, part, company_raw, today, infos)
                queued += len(_write([m for m in made.values() if m is not None], domain))
    return queued


def _untaken(name: str, invoice_ids: Sequence[int]) -> list[int]:
    """Those of the invoices with no ``{name}:invoice:{id}`` message yet."""
    keys = {f"{name}:invoice:{i}": i for i in invoice_ids}
    taken = {row[0] for row in database.connection().execute(
        "SELECT event_key FROM email WHERE event_key IN (SELECT value FROM json_each(?))",
        (json.dumps(list(keys)),))}
    return [i for key, i in keys.items() if key not in taken]


def _invoice_messages(name: str, invoice_ids: Sequence[int], company_raw: str, today: dt.date,
                      infos: dict[str, templates.TemplateInfo]) -> dict[int, _Message | None]:
    """Template ``name`` rendered for each invoice (None: disabled in its
    client's language; an invoice that is gone is left out)."""
    rows, lines = _read_invoices(invoice_ids)
    clients = _read_clients([row[1] for row in rows.values()], name)
    out: dict[int, _Message | None] = {}
    bases: dict[int, dict[str, Any]] = {}
    overdue: dict[Any, str] = {}  # days overdue by due date (few distinct)
    for invoice_id in invoice_ids:
        row = rows.get(invoice_id)
        if row is None:
            continue
        client = clients[row[1]]
        info = infos.get(client.language)
        if info is None:
            info = infos[client.language] = templates.lookup(name, client.language)
        if info.disabled:
            out[invoice_id] = None
            continue
        base = bases.get(client.id)
        if base is None:
            base = bases[client.id] = _base_context(client, company_raw, today)
        ctx = dict(base)
        ctx["invoice"] = _invoice_context(row, lines[invoice_id], client.fmt)
        days = overdue.get(row[6])
        if days is None:
            days = overdue[row[6]] = _days_overdue(row[6], today)
        ctx["days_overdue"] = days
        files = ([Attachment(invoice_filename(row[2], invoice_id), "invoice", invoice_id)]
                 if info.kind in INVOICE_PDF_KINDS else [])
        out[invoice_id] = _render(info, ctx, client, f"{name}:invoice:{invoice_id}", None, files)
    return out


def queue_invoice_emails_pending(name: str, invoices: Sequence[tuple[int, int, str]]) -> int:
    """The billing run's path, (invoice id, client id, number) each: the
    messages are written now, in the event's transaction (queued once per
    event, never lost), but their text is written by ``render_pending``
    — ``automation.write_emails`` at a cron run's end, delivery
    before it sends — so that generating ten thousand invoices is not held
    up by rendering ten thousand emails. Returns how many were queued."""
    if _off() or not invoices:
        return 0
    by_id = {invoice_id: client_id for invoice_id, client_id, _number in invoices}
    with database.atomic():
        part = _untaken(name, list(by_id))
        domain = _company()[1]
        if not part:
            return 0
        # what _write writes for _Message(client, name, key, "", "", "", "",
        # pending=True), without a message object each (render_pending adds the PDF)
        conn = database.connection()
        first = _next_email_id(conn)
        stamp = now()
        text = stamp.isoformat(sep=" ")
        made = f"{stamp:%Y%m%d%H%M%S}@{domain}>"
        conn.executemany(_INSERT_EMAIL, [
            (first + n, by_id[i], name, f"{name}:invoice:{i}", f"<billdesk.{first + n}.{made}",
             "", "", "", "", "Queued", text, "", text, 1) for n, i in enumerate(part)])
        return len(part)


_WITHHOLD = ("UPDATE email SET status = 'Failed', error = ?, next_attempt = NULL "
             "WHERE client_id = (SELECT client_id FROM invoice WHERE id = ?) "
             "AND status = 'Queued' AND event_key LIKE ?")  # (the client's, by email_client)
CHASERS = ("payment_reminder", "overdue_1", "overdue_2", "overdue_3")  # they ask to be paid


def withhold_invoice_emails(invoice_id: int, why: str) -> int:
    """The invoice's messages not handed to the server yet (Queued; those
    'Sending' are in a delivery's hands) are not sent: Failed, with ``why``
    as their error, in the caller's transaction — shown in the Email log,
    where Resend can still send one. Returns how many."""
    return database.execute_sql(
        _WITHHOLD, (why, invoice_id, f"%:invoice:{int(invoice_id)}")).rowcount


def withhold_chasers(paid: Sequence[tuple[int, str]]) -> None:
    """Paid invoices — (id, label) each — are chased no more: their payment
    reminders and overdue notices still waiting are not sent (Failed, "Not
    sent: invoice X was paid"), in the caller's transaction. Each message
    is found by its event key (unique, indexed): the run pays hundreds."""
    database.connection().executemany(
        "UPDATE email SET status = 'Failed', error = ?, next_attempt = NULL "
        "WHERE event_key = ? AND status = 'Queued'",
        [(f"{outbox.HELD_BACK}invoice {label} was paid", f"{name}:invoice:{int(invoice_id)}")
         for invoice_id, label in paid for name in CHASERS])


# Chasers gone stale before they could go (a catch-up of several days, a mail
# server down for days): a reminder that an invoice "is due on" a day now
# past, and an overdue notice a later notice about the same invoice follows.
_STALE_REMINDERS = f"""
UPDATE email SET status = 'Failed', next_attempt = NULL,
       error = '{outbox.HELD_BACK}the invoice fell due before it could go '
               || '(the overdue notices follow)'
 WHERE status = 'Queued' AND pending = 0 AND template = 'payment_reminder'
   AND event_key LIKE 'payment_reminder:invoice:%'
   AND (SELECT due_date FROM invoice WHERE id = CAST(substr(email.event_key, 26) AS INTEGER)) < ?
"""
_STACKED_NOTICES = f"""
UPDATE email SET status = 'Failed', next_attempt = NULL,
       error = '{outbox.HELD_BACK}a later notice about the invoice goes instead'
 WHERE status = 'Queued' AND pending = 0 AND template IN ('overdue_1', 'overdue_2')
   AND event_key LIKE 'overdue__:invoice:%'
   AND EXISTS (SELECT 1 FROM email later
                WHERE later.event_key IN ('overdue_3' || substr(email.event_key, 10),
                                          CASE WHEN email.template = 'overdue_1'
                                               THEN 'overdue_2' || substr(email.event_key, 10) END)
                  AND later.status IN ('Queued', 'Sending', 'Sent'))
"""


def withhold_stale(today: dt.date) -> int:
    """Payment reminders whose invoice fell due before ``today``, and
    overdue notices a later one about the same invoice follows, still
    waiting, are not sent (Failed, with why; Resend can still send one).
    WHMCS sends them the moment they are made, so never sends these.
    Returns how many."""
    with database.atomic():
        stale = database.execute_sql(_STALE_REMINDERS, (today.isoformat(),)).rowcount
        return stale + database.execute_sql(_STACKED_NOTICES).rowcount


def pending_count() -> int:
    return database.execute_sql("SELECT count(*) FROM email WHERE pending = 1").fetchone()[0]


def render_pending(limit: int | None = None, *, only: Sequence[int] | None = None) -> int:
    """Write the text of the messages queued pending (``queue_invoice_
    emails_pending``), the oldest first (``only``: just these), as of now
    (``models.now``), a batch per transaction: recipients, subject and
    body, as queue_template would have. A template disabled meanwhile
    removes its message; an invoice gone meanwhile fails it; one held back
    meanwhile (its invoice cancelled, say) or marked sent by a restore gets
    its text and keeps its state. Returns how many were written."""
    done = 0
    among = "" if only is None else " AND id IN (SELECT value FROM json_each(?))"
    chosen = () if only is None else (json.dumps([int(i) for i in only]),)
    today = now().date()
    company_raw = _company()[0]
    infos: dict[str, dict[str, templates.TemplateInfo]] = {}
    while limit is None or done < limit:
        size = _BATCH if limit is None else min(_BATCH, limit - done)
        with database.atomic():
            conn = database.connection()
            rows = conn.execute("SELECT id, template, event_key, status FROM email "
                                f"WHERE pending = 1{among} ORDER BY id LIMIT ?",
                                (*chosen, size)).fetchall()
            if not rows:
                break
            wanted: dict[str, list[tuple[int, int]]] = {}
            queued = set()  # still Queued as written: the text alone is set
            for email_id, name, key, status in rows:
                wanted.setdefault(name, []).append((email_id, int(key.rpartition(":")[2])))
                if status == "Queued":
                    queued.add(email_id)
            updates, texts, held, removed, files = [], [], [], [], []
            for name, pairs in wanted.items():
                made = _invoice_messages(name, [i for _e, i in pairs], company_raw, today,
                                         infos.setdefault(name, {}))
                for email_id, invoice_id in pairs:
                    if invoice_id not in made and email_id not in queued:
                        held.append(("", "", f"({name}: invoice #{invoice_id} is gone)", "",
                                     email_id))
                        continue
                    if invoice_id not in made:
                        updates.append(("", "", f"({name}: invoice #{invoice_id} is gone)", "",
                                        "Failed", f"invoice #{invoice_id} no longer exists", 0,
                                        email_id))
                        continue
                    msg = made[invoice_id]
                    if msg is None:
                        removed.append((email_id,))
                        continue
                    if email_id not in queued:  # (held back meanwhile, or sent: it stays so)
                        held.append((msg.to_addr, msg.cc, msg.subject, msg.body, email_id))
                    elif msg.status == "Queued":
                        # (status and next_attempt unchanged: the outbox index is left alone)
                        texts.append((msg.to_addr, msg.cc, msg.subject, msg.body, msg.error,
                                      email_id))
                    else:
                        updates.append((msg.to_addr, msg.cc, msg.subject, msg.body, msg.status,
                                        msg.error, int(msg.status == "Queued"), email_id))
                    files += [(email_id, pos, a.filename, a.kind, a.ref_id, a.content)
                              for pos, a in enumerate(msg.attachments, 1)]
            conn.executemany(  # a Failed one (its template broke) waits for nothing
                "UPDATE email SET to_addr = ?, cc = ?, subject = ?, body = ?, status = ?, error = ?, "
                "next_attempt = CASE WHEN ? THEN next_attempt END, pending = 0 WHERE id = ?",
                updates)
            conn.executemany("UPDATE email SET to_addr = ?, cc = ?, subject = ?, body = ?, "
                             "error = ?, pending = 0 WHERE id = ?", texts)
            conn.executemany("UPDATE email SET to_addr = ?, cc = ?, subject = ?, body = ?, "
                             "pending = 0 WHERE id = ?", held)
            conn.executemany("DELETE FROM email WHERE id = ?", removed)
            conn.executemany("INSERT INTO email_attachment (email_id, position, filename, kind, "
                             "ref_id, content) VALUES (?,?,?,?,?,?)", files)
        done += len(rows)
    return done


# --- the events (E1 "when each is queued"): called inside each event's
# transaction by the service that makes the event

def invoice_created(invoice_id: int, client_id: int) -> int | None:
    """A published invoice (by hand; the run uses queue_invoice_created_many)."""
    return queue_template("invoice_created", client_id, invoice_id=invoice_id,
                          event_key=f"invoice_created:invoice:{invoice_id}")


def welcome(client_id: int) -> int | None:
    """A client added with "send the welcome email" on (C1)."""
    return queue_template("welcome", client_id, event_key=f"welcome:client:{client_id}")


def payment_confirmation(transaction_id: int) -> int | None:
    """A payment recorded on an invoice: the receipt, with the invoice PDF."""
    row = database.execute_sql(
        "SELECT t.client_id, t.invoice_id, t.amount_in, t.currency, t.date, t.method, "
        "t.reference, c.language FROM txn t JOIN client c ON c.id = t.client_id WHERE t.id = ?",
        (transaction_id,)).fetchone()
    if row is None:
        raise NotFound("transaction", f"no transaction #{transaction_id}")
    client_id, invoice_id, amount, currency, date, method, reference, language = row
    fmt = _format(currency, language or templates.FALLBACK_LANGUAGE)
    payment = {"id": str(transaction_id), "amount": fmt.money(amount), "date": fmt.date(date),
               "method": method or "", "reference": reference or ""}
    return queue_template("payment_confirmation", client_id, invoice_id=invoice_id,
                          event_key=f"payment_confirmation:txn:{transaction_id}",
                          extra={"payment": payment})


def credit_added(entry_id: int) -> int | None:
    """Credit added by hand, when the owner asked to tell the client."""
    row = database.execute_sql(
        "SELECT e.client_id, e.amount, e.description, c.credit_balance, c.currency, c.language "
        "FROM credit_entry e JOIN client c ON c.id = e.client_id WHERE e.id = ?",
        (entry_id,)).fetchone()
    if row is None:
        raise NotFound("entry", f"no credit entry #{entry_id}")
    client_id, amount, description, balance, currency, language = row
    fmt = _format(currency, language or templates.FALLBACK_LANGUAGE)
    return queue_template("credit_added", client_id, event_key=f"credit_added:credit:{entry_id}",
                          extra={"credit": {"amount": fmt.money(amount),
                                            "description": description or "",
                                            "balance": fmt.money(balance)}})


def quote_delivered(quote_id: int, client_id: int) -> int | None:
    """A quote whose stage became Delivered: the quote with its PDF. Each
    delivery is an event of its own (a quote delivered again, after a
    change, is sent again): the key counts them."""
    sent = database.execute_sql(
        "SELECT count(*) FROM email WHERE event_key LIKE ?",
        (f"quote_delivered:quote:{quote_id}:%",)).fetchone()[0]
    return queue_template("quote_delivered", client_id, quote_id=quote_id,
                          event_key=f"quote_delivered:quote:{quote_id}:{sent + 1}")


# --- reading the log (E4) -------------------------------------------------------

_EMAIL_COLUMNS = ("id, client_id, template, event_key, message_id, to_addr, cc, subject, body, "
                  "status, attempts, next_attempt, error, created_at, sent_at, pending")


def _stamp(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _email_row(row: tuple, attachments: list[AttachmentRow]) -> EmailRow:
    (eid, client_id, template, event_key, mid, to_addr, cc, subject, body, status, attempts,
     next_attempt, error, created_at, sent_at, pending) = row
    if pending:  # queued by a bulk run; render_pending writes it before delivery
        subject = f"({templates.KIND_LABELS.get(template, template)}: written before it is sent)"
    return EmailRow(eid, client_id, template, event_key, mid, to_addr, cc, subject, body, status,
                    attempts, _stamp(next_attempt), error,
                    _stamp(created_at),  # type: ignore[arg-type]
                    _stamp(sent_at), attachments, bool(pending))


def _attachments(email_ids: Sequence[int], *, content: bool) -> dict[int, list[AttachmentRow]]:
    found: dict[int, list[AttachmentRow]] = {}
    if not email_ids:
        return found
    data = "content" if content else "NULL"
    for aid, eid, pos, filename, kind, ref_id, size, blob in database.execute_sql(
            f"SELECT id, email_id, position, filename, kind, ref_id, length(content), {data} "
            "FROM email_attachment WHERE email_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY email_id, position, id", (json.dumps(list(email_ids)),)):
        found.setdefault(eid, []).append(AttachmentRow(aid, pos, filename, kind, ref_id, size,
                                                       bytes(blob) if blob is not None else None))
    return found


def emails(client_id: int, limit: int | None = None) -> list[EmailRow]:
    """A client's emails, newest first, with their attachments' names."""
    sql = f"SELECT {_EMAIL_COLUMNS} FROM email WHERE client_id = ? ORDER BY id DESC"
    params: list[Any] = [client_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = database.execute_sql(sql, params).fetchall()
    files = _attachments([r[0] for r in rows], content=False)
    return [_email_row(r, files.get(r[0], [])) for r in rows]


def recent(client_id: int, n: int = 5) -> list[EmailRow]:
    """The last ``n`` emails of a client (the Summary tab, C4)."""
    return emails(client_id, limit=n)


def get_email(email_id: int) -> EmailRow:
    row = database.execute_sql(f"SELECT {_EMAIL_COLUMNS} FROM email WHERE id = ?",
                               (email_id,)).fetchone()
    if row is None:
        raise NotFound("email", f"no email #{email_id}")
    return _email_row(row, _attachments([email_id], content=True).get(email_id, []))


def count(client_id: int | None = None) -> int:
    if client_id is None:
        return database.execute_sql("SELECT count(*) FROM email").fetchone()[0]
    return database.execute_sql("SELECT count(*) FROM email WHERE client_id = ?",
                                (client_id,)).fetchone()[0]


# --- every client's emails: the Email log window (E3, E4) ------------------------

# What the log shows: the messages waiting in the outbox (to be sent, or
# being sent), those that failed, those sent, or all — each read newest
# first from an index where most of the log is not what it shows (the
# statuses written out, so that the partial indexes apply).
LOG_SHOWS = {"waiting": ("email_outbox", "status IN ('Queued', 'Sending')"),
             "failed": ("email_failed", "status = 'Failed'"),
             "sent": (None, "status = 'Sent'"),
             "all": (None, None)}
_LOG_COLUMNS = _EMAIL_COLUMNS.replace("body", "'' AS body")  # the list needs no bodies


def log(*, show: str = "all", before: int | None = None, limit: int = 500) -> list[EmailRow]:
    """Every client's emails, newest first, a page at a time, without
    their bodies or attachments (``get_email`` reads one whole): ``show``
    one of LOG_SHOWS; ``before`` an email id — the page after one that
    ended there."""
    if show not in LOG_SHOWS:
        raise InvalidInput("show", f"must be one of {', '.join(LOG_SHOWS)}")
    index, condition = LOG_SHOWS[show]
    where = [condition] if condition else []
    params: list[Any] = []
    if before is not None:
        where.append("id < ?")
        params.append(int(before))
    # the page's ids first (from the index alone where there is one), then their rows
    ids = (f"SELECT id FROM email" + (f" INDEXED BY {index}" if index else "")
           + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC LIMIT ?")
    rows = database.execute_sql(
        f"SELECT {_LOG_COLUMNS} FROM email WHERE id IN ({ids}) ORDER BY id DESC",
        [*params, max(int(limit), 1)]).fetchall()
    return [_email_row(row, []) for row in rows]


def client_names(client_ids: Sequence[int | None]) -> dict[int, str]:
    """The clients' names as the list of clients shows them (C14)."""
    from billdesk.services import settings

    ids = sorted({i for i in client_ids if i is not None})
    if not ids:
        return {}
    fmt = settings.display_format()
    return {cid: clients.display_name(first, last, company or "", fmt)
            for cid, first, last, company in database.execute_sql(
                "SELECT id, first_name, last_name, company FROM client "
                "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))}
