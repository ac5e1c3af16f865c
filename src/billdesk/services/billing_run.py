"""Billing on schedule: generate due invoices (S4), invoice selected items
(B2) and prorata invoices for moved due dates (S5).

An item (service, addon or domain) is due when its next due date falls
within the configured lead days. Its renewal line names that due date
(``invoice_line.due_date``), and a unique index on (item, due date) means
an item is never invoiced twice for one due date — not when generation
runs twice, nor when two processes run it at once: each chunk reads what
is due inside its own write transaction, which SQLite serialises. Paying
the invoice moves the item's next due date on by one cycle
(``invoicing.set_paid``).

Lines of one client that share a due date and a payment method go on one
invoice, unless the client or the client's group asks for separate
invoices. The group discount (C6) is a line of its own; items in a service
group carry the group's name (S7). New invoices take the client's credit.

Generation also bills the waiting billable items (B3, ``billable.py``) and
issues the recurring invoices whose date has come (B5, ``recurring.py``),
in the same transaction: see "billable items and recurring invoices" below.

Generation works on tuples and writes with ``executemany``: ten thousand
invoices take well under a second (``make bench``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Service, database, now
from billdesk.money import Money, minor_digits
from billdesk.services import (
    billable,
    billing_settings,
    changelog,
    credit,
    cycles,
    invoicing,
    recurring,
    taxes,
)
from billdesk.services.amounts import date_input

BILLED_STATUSES = {"service": ("Active", "Suspended"), "addon": ("Active", "Suspended"),
                   "domain": ("Active",)}
LINE_TYPE = {"service": "Hosting", "addon": "Addon", "domain": "Domain"}
CHUNK_CLIENTS = 2000  # clients per write transaction when generating for everyone

# One row per due item, with what its client's invoice needs. ``{where}``
# narrows it to one client, a range of clients or chosen items.
_ITEMS_SQL = """
SELECT s.id, s.client_id, s.kind, s.name, s.label, s.cycle, s.amount, s.taxed, s.next_due,
       s.due_day, s.payment_method, s.position, p.name,
       g.id, g.name, g.position, g.hide_on_invoice,
       EXISTS (SELECT 1 FROM invoice_line l WHERE l.link_id = s.id AND l.due_date = s.next_due)
  FROM service s
  LEFT JOIN service p ON p.id = s.parent_id
  LEFT JOIN service_group g ON g.id = s.group_id
 WHERE {where}
 ORDER BY s.client_id, s.id
"""
# The clients of those items, read once each (not once per item), by id.
_ITEM_CLIENTS_SQL = """
SELECT c.id, c.currency, c.country, c.state, c.tax_exempt, c.language, c.separate_invoices,
       c.credit_balance, cg.name, cg.discount, cg.separate_invoices
  FROM client c
  LEFT JOIN client_group cg ON cg.id = c.group_id
 WHERE c.id IN (SELECT value FROM json_each(?))
