"""The billing commands from outside (SPEC.md D5, P2–P5): invoice, payment,
refund, credit, statement and the billing keys of `client show` — their
JSON shapes, exit codes, and refusals that print one `error: <field>: …`
line and change nothing."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cmd, dump, ok, query, run

TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)
INVOICE_KEYS = {"id", "number", "client_id", "status", "date", "due_date", "subtotal", "tax", "total",
                "credit_applied", "paid", "balance", "lines"}
LINE_KEYS = {"description", "amount", "taxed"}
STATUSES = ("Draft", "Unpaid", "Paid", "Cancelled", "Refunded", "Collections")
USD, JPY = 1, 2  # the clients of the base book


def has_documents() -> bool:
    return importlib.util.find_spec("billdesk.services.documents") is not None


def check_invoice(doc: dict[str, Any]) -> None:
    assert INVOICE_KEYS <= set(doc)
    for line in doc["lines"]:
        assert LINE_KEYS <= set(line)
    total = sum(Decimal(line["amount"]) for line in doc["lines"])
    assert Decimal(doc["subtotal"]) == total
    assert Decimal(doc["total"]) == Decimal(doc["subtotal"]) + Decimal(doc["tax"])


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Client 1 pays in USD, client 2 in JPY (no decimals); one tax rule
    (VAT 17.5 %) applies to taxed lines."""
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "USD")["id"] == USD
    assert ok(home, path, "client", "add", "--first", "Ken", "--last", "Sato", "--email",
              "ken@example.com", "--currency", "JPY")["id"] == JPY
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO tax_rule (level, name, rate, country, state) "
                    "VALUES (1, 'VAT', '17.5', '', '')")
    con.close()
    return path


# --------------------------------------------------------------------------- invoices

def test_invoice_create_show_list_publish(home, book):
    due = (TODAY + dt.timedelta(days=14)).isoformat()
    created = cmd(home, book, "invoice", "create", str(USD), "--item", "Hosting=100",
                  "--item", "Setup = fee=20.5", "--due", due)
    check_invoice(created)
    assert created["status"] == "Unpaid" and created["number"]
    assert (created["client_id"], created["date"], created["due_date"]) == (USD, TODAY.isoformat(), due)
    assert [(ln["description"], ln["amount"], ln["taxed"]) for ln in created["lines"]] == \
        [("Hosting", "100.00", False), ("Setup = fee", "20.50", False)]
    assert (created["subtotal"], created["tax"], created["total"], created["credit_applied"],
            created["paid"], created["balance"]) == ("120.50", "0.00", "120.50", "0.00", "0.00",
                                                     "120.50")
    assert ok(home, book, "invoice", "show", str(created["id"])) == created

    text = run(home, "invoice", "show", str(created["id"]), "--db", str(book))
    assert text.code == 0 and text.stderr == ""
    assert created["number"] in text.stdout and "Setup = fee" in text.stdout
    assert "Balance due" in text.stdout and "120.50" in text.stdout

    # tax on the sum of the taxed lines, rounded once: 3 × 0.10 at 17.5 % → 0.05
    taxed = ok(home, book, "invoice", "create", str(USD), "--item", "a=0.10", "--item", "b=0.10",
               "--item", "c=0.10", "--taxed")
    check_invoice(taxed)
    assert (taxed["subtotal"], taxed["tax"], taxed["total"], taxed["due_date"]) == \
        ("0.30", "0.05", "0.35", TODAY.isoformat())
    assert all(ln["taxed"] for ln in taxed["lines"])

    # a yen client: no decimals, rounded half-up on entry
    yen = ok(home, book, "invoice", "create", str(JPY), "--item", "Domain=1000.5")
    assert (yen["total"], yen["balance"], yen["lines"][0]["amount"]) == ("1001", "1001", "1001")

    draft = ok(home, book, "invoice", "create", str(USD), "--draft", "--item", "Later=5")
    assert (draft["status"], draft["number"], draft["total"]) == ("Draft", None, "5.00")
    empty = ok(home, book, "invoice", "create", str(USD), "--draft")
    assert (empty["status"], empty["lines"], empty["total"]) == ("Draft", [], "0.00")
    published = ok(home, book, "invoice", "publish", str(draft["id"]))
    check_invoice(published)
    assert published["status"] == "Unpaid" and published["number"] not in (None, created["number"])

    listed = ok(home, book, "invoice", "list", str(USD))
    assert set(listed) == {"invoices"}
    assert [i["id"] for i in listed["invoices"]] == [created["id"], taxed["id"], draft["id"], empty["id"]]
    assert listed["invoices"][0] == created
    drafts = ok(home, book, "invoice", "list", str(USD), "--status", "draft")
    assert [i["id"] for i in drafts["invoices"]] == [empty["id"]]


