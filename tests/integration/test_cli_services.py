"""The service, addon and domain commands from outside (SPEC.md D5, S2, S3,
S5): their JSON shapes, exit codes, prorata invoices, and refusals that
print one `error: <field>: …` line and change nothing."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from cli_helpers import cmd, dump, ok, query, run

TODAY = dt.date.today()
SERVICE_KEYS = {"id", "client_id", "kind", "product_id", "parent_id", "name", "label", "status",
                "cycle", "amount", "first_payment", "taxed", "signup_date", "next_due",
                "expiry_date", "payment_method", "override_suspend", "group", "notes"}
USD, JPY = 1, 2  # the clients of the base book


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Client 1 pays in USD, client 2 in JPY; product "Web S" costs 5.00 a
    month or 50.00 a year in USD and 600 a month in JPY."""
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "USD")["id"] == USD
    assert ok(home, path, "client", "add", "--first", "Ken", "--last", "Sato", "--email",
              "ken@example.com", "--currency", "JPY")["id"] == JPY
    product = ok(home, path, "product", "add", "--name", "Web S", "--monthly", "5", "--annually",
                 "50", "--currency", "USD", "--taxed")
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO product_price (product_id, currency, cycle, amount, setup_fee) "
                    "VALUES (?, 'JPY', 'monthly', 600, 0)", (product["id"],))
    con.close()
    return path


# --------------------------------------------------------------------------- services

def test_service_add_show_and_list_agree(home, book):
    added = cmd(home, book, "service", "add", str(USD), "--product", "web s", "--cycle", "monthly",
                "--next-due", "2026-01-31", "--payment-method", "card")
    assert set(added) == SERVICE_KEYS
    assert added == {
        "id": added["id"], "client_id": USD, "kind": "service", "product_id": 1, "parent_id": None,
        "name": "Web S", "label": "", "status": "Active", "cycle": "monthly", "amount": "5.00",
        "first_payment": "5.00", "taxed": True, "signup_date": TODAY.isoformat(),
        "next_due": "2026-01-31", "expiry_date": None, "payment_method": "Card",
        "override_suspend": False, "group": None, "notes": "",
    }
    assert query(book, "SELECT amount, due_day FROM service WHERE id = ?", (added["id"],)) == [(500, 31)]
    assert ok(home, book, "service", "show", str(added["id"])) == added

    own = ok(home, book, "service", "add", str(USD), "--product", "1", "--amount", "7.125",
             "--cycle", "annually", "--next-due", "2026-03-01", "--name", "Shop", "--label",
             "shop.example.com")
    assert (own["amount"], own["first_payment"], own["cycle"], own["name"], own["label"]) == (
        "7.13", "7.13", "annually", "Shop", "shop.example.com")
    yen = ok(home, book, "service", "add", str(JPY), "--product", "Web S", "--cycle", "monthly",
             "--next-due", "2026-02-01")
    assert (yen["amount"], yen["payment_method"]) == ("600", "")

    listed = ok(home, book, "service", "list", str(USD))
    assert set(listed) == {"services"}
    assert listed["services"] == [added, own]
    assert all("next_due" in s for s in listed["services"])
    assert ok(home, book, "service", "list", str(JPY))["services"] == [yen]
    assert ok(home, book, "service", "list", str(USD), "--status", "suspended") == {"services": []}

    text = run(home, "service", "list", str(USD), "--db", str(book))
    assert text.code == 0 and text.stderr == ""
    assert "Web S" in text.stdout and "2026-01-31" in text.stdout and "shop.example.com" in text.stdout


def test_domains_and_addons(home, book):
    domain = ok(home, book, "domain", "add", str(USD), "Example.COM", "--amount", "12",
                "--cycle", "annually", "--next-due", "2026-05-01")
    assert set(domain) == SERVICE_KEYS
    assert (domain["kind"], domain["name"], domain["amount"], domain["cycle"], domain["next_due"],
            domain["status"]) == ("domain", "example.com", "12.00", "annually", "2026-05-01", "Active")
    assert ok(home, book, "domain", "list", str(USD)) == {"domains": [domain]}
    assert ok(home, book, "service", "list", str(USD)) == {"services": []}

    addon = ok(home, book, "addon", "add", str(USD), str(domain["id"]), "--name", "ID protection",
               "--amount", "3", "--cycle", "annually", "--next-due", "2026-05-01")
    assert (addon["kind"], addon["parent_id"], addon["amount"]) == ("addon", domain["id"], "3.00")
    assert ok(home, book, "addon", "list", str(USD)) == {"addons": [addon]}
    every = ok(home, book, "service", "list", str(USD), "--kind", "all")
    assert [s["id"] for s in every["services"]] == [domain["id"], addon["id"]]