"""
_DUE_WHERE = """s.cycle NOT IN ('free', 'onetime') AND s.next_due IS NOT NULL AND s.next_due <= ?
   AND ((s.kind = 'domain' AND s.status = 'Active')
        OR (s.kind <> 'domain' AND s.status IN ('Active', 'Suspended')))"""


@dataclass(slots=True)
class _Item:
    id: int
    client_id: int
    kind: str
    name: str
    label: str
    cycle: str
    amount: int  # minor units
    taxed: bool
    next_due: dt.date
    due_day: int
    method: str
    position: int
    parent_name: str | None
    group_id: int | None
    group_name: str
    group_position: int
    group_hidden: bool
    invoiced: bool
    due_text: str | None  # next_due as stored


@dataclass(slots=True)
class _Client:
    id: int
    currency: str
    country: str
    state: str
    exempt: bool
    language: str
    separate: bool
    credit: int
    group_name: str
    discount: int  # hundredths of a percent


@dataclass(slots=True)
class _Draft:
    """An invoice about to be written: its client and renewal items."""

    client: _Client
    due: dt.date
    method: str
    items: list[_Item]


@dataclass(frozen=True, slots=True)
class RunResult:
    invoice_ids: list[int]  # every invoice made: renewals, billable items, recurring
    advanced: list[int]  # zero-amount items whose due date just moved on
    billed_items: list[int] = dataclasses.field(default_factory=list)  # a billable item per bill
    recurring_ids: list[int] = dataclasses.field(default_factory=list)  # invoices of templates
    credited: int = 0  # of the invoices made, those that took the client's credit (P4)

    def __len__(self) -> int:
        return len(self.invoice_ids)


def _read(where: str, params: Sequence[Any]) -> tuple[dict[int, _Client], list[_Item]]:
    rows = database.execute_sql(_ITEMS_SQL.format(where=where), params).fetchall()
    if not rows:
        return {}, []
    clients = {
        cid: _Client(cid, cur, country, state, bool(exempt), language, bool(c_sep or cg_sep),
                     credit, cgname or "", discount or 0)
        for cid, cur, country, state, exempt, language, c_sep, credit, cgname, discount, cg_sep
        in database.execute_sql(_ITEM_CLIENTS_SQL, (json.dumps(sorted({row[1] for row in rows})),)
                                ).fetchall()}
    date = lru_cache(maxsize=4096)(dt.date.fromisoformat)  # few distinct due dates
    items = [_Item(sid, cid, kind, name, label, cycle, amount, bool(taxed),
                   date(due) if due else None, due_day, method, position, parent, gid,
                   gname or "", gpos or 0, bool(ghide), bool(invoiced), due)
             for (sid, cid, kind, name, label, cycle, amount, taxed, due, due_day, method,
                  position, parent, gid, gname, gpos, ghide, invoiced) in rows]
    return clients, items


# --- what a line says

@lru_cache(maxsize=4096)
def date_text(value: dt.date, language: str) -> str:
    from babel.dates import format_date

    try:
        return format_date(value, format="medium", locale=(language or "en").replace("-", "_"))
    except Exception:  # an unknown language: fall back to English
        return format_date(value, format="medium", locale="en")


def describe(kind: str, name: str, label: str, parent: str | None, cycle: str,
             start: dt.date, end: dt.date, language: str) -> str:
    """"Web Hosting - example.com (1 Jan 2026 - 31 Jan 2026)"."""
    span = f"({date_text(start, language)} - {date_text(end, language)})"
    if kind == "domain":
        years = cycles.CYCLE_MONTHS.get(cycle, 12) // 12
        return f"Domain renewal - {name} - {years} year{'s' if years != 1 else ''} {span}"
    if kind == "addon":
        return f"Addon {name}" + (f" ({parent})" if parent else "") + f" {span}"
    return f"{name} - {label} {span}" if label else f"{name} {span}"


# Line texts repeat (a product's name, its cycle, a due date shared by many
# clients): the bulk writer makes each once.
_describe = lru_cache(maxsize=16384)(describe)


def _sort_key(item: _Item) -> tuple:
    """Ungrouped items first, then each service group in its order."""
    return (item.group_id is not None, item.group_position, item.group_id or 0, item.position,
            item.id)


def group_discounts(currency: str, group_name: str, rate: Decimal,
                    bases: dict[bool, Decimal]) -> list[tuple[str, Decimal, bool]]:
    """The client group's discount (C6) of ``rate`` percent on these sums
    per tax treatment (taxed or not): (description, negative amount,
    taxed), rounded half-up — for generated invoices and orders alike."""
    out = []
    for taxed in (True, False):
        off = Money(bases.get(taxed, Decimal(0)) * rate / 100, currency) if rate else None
        if off:
            out.append((f"Client group discount ({group_name} {rate.normalize():f}%)",
                        (-off).amount, taxed))
    return out


def _discounts(client: _Client, bases: dict[bool, Decimal]) -> list[tuple[str, Decimal, bool]]:
    return group_discounts(client.currency, client.group_name,
                           Decimal(client.discount).scaleb(-2), bases)


def _discount_lines(client: _Client, lines: list[invoicing.LineInput]) -> list[invoicing.LineInput]:
    bases = {taxed: sum((Decimal(line.amount) for line in lines if line.taxed == taxed), Decimal(0))
             for taxed in (True, False)}
    return [invoicing.LineInput(text, amount, taxed, "GroupDiscount")
            for text, amount, taxed in _discounts(client, bases)]


@lru_cache(maxsize=65536)
def _period(due: dt.date, cycle: str, due_day: int) -> tuple[dt.date, dt.date]:
    return cycles.period(due, cycle, due_day)


class _Out(NamedTuple):
    """An invoice for the bulk writer: dates as text; ``date`` None is the
    generation day; a recurring template's issue names it and its date."""

    client: _Client
    due: str
    method: str
    rows: list
    date: str | None = None
    recurring_id: int | None = None
    recurring_date: str | None = None


class _Row(NamedTuple):
    """A line ready for the bulk writer: the amount in minor units, the due
    date it renews as text."""

    description: str
    units: int
    taxed: bool
    type: str
    link_id: int | None
    due: str | None
    group: str


def _renewal_lines(client: _Client, items: list[_Item]) -> list[_Row]:
    rows = []
    for item in (sorted(items, key=_sort_key) if len(items) > 1 else items):
        start, end = _period(item.next_due, item.cycle, item.due_day)
        rows.append(_Row(
            _describe(item.kind, item.name, item.label, item.parent_name, item.cycle, start, end,
                      client.language),
            item.amount, item.taxed, LINE_TYPE[item.kind], item.id, item.due_text,
            "" if item.group_hidden else item.group_name))
    if client.discount:
        digits = minor_digits(client.currency)
        bases = {taxed: Decimal(sum(r.units for r in rows if r.taxed == taxed)).scaleb(-digits)
                 for taxed in (True, False)}
        rows += [_Row(text, int(amount.scaleb(digits)), taxed, "GroupDiscount", None, None, "")
                 for text, amount, taxed in _discounts(client, bases)]
    return rows