def test_overpayment_goes_to_credit(home, book):
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "Design=100")
    paid = cmd(home, book, "payment", "add", str(inv["id"]), "150", "--fee", "2.5", "--method",
               "card", "--ref", "TX-1", "--date", TODAY.isoformat())
    assert set(paid) == {"id", "invoice", "credit_added"}
    assert paid["credit_added"] == "50.00"
    check_invoice(paid["invoice"])
    assert (paid["invoice"]["id"], paid["invoice"]["status"], paid["invoice"]["paid"],
            paid["invoice"]["balance"]) == (inv["id"], "Paid", "100.00", "0.00")
    assert paid["invoice"] == ok(home, book, "invoice", "show", str(inv["id"]))
    assert query(book, "SELECT invoice_id, amount_in, fee, method, reference FROM txn WHERE id = ?",
                 (paid["id"],)) == [(inv["id"], 15000, 250, "Card", "TX-1")]

    log = ok(home, book, "credit", "log", str(USD))
    assert set(log) == {"entries", "balance"} and log["balance"] == "50.00"
    assert [(e["amount"], e["description"]) for e in log["entries"]] == \
        [("50.00", f"Credit for overpayment of invoice #{inv['number']}")]

    shown = ok(home, book, "client", "show", str(USD))
    assert shown["credit_balance"] == "50.00"
    assert list(shown["invoices"]) == list(STATUSES)
    assert shown["invoices"]["Paid"] == {"count": 1, "total": "100.00"}
    assert shown["invoices"]["Collections"] == {"count": 0, "total": "0.00"}
    assert shown["income"] == {"gross": "150.00", "expenses": "2.50", "net": "147.50"}
    text = run(home, "client", "show", str(USD), "--db", str(book))
    assert text.code == 0 and "Credit balance: 50.00" in text.stdout and "net 147.50" in text.stdout


def test_add_funds_credit_and_apply_credit(home, book):
    funds = ok(home, book, "invoice", "add-funds", str(USD), "80")
    check_invoice(funds)
    assert (funds["kind"], funds["status"], funds["total"], funds["tax"]) == \
        ("add_funds", "Unpaid", "80.00", "0.00")
    paid = ok(home, book, "payment", "add", str(funds["id"]), "80")
    assert paid["credit_added"] == "80.00" and paid["invoice"]["status"] == "Paid"

    small = ok(home, book, "invoice", "create", str(USD), "--item", "Small=50")
    applied = ok(home, book, "invoice", "apply-credit", str(small["id"]))  # min(80, 50)
    assert set(applied) == {"id", "applied", "invoice", "credit_balance"}
    assert (applied["id"], applied["applied"], applied["credit_balance"]) == (small["id"], "50.00", "30.00")
    assert (applied["invoice"]["status"], applied["invoice"]["credit_applied"],
            applied["invoice"]["balance"]) == ("Paid", "50.00", "0.00")

    big = ok(home, book, "invoice", "create", str(USD), "--item", "Big=100")
    applied = cmd(home, book, "invoice", "apply-credit", str(big["id"]))  # min(30, 100)
    assert (applied["applied"], applied["credit_balance"]) == ("30.00", "0.00")
    assert (applied["invoice"]["status"], applied["invoice"]["balance"]) == ("Unpaid", "70.00")

    added = ok(home, book, "credit", "add", str(USD), "25", "--description", "Goodwill")
    assert added == {"id": added["id"], "client_id": USD, "amount": "25.00",
                     "description": "Goodwill", "balance": "25.00"}
    applied = ok(home, book, "invoice", "apply-credit", str(big["id"]), "10")
    assert (applied["applied"], applied["credit_balance"], applied["invoice"]["balance"]) == \
        ("10.00", "15.00", "60.00")
    removed = cmd(home, book, "credit", "remove", str(USD), "5", "--description", "Correction")
    assert removed == {"id": removed["id"], "client_id": USD, "amount": "-5.00",
                       "description": "Correction", "balance": "10.00"}

    log = ok(home, book, "credit", "log", str(USD))
    assert log["balance"] == "10.00"
    assert [e["amount"] for e in log["entries"]] == ["-5.00", "-10.00", "25.00", "-30.00", "-50.00",
                                                     "80.00"]
    assert sum(Decimal(e["amount"]) for e in log["entries"]) == Decimal("10.00")
    text = run(home, "credit", "log", str(USD), "--db", str(book))
    assert text.code == 0 and "Goodwill" in text.stdout and "Credit balance: 10.00" in text.stdout


