"""The quote PDF (B4, E5; acceptance 4): read back with pypdf, it shows the
title, stage, valid-until date, proposal, lines and totals. Expected
amounts are computed with ``Money.format`` in the client's language."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from billdesk.money import Money
from billdesk.services import billing_settings, clients, quote_documents, quotes, settings
from billdesk.services.quotes import LineInput

SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})


def norm(text: str) -> str:
    return text.translate(SPACES)


def text_of(data: bytes) -> str:
    return "\n".join(norm(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages)


def money(amount: Money, language: str) -> str:
    return norm(amount.format(language))


@pytest.fixture
def client_id(db):
    settings.save_company(settings.Company(name="Acme Hosting Ltd", address1="1 High St",
                                           city="London", country="GB", currency="GBP"))
    billing_settings.add_tax_rule(1, "VAT", "20")
    return clients.add_client({"first_name": "Zoë", "last_name": "Müller",
                               "email": "zoe@example.com", "company": "Müller & Söhne",
                               "country": "DE", "currency": "EUR", "language": "de"})


def test_quote_pdf_reads_back_with_lines_and_total(client_id, tmp_path: Path):
    until = dt.date(2099, 3, 31)
    quote_id = quotes.create_quote(client_id, [
        LineInput("Website <design> & build", "1200.00", taxed=True),
        LineInput("Hosting", "10.00", quantity="12", discount="10", taxed=True),
        LineInput("Domain example.com", "9.99"),
    ], subject="New website", valid_until=until, stage="Delivered",
        proposal="We will build your new website in six weeks.",
        customer_notes="Prices in euro.", admin_notes="never printed")
    q = quotes.get_quote(quote_id)
    target = tmp_path / "quote.pdf"

    data = quote_documents.quote_pdf(quote_id, target)

    assert data.startswith(b"%PDF") and target.read_bytes() == data
    text = text_of(data)
    assert "Quote" in text and "Invoice" not in text
    for expected in ("Acme Hosting Ltd", "Zoë Müller", "Müller & Söhne", "New website",
                     "Delivered", norm(format_date(until, format="medium", locale="de")),
                     "We will build your new website in six weeks.", "Prices in euro.",
                     "Website <design> & build *", "Domain example.com", "10 %"):
        assert expected in text, expected
    assert "Domain example.com *" not in text
    assert "never printed" not in text
    for line in q.lines:
        assert money(line.amount, "de") in text, line.description
    assert money(Money.of("10.00", "EUR"), "de") in text  # the unit price of the hosting line
    assert f"Subtotal {money(q.subtotal, 'de')}" in text
    assert f"VAT 20 % {money(q.tax1, 'de')}" in text
    assert f"Total {money(q.total, 'de')}" in text
    assert q.total == q.subtotal + q.tax1 == Money.of("1579.59", "EUR")


def test_simple_and_empty_quotes_render(client_id):
    one = quotes.create_quote(client_id, [LineInput("Consulting", "99.50")])
    text = text_of(quote_documents.quote_pdf(one))
    assert "Consulting" in text and "Qty" not in text
    assert f"Total {money(Money.of('99.50', 'EUR'), 'de')}" in text
    empty = quotes.create_quote(client_id, [])
    assert "No lines yet." in text_of(quote_documents.quote_pdf(empty))


def test_a_converted_quote_says_so(client_id):
    quote_id = quotes.create_quote(client_id, [LineInput("A", "5")])
    quotes.convert(quote_id)
    text = text_of(quote_documents.quote_pdf(quote_id))
    assert "Accepted" in text and "Accepted and invoiced" in text
