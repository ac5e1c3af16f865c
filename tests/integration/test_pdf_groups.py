"""Service groups head their lines on the invoice PDF (SPEC.md S7), read
back with pypdf."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from billdesk.money import Money
from billdesk.services import (
    billing_run,
    billing_settings,
    clients,
    documents,
    invoicing,
    service_groups,
    settings,
    subscriptions,
)

SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})


def text_lines(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [line.translate(SPACES).strip() for page in reader.pages
            for line in page.extract_text().splitlines() if line.strip()]


def money(amount: Money) -> str:
    return amount.format("en").translate(SPACES)


@pytest.fixture
def client_id(db):
    settings.save_company(settings.Company(name="Acme Hosting", currency="USD"))
    billing_settings.add_tax_rule(1, "VAT", "20")
    return clients.add_client({"first_name": "Ada", "last_name": "Lovelace",
                               "email": "ada@example.com", "currency": "USD", "language": "en"})


def test_group_name_heads_its_lines_once_and_totals_stay(client_id):
    invoice_id = invoicing.create_invoice(client_id, [
        invoicing.LineInput("Setup fee", "25.00", True),
        invoicing.LineInput("Web hosting", "10.00", True, group="Shop project"),
        invoicing.LineInput("Backup addon", "2.50", False, group="Shop project"),
        invoicing.LineInput("Mail hosting", "4.00", True, group="Office"),
        invoicing.LineInput("Late fee", "1.00", False),
    ], due_date="2099-01-31")
    inv = invoicing.get_invoice(invoice_id)

    lines = text_lines(documents.invoice_pdf(invoice_id))

    # each group once, right above its first line; ungrouped lines unheaded
    assert lines.count("Shop project") == 1 and lines.count("Office") == 1
    shop, office = lines.index("Shop project"), lines.index("Office")
    assert lines[shop + 1].startswith("Web hosting *")
    assert lines[shop + 2].startswith("Backup addon")
    assert lines[office + 1].startswith("Mail hosting *")
    assert lines.index(next(x for x in lines if x.startswith("Setup fee"))) < shop
    late = lines.index(next(x for x in lines if x.startswith("Late fee")))
    assert late == office + 2
    # a heading has no amount beside it, the lines keep theirs
    assert lines[shop + 1].endswith(money(inv.lines[1].amount))
    # the totals are those of the lines, unchanged by the headings
    assert inv.subtotal == sum((line.amount for line in inv.lines), Money.zero("USD"))
    text = "\n".join(lines)
    for label, amount in (("Subtotal", inv.subtotal), ("Total", inv.total),
                          ("Balance due", inv.balance)):
        assert f"{label} {money(amount)}" in text, label


def test_generated_invoice_is_headed_unless_the_group_is_hidden(client_id):
    shown = service_groups.create_group(client_id, "Client websites")
    hidden = service_groups.create_group(client_id, "Internal", hide_on_invoice=True)
    for name, group in (("Hosting A", shown), ("Hosting B", shown), ("Hosting C", hidden)):
        subscriptions.add_service(client_id, name=name, amount="9.00", cycle="monthly",
                                  next_due="2030-05-01", group_id=group)
    [invoice_id] = billing_run.generate_due(client_id=client_id, today="2030-05-01").invoice_ids

    lines = text_lines(documents.invoice_pdf(invoice_id))

    head = lines.index("Client websites")
    assert lines[head + 1].startswith("Hosting A") and lines[head + 2].startswith("Hosting B")
    assert "Internal" not in lines
    assert any(line.startswith("Hosting C") for line in lines)


def test_many_grouped_lines_page_with_every_heading_above_a_line(client_id):
    rows = [invoicing.LineInput(f"Server {n}", "1.00", False, group=f"Rack {n // 7}")
            for n in range(140)]
    invoice_id = invoicing.create_invoice(client_id, rows, due_date="2099-01-31")

    data = documents.invoice_pdf(invoice_id)

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 1
    for page in reader.pages:  # a heading never ends a page
        body = [x for x in page.extract_text().splitlines() if x.startswith(("Rack", "Server"))]
        assert not body[-1].startswith("Rack"), body[-3:]
    lines = text_lines(data)
    assert sum(1 for x in lines if x.startswith("Rack ")) == 20


def test_grouped_invoice_renders_quickly(client_id):
    invoice_id = invoicing.create_invoice(client_id, [
        invoicing.LineInput("Web hosting", "10.00", True, group="Shop"),
        invoicing.LineInput("Domain", "12.00", False, group="Shop"),
        invoicing.LineInput("Support", "30.00", True),
    ], due_date="2099-01-31")
    documents.invoice_pdf(invoice_id)  # warm the caches
    times = []
    for _ in range(15):
        started = time.perf_counter()
        documents.invoice_pdf(invoice_id)
        times.append(time.perf_counter() - started)
    assert sorted(times)[len(times) // 2] < 0.05  # about 4 ms; generous for slow CI