def test_refund_to_credit_and_to_method(home, book):
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "Work=100")
    pay = ok(home, book, "payment", "add", str(inv["id"]), "100", "--method", "Bank transfer")
    kept = ok(home, book, "refund", str(pay["id"]), "30", "--to-credit")
    assert set(kept) == {"id", "refund_of", "amount", "to_credit", "invoice"}
    assert (kept["refund_of"], kept["amount"], kept["to_credit"]) == (pay["id"], "30.00", True)
    assert kept["id"] != pay["id"]
    assert (kept["invoice"]["id"], kept["invoice"]["status"], kept["invoice"]["refunded"]) == \
        (inv["id"], "Paid", "30.00")
    back = cmd(home, book, "refund", str(pay["id"]), "70")
    assert (back["amount"], back["to_credit"], back["invoice"]["status"]) == ("70.00", False, "Refunded")
    assert query(book, "SELECT refund_of, amount_out, to_credit, method FROM txn WHERE id IN (?, ?) "
                       "ORDER BY id", (kept["id"], back["id"])) == \
        [(pay["id"], 3000, 1, "Credit"), (pay["id"], 7000, 0, "Bank transfer")]
    shown = ok(home, book, "client", "show", str(USD))
    assert shown["credit_balance"] == "30.00"
    assert shown["invoices"]["Refunded"] == {"count": 1, "total": "100.00"}
    assert shown["income"] == {"gross": "100.00", "expenses": "70.00", "net": "30.00"}


def test_cancel_keeps_payments_as_credit(home, book):
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "Project=100")
    ok(home, book, "payment", "add", str(inv["id"]), "40")
    cancelled = ok(home, book, "invoice", "cancel", str(inv["id"]))
    check_invoice(cancelled)
    assert (cancelled["status"], cancelled["balance"]) == ("Cancelled", "0.00")
    assert ok(home, book, "credit", "log", str(USD))["balance"] == "40.00"


