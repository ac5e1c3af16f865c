"""The quote commands from outside (B4, D5; acceptance 4): create, show,
list, stage, accept (convert once, printing the invoice) and pdf — their
JSON, exit codes, and refusals that print one `error: …` line and write
nothing."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from cli_helpers import cmd, dump, ok, query, run

TODAY = dt.date.today()
USD = 1
INVOICE_KEYS = {"id", "number", "client_id", "status", "date", "due_date", "subtotal", "tax", "total",
                "credit_applied", "paid", "balance", "lines"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Client 1 pays in USD; one tax rule (VAT 17.5 %)."""
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "USD")["id"] == USD
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO tax_rule (level, name, rate, country, state) "
                    "VALUES (1, 'VAT', '17.5', '', '')")
    con.close()
    return path


def refused(home: Path, book: Path, field: str, *args: str) -> str:
    before = dump(book)
    done = run(home, "--db", str(book), *args)
    assert done.code == 1, (done.code, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {field}: ") and done.stderr.count("\n") == 1, done.stderr
    assert dump(book) == before
    return done.stderr


def test_create_show_and_accept_once(home, book):
    until = (TODAY + dt.timedelta(days=20)).isoformat()
    quote = ok(home, book, "quote", "create", str(USD), "--item", "Design = logo=100",
               "--item", "Hosting=0.10", "--item", "Setup=0.10", "--taxed",
               "--subject", "Logo and site", "--valid-until", until)
    assert (quote["client_id"], quote["subject"], quote["stage"], quote["valid_until"],
            quote["date"], quote["invoice_id"]) == (USD, "Logo and site", "Draft", until,
                                                     TODAY.isoformat(), None)
    assert [(ln["description"], ln["amount"], ln["taxed"]) for ln in quote["lines"]] == [
        ("Design = logo", "100.00", True), ("Hosting", "0.10", True), ("Setup", "0.10", True)]
    assert (quote["subtotal"], quote["tax"], quote["total"]) == ("100.20", "17.54", "117.74")
    assert cmd(home, book, "quote", "show", str(quote["id"])) == quote

    invoice = ok(home, book, "quote", "accept", str(quote["id"]))
    assert INVOICE_KEYS <= set(invoice)
    assert (invoice["status"], invoice["client_id"], invoice["subtotal"], invoice["tax"],
            invoice["total"], invoice["balance"]) == ("Unpaid", USD, "100.20", "17.54", "117.74",
                                                      "117.74")
    assert invoice["number"]
    assert [(ln["description"], ln["amount"], ln["taxed"]) for ln in invoice["lines"]] == [
        (ln["description"], ln["amount"], ln["taxed"]) for ln in quote["lines"]]
    # the invoice reads back the same through `invoice show`
    shown = cmd(home, book, "invoice", "show", str(invoice["id"]))
    assert shown == invoice
    after = ok(home, book, "quote", "show", str(quote["id"]))
    assert (after["stage"], after["invoice_id"]) == ("Accepted", invoice["id"])

    # a second conversion is refused and writes nothing
    message = refused(home, book, "quote", "quote", "accept", str(quote["id"]))
    assert invoice["number"] in message
    assert query(book, "SELECT COUNT(*) FROM invoice") == [(1,)]


def test_text_output(home, book):
    done = run(home, "--db", str(book), "quote", "create", str(USD), "--item", "Design=100")
    assert done.code == 0 and "Quote #1" in done.stdout and "100.00" in done.stdout
    done = run(home, "--db", str(book), "quote", "accept", "1")
    assert done.code == 0 and "Invoice #" in done.stdout and "Balance due" in done.stdout


def test_list_stage_and_current(home, book):
    a = cmd(home, book, "quote", "create", str(USD), "--item", "A=1")["id"]
    b = cmd(home, book, "quote", "create", str(USD), "--item", "B=2", "--valid-until",
            TODAY.isoformat())["id"]
    moved = ok(home, book, "quote", "stage", str(b), "on hold")
    assert moved["stage"] == "On hold"
    cmd(home, book, "quote", "stage", str(a), "Lost")
    assert {q["id"] for q in cmd(home, book, "quote", "list", str(USD))["quotes"]} == {a, b}
    assert [q["id"] for q in cmd(home, book, "quote", "list", str(USD), "--current")["quotes"]] == [b]
    assert [q["id"] for q in cmd(home, book, "quote", "list", str(USD), "--stage", "lost")["quotes"]] \
        == [a]
    log = query(book, "SELECT field, old_value, new_value FROM client_log WHERE field LIKE 'Quote%'")
    assert (f"Quote #{b} stage", "Draft", "On hold") in log


def test_pdf_reads_back_with_lines_and_total(home, book, tmp_path):
    quote = cmd(home, book, "quote", "create", str(USD), "--item", "Website=1200",
                "--item", "Domain=9.99", "--subject", "New site")
    target = tmp_path / "q.pdf"
    written = ok(home, book, "quote", "pdf", str(quote["id"]), "-o", str(target))
    assert written["file"] == str(target) and written["bytes"] == target.stat().st_size
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert "Quote" in text and "Website" in text and "Domain" in text and "New site" in text
    assert "$1,200.00" in text and "$9.99" in text and f"Total ${Decimal(quote['total']):,}" in text


def test_refusals(home, book, tmp_path):
    refused(home, book, "item", "quote", "create", str(USD), "--item", "no amount")
    refused(home, book, "item", "quote", "create", str(USD), "--item", "A=abc")
    refused(home, book, "valid-until", "quote", "create", str(USD), "--item", "A=1",
            "--valid-until", "2026-02-30")
    refused(home, book, "client_id", "quote", "create", "99", "--item", "A=1")
    refused(home, book, "quote", "quote", "show", "42")
    refused(home, book, "quote", "quote", "accept", "42")
    refused(home, book, "quote", "quote", "pdf", "x")
    quote = cmd(home, book, "quote", "create", str(USD), "--item", "A=1")
    refused(home, book, "stage", "quote", "stage", str(quote["id"]), "Won")
    refused(home, book, "output", "quote", "pdf", str(quote["id"]), "-o",
            str(tmp_path / "missing" / "q.pdf"))
    # usage errors are 2
    assert run(home, "--db", str(book), "quote", "create").code == 2
    assert run(home, "--db", str(book), "quote", "frobnicate", "1").code == 2