def _group(clients: dict[int, _Client], items: Iterable[_Item], *,
           separate_ok: bool = True) -> list[_Draft]:
    """One invoice per client, due date and payment method; one per item
    when the client or its group asks for separate invoices."""
    drafts: dict[tuple, _Draft] = {}
    for item in items:
        client = clients[item.client_id]
        key: tuple = (item.client_id, item.next_due, item.method)
        if separate_ok and client.separate:
            key += (item.id,)
        draft = drafts.get(key)
        if draft is None:
            drafts[key] = _Draft(client, item.next_due, item.method, [item])
        else:
            draft.items.append(item)
    return list(drafts.values())


# --- writing invoices in bulk

class _Writer:
    """Writes many invoices at once inside the caller's transaction:
    ids and numbers are handed out here (the write lock is held), rows go
    in with executemany."""

    def __init__(self, today: dt.date, actor: str | None) -> None:
        self.today = today
        self.actor = actor or changelog.current_actor()
        self.settings = billing_settings.billing()
        self._rates: dict[tuple, taxes.TaxRates] = {}
        self._methods: frozenset[str] | None = None
        self.credited = 0  # invoices written that took the client's credit

    def methods(self) -> frozenset[str]:
        """The payment methods in Settings (a client's method outside them is none)."""
        if self._methods is None:
            self._methods = frozenset(billing_settings.payment_methods())
        return self._methods

    def rates(self, client: _Client) -> tuple[taxes.TaxRates, tuple]:
        """The client's tax rates, and their columns as the invoice stores them."""
        key = (client.country, client.state, client.exempt)
        found = self._rates.get(key)
        if found is None:
            r = invoicing.rates_for_address(*key, self.settings)
            found = self._rates[key] = (r, (r.name1, str(r.rate1), r.name2, str(r.rate2),
                                            int(r.compound), int(r.inclusive)))
        return found

    def write(self, drafts: list[_Out]) -> list[int]:
        """Drafts are (client, due date as text, payment method, rows[, date,
        recurring id, recurring date])."""
        if not drafts:
            return []
        if not database.in_transaction():
            raise RuntimeError("generated invoices are written inside a transaction")
        conn = database.connection()
        first_id = (conn.execute("SELECT max(id) FROM invoice").fetchone()[0] or 0) + 1
        numbers = self._numbers(conn, len(drafts))
        stamp = now().isoformat(sep=" ")
        today = self.today.isoformat()
        invoices, lines, logs, settled = [], [], [], []
        # totals and their text repeat (few distinct prices): each computed once
        sums_of: dict[tuple, tuple[int, int, int, int]] = {}
        texts: dict[tuple[int, str], str] = {}
        for n, (client, due, method, rows, date, recurring_id, recurring_date) in enumerate(drafts):
            invoice_id = first_id + n
            cur = client.currency
            rates, rate_columns = self.rates(client)
            line_sum = sum(row.units for row in rows)
            taxed_sum = sum(row.units for row in rows if row.taxed) if rates.any else 0
            key = (line_sum, taxed_sum, rate_columns)
            sums = sums_of.get(key)
            if sums is None:
                sums = sums_of[key] = taxes.compute_units(line_sum, taxed_sum, rates)
            total = sums[3]
            if not total:
                settled.append((invoice_id, dt.date.fromisoformat(date or today)))
            invoices.append((invoice_id, client.id, numbers[n], "standard", "Unpaid",
                             date or today, due, None, cur, method, *rate_columns, *sums, stamp,
                             stamp, recurring_id, recurring_date))
            lines += [(invoice_id, pos, *row) for pos, row in enumerate(rows, 1)]
            total_text = texts.get((total, cur))
            if total_text is None:
                total_text = texts[total, cur] = f"{Decimal(total).scaleb(-minor_digits(cur))} {cur}"
            logs.append((client.id, stamp, self.actor,
                         f"Invoice #{numbers[n]} generated: total {total_text}, due {due}"
                         + (f" (recurring invoice #{recurring_id})" if recurring_id else "")))
        conn.executemany(
            "INSERT INTO invoice (id, client_id, number, kind, status, date, due_date, paid_date, "
            "currency, payment_method, tax1_name, tax1_rate, tax2_name, tax2_rate, tax_compound, "
            "tax_inclusive, subtotal, tax1, tax2, total, created_at, updated_at, recurring_id, "
            "recurring_date) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", invoices)
        conn.executemany(
            "INSERT INTO invoice_line (invoice_id, position, description, amount, taxed, type, "
            "link_id, due_date, group_name) VALUES (?,?,?,?,?,?,?,?,?)", lines)
        conn.executemany("INSERT INTO client_log (client_id, at, actor, message) VALUES (?,?,?,?)",
                         logs)
        # nothing to pay (a 100 % discount): Paid, the one way
        invoicing.set_paid_many(settled, self.actor)
        ids = [first_id + n for n in range(len(drafts))]
        self._take_credit(conn, [(invoice_id, numbers[n], draft[0], invoices[n][19])
                                 for n, (invoice_id, draft) in enumerate(zip(ids, drafts, strict=True))
                                 if draft[0].credit > 0 and invoices[n][19] > 0], stamp)
        # E1: the invoice_created emails of those left to pay, in this transaction
        from billdesk.services import mail

        # (their text is written by mail.render_pending: generate_due does it
        # for one client, the daily run leaves it to delivery's first step)
        mail.queue_invoice_emails_pending("invoice_created", [tuple(row) for row in conn.execute(
            "SELECT id, client_id, number FROM invoice WHERE id BETWEEN ? AND ? "
            "AND status = 'Unpaid' ORDER BY id", (ids[0], ids[-1]))])
        return ids

    def _take_credit(self, conn: Any, owing: list[tuple[int, str, _Client, int]],
                     stamp: str) -> None:
        """New invoices take the client's credit (P4), in order, in bulk:
        the ledger entries (``credit.post_many``), the invoice's credit and
        the log move together; an invoice covered in full is Paid
        (``set_paid``, the one way: its renewals move on). Same entries and
        messages as ``apply_credit``."""
        entries, invoices, logs, paid = [], [], [], []
        for invoice_id, number, client, total in owing:
            take = min(client.credit, total)
            if take <= 0:
                continue
            client.credit -= take  # the snapshot follows: the next invoice sees what is left
            covered = take == total
            entry, message = invoicing.credit_texts(f"#{number}",
                                                    Money.from_minor(take, client.currency),
                                                    covered)
            entries.append((client.id, -take, "applied", entry, invoice_id))
            invoices.append((take, stamp, invoice_id))
            logs.append((client.id, stamp, self.actor, message))
            if covered:
                paid.append(invoice_id)
        if not entries:
            return
        credit.post_many(entries, self.today)
        self.credited += len(entries)
        conn.executemany("UPDATE invoice SET credit = credit + ?, updated_at = ? WHERE id = ?",
                         invoices)
        conn.executemany("INSERT INTO client_log (client_id, at, actor, message) VALUES (?,?,?,?)",
                         logs)
        invoicing.set_paid_many([(invoice_id, self.today) for invoice_id in paid], self.actor)

    def _numbers(self, conn: Any, count: int) -> list[str]:
        """``count`` numbers from the gap-free sequence, skipping any that a
        hand-typed number or a restarted sequence already used."""
        template = self.settings.number_format
        seq = billing_settings.next_number()
        number = _number_maker(template, self.today)
        out: list[str] = []
        while len(out) < count:
            want = count - len(out)
            batch = [number(seq + i) for i in range(want)]
            seq += want
            # one range read on the unique index (a superset when the width
            # grows), kept to the batch: not one IN (...) query per 500
            wanted = set(batch)
            used = {row[0] for row in conn.execute(
                "SELECT number FROM invoice WHERE number BETWEEN ? AND ?",
                (min(batch), max(batch))) if row[0] in wanted}
            out += [number for number in batch if number not in used]
        conn.execute("UPDATE number_sequence SET next_value = ? WHERE name = 'invoice'", (seq,))
        return out