def test_statement_closing_is_unpaid_less_credit(home, book, tmp_path):
    a = ok(home, book, "invoice", "create", str(USD), "--item", "A=100")
    b = ok(home, book, "invoice", "create", str(USD), "--item", "B=60", "--item", "B2=15.25")
    pay = ok(home, book, "payment", "add", str(a["id"]), "130", "--date", YESTERDAY.isoformat())
    ok(home, book, "payment", "add", str(b["id"]), "20")
    ok(home, book, "refund", str(pay["id"]), "10")
    ok(home, book, "credit", "add", str(USD), "12", "--description", "Goodwill")
    ok(home, book, "credit", "remove", str(USD), "2", "--description", "Fix")
    funds = ok(home, book, "invoice", "add-funds", str(USD), "5")
    ok(home, book, "payment", "add", str(funds["id"]), "5")
    ok(home, book, "invoice", "cancel", str(ok(home, book, "invoice", "create", str(USD),
                                                   "--item", "Void=999")["id"]))

    s = cmd(home, book, "statement", str(USD), "--from", YESTERDAY.isoformat(), "--to",
            TODAY.isoformat())
    assert {"opening", "rows", "closing", "from", "to", "currency", "check"} <= set(s)
    assert (s["opening"], s["from"], s["to"]) == ("0.00", YESTERDAY.isoformat(), TODAY.isoformat())
    assert [r["type"] for r in s["rows"]] == ["Payment", "Invoice", "Invoice", "Payment", "Payment",
                                              "Refund", "Refund paid out", "Credit added",
                                              "Credit removed"]
    assert s["rows"][0] == {"date": YESTERDAY.isoformat(), "type": "Payment", "description": s["rows"][0]
                            ["description"], "debit": "0.00", "credit": "130.00", "balance": "-130.00"}
    running = Decimal(s["opening"])
    for row in s["rows"]:
        running += Decimal(row["debit"]) - Decimal(row["credit"])
        assert Decimal(row["balance"]) == running
    assert Decimal(s["closing"]) == running
    invoices = ok(home, book, "invoice", "list", str(USD))["invoices"]
    unpaid = sum(Decimal(i["balance"]) for i in invoices if i["status"] in ("Unpaid", "Collections")
                 and i["kind"] == "standard")
    credit = Decimal(ok(home, book, "client", "show", str(USD))["credit_balance"])
    assert (unpaid, credit) == (Decimal("55.25"), Decimal("45.00"))  # 30 overpaid + 12 − 2 + 5
    assert Decimal(s["closing"]) == unpaid - credit
    assert s["check"] == {"applies": True, "expected": s["closing"], "ok": True}

    # from today: yesterday's payment is the opening balance
    today = ok(home, book, "statement", str(USD), "--from", TODAY.isoformat(), "--to", TODAY.isoformat())
    assert (today["opening"], today["closing"]) == ("-130.00", s["closing"])
    assert today["rows"] == s["rows"][1:]

    text = run(home, "statement", str(USD), "--from", YESTERDAY.isoformat(), "--to", TODAY.isoformat(),
               "--db", str(book))
    assert text.code == 0 and text.stderr == ""
    assert "Opening balance" in text.stdout and "Closing balance" in text.stdout
    assert "-130.00" in text.stdout and s["closing"] in text.stdout.splitlines()[-2]

    if has_documents():
        pdf = tmp_path / "statement.pdf"
        written = ok(home, book, "statement", str(USD), "--from", YESTERDAY.isoformat(),
                     "--to", TODAY.isoformat(), "-o", str(pdf))
        assert written["file"] == str(pdf.resolve()) and written["closing"] == s["closing"]
        assert pdf.read_bytes().startswith(b"%PDF")


def test_invoice_pdf(home, book, tmp_path):
    if not has_documents():
        pytest.skip("billdesk.services.documents is not there yet")
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "Hosting=100")
    target = tmp_path / "out" / "invoice.pdf"
    target.parent.mkdir()
    before = dump(book)
    written = cmd(home, book, "invoice", "pdf", str(inv["id"]), "-o", str(target))
    assert set(written) == {"id", "number", "file", "bytes"}
    assert (written["id"], written["number"], written["file"]) == (inv["id"], inv["number"],
                                                                   str(target.resolve()))
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and written["bytes"] == len(data)
    assert dump(book) == before


@pytest.mark.parametrize("before", [True, False])
def test_db_and_json_anywhere_for_billing(home, book, before):
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "X=10")
    pay = ["payment", "add", str(inv["id"]), "4"]
    argv = ["--json", "--db", str(book), *pay] if before else [*pay, "--db", str(book), "--json"]
    done = run(home, *argv)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["invoice"]["balance"] == "6.00"
    show = ["invoice", "--db", str(book), "show", str(inv["id"]), "--json"]
    assert json.loads(run(home, *show).stdout)["paid"] == "4.00"


# --------------------------------------------------------------------------- refusals