def test_service_edit_and_its_prorata_invoice(home, book):
    sid = ok(home, book, "service", "add", str(USD), "--product", "Web S", "--cycle", "monthly",
             "--next-due", "2026-01-31")["id"]
    edited = ok(home, book, "service", "edit", str(sid), "--status", "suspended", "--amount", "6")
    assert edited["prorata_invoice"] is None
    assert (edited["id"], edited["status"], edited["amount"]) == (sid, "Suspended", "6.00")
    assert set(edited) == SERVICE_KEYS | {"prorata_invoice"}

    # 6.00 monthly, 31 Jan → 15 Feb: 15 of the 31 days 31 Jan closes → 2.9032… → 2.90 (+ tax: none)
    moved = cmd(home, book, "service", "edit", str(sid), "--next-due", "2026-02-15", "--prorata")
    assert moved["next_due"] == "2026-02-15"
    invoice = moved["prorata_invoice"]
    assert invoice == ok(home, book, "invoice", "show", str(invoice["id"]))
    assert (invoice["client_id"], invoice["status"], invoice["total"], invoice["balance"]) == (
        USD, "Unpaid", "2.90", "2.90")
    assert [(ln["amount"], ln["taxed"], ln["link_id"]) for ln in invoice["lines"]] == \
        [("2.90", True, sid)]
    assert query(book, "SELECT due_day FROM service WHERE id = ?", (sid,)) == [(15,)]

    # moving back is a credit: no invoice
    back = ok(home, book, "service", "edit", str(sid), "--next-due", "2026-02-01", "--prorata")
    assert back["prorata_invoice"] is None and back["next_due"] == "2026-02-01"
    assert query(book, "SELECT count(*) FROM invoice") == [(1,)]
    entries = query(book, "SELECT field, old_value, new_value FROM client_log WHERE client_id = ? "
                          "AND field LIKE ? ORDER BY id", (USD, f"Web S (#{sid})%"))
    assert entries == [
        (f"Web S (#{sid}) status", "Active", "Suspended"),
        (f"Web S (#{sid}) recurring amount", "5.00", "6.00"),
        (f"Web S (#{sid}) next due date", "2026-01-31", "2026-02-15"),
        (f"Web S (#{sid}) next due date", "2026-02-15", "2026-02-01"),
    ]


def test_mass_update_and_delete(home, book):
    s1 = ok(home, book, "service", "add", str(USD), "--product", "Web S", "--cycle", "monthly",
            "--next-due", "2026-01-31")["id"]
    s2 = ok(home, book, "service", "add", str(USD), "--product", "Web S", "--cycle", "annually",
            "--next-due", "2026-03-01")["id"]
    d1 = ok(home, book, "domain", "add", str(USD), "a.com", "--amount", "10")["id"]
    a1 = ok(home, book, "addon", "add", str(USD), str(s1), "--name", "IP", "--amount", "1",
            "--cycle", "monthly")["id"]
    done = ok(home, book, "service", "mass-update", str(s1), str(s2), str(d1), "--payment-method",
              "paypal", "--override-suspend", "yes", "--next-due", "2026-02-01")
    assert set(done) == {"updated", "services", "prorata_invoice"}
    assert done["updated"] == [s1, s2, d1] and done["prorata_invoice"] is None
    assert [(s["id"], s["payment_method"], s["override_suspend"], s["next_due"])
            for s in done["services"]] == [(s, "PayPal", True, "2026-02-01") for s in (s1, s2, d1)]

    refusal = run(home, "service", "delete", str(s1), "--db", str(book))
    assert (refusal.code, refusal.stdout) == (1, "")
    assert refusal.stderr.startswith("error: confirmation: ")
    deleted = ok(home, book, "service", "delete", str(s1), "--yes")
    assert deleted == {"deleted": [s1], "removed": 2}
    assert query(book, "SELECT id FROM service ORDER BY id") == [(s2,), (d1,)]
    assert a1 not in [row[0] for row in query(book, "SELECT id FROM service")]


# --------------------------------------------------------------------------- refusals

SERVICE_ADD = ["service", "add", "1", "--product", "Web S", "--cycle", "monthly"]