def _number_maker(template: str, when: dt.date) -> Callable[[int], str]:
    """format_number for one day, as prefix + zero-padded seq + suffix
    (what the template gives for a marker seq shows where the seq goes)."""
    marker = 918273645546372819
    parts = billing_settings.format_number(template, marker, when).split(str(marker))
    width = max((int(m.group(2) or 0) for m in billing_settings._PLACEHOLDER.finditer(template)
                 if m.group(1) == "seq"), default=0)
    if len(parts) != 2:  # seq twice: the plain way
        return lambda seq: billing_settings.format_number(template, seq, when)
    head, tail = parts
    return lambda seq: f"{head}{str(seq).zfill(width)}{tail}"


def _advance_free(items: list[_Item], actor: str | None, until: dt.date | None) -> list[int]:
    """Items that cost nothing get no invoice: their due date just moves on
    — past ``until`` (the lead-days horizon) in one go, so running again
    for the same day changes nothing; one cycle when ``until`` is None."""
    stamp = now().isoformat(sep=" ")
    updates, logs = [], []
    for item in items:
        new_due = cycles.next_due(item.next_due, item.cycle, item.due_day)
        while until is not None and new_due <= until:
            new_due = cycles.next_due(new_due, item.cycle, item.due_day)
        updates.append((new_due.isoformat(), stamp, item.id, item.next_due.isoformat()))
        logs.append((item.client_id, stamp, actor or changelog.current_actor(),
                     "Nothing to invoice (amount 0)", f"{item.name} (#{item.id}) next due date",
                     item.next_due.isoformat(), new_due.isoformat()))
    if updates:
        conn = database.connection()
        conn.executemany("UPDATE service SET next_due = ?, updated_at = ? "
                         "WHERE id = ? AND next_due = ?", updates)
        conn.executemany("INSERT INTO client_log (client_id, at, actor, message, field, "
                         "old_value, new_value) VALUES (?,?,?,?,?,?,?)", logs)
    return [item.id for item in items]