@pytest.fixture(scope="module")
def refusal_book(base_book: Path, tmp_path_factory: pytest.TempPathFactory, home: Path) -> tuple[Path, dict]:
    """Client 1 with an Unpaid invoice of 100 paid 40 (transaction P), a
    paid invoice of 30 (transaction Q), a cancelled invoice, an empty
    draft, and 10 of credit."""
    path = tmp_path_factory.mktemp("refusals") / "book.sqlite3"
    shutil.copy(base_book, path)
    unpaid = ok(home, path, "invoice", "create", "1", "--item", "Open=100")["id"]
    payment = ok(home, path, "payment", "add", str(unpaid), "40")["id"]
    settled = ok(home, path, "invoice", "create", "1", "--item", "Settled=30")["id"]
    paid = ok(home, path, "payment", "add", str(settled), "30")["id"]
    cancelled = ok(home, path, "invoice", "create", "1", "--item", "Gone=5")["id"]
    ok(home, path, "invoice", "cancel", str(cancelled))  # its 0 paid → nothing to credit
    draft = ok(home, path, "invoice", "create", "1", "--draft")["id"]
    ok(home, path, "credit", "add", "1", "10", "--description", "Start")
    return path, {"U": str(unpaid), "P": str(payment), "Q": str(paid), "C": str(cancelled),
                  "D": str(draft)}


REFUSALS: list[tuple[str, list[str], int, str]] = [
    # (name, argv after `billdesk --db F --json`, exit code, the field named); U/P/C/D: see refusal_book
    ("payment negative after --", ["payment", "add", "U", "--", "-5"], 1, "amount"),
    ("payment negative", ["payment", "add", "U", "-5"], 1, "amount"),
    ("payment malformed amount", ["payment", "add", "U", "12,x"], 1, "amount"),
    ("payment zero", ["payment", "add", "U", "0"], 1, "amount"),
    ("payment on cancelled", ["payment", "add", "C", "5"], 1, "invoice"),
    ("payment on draft", ["payment", "add", "D", "5"], 1, "invoice"),
    ("payment unknown invoice", ["payment", "add", "9999", "5"], 1, "invoice"),
    ("payment malformed invoice id", ["payment", "add", "abc", "5"], 1, "invoice"),
    ("payment malformed date", ["payment", "add", "U", "5", "--date", "2026-13-01"], 1, "date"),
    ("generate on a day to come", ["invoice", "generate", "--date",
                                   (TODAY + dt.timedelta(days=1)).isoformat()], 1, "date"),
    ("payment fee above amount", ["payment", "add", "U", "5", "--fee", "6"], 1, "fee"),
    ("payment negative fee", ["payment", "add", "U", "5", "--fee", "-1"], 1, "fee"),
    ("payment unknown method", ["payment", "add", "U", "5", "--method", "Bitcoin"], 1, "method"),
    ("item malformed amount", ["invoice", "create", "1", "--item", "Work=12,x"], 1, "item"),
    ("item without =", ["invoice", "create", "1", "--item", "Work 12"], 1, "item"),
    ("item empty description", ["invoice", "create", "1", "--item", " =12"], 1, "item"),
    ("item empty amount", ["invoice", "create", "1", "--item", "Work="], 1, "item"),
    ("second item malformed", ["invoice", "create", "1", "--item", "A=1", "--item", "B=x"], 1, "item"),
    ("negative total", ["invoice", "create", "1", "--item", "Discount=-5"], 1, "item"),
    ("published without items", ["invoice", "create", "1"], 1, "item"),
    ("malformed due", ["invoice", "create", "1", "--item", "A=1", "--due", "2026-13-01"], 1, "due"),
    ("due before today", ["invoice", "create", "1", "--item", "A=1", "--due", YESTERDAY.isoformat()],
     1, "due"),
    ("invoice for unknown client", ["invoice", "create", "9999", "--item", "A=1"], 1, "client_id"),
    ("invoice for malformed client", ["invoice", "create", "x1", "--item", "A=1"], 1, "client_id"),
    ("show unknown invoice", ["invoice", "show", "9999"], 1, "invoice"),
    ("show malformed invoice", ["invoice", "show", "0"], 1, "invoice"),
    ("list unknown client", ["invoice", "list", "9999"], 1, "client_id"),
    ("list bad status", ["invoice", "list", "1", "--status", "Lost"], 1, "status"),
    ("cancel cancelled", ["invoice", "cancel", "C"], 1, "invoice"),
    ("publish published", ["invoice", "publish", "U"], 1, "invoice"),
    ("publish empty draft", ["invoice", "publish", "D"], 1, "lines"),
    ("apply more than the credit", ["invoice", "apply-credit", "U", "50"], 1, "amount"),
    ("apply negative credit", ["invoice", "apply-credit", "U", "-5"], 1, "amount"),
    ("apply credit to cancelled", ["invoice", "apply-credit", "C"], 1, "invoice"),
    ("add-funds negative", ["invoice", "add-funds", "1", "-5"], 1, "amount"),
    ("add-funds unknown client", ["invoice", "add-funds", "9999", "5"], 1, "client_id"),
    ("pdf into a missing folder", ["invoice", "pdf", "U", "-o", "/nonexistent/dir/x.pdf"], 1, "output"),
    ("pdf of unknown invoice", ["invoice", "pdf", "9999", "-o", "x.pdf"], 1, "invoice"),
    ("refund more than paid", ["refund", "Q", "31"], 1, "amount"),
    ("refund negative", ["refund", "Q", "-5"], 1, "amount"),
    ("refund on an invoice still owed", ["refund", "P", "5"], 1, "transaction"),
    ("refund unknown transaction", ["refund", "9999", "5"], 1, "transaction"),
    ("refund malformed transaction", ["refund", "t1", "5"], 1, "transaction"),
    ("remove more credit than there is", ["credit", "remove", "1", "10.01", "--description", "x"], 1,
     "amount"),
    ("credit blank description", ["credit", "add", "1", "5", "--description", "  "], 1, "description"),
    ("credit negative", ["credit", "add", "1", "-5", "--description", "x"], 1, "amount"),
    ("credit unknown client", ["credit", "add", "9999", "5", "--description", "x"], 1, "client_id"),
    ("credit log unknown client", ["credit", "log", "9999"], 1, "client_id"),
    ("statement malformed from", ["statement", "1", "--from", "2026-13-01", "--to", "2026-12-31"], 1,
     "from"),
    ("statement to before from", ["statement", "1", "--from", "2026-02-01", "--to", "2026-01-01"], 1,
     "to"),
    ("statement unknown client", ["statement", "9999"], 1, "client_id"),
    ("statement pdf missing folder", ["statement", "1", "-o", "/nonexistent/s.pdf"], 1, "output"),
    ("credit without description", ["credit", "add", "1", "5"], 2, "--description"),
    ("payment without amount", ["payment", "add", "U"], 2, "amount"),
    ("unknown invoice action", ["invoice", "frobnicate"], 2, "frobnicate"),
]


