"""Invoice and statement PDFs (SPEC.md E5, P5), read back with pypdf.

Every expected amount is computed with ``Money.format`` in the client's
language, never copied from output. pypdf turns the no-break spaces that
Babel puts in amounts ("1.019,99\xa0€") into plain spaces, so both sides
are compared with their spaces normalised."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from babel import Locale
from babel.dates import format_date
from PIL import Image, ImageDraw
from pypdf import PdfReader

from billdesk.models import Client, CreditEntry, database, now
from billdesk.money import Money
from billdesk.services import (
    billing_settings,
    clients,
    contacts,
    credit,
    documents,
    invoicing,
    payments,
    settings,
    statements,
)

SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})
LANG = "de"


def norm(text: str) -> str:
    return text.translate(SPACES)


def money(amount: Money, language: str = LANG) -> str:
    return norm(amount.format(language))


def day(value: dt.date, language: str = LANG) -> str:
    return norm(format_date(value, format="medium", locale=language))


def pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [norm(page.extract_text()) for page in reader.pages]


def text_of(data: bytes) -> str:
    return "\n".join(pages(data))


def logo_png() -> bytes:
    image = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 150, 150), 24, fill=(31, 78, 121, 255))
    draw.rectangle((190, 50, 470, 110), fill=(60, 60, 60, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def company(db):
    return settings.save_company(settings.Company(
        name="Acme Hosting GmbH", address1="Hauptstraße 5", city="Berlin", postcode="10115",
        country="DE", email="billing@acme.example", phone="+49 30 123456", tax_id="DE123456789",
        currency="EUR"), logo=logo_png())


@pytest.fixture
def client_id(company):
    billing_settings.add_tax_rule(1, "VAT", "19")
    return clients.add_client({
        "first_name": "Zoë", "last_name": "Müller", "email": "zoe@example.com",
        "company": "Müller & Söhne", "address1": "Lindenweg 12", "city": "München",
        "postcode": "80331", "country": "DE", "currency": "EUR", "language": LANG,
        "tax_id": "DE987654321"})


def test_invoice_shows_company_client_lines_and_totals(client_id, tmp_path):
    invoice_id = invoicing.create_invoice(client_id, [
        invoicing.LineInput("Hosting <Premium> & support", "1010.00", True),
        invoicing.LineInput("Domain example.com", "9.99", False),
    ], notes="Thank you for your business!\nPay within 14 days.", due_date="2099-01-31")
    credit.add_credit(client_id, "3", "goodwill")
    invoicing.apply_credit(invoice_id, "3")
    payments.add_payment(invoice_id, "5.00")
    inv = invoicing.get_invoice(invoice_id)
    target = tmp_path / "invoice.pdf"

    data = documents.invoice_pdf(invoice_id, target)

    assert data.startswith(b"%PDF") and target.read_bytes() == data
    text = text_of(data)
    # the company, with its tax id, and the client's address
    for expected in ("Acme Hosting GmbH", "Hauptstraße 5", "10115 Berlin", "DE123456789",
                     "billing@acme.example", "Zoë Müller", "Müller & Söhne", "Lindenweg 12",
                     "80331 München", Locale("de").territories["DE"], "DE987654321"):
        assert expected in text, expected
    # number, dates, status; lines with taxed ones marked, markup printed as typed
    assert inv.number and inv.number in text
    assert day(inv.date) in text and day(inv.due_date) in text
    assert "Unpaid" in text
    assert "Hosting <Premium> & support *" in text
    assert "Domain example.com" in text and "Domain example.com *" not in text
    # the totals, formatted for the client's currency and language
    assert f"VAT 19 % {money(inv.tax1)}" in text
    for label, amount in (("Subtotal", inv.subtotal), ("Total", inv.total),
                          ("Credit applied", -inv.credit), ("Paid", -inv.paid),
                          ("Balance due", inv.balance)):
        assert f"{label} {money(amount)}" in text, label
    assert inv.balance == inv.total - inv.credit - inv.paid
    assert "Thank you for your business!" in text and "Pay within 14 days." in text
    # the logo is drawn
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1


def test_billing_contact_replaces_the_client_on_documents(client_id):
    contacts.add_contact(client_id, {
        "first_name": "Bea", "last_name": "Buchhaltung", "email": "bea@example.com",
        "address1": "Rechnungsweg 1", "city": "Hamburg", "postcode": "20095", "country": "AT",
    }, billing=True)
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Hosting", "10.00")])

    for data in (documents.invoice_pdf(invoice_id),
                 documents.statement_pdf(statements.statement(client_id, "2000-01-01", "2100-12-31"))):
        text = text_of(data)
        assert "Bea Buchhaltung" in text
        assert "Rechnungsweg 1" in text and "20095 Hamburg" in text
        assert Locale("de").territories["AT"] in text
        assert "Lindenweg 12" not in text and "Zoë Müller" not in text
        assert "Müller & Söhne" in text  # the client's company stays on it


def test_a_billing_contact_without_an_address_is_billed_at_the_clients(company):
    """A person's billing contact with no address of their own: the
    document is to the contact, at the client's address — with the
    client's name over it, not the contact's alone over a stranger's door."""
    person = clients.add_client({
        "first_name": "Laura", "last_name": "Wilson", "email": "laura@example.com",
        "address1": "12 Mill Lane", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB",
        "currency": "EUR", "language": LANG})
    contacts.add_contact(person, {"first_name": "Andrés", "last_name": "Taylor",
                                  "email": "andres@example.com"}, billing=True)
    invoice_id = invoicing.create_invoice(person, [invoicing.LineInput("Hosting", "10.00")])
    text = text_of(documents.invoice_pdf(invoice_id))
    assert "Andrés Taylor" in text and "Laura Wilson" in text and "12 Mill Lane" in text
    assert text.index("Andrés Taylor") < text.index("Laura Wilson") < text.index("12 Mill Lane")


