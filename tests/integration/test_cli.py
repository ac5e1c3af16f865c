"""The `billdesk` console command from outside (SPEC.md D5): exit codes,
exactly one JSON document with --json, --db/--json anywhere on the line,
one-line `error: <field>: …` refusals that change nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from cli_helpers import dump, ok, query, run

from billdesk.services import text

CLIENT_KEYS = {"id", "first_name", "last_name", "company", "email", "phone", "country", "currency",
               "group", "status", "language"}
CONTACT_KEYS = {"id", "client_id", "first_name", "last_name", "email", "phone", "company",
                "categories", "billing"}
GROUP_KEYS = {"id", "name", "colour", "discount", "separate_invoices"}
DEMO_CLIENTS = 40


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """One demo book per module (read-only tests use it as is)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    done = run(home, "demo", "--clients", str(DEMO_CLIENTS), "--seed", "5", "--db", str(path), "--json")
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["clients"] == DEMO_CLIENTS and doc["groups"] == 4
    assert doc["contacts"] == query(path, "SELECT count(*) FROM contact")[0][0]
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def book(demo_book: Path, tmp_path: Path) -> Path:
    """A private copy of the demo book, for tests that write."""
    path = tmp_path / "book.sqlite3"
    shutil.copy(demo_book, path)
    return path


