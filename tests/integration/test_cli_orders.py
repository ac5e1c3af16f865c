"""The order and promo commands from outside (SPEC.md S8, D5): an order with
a promotion code and its first invoice to the cent, accept and cancel,
the JSON lists, and promotion refusals that print one
`error: promo: …` line, exit 1 and change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import cmd, dump, ok, query, run

DAY = "2026-01-31"


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Client 1 pays in GBP; "Web S" (taxed, hidden from order forms)
    costs 10.00 a month with a 5.00 setup fee; "VPS" 20.00 a month."""
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "GBP", "--country", "GB")["id"] == 1
    ok(home, path, "product", "add", "--name", "Web S", "--monthly", "10", "--setup-fee", "5",
       "--annually", "100", "--currency", "GBP", "--taxed")
    ok(home, path, "product", "add", "--name", "VPS", "--monthly", "20", "--currency", "GBP")
    return path


def refused(home: Path, book: Path, *args: str) -> str:
    """Exit 1, one `error:` line, nothing on stdout, nothing written."""
    before = dump(book)
    done = run(home, "--db", str(book), *args)
    assert done.code == 1, (done.code, done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert dump(book) == before
    return done.stderr.strip()


def test_order_with_a_promo_and_its_first_invoice(home: Path, book: Path) -> None:
    promo = ok(home, book, "promo", "add", "SPRING", "--percent", "10", "--products", "Web S",
               "--max-uses", "5", "--until", "2026-12-31")
    assert promo == {"id": 1, "code": "SPRING", "kind": "percent", "value": "10", "cycles": [],
                     "recurring": False, "start_date": None, "end_date": "2026-12-31",
                     "max_uses": 5, "uses": 0, "notes": "",
                     "products": [{"id": 1, "name": "Web S"}]}
    order = cmd(home, book, "order", "add", "1", "--product", "web s", "--cycle", "monthly",
                "--promo", "spring", "--domain", "example.com", "--date", DAY)
    assert (order["status"], order["promo"], order["date"], order["total"]) == (
        "Pending", "SPRING", DAY, "13.50")
    assert len(order["number"]) == 10
    invoice = order["invoice"]
    assert [(ln["description"], ln["amount"], ln["type"]) for ln in invoice["lines"]] == [
        ("Web S - example.com (Jan 31, 2026 - Feb 27, 2026)", "10.00", "Hosting"),
        ("Setup fee: Web S - example.com", "5.00", "Setup"),
        ("Promotional Code: SPRING - 10% One Time Discount", "-1.50", "Promo")]
    assert (invoice["status"], invoice["due_date"], invoice["subtotal"], invoice["tax"],
            invoice["total"]) == ("Unpaid", DAY, "13.50", "0.00", "13.50")
    assert order["items"] == [{"id": 1, "kind": "service", "name": "Web S",
                               "label": "example.com", "status": "Pending", "cycle": "monthly",
                               "amount": "10.00"}]
    assert query(book, "SELECT status, next_due, first_payment, order_id FROM service") == [
        ("Pending", "2026-02-28", 1350, order["id"])]
    assert cmd(home, book, "promo", "list")["promos"][0]["uses"] == 1

    accepted = ok(home, book, "order", "accept", str(order["id"]))
    assert (accepted["status"], accepted["items"][0]["status"]) == ("Active", "Active")
    assert query(book, "SELECT status FROM invoice") == [("Unpaid",)]
    listed = cmd(home, book, "order", "list", "1")
    assert list(listed) == ["orders"] and [o["id"] for o in listed["orders"]] == [order["id"]]

    cancelled = ok(home, book, "order", "cancel", str(order["id"]))
    assert (cancelled["status"], cancelled["items"][0]["status"],
            cancelled["invoice_status"]) == ("Cancelled", "Cancelled", "Cancelled")
    assert query(book, "SELECT status FROM service") == [("Cancelled",)]
    assert "order #" in refused(home, book, "order", "cancel", str(order["id"]))


def test_promo_refusals_change_nothing(home: Path, book: Path) -> None:
    ok(home, book, "promo", "add", "OLD", "--fixed", "2", "--until", "2026-01-30")
    ok(home, book, "promo", "add", "ONCE", "--percent", "5", "--max-uses", "1")
    ok(home, book, "promo", "add", "VPSONLY", "--percent", "5", "--products", "VPS",
       "--recurring")
    ok(home, book, "order", "add", "1", "--product", "VPS", "--cycle", "monthly", "--promo",
       "ONCE", "--date", DAY)
    base = ("order", "add", "1", "--product", "Web S", "--cycle", "monthly", "--date", DAY)
    assert refused(home, book, *base, "--promo", "OLD") == "error: promo: OLD expired on 2026-01-30"
    assert refused(home, book, *base, "--promo", "ONCE") == ("error: promo: ONCE is used up "
                                                             "(1 of 1 uses)")
    assert refused(home, book, *base, "--promo", "VPSONLY") == (
        "error: promo: VPSONLY is not for product 'Web S' (only: VPS)")
    assert refused(home, book, *base, "--promo", "NOPE").startswith("error: promo: ")
    assert refused(home, book, "order", "add", "1", "--product", "Web S", "--cycle",
                   "quarterly").startswith("error: cycle: ")
    assert refused(home, book, *base, "--price", "abc").startswith("error: price: ")
    assert refused(home, book, "order", "add", "9", "--product", "Web S", "--cycle",
                   "monthly").startswith("error: client_id: ")
    assert refused(home, book, "order", "accept", "99").startswith("error: id: ")
    assert refused(home, book, "promo", "add", "OLD", "--percent", "5").startswith("error: code: ")
    assert refused(home, book, "promo", "add", "X", "--percent", "500").startswith(
        "error: percent: ")
    assert refused(home, book, "promo", "add", "X", "--fixed", "1", "--max-uses",
                   "-2").startswith("error: max-uses: ")
    # Usage errors: exit 2.
    assert run(home, "--db", str(book), "promo", "add", "X", "--percent", "1", "--fixed",
               "2").code == 2
    assert run(home, "--db", str(book), "promo", "add", "X").code == 2
    assert run(home, "--db", str(book), "order", "add", "1", "--cycle", "monthly").code == 2


def test_custom_price_promo_list_and_delete(home: Path, book: Path) -> None:
    ok(home, book, "promo", "add", "LOYAL", "--fixed", "3", "--recurring", "--cycles", "monthly")
    order = ok(home, book, "order", "add", "1", "--product", "VPS", "--cycle", "monthly",
               "--price", "12.50", "--promo", "LOYAL", "--date", DAY)
    assert [ln["amount"] for ln in order["invoice"]["lines"]] == ["12.50", "-3.00"]
    assert order["items"][0]["amount"] == "9.50"  # the recurring promotion stays on the item
    listed = cmd(home, book, "promo", "list")
    assert list(listed) == ["promos"] and [p["code"] for p in listed["promos"]] == ["LOYAL"]
    assert ok(home, book, "promo", "delete", "loyal") == {"id": 1, "code": "LOYAL",
                                                          "deleted": True}
    assert cmd(home, book, "promo", "list") == {"promos": []}
    assert cmd(home, book, "order", "show", str(order["id"]))["promo"] == "LOYAL"  # text kept
    text = run(home, "--db", str(book), "order", "list", "1")
    assert text.code == 0 and f"Order #{order['number']}" in text.stdout