def _bill(clients: dict[int, _Client], items: list[_Item], writer: _Writer, *,
          separate_ok: bool = True, until: dt.date | None = None,
          extras: _Extras | None = None) -> RunResult:
    free = [item for item in items if not item.amount]
    billed = [item for item in items if item.amount]
    drafts = [_Out(d.client, d.due.isoformat(), d.method, _renewal_lines(d.client, d.items))
              for d in _group(clients, billed, separate_ok=separate_ok)]
    plan = extras.plan(drafts, clients, writer) if extras else None
    ids = writer.write(drafts)
    advanced = _advance_free(free, writer.actor, until)
    if plan is None:
        return RunResult(ids, advanced)
    billed_items, recurring_ids = plan.record(ids, writer)
    return RunResult(ids, advanced, billed_items, recurring_ids)


# --- billable items (B3) and recurring invoices (B5)
#
# Who has something waiting is found on the partial indexes
# (billable_item_waiting, recurring_invoice_next); each chunk of clients
# then reads its items and templates with one query each (on the client
# index: bounded by the chunk's own rows, where the partial index would be
# scanned whole once per chunk), inside the chunk's write transaction, and
# marks them billed in it:
# a "next" or "due" item's ``invoiced`` becomes 1, a "recur" item's due
# date moves on past every bill made, a template's next date moves on — so
# calling generation again for the same day finds nothing new.
#
# Rule for which invoice an item goes on: the client's renewal invoice of
# this run with the same due date and payment method (the client's
# method), unless the client asks for separate invoices; else an invoice
# of its own per client, due date and method. A "next" item is due on the
# generation day; a "due"/"recur" bill on its due date (the generation day
# when that has passed). Templates are issued ON their date (not ahead by
# the lead days), each as an invoice of its own.

_BILLABLE_WHERE = """b.action <> 'none' AND (
       (b.action = 'next' AND b.invoiced = 0)
    OR (b.action = 'due' AND b.invoiced = 0 AND b.due_date <= ?)
    OR (b.action = 'recur' AND b.due_date <= ? AND (b.count IS NULL OR b.invoiced < b.count)))"""
_BILLABLE_SQL = """
SELECT b.id, b.client_id, b.description, b.hours, b.rate, b.amount, b.taxed, b.action,
       b.due_date, b.every, b.unit, b.count, b.invoiced, b.due_day
  FROM billable_item b
 WHERE {waiting} AND {where}
 ORDER BY b.client_id, b.id
"""
_RECURRING_WHERE = "r.status = 'Active' AND r.next_date <= ?"
_RECURRING_SQL = """
SELECT r.id, r.client_id, r.every, r.unit, r.start_date, r.next_date, r.count, r.until,
       r.issued, r.due_days, r.payment_method
  FROM recurring_invoice r
 WHERE {waiting} AND {where}
 ORDER BY r.client_id, r.id
"""
_CLIENTS_SQL = """
SELECT c.id, c.currency, c.country, c.state, c.tax_exempt, c.language, c.separate_invoices,
       c.credit_balance, cg.name, cg.discount, cg.separate_invoices, c.payment_method
  FROM client c LEFT JOIN client_group cg ON cg.id = c.group_id
 WHERE c.id IN ({marks})
"""


@dataclass(slots=True)
class _Plan:
    """What the extras put on the drafts, to mark once ids are known."""

    bills: list[tuple[int, int, int, str | None]]  # (item id, draft index, times, new due)
    issues: list[tuple[int, int, int, str | None, str, int]]
    # (template id, first draft index, issues made, next date, status, client id)

    def record(self, ids: list[int], writer: _Writer) -> tuple[list[int], list[int]]:
        conn = database.connection()
        stamp = now().isoformat(sep=" ")
        billed: list[int] = []
        conn.executemany(
            "UPDATE billable_item SET invoiced = invoiced + ?, invoice_id = ?, "
            "due_date = coalesce(?, due_date), updated_at = ? WHERE id = ?",
            [(times, ids[index], new_due, stamp, item_id)
             for item_id, index, times, new_due in self.bills])
        for item_id, _index, times, _due in self.bills:
            billed += [item_id] * times
        recurring_ids: list[int] = []
        logs = []
        updates = []
        for rid, first, made, next_date, status, client_id in self.issues:
            recurring_ids += ids[first:first + made]
            updates.append((made, next_date, status, stamp, rid))
            if status != "Active":
                logs.append((client_id, stamp, writer.actor,
                             f"Recurring invoice #{rid} finished: its last invoice is issued"))
        conn.executemany("UPDATE recurring_invoice SET issued = issued + ?, next_date = ?, "
                         "status = ?, updated_at = ? WHERE id = ?", updates)
        conn.executemany("INSERT INTO client_log (client_id, at, actor, message) "
                         "VALUES (?,?,?,?)", logs)
        return billed, recurring_ids