@pytest.fixture(scope="module")
def refusal_book(demo_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy that refused commands are run against (they must not write)."""
    path = tmp_path_factory.mktemp("refusals") / "book.sqlite3"
    shutil.copy(demo_book, path)
    return path


# --------------------------------------------------------------------------- demo

def test_demo_is_repeatable_by_seed(home, tmp_path):
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    docs = [ok(home, p, "demo", "--clients", "6", "--seed", "42") for p in (a, b)]
    assert docs[0] == docs[1]
    assert docs[0]["clients"] == 6
    sql = "SELECT first_name, last_name, company, email, phone, status, group_id FROM client ORDER BY id"
    assert query(a, sql) == query(b, sql)
    assert len(query(a, sql)) == 6


def test_demo_with_zero_clients_and_text_output(home, tmp_path):
    done = run(home, "--db", str(tmp_path / "z.sqlite3"), "demo", "--clients", "0")
    assert done.code == 0 and done.stderr == ""
    assert "0 clients" in done.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)


# --------------------------------------------------------------------------- client add / show / edit

def test_client_add_show_and_list_agree(home, book):
    added = ok(home, book, "client", "add", "--first", "Zoë", "--last", "O'Brien", "--email",
               "zoe.obrien@example.com", "--company", "Crème Café", "--phone", "+44 20 7946 0958",
               "--country", "gb", "--currency", "eur", "--language", "FR", "--group", "vip")
    assert CLIENT_KEYS <= set(added)
    assert isinstance(added["id"], int) and added["id"] == DEMO_CLIENTS + 1
    assert (added["first_name"], added["last_name"], added["company"], added["email"]) == \
        ("Zoë", "O'Brien", "Crème Café", "zoe.obrien@example.com")
    assert (added["phone"], added["country"], added["currency"], added["language"]) == \
        ("+44 20 7946 0958", "GB", "EUR", "fr")
    assert (added["group"], added["status"]) == ("VIP", "Active")

    shown = ok(home, book, "client", "show", str(added["id"]))
    assert CLIENT_KEYS | {"contacts"} <= set(shown)
    assert {k: shown[k] for k in CLIENT_KEYS} == {k: added[k] for k in CLIENT_KEYS}
    assert shown["contacts"] == []

    listed = ok(home, book, "client", "list", "--search", "o'brien zoe")
    assert set(listed) == {"clients", "total"}
    assert listed["total"] == 1
    assert {k: listed["clients"][0][k] for k in CLIENT_KEYS} == {k: added[k] for k in CLIENT_KEYS}
    assert query(book, "SELECT message FROM client_log WHERE client_id = ?", (added["id"],)) == \
        [("Client created",)]


def test_client_show_of_a_demo_client(home, demo_book):
    row = query(demo_book, "SELECT id, first_name, last_name, email, status FROM client WHERE id = 3")[0]
    shown = ok(home, demo_book, "client", "show", "3")
    assert (shown["id"], shown["first_name"], shown["last_name"], shown["email"], shown["status"]) == row
    contacts = query(demo_book, "SELECT id, email FROM contact WHERE client_id = 3 ORDER BY id")
    assert [(c["id"], c["email"]) for c in shown["contacts"]] == contacts
    for c in shown["contacts"]:
        assert CONTACT_KEYS <= set(c)


def test_client_edit_logs_each_change_with_the_reason(home, book):
    before = ok(home, book, "client", "show", "2")
    logged = query(book, "SELECT coalesce(max(id), 0) FROM client_log")[0][0]  # the demo's own
    new_status = "Closed" if before["status"] != "Closed" else "Active"
    edited = ok(home, book, "client", "edit", "2", "--first", "Renamed", "--city", "Nowhere Town",
                "--tax-exempt", "yes", "--status", new_status.lower(), "--group", "Resellers",
                "--reason", " asked by phone ")
    assert CLIENT_KEYS <= set(edited)
    assert (edited["id"], edited["first_name"], edited["status"], edited["group"]) == \
        (2, "Renamed", new_status, "Resellers")
    assert edited["tax_exempt"] is True
    log = query(book, "SELECT field, old_value, new_value, reason FROM client_log "
                      "WHERE client_id = 2 AND field != '' AND id > ? ORDER BY id", (logged,))
    assert ("First name", before["first_name"], "Renamed", "asked by phone") in log
    assert ("Status", before["status"], new_status, "asked by phone") in log
    assert ("City", before["city"], "Nowhere Town", "asked by phone") in log
    assert len(log) == len(edited["changed"])
    assert {r[3] for r in log} == {"asked by phone"}

    # the same edit again changes nothing and logs nothing
    snapshot = dump(book)
    again = ok(home, book, "client", "edit", "2", "--first", "Renamed", "--city", "Nowhere Town",
               "--reason", "again")
    assert again["changed"] == []
    assert dump(book) == snapshot


def test_client_edit_clears_group(home, book):
    member = query(book, "SELECT id FROM client WHERE group_id IS NOT NULL ORDER BY id LIMIT 1")[0][0]
    edited = ok(home, book, "client", "edit", str(member), "--group", "")
    assert edited["group"] is None
    assert edited["changed"] == ["group_id"]


# --------------------------------------------------------------------------- client list

def test_client_list_default_and_limit(home, demo_book):
    everything = ok(home, demo_book, "client", "list")
    assert set(everything) == {"clients", "total"}
    assert everything["total"] == DEMO_CLIENTS == len(everything["clients"])
    for c in everything["clients"]:
        assert CLIENT_KEYS <= set(c)
        assert c["status"] in ("Active", "Inactive", "Closed")
    three = ok(home, demo_book, "client", "list", "--limit", "3")
    assert three["total"] == DEMO_CLIENTS
    assert three["clients"] == everything["clients"][:3]


def test_client_list_filters(home, demo_book):
    status_counts = dict(query(demo_book, "SELECT status, count(*) FROM client GROUP BY status"))
    for status, n in status_counts.items():
        found = ok(home, demo_book, "client", "list", "--status", status.upper(), "--limit", "1000")
        assert found["total"] == n == len(found["clients"])
        assert {c["status"] for c in found["clients"]} == {status}
    group, members = query(demo_book, "SELECT g.name, count(*) FROM client c JOIN client_group g "
                                      "ON g.id = c.group_id GROUP BY g.name ORDER BY 2 DESC")[0]
    found = ok(home, demo_book, "client", "list", "--group", group.lower(), "--limit", "1000")
    assert found["total"] == members == len(found["clients"])
    assert {c["group"] for c in found["clients"]} == {group}


def test_client_list_search(home, demo_book):
    first = query(demo_book, "SELECT last_name FROM client WHERE id = 1")[0][0]
    q = first[:4]
    found = ok(home, demo_book, "client", "list", "--search", q.upper(), "--limit", "1000")
    assert found["total"] == len(found["clients"]) >= 1
    assert 1 in {c["id"] for c in found["clients"]}
    needle = text.squash(q)
    for c in found["clients"]:
        haystack = [text.squash(c[k]) for k in ("first_name", "last_name", "company", "email", "phone")]
        haystack += [text.squash(f"{c['first_name']} {c['last_name']}"),
                     text.squash(f"{c['last_name']} {c['first_name']}"), str(c["id"])]
        assert any(needle in h for h in haystack)
    nothing = ok(home, demo_book, "client", "list", "--search", "'; DROP TABLE client; --")
    assert nothing == {"clients": [], "total": 0}
    assert ok(home, demo_book, "client", "list", "--search", "%") == {"clients": [], "total": 0}


def test_text_output_without_json(home, demo_book):
    done = run(home, "client", "list", "--limit", "2", "--db", str(demo_book))
    assert done.code == 0 and done.stderr == ""
    assert done.stdout.rstrip().endswith(f"2 of {DEMO_CLIENTS} clients")
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)


@pytest.mark.parametrize("placement", ["before", "after", "split", "middle"])
def test_db_and_json_accepted_anywhere(home, demo_book, placement):
    db = str(demo_book)
    command = ["client", "list", "--limit", "2"]
    argv = {
        "before": ["--db", db, "--json", *command],
        "after": [*command, "--db", db, "--json"],
        "split": ["--json", *command, f"--db={db}"],
        "middle": ["client", "--db", db, "list", "--json", "--limit", "2"],
    }[placement]
    done = run(home, *argv)
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["total"] == DEMO_CLIENTS and len(doc["clients"]) == 2


@pytest.mark.parametrize("before", [True, False])
def test_db_and_json_anywhere_for_a_write(home, book, before):
    add = ["client", "add", "--first", "Ann", "--last", "Lee", "--email", "ann.lee@example.com"]
    argv = ["--db", str(book), "--json", *add] if before else [*add, "--json", "--db", str(book)]
    done = run(home, *argv)
    assert done.code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["email"] == "ann.lee@example.com"
    assert query(book, "SELECT email FROM client WHERE id = ?", (doc["id"],)) == [("ann.lee@example.com",)]


# --------------------------------------------------------------------------- contacts and groups

def test_contact_add_and_list(home, book):
    plain = ok(home, book, "contact", "add", "1", "--first", "Cal", "--last", "Rivers", "--email",
               "cal.rivers@example.com")
    assert CONTACT_KEYS <= set(plain)
    assert (plain["client_id"], plain["categories"], plain["billing"]) == (1, ["general"], False)
    billing = ok(home, book, "contact", "add", "1", "--first", "Dee", "--last", "Stone", "--email",
                 "dee.stone@example.com", "--phone", "+44 20 1234 5678", "--company", "Acme",
                 "--categories", "Invoice, general", "--billing")
    assert (billing["categories"], billing["billing"], billing["phone"]) == \
        (["general", "invoice"], True, "+44 20 1234 5678")
    listed = ok(home, book, "contact", "list", "1")
    assert set(listed) == {"contacts"}
    by_id = {c["id"]: c for c in listed["contacts"]}
    assert by_id[plain["id"]]["billing"] is False
    assert by_id[billing["id"]] == billing
    assert [c["billing"] for c in listed["contacts"]].count(True) == 1
    assert ok(home, book, "client", "show", "1")["billing_contact_id"] == billing["id"]
    assert query(book, "SELECT categories FROM contact WHERE id = ?", (billing["id"],)) == \
        [("general,invoice",)]


def test_group_add_and_list(home, book):
    added = ok(home, book, "group", "add", "Agencies", "--colour", "#112233", "--discount", "12.5",
               "--separate-invoices", "yes")
    assert added == {"id": added["id"], "name": "Agencies", "colour": "#112233", "discount": "12.50",
                     "separate_invoices": True}
    listed = ok(home, book, "group", "list")
    assert set(listed) == {"groups"}
    assert [g["name"] for g in listed["groups"]] == ["Agencies", "Non-profit", "Resellers", "VIP",
                                                     "Wholesale"]
    for g in listed["groups"]:
        assert set(g) == GROUP_KEYS
    assert added in listed["groups"]
    assert query(book, "SELECT discount FROM client_group WHERE id = ?", (added["id"],)) == [(1250,)]


# --------------------------------------------------------------------------- refusals

def existing_email(db: Path, client_id: int) -> str:
    return query(db, "SELECT email FROM client WHERE id = ?", (client_id,))[0][0]


ADD = ["client", "add", "--first", "Ann", "--last", "Lee"]
CONTACT = ["--first", "Cal", "--last", "Rivers", "--email", "cal@example.com"]

REFUSALS: list[tuple[str, list[str], int, str]] = [
    # (name, argv after `billdesk`, exit code, the field named)
    ("missing email option", [*ADD], 2, "--email"),
    ("malformed email", [*ADD, "--email", "ann.example.com"], 1, "email"),
    ("email with two dots", [*ADD, "--email", "ann..lee@example.com"], 1, "email"),
    ("duplicate email other case", [*ADD, "--email", "{EMAIL2_UPPER}"], 1, "email"),
    ("empty first name", ["client", "add", "--first", "", "--last", "Lee", "--email", "x@example.com"],
     1, "first_name"),
    ("blank last name", ["client", "add", "--first", "Ann", "--last", "  ", "--email", "x@example.com"],
     1, "last_name"),
    ("bad country", [*ADD, "--email", "x@example.com", "--country", "XX"], 1, "country"),
    ("bad currency", [*ADD, "--email", "x@example.com", "--currency", "ABC"], 1, "currency"),
    ("bad language", [*ADD, "--email", "x@example.com", "--language", "tlh"], 1, "language"),
    ("bad account type", [*ADD, "--email", "x@example.com", "--account-type", "corp"], 1,
     "account_type"),
    ("unknown group on add", [*ADD, "--email", "x@example.com", "--group", "Platinum"], 1, "group"),
    ("unknown id show", ["client", "show", "9999"], 1, "id"),
    ("malformed id show", ["client", "show", "abc"], 1, "id"),
    ("zero id show", ["client", "show", "0"], 1, "id"),
    ("unknown id edit", ["client", "edit", "9999", "--first", "X"], 1, "id"),
    ("malformed id edit", ["client", "edit", "abc", "--first", "X"], 1, "id"),
    ("edit to duplicate email", ["client", "edit", "1", "--email", "{EMAIL2_UPPER}"], 1, "email"),
    ("edit empty first name", ["client", "edit", "1", "--first", ""], 1, "first_name"),
    ("bad yes/no value", ["client", "edit", "1", "--tax-exempt", "maybe"], 1, "tax-exempt"),
    ("bad status on edit", ["client", "edit", "1", "--status", "Deleted"], 1, "status"),
    ("unknown group on edit", ["client", "edit", "1", "--group", "Platinum"], 1, "group"),
    ("bad status on list", ["client", "list", "--status", "Gone"], 1, "status"),
    ("bad limit", ["client", "list", "--limit", "0"], 1, "limit"),
    ("malformed limit", ["client", "list", "--limit", "ten"], 1, "limit"),
    ("bad sort", ["client", "list", "--sort", "shoe_size"], 1, "sort"),
    ("unknown group on list", ["client", "list", "--group", "Platinum"], 1, "group"),
    ("unknown option", ["client", "list", "--colour", "red"], 2, "--colour"),
    ("unknown option on add", [*ADD, "--email", "x@example.com", "--nickname", "Annie"], 2, "--nickname"),
    ("unknown action", ["client", "frobnicate"], 2, "frobnicate"),
    ("unknown command", ["frobnicate"], 2, "frobnicate"),
    ("missing id", ["client", "show"], 2, "id"),
    ("contact for unknown client", ["contact", "add", "9999", *CONTACT], 1, "client_id"),
    ("contact for malformed id", ["contact", "add", "abc", *CONTACT], 1, "client_id"),
    ("contact malformed email", ["contact", "add", "1", "--first", "Cal", "--last", "Rivers",
                                 "--email", "cal@"], 1, "email"),
    ("contact bad category", ["contact", "add", "1", *CONTACT, "--categories", "general,spam"], 1,
     "categories"),
    ("contact list unknown client", ["contact", "list", "9999"], 1, "client_id"),
    ("contact list malformed id", ["contact", "list", "abc"], 1, "client_id"),
    ("group duplicate other case", ["group", "add", "vip"], 1, "name"),
    ("group discount too high", ["group", "add", "New", "--discount", "100.5"], 1, "discount"),
    ("group discount malformed", ["group", "add", "New", "--discount", "ten"], 1, "discount"),
    ("group bad yes/no", ["group", "add", "New", "--separate-invoices", "maybe"], 1,
     "separate-invoices"),
    ("group bad colour", ["group", "add", "New", "--colour", "red"], 1, "colour"),
    ("demo into a full book", ["demo", "--clients", "3"], 1, "db"),
    ("demo negative count", ["demo", "--clients", "-3"], 1, "clients"),
    ("demo malformed seed", ["demo", "--seed", "x"], 1, "seed"),
]


def check_refusal(home: Path, db: Path, argv: list[str], code: int, field: str) -> None:
    before = dump(db)
    done = run(home, *argv, "--db", str(db), "--json")
    assert done.code == code, (done.code, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    if code == 1:
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"error: {field}: "), lines[0]
    else:  # argparse's usage error: its message names what is wrong
        assert lines and "error:" in lines[-1] and field in lines[-1], done.stderr
    assert dump(db) == before


@pytest.mark.parametrize(("argv", "code", "field"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refused_input(home, refusal_book, argv, code, field):
    email2 = existing_email(refusal_book, 2).upper()
    argv = [a.replace("{EMAIL2_UPPER}", email2) for a in argv]
    check_refusal(home, refusal_book, argv, code, field)


def test_refused_input_json_placed_first(home, refusal_book):
    before = dump(refusal_book)
    done = run(home, "--json", "--db", str(refusal_book), "client", "show", "abc")
    assert (done.code, done.stdout) == (1, "")
    assert done.stderr.splitlines() == ["error: id: 'abc' is not a whole number"]
    assert dump(refusal_book) == before


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://user@localhost/billdesk", "PostgreSQL"),
    ("mysql://localhost/billdesk", "scheme"),
])
def test_refused_database_urls(home, url, words):
    done = run(home, "--db", url, "client", "list", "--json")
    assert (done.code, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: db: ") and words in lines[0]


def test_newer_schema_is_refused(home, tmp_path):
    path = tmp_path / "future.sqlite3"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 20001")
    con.close()
    done = run(home, "client", "list", "--db", str(path))
    assert (done.code, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: db: ")
    assert query(path, "SELECT count(*) FROM sqlite_master")[0][0] == 0


@pytest.mark.parametrize(("argv", "field"), [
    (["client", "show", "99999999999999999999"], "id"),
    (["contact", "list", "99999999999999999999"], "client_id"),
    (["client", "list", "--limit", "99999999999999999999"], "limit"),
])
def test_huge_numbers_are_refused_input(home, refusal_book, argv, field):
    check_refusal(home, refusal_book, argv, 1, field)


def test_db_error_is_one_line_even_for_odd_paths(home, tmp_path):
    done = run(home, "--db", str(tmp_path / "no\nsuch" / "book.db"), "client", "list")
    assert (done.code, done.stdout) == (1, "")
    assert len(done.stderr.splitlines()) == 1, done.stderr
