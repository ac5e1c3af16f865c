"""client currency|merge|close|delete|archive|unarchive|anonymize and
client list --archived from outside (SPEC.md D5, C7–C11): JSON shapes,
--yes, refusals that print one `error: <field>: …` line and change
nothing, and the backup each destructive command leaves."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from cli_helpers import dump, ok, query, run

TODAY = dt.date.today()


@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, int, int]:
    """Client A (Jane Doe) and client B (John Roe), both GBP, each with an
    unpaid invoice part paid, a paid invoice, credit, a service and a
    contact; GBP 0.8 and EUR 0.92 per USD (GBP → EUR × 1.15)."""
    from billdesk.models import close_database, init_db
    from billdesk.services import (
        billing_settings,
        clients,
        contacts,
        credit,
        invoicing,
        payments,
        subscriptions,
    )
    from billdesk.services.invoicing import LineInput as L

    path = tmp_path / "book.sqlite3"
    init_db(path)
    try:
        billing_settings.set_currency_rate("GBP", "0.8")
        billing_settings.set_currency_rate("EUR", "0.92")
        made = []
        for first, last in (("Jane", "Doe"), ("John", "Roe")):
            c = clients.add_client({"first_name": first, "last_name": last, "currency": "GBP",
                                    "email": f"{first.lower()}@example.com", "country": "GB"})
            contacts.add_contact(c, {"first_name": "Pat", "last_name": last,
                                     "email": f"pat.{last.lower()}@example.com"})
            unpaid = invoicing.create_invoice(c, [L("Consulting", "100.00")])
            payments.add_payment(unpaid, "20.00", method="Card")
            paid = invoicing.create_invoice(c, [L("Setup", "40.00")])
            payments.add_payment(paid, "40.00", method="Card")
            credit.add_credit(c, "10.00", "Goodwill")
            subscriptions.add_service(c, name="Hosting", amount="9.99", cycle="monthly",
                                      next_due=TODAY)
            made.append(c)
    finally:
        close_database()
    return path, made[0], made[1]


def refused(home: Path, db: Path, field: str, *args: str) -> str:
    before = dump(db)
    done = run(home, *args, "--db", str(db))
    assert done.code == 1, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {field}: ") and done.stderr.count("\n") == 1, done.stderr
    assert dump(db) == before
    return done.stderr


def check_backup(doc: dict, client_id: int, first_name: str) -> None:
    path = Path(doc["backup"])
    assert path.exists() and path.name.startswith("billdesk-")
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT first_name FROM client WHERE id = ?",
                           (client_id,)).fetchone() == (first_name,)
    finally:
        con.close()


def test_merge(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    refused(home, db, "confirmation", "client", "merge", str(a), str(b))
    refused(home, db, "keep", "client", "merge", str(a), str(b), "--keep", "both", "--yes")
    refused(home, db, "into", "client", "merge", str(a), str(a), "--yes")
    refused(home, db, "id", "client", "merge", str(a), "99", "--yes")

    doc = ok(home, db, "client", "merge", str(a), str(b), "--yes")

    assert set(doc) == {"id", "merged", "moved", "credit_moved", "keep", "backup"}
    assert (doc["id"], doc["merged"], doc["keep"], doc["credit_moved"]) == (b, a, "target", "10.00")
    assert doc["moved"]["invoice"] == 2 and doc["moved"]["txn"] == 2
    assert doc["moved"]["contact"] == 1 and doc["moved"]["service"] == 1
    check_backup(doc, a, "Jane")
    shown = ok(home, db, "client", "show", str(b))
    assert shown["first_name"] == "John" and shown["credit_balance"] == "20.00"
    assert shown["invoices"]["Unpaid"] == {"count": 2, "total": "200.00"}
    assert shown["invoices"]["Paid"] == {"count": 2, "total": "80.00"}
    assert len(shown["contacts"]) == 2
    gone = run(home, "client", "show", str(a), "--db", str(db))
    assert gone.code == 1 and gone.stderr == f"error: id: no client with id {a}\n"
    assert query(db, "PRAGMA foreign_key_check") == []
    assert query(db, "SELECT count(*) FROM invoice WHERE client_id = ?", (a,)) == [(0,)]


def test_merge_keeping_the_source_profile(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    doc = ok(home, db, "client", "merge", str(a), str(b), "--keep", "source", "--yes")
    assert doc["keep"] == "source"
    shown = ok(home, db, "client", "show", str(b))
    assert (shown["id"], shown["first_name"], shown["email"]) == (b, "Jane", "jane@example.com")
    found = ok(home, db, "client", "list", "--search", "jane")
    assert [c["id"] for c in found["clients"]] == [b]


def test_text_output_is_one_short_line(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    done = run(home, "client", "merge", str(a), str(b), "--yes", "--db", str(db))
    assert done.code == 0 and done.stderr == ""
    assert done.stdout.startswith(f"Merged client #{a} into #{b}: ") and "backup" in done.stdout
    assert done.stdout.count("\n") == 1


def test_close(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    refused(home, db, "confirmation", "client", "close", str(a))
    doc = ok(home, db, "client", "close", str(a), "--yes")
    assert {k: doc[k] for k in ("id", "status", "status_was", "invoices_cancelled",
                                "items_cancelled", "recurring_stopped", "credit_returned")} == {
        "id": a, "status": "Closed", "status_was": "Active", "invoices_cancelled": 1,
        "items_cancelled": 1, "recurring_stopped": 0, "credit_returned": "20.00"}
    check_backup(doc, a, "Jane")
    shown = ok(home, db, "client", "show", str(a))
    assert shown["status"] == "Closed" and shown["credit_balance"] == "30.00"
    assert shown["invoices"]["Cancelled"] == {"count": 1, "total": "100.00"}
    assert shown["invoices"]["Paid"]["count"] == 1
    assert query(db, "SELECT status FROM service WHERE client_id = ?", (a,)) == [("Cancelled",)]
    assert ok(home, db, "client", "show", str(b))["status"] == "Active"


def test_close_closes_the_tickets(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    ticket = ok(home, db, "ticket", "open", str(a), "--subject", "Login", "--message", "Help")
    ok(home, db, "ticket", "open", str(b), "--subject", "Other", "--message", "Hello")
    doc = ok(home, db, "client", "close", str(a), "--yes")
    assert doc["tickets_closed"] == 1
    assert query(db, "SELECT id, status FROM ticket WHERE client_id = ?", (a,)) == [
        (ticket["id"], "Closed")]
    assert query(db, "SELECT status FROM ticket WHERE client_id = ?", (b,)) == [("Open",)]
    done = run(home, "client", "close", str(b), "--yes", "--db", str(db))
    assert done.code == 0 and ", 1 ticket closed; backup" in done.stdout
    assert "(s)" not in done.stdout and " cancelled, " in done.stdout
    assert query(db, "SELECT status FROM ticket WHERE client_id = ?", (b,)) == [("Closed",)]


def test_merge_moves_tickets_and_the_affiliate_account(home: Path,
                                                       book: tuple[Path, int, int]) -> None:
    """a, an affiliate who referred b, with a ticket, merged into b: the
    ticket and the account move, the account under b's id; the referral
    (b would refer itself) goes."""
    db, a, b = book
    ticket = ok(home, db, "ticket", "open", str(a), "--subject", "Login", "--message", "Help")
    ok(home, db, "affiliate", "activate", str(a), "--percent", "10")
    ok(home, db, "affiliate", "refer", str(a), str(b))
    impact = run(home, "client", "merge", str(a), str(b), "--db", str(db))
    assert impact.code == 1 and impact.stderr.startswith("error: confirmation: ")

    doc = ok(home, db, "client", "merge", str(a), str(b), "--yes")

    assert doc["moved"]["ticket"] == 1 and doc["moved"]["affiliate"] == 1
    assert [t["id"] for t in ok(home, db, "ticket", "list", str(b))["tickets"]] == [ticket["id"]]
    assert query(db, "SELECT id, client_id FROM affiliate") == [(b, b)]
    assert query(db, "SELECT count(*) FROM affiliate_referral") == [(0,)]
    shown = ok(home, db, "affiliate", "show", str(b))
    assert (shown["id"], shown["signups"], shown["balance"]) == (b, 0, "0.00")
    assert query(db, "PRAGMA foreign_key_check") == []


def test_delete_keeps_the_transactions(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    refused(home, db, "confirmation", "client", "delete", str(a))
    txns = query(db, "SELECT id, amount_in, currency FROM txn WHERE client_id = ? ORDER BY id", (a,))
    doc = ok(home, db, "client", "delete", str(a), "--yes")
    assert (doc["id"], doc["name"], doc["transactions_kept"], doc["transactions_deleted"]) == (
        a, "Jane Doe", 2, 0)
    assert doc["deleted"]["invoice"] == 2 and doc["deleted"]["contact"] == 1
    check_backup(doc, a, "Jane")
    assert query(db, "SELECT id, amount_in, currency, client_id, client_name FROM txn "
                     "WHERE id IN (?, ?) ORDER BY id", (txns[0][0], txns[1][0])) == [
        (*t, None, "Jane Doe") for t in txns]
    assert query(db, "SELECT count(*) FROM invoice WHERE client_id = ?", (a,)) == [(0,)]
    assert query(db, "PRAGMA foreign_key_check") == []
    assert run(home, "client", "show", str(a), "--db", str(db)).code == 1
    assert ok(home, db, "client", "show", str(b))["invoices"]["Unpaid"]["count"] == 1


def test_delete_with_transactions(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, _b = book
    doc = ok(home, db, "client", "delete", str(a), "--with-transactions", "--yes")
    assert (doc["transactions_kept"], doc["transactions_deleted"]) == (0, 2)
    assert query(db, "SELECT count(*) FROM txn WHERE client_id IS NULL") == [(0,)]


def test_archive_list_and_read_only(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    message = refused(home, db, "client", "client", "archive", str(a))
    assert "1 open invoice" in message and "close the account" in message
    ok(home, db, "client", "close", str(a), "--yes")
    doc = ok(home, db, "client", "archive", str(a))
    assert doc["id"] == a and doc["archived"] is True
    assert "before-archive" in doc["backup"] and Path(doc["backup"]).is_file()
    listed = ok(home, db, "client", "list")
    assert [c["id"] for c in listed["clients"]] == [b] and listed["total"] == 1
    assert listed["clients"][0]["archived"] is False
    everyone = ok(home, db, "client", "list", "--archived")
    assert everyone["total"] == 2
    assert {c["id"]: c["archived"] for c in everyone["clients"]} == {a: True, b: False}
    assert ok(home, db, "client", "list", "--search", "jane")["total"] == 0
    assert ok(home, db, "client", "list", "--search", "jane", "--archived")["total"] == 1
    message = refused(home, db, "client", "client", "edit", str(a), "--city", "Leeds")
    assert message == f"error: client: #{a} is archived: unarchive it to change it\n"
    refused(home, db, "client", "client", "archive", str(a))
    refused(home, db, "client", "client", "currency", str(a), "EUR", "--code-only")
    text = run(home, "client", "list", "--archived", "--db", str(db)).stdout
    assert "(archived)" in text
    assert ok(home, db, "client", "unarchive", str(a))["archived"] is False
    assert ok(home, db, "client", "edit", str(a), "--city", "Leeds")["city"] == "Leeds"
    refused(home, db, "client", "client", "unarchive", str(a))


def test_anonymize(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    refused(home, db, "confirmation", "client", "anonymize", str(a))
    before = ok(home, db, "client", "show", str(a))
    doc = ok(home, db, "client", "anonymize", str(a), "--yes")
    assert (doc["id"], doc["name"]) == (a, f"Anonymized Client #{a}")
    assert doc["cleared"]["contact"] == 1
    check_backup(doc, a, "Jane")
    after = ok(home, db, "client", "show", str(a))
    assert (after["first_name"], after["last_name"], after["email"], after["contacts"]) == (
        "Anonymized", f"Client #{a}", f"anonymized-{a}@anonymized.invalid", [])
    assert (after["invoices"], after["credit_balance"], after["income"], after["currency"]) == (
        before["invoices"], before["credit_balance"], before["income"], before["currency"])
    assert query(db, "SELECT DISTINCT client_name FROM txn WHERE client_id = ?", (a,)) == [
        (f"Anonymized Client #{a}",)]
    assert ok(home, db, "client", "list", "--search", "jane")["total"] == 0


def test_currency_convert_and_code_only(home: Path, book: tuple[Path, int, int]) -> None:
    db, a, b = book
    assert run(home, "client", "currency", str(a), "EUR", "--db", str(db)).code == 2
    assert run(home, "client", "currency", str(a), "EUR", "--convert", "--code-only",
               "--db", str(db)).code == 2
    refused(home, db, "currency", "client", "currency", str(a), "CHF", "--convert")
    refused(home, db, "currency", "client", "currency", str(a), "GBP", "--convert")
    # the part-paid invoice blocks converting: its payment is in GBP
    message = refused(home, db, "currency", "client", "currency", str(a), "EUR", "--convert")
    assert "settle or cancel it first" in message
    ok(home, db, "invoice", "cancel", str(query(db, "SELECT id FROM invoice WHERE client_id = ? "
                                                    "AND status = 'Unpaid'", (a,))[0][0]))
    ok(home, db, "invoice", "create", str(a), "--item", "Work=100.00")
    doc = ok(home, db, "client", "currency", str(a), "EUR", "--convert")
    assert (doc["id"], doc["currency"]) == (a, "EUR")
    # credit 10.00 + 20.00 returned = 30.00 GBP → 34.50 EUR; 100.00 → 115.00
    assert doc["credit_balance"] == "34.50"
    assert doc["invoices"]["Unpaid"] == {"count": 1, "total": "115.00"}
    assert query(db, "SELECT amount FROM service WHERE client_id = ?", (a,)) == [(1149,)]
    message = refused(home, db, "currency", "client", "currency", str(b), "EUR", "--code-only")
    assert "has payments in GBP" in message
    ok(home, db, "invoice", "cancel", str(query(db, "SELECT id FROM invoice WHERE client_id = ? "
                                                    "AND status = 'Unpaid'", (b,))[0][0]))
    ok(home, db, "invoice", "create", str(b), "--item", "Work=100.00")
    doc = ok(home, db, "client", "currency", str(b), "EUR", "--code-only")
    assert (doc["currency"], doc["credit_balance"]) == ("EUR", "30.00")
    assert doc["invoices"]["Unpaid"] == {"count": 1, "total": "100.00"}
    assert query(db, "SELECT amount FROM service WHERE client_id = ?", (b,)) == [(999,)]
    text = run(home, "client", "currency", str(b), "GBP", "--code-only", "--db", str(db))
    assert text.code == 0 and text.stdout == f"Client #{b}: currency EUR → GBP (code only)\n"