class _Extras:
    """The waiting billable items and due templates of some clients, read
    under the write lock, and the client rows they need."""

    def __init__(self, day: dt.date, last: dt.date, where: str, params: Sequence[Any]) -> None:
        self.day, self.last = day, last
        iso_last = last.isoformat()
        conn = database.connection()
        self.items = conn.execute(
            _BILLABLE_SQL.format(waiting=_BILLABLE_WHERE, where=where.format(t="b")),
            (iso_last, iso_last, *params)).fetchall()
        self.templates = conn.execute(
            _RECURRING_SQL.format(waiting=_RECURRING_WHERE, where=where.format(t="r")),
            (day.isoformat(), *params)).fetchall()
        self.lines: dict[int, list[tuple]] = {}
        if self.templates:
            ids = [row[0] for row in self.templates]
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                for rid, *line in conn.execute(
                        "SELECT recurring_id, description, amount, taxed FROM recurring_line "
                        f"WHERE recurring_id IN ({','.join('?' * len(part))}) "
                        "ORDER BY recurring_id, position", part):
                    self.lines.setdefault(rid, []).append(tuple(line))

    def __bool__(self) -> bool:
        return bool(self.items or self.templates)

    def _clients(self, known: dict[int, _Client], writer: _Writer
                 ) -> tuple[dict[int, _Client], dict[int, str]]:
        wanted = sorted({row[1] for row in self.items} | {row[1] for row in self.templates})
        clients: dict[int, _Client] = {}
        methods: dict[int, str] = {}
        valid = writer.methods()
        conn = database.connection()
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            for row in conn.execute(_CLIENTS_SQL.format(marks=",".join("?" * len(part))), part):
                (cid, cur, country, state, exempt, language, c_sep, credit, cgname, discount,
                 cg_sep, method) = row
                clients[cid] = known.get(cid) or _Client(
                    cid, cur, country, state, bool(exempt), language, bool(c_sep or cg_sep), credit,
                    cgname or "", discount or 0)
                methods[cid] = method if method in valid else ""
        return clients, methods

    def plan(self, drafts: list[_Out], known: dict[int, _Client], writer: _Writer) -> _Plan:
        """Put the bills and issues on ``drafts`` (joining renewal drafts
        where the rule allows) and say what to mark once written."""
        plan = _Plan([], [])
        if not self:
            return plan
        clients, methods = self._clients(known, writer)
        joinable = {(d.client.id, d.due, d.method): n for n, d in enumerate(drafts)
                    if not d.client.separate}
        day, last = self.day, self.last

        def place(client: _Client, due: dt.date, method: str, row: _Row) -> int:
            key = (client.id, max(due, day).isoformat(), method)
            index = None if client.separate else joinable.get(key)
            if index is None:
                index = len(drafts)
                drafts.append(_Out(client, key[1], method, []))
                if not client.separate:
                    joinable[key] = index
            drafts[index].rows.append(row)
            return index

        for (item_id, cid, description, hours, rate, amount, taxed, action, due_text, every, unit,
             count, invoiced, due_day) in self.items:
            client = clients[cid]
            text = description
            if hours is not None and rate is not None:
                text += (f" ({hours} h × "
                         f"{Decimal(rate).scaleb(-minor_digits(client.currency))})")
            if action != "recur":
                due = dt.date.fromisoformat(due_text) if action == "due" else day
                index = place(client, due, methods[cid], _Row(text, amount, bool(taxed), "Item",
                                                              item_id, None, ""))
                plan.bills.append((item_id, index, 1, None))
                continue
            due = dt.date.fromisoformat(due_text)
            times = 0
            index = 0
            while due <= last and (count is None or invoiced + times < count):
                index = place(client, due, methods[cid], _Row(
                    f"{text} ({date_text(due, client.language)})", amount, bool(taxed), "Item",
                    item_id, None, ""))
                times += 1
                due = _step(due, every, unit, due_day)
            plan.bills.append((item_id, index, times, due.isoformat()))
        for (rid, cid, every, unit, start, next_text, count, until, issued, due_days,
             method) in self.templates:
            client = clients[cid]
            lines = self.lines.get(rid, [])
            start_date = dt.date.fromisoformat(start)
            until_date = dt.date.fromisoformat(until) if until else None
            first = len(drafts)
            made = 0
            date: dt.date | None = dt.date.fromisoformat(next_text)
            status = "Active"
            while date is not None and date <= day and lines:
                drafts.append(_Out(
                    client, (date + dt.timedelta(days=due_days)).isoformat(),
                    method or methods[cid], [_Row(d, a, bool(t), "", None, None, "")
                                             for d, a, t in lines],
                    date.isoformat(), rid, date.isoformat()))
                made += 1
                date, status = _template_next(start_date, every, unit, issued + made, count,
                                              until_date)
            if made:
                plan.issues.append((rid, first, made, date.isoformat() if date else None, status,
                                    cid))
        return plan


_step = billable.step
_template_next = recurring.next_state


# --- the three ways in