@pytest.mark.parametrize(("argv", "code", "field"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refused_input(home, refusal_book, argv, code, field):
    db, ids = refusal_book
    argv = [ids.get(a, a) for a in argv]
    before = dump(db)
    done = run(home, "--db", str(db), "--json", *argv)
    assert done.code == code, (done.code, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    if code == 1:
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"error: {field}: "), lines[0]
    else:
        assert lines and "error:" in lines[-1] and field in lines[-1], done.stderr
    assert dump(db) == before


def test_refusal_messages_say_what_is_wrong(home, refusal_book):
    db, ids = refusal_book
    cases = [
        (["payment", "add", ids["U"], "-5"], "error: amount: must not be negative"),
        (["invoice", "create", "1", "--item", "Work=12,x"], "error: item: '12,x' is not an amount"),
        (["credit", "remove", "1", "11", "--description", "x"],
         "error: amount: is more than the credit balance (10.00)"),
    ]
    for argv, line in cases:
        done = run(home, *argv, "--db", str(db))
        assert (done.code, done.stdout, done.stderr.splitlines()) == (1, "", [line])


def test_invoice_list_shows_long_numbers_whole(home, book):
    """The text listing sizes its Number column to the longest number (a
    15-character number was cut to 14, so the wrong number was shown)."""
    inv = ok(home, book, "invoice", "create", str(USD), "--item", "Design=100")
    con = sqlite3.connect(book)
    with con:
        con.execute("UPDATE invoice SET number = 'HLW-2026-118031' WHERE id = ?", (inv["id"],))
    con.close()
    done = run(home, "invoice", "list", str(USD), "--db", str(book))
    assert done.code == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert "HLW-2026-118031 " in row
    assert row.index("HLW-2026-118031") == header.index("Number")