def test_draft_paid_and_add_funds_invoices_say_what_they_are(client_id):
    draft = invoicing.create_invoice(client_id, [invoicing.LineInput("Consulting", "100")], draft=True)
    text = text_of(documents.invoice_pdf(draft))
    assert "Invoice number Draft" in text and "Draft" in text

    paid = invoicing.create_invoice(client_id, [invoicing.LineInput("Setup", "50")])
    payments.add_payment(paid, "50", date=dt.date.today().isoformat())
    inv = invoicing.get_invoice(paid)
    assert inv.status == "Paid"
    text = text_of(documents.invoice_pdf(paid))
    assert f"Paid date {day(inv.paid_date)}" in text
    assert f"Balance due {money(Money.zero('EUR'))}" in text

    funds = invoicing.create_add_funds(client_id, "25")
    text = text_of(documents.invoice_pdf(funds))
    assert "Add funds" in text and "added to your account credit" in text
    assert "VAT" not in text  # add-funds invoices carry no tax


def test_each_tax_level_has_its_own_line(client_id):
    billing_settings.add_tax_rule(2, "Local tax", "2.5")
    invoice_id = invoicing.create_invoice(client_id, [
        invoicing.LineInput("Hosting", "0.10", True), invoicing.LineInput("Hosting", "0.10", True),
        invoicing.LineInput("Hosting", "0.10", True), invoicing.LineInput("Fee", "1.00", False)])
    inv = invoicing.get_invoice(invoice_id)
    text = text_of(documents.invoice_pdf(invoice_id))
    assert f"VAT 19 % {money(inv.tax1)}" in text
    assert f"Local tax 2,5 % {money(inv.tax2)}" in text  # the rate in the client's language
    assert f"Total {money(inv.total)}" in text
    assert "* Taxed item (VAT / Local tax)" in text


def test_long_notes_flow_onto_the_next_page(client_id):
    notes = "\n".join(f"Note line {n}: terms & <conditions>" for n in range(1, 121))
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Hosting", "10")],
                                          notes=notes)
    texts = pages(documents.invoice_pdf(invoice_id))
    assert len(texts) >= 2 and "Page 2 of" in texts[1]
    text = "\n".join(texts)
    assert "Note line 1: terms & <conditions>" in text
    assert "Note line 120: terms & <conditions>" in text