def horizon(today: dt.date | None = None) -> dt.date:
    """The last next-due date that is invoiced when generating on ``today``."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=billing_settings.billing().invoice_lead_days)


def next_billed(client_id: int, after: dt.date) -> tuple[dt.date, str] | None:
    """The client's soonest renewal due after ``after`` (the lead days'
    horizon: what generating would bill next, on a later day): (its due
    date, "Web hosting (#4)"); None when nothing renews."""
    row = database.execute_sql(
        "SELECT s.next_due, s.name, s.id FROM service s WHERE s.client_id = ? AND "
        + _DUE_WHERE.replace("s.next_due <= ?", "s.next_due > ?")
        + " ORDER BY s.next_due, s.id LIMIT 1", (client_id, after.isoformat())).fetchone()
    if row is None:
        return None
    due = row[0] if isinstance(row[0], dt.date) else dt.date.fromisoformat(str(row[0])[:10])
    return due, f"{row[1]} (#{row[2]})"


def _bill_again(result: RunResult, where: str, params: Sequence[Any], writer: _Writer,
                until: dt.date) -> RunResult:
    """Credit taken by a new invoice can pay it, and paying moves its
    items' due dates on by a cycle — still within the horizon for an item
    billed late. Bill those again in the same transaction, until nothing
    more is due, so that generating twice for one day makes nothing new
    (the daily run's idempotency, also across a crash between chunks)."""
    made = result
    for _ in range(120):
        if not made.invoice_ids:
            break
        # Only the items of a paid invoice moved on: the clients of those
        # are read again (their items in the same order as a read of all).
        paid = [row[0] for row in database.execute_sql(
            "SELECT DISTINCT client_id FROM invoice WHERE id BETWEEN ? AND ? AND status = 'Paid' "
            "ORDER BY 1", (min(made.invoice_ids), max(made.invoice_ids)))]
        if not paid:
            break
        clients, items = _read(where + " AND s.client_id IN (SELECT value FROM json_each(?))",
                               (*params, json.dumps(paid)))
        made = _bill(clients, [i for i in items if not i.invoiced], writer, until=until)
        result = RunResult(result.invoice_ids + made.invoice_ids, result.advanced + made.advanced,
                           result.billed_items, result.recurring_ids)
    return result


def generate_due(*, client_id: int | None = None, today: Any = None,
                 actor: str | None = None, write_emails: bool = True) -> RunResult:
    """Invoice every item due within the lead days that has no invoice for
    its due date yet, the waiting billable items (B3) and the recurring
    invoices whose date has come (B5) — for one client, or for everyone
    (the daily run). Running it again for the same date makes nothing new.

    Each new invoice's "invoice created" email is queued in its
    transaction; its text is written afterwards (``mail.render_pending``)
    unless ``write_emails`` is off — the daily run leaves it to delivery's
    first step (``automation.write_emails``)."""
    result = _generate_due(client_id, today, actor)
    if write_emails and result.invoice_ids:
        from billdesk.services import mail

        mail.render_pending()
    return result


def _generate_due(client_id: int | None, today: Any, actor: str | None) -> RunResult:
    day = date_input(today, "date") if today not in (None, "") else dt.date.today()
    until = horizon(day)  # read once: the lead days setting
    last = until.isoformat()
    writer = _Writer(day, actor)
    if client_id is not None:
        if not database.execute_sql("SELECT 1 FROM client WHERE id = ?", (client_id,)).fetchone():
            raise NotFound("client_id", f"no client #{client_id}")
        with database.atomic():
            clients, items = _read(_DUE_WHERE + " AND s.client_id = ?", (last, client_id))
            extras = _Extras(day, until, "{t}.client_id = ?", (client_id,))
            result = _bill(clients, [i for i in items if not i.invoiced], writer,
                           until=until, extras=extras)
            result = _bill_again(result, _DUE_WHERE + " AND s.client_id = ?",
                                 (last, client_id), writer, until)
            return dataclasses.replace(result, credited=writer.credited)
    # Everyone: find who has something due (a snapshot read), then bill them
    # a chunk of clients per write transaction, reading again under the lock.
    owners = [row[0] for row in database.execute_sql(
        f"SELECT s.client_id FROM service s WHERE {_DUE_WHERE} "
        f"UNION SELECT b.client_id FROM billable_item b INDEXED BY billable_item_waiting "
        f"WHERE {_BILLABLE_WHERE} UNION SELECT r.client_id FROM recurring_invoice r "
        f"INDEXED BY recurring_invoice_next WHERE {_RECURRING_WHERE} ORDER BY 1",
        (last, last, last, day.isoformat()))]
    invoice_ids: list[int] = []
    advanced: list[int] = []
    billed_items: list[int] = []
    recurring_ids: list[int] = []
    for start in range(0, len(owners), CHUNK_CLIENTS):
        part = owners[start:start + CHUNK_CLIENTS]
        with database.atomic():
            clients, items = _read(_DUE_WHERE + " AND s.client_id BETWEEN ? AND ?",
                                   (last, part[0], part[-1]))
            extras = _Extras(day, until, "{t}.client_id BETWEEN ? AND ?",
                             (part[0], part[-1]))
            result = _bill(clients, [i for i in items if not i.invoiced], writer,
                           until=until, extras=extras)
            result = _bill_again(result, _DUE_WHERE + " AND s.client_id BETWEEN ? AND ?",
                                 (last, part[0], part[-1]), writer, until)
        invoice_ids += result.invoice_ids
        advanced += result.advanced
        billed_items += result.billed_items
        recurring_ids += result.recurring_ids
    return RunResult(invoice_ids, advanced, billed_items, recurring_ids, writer.credited)


def invoice_selected(service_ids: Iterable[int], *, today: Any = None,
                     actor: str | None = None) -> RunResult:
    """Invoice chosen items for their next due date now, however far off
    (B2). Grouped by due date and payment method; the separate-invoices
    option does not apply here (as in WHMCS: split the invoice if needed).
    Refused when an item is already invoiced for its next due date, or is
    not billed in its status (``BILLED_STATUSES``: a cancelled or
    terminated item, a pending one its order bills). The invoices'
    emails are written before it returns, as ``generate_due``'s."""
    ids = sorted(set(service_ids))
    if not ids:
        raise InvalidInput("items", "choose the services, addons or domains to invoice")
    day = date_input(today, "date") if today not in (None, "") else dt.date.today()
    writer = _Writer(day, actor)
    marks = ",".join("?" * len(ids))
    with database.atomic():
        clients, items = _read(f"s.id IN ({marks})", ids)
        found = {item.id: item for item in items}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("items", f"no service, addon or domain #{missing[0]}")
        if len(clients) > 1:
            raise Conflict("items", "choose items of one client")
        statuses = dict(database.execute_sql(
            f"SELECT id, status FROM service WHERE id IN ({marks})", ids).fetchall())
        for item in items:
            what = f"{item.name} (#{item.id})"
            if not invoiceable(item.kind, statuses[item.id]):
                raise Conflict("items", f"{what} is {statuses[item.id]}: only "
                                        f"{' or '.join(BILLED_STATUSES[item.kind]).lower()} "
                                        f"{item.kind}s are invoiced")
            if not cycles.is_recurring(item.cycle) or item.next_due is None:
                raise Conflict("items", f"{what} is billed {item.cycle}: it has no next due date "
                                        "to invoice")
            if item.invoiced:
                raise Conflict("items", f"{what} is already invoiced for its next due date "
                                        f"{item.next_due.isoformat()}")
        result = _bill(clients, items, writer, separate_ok=False)
    if result.invoice_ids:
        from billdesk.services import mail

        mail.render_pending()
    return result


def invoiceable(kind: str, status: str) -> bool:
    """Whether an item in ``status`` is billed (by the run, and by Invoice
    selected)."""
    return status in BILLED_STATUSES.get(kind, ())


def prorata_invoice(client_id: int, changes: Sequence[tuple], *, today: Any = None,
                    actor: str | None = None) -> int | None:
    """Bill the days between old and new due dates (S5) in one invoice:
    ``changes`` holds (item id, old due, new due[, old due day]); amounts,
    cycles and names are read from the items as they are now. No invoice
    when the sum is not positive. Call inside the transaction that moved
    the due dates."""
    day = date_input(today, "date") if today not in (None, "") else dt.date.today()
    by_id = {change[0]: change for change in changes}
    if not by_id:
        return None
    marks = ",".join("?" * len(by_id))
    clients, items = _read(f"s.id IN ({marks})", list(by_id))
    client = clients.get(client_id)
    if client is None or any(item.client_id != client_id for item in items):
        raise Conflict("items", "a prorata invoice bills items of one client")
    lines = []
    for item in sorted(items, key=_sort_key):
        _, old_due, new_due, *rest = by_id[item.id]
        amount = cycles.prorata(Money.from_minor(item.amount, client.currency), item.cycle,
                                old_due, new_due, rest[0] if rest else old_due.day)
        if not amount:
            continue
        start, end = sorted((old_due, new_due))
        span = (f"{date_text(start, client.language)} - "
                f"{date_text(end - dt.timedelta(days=1), client.language)}")
        label = f"{item.name} - {item.label}" if item.label else item.name
        lines.append(invoicing.LineInput(
            f"Prorata {'charge' if amount.amount > 0 else 'credit'}: {label} ({span})",
            amount.amount, item.taxed, LINE_TYPE[item.kind], item.id, None,
            "" if item.group_hidden else item.group_name))
    # Tax cannot fall below zero: a credit that outweighs the charges of
    # its tax treatment is given net, against the other treatment's charges.
    if sum((Decimal(line.amount) for line in lines if line.taxed), Decimal(0)) < 0:
        lines = [dataclasses.replace(line, taxed=False) for line in lines]
    lines += _discount_lines(client, lines)
    total = sum((Decimal(line.amount) for line in lines), Decimal(0))
    if total <= 0:
        return None
    with database.atomic():
        invoice_id = invoicing.create_invoice(client_id, lines, date=day, due_date=day,
                                              actor=actor)
        invoicing.apply_credit_to_new_invoice(invoice_id, when=day, actor=actor)
    return invoice_id

