"""The affiliate commands from outside (SPEC.md D5, F4): activate, refer,
show, payout, settings — JSON shapes, amounts as strings, dates, exit codes,
and refusals that print one `error: <field>: …` line and change nothing.
"Today" for the balances is set with BILLDESK_NOW."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import ok, query, refused, run

AFFILIATE_KEYS = {"id", "client_id", "name", "currency", "commission_type", "commission_value",
                  "status", "activated", "activated_at"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    for first, email in (("Ann", "ann@example.com"), ("Bob", "bob@example.com"),
                         ("Cat", "cat@example.com")):
        ok(home, path, "client", "add", "--first", first, "--last", "Lee", "--email", email)
    return path


def test_activate_refer_pay_then_pending_payable_and_a_payout(home, book, monkeypatch):
    activated = ok(home, book, "affiliate", "activate", "1", "--percent", "12.5")
    assert set(activated) == AFFILIATE_KEYS
    assert {k: activated[k] for k in ("id", "client_id", "currency", "commission_type",
                                      "commission_value", "status")} == {
        "id": 1, "client_id": 1, "currency": "USD", "commission_type": "percent",
        "commission_value": "12.50", "status": "Active"}
    referral = ok(home, book, "affiliate", "refer", "1", "2")
    assert {k: referral[k] for k in ("affiliate_id", "client_id", "name", "paid_invoices")} == {
        "affiliate_id": 1, "client_id": 2, "name": "Bob Lee", "paid_invoices": 0}
    assert isinstance(referral["id"], int) and len(referral["referred"]) == 10

    created = ok(home, book, "invoice", "create", "2", "--item", "Design=200.00",
                 "--item", "Hosting=40.00")
    ok(home, book, "payment", "add", str(created["id"]), "240.00", "--date", "2030-01-10")

    monkeypatch.setenv("BILLDESK_NOW", "2030-02-08T12:00:00")  # the day before it is payable
    shown = ok(home, book, "affiliate", "show", "1")
    assert (shown["pending"], shown["payable"], shown["paid_out"], shown["balance"]) == (
        "30.00", "0.00", "0.00", "0.00")
    assert shown["signups"] == 1 and shown["delay_days"] == 30
    [commission] = shown["commissions"]
    assert {k: commission[k] for k in ("client_id", "invoice_id", "invoice_number", "amount",
                                       "earned_on", "payable_on", "state")} == {
        "client_id": 2, "invoice_id": created["id"], "invoice_number": created["number"],
        "amount": "30.00", "earned_on": "2030-01-10", "payable_on": "2030-02-09",
        "state": "pending"}
    assert [r["paid_invoices"] for r in shown["referrals"]] == [1]
    refused_text = refused(home, book, "affiliate", "payout", "1", "--amount", "0.01")
    assert refused_text == "error: amount: 0.01 is more than the balance (0.00 USD)"

    monkeypatch.setenv("BILLDESK_NOW", "2030-02-09T08:00:00")
    shown = ok(home, book, "affiliate", "show", "1")
    assert (shown["pending"], shown["payable"], shown["balance"]) == ("0.00", "30.00", "30.00")
    assert shown["commissions"][0]["state"] == "payable"

    payout = ok(home, book, "affiliate", "payout", "1", "--amount", "12.50", "--method",
                "Bank transfer")
    assert {k: payout[k] for k in ("affiliate_id", "amount", "paid_on", "method", "balance")} == {
        "affiliate_id": 1, "amount": "12.50", "paid_on": "2030-02-09",
        "method": "Bank transfer", "balance": "17.50"}
    assert refused(home, book, "affiliate", "payout", "1", "--amount", "17.51").startswith(
        "error: amount: 17.51 is more than the balance (17.50 USD)")
    shown = ok(home, book, "affiliate", "show", "1")
    assert (shown["paid_out"], shown["balance"]) == ("12.50", "17.50")
    assert [p["id"] for p in shown["payouts"]] == [payout["id"]]
    assert query(book, "SELECT amount, paid_on FROM affiliate_payout") == [(1250, "2030-02-09")]

    text = run(home, "affiliate", "show", "1", "--db", str(book))
    assert text.code == 0 and "balance 17.50 USD" in text.stdout

    assert "error: confirmation:" in refused(home, book, "affiliate", "payout-delete",
                                             str(payout["id"]))
    deleted = ok(home, book, "affiliate", "payout-delete", str(payout["id"]), "--yes")
    assert deleted == {"deleted": payout["id"], "affiliate_id": 1, "balance": "30.00"}


def test_show_of_a_client_who_is_not_an_affiliate(home, book):
    assert refused(home, book, "affiliate", "show", "2") == "error: client: #2 is not an affiliate"
    assert refused(home, book, "affiliate", "show", "99").startswith("error: client_id: ")
    assert refused(home, book, "affiliate", "show", "x").startswith("error: client_id: ")


def test_refusals_name_the_field_and_write_nothing(home, book):
    assert refused(home, book, "affiliate", "activate", "1", "--percent", "0").startswith(
        "error: percent: ")
    assert refused(home, book, "affiliate", "activate", "1", "--percent", "12.345").startswith(
        "error: percent: ")
    assert refused(home, book, "affiliate", "activate", "1", "--fixed", "-2").startswith(
        "error: fixed: ")
    refused(home, book, "affiliate", "activate", "1", code=2)  # neither: a usage error
    refused(home, book, "affiliate", "activate", "1", "--percent", "5", "--fixed", "1", code=2)
    assert refused(home, book, "affiliate", "refer", "3", "2") == (
        "error: affiliate: #3 is not an affiliate")

    fixed = ok(home, book, "affiliate", "activate", "1", "--fixed", "5")
    assert (fixed["commission_type"], fixed["commission_value"]) == ("fixed", "5.00")
    assert refused(home, book, "affiliate", "activate", "1", "--percent", "5") == (
        "error: client: #1 is already an affiliate")
    assert refused(home, book, "affiliate", "refer", "1", "1").startswith("error: client_id: ")
    ok(home, book, "affiliate", "refer", "1", "2")
    ok(home, book, "affiliate", "activate", "3", "--percent", "5")
    assert refused(home, book, "affiliate", "refer", "3", "2") == (
        "error: client_id: #2 is already referred by affiliate #1 Ann Lee")
    moved = ok(home, book, "affiliate", "refer", "3", "2", "--reassign")
    assert moved["affiliate_id"] == 3
    assert query(book, "SELECT affiliate_id, client_id FROM affiliate_referral") == [(3, 2)]


def test_settings(home, book):
    assert ok(home, book, "affiliate", "settings") == {"delay_days": 30}
    assert ok(home, book, "affiliate", "settings", "--delay-days", "7") == {"delay_days": 7}
    assert refused(home, book, "affiliate", "settings", "--delay-days", "-1").startswith(
        "error: delay_days: ")
    assert ok(home, book, "affiliate", "settings") == {"delay_days": 7}