@pytest.mark.parametrize("language", ["en", "de", "fr", "de_CH", "en_IN", "pl", "nl", "ja", "ar"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "BHD", "INR"])
def test_fast_amounts_read_as_babel_writes_them(language, currency):
    """The PDFs format amounts with a shortcut; it must agree with Money.format."""
    fmt = documents._amount_formatter(currency, documents._locale_name(language))
    for text in ("0", "0.01", "-0.01", "7", "-1019.99", "1234567.891", "-98765432109.5"):
        amount = Money.of(text, currency)
        expected = amount.format(language).translate(documents._PRINTABLE)
        assert fmt(amount) == expected


def test_english_client_gets_english_formats(company):
    client = clients.add_client({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
                                 "currency": "USD", "country": "US", "language": "en",
                                 "city": "Springfield", "state": "IL", "postcode": "62701"})
    invoice_id = invoicing.create_invoice(client, [invoicing.LineInput("Design", "1019.99")])
    inv = invoicing.get_invoice(invoice_id)
    text = text_of(documents.invoice_pdf(invoice_id))
    assert "$1,019.99" == money(inv.total, "en") and f"Total {money(inv.total, 'en')}" in text
    assert day(inv.date, "en") in text
    assert "Springfield, IL 62701" in text and "United States" in text


def test_text_outside_latin_1_is_printed(company):
    client = clients.add_client({"first_name": "Łukasz", "last_name": "Żółć", "email": "l@example.pl",
                                 "currency": "PLN", "country": "PL", "language": "pl",
                                 "city": "Łódź"})
    invoice_id = invoicing.create_invoice(client, [invoicing.LineInput("Usługa – Ωμέγα", "1234.50")])
    inv = invoicing.get_invoice(invoice_id)
    data = documents.invoice_pdf(invoice_id)
    text = text_of(data)
    assert "Łukasz Żółć" in text and "Łódź" in text and "Usługa – Ωμέγα" in text
    assert f"Total {money(inv.total, 'pl')}" in text  # "1 234,50 zł"


def test_french_amounts_keep_the_builtin_font(company):
    client = clients.add_client({"first_name": "Luc", "last_name": "Petit", "email": "luc@example.fr",
                                 "currency": "EUR", "country": "FR", "language": "fr"})
    invoice_id = invoicing.create_invoice(client, [invoicing.LineInput("Hébergement", "12345.67")])
    inv = invoicing.get_invoice(invoice_id)
    data = documents.invoice_pdf(invoice_id)
    assert f"Total {money(inv.total, 'fr')}" in text_of(data)  # "12 345,67 €"
    assert b"FontFile2" not in data  # no TrueType font embedded for a narrow no-break space


def test_statement_shows_opening_rows_running_balance_and_closing(client_id):
    first = invoicing.create_invoice(client_id, [invoicing.LineInput("Hosting 2024", "120.00", True)],
                                     date="2024-01-10", due_date="2024-01-24")
    second = invoicing.create_invoice(client_id, [invoicing.LineInput("Domain", "15.00")],
                                      date="2024-02-10", due_date="2024-02-24")
    payments.add_payment(first, "50", date="2024-02-01")
    credit.add_credit(client_id, "3", "Goodwill <sorry> & thanks", date="2024-03-01")
    payments.add_payment(second, "15", date="2024-03-05")

    st = statements.statement(client_id, "2024-01-15", "2024-12-31")
    assert st.opening == invoicing.get_invoice(first).total and len(st.rows) == 4
    text = text_of(documents.statement_pdf(st))

    assert "Account statement" in text
    assert f"{day(st.start)} – {day(st.end)}" in text
    assert f"Opening balance {money(st.opening)}" in text
    for row in st.rows:
        assert row.description in text
        assert money(row.balance) in text
        line = next(line for line in text.splitlines() if row.description in line)
        assert line.startswith(day(row.date)) and line.endswith(money(row.balance))
    assert f"Total debits {money(st.total_debit)}" in text
    assert f"Total credits {money(st.total_credit)}" in text
    assert f"Closing balance {money(st.closing)}" in text
    assert "Date Type Description Debit Credit Balance" in text


