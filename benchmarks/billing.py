"""Billing figures for make bench (issue 3), on a book built once through
the services and kept in benchmarks/.cache/:

  - one client with 10,000 invoices (half of them paid): the Summary tab's
    billing panel and the first page of the Invoices tab, load + paint
  - one client whose statement has 10,000 rows: the statement, and the
    statement as a PDF
  - an invoice PDF (3 lines, company logo)

Each beside Python's sqlite3 reading the same rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

BIG = 10_000  # invoices of the first client; statement rows of the second


def _logo() -> bytes:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 80), "white")
    ImageDraw.Draw(image).rectangle((8, 8, 232, 72), outline="#2b6cb0", width=6)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def build(path: Path) -> None:
    """Clients 1 and 2 as described above; written through the services in
    one transaction per thousand invoices."""
    from billdesk.models import close_database, database, init_db
    from billdesk.services import billing_settings, clients, invoicing, payments, settings
    from billdesk.services.invoicing import LineInput

    init_db(path)
    settings.save_company(settings.Company(
        name="Harbour Light Studio Ltd", address1="12 Quay Street", city="Bristol",
        postcode="BS1 4RN", country="GB", email="accounts@harbourlight.example",
        tax_id="GB123456789", currency="GBP"), logo=_logo())
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    many = clients.add_client({"first_name": "Many", "last_name": "Invoices", "email": "many@example.com",
                               "currency": "GBP", "country": "GB", "address1": "1 High Street",
                               "city": "Bath", "postcode": "BA1 1AA"})
    rows = clients.add_client({"first_name": "Long", "last_name": "Statement",
                               "email": "long@example.com", "currency": "GBP", "country": "GB"})
    start = dt.date(2020, 1, 1)
    lines = [LineInput("Managed hosting — monthly", "49.00", True),
             LineInput("Domain renewal example.org", "12.99", False),
             LineInput("Support hours (2 × 45.00)", "90.00", True)]
    for block in range(0, BIG, 1000):
        with database.atomic():
            for n in range(block, block + 1000):
                day = start + dt.timedelta(days=n // 5)
                iid = invoicing.create_invoice(many, lines, date=day, due_date=day + dt.timedelta(days=14))
                if n % 2:
                    payments.add_payment(iid, "177.79", date=day + dt.timedelta(days=3), method="Card")
                if n < BIG // 2:  # the second client: invoice + payment = 2 statement rows
                    other = invoicing.create_invoice(rows, lines[:1], date=day, due_date=day)
                    payments.add_payment(other, "58.80", date=day, method="Bank transfer")
    close_database()


def _median(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(path: Path, report: Callable[[str, float, float | None, float | None], None]) -> None:
    import tempfile

    from PySide6.QtWidgets import QApplication

    from billdesk.models import close_database, init_db
    from billdesk.services import documents, invoicing, statements

    app = QApplication.instance() or QApplication([])
    init_db(path)
    raw = sqlite3.connect(path)
    many, rows_client = 1, 2
    first_invoice = raw.execute("SELECT min(id) FROM invoice WHERE client_id = 1").fetchone()[0]

    # invoice PDF
    pdf_time = _median(lambda: documents.invoice_pdf(first_invoice), 50)
    raw_invoice = _median(lambda: (
        raw.execute("SELECT * FROM invoice WHERE id = ?", (first_invoice,)).fetchall(),
        raw.execute("SELECT * FROM invoice_line WHERE invoice_id = ? ORDER BY position",
                    (first_invoice,)).fetchall(),
        raw.execute("SELECT * FROM client WHERE id = 1").fetchall()), 50)
    report("invoice PDF (3 lines, logo), median of 50", pdf_time, 0.010, raw_invoice)

    # the 10,000-row statement: on screen (the rows) and as a PDF
    start, end = "2000-01-01", "2099-12-31"
    st = statements.statement(rows_client, start, end)
    assert len(st.rows) == BIG, len(st.rows)
    assert st.checked_ok, "statement self-check failed"
    sql = f"SELECT date, type, description, debit, credit FROM ({statements._ROWS}) " \
          "WHERE date BETWEEN ? AND ? ORDER BY date, ord, id"
    raw_rows = _median(lambda: raw.execute(sql, [rows_client] * 5 + [start, end]).fetchall(), 5)
    report(f"statement, {BIG:,} rows with running balance", _median(
        lambda: statements.statement(rows_client, start, end), 5), None, raw_rows)
    target = Path(tempfile.mkdtemp()) / "statement.pdf"

    def statement_pdf() -> None:
        documents.statement_pdf(statements.statement(rows_client, start, end), target)

    report(f"statement PDF, {BIG:,} rows (query + PDF)", _median(statement_pdf, 3), 2.5, raw_rows)

    # a client with 10,000 invoices: Summary tab and the Invoices tab's first page
    from billdesk.views.client_window import ClientWindow
    from billdesk.views.ops import Operations

    ops = Operations()
    window = ClientWindow(many, ops)
    window.resize(1180, 720)
    window.show()
    app.processEvents()

    def summary() -> None:
        window.summary.billing.load(many)
        window.summary.repaint()

    raw_summary = _median(lambda: (
        raw.execute("SELECT status, count(*), sum(total) FROM invoice WHERE client_id = ? "
                    "GROUP BY status", (many,)).fetchall(),
        raw.execute("SELECT sum(amount_in), sum(fee), sum(amount_out) FROM txn WHERE client_id = ?",
                    (many,)).fetchall(),
        raw.execute("SELECT credit_balance FROM client WHERE id = ?", (many,)).fetchall()), 20)
    report(f"Summary tab, client with {BIG:,} invoices: load + paint", _median(summary, 20), 0.050,
           raw_summary)

    window.tabs.setCurrentWidget(window.invoices)
    app.processEvents()

    def invoices_page() -> None:
        window.invoices.load()
        window.invoices.view.viewport().repaint()

    raw_page = _median(lambda: raw.execute(
        "SELECT id, number, kind, date, due_date, paid_date, total, credit, paid, status, "
        "payment_method FROM invoice WHERE client_id = ? ORDER BY date DESC, id DESC LIMIT 200",
        (many,)).fetchall(), 20)
    report(f"Invoices tab first page, client with {BIG:,} invoices: load + paint",
           _median(invoices_page, 20), 0.050, raw_page)
    raw_all = _median(lambda: raw.execute("SELECT * FROM invoice WHERE client_id = ?",
                                          (many,)).fetchall(), 5)
    report(f"  (for scale: raw sqlite3 reading all {BIG:,} invoice rows)", raw_all, None, None)

    started = time.perf_counter()
    window.reload()
    app.processEvents()
    report(f"client window reload, {BIG:,} invoices (every tab)", time.perf_counter() - started,
           None, None)
    window.close()
    ops.shutdown()
    raw.close()
    close_database()
