"""`billdesk product add|list|show` from outside (SPEC.md S1, D5): the JSON
shapes, text output, exit codes 0/1/2, and refusals that print one
`error: <field>: …` line and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import dump, ok, query, run

PRODUCT_KEYS = {"id", "name", "type", "group", "description", "taxed", "hidden", "prices"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Two products: "Web S" (USD, monthly and annually with a setup fee)
    and a hidden, taxed "Big server" priced once in EUR."""
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    ok(home, path, "product", "add", "--name", "Web S", "--group", "Shared", "--monthly", "5",
       "--annually", "50", "--setup-fee", "10")
    ok(home, path, "product", "add", "--name", "Big server", "--type", "server", "--onetime",
       "1000", "--currency", "eur", "--hidden", "--taxed")
    return path


def test_product_add_prints_the_product(home, book):  # noqa: ANN001
    added = ok(home, book, "product", "add", "--name", "Reseller L", "--type", "reseller",
               "--group", "Resellers", "--description", "50 accounts", "--monthly", "29.99",
               "--quarterly", "85", "--semiannually", "160", "--annually", "300.5",
               "--biennially", "560", "--triennially", "800", "--onetime", "0",
               "--setup-fee", "15")
    assert set(added) == PRODUCT_KEYS
    assert (added["name"], added["type"], added["group"], added["description"], added["taxed"],
            added["hidden"]) == ("Reseller L", "reseller", "Resellers", "50 accounts", False, False)
    assert added["prices"] == {"USD": {
        cycle: {"amount": amount, "setup_fee": "15.00"} for cycle, amount in (
            ("onetime", "0.00"), ("monthly", "29.99"), ("quarterly", "85.00"),
            ("semiannually", "160.00"), ("annually", "300.50"), ("biennially", "560.00"),
            ("triennially", "800.00"))}}
    assert list(added["prices"]["USD"]) == ["onetime", "monthly", "quarterly", "semiannually",
                                            "annually", "biennially", "triennially"]
    # INTEGER minor units in the file
    assert query(book, f"SELECT cycle, amount, setup_fee FROM product_price WHERE product_id = "
                       f"{added['id']} AND cycle = 'monthly'") == [("monthly", 2999, 1500)]
    assert ok(home, book, "product", "show", str(added["id"])) == added
    assert ok(home, book, "product", "show", "reseller l") == added

    # yen: no decimals, rounded half-up on entry; no prices at all is fine too
    yen = ok(home, book, "product", "add", "--name", "Domain .jp", "--type", "domain",
             "--annually", "1000.5", "--currency", "JPY")
    assert yen["prices"] == {"JPY": {"annually": {"amount": "1001", "setup_fee": "0"}}}
    bare = ok(home, book, "product", "add", "--name", "Consulting", "--type", "other")
    assert (bare["prices"], bare["type"]) == ({}, "other")

    text = run(home, "product", "add", "--name", "Mail", "--monthly", "2", "--db", str(book))
    assert (text.code, text.stderr) == (0, "")
    assert text.stdout.startswith("Added product #") and "Mail (hosting)" in text.stdout
    assert "USD 2.00/mo" in text.stdout


def test_product_list(home, book):  # noqa: ANN001
    listed = ok(home, book, "product", "list")
    assert set(listed) == {"products"}
    assert [p["name"] for p in listed["products"]] == ["Big server", "Web S"]  # by group, name
    server, web = listed["products"]
    assert all(set(p) == PRODUCT_KEYS for p in listed["products"])
    assert (server["type"], server["hidden"], server["taxed"], server["group"]) == (
        "server", True, True, "")
    assert server["prices"] == {"EUR": {"onetime": {"amount": "1000.00", "setup_fee": "0.00"}}}
    assert web["prices"] == {"USD": {"monthly": {"amount": "5.00", "setup_fee": "10.00"},
                                     "annually": {"amount": "50.00", "setup_fee": "10.00"}}}
    visible = ok(home, book, "product", "list", "--visible")
    assert [p["name"] for p in visible["products"]] == ["Web S"]

    text = run(home, "product", "list", "--db", str(book))
    assert (text.code, text.stderr) == (0, "")
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["ID", "Name", "Type", "Group", "Prices"]
    assert "Big server" in lines[1] and "EUR 1000.00 once" in lines[1] and "(hidden)" in lines[1]
    assert "Web S" in lines[2] and "Shared" in lines[2]
    assert "USD 5.00/mo (setup 10.00), 50.00/yr (setup 10.00)" in lines[2]
    assert lines[-1] == "2 products"


