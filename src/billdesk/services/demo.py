"""Realistic demo books (``billdesk demo``): names with accents and
apostrophes, companies, countries, phones, groups and contacts, written with
bulk inserts so that 100,000 clients take seconds. Later features add their
own records here.

Billing history (invoices, lines, payments, refunds, credit) is generated in
Python by the same rules the billing services keep (``taxes.compute`` for
every total, the services' descriptions and ledger kinds, numbers in date
order) and written with executemany: calling the services per invoice would
take minutes for 100,000 clients.

With billing, the book also gets a product catalogue and what each client
holds (``_Holdings``): services, addons and domains with their cycles,
statuses, signup and next due dates (``cycles.next_due`` from the signup
day), the client's payment method, and a few service groups — again
written in bulk, from a random stream of their own.

Last come the sales (``_Sales``, a random stream of its own): promotion
codes, orders, quotes, billable items and recurring invoice templates for
a few clients. These go through the services one call at a time (each
keeps its totals, invoice, credit and log as the windows would), so their
number grows slowly with the book (see ``SALES``) rather than with it."""

from __future__ import annotations

import gc
import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import accumulate
from operator import attrgetter

from peewee import fn

from billdesk import clock
from billdesk.errors import BilldeskError, Conflict
from billdesk.models import Client, Invoice, Order, Service, ServiceGroup, database
from billdesk.models.db import PRAGMAS
from billdesk.models.migrations import bulk_client_load
from billdesk.money import Money, minor_digits
from billdesk.services import (
    billable,
    billing_settings,
    catalog,
    changelog,
    clients,
    cycles,
    groups,
    invoicing,
    orders,
    payments,
    promos,
    quotes,
    recurring,
    settings,
    taxes,
)
from billdesk.services.text import counted

FIRST = [
    "Zoë", "José", "François", "Søren", "Łukasz", "Siobhán", "Seán", "Chloé", "Renée", "Björn",
    "Jürgen", "Ana", "Mei", "Ngozi", "Aoife", "Mateo", "Élodie", "Noémie", "Íñigo", "Kateřina",
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Isla", "Jack", "Sophia", "Lucas",
    "Maya", "Ethan", "Hannah", "Daniel", "Grace", "Samuel", "Leah", "Aarav", "Priya", "Kenji",
    "Yuki", "Fatima", "Omar", "Elif", "Mehmet", "Ingrid", "Lars", "Astrid", "Paweł", "Agnieszka",
    "Margarida", "João", "Beatriz", "Dmitri", "Anastasia", "Chiara", "Giulia", "Matteo", "Luca",
    "Sarah", "David", "Michael", "Laura", "Thomas", "Julia", "Marie", "Pierre", "Hélène", "Andrés",
]
LAST = [
    "O'Brien", "D'Angelo", "O'Connor", "Müller", "García", "Núñez", "Kowalski", "Ødegaard",
    "Smith", "Nguyen", "Johnson", "Brown", "Williams", "Jones", "Taylor", "Davies", "Evans",
    "Wilson", "Thomas", "Roberts", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Lefèvre",
    "Moreau", "Rossi", "Russo", "Bianchi", "Fernández", "López", "Martínez", "Gonçalves", "Silva",
    "Novák", "Dvořák", "Nowak", "Wiśniewski", "Jensen", "Nielsen", "Hansen", "Johansson",
    "Andersson", "Yılmaz", "Kaya", "Tanaka", "Suzuki", "Sato", "Kim", "Park", "Chen", "Wang",
    "Okafor", "Mensah", "Patel", "Sharma", "Khan", "McDonald", "MacLeod", "Van der Berg", "De Vries",
    "Ó Súilleabháin", "St. John", "Le Roux", "Åberg", "Strauß",
]
COMPANY_WORDS = [
    "Northwind", "Bluebird", "Lumière", "Fjord", "Kettle", "Harbour", "Alpine", "Copperleaf",
    "Brightwater", "Maple", "Orchid", "Pixel", "Granite", "Meridian", "Saffron", "Atlas", "Nimbus",
    "Quill", "Sparrow", "Tidewater", "Zephyr", "Oakridge", "Crème", "Café Olé", "Straße",
]
COMPANY_KINDS = [
    "Ltd", "GmbH", "SARL", "S.L.", "LLC", "Studio", "& Co.", "Hosting", "Digital", "Web Services",
    "Consulting", "Media", "Design", "IT Solutions", "Bakery", "Architects",
]
# country → (phone prefix, currency, language, cities, email domain)
COUNTRIES = {
    "GB": ("+44", "GBP", "en", ["London", "Leeds", "Bristol", "Glasgow", "Cardiff"], "co.uk"),
    "IE": ("+353", "EUR", "en", ["Dublin", "Cork", "Galway"], "ie"),
    "DE": ("+49", "EUR", "de", ["Berlin", "München", "Köln", "Düsseldorf"], "de"),
    "FR": ("+33", "EUR", "fr", ["Paris", "Lyon", "Orléans", "Besançon"], "fr"),
    "ES": ("+34", "EUR", "es", ["Madrid", "Barcelona", "Málaga", "A Coruña"], "es"),
    "IT": ("+39", "EUR", "it", ["Roma", "Milano", "Torino", "Napoli"], "it"),
    "PT": ("+351", "EUR", "pt", ["Lisboa", "Porto", "Braga"], "pt"),
    "PL": ("+48", "PLN", "pl", ["Warszawa", "Kraków", "Łódź", "Gdańsk"], "pl"),
    "CZ": ("+420", "CZK", "cs", ["Praha", "Brno", "Plzeň"], "cz"),
    "DK": ("+45", "DKK", "da", ["København", "Aarhus", "Odense"], "dk"),
    "NO": ("+47", "NOK", "nb", ["Oslo", "Bergen", "Tromsø"], "no"),
    "SE": ("+46", "SEK", "sv", ["Stockholm", "Göteborg", "Malmö"], "se"),
    "US": ("+1", "USD", "en", ["New York", "Austin", "Seattle", "Chicago", "Denver"], "com"),
    "CA": ("+1", "CAD", "en", ["Toronto", "Montréal", "Vancouver"], "ca"),
    "JP": ("+81", "JPY", "ja", ["Tokyo", "Osaka", "Kyoto"], "jp"),
    "TR": ("+90", "TRY", "tr", ["İstanbul", "Ankara", "İzmir"], "com.tr"),
    "NG": ("+234", "NGN", "en", ["Lagos", "Abuja"], "ng"),
    "AU": ("+61", "AUD", "en", ["Sydney", "Melbourne", "Perth"], "com.au"),
}
COUNTRY_WEIGHTS = [20, 4, 12, 9, 6, 6, 3, 4, 2, 2, 2, 3, 14, 3, 2, 2, 2, 4]
STREETS = ["High Street", "Station Road", "Hauptstraße", "Rue de la Paix", "Calle Mayor",
           "Via Roma", "Main Street", "Church Lane", "Rua Augusta", "Ulica Długa"]
GROUPS = [
    ("VIP", "#d4a017", "10", False),
    ("Resellers", "#7b61ff", "15", True),
    ("Wholesale", "#2e9e6b", "5", False),
    ("Non-profit", "#e0607e", "20", False),
]
CATEGORY_SETS = ["general", "invoice", "general,invoice", "support", "general,support,product",
                 "invoice,domain", "general,invoice,support,product,domain,affiliate"]


@dataclass(frozen=True, slots=True)
class DemoResult:
    clients: int
    contacts: int
    groups: int
    invoices: int = 0
    transactions: int = 0
    credit_entries: int = 0
    products: int = 0
    services: int = 0
    addons: int = 0
    domains: int = 0
    service_groups: int = 0
    promos: int = 0
    orders: int = 0
    quotes: int = 0
    billable_items: int = 0
    recurring_invoices: int = 0
    tickets: int = 0
    affiliates: int = 0
    referrals: int = 0
    commissions: int = 0

    def as_json(self) -> dict[str, int]:
        return {"clients": self.clients, "contacts": self.contacts, "groups": self.groups,
                "invoices": self.invoices, "transactions": self.transactions,
                "credit_entries": self.credit_entries, "products": self.products,
                "services": self.services, "addons": self.addons, "domains": self.domains,
                "service_groups": self.service_groups, "promos": self.promos,
                "orders": self.orders, "quotes": self.quotes,
                "billable_items": self.billable_items,
                "recurring_invoices": self.recurring_invoices, "tickets": self.tickets,
                "affiliates": self.affiliates, "referrals": self.referrals,
                "commissions": self.commissions}


def _ascii(text_: str) -> str:
    from billdesk.services.text import squash

    return squash(text_) or "x"


def create_demo(n_clients: int = 3000, seed: int = 1, *, today: datetime | None = None,
                billing: bool = True) -> DemoResult:
    """Fill an empty book with a demo company and ``n_clients`` clients;
    with ``billing``, also tax rules, payment methods and about two years of
    invoices, payments, refunds and credit for them, a product catalogue,
    the services, addons, domains and service groups they hold, and some
    promotion codes, orders, quotes, billable items and recurring invoices."""
    # Millions of small objects are made here and all live to the end: the
    # cyclic garbage collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _create_demo(n_clients, seed, today, billing)
    finally:
        if collecting:
            gc.enable()


