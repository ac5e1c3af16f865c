"""The GDPR data report (C12), read back with pypdf: a client with
something in every section, a large client (300 invoices, long emails and
notes) and the refusals.

Expected amounts and dates are made with Babel in the client's language
(as the invoice PDF tests do), never copied from the output. pypdf turns
no-break spaces into plain ones and may break a line anywhere inside a
table cell, so the text is compared with all whitespace removed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from billdesk import clock
from billdesk.errors import InvalidInput, NotFound
from billdesk.models import Client, database
from billdesk.models.tables import ClientFile, ClientNote
from billdesk.money import Money
from billdesk.services import (
    affiliates,
    billable,
    billing_settings,
    catalog,
    changelog,
    clients,
    contacts,
    credit,
    gdpr,
    groups,
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
    vault,
)
from billdesk.services.invoicing import LineInput

LANG = "de"
NOW = dt.datetime(2026, 11, 29, 17, 5, 0)
CARD = "4111111111111111"
IBAN = "DE89370400440532013000"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read(path: Path) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), squash("".join(page.extract_text() for page in reader.pages))


def money(amount: Money, language: str = LANG) -> str:
    return squash(amount.format(language))


def day(value: dt.date, language: str = LANG) -> str:
    return squash(format_date(value, format="medium", locale=language))


def add_file(client_id: int, name: str, content: bytes, *, admin_only: bool = False) -> str:
    """A client_file row as services/files.py writes it (the bytes are not
    needed: the report lists files, never their content)."""
    sha = hashlib.sha256(content).hexdigest()
    ClientFile.insert(client=client_id, name=name, sha256=sha, size=len(content),
                      admin_only=admin_only, added_at=NOW).execute()
    return sha


def add_note(client_id: int, text: str, *, sticky: bool = False) -> None:
    ClientNote.insert(client=client_id, text=text, sticky=sticky, created_at=NOW,
                      updated_at=NOW).execute()


@pytest.fixture
def company(db):
    return settings.save_company(settings.Company(
        name="Acme Hosting GmbH", address1="Hauptstraße 5", city="Berlin", postcode="10115",
        country="DE", email="billing@acme.example", phone="+49 30 123456", tax_id="DE123456789",
        currency="EUR"))


@pytest.fixture
def full(company) -> dict:
    """A German client with something in every section."""
    billing_settings.add_tax_rule(1, "MwSt", "19", country="DE")
    gold = groups.add_group("Goldkunden", discount="5")
    cid = clients.add_client({
        "first_name": "Zoë", "last_name": "Müller", "email": "zoe@example.com",
        "company": "Müller & Söhne", "phone": "+49 89 555 0101", "address1": "Lindenweg 12",
        "address2": "Hinterhaus", "city": "München", "postcode": "80331", "country": "DE",
        "currency": "EUR", "language": LANG, "tax_id": "DE987654321", "group_id": gold,
        "notes": "Prefers calls after 5 pm.\nKnows our CEO."})
    clients.update_client(cid, {"auto_suspend": False, "suspend_days": 9},
                          reason="agreed by phone")
    contact = contacts.add_contact(cid, {"first_name": "Hans", "last_name": "Buchhalter",
                                         "email": "hans@mueller.example",
                                         "phone": "+49 89 555 0102", "city": "Augsburg",
                                         "categories": "invoice,general"}, billing=True)
    hosting = catalog.add_product("Webhosting Plus", currency="EUR",
                                  prices={"monthly": "9.90", "annually": "99.00"})
    service = subscriptions.add_service(cid, product=hosting, label="mueller.example",
                                        cycle="monthly", amount="9.90",
                                        signup_date="2026-01-15", next_due="2026-12-15",
                                        notes="Migrated from the old server")
    subscriptions.add_addon(cid, service, name="Extra backup", amount="2.50", cycle="monthly",
                            signup_date="2026-02-01", next_due="2026-12-01")
    subscriptions.add_domain(cid, "mueller-soehne.de", amount="12.00",
                             registration_date="2025-03-01", expiry_date="2027-03-01")
    order_id = orders.place_order(cid, hosting, "annually", label="shop.mueller.example",
                                  date="2026-03-10", notes="Ordered by phone")
    quote_id = quotes.create_quote(
        cid, [quotes.LineInput("Shop set-up", "450.00"),
              quotes.LineInput("Training hours", "80.00", quantity="3", discount="10")],
        subject="Online shop", date="2026-04-01", proposal="We build the shop in two weeks.",
        customer_notes="Prices without travel.", admin_notes="Margin is thin.")
    inv1 = invoicing.create_invoice(cid, [LineInput("Consulting April", "200.00", taxed=True),
                                          LineInput("Set-up fee", "50.00")],
                                    date="2026-04-30", due_date="2026-05-14",
                                    notes="Thank you!")
    inv2 = invoicing.create_invoice(cid, [LineInput("Consulting May", "120.00")],
                                    date="2026-05-31", due_date="2026-06-14")
    tx = payments.add_payment(inv1, "300.00", date="2026-05-10", reference="SEPA-4711")
    credit.add_credit(cid, "15.00", "Goodwill for the outage")
    billable.add_item(cid, description="Emergency call-out", hours="1.5", rate="60.00",
                      notes="Sunday night")
    recurring.add_recurring(cid, [("Monthly retainer", "150.00")], every=1, unit="month",
                            start_date="2026-12-01", notes="Until the shop is live")
    mail.queue_message(cid, subject="Your shop project",
                       body="Dear Zoë,\nthe shop goes live on Monday.\nRegards, Acme")
    sha = add_file(cid, "contract-2026.pdf", b"%PDF contract", admin_only=True)
    add_file(cid, "id-card.png", b"\x89PNG" + b"x" * 5000)
    add_note(cid, "Called about the invoice; will pay on Friday.", sticky=True)
    add_note(cid, "Asked for a discount on the domain.")
    # pay methods (K2), a ticket (F3), the affiliate account and who referred her (F4)
    key = vault.set_passphrase("correct horse", params=vault.KdfParams(1024, 1, 1))
    paymethods.add_card(cid, number=CARD, expiry="12/30", holder="Zoë Müller", key=key,
                        description="Company card")
    paymethods.add_bank(cid, account=IBAN, bank_name="Stadtsparkasse München",
                        holder="Müller & Söhne", key=key)
    vault.forget()  # the report needs no passphrase
    ticket = tickets.open_ticket(cid, subject="Shop is slow", author="client",
                                 message="The shop loads slowly since Monday.")
    tickets.reply(ticket.id, message="We moved it to a faster server.", name="Tom Support")
    affiliates.set_delay_days(0)
    lena = clients.add_client({"first_name": "Lena", "last_name": "Werber", "currency": "EUR",
                               "email": "lena@example.com", "country": "DE"})
    affiliates.activate(lena, percent="5")
    affiliates.refer(lena, cid)
    affiliates.activate(cid, percent="12.5")
    max_id = clients.add_client({"first_name": "Max", "last_name": "Mustermann",
                                 "currency": "EUR", "email": "max@example.com", "country": "DE"})
    affiliates.refer(cid, max_id)
    max_invoice = invoicing.create_invoice(max_id, [LineInput("Hosting", "80.00")],
                                           date="2026-06-01")
    payments.add_payment(max_invoice, "80.00", date="2026-06-03")
    affiliates.record_payout(cid, amount="4.00", paid_on="2026-07-01", method="Bank transfer",
                             notes="First payout")
    changelog.record(cid, "Profile reviewed with the client")
    return {"client": cid, "contact": contact, "order": orders.get_order(order_id),
            "quote": quote_id, "invoices": [inv1, inv2], "transaction": tx, "sha": sha,
            "ticket": ticket.id, "max_invoice": max_invoice}


def test_report_holds_every_section(full, tmp_path):
    cid = full["client"]
    target = tmp_path / "gdpr.pdf"
    with clock.frozen(NOW):
        written = gdpr.write_report(cid, target)
    assert written == target and target.read_bytes().startswith(b"%PDF")
    pages, text = read(target)
    reader = PdfReader(str(target))
    assert reader.metadata.title == "Personal data held about Zoë Müller"

    # title, date and the data controller
    assert squash("Personal data held about Zoë Müller") in text
    assert day(NOW.date()) in text
    for part in ("Acme Hosting GmbH", "Hauptstraße 5", "10115 Berlin", "DE123456789"):
        assert squash(part) in text
    assert "Datacontroller" in text

    # the profile
    for part in ("Zoë Müller", "zoe@example.com", "Müller & Söhne", "+49 89 555 0101",
                 "Lindenweg 12", "Hinterhaus", "80331 München", "DE987654321", "Goldkunden",
                 "Prefers calls after 5 pm.", "Knows our CEO.", "Automation: suspend after days",
                 "9 days", "Global setting", "Archived"):
        assert squash(part) in text, part
    assert "LanguagedeCurrencyEURStatusActive" in text
    assert money(credit.balance(cid)) in text

    # contacts
    for part in ("Hans Buchhalter", "hans@mueller.example", "+49 89 555 0102", "Augsburg",
                 "General, Invoice", "Default billing contact"):
        assert squash(part) in text, part

    # services, addons, domains; the order; the quote
    for part in ("Webhosting Plus - mueller.example", "Migrated from the old server",
                 "Extra backup", "Addon to Webhosting Plus - mueller.example",
                 "mueller-soehne.de", full["order"].number, "Ordered by phone",
                 "Online shop", "Shop set-up", "Training hours",
                 "We build the shop in two weeks.", "Prices without travel.",
                 "Margin is thin."):
        assert squash(part) in text, part
    assert day(dt.date(2027, 3, 1)) in text  # the domain's expiry
    assert money(Money.of("9.90", "EUR")) in text

    # invoices: numbers, totals, lines, notes
    for invoice_id in full["invoices"]:
        inv = invoicing.get_invoice(invoice_id)
        assert squash(inv.number) in text
        assert money(inv.total) in text
        for line in inv.lines:
            assert squash(line.description) in text
    first = invoicing.get_invoice(full["invoices"][0])
    assert first.status == "Paid" and money(first.total) in text
    assert "Thankyou!" in text and "MwSt19%" in text

    # transactions, credit, billable items, recurring invoices
    for part in ("SEPA-4711", "Goodwill for the outage", "Emergency call-out", "Sunday night",
                 "Monthly retainer", "Until the shop is live", "Every 1 month"):
        assert squash(part) in text, part
    assert money(Money.of("90.00", "EUR")) in text  # 1.5 h × 60.00

    # emails with their text
    for part in ("Your shop project", "zoe@example.com", "hans@mueller.example",
                 "the shop goes live on Monday.", "Regards, Acme"):
        assert squash(part) in text, part

    # files: names, sizes, admin-only and checksums; never their content
    for part in ("contract-2026.pdf", "id-card.png", "13 bytes", "4.9 KB", full["sha"][:32],
                 full["sha"][32:]):
        assert squash(part) in text, part
    assert "%PDFcontract" not in text

    # pay methods: masked only, never a full number
    for part in ("Visa ending 1111", "411111******1111", "12/2030", "Company card",
                 "Stadtsparkasse München account ending 3000", "****3000",
                 "Default pay method"):
        assert squash(part) in text, part
    assert CARD not in text and IBAN not in text and "0440532013000" not in text
    assert CARD.encode() not in target.read_bytes()

    # the ticket with every message, its author and time
    for part in ("Shop is slow", "The shop loads slowly since Monday.", "Client: Zoë Müller",
                 "We moved it to a faster server.", "Staff: Tom Support", "Answered"):
        assert squash(part) in text, part

    # the affiliate account and who referred her
    max_number = invoicing.get_invoice(full["max_invoice"]).number
    for part in ("Affiliate #", "commission 12.50 %", "Max Mustermann", max_number,
                 "First payout", "Bank transfer", "Lena Werber"):
        assert squash(part) in text, part
    assert money(Money.of("10.00", "EUR")) in text  # 12.5 % of 80.00
    assert money(Money.of("4.00", "EUR")) in text and money(Money.of("6.00", "EUR")) in text
    assert day(dt.date(2026, 6, 3)) in text and day(dt.date(2026, 7, 1)) in text

    # dated notes and the change log
    for part in ("Called about the invoice; will pay on Friday.",
                 "Asked for a discount on the domain.", "Profile reviewed with the client",
                 "Automation: suspend after days: global setting → 9 (agreed by phone)",
                 "Contact added: Hans Buchhalter"):
        assert squash(part) in text, part


def test_collect_gives_the_sections_and_json(full):
    cid = full["client"]
    with clock.frozen(NOW):
        data = gdpr.collect(cid)
    assert data["name"] == "Zoë Müller" and data["generated"] == NOW
    assert data["controller"]["name"] == "Acme Hosting GmbH"
    assert data["profile"]["group"] == "Goldkunden"
    assert data["profile"]["suspend_days"] == 9 and data["profile"]["auto_suspend"] is False
    assert data["profile"]["archived"] is False
    assert gdpr.counts(data) == {
        "contacts": 1, "services": 2, "addons": 1, "domains": 1, "orders": 1, "quotes": 1,
        "invoices": 3, "transactions": 1, "credit_entries": 2, "billable_items": 1,
        "recurring_invoices": 1, "emails": len(mail.emails(cid)), "files": 2, "notes": 2,
        "pay_methods": 2, "tickets": 1, "referrals": 1, "commissions": 1, "payouts": 1,
        "changes": len(changelog.entries(cid))}
    # invoices oldest first: the two made here after the order's
    numbers = [i["number"] for i in data["invoices"]]
    assert numbers[1:] == [invoicing.get_invoice(i).number for i in full["invoices"]]
    assert data["files"][0]["sha256"] == full["sha"]
    assert data["notes"][0]["sticky"] is True

    as_json = gdpr.as_json(data)
    assert as_json["generated"] == "2026-11-29 17:05:00"
    assert as_json["credit_balance"] == str(credit.balance(cid))  # 15.00 added + overpayment
    paid = as_json["invoices"][1]
    inv = invoicing.get_invoice(full["invoices"][0])
    assert paid["total"] == str(inv.total) == "288.00" and paid["date"] == "2026-04-30"
    assert paid["status"] == "Paid" and paid["balance"] == "0.00"
    assert paid["lines"][0] == {"description": "Consulting April", "type": "", "taxed": True,
                                "amount": "200.00"}
    card = as_json["pay_methods"][0]
    assert (card["masked"], card["expiry"], card["holder"], card["default"]) == (
        "411111******1111", "2030-12", "Zoë Müller", True)
    assert CARD not in json.dumps(as_json) and IBAN not in json.dumps(as_json)
    ticket = as_json["tickets"][0]
    assert (ticket["subject"], ticket["status"]) == ("Shop is slow", "Answered")
    assert [(m["author"], m["message"]) for m in ticket["messages"]] == [
        ("client", "The shop loads slowly since Monday."),
        ("staff", "We moved it to a faster server.")]
    account = as_json["affiliate"]
    assert (account["commission"], account["payable"], account["paid_out"], account["balance"]) == (
        "12.50 %", "10.00", "4.00", "6.00")
    assert as_json["commissions"] == [{
        "invoice": invoicing.get_invoice(full["max_invoice"]).number, "client": "Max Mustermann",
        "amount": "10.00", "earned_on": "2026-06-03", "payable_on": "2026-06-03",
        "state": "payable"}]
    assert as_json["payouts"] == [{"amount": "4.00", "paid_on": "2026-07-01",
                                   "method": "Bank transfer", "notes": "First payout"}]
    assert [r["name"] for r in as_json["referrals"]] == ["Max Mustermann"]
    assert as_json["profile"]["referred_by"]["name"] == "Lena Werber"
    json.dumps(as_json)  # every value is JSON


def test_every_stored_file_and_note_is_listed_unchanged(full):
    """The report lists what the rows hold, read directly from the tables."""
    cid = full["client"]
    data = gdpr.collect(cid)
    stored = sorted(ClientFile.select(ClientFile.name, ClientFile.sha256, ClientFile.size,
                                      ClientFile.admin_only)
                    .where(ClientFile.client == cid).tuples())
    assert sorted((f["name"], f["sha256"], f["size"], f["admin_only"])
                  for f in data["files"]) == [(n, s, z, bool(a)) for n, s, z, a in stored]
    assert [n["text"] for n in data["notes"]] == [
        "Called about the invoice; will pay on Friday.", "Asked for a discount on the domain."]


def test_an_empty_client_says_none_stored(company, tmp_path):
    cid = clients.add_client({"first_name": "Ann", "last_name": "Empty",
                              "email": "ann@example.com", "currency": "EUR", "country": "DE"})
    path = gdpr.write_report(cid, tmp_path / "empty.pdf")
    pages, text = read(path)
    assert "PersonaldataheldaboutAnnEmpty" in text
    data = gdpr.collect(cid)
    counts = gdpr.counts(data)
    assert counts.pop("changes") == 1  # "Client created"
    assert set(counts.values()) == {0}
    # each empty section and the admin notes say it; the affiliate's three once
    assert text.count("Nonestored") == len(counts) + 1 - 2
    assert "Nonestored:theclientisnotanaffiliate" in text
    assert pages <= 4  # twenty short sections


def test_unknown_client_is_refused(db, tmp_path):
    with pytest.raises(NotFound) as caught:
        gdpr.write_report(999, tmp_path / "x.pdf")
    assert caught.value.field == "id"
    assert not (tmp_path / "x.pdf").exists()


def test_an_unwritable_path_is_refused_naming_output(full, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "no-such-folder" / "x.pdf"
    with pytest.raises(InvalidInput) as caught:
        gdpr.write_report(full["client"], target)
    assert caught.value.field == "output" and str(target) in caught.value.message
    assert list(out.iterdir()) == []


def test_text_outside_cp1252_is_printed(company, tmp_path):
    cid = clients.add_client({"first_name": "Γιώργος", "last_name": "Παπαδόπουλος",
                              "email": "g@example.gr", "currency": "EUR", "country": "GR",
                              "language": "el"})
    add_note(cid, "Ελληνικά: καλημέρα · Łódź · Москва")
    _, text = read(gdpr.write_report(cid, tmp_path / "el.pdf"))
    assert squash("Γιώργος Παπαδόπουλος") in text
    assert squash("Ελληνικά: καλημέρα · Łódź · Москва") in text


def test_dates_in_a_language_the_builtin_font_cannot_print(db, tmp_path):
    """Latin data, Cyrillic month names: the report still switches font.
    (No company country: its name in Russian would switch it anyway.)"""
    settings.save_company(settings.Company(name="Acme", email="a@acme.example", currency="EUR"))
    cid = clients.add_client({"first_name": "Ivan", "last_name": "Petrov",
                              "email": "ivan@example.com", "currency": "EUR", "country": "DE",
                              "language": "ru"})
    with clock.frozen(NOW):
        path = gdpr.write_report(cid, tmp_path / "ru.pdf")
    _, text = read(path)
    assert day(NOW.date(), "ru") in text and not day(NOW.date(), "ru").isascii()
    assert b"FontFile2" in path.read_bytes()  # a Unicode TrueType font, not Helvetica


def test_plain_text_keeps_the_builtin_font(company, tmp_path):
    cid = clients.add_client({"first_name": "Luc", "last_name": "Petit",
                              "email": "luc@example.fr", "currency": "EUR", "country": "FR",
                              "language": "fr"})
    path = gdpr.write_report(cid, tmp_path / "fr.pdf")
    assert b"FontFile2" not in path.read_bytes()


@pytest.mark.slow
def test_large_client_spans_pages_and_keeps_everything(company, tmp_path):
    cid = clients.add_client({"first_name": "Big", "last_name": "Customer",
                              "email": "big@example.com", "currency": "EUR", "country": "DE",
                              "language": "en"})
    start = dt.date(2020, 1, 1)
    with mail.suppressed():
        ids = [invoicing.create_invoice(cid, [LineInput(f"Month {n + 1} of hosting", "19.99"),
                                              LineInput("Support hours", "45.00")],
                                        date=start + dt.timedelta(days=7 * n))
               for n in range(300)]
    body = "\n".join(f"Line {n} of a very long message about the account." for n in range(400))
    mail.queue_message(cid, subject="The long letter", body=body + "\nTHE-END-OF-THE-LETTER")
    long_note = "\n".join(f"Note line {n}" for n in range(120)) + "\nLAST-NOTE-LINE"
    add_note(cid, long_note)
    add_note(cid, "lorem ipsum " * 800 + "FINAL-WORD")  # one paragraph of 100 lines
    target = tmp_path / "big.pdf"
    info = gdpr.export(cid, target)
    pages, text = read(target)
    assert info.pages == pages > 10
    assert info.sections["invoices"] == 300
    last = invoicing.get_invoice(ids[-1])
    first = invoicing.get_invoice(ids[0])
    assert squash(last.number) in text and squash(first.number) in text
    assert money(last.total, "en") in text
    assert "THE-END-OF-THE-LETTER" in text and "Line399ofavery" in text
    assert "LAST-NOTE-LINE" in text and "Noteline119" in text  # notes longer than a cell
    assert "FINAL-WORD" in text and text.count("loremipsum") == 800
    # the table header repeats on the pages the invoice list runs over
    reader = PdfReader(str(target))
    headed = [i for i, page in enumerate(reader.pages)
              if "NumberDateDuePaidonStatusTotalPaidBalance" in squash(page.extract_text())]
    assert len(headed) > 1


def test_archived_client_and_overrides_show(company, tmp_path):
    cid = clients.add_client({"first_name": "Old", "last_name": "Timer",
                              "email": "old@example.com", "currency": "EUR", "country": "DE",
                              "language": "en"})
    with database.atomic():
        Client.update(archived=True).where(Client.id == cid).execute()
    data = gdpr.collect(cid)
    assert data["profile"]["archived"] is True
    _, text = read(gdpr.write_report(cid, tmp_path / "old.pdf"))
    assert "ArchivedYes" in text and "Active,archived" in text