def test_an_empty_catalogue(home, tmp_path):  # noqa: ANN001
    db = tmp_path / "empty.sqlite3"
    assert ok(home, db, "product", "list") == {"products": []}
    text = run(home, "product", "list", "--db", str(db))
    assert text.code == 0 and "No products yet" in text.stdout


@pytest.mark.parametrize("before", [True, False])
def test_db_and_json_anywhere(home, book, before):  # noqa: ANN001
    add = ["product", "add", "--name", "Anywhere", "--monthly", "1"]
    argv = ["--json", "--db", str(book), *add] if before else [*add, "--db", str(book), "--json"]
    done = run(home, *argv)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "Anywhere"
    shown = run(home, "product", "--db", str(book), "show", "Anywhere", "--json")
    assert json.loads(shown.stdout)["prices"]["USD"]["monthly"]["amount"] == "1.00"


REFUSALS: list[tuple[str, list[str], int, str]] = [
    # (name, argv after `billdesk --db F --json`, exit code, the field named)
    ("negative price", ["product", "add", "--name", "N", "--monthly", "-5"], 1, "monthly"),
    ("malformed price", ["product", "add", "--name", "N", "--annually", "12,x"], 1, "annually"),
    ("exponent price", ["product", "add", "--name", "N", "--quarterly", "1e3"], 1, "quarterly"),
    ("blank price", ["product", "add", "--name", "N", "--monthly", " "], 1, "monthly"),
    ("too large a price", ["product", "add", "--name", "N", "--monthly", "1000000000000"], 1,
     "monthly"),
    ("negative setup fee", ["product", "add", "--name", "N", "--monthly", "1", "--setup-fee", "-1"],
     1, "setup_fee"),
    ("setup fee without a price", ["product", "add", "--name", "N", "--setup-fee", "5"], 1,
     "setup_fee"),
    ("taken name", ["product", "add", "--name", "web s", "--monthly", "1"], 1, "name"),
    ("blank name", ["product", "add", "--name", "  "], 1, "name"),
    ("name too long", ["product", "add", "--name", "x" * 201], 1, "name"),
    ("unknown type", ["product", "add", "--name", "N", "--type", "vps"], 1, "type"),
    ("unknown currency", ["product", "add", "--name", "N", "--monthly", "1", "--currency", "XYZ"],
     1, "currency"),
    ("show unknown", ["product", "show", "99"], 1, "product"),
    ("show unknown name", ["product", "show", "Nope"], 1, "product"),
    ("add without --name", ["product", "add", "--monthly", "1"], 2, "--name"),
    ("price without amount", ["product", "add", "--name", "N", "--monthly"], 2, "--monthly"),
    ("unknown option", ["product", "add", "--name", "N", "--weekly", "1"], 2, "--weekly"),
    ("unknown action", ["product", "frobnicate"], 2, "frobnicate"),
]


@pytest.mark.parametrize(("argv", "code", "field"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refused_input(home, book, argv, code, field):  # noqa: ANN001
    before = dump(book)
    done = run(home, "--db", str(book), "--json", *argv)
    assert done.code == code, (done.code, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    if code == 1:
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"error: {field}: "), lines[0]
    else:
        assert lines and "error:" in lines[-1] and field in lines[-1], done.stderr
    assert dump(book) == before


def test_refusal_messages_say_what_is_wrong(home, book):  # noqa: ANN001
    cases = [
        (["product", "add", "--name", "N", "--monthly", "-5"], "error: monthly: must not be negative"),
        (["product", "add", "--name", "WEB S"], "error: name: a product named 'Web S' exists (#1)"),
        (["product", "add", "--name", "N", "--type", "vps", "--monthly", "x"],
         "error: type: 'vps' is not a product type: use hosting, reseller, server, other, addon, "
         "domain; monthly: 'x' is not an amount"),
    ]
    before = dump(book)
    for argv, line in cases:
        done = run(home, *argv, "--db", str(book))
        assert (done.code, done.stdout, done.stderr.splitlines()) == (1, "", [line])
    assert dump(book) == before