def _create_demo(n_clients: int, seed: int, today: datetime | None, billing: bool) -> DemoResult:
    if n_clients < 0:
        from billdesk.errors import InvalidInput

        raise InvalidInput("clients", "must be zero or more")
    existing = Client.select().count()
    if existing:
        raise Conflict("db", f"the book already has {existing} clients; demo data goes into an empty book")
    rng = random.Random(seed)
    today = (today or datetime.now()).replace(microsecond=0)
    fmt = settings.display_format()
    actor = changelog.current_actor()
    country_codes = list(COUNTRIES)
    with database.atomic():
        if not settings.has_company():
            settings.save_company(settings.Company(
                name="Harbourlight Web Studio Ltd", address1="12 Quayside", city="Bristol",
                postcode="BS1 4RN", country="GB", email="accounts@harbourlight.example",
                phone="+44 117 496 0123", tax_id="GB123456789", currency="GBP"))
        group_ids = [groups.add_group(*g) for g in GROUPS]
        group_keys = {gid: clients.group_key(gid) for gid in group_ids}
        group_keys[None] = ""
        client_rows, log_rows, contact_rows, billing_contacts = [], [], [], []
        history = _BillingHistory(seed, today, actor) if billing else None
        holdings = _Holdings(seed, history) if history is not None else None
        sales = _Sales(seed, history, holdings) if holdings is not None else None
        sort_keys: list[tuple[str, int]] = []
        contact_id = 0
        for client_id in range(1, n_clients + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            cc = rng.choices(country_codes, COUNTRY_WEIGHTS)[0]
            prefix, currency, language, cities, tld = COUNTRIES[cc]
            company = ""
            if rng.random() < 0.45:
                company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
            domain = f"{_ascii(company)[:16]}.{tld}" if company else rng.choice(
                ["mail.example", "post.example", "inbox.example"])
            # mail only ever to reserved .example names (RFC 2606): a demo book
            # tried with real mail settings must not write to strangers
            mail_domain = f"{_ascii(company)[:16]}.example" if company else domain
            email = f"{_ascii(first)}.{_ascii(last)}{client_id}@{mail_domain}"
            phone = f"{prefix} {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
            created = today - timedelta(days=rng.randint(0, 5 * 365), seconds=rng.randint(0, 86399))
            status = rng.choices(["Active", "Inactive", "Closed"], [85, 11, 4])[0]
            group_id = rng.choice(group_ids) if rng.random() < 0.18 else None
            values = {
                "id": client_id, "first_name": first, "last_name": last, "company": company,
                "email": email, "phone": phone,
            }
            index = clients.index_values(values, fmt)
            client_rows.append((
                client_id, first, last, company, email, phone,
                f"{rng.randint(1, 250)} {rng.choice(STREETS)}", "", rng.choice(cities), "",
                f"{rng.randint(10000, 99999)}", cc,
                f"{cc}{rng.randint(100000000, 999999999)}" if company and rng.random() < 0.6 else "",
                "organization" if company else "private", group_id, currency, language, status,
                int(rng.random() < 0.05), int(rng.random() < 0.9), int(rng.random() < 0.95),
                int(rng.random() < 0.9), int(group_id == group_ids[1]), 0, "",
                created.isoformat(" "), created.isoformat(" "),
                None,  # last activity: none yet (the log has only the creation)
                index["sort_name"], index["company_key"], index["email_key"], index["phone_key"],
                index["search_text"], index["search_words"], group_keys[group_id],
            ))
            sort_keys.append((index["sort_name"], client_id))
            log_rows.append((client_id, created.isoformat(" "), actor, "Client created (demo data)"))
            for _ in range(rng.choices([0, 1, 2], [70, 22, 8])[0]):
                contact_id += 1
                cf, cl = rng.choice(FIRST), rng.choice(LAST)
                contact_rows.append((
                    contact_id, client_id, cf, cl, company,
                    f"{_ascii(cf)}.{_ascii(cl)}{contact_id}@{mail_domain}",
                    f"{prefix} {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    rng.choice(CATEGORY_SETS), created.isoformat(" "),
                ))
                if rng.random() < 0.3:
                    billing_contacts.append((contact_id, client_id))
            if history is not None:
                # its own random stream: the clients are the same with or without billing
                billed = history.add_client(
                    client_id, created.date(), currency, cc, client_rows[-1][18], status,
                    clients.display_name(first, last, company, fmt), company and domain, first,
                    last, tld)
                site = (company and domain) or f"{_ascii(first)}{_ascii(last)}.{tld}"
                if holdings is not None:
                    holdings.add_client(client_id, created.date(), currency, status, site, tld,
                                        billed)
                if sales is not None and status == "Active":
                    sales.add_client(client_id, currency, group_id is not None, site, tld)
        ranks = {cid: (i + 1) * clients.RANK_GAP for i, (_, cid) in enumerate(sorted(sort_keys))}
        if history is None:
            client_rows = [row + (ranks[row[0]], "", 0) for row in client_rows]
        else:
            client_rows = [row + (ranks[row[0]], *history.client_values[row[0]])
                           for row in client_rows]
        cursor = database.obj.cursor()
        # 1 GiB: a big book with its billing stays in memory until the commit
        database.obj.execute_sql("PRAGMA cache_size = -1048576")
        with bulk_client_load(database.obj):
            cursor.executemany(
                "INSERT INTO client (id, first_name, last_name, company, email, phone, address1, "
                "address2, city, state, postcode, country, tax_id, account_type, group_id, currency, "
                "language, status, tax_exempt, auto_cc, overdue_notices, late_fees, separate_invoices, "
                "two_factor, notes, created_at, updated_at, last_activity, sort_name, company_key, "
                "email_key, phone_key, search_text, search_words, group_key, name_rank, "
                f"payment_method, credit_balance) VALUES ({', '.join('?' * 38)})", client_rows)
        cursor.executemany(
            "INSERT INTO client_log (client_id, at, actor, message) VALUES (?, ?, ?, ?)", log_rows)
        cursor.executemany(
            "INSERT INTO contact (id, client_id, first_name, last_name, company, email, phone, "
            "categories, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", contact_rows)
        cursor.executemany("UPDATE client SET billing_contact_id = ? WHERE id = ?", billing_contacts)
        counts: tuple[int, ...] = (0, 0, 0)
        held: tuple[int, ...] = (0, 0, 0, 0, 0)
        sold: tuple[int, ...] = (0, 0, 0, 0, 0)
        if history is not None:
            with _indexes_rebuilt(("invoice", "invoice_line", "txn", "credit_entry")):
                counts = history.write(cursor)
        if holdings is not None:
            with _indexes_rebuilt(("service", "service_group")):
                held = holdings.write(cursor)
        if sales is not None:  # through the services: after the bulk rows, on their ids
            sold = sales.write(n_clients)
        support = _support(cursor, seed, today, [(row[0], row[17], row[25], f"{row[1]} {row[2]}")
                                                  for row in client_rows], actor)
        partners = (0, 0, 0)
        if history is not None:
            with clock.frozen(today):  # stamped on the demo's day, as the rest
                partners = _affiliates(seed, today, [(row[0], row[17], row[25])
                                                     for row in client_rows], actor)
        database.obj.execute_sql(f"PRAGMA cache_size = {PRAGMAS['cache_size']}")
    return DemoResult(n_clients, len(contact_rows), len(group_ids), *counts, *held, *sold, support,
                      *partners)


# --------------------------------------------------------------------------- tickets (F3)

# (subject, the client's opening message, the staff answer)
TICKETS = [
    ("Website down since this morning",
     "Our website shows a 503 error since about 8 am. Can you have a look?",
     "Thanks for letting us know. A PHP worker limit was reached on your plan; we have raised it "
     "and the site is back. We will keep an eye on it today."),
    ("Cannot send email from Outlook",
     "Outlook asks for the password again and again when I send an email. Receiving works.",
     "Please set the outgoing server to port 587 with STARTTLS and tick 'My outgoing server "
     "requires authentication'. That should do it."),
    ("Invoice address change",
     "Could you put our new address on the next invoices? We moved last month.",
     "Done: the address on your account is updated and the next invoice will show it."),
    ("SSL certificate warning",
     "Visitors get a certificate warning on the www address.",
     "The certificate only covered the bare domain. We have reissued it for both names."),
    ("Request for a backup restore",
     "A plugin update broke the shop. Could you restore yesterday's backup?",
     "Restored from last night's backup; the plugin is left on its previous version."),
    ("Upgrade to a larger plan",
     "We need more disk space. What are the options?",
     "The Business plan doubles the space; we can switch you today and bill the difference "
     "pro rata."),
    ("Domain transfer out",
     "Please send the EPP code for our domain, we are moving it to our new agency.",
     "The EPP code has been sent to the registrant email address on the domain."),
    ("Slow website",
     "Pages take 6-8 seconds to load since last week.",
     "We enabled page caching and optimised your images; load times are under 2 seconds now."),
]
CLIENT_FOLLOW_UPS = ["Thank you, that worked.", "It happened again this afternoon, could you check?",
                     "Great, thanks for the quick help!", "One more question: is there a cost?"]
TICKET_PRIORITY_WEIGHTS = (("Low", "Medium", "High"), [25, 55, 20])


def _support(cursor, seed: int, today: datetime,  # noqa: ANN001
             people: list[tuple[int, str, str, str]], actor: str) -> int:
    """Support tickets for about one client in ten: an opening message
    from the client, the staff's answer, sometimes a follow-up. Written
    in bulk; returns how many tickets."""
    rng = random.Random(seed * 7919 + 3)
    tickets, replies = [], []
    ticket_id = 0
    for client_id, status, created, name in people:
        if rng.random() >= (0.12 if status == "Active" else 0.04):
            continue
        start = datetime.fromisoformat(created)
        for _ in range(rng.choices([1, 2, 3], [70, 22, 8])[0]):
            ticket_id += 1
            span = max(int((today - start).total_seconds()), 3600)
            opened = start + timedelta(seconds=rng.randint(0, span))
            subject, question, answer = rng.choice(TICKETS)
            messages = [("client", question, opened)]
            at = opened
            fate = rng.choices(["Open", "Answered", "Customer reply", "Closed"], [8, 12, 6, 74])[0]
            if fate != "Open":
                at = min(at + timedelta(minutes=rng.randint(10, 600)), today)
                messages.append(("staff", answer, at))
            if fate == "Customer reply" or (fate == "Closed" and rng.random() < 0.4):
                at = min(at + timedelta(minutes=rng.randint(10, 1440)), today)
                messages.append(("client", rng.choice(CLIENT_FOLLOW_UPS), at))
            priority = rng.choices(*TICKET_PRIORITY_WEIGHTS)[0]
            tickets.append((ticket_id, client_id, subject, priority, fate, opened.isoformat(" "),
                            at.isoformat(" ")))
            replies += [(ticket_id, author, name if author == "client" else actor, text,
                         when.isoformat(" ")) for author, text, when in messages]
    cursor.executemany("INSERT INTO ticket (id, client_id, subject, priority, status, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", tickets)
    cursor.executemany("INSERT INTO ticket_reply (ticket_id, author, name, message, created_at) "
                       "VALUES (?, ?, ?, ?, ?)", replies)
    return len(tickets)


# --------------------------------------------------------------------------- affiliates (F4)

def _affiliates(seed: int, today: datetime, people: list[tuple[int, str, str]],
                actor: str) -> tuple[int, int, int]:
    """A few active clients are affiliates (10 % or a fixed amount per paid
    invoice) who referred clients who signed up after them; the referred
    clients' invoices paid since earn commissions (through
    ``affiliates.accrue``, pending or payable by their dates), and some
    affiliates have been paid part of their balance. Returns (affiliates,
    referrals, commissions)."""
    from billdesk.models import Affiliate, AffiliateReferral
    from billdesk.services import affiliates

    rng = random.Random(seed * 104729 + 11)
    active = [(cid, created) for cid, status, created in people if status == "Active"]
    chosen = sorted(rng.sample(active, min(len(active) // 60, 40)), key=lambda p: p[1])
    if not chosen:
        return 0, 0, 0
    taken = {cid for cid, _ in chosen}
    # the clients who could be referred, by signup: each affiliate's come after it
    later = sorted((created, cid) for cid, _status, created in people if cid not in taken)
    signups = [created for created, _ in later]
    rows, referrals, used = [], [], set()
    for cid, created in chosen:
        percent = rng.random() < 0.75
        rows.append({"id": cid, "client": cid, "commission_type": "percent" if percent else "fixed",
                     "commission_value": rng.choice([500, 1000, 1500]) if percent
                     else rng.choice([500, 1000, 2500]), "activated_at": created})
        first = bisect(signups, created)
        for _ in range(rng.choices([1, 2, 3, 5, 8], [30, 30, 20, 12, 8])[0]):
            if first >= len(later):
                break
            signed, referred = later[rng.randint(first, len(later) - 1)]
            if referred in used:
                continue
            used.add(referred)
            referrals.append({"affiliate": cid, "client": referred, "referred_at": signed})
    Affiliate.insert_many(rows).execute()
    if referrals:
        AffiliateReferral.insert_many(referrals).execute()
    paid = database.execute_sql(
        "SELECT i.id, i.paid_date FROM invoice i JOIN affiliate_referral r ON r.client_id = "
        "i.client_id WHERE i.status = 'Paid' AND i.kind = 'standard' AND i.paid_date >= "
        "substr(r.referred_at, 1, 10) ORDER BY i.id").fetchall()
    earned = affiliates.accrue([(invoice_id, date.fromisoformat(str(day)[:10]))
                                for invoice_id, day in paid], actor)
    for cid, _created in chosen:
        owed = affiliates.balance(cid, today.date())
        if owed.minor_units > 0 and rng.random() < 0.6:
            part = (owed.amount * rng.choice([Decimal("0.5"), Decimal("1")])).quantize(
                owed.amount)
            if part > 0:
                affiliates.record_payout(cid, amount=str(part), paid_on=today.date() - timedelta(
                    days=rng.randint(1, 20)), method=rng.choice(["Bank transfer", "PayPal"]),
                    actor=actor)
    return len(rows), len(referrals), earned


# --------------------------------------------------------------------------- billing history

DEMO_NUMBER_FORMAT = "HLW-{year}-{seq:05}"
# level, name, rate (exact decimal text), country
DEMO_TAX_RULES = [
    (1, "VAT", "20", "GB"), (1, "VAT", "23", "IE"), (1, "MwSt.", "19", "DE"), (1, "TVA", "20", "FR"),
    (1, "IVA", "21", "ES"), (1, "IVA", "22", "IT"), (1, "GST", "10", "AU"), (1, "GST", "5", "CA"),
    (2, "PST", "7", "CA"),
]
# Units of each currency per pound (the demo company bills in GBP): the
# exchange rates in Settings, and how the price list is converted.
DEMO_RATES = {"EUR": "1.17", "USD": "1.27", "PLN": "5.05", "CZK": "29.2", "DKK": "8.72",
              "NOK": "13.6", "SEK": "13.3", "CAD": "1.74", "JPY": "190", "TRY": "41",
              "NGN": "1950", "AUD": "1.93"}
METHODS = [("Bank transfer", 40), ("Card", 35), ("PayPal", 20), ("Cash", 5)]
# method → (fee in tenths of a per cent, fixed part in GBP)
FEES = {"Card": (14, "0.20"), "PayPal": (29, "0.30")}
# (name, monthly price in GBP), weights
PLANS = [("Shared Hosting — Starter", "3.99"), ("Shared Hosting — Business", "7.99"),
         ("WordPress Hosting — Pro", "14.99"), ("Reseller Hosting — Bronze", "24.99"),
         ("Cloud VPS — 2 vCPU, 4 GB", "19.99"), ("Cloud VPS — 4 vCPU, 8 GB", "39.99")]
PLAN_WEIGHTS = [30, 25, 14, 5, 16, 10]
CYCLES = [(1, "Monthly"), (3, "Quarterly"), (12, "Annually")]  # a year costs 10 months
CYCLE_WEIGHTS = [50, 15, 35]
DOMAIN_PRICES = {"co.uk": "7.99", "com": "11.99", "de": "6.99", "fr": "8.99", "ie": "19.99",
                 "es": "9.99", "it": "8.99", "pt": "14.99", "pl": "9.99", "cz": "9.99",
                 "dk": "10.99", "no": "14.99", "se": "11.99", "ca": "12.99", "jp": "34.99",
                 "com.tr": "12.99", "ng": "14.99", "com.au": "13.99"}
EXTRA_DOMAIN_WORDS = ["shop", "blog", "mail", "studio", "events", "cloud", "app", "store"]
# (description, price in GBP, taxed, per month of the hosting cycle)
ADDONS = [("Daily Off-site Backups", "2.50", True, True),
          ("Email Hosting — 5 mailboxes", "5.00", True, True),
          ("Dedicated IP Address", "2.00", True, True),
          ("SSL Certificate — {site} (1 year)", "39.00", True, False),
          ("cPanel Licence (pass-through, no VAT)", "12.00", False, False)]
SUPPORT_TASKS = ["WordPress core and plugin updates", "Email migration to new mailboxes",
                 "DNS changes and SSL set-up", "Site speed optimisation",
                 "Restore from backup after a failed update", "Malware clean-up",
                 "Contact form and SMTP fixes", "Ad-hoc support", "Server hardening",
                 "Online shop configuration"]
SUPPORT_RATE = "60.00"  # GBP an hour
# half-hours of support, weights
SUPPORT_HALF_HOURS = [1, 2, 3, 4, 6, 8, 12, 16]
SUPPORT_WEIGHTS = [10, 25, 12, 18, 12, 10, 8, 5]
HOURS_TEXT = {n: f"{n // 2}" + (".5" if n % 2 else "") for n in SUPPORT_HALF_HOURS}
ADD_FUNDS_AMOUNTS = ["25", "50", "100", "200", "250", "500"]
CREDIT_AMOUNTS = ["5", "10", "15", "20", "25", "50"]
ADJUST_AMOUNTS = ["1", "2", "5", "12"]
CREDIT_ADDED = ["Goodwill credit for the outage of {when}", "Referral reward",
                "Prepayment received by bank transfer", "Compensation for a late domain renewal",
                "Credit carried over from the old billing system"]
CREDIT_REMOVED = ["Paid back to the client by bank transfer", "Credit expired under the terms of service",
                  "Duplicate credit corrected"]
ADJUST_REASONS = ["balance agreed with the client on the phone", "rounding difference corrected",
                  "balance carried over from the previous billing system"]
INVOICE_COUNT_WEIGHTS = [24, 22, 17, 12, 9, 6, 5, 3, 2]  # 0 … 8 invoices in two years
TERMS = [14, 7, 30]
TERM_WEIGHTS = [70, 15, 15]
TIMES = [f"{h:02}:{m:02}:{s:02}" for h, m, s in
         ((9 + i % 9, (i * 7) % 60, (i * 13) % 60) for i in range(97))]

_ADDED, _INVOICE, _FUNDS, _REMOVED, _ADJUST, _REVERSAL = range(6)


def _weighted(values, weights) -> tuple[tuple, list[int]]:  # noqa: ANN001
    return tuple(values), list(accumulate(weights))


W_COUNT = _weighted(range(9), INVOICE_COUNT_WEIGHTS)
W_TERMS = _weighted(TERMS, TERM_WEIGHTS)
W_PLANS = _weighted(PLANS, PLAN_WEIGHTS)
W_CYCLES = _weighted(CYCLES, CYCLE_WEIGHTS)
W_LINES = _weighted((1, 2, 3, 4), (50, 28, 15, 7))
W_SUPPORT = _weighted(SUPPORT_HALF_HOURS, SUPPORT_WEIGHTS)


class _Random(random.Random):
    """Cheaper draws than random.Random's (the billing history makes a few
    million): same seed, same demo."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):  # noqa: ANN001, ANN201
        return seq[int(self.random() * len(seq))]

    def pick(self, weighted: tuple[tuple, list[int]]):  # noqa: ANN201
        values, cumulative = weighted
        return values[bisect(cumulative, self.random() * cumulative[-1])]


class _indexes_rebuilt:
    """For loading many rows into empty tables inside a transaction: their
    (non-unique) indexes are dropped, and made again, from the same SQL,
    once the rows are in — several times faster than growing them row by
    row. A failure rolls the transaction, and so the drop, back."""

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.tables = tables
        self.indexes: list[tuple[str, str]] = []

    def __enter__(self) -> None:
        marks = ", ".join("?" * len(self.tables))
        self.indexes = database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks})", self.tables).fetchall()
        for name, _ in self.indexes:
            database.execute_sql(f'DROP INDEX "{name}"')

    def __exit__(self, *exc: object) -> None:
        for _, sql in self.indexes:
            database.execute_sql(sql)


_by_date = attrgetter("date")


class _Invoice:
    __slots__ = ("client_id", "date", "due", "kind", "status", "paid_date", "method", "rates",
                 "lines", "subtotal", "tax1", "tax2", "total", "credit", "paid", "refunded",
                 "updated", "notes", "id", "number")


class _Txn:
    __slots__ = ("client", "invoice", "date", "method", "reference", "amount_in", "fee",
                 "amount_out", "refund_of", "to_credit", "id")


class _Entry:
    __slots__ = ("client", "date", "kind", "amount", "invoice", "txn", "text", "reverses", "id")


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (either sign)."""
    if numerator < 0:
        return -_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def _avail(entries: list[_Entry], day: int) -> int:
    """How much credit may be taken on ``day`` without the balance going
    below zero on that day or any later one (ends of days; within a day the
    entries are written additions first, so a day's lowest point is its end)."""
    if not entries:
        return 0
    items = sorted((e.date, e.amount) for e in entries)
    balance, i, n = 0, 0, len(items)
    while i < n and items[i][0] <= day:
        balance += items[i][1]
        i += 1
    low = balance
    while i < n:
        current = items[i][0]
        while i < n and items[i][0] == current:
            balance += items[i][1]
            i += 1
        low = min(low, balance)
    return max(low, 0)


class _BillingHistory:
    """About two years of billing for each demo client, by the services' rules."""

    def __init__(self, seed: int, today: datetime, actor: str) -> None:
        self.rng = _Random(f"billdesk demo billing {seed}")
        self.today = today.date().toordinal()
        self.actor = actor
        self.isos = {day: date.fromordinal(day).isoformat()
                     for day in range(self.today - 6 * 366, self.today + 400)}
        # created_at / updated_at texts: a time of day that varies from day to day
        self.stamps = {day: f"{text} {TIMES[day % 97]}" for day, text in self.isos.items()}
        self.late_stamps = {day: f"{text} {TIMES[(day * 7 + 50) % 97]}" for day, text in self.isos.items()}
        self.now = today.strftime("%Y-%m-%d %H:%M:%S")  # today's: not later than the demo's now
        for stamps in (self.stamps, self.late_stamps):
            stamps[self.today] = min(stamps[self.today], self.now)
        self.client_values: dict[int, tuple[str, int]] = {}
        self.by_day: dict[int, list[_Invoice]] = defaultdict(list)
        self.txns: list[_Txn] = []
        self.entries: list[_Entry] = []
        self.log_rows: list[tuple] = []
        self._totals: dict[tuple, tuple[int, int, int, int]] = {}
        self._periods: dict[int, str] = {}
        self._prices: dict[str, dict[str, int]] = {}
        self._kits: dict[tuple[str, str], tuple] = {}
        self._setup()

    # --- settings: tax rules, numbering, payment methods, exchange rates

    def _setup(self) -> None:
        from billdesk.models import CreditEntry, Invoice, Transaction

        # Settings already made in this book are kept (as the company is).
        current = billing_settings.billing()
        if current.number_format == billing_settings.DEFAULT_NUMBER_FORMAT:
            current.number_format = DEMO_NUMBER_FORMAT
            billing_settings.save_billing(current)
        self.number_format = current.number_format
        self.compound, self.inclusive = current.tax_compound, current.tax_inclusive
        if not billing_settings.tax_rules():
            for level, name, rate, country in DEMO_TAX_RULES:
                billing_settings.add_tax_rule(level, name, rate, country)
        if not billing_settings.payment_methods():
            billing_settings.set_payment_methods([name for name, _ in METHODS])
        known = billing_settings.payment_methods()
        self.methods = [name for name, _ in METHODS if name in known] or known
        weights = dict(METHODS)
        self.w_methods = _weighted(self.methods, [weights.get(name, 5) for name in self.methods])
        if settings.default_currency() == "GBP":
            known = billing_settings.currencies()
            for code, rate in DEMO_RATES.items():
                if code not in known:
                    billing_settings.set_currency_rate(code, rate)
        self.exempt_rates = taxes.TaxRates(compound=self.compound, inclusive=self.inclusive)
        self._rates: dict[tuple[str, str], tuple] = {}
        self.next_seq = billing_settings.next_number()
        self.invoice_id = Invoice.select(Invoice.id).order_by(Invoice.id.desc()).scalar() or 0
        self.txn_id = Transaction.select(Transaction.id).order_by(Transaction.id.desc()).scalar() or 0
        self.entry_id = CreditEntry.select(CreditEntry.id).order_by(CreditEntry.id.desc()).scalar() or 0

    def rates_for(self, currency: str, country: str,
                  exempt: bool) -> tuple[taxes.TaxRates, tuple[str, str, str, str, str, int, int]]:
        """As invoicing.rates_for_client (demo clients have no state), and
        the invoice columns that store them (currency first)."""
        key = (currency, "" if exempt else country)
        found = self._rates.get(key)
        if found is None:
            if exempt:
                rates = self.exempt_rates
            else:
                rule1 = billing_settings.rule_for(1, country, "")
                rule2 = billing_settings.rule_for(2, country, "")
                rates = taxes.TaxRates(
                    rule1.rate if rule1 else Decimal(0), rule2.rate if rule2 else Decimal(0),
                    self.compound, self.inclusive, rule1.name if rule1 else "",
                    rule2.name if rule2 else "")
            found = self._rates[key] = (rates, (
                currency, rates.name1, str(rates.rate1), rates.name2, str(rates.rate2),
                int(rates.compound), int(rates.inclusive)), len(self._rates))
        return found

    def totals(self, currency: str, rates: taxes.TaxRates, rates_key: int,
               lines: list[tuple[str, int, bool, str]]) -> tuple[int, int, int, int]:
        """taxes.compute over the lines. It reads only the sum of the lines
        and the sum of the taxed ones, so results are kept by those."""
        line_sum = taxed_sum = 0
        for _, amount, taxed, _ in lines:
            line_sum += amount
            if taxed:
                taxed_sum += amount
        if not rates.any:  # what compute gives for rates of zero, in every mode
            return line_sum, 0, 0, line_sum
        key = (rates_key, taxed_sum, line_sum)
        found = self._totals.get(key)
        if found is None:
            money = Money.from_minor
            t = taxes.compute([(money(taxed_sum, currency), True),
                               (money(line_sum - taxed_sum, currency), False)], rates, currency)
            found = self._totals[key] = (t.subtotal.minor_units, t.tax1.minor_units,
                                         t.tax2.minor_units, t.total.minor_units)
        return found

    def iso(self, day: int) -> str:
        return self.isos[day]

    @staticmethod
    @lru_cache(maxsize=None)
    def price(currency: str, gbp: str) -> int:
        """A price list figure in the client's currency, in minor units."""
        rate = Decimal(DEMO_RATES.get(currency, "1")) if currency != "GBP" else Decimal(1)
        value = Decimal(gbp) * rate
        if rate >= 20:  # whole tens in currencies with small units
            value = max((value / 10).quantize(Decimal(1), ROUND_HALF_UP) * 10, Decimal(10))
        digits = minor_digits(currency)
        return int(value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP).scaleb(digits))

    def kit(self, currency: str, tld: str) -> tuple:
        """Prices, the domain price, the support rate and the payment fees
        for clients in one currency and country."""
        key = (currency, tld)
        found = self._kits.get(key)
        if found is None:
            price = self.prices(currency)
            found = self._kits[key] = (
                price, price[DOMAIN_PRICES.get(tld, "12.99")], price[SUPPORT_RATE],
                self.text(currency, price[SUPPORT_RATE]),
                {method: (tenths, price[fixed]) for method, (tenths, fixed) in FEES.items()})
        return found

    def prices(self, currency: str) -> dict[str, int]:
        """Every figure of the price list in one currency."""
        found = self._prices.get(currency)
        if found is None:
            figures = {gbp for _, gbp in PLANS} | set(DOMAIN_PRICES.values()) | {"12.99"}
            figures |= {gbp for _, gbp, _, _ in ADDONS} | {SUPPORT_RATE, "10"}
            figures |= set(ADD_FUNDS_AMOUNTS) | {fixed for _, fixed in FEES.values()}
            figures |= set(CREDIT_AMOUNTS) | set(ADJUST_AMOUNTS)
            found = self._prices[currency] = {gbp: self.price(currency, gbp) for gbp in figures}
        return found

    @staticmethod
    @lru_cache(maxsize=None)
    def text(currency: str, units: int) -> str:
        return str(Money.from_minor(units, currency))

    def period(self, day: int, months: int) -> str:
        """"(2024-03-05 – 2024-04-04)": a billing period from ``day``."""
        key = day * 16 + months
        found = self._periods.get(key)
        if found is None:
            found = self._periods[key] = self._period(day, months)
        return found

    @staticmethod
    def _period(day: int, months: int) -> str:
        start = date.fromordinal(day)
        month = start.month - 1 + months
        year, month = start.year + month // 12, month % 12 + 1
        for last in (start.day, 30, 29, 28):
            try:
                end = date(year, month, last)
                break
            except ValueError:
                continue
        return f"({start.isoformat()} – {(end - timedelta(days=1)).isoformat()})"

    # --- one client

    def add_client(self, client_id: int, created: date, currency: str, country: str, exempt: int,
                   status: str, name: str, domain: str, first: str, last: str,
                   tld: str) -> _Client | None:
        """The client's billing history; returns it (None when it has none)."""
        rng = self.rng
        rand, randint = rng.random, rng.randint
        today = self.today
        method = rng.pick(self.w_methods)
        start = max(created.toordinal(), today - 730)
        span = today - start
        count = rng.pick(W_COUNT)
        count = min(count, 1 + span // 45)
        events = [(randint(start, today), _INVOICE) for _ in range(count)]
        if rand() < 0.04:
            events.append((randint(start, today), _FUNDS))
        if rand() < 0.07:  # credit added by hand; later some of it removed, or the entry deleted
            added = randint(start, today)
            events.append((added, _ADDED))
            r = rand()
            if r < 0.25:
                events.append((randint(added, today), _REMOVED))
            elif r < 0.4:
                events.append((randint(added, min(today, added + 30)), _REVERSAL))
        if rand() < 0.015:
            events.append((randint(start, today), _ADJUST))
        if not events:
            self.client_values[client_id] = (method, 0)
            return None
        events.sort()
        client = (client_id, name, currency)
        c = _Client(self, client, currency, *self.rates_for(currency, country, bool(exempt)), method,
                    domain or f"{_ascii(first)}{_ascii(last)}.{tld}", tld, status)
        for day, kind in events:
            if kind == _INVOICE:
                c.standard_invoice(day)
            elif kind == _FUNDS:
                c.add_funds_invoice(day)
            else:
                c.manual_credit(day, kind)
        # ids in time order (within a day, credit additions first: see _avail)
        if len(c.txns) > 1:
            c.txns.sort(key=_by_date)
        if len(c.entries) > 1:
            c.entries.sort(key=lambda e: (e.date, e.amount < 0))
        for txn in c.txns:
            self.txn_id += 1
            txn.id = self.txn_id
        for entry in c.entries:
            self.entry_id += 1
            entry.id = self.entry_id
        self.txns += c.txns
        self.entries += c.entries
        balance = sum(e.amount for e in c.entries) if c.entries else 0
        self.client_values[client_id] = (method, balance)
        if c.invoices or c.entries:
            self.log_rows.append((
                client_id, min(f"{self.isos[c.last]} 18:00:00", self.now), self.actor,
                f"Billing history added (demo data): {counted(len(c.invoices), 'invoice')}, "
                f"{counted(len(c.txns), 'transaction')}, "
                f"{counted(len(c.entries), 'credit entry', 'credit entries')}"))
        return c

    # --- writing

    def write(self, cursor) -> tuple[int, int, int]:  # noqa: ANN001
        invoices: list[_Invoice] = []
        seq = self.next_seq
        next_id = self.invoice_id
        template = self.number_format
        fast = template == DEMO_NUMBER_FORMAT
        for day in sorted(self.by_day):
            year = date.fromordinal(day).year
            when = date.fromordinal(day)
            for inv in self.by_day[day]:
                next_id += 1
                inv.id = next_id
                if inv.status != "Draft":
                    inv.number = (f"HLW-{year}-{seq:05}" if fast
                                  else billing_settings.format_number(template, seq, when))
                    seq += 1
                invoices.append(inv)
        if invoices and fast:  # the fast path writes what format_number would
            sample = [i for i in invoices[:: max(1, len(invoices) // 50)] if i.number]
            for i in sample:
                assert i.number == billing_settings.format_number(
                    template, int(i.number.rsplit("-", 1)[1]), date.fromordinal(i.date)), i.number
        iso = self.isos.__getitem__
        stamp, late_stamp = self.stamps.__getitem__, self.late_stamps.__getitem__

        # rows are made as SQLite takes them (generators): a big book's rows
        # would otherwise all sit in memory at once
        def invoice_rows() -> Iterator[tuple]:
            for inv in invoices:
                r = inv.rates
                yield (inv.id, inv.client_id, inv.number, inv.kind, inv.status, iso(inv.date),
                       iso(inv.due), iso(inv.paid_date) if inv.paid_date else None, r[0], inv.method,
                       r[1], r[2], r[3], r[4], r[5], r[6], inv.subtotal, inv.tax1, inv.tax2,
                       inv.total, inv.credit, inv.paid, inv.refunded, inv.notes, stamp(inv.date),
                       stamp(inv.date) if inv.updated == inv.date else late_stamp(inv.updated))

        def line_rows() -> Iterator[tuple]:
            for inv in invoices:
                iid = inv.id
                for pos, (description, amount, taxed, type_) in enumerate(inv.lines, 1):
                    yield iid, pos, description, amount, taxed, type_

        def txn_rows() -> Iterator[tuple]:
            for t in self.txns:
                (client_id, name, currency), inv, refund_of = t.client, t.invoice, t.refund_of
                if refund_of is None:
                    description = f"Payment for invoice #{inv.number}"
                elif t.to_credit:
                    description = f"Refund of transaction #{refund_of.id} to credit"
                else:
                    description = f"Refund of transaction #{refund_of.id}"
                yield (t.id, client_id, name, inv.id, iso(t.date), t.method, t.reference, description,
                       currency, t.amount_in, t.fee, t.amount_out,
                       refund_of.id if refund_of is not None else None, t.to_credit,
                       late_stamp(t.date))

        def entry_rows() -> Iterator[tuple]:
            for e in self.entries:
                inv, kind = e.invoice, e.kind
                if kind == "applied":
                    description = f"Credit applied to invoice #{inv.number}"
                elif kind == "overpayment":
                    description = f"Credit for overpayment of invoice #{inv.number}"
                elif kind == "add_funds":
                    description = f"Add funds: invoice #{inv.number}"
                elif kind == "refund":
                    description = (f"Refund of payment on invoice #{inv.number} to credit"
                                   if e.amount > 0 else f"Add funds refunded: invoice #{inv.number}")
                elif kind == "returned":
                    description = e.text.format(inv.number)
                elif kind == "reversal":
                    description = f"Deleted entry #{e.reverses.id}: {e.reverses.text}"
                else:
                    description = e.text
                yield (e.id, e.client[0], iso(e.date), kind, description, e.amount,
                       inv.id if inv is not None else None, e.txn.id if e.txn is not None else None,
                       e.reverses.id if e.reverses is not None else None, late_stamp(e.date))

        cursor.executemany(
            "INSERT INTO invoice (id, client_id, number, kind, status, date, due_date, paid_date, "
            "currency, payment_method, tax1_name, tax1_rate, tax2_name, tax2_rate, tax_compound, "
            "tax_inclusive, subtotal, tax1, tax2, total, credit, paid, refunded, notes, created_at, "
            f"updated_at) VALUES ({', '.join('?' * 26)})", invoice_rows())
        cursor.executemany(
            "INSERT INTO invoice_line (invoice_id, position, description, amount, taxed, type) "
            "VALUES (?, ?, ?, ?, ?, ?)", line_rows())
        cursor.executemany(
            "INSERT INTO txn (id, client_id, client_name, invoice_id, date, method, reference, "
            "description, currency, amount_in, fee, amount_out, refund_of, to_credit, created_at) "
            f"VALUES ({', '.join('?' * 15)})", txn_rows())
        cursor.executemany(
            "INSERT INTO credit_entry (id, client_id, date, kind, description, amount, invoice_id, "
            "transaction_id, reverses_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            entry_rows())
        cursor.executemany("INSERT INTO client_log (client_id, at, actor, message) VALUES (?, ?, ?, ?)",
                           self.log_rows)
        if seq != self.next_seq:
            cursor.execute("UPDATE number_sequence SET next_value = ? WHERE name = 'invoice'", (seq,))
        return len(invoices), len(self.txns), len(self.entries)


class _Client:
    """One client's billing, event by event in date order."""

    def __init__(self, book: _BillingHistory, client: tuple[int, str, str], currency: str,
                 rates: taxes.TaxRates, stored_rates: tuple, rates_key: int, method: str, site: str,
                 tld: str, status: str) -> None:
        rng = book.rng
        self.book, self.rng, self.rand, self.client, self.currency = book, rng, rng.random, client, currency
        self.method, self.site, self.status = method, site, status
        self.rates = rates
        self.stored_rates, self.rates_key = stored_rates, rates_key
        (self.price, self.domain_price, self.support_rate, self.support_rate_text,
         self.fees) = book.kit(currency, tld)
        self.terms = rng.pick(W_TERMS)
        self.plan = rng.pick(W_PLANS) if rng.random() < 0.85 else None
        self.cycle = rng.pick(W_CYCLES)
        self.invoices: list[_Invoice] = []
        self.txns: list[_Txn] = []
        self.entries: list[_Entry] = []
        self.domain_billed = False
        self.last = 0  # the day of the latest record

    # --- building blocks, as the services write them

    def _invoice(self, day: int, kind: str, lines: list[tuple[str, int, bool, str]]) -> _Invoice:
        inv = _Invoice()
        inv.client_id = self.client[0]
        inv.date = inv.updated = day
        inv.due = day + self.terms
        inv.kind = kind
        inv.method = self.method
        inv.lines = lines
        if kind == "add_funds":
            inv.rates = (self.currency, "", "0", "", "0", 0, 0)  # taxes.NO_TAX
            inv.subtotal, inv.tax1, inv.tax2, inv.total = lines[0][1], 0, 0, lines[0][1]
        else:
            inv.rates = self.stored_rates
            inv.subtotal, inv.tax1, inv.tax2, inv.total = self.book.totals(
                self.currency, self.rates, self.rates_key, lines)
        inv.status, inv.paid_date, inv.notes = "Unpaid", None, ""
        inv.credit = inv.paid = inv.refunded = 0
        inv.number = None
        if day > self.last:
            self.last = day
        self.invoices.append(inv)
        self.book.by_day[day].append(inv)
        return inv

    def _entry(self, day: int, kind: str, amount: int, invoice: _Invoice | None = None,
               txn: _Txn | None = None, text: str = "", reverses: _Entry | None = None) -> _Entry:
        e = _Entry()
        e.client, e.date, e.kind, e.amount = self.client, day, kind, amount
        e.invoice, e.txn, e.text, e.reverses = invoice, txn, text, reverses
        self.entries.append(e)
        if invoice is not None and day > invoice.updated:
            invoice.updated = day
        if day > self.last:
            self.last = day
        return e

    def _reference(self, method: str) -> str:
        bits = self.rng.getrandbits(48)
        if method == "Card":
            return f"ch_{bits:012x}"
        if method == "PayPal":
            return f"{bits:014X}"[:17]
        if method == "Bank transfer":
            return f"TRF{bits % 10**8:08}"
        return f"Receipt {bits % 10**5:05}" if method == "Cash" else ""

    def _pay(self, inv: _Invoice, amount: int, day: int, *, overpay: int = 0) -> _Txn:
        """payments.add_payment: ``amount`` settles the invoice, ``overpay``
        more goes to credit (add-funds payments go to credit whole)."""
        t = _Txn()
        t.client, t.invoice, t.date = self.client, inv, day
        method = inv.method if self.rand() < 0.93 else self.rng.choice(self.book.methods)
        t.method, t.reference = method, self._reference(method)
        t.amount_in = amount + overpay
        fee = self.fees.get(method)
        t.fee = min(t.amount_in, _half_up(t.amount_in * fee[0], 1000) + fee[1]) if fee else 0
        t.amount_out, t.refund_of, t.to_credit = 0, None, 0
        self.txns.append(t)
        inv.paid += amount
        if day > inv.updated:
            inv.updated = day
        if day > self.last:
            self.last = day
        if inv.kind == "add_funds":
            self._entry(day, "add_funds", t.amount_in, inv, t)
        elif overpay:
            self._entry(day, "overpayment", overpay, inv, t)
        if inv.paid + inv.credit == inv.total:
            inv.status, inv.paid_date = "Paid", day
        return t

    def _refund(self, payment: _Txn, amount: int, day: int, to_credit: bool) -> None:
        """payments.refund."""
        inv = payment.invoice
        t = _Txn()
        t.client, t.invoice, t.date = self.client, inv, day
        t.method = "Credit" if to_credit else payment.method
        t.reference = "" if to_credit else self._reference(payment.method)
        t.amount_in, t.fee, t.amount_out = 0, 0, amount
        t.refund_of, t.to_credit = payment, int(to_credit)
        self.txns.append(t)
        if to_credit:
            self._entry(day, "refund", amount, inv, t)
        elif inv.kind == "add_funds":
            self._entry(day, "refund", -amount, inv, t)
        was_paid = inv.status == "Paid"
        inv.refunded += amount
        if day > inv.updated:
            inv.updated = day
        if day > self.last:
            self.last = day
        if was_paid and inv.refunded >= inv.paid:
            inv.status = "Refunded"

    def _apply_credit(self, inv: _Invoice, day: int, most: int | None = None) -> int:
        """invoicing.apply_credit_to_new_invoice: what credit there is, up to
        the balance due (and ``most``)."""
        value = min(_avail(self.entries, day), inv.total - inv.credit - inv.paid)
        if most is not None:
            value = min(value, most)
        if value > 0:
            self._entry(day, "applied", -value, inv)
            inv.credit += value
            if inv.credit + inv.paid == inv.total:
                inv.status, inv.paid_date = "Paid", day
        return max(value, 0)

    # --- lines

    def _lines(self, day: int) -> list[tuple[str, int, bool, str]]:
        rng, price = self.rng, self.price
        months, cycle_name = self.cycle
        lines: list[tuple[str, int, bool, str]] = []
        count = rng.pick(W_LINES)
        hosting = 0
        if self.plan is not None and rng.random() < 0.8:
            name, monthly = self.plan
            hosting = price[monthly] * (10 if months == 12 else months)
            lines.append((f"{name} — {self.site} — {cycle_name} {self.book.period(day, months)}",
                          hosting, True, "Hosting"))
        else:
            lines.append(self._support())
        while len(lines) < count:
            pick = rng.random()
            if pick < 0.3:
                if not self.domain_billed:
                    self.domain_billed = True
                    lines.append((f"Domain Registration — {self.site} (1 year)", self.domain_price,
                                  True, "Domain"))
                else:
                    word = rng.choice(EXTRA_DOMAIN_WORDS)
                    lines.append((f"Domain Registration — {word}-{self.site} (1 year)",
                                  self.domain_price, True, "Domain"))
            elif pick < 0.6:
                text, gbp, taxed, monthly = rng.choice(ADDONS)
                if monthly:
                    lines.append((f"{text} {self.book.period(day, months)}", price[gbp] * months,
                                  taxed, "Addon"))
                else:
                    lines.append((text.format(site=self.site), price[gbp], taxed, "Addon"))
            elif pick < 0.9 or not hosting:
                lines.append(self._support())
            else:
                lines.append(("Loyalty discount (10 %)", -_half_up(hosting * 10, 100), True, "Promo"))
                hosting = 0  # once
        return lines

    def _support(self) -> tuple[str, int, bool, str]:
        rng = self.rng
        half_hours = rng.pick(W_SUPPORT)
        hours = HOURS_TEXT[half_hours]
        return (f"Support: {rng.choice(SUPPORT_TASKS)} ({hours} h × {self.support_rate_text})",
                _half_up(self.support_rate * half_hours, 2), True, "Item")

    # --- events

    def standard_invoice(self, day: int) -> None:
        rng, today = self.rng, self.book.today
        rand, randint = rng.random, rng.randint
        inv = self._invoice(day, "standard", self._lines(day))
        total, age = inv.total, today - day
        r = rand()
        if age <= 14 and self.status != "Closed" and r < 0.2:
            inv.status = "Draft"  # not published yet: no number, nothing taken
            return
        if r < 0.025:
            self._cancelled(inv)
            return
        overdue = inv.due < today
        unpaid_chance = 0.6 if not overdue else 0.2 if age < 60 else 0.025
        if rand() < unpaid_chance:
            if self.entries and self._apply_credit(inv, day) == total:
                return  # the credit covered it: Paid
            if rand() < 0.2 and total - inv.credit >= 2 and day < today:
                left = total - inv.credit
                self._pay(inv, max(1, left * randint(20, 70) // 100), randint(day + 1, today))
            if overdue and age > 90 and rand() < 0.35:
                inv.status = "Collections"
                inv.notes = "Passed to Northgate Collections"
            return
        if self.entries and rand() < 0.9 and self._apply_credit(inv, day) == total:
            return
        left = total - inv.credit
        pay_day = randint(day, min(today, inv.due + 10))
        x = rand()
        if x < 0.08 and left >= 4:
            first = left * randint(25, 60) // 100
            self._pay(inv, first, randint(day, pay_day))
            self._pay(inv, left - first, pay_day)
        elif x < 0.11:
            unit = self.price["10"]
            extra = -left % unit or unit  # paid a round figure
            self._pay(inv, left, pay_day, overpay=extra)
        else:
            self._pay(inv, left, pay_day)
        y = rand()
        if y < 0.015:  # refunded whole: each payment, back by its method or to credit
            for t in [t for t in self.txns if t.invoice is inv]:
                self._refund(t, self._refundable(t), randint(t.date, min(today, t.date + 45)),
                             rand() < 0.4)
        elif y < 0.035:  # part of the last payment refunded (a discount given afterwards)
            t = self.txns[-1]
            left = self._refundable(t)
            if left >= 2:
                self._refund(t, max(1, left * randint(10, 40) // 100),
                             randint(t.date, min(today, t.date + 45)), rand() < 0.5)

    def _refundable(self, t: _Txn) -> int:
        """payments.refundable: the part that went to the invoice, less refunds."""
        excess = sum(e.amount for e in self.entries if e.txn is t and e.kind == "overpayment")
        refunded = sum(r.amount_out for r in self.txns if r.refund_of is t)
        return t.amount_in - excess - refunded

    def _cancelled(self, inv: _Invoice) -> None:
        """invoicing.cancel_invoice, sometimes after credit or a part payment."""
        rng, today = self.rng, self.book.today
        inv.notes = "Cancelled at the client's request"
        if inv.date < today:
            cancel_day = rng.randint(inv.date + 1, min(today, inv.due + 30))
            r = rng.random()
            if r < 0.25:
                self._apply_credit(inv, inv.date, inv.total - 1)
            elif r < 0.4 and inv.total >= 2:
                self._pay(inv, inv.total // 2, rng.randint(inv.date, cancel_day))
            if inv.credit:
                self._entry(cancel_day, "returned", inv.credit, inv,
                            text="Credit returned from cancelled invoice #{}")
            if inv.paid:
                self._entry(cancel_day, "returned", inv.paid, inv,
                            text="Payments on cancelled invoice #{} kept as credit")
            inv.updated = max(inv.updated, cancel_day)
            self.last = max(self.last, cancel_day)
        inv.status, inv.credit = "Cancelled", 0

    def add_funds_invoice(self, day: int) -> None:
        rng, today = self.rng, self.book.today
        amount = self.price[rng.choice(ADD_FUNDS_AMOUNTS)]
        inv = self._invoice(day, "add_funds", [("Add funds to account credit", amount, False, "AddFunds")])
        if today - day <= 10 and rng.random() < 0.4:
            return  # Unpaid (not a debt: add-funds invoices are left out of what is owed)
        if rng.random() < 0.05:
            inv.status, inv.notes = "Cancelled", "Cancelled at the client's request"
            return
        t = self._pay(inv, amount, rng.randint(day, min(today, day + 5)))
        if rng.random() < 0.06:  # refunded by its method, while the credit is still there
            when = rng.randint(t.date, min(today, t.date + 30))
            value = amount if rng.random() < 0.6 else amount // 2
            if 0 < value <= _avail(self.entries, when):
                self._refund(t, value, when, False)

    def manual_credit(self, day: int, kind: int) -> None:
        rng = self.rng
        if kind == _ADDED:
            text = rng.choice(CREDIT_ADDED).replace("{when}", self.book.iso(day - rng.randint(3, 20)))
            self._entry(day, "added", self.price[rng.choice(CREDIT_AMOUNTS)],
                        text=text)
        elif kind == _REMOVED:
            available = _avail(self.entries, day)
            if available > 0:
                self._entry(day, "removed", -max(1, available * rng.randint(20, 100) // 100),
                            text=rng.choice(CREDIT_REMOVED))
        elif kind == _ADJUST:
            reason = f"Manual balance adjustment: {rng.choice(ADJUST_REASONS)}"
            available = _avail(self.entries, day)
            if available > 0 and rng.random() < 0.5:
                self._entry(day, "adjustment", -max(1, available * rng.randint(10, 50) // 100),
                            text=reason)
            else:
                self._entry(day, "adjustment", self.price[rng.choice(ADJUST_AMOUNTS)], text=reason)
        elif kind == _REVERSAL:
            reversed_ = {e.reverses for e in self.entries if e.kind == "reversal"}
            for e in self.entries:
                if (e.kind == "added" and e.date <= day and e not in reversed_
                        and e.amount <= _avail(self.entries, day)):
                    self._entry(day, "reversal", -e.amount, reverses=e)
                    break


# --------------------------------------------------------------------------- services, addons, domains

# name, type, product group, {cycle: price in GBP}, setup fee in GBP, hidden, description.
# Prices are in the business's default currency; a year costs ten months.
def _plan_prices(monthly: str) -> dict[str, str]:
    m = Decimal(monthly)
    return {"monthly": monthly, "quarterly": str(m * 3), "annually": str(m * 10)}


CATALOGUE = [
    *((name, "reseller" if name.startswith("Reseller") else
       "server" if name.startswith("Cloud") else "hosting",
       name.split(" — ")[0], _plan_prices(monthly), "0", False, "") for name, monthly in PLANS),
    ("Website Care Plan", "other", "Support plans", _plan_prices("29.00"), "0", False,
     "Updates, backups checked, one hour of changes a month"),
    ("Shared Hosting — Classic 2019", "hosting", "Shared Hosting", _plan_prices("2.99"), "0", True,
     "No longer sold; kept for the clients who have it"),
    ("Daily Off-site Backups", "addon", "Addons", _plan_prices("2.50"), "0", False, ""),
    ("Email Hosting — 5 mailboxes", "addon", "Addons", _plan_prices("5.00"), "0", False, ""),
    ("SSL Certificate", "addon", "Addons", {"annually": "39.00"}, "0", False,
     "Domain-validated certificate, one year"),
    ("Domain Registration — .com", "domain", "Domains",
     {"annually": "11.99", "biennially": "23.98"}, "0", False, ""),
    ("Domain Registration — .co.uk", "domain", "Domains",
     {"annually": "7.99", "biennially": "15.98"}, "0", False, ""),
]
MONTHS_CYCLE = {1: "monthly", 3: "quarterly", 12: "annually"}
# products a client takes besides (or instead of) the history's hosting plan
W_EXTRA = _weighted(range(len(PLANS) + 2), PLAN_WEIGHTS + [6, 3])
W_SERVICE_COUNT = _weighted((0, 1, 2, 3, 4, 5), (12, 40, 22, 13, 8, 5))
W_PLAN_CYCLE = _weighted(("monthly", "quarterly", "annually"), CYCLE_WEIGHTS)
W_DOMAIN_CYCLE = _weighted(("annually", "biennially", "triennially"), (85, 12, 3))
# statuses by the client's status
W_SERVICE_STATUS = {
    "Active": _weighted(("Active", "Suspended", "Cancelled", "Terminated", "Pending"),
                        (82, 5, 7, 4, 2)),
    "Inactive": _weighted(("Active", "Suspended", "Cancelled", "Terminated"), (10, 20, 40, 30)),
    "Closed": _weighted(("Cancelled", "Terminated"), (50, 50)),
}
W_DOMAIN_STATUS = {
    "Active": _weighted(("Active", "Expired", "Cancelled", "Pending transfer", "Transferred away"),
                        (85, 6, 4, 2, 3)),
    "Inactive": _weighted(("Active", "Expired", "Cancelled", "Transferred away"), (15, 40, 25, 20)),
    "Closed": _weighted(("Expired", "Cancelled", "Transferred away"), (40, 30, 30)),
}
SERVICE_GROUPS = [("Client websites", "Sites we host for our own customers", False),
                  ("Online shop", "The shop and everything it needs", False),
                  ("Internal", "Our own systems; not itemised for the accountant", True),
                  ("Staging", "Test copies of the live sites", False),
                  ("Marketing sites", "", False)]
_ENDED = ("Cancelled", "Terminated", "Expired", "Transferred away")


@lru_cache(maxsize=65536)  # most items ask for today: a few thousand signup days
def _due_on_or_after(signup: date, cycle: str, target: date) -> date:
    """The first due date (counted from the signup day) on or after ``target``."""
    months = cycles.CYCLE_MONTHS[cycle]
    times = max(0, ((target.year - signup.year) * 12 + target.month - signup.month) // months)
    due = cycles.next_due(signup, cycle, signup.day, times)
    while due < target:
        times += 1
        due = cycles.next_due(signup, cycle, signup.day, times)
    return due


class _Holdings:
    """The catalogue, and each client's services, addons, domains and
    service groups, as ``subscriptions`` would write them, in bulk."""

    def __init__(self, seed: int, history: _BillingHistory) -> None:
        self.rng = _Random(f"billdesk demo services {seed}")
        self.history = history
        self.today = date.fromordinal(history.today)
        self.currency = settings.default_currency()
        self.products: list[tuple[int, str, str]] = []  # id, name, type (CATALOGUE order)
        for name, type_, group, prices, setup, hidden, description in CATALOGUE:
            try:
                product_id = catalog.find_product(name).id  # the book has it already
            except BilldeskError:
                product_id = catalog.add_product(
                    name, type=type_, group=group, description=description, taxed=True,
                    hidden=hidden, currency=self.currency, setup_fee=self._money(setup),
                    prices={cycle: self._money(gbp) for cycle, gbp in prices.items()})
            self.products.append((product_id, name, type_))
        # name → (product id, {cycle: price in GBP})
        self.by_name = {name: (pid, entry[3]) for (pid, name, _), entry
                        in zip(self.products, CATALOGUE)}
        self.service_id = Service.select(fn.MAX(Service.id)).scalar() or 0
        self.group_id = ServiceGroup.select(fn.MAX(ServiceGroup.id)).scalar() or 0
        # (id, client, kind, product, parent, name, label, status, cycle, amount, taxed, signup,
        #  next due, due day, expiry, override suspend, group, position)
        self.rows: list[tuple] = []
        self.group_rows: list[tuple] = []
        self.log_rows: list[tuple] = []
        self.counts = {"service": 0, "addon": 0, "domain": 0}

    def _money(self, gbp: str) -> Money:
        return Money.from_minor(_BillingHistory.price(self.currency, gbp), self.currency)

    # --- dates, by cycles.py

    def _dates(self, status: str, cycle: str, signup: date) -> date:
        """The next due date an item in this status would have today."""
        rng, today = self.rng, self.today
        if status == "Pending":
            return signup
        if status in _ENDED:  # billed until it ended; the date stays where it was
            ended = signup + timedelta(days=rng.randint(0, (today - signup).days))
            return _due_on_or_after(signup, cycle, ended)
        due = _due_on_or_after(signup, cycle, today)
        overdue = status == "Suspended" or rng.random() < 0.06
        if overdue and due > signup:
            before = cycles.previous_due(due, cycle, signup.day)
            if before >= signup and (status == "Suspended" or (today - before).days <= 45):
                return before
        return due

    def _signup(self, start: int) -> date:
        return date.fromordinal(self.rng.randint(start, self.history.today))

    def _add(self, client_id: int, kind: str, product: int | None, parent: int | None,
             name: str, label: str, status: str, cycle: str, amount: int, signup: date,
             expiry: bool = False) -> int:
        due = self._dates(status, cycle, signup)
        self.service_id += 1
        self.rows.append([self.service_id, client_id, kind, product, parent, name, label, status,
                          cycle, amount, signup, due, signup.day, due if expiry else None,
                          int(self.rng.random() < 0.02), None, 0])
        self.counts[kind] += 1
        return self.service_id

    # --- one client

    def add_client(self, client_id: int, created: date, currency: str, status: str, site: str,
                   tld: str, billed: _Client | None) -> None:
        rng, history = self.rng, self.history
        pick, price = rng.pick, history.price
        start = max(created.toordinal(), history.today - 730)
        first_row = len(self.rows)
        count = pick(W_SERVICE_COUNT)
        if billed is not None and billed.plan is not None:
            count = max(count, 1)
        w_status, w_domain = W_SERVICE_STATUS[status], W_DOMAIN_STATUS[status]
        hosted: list[tuple[int, str, str, date, str]] = []  # id, cycle, status, signup, label
        for n in range(count):
            if n == 0 and billed is not None and billed.plan is not None:
                name, monthly = billed.plan  # what the history invoices
                cycle = MONTHS_CYCLE[billed.cycle[0]]
            else:
                name = CATALOGUE[pick(W_EXTRA)][0]
                cycle = pick(W_PLAN_CYCLE)
            product, prices = self.by_name[name]
            label = site if n == 0 else f"{rng.choice(EXTRA_DOMAIN_WORDS)}.{site}"
            if n and name.startswith("Cloud VPS"):
                label = f"vps{n + 1}.{site}"
            item_status = pick(w_status)
            signup = (date.fromordinal(history.today - rng.randint(0, 10))
                      if item_status == "Pending" else self._signup(start))
            sid = self._add(client_id, "service", product, None, name, label, item_status, cycle,
                            price(currency, prices[cycle]), signup)
            hosted.append((sid, cycle, item_status, signup, label))
        # addons on some services: same cycle as their service (SSL: a year)
        for sid, cycle, parent_status, parent_signup, label in hosted:
            if rng.random() >= 0.3:
                continue
            name = CATALOGUE[len(PLANS) + 2 + rng.randint(0, 2)][0]
            product, prices = self.by_name[name]
            addon_cycle = cycle if cycle in prices else "annually"
            addon_status = (parent_status if parent_status not in ("Active", "Suspended")
                            else "Cancelled" if rng.random() < 0.1 else parent_status)
            signup = (parent_signup if addon_status == "Pending"
                      else self._signup(parent_signup.toordinal()))
            self._add(client_id, "addon", product, sid, name, "", addon_status, addon_cycle,
                      price(currency, prices[addon_cycle]), signup)
        # domains: the client's site for most, now and then one more
        names = []
        if (count and rng.random() < 0.75) or (not count and rng.random() < 0.25):
            names.append(site)
            if rng.random() < 0.2:
                names.append(f"{rng.choice(EXTRA_DOMAIN_WORDS)}-{site}")
        yearly = DOMAIN_PRICES.get(tld, "12.99")
        for name in names:
            cycle = pick(W_DOMAIN_CYCLE)
            years = cycles.CYCLE_MONTHS[cycle] // 12
            domain_status = pick(w_domain)
            signup = (date.fromordinal(history.today - rng.randint(0, 10))
                      if domain_status == "Pending transfer" else self._signup(start))
            self._add(client_id, "domain", None, None, name, "", domain_status, cycle,
                      price(currency, yearly) * years, signup, expiry=True)
        added = len(self.rows) - first_row
        if not added:
            return
        # a few clients sort their services and domains into groups
        grouped = [row for row in self.rows[first_row:] if row[2] != "addon"]
        if len(grouped) >= 2 and rng.random() < 0.07:
            chosen = rng.sample(SERVICE_GROUPS, 1 if rng.random() < 0.7 else 2)
            ids = []
            for position, (name, description, hidden) in enumerate(chosen, 1):
                self.group_id += 1
                ids.append(self.group_id)
                self.group_rows.append((self.group_id, client_id, name, description, position,
                                        int(hidden)))
            places = dict.fromkeys(ids, 0)
            for row in grouped:
                if rng.random() < 0.7:
                    gid = rng.choice(ids)
                    places[gid] += 1
                    row[15], row[16] = gid, places[gid]
        kinds = [row[2] for row in self.rows[first_row:]]
        parts = [f"{kinds.count(kind)} {kind}{'s' if kinds.count(kind) != 1 else ''}"
                 for kind in ("service", "addon", "domain") if kind in kinds]
        latest = max(row[10] for row in self.rows[first_row:]).toordinal()
        self.log_rows.append((client_id, f"{history.isos[latest]} 09:00:00", history.actor,
                              f"Services added (demo data): {', '.join(parts)}"))

    # --- writing

    def write(self, cursor) -> tuple[int, int, int, int, int]:  # noqa: ANN001
        methods = self.history.client_values
        stamps = self.history.stamps
        iso = date.isoformat

        def service_rows() -> Iterator[tuple]:
            for (sid, client_id, kind, product, parent, name, label, status, cycle, amount,
                 signup, due, due_day, expiry, override, group, position) in self.rows:
                stamp = stamps[signup.toordinal()]
                yield (sid, client_id, kind, product, parent, name, label, status, cycle, amount,
                       amount, 1, iso(signup), iso(due), due_day,
                       iso(expiry) if expiry else None, methods[client_id][0], override, group,
                       position, "", stamp, stamp)

        cursor.executemany(
            "INSERT INTO service_group (id, client_id, name, description, position, "
            "hide_on_invoice) VALUES (?, ?, ?, ?, ?, ?)", self.group_rows)
        _insert_batched(
            cursor, "INSERT INTO service (id, client_id, kind, product_id, parent_id, name, label, "
            "status, cycle, amount, first_payment, taxed, signup_date, next_due, due_day, "
            "expiry_date, payment_method, override_suspend, group_id, position, notes, created_at, "
            "updated_at) VALUES ", 23, service_rows())
        cursor.executemany("INSERT INTO client_log (client_id, at, actor, message) VALUES (?, ?, ?, ?)",
                           self.log_rows)
        return (len(self.products), self.counts["service"], self.counts["addon"],
                self.counts["domain"], len(self.group_rows))


def _insert_batched(cursor, head: str, width: int, rows: Iterator[tuple],  # noqa: ANN001
                    per: int = 50) -> None:
    """``head`` + many rows, ``per`` rows to a statement. For tables with
    CHECK (x IN (…)) constraints: SQLite builds each IN list once per
    statement run, which for one row per run costs more than the row."""
    one = "(" + ", ".join("?" * width) + ")"
    batch_sql = head + ", ".join([one] * per)
    batch: list = []
    full: list[list] = []
    for row in rows:
        batch.extend(row)
        if len(batch) == per * width:
            full.append(batch)
            batch = []
            if len(full) == 200:
                cursor.executemany(batch_sql, full)
                full = []
    if full:
        cursor.executemany(batch_sql, full)
    if batch:
        cursor.execute(head + ", ".join([one] * (len(batch) // width)), batch)


# --------------------------------------------------------------------------- sales

# Promotion codes: (code, keyword arguments of promos.add_promo); dates are
# filled in from the demo's today by _Sales._promos.
PROMO_HOSTING = ("Shared Hosting — Starter", "Shared Hosting — Business", "WordPress Hosting — Pro")
# a fixed amount is taken in the client's currency: offered only where 5.00 means something
FIXED_PROMO_CURRENCIES = ("GBP", "EUR", "USD", "CAD", "AUD")
# (product name or "domain" / "addon", weight)
ORDER_PRODUCTS = _weighted(
    ("Shared Hosting — Starter", "Shared Hosting — Business", "WordPress Hosting — Pro",
     "Cloud VPS — 2 vCPU, 4 GB", "Cloud VPS — 4 vCPU, 8 GB", "Reseller Hosting — Bronze",
     "Website Care Plan", "domain", "addon"),
    (18, 16, 12, 8, 4, 3, 6, 14, 10))
ORDER_NOTES = ["", "", "", "", "Ordered by phone", "Moving from another host",
               "Asked for the site to be live by Friday", "Upgrade requested by email",
               "Referred by an existing client"]
W_ORDER_OUTCOME = _weighted(("accept", "pending", "cancel"), (55, 33, 12))
# (subject, lines: (description, unit price in GBP, quantity, discount %, taxed), proposal)
QUOTE_KITS = [
    ("Website redesign",
     [("Design and build: up to 8 pages, mobile first", "1800.00", "1", "0", True),
      ("Content migration from the old site (hours)", "60.00", "6", "0", True),
      ("WordPress Hosting — Pro (12 months)", "149.90", "1", "10", True)],
     "A fresh, fast site on WordPress that you can edit yourself, live in about six weeks."),
    ("Online shop",
     [("Shop set-up with card and PayPal payments", "950.00", "1", "0", True),
      ("Product import (per 100 products)", "45.00", "3", "0", True),
      ("Training session (hours)", "60.00", "2", "0", True)],
     "Everything needed to start selling online, with a training session for your team."),
    ("Move to a Cloud VPS",
     [("Cloud VPS — 4 vCPU, 8 GB (12 months)", "399.90", "1", "15", True),
      ("Migration of sites and mailboxes (hours)", "60.00", "4.5", "0", True),
      ("Server hardening", "120.00", "1", "0", True),
      ("cPanel Licence, 12 months (pass-through, no VAT)", "12.00", "12", "0", False)],
     "Your sites on a server of your own, moved over a weekend with no downtime."),
    ("Annual support bundle",
     [("Support hours, prepaid block", "60.00", "20", "10", True),
      ("Daily Off-site Backups (12 months)", "25.00", "1", "0", True)],
     "Twenty hours of support at a tenth off, to use over the year."),
    ("Email migration",
     [("Mailbox migration (per mailbox)", "15.00", "12", "0", True),
      ("Email Hosting — 5 mailboxes (12 months)", "50.00", "1", "0", True),
      ("DNS changes and SSL set-up", "60.00", "1", "0", True)],
     "All mailboxes moved with their folders; the old ones kept for a month."),
    ("SEO and speed audit",
     [("Technical SEO audit with a written report", "350.00", "1", "0", True),
      ("Site speed optimisation (hours)", "60.00", "5", "0", True)],
     "Find out what holds the site back in search and how to make it load in under two seconds."),
]
QUOTE_CUSTOMER_NOTES = ["", "Prices are valid for 30 days.",
                        "Half on acceptance, the rest on delivery.",
                        "Hosting is billed from the day the site goes live."]
QUOTE_ADMIN_NOTES = ["", "", "Follow up by phone next week", "They have a quote from a local agency",
                     "Budget agreed on the call"]
# stage → (days before today the quote was made: low, high; days it is valid)
# (Accepted last: a small book's one converted quote is its Accepted one)
QUOTE_STAGES = {"Draft": (0, 6, 30), "Delivered": (1, 25, 30), "On hold": (10, 40, 60),
                "Lost": (40, 200, 30), "Dead": (45, 300, 30), "Accepted": (5, 60, 30)}
W_QUOTE_STAGE = _weighted(tuple(QUOTE_STAGES), (15, 30, 8, 13, 22, 12))
W_BILLABLE_ACTION = _weighted(("none", "next", "due", "recur"), (20, 30, 25, 25))
BILLABLE_FIXED = [("Domain transfer fee", "15.00"), ("Replacement SSL certificate", "39.00"),
                  ("Emergency call-out", "120.00")]
BILLABLE_RECURRING = [("Monthly maintenance: updates, backups checked", "2", 1, "month"),
                      ("Weekly content updates", "1", 1, "week"),
                      ("Fortnightly newsletter set-up", "1.5", 2, "week")]
BILLABLE_NOTES = ["", "", "Ticket #{n}", "Agreed by email", "Logged from the phone call of {day}"]
# (lines: (description, GBP, taxed), every, unit, due days)
RECURRING_KITS = [
    ([("Website maintenance retainer", "150.00", True)], 1, "month", 14),
    ([("Managed hosting", "45.00", True), ("Support allowance: 1 hour a month", "60.00", True)],
     1, "month", 7),
    ([("Quarterly SEO report and recommendations", "250.00", True)], 3, "month", 14),
    ([("Annual security review", "600.00", True), ("Penetration test report", "300.00", True)],
     1, "year", 30),
]
# kind → (share of the clients, at least, at most for no clients, one more allowed per this
# many clients). Each is a service call or a few — an order placed, paid and accepted takes
# ~25 ms — so big books get fewer than the share: 28 orders, 53 quotes, 86 billable items and
# 23 templates for 3,000 clients (about 0.9 s); 125, 150, 280 and 120 for 100,000 (about 4 s).
SALES = {"orders": (0.05, 3, 25, 1000), "quotes": (0.05, 3, 50, 1000),
         "billable": (0.05, 4, 80, 500), "recurring": (0.01, 1, 20, 1000)}


# the tables the sales write to, and their clock columns
_STAMPED = {"invoice": ("created_at", "updated_at"), "txn": ("created_at",),
            "credit_entry": ("created_at",), "service": ("created_at", "updated_at"),
            "client_order": ("created_at", "updated_at"), "quote": ("created_at", "updated_at"),
            "billable_item": ("created_at", "updated_at"),
            "recurring_invoice": ("created_at", "updated_at"),
            "promo_code": ("created_at", "updated_at"), "client_log": ("at",)}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class _Sales:
    """Promotion codes, then orders, quotes, billable items and recurring
    invoices for some of the active clients, each made by its service
    (``promos``, ``orders``, ``quotes``, ``billable``, ``recurring``) as the
    windows would: their invoices, credit, totals and logs are the services'.
    Orders and converted quotes are dated today: their invoices take the
    next numbers, and numbers follow the dates."""

    def __init__(self, seed: int, history: _BillingHistory, holdings: _Holdings) -> None:
        self.rng = _Random(f"billdesk demo sales {seed}")
        self.history, self.holdings = history, holdings
        self.today = date.fromordinal(history.today)
        self.actor = history.actor
        # active clients: (id, currency, in a client group, site, tld)
        self.candidates: list[tuple[int, str, bool, str, str]] = []

    def add_client(self, client_id: int, currency: str, grouped: bool, site: str,
                   tld: str) -> None:
        self.candidates.append((client_id, currency, grouped, site, tld))

    def _money(self, currency: str, gbp: str) -> Decimal:
        """A price list figure in the client's currency, as the amount typed."""
        return Money.from_minor(_BillingHistory.price(currency, gbp), currency).amount

    def _chosen(self, kind: str, n_clients: int,
                pool: list[tuple[int, str, bool, str, str]]) -> list[tuple[int, str, bool, str, str]]:
        share, least, most, per = SALES[kind]
        count = min(len(pool), max(least, min(round(n_clients * share), most + n_clients // per)))
        return sorted(self.rng.sample(pool, count))

    def _outcomes(self, weighted: tuple[tuple, list[int]], count: int) -> list:
        """``count`` values in the shares their weights give, each at least
        once (when there is room), in random order."""
        values, cumulative = weighted
        total = cumulative[-1]
        drawn = []
        for value, low, high in zip(values, [0, *cumulative], cumulative):
            drawn += [value] * max(1, count * (high - low) // total)
        drawn = drawn[:count]
        drawn += [self.rng.pick(weighted) for _ in range(count - len(drawn))]
        self.rng.shuffle(drawn)
        return drawn

    def write(self, n_clients: int) -> tuple[int, int, int, int, int]:
        before = {table: database.execute_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                  .fetchone()[0] for table in _STAMPED}
        codes = self._promos()
        made_orders = self._orders(n_clients, codes)
        made_quotes = self._quotes(n_clients)
        made_items = self._billable(n_clients)
        made_templates = self._recurring(n_clients)
        self._stamp(before)
        return len(codes), made_orders, made_quotes, made_items, made_templates

    def _stamp(self, before: dict[str, int]) -> None:
        """The services stamp what they write with the clock's time; the
        demo's rows are stamped on the demo's days (as the bulk rows are), so
        that one seed and day give the same book to the second: today's
        stamp, and for a quote the day it was made."""
        day = self.history.today
        stamp = self.history.stamps[day]
        for table, columns in _STAMPED.items():
            database.execute_sql(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id > ?",
                (*[stamp] * len(columns), before[table]))
        stamps, ordinal = self.history.stamps, date.toordinal
        made = [(stamps[ordinal(_as_date(made))],
                 stamp if invoice_id is not None else stamps[ordinal(_as_date(made))], quote_id)
                for quote_id, made, invoice_id in database.execute_sql(
                    "SELECT id, date, invoice_id FROM quote WHERE id > ?", (before["quote"],))]
        database.obj.cursor().executemany(
            "UPDATE quote SET created_at = ?, updated_at = ? WHERE id = ?", made)

    # --- promotion codes

    def _promos(self) -> dict[str, int]:
        today = self.today
        last_spring = today.year - 1
        wanted = [
            ("WELCOME10", dict(percent="10", start_date=today - timedelta(days=540),
                               notes="New customers: 10 % off the first invoice")),
            ("FIVEOFF", dict(fixed="5.00", max_uses=500, start_date=today - timedelta(days=120),
                             notes="5.00 off the first invoice (flyer at the trade fair)")),
            ("HOSTING20", dict(percent="20", recurring=True, products=PROMO_HOSTING,
                               cycles=("annually",), start_date=today - timedelta(days=300),
                               notes="20 % off every year of yearly shared or WordPress hosting")),
            (f"SPRING{last_spring % 100:02}",
             dict(percent="25", start_date=date(last_spring, 3, 1),
                  end_date=date(last_spring, 4, 30), notes="Spring sale (over)")),
        ]
        made = {}
        known = {p.code.casefold() for p in promos.list_promos()}
        for code, values in wanted:
            if code.casefold() not in known:  # a book that has it already keeps its own
                made[code] = promos.add_promo(code, **values)
        return made

    # --- orders

    def _orders(self, n_clients: int, codes: dict[str, int]) -> int:
        rng, today, actor = self.rng, self.today, self.actor
        # a client group's discount would add a line the demo's history never has
        pool = [c for c in self.candidates if not c[2]]
        chosen = self._chosen("orders", n_clients, pool)
        if not chosen:
            return 0
        parents = defaultdict(list)  # client → its active services (id, cycle)
        for sid, client_id, cycle in (Service.select(Service.id, Service.client, Service.cycle)
                                      .where(Service.client.in_([c[0] for c in chosen]),
                                             Service.kind == "service",
                                             Service.status == "Active")
                                      .order_by(Service.id).tuples()):
            parents[client_id].append((sid, cycle))
        by_name = self.holdings.by_name
        outcomes = self._outcomes(W_ORDER_OUTCOME, len(chosen))
        uses = dict.fromkeys(codes, 0)
        made = 0
        for n, ((client_id, currency, _, site, tld), outcome) in enumerate(zip(chosen, outcomes)):
            name = rng.pick(ORDER_PRODUCTS)
            parent_id = None
            word = rng.choice(EXTRA_DOMAIN_WORDS)
            label = f"{word}.{site}"
            wants_promo = n == 0 or rng.random() < 0.4  # (the first: so that small books have one)
            if name == "addon" and parents[client_id]:
                parent_id, cycle = rng.choice(parents[client_id])
                name = CATALOGUE[len(PLANS) + 2 + rng.randint(0, 2)][0]
                if cycle not in by_name[name][1]:
                    cycle = "annually"
                label = ""
            elif name in ("domain", "addon"):
                uk = tld == "co.uk"
                name = f"Domain Registration — {'.co.uk' if uk else '.com'}"
                label = f"{site.split('.')[0]}-{word}.{'co.uk' if uk else 'com'}"
                cycle = "biennially" if rng.random() < 0.15 else "annually"
            else:
                cycle = rng.pick(W_PLAN_CYCLE)
                if name.startswith("Cloud VPS"):
                    label = f"vps.{site}"
                elif wants_promo and name in PROMO_HOSTING and rng.random() < 0.6:
                    cycle = "annually"  # the code is what made them pay for a year
            price = by_name[name][1][cycle]
            promo = None
            if wants_promo:
                offered = ["WELCOME10"]
                if name in PROMO_HOSTING and cycle == "annually":
                    offered += ["HOSTING20", "HOSTING20", "HOSTING20"]
                if (currency in FIXED_PROMO_CURRENCIES and self._money(currency, price) >= 10
                        and uses.get("FIVEOFF", 500) < 500):
                    offered.append("FIVEOFF")
                promo = rng.choice(offered)
                if promo in codes:
                    uses[promo] += 1
                else:  # the book had a code of that name already: left alone
                    promo = None
            order_id = orders.place_order(
                client_id, by_name[name][0], cycle, promo=promo, label=label, parent_id=parent_id,
                date=today, notes=rng.choice(ORDER_NOTES), draw=rng.randrange, actor=actor)
            made += 1
            if outcome == "cancel":
                orders.cancel_order(order_id, actor=actor)
                continue
            if outcome == "accept" or rng.random() < 0.25:  # paid; some wait to be checked
                self._pay(Order.select(Order.invoice).where(Order.id == order_id).scalar())
            if outcome == "accept":
                orders.accept_order(order_id, actor=actor)
        return made

    def _pay(self, invoice_id: int | None) -> None:
        """The order's invoice paid today by its method, with the method's fee."""
        if invoice_id is None:
            return
        status, currency, method, total, credit, paid = (
            Invoice.select(Invoice.status, Invoice.currency, Invoice.payment_method, Invoice.total,
                           Invoice.credit, Invoice.paid)
            .where(Invoice.id == invoice_id).tuples().get())
        units = total - credit - paid
        if status not in invoicing.OWING or units <= 0:
            return  # the client's credit paid it
        fee = FEES.get(method)
        fee_units = (min(units, _half_up(units * fee[0], 1000)
                         + _BillingHistory.price(currency, fee[1])) if fee else 0)
        bits = self.rng.getrandbits(48)
        reference = {"Card": f"ch_{bits:012x}", "PayPal": f"{bits:014X}",
                     "Bank transfer": f"TRF{bits % 10**8:08}",
                     "Cash": f"Receipt {bits % 10**5:05}"}.get(method, "")
        payments.add_payment(invoice_id, Money.from_minor(units, currency).amount,
                             fee=Money.from_minor(fee_units, currency).amount, date=self.today,
                             reference=reference, actor=self.actor)

    # --- quotes

    def _quotes(self, n_clients: int) -> int:
        rng, today, actor = self.rng, self.today, self.actor
        chosen = self._chosen("quotes", n_clients, self.candidates)
        if not chosen:
            return 0
        # one or two are converted to invoices, dated the demo's today
        converting = 1 if len(chosen) < 20 else 2
        stages = self._outcomes(W_QUOTE_STAGE, len(chosen) - converting) + ["convert"] * converting
        rng.shuffle(stages)
        for (client_id, currency, _, _, _), stage in zip(chosen, stages):
            subject, kit, proposal = rng.choice(QUOTE_KITS)
            lines = [quotes.LineInput(text, self._money(currency, gbp), quantity, discount, taxed)
                     for text, gbp, quantity, discount, taxed in kit]
            if len(lines) > 2 and rng.random() < 0.3:
                lines.pop()  # an option the client did not want
            low, high, valid = QUOTE_STAGES["Delivered" if stage == "convert" else stage]
            made = today - timedelta(days=rng.randint(low, high))
            write_stage = "Delivered" if stage == "convert" else stage
            quote_id = quotes.create_quote(
                client_id, lines, subject=subject, stage=write_stage, date=made,
                valid_until=made + timedelta(days=valid), proposal=proposal,
                customer_notes=rng.choice(QUOTE_CUSTOMER_NOTES),
                admin_notes=rng.choice(QUOTE_ADMIN_NOTES), actor=actor)
            if stage == "convert":
                quotes.convert(quote_id, date=today, actor=actor)
        return len(chosen)

    # --- billable items

    def _billable(self, n_clients: int) -> int:
        rng, today, actor = self.rng, self.today, self.actor
        chosen = self._chosen("billable", n_clients, self.candidates)
        actions = self._outcomes(W_BILLABLE_ACTION, len(chosen))
        for (client_id, currency, _, _, _), action in zip(chosen, actions):
            rate = self._money(currency, SUPPORT_RATE)
            note = rng.choice(BILLABLE_NOTES).format(
                n=rng.randint(10000, 99999),
                day=(today - timedelta(days=rng.randint(1, 20))).isoformat())
            values: dict = {"taxed": True, "notes": note, "action": action}
            if action == "recur":
                text, hours, every, unit = rng.choice(BILLABLE_RECURRING)
                values.update(description=text, hours=hours, rate=rate, every=every, unit=unit,
                              count=rng.choice((3, 6, 12)),
                              due_date=today + timedelta(days=rng.randint(1, 28)))
            elif rng.random() < 0.15:
                text, gbp = rng.choice(BILLABLE_FIXED)
                values.update(description=text, amount=self._money(currency, gbp))
            else:
                values.update(description=rng.choice(SUPPORT_TASKS),
                              hours=HOURS_TEXT[rng.pick(W_SUPPORT)], rate=rate)
            if action == "due":
                values["due_date"] = today + timedelta(days=rng.randint(-3, 30))
            elif action == "none":
                values["notes"] = "Covered by the Website Care Plan: not invoiced"
            billable.add_item(client_id, today=today, actor=actor, **values)
        return len(chosen)

    # --- recurring invoices

    def _recurring(self, n_clients: int) -> int:
        """Templates that start today or within the month: a start date in the
        past would have the next generation issue every date missed since."""
        rng, today, actor = self.rng, self.today, self.actor
        chosen = self._chosen("recurring", n_clients, self.candidates)
        first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        for client_id, currency, _, _, _ in chosen:
            kit, every, unit, due_days = rng.choice(RECURRING_KITS)
            start = first_of_next if rng.random() < 0.6 else today + timedelta(days=rng.randint(0, 20))
            ending: dict = {}
            r = rng.random()
            if r < 0.4:
                ending["count"] = 12 if unit == "month" and every == 1 else 4
            elif r < 0.6:
                ending["until"] = start + timedelta(days=365 * 2)
            recurring.add_recurring(
                client_id, [(text, self._money(currency, gbp), taxed) for text, gbp, taxed in kit],
                every=every, unit=unit, start_date=start, due_days=due_days, actor=actor,
                notes="Agreed in the service contract" if rng.random() < 0.5 else "", **ending)
        return len(chosen)
