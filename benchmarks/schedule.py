"""Generating due invoices for everyone (issue 4), for make bench.

A book of 10,000 clients holding 50,000 services, addons and domains
(built once, kept in benchmarks/.cache/; each run works on a fresh copy)
is invoiced for one day: billdesk's ``billing_run.generate_due`` beside a
hand-written raw ``sqlite3`` baseline doing the same work with one
transaction per client — read the client's due items, group them by due
date and payment method, total each invoice with its tax, write the
invoice, its lines and a log row, take the invoice numbers. Each invoice's
"invoice created" email is queued in its transaction; writing the emails'
text from the template (``mail.render_pending``) is timed on its own (the
daily run's figure in automation.py includes it).
Target: under 1.5 s and within 2x of the baseline."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CLIENTS = 10_000
SERVICES = 50_000
DAY = dt.date(2027, 3, 10)  # generation day; due dates fall in the 14 lead days and before


def build(path: Path) -> None:
    from billdesk.models import close_database, database, init_db
    from billdesk.services import billing_settings, clients, settings

    init_db(path)
    settings.save_company(settings.Company(name="Bench Hosting Ltd", country="GB", currency="GBP",
                                           email="bench@example.com"))
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    rng = random.Random(4)
    with database.atomic():
        ids = [clients.add_client({"first_name": f"Client{n}", "last_name": "Bench",
                                   "email": f"client{n}@bench.example", "currency": "GBP",
                                   "country": rng.choice(["GB", "GB", "GB", "DE", "US"])})
               for n in range(CLIENTS)]
    methods = ["Bank transfer", "Card", "PayPal"]
    kinds = [("service", "Web Hosting", "monthly", 999), ("service", "VPS", "quarterly", 4500),
             ("addon", "Backups", "monthly", 300), ("domain", "example.com", "annually", 1299),
             ("service", "Email", "monthly", 250)]
    stamp = "2027-01-01 00:00:00"
    rows = []
    for n in range(SERVICES):
        client = ids[n % CLIENTS]
        kind, name, cycle, amount = kinds[(n // CLIENTS) % len(kinds)]
        # Each client renews on one of two days of the month; about 3/5 are due.
        due = DAY + dt.timedelta(days=(client * 7 + 13 * (rng.random() < 0.3)) % 50 - 20)
        rows.append((client, kind, name if kind != "domain" else f"site{n}.example",
                     "Active" if kind == "domain" or rng.random() < 0.9 else "Suspended", cycle, amount,
                     int(kind != "domain"), due.isoformat(), due.day, due.isoformat(),
                     methods[client % 2 if rng.random() < 0.8 else 2], stamp, stamp))
    with database.atomic():
        database.connection().executemany(
            "INSERT INTO service (client_id, kind, name, status, cycle, amount, taxed, signup_date, "
            "due_day, next_due, payment_method, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    close_database()


def _copy(path: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="billdesk-bench-")) / "book.sqlite3"
    shutil.copyfile(path, target)
    return target


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def raw_bill_client(con: sqlite3.Connection, client_id: int, currency: str, rate: Decimal,
                    last: str, today: str, stamp: str) -> list[tuple[int, str, str, list[tuple], int]]:
    """One client's due items invoiced in plain sqlite3 (inside the caller's
    transaction): grouped by due date and payment method, totalled with
    the tax, numbered, with lines and a log row. Returns (invoice id,
    number, due date, items, total) per invoice."""
    items = con.execute(
        "SELECT s.id, s.name, s.amount, s.taxed, s.next_due, s.payment_method FROM service s "
        "WHERE s.client_id = ? AND s.cycle NOT IN ('free', 'onetime') AND s.next_due <= ? "
        "AND s.status IN ('Active', 'Suspended') AND NOT EXISTS (SELECT 1 FROM invoice_line l "
        "WHERE l.link_id = s.id AND l.due_date = s.next_due) ORDER BY s.id",
        (client_id, last)).fetchall()
    groups: dict[tuple[str, str], list[tuple]] = {}
    for item in items:
        groups.setdefault((item[4], item[5]), []).append(item)
    made = []
    for (due, method), members in groups.items():
        seq = con.execute("SELECT next_value FROM number_sequence WHERE name = 'invoice'").fetchone()[0]
        con.execute("UPDATE number_sequence SET next_value = ? WHERE name = 'invoice'", (seq + 1,))
        subtotal = sum(m[2] for m in members)
        tax = _half_up(Decimal(sum(m[2] for m in members if m[3])) * rate / 100)
        number = f"INV-{DAY.year}-{seq:05}"
        invoice_id = con.execute(
            "INSERT INTO invoice (client_id, number, status, date, due_date, currency, "
            "payment_method, tax1_rate, subtotal, tax1, total, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (client_id, number, "Unpaid", today, due, currency, method, str(rate), subtotal, tax,
             subtotal + tax, stamp, stamp)).lastrowid
        con.executemany(
            "INSERT INTO invoice_line (invoice_id, position, description, amount, taxed, type, "
            "link_id, due_date) VALUES (?,?,?,?,?,?,?,?)",
            [(invoice_id, pos, f"{m[1]} ({due})", m[2], m[3], "Hosting", m[0], due)
             for pos, m in enumerate(members, 1)])
        con.execute("INSERT INTO client_log (client_id, at, message) VALUES (?,?,?)",
                    (client_id, stamp, f"Invoice {number} generated"))
        made.append((invoice_id, number, due, members, subtotal + tax))
    return made


def raw_baseline(path: Path) -> int:
    """The same work in plain sqlite3, one transaction per client."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    last = (DAY + dt.timedelta(days=14)).isoformat()
    today = DAY.isoformat()
    rates = {country: Decimal(rate) for rate, country in
             con.execute("SELECT rate, country FROM tax_rule WHERE level = 1")}
    owners = [r[0] for r in con.execute(
        "SELECT DISTINCT client_id FROM service WHERE cycle NOT IN ('free', 'onetime') "
        "AND next_due IS NOT NULL AND next_due <= ? ORDER BY 1", (last,))]
    made = 0
    for client_id in owners:
        con.execute("BEGIN IMMEDIATE")
        currency, country = con.execute("SELECT currency, country FROM client WHERE id = ?",
                                        (client_id,)).fetchone()
        made += len(raw_bill_client(con, client_id, currency, rates.get(country, Decimal(0)),
                                    last, today, today))
        con.execute("COMMIT")
    con.close()
    return made