def test_empty_statement_still_renders(client_id):
    st = statements.statement(client_id, "2020-01-01", "2020-12-31")
    text = text_of(documents.statement_pdf(st))
    assert "No transactions in this period." in text
    assert f"Closing balance {money(Money.zero('EUR'))}" in text
    assert "Page 1 of 1" in text


def add_credit_rows(client_id: int, count: int) -> None:
    """``count`` hand-made credit entries, written in bulk like credit.post
    would (entry rows plus the balance), in one transaction."""
    stamp = now()
    rows = [{"client": client_id, "date": dt.date(2024, 1, 1) + dt.timedelta(days=i // 40),
             "kind": "added", "description": f"Prepaid credit, batch {i}", "amount": 100 + i % 50,
             "created_at": stamp} for i in range(count)]
    with database.atomic():
        for start in range(0, count, 500):
            CreditEntry.insert_many(rows[start:start + 500]).execute()
        Client.update(credit_balance=Client.credit_balance + sum(r["amount"] for r in rows)).where(
            Client.id == client_id).execute()


@pytest.mark.slow
def test_ten_thousand_row_statement_pages_and_repeats_its_header(client_id):
    add_credit_rows(client_id, 10_000)
    st = statements.statement(client_id, "2024-01-01", "2030-12-31")
    assert len(st.rows) == 10_000 and st.checked_ok

    started = time.perf_counter()
    data = documents.statement_pdf(st)
    elapsed = time.perf_counter() - started

    texts = pages(data)
    total = len(texts)
    assert total > 100
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
    assert "Date Type Description Debit Credit Balance" in texts[1]  # the header repeats
    assert "Date Type Description Debit Credit Balance" in texts[-1]
    assert f"Closing balance {money(st.closing)}" in texts[-1]
    assert money(st.rows[-1].balance) in texts[-1]
    # every row is printed exactly once, in order
    described = [line for text in texts for line in text.splitlines() if "Prepaid credit, batch" in line]
    assert len(described) == 10_000
    assert described[0].split("batch ")[1].split()[0] == "0"
    assert described[-1].split("batch ")[1].split()[0] == "9999"
    assert elapsed < 15, f"10,000 rows took {elapsed:.1f} s"  # about 1 s; the benchmark is stricter


def test_rendering_imports_no_qt(client_id, db_path, billdesk_home):
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Hosting", "10")])
    script = textwrap.dedent(f"""
        import json, sys
        from billdesk.models import init_db
        from billdesk.services import documents, statements
        init_db({str(db_path)!r})
        documents.invoice_pdf({invoice_id})
        documents.statement_pdf(statements.statement({client_id}, "2000-01-01", "2100-01-01"))
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("PySide6"))))
    """)
    env = dict(os.environ, BILLDESK_HOME=str(billdesk_home))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_writing_to_a_target_replaces_it_whole(client_id, tmp_path: Path):
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Hosting", "10")])
    target = tmp_path / "out" / "invoice.pdf"
    target.parent.mkdir()
    target.write_bytes(b"old")
    data = documents.invoice_pdf(invoice_id, str(target))
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["invoice.pdf"]  # no temporary file left


def test_statement_dates_stay_on_one_line_in_a_long_date_language(company):
    """Portuguese writes "1 de abr. de 2026": the statement's Date column
    is as wide as its longest date, so none is broken over two lines."""
    from babel.dates import format_date

    client = clients.add_client({
        "first_name": "Ana", "last_name": "Silva", "email": "ana@example.com",
        "address1": "Rua Nova 1", "city": "Porto", "postcode": "4000-001", "country": "PT",
        "currency": "EUR", "language": "pt"})
    invoice_id = invoicing.create_invoice(client, [invoicing.LineInput("Hosting", "10.00")])
    payments.add_payment(invoice_id, "10.00", date="2026-04-01")
    text = norm(text_of(documents.statement_pdf(statements.statement(client, "2026-01-01",
                                                                      "2026-11-30"))))
    written = norm(format_date(dt.date(2026, 4, 1), format="medium", locale="pt"))
    assert len(written) > 12
    assert any(line.startswith(written + " ") for line in text.splitlines()), text