REFUSALS: list[tuple[str, list[str], int, str]] = [
    # (name, argv after `billdesk`, exit code, the field named)
    ("unknown client", ["service", "add", "99", "--product", "Web S", "--cycle", "monthly"], 1,
     "client_id"),
    ("malformed client id", ["service", "add", "x", "--product", "Web S", "--cycle", "monthly"], 1,
     "client_id"),
    ("unknown product", ["service", "add", "1", "--product", "Nope", "--cycle", "monthly"], 1,
     "product"),
    ("no price for the cycle", ["service", "add", "1", "--product", "Web S", "--cycle", "quarterly"],
     1, "amount"),
    ("bad cycle", ["service", "add", "1", "--product", "Web S", "--cycle", "weekly"], 1, "cycle"),
    ("malformed amount", [*SERVICE_ADD, "--amount", "12,5.0"], 1, "amount"),
    ("negative amount", [*SERVICE_ADD, "--amount", "-5"], 1, "amount"),
    ("malformed next due", [*SERVICE_ADD, "--next-due", "2026-02-30"], 1, "next_due"),
    ("unknown payment method", [*SERVICE_ADD, "--payment-method", "Gold"], 1, "payment_method"),
    ("bad status on add", [*SERVICE_ADD, "--status", "Expired"], 1, "status"),
    ("missing cycle", ["service", "add", "1", "--product", "Web S"], 2, "--cycle"),
    ("missing product", ["service", "add", "1", "--cycle", "monthly"], 2, "--product"),
    ("unknown option", [*SERVICE_ADD, "--colour", "red"], 2, "--colour"),
    ("list unknown client", ["service", "list", "99"], 1, "client_id"),
    ("list bad kind", ["service", "list", "1", "--kind", "hosting"], 1, "kind"),
    ("list bad status", ["service", "list", "1", "--status", "Gone"], 1, "status"),
    ("edit unknown id", ["service", "edit", "99", "--status", "Active"], 1, "id"),
    ("edit malformed id", ["service", "edit", "abc", "--status", "Active"], 1, "id"),
    ("edit bad status", ["service", "edit", "1", "--status", "Gone"], 1, "status"),
    ("edit domain status on a service", ["service", "edit", "1", "--status", "Expired"], 1, "status"),
    ("edit bad amount", ["service", "edit", "1", "--amount", "abc"], 1, "amount"),
    ("edit bad date", ["service", "edit", "1", "--next-due", "tomorrow"], 1, "next_due"),
    ("prorata without a date", ["service", "edit", "1", "--prorata"], 1, "prorata"),
    ("edit bad yes/no", ["service", "edit", "1", "--override-suspend", "maybe"], 1,
     "override-suspend"),
    ("mass update two clients", ["service", "mass-update", "1", "3", "--status", "Active"], 1, "ids"),
    ("mass update unknown id", ["service", "mass-update", "1", "99", "--status", "Active"], 1, "id"),
    ("mass update status unfit for a domain", ["service", "mass-update", "1", "2", "--status",
                                               "Suspended"], 1, "status"),
    ("delete unknown id", ["service", "delete", "99", "--yes"], 1, "id"),
    ("domain bad name", ["domain", "add", "1", "not_a_domain", "--amount", "10"], 1, "name"),
    ("domain monthly", ["domain", "add", "1", "b.com", "--amount", "10", "--cycle", "monthly"], 1,
     "cycle"),
    ("domain bad amount", ["domain", "add", "1", "b.com", "--amount", "ten"], 1, "amount"),
    ("domain missing amount", ["domain", "add", "1", "b.com"], 2, "--amount"),
    ("domain list unknown client", ["domain", "list", "99"], 1, "client_id"),
    ("addon on another client's service", ["addon", "add", "1", "3", "--name", "IP", "--amount", "1",
                                           "--cycle", "monthly"], 1, "parent_id"),
    ("unknown action", ["service", "frobnicate"], 2, "frobnicate"),
]


@pytest.fixture(scope="module")
def refusal_book(base_book: Path, home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Service 1 and domain 2 of client 1, service 3 of client 2."""
    path = tmp_path_factory.mktemp("refusals") / "book.sqlite3"
    shutil.copy(base_book, path)
    assert ok(home, path, *SERVICE_ADD, "--next-due", "2026-01-31")["id"] == 1
    assert ok(home, path, "domain", "add", "1", "a.com", "--amount", "10")["id"] == 2
    assert ok(home, path, "service", "add", "2", "--product", "Web S", "--cycle", "monthly")["id"] == 3
    return path


@pytest.mark.parametrize(("argv", "code", "field"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refused_input(home, refusal_book, argv, code, field):
    before = dump(refusal_book)
    done = run(home, *argv, "--db", str(refusal_book), "--json")
    assert done.code == code, (done.code, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    if code == 1:
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"error: {field}: "), lines[0]
    else:  # argparse's usage error names what is wrong
        assert lines and "error:" in lines[-1] and field in lines[-1], done.stderr
    assert dump(refusal_book) == before