def run(path: Path, report: Callable[[str, float, float | None, float | None], None]) -> None:
    from billdesk.models import close_database, init_db
    from billdesk.services import billing_run, mail

    raw_book = _copy(path)
    started = time.perf_counter()
    raw_made = raw_baseline(raw_book)
    raw_time = time.perf_counter() - started

    ours = _copy(path)
    init_db(ours)
    started = time.perf_counter()
    result = billing_run.generate_due(today=DAY, write_emails=False)
    took = time.perf_counter() - started
    started = time.perf_counter()
    written = mail.render_pending()  # the invoices' emails, queued with them, written now
    emails_took = time.perf_counter() - started
    again = billing_run.generate_due(today=DAY)  # nothing twice
    close_database()
    if len(again) or len(result) != raw_made:
        raise SystemExit(f"generate due: made {len(result)} invoices (raw {raw_made}), "
                         f"{len(again)} on the second run")
    print(f"generate due invoices: {CLIENTS:,} clients, {SERVICES:,} services → "
          f"{len(result):,} invoices (raw sqlite3 made {raw_made:,}); a second run made "
          f"{len(again)}", flush=True)
    report(f"generate due invoices: {CLIENTS:,} clients, {SERVICES:,} services, "
           f"{len(result):,} invoices (target: 1.5 s and 2x raw)", took, min(1.5, 2 * raw_time),
           raw_time)
    report(f"writing their {written:,} invoice emails from the template (queued with them)",
           emails_took, None, None)
    for folder in (raw_book.parent, ours.parent):
        shutil.rmtree(folder, ignore_errors=True)
