"""Realistic demo books (``billdesk demo``): names with accents and
apostrophes, companies, countries, phones, groups and contacts, written with
bulk inserts so that 100,000 clients take seconds. Later features add their
own records here."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from billdesk.errors import Conflict
from billdesk.models import Client, database
from billdesk.models.db import PRAGMAS
from billdesk.models.migrations import bulk_client_load
from billdesk.services import changelog, clients, groups, settings

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

    def as_json(self) -> dict[str, int]:
        return {"clients": self.clients, "contacts": self.contacts, "groups": self.groups}


def _ascii(text_: str) -> str:
    from billdesk.services.text import squash

    return squash(text_) or "x"


def create_demo(n_clients: int = 3000, seed: int = 1, *, today: datetime | None = None) -> DemoResult:
    """Fill an empty book with a demo company and ``n_clients`` clients."""
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
        client_rows, log_rows, contact_rows, billing = [], [], [], []
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
            email = f"{_ascii(first)}.{_ascii(last)}{client_id}@{domain}"
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
                    f"{_ascii(cf)}.{_ascii(cl)}{contact_id}@{domain}",
                    f"{prefix} {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    rng.choice(CATEGORY_SETS), created.isoformat(" "),
                ))
                if rng.random() < 0.3:
                    billing.append((contact_id, client_id))
        ranks = {cid: (i + 1) * clients.RANK_GAP for i, (_, cid) in enumerate(sorted(sort_keys))}
        client_rows = [row + (ranks[row[0]],) for row in client_rows]
        cursor = database.obj.cursor()
        database.obj.execute_sql("PRAGMA cache_size = -262144")
        with bulk_client_load(database.obj):
            cursor.executemany(
                "INSERT INTO client (id, first_name, last_name, company, email, phone, address1, "
                "address2, city, state, postcode, country, tax_id, account_type, group_id, currency, "
                "language, status, tax_exempt, auto_cc, overdue_notices, late_fees, separate_invoices, "
                "two_factor, notes, created_at, updated_at, last_activity, sort_name, company_key, "
                "email_key, phone_key, search_text, search_words, group_key, name_rank) VALUES "
                f"({', '.join('?' * 36)})", client_rows)
        cursor.executemany(
            "INSERT INTO client_log (client_id, at, actor, message) VALUES (?, ?, ?, ?)", log_rows)
        cursor.executemany(
            "INSERT INTO contact (id, client_id, first_name, last_name, company, email, phone, "
            "categories, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", contact_rows)
        cursor.executemany("UPDATE client SET billing_contact_id = ? WHERE id = ?", billing)
        database.obj.execute_sql(f"PRAGMA cache_size = {PRAGMAS['cache_size']}")
    return DemoResult(clients=n_clients, contacts=len(contact_rows), groups=len(group_ids))
