"""The demo book's billing history (services/demo.py), checked row by row
against the rules the billing services keep — recomputed here from the
rows, not taken from the generator — and then used by the services."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from billdesk.models import close_database, init_db
from billdesk.money import Money
from billdesk.services import (
    billing_settings,
    clients,
    credit,
    demo,
    invoicing,
    payments,
    statements,
    taxes,
)

from billing_helpers import check_invariants
from demo_helpers import book, copy, rows  # noqa: F401 (fixtures)

N_CLIENTS = 250
SEED = 3
TODAY = dt.datetime(2026, 3, 14, 16, 30)
STATUSES = ("Draft", "Unpaid", "Paid", "Cancelled", "Refunded", "Collections")
KINDS = ("added", "removed", "adjustment", "overpayment", "add_funds", "refund", "applied",
         "returned", "reversal")


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-billing") / "demo.sqlite3"
    init_db(path)
    try:
        result = demo.create_demo(N_CLIENTS, SEED, today=TODAY)
    finally:
        close_database()
    assert result.clients == N_CLIENTS and result.invoices > 0
    return path


def by(items: list[sqlite3.Row], key: str) -> dict[object, list[sqlite3.Row]]:
    found: dict[object, list[sqlite3.Row]] = defaultdict(list)
    for item in items:
        found[item[key]].append(item)
    return found


# --- what the demo holds

def test_every_status_and_every_credit_kind_is_there(demo_file):
    statuses = {r[0] for r in rows(demo_file, "SELECT DISTINCT status FROM invoice")}
    assert statuses == set(STATUSES)
    kinds = {r[0] for r in rows(demo_file, "SELECT DISTINCT kind FROM credit_entry")}
    assert kinds == set(KINDS)
    counts = rows(demo_file, """
        SELECT COUNT(*) AS invoices,
               SUM(kind = 'add_funds') AS add_funds,
               SUM(status = 'Unpaid' AND due_date < ?) AS overdue,
               SUM(status = 'Unpaid' AND due_date >= ?) AS not_yet_due,
               SUM(status IN ('Unpaid', 'Collections') AND paid > 0) AS part_paid,
               SUM(status = 'Paid' AND credit > 0 AND paid > 0) AS credit_and_payment,
               SUM(status = 'Paid' AND paid = 0) AS paid_by_credit,
               SUM(status = 'Paid' AND refunded > 0) AS part_refunded,
               SUM(tax2 > 0) AS two_levels,
               SUM(tax1 = 0 AND kind = 'standard') AS untaxed
          FROM invoice""", (TODAY.date().isoformat(),) * 2)[0]
    assert all(counts[k] > 0 for k in counts.keys()), dict(counts)
    # most invoices are Paid; Draft, Collections and Refunded are rare
    per = {r[0]: r[1] for r in rows(demo_file, "SELECT status, COUNT(*) FROM invoice GROUP BY 1")}
    assert per["Paid"] > 0.7 * counts["invoices"]
    assert per["Unpaid"] > per["Cancelled"] > per["Draft"]
    assert max(per["Draft"], per["Collections"], per["Refunded"]) < 0.03 * counts["invoices"]
    txn = rows(demo_file, """
        SELECT SUM(amount_in > 0 AND fee > 0) AS fees, SUM(amount_out > 0 AND to_credit) AS to_credit,
               SUM(amount_out > 0 AND NOT to_credit) AS to_method FROM txn""")[0]
    assert all(txn[k] > 0 for k in txn.keys()), dict(txn)
    lines = {r[0] for r in rows(demo_file, "SELECT DISTINCT type FROM invoice_line")}
    # ('' : the lines of a converted quote, typed by hand)
    assert lines == {"Hosting", "Domain", "Item", "Addon", "Promo", "AddFunds", ""}
    # invoices over the last two years, per client 0 to 8 standard ones, 1 to 4 lines each
    first, last = rows(demo_file, "SELECT MIN(date), MAX(date) FROM invoice")[0]
    assert dt.date.fromisoformat(first) >= TODAY.date() - dt.timedelta(days=731)
    assert dt.date.fromisoformat(last) <= TODAY.date()
    assert rows(demo_file, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM invoice "
                           "WHERE kind = 'standard' GROUP BY client_id)")[0][0] <= 8
    assert rows(demo_file, "SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) AS n FROM invoice_line "
                           "GROUP BY invoice_id)")[0][:] == (1, 4)
    no_invoices = rows(demo_file, "SELECT COUNT(*) FROM client WHERE id NOT IN "
                                  "(SELECT client_id FROM invoice)")[0][0]
    assert 0 < no_invoices < N_CLIENTS / 2


def test_settings_methods_and_tax_rules(book):
    assert billing_settings.billing().number_format == demo.DEMO_NUMBER_FORMAT
    assert billing_settings.payment_methods() == ["Bank transfer", "Card", "PayPal", "Cash"]
    rules = {(r.level, r.country): r.rate for r in billing_settings.tax_rules()}
    assert rules[(1, "GB")] == Decimal(20) and rules[(1, "DE")] == Decimal(19)
    assert rules[(2, "CA")] == Decimal(7)
    assert billing_settings.currencies()["EUR"] == Decimal("1.17")
    methods = set(billing_settings.payment_methods())
    for r in rows(book, "SELECT id, payment_method FROM client"):
        assert r["payment_method"] in methods, r["id"]
    # an invoice takes its client's default method and its client's tax, as create_invoice does
    for r in rows(book, "SELECT i.*, c.payment_method AS client_method FROM invoice i "
                        "JOIN client c ON c.id = i.client_id"):
        assert r["payment_method"] == r["client_method"]
        assert r["currency"] == rows(book, "SELECT currency FROM client WHERE id = ?",
                                     (r["client_id"],))[0][0]
        if r["kind"] == "add_funds":
            expected = taxes.NO_TAX
        else:
            expected = invoicing.rates_for_client(r["client_id"])
        assert (r["tax1_name"], r["tax1_rate"], r["tax2_name"], r["tax2_rate"], r["tax_compound"],
                r["tax_inclusive"]) == (expected.name1, str(expected.rate1), expected.name2,
                                        str(expected.rate2), int(expected.compound),
                                        int(expected.inclusive)), r["id"]


# --- invoices

def test_totals_are_taxes_compute_over_the_lines_and_stored_rates(demo_file):
    lines = by(rows(demo_file, "SELECT * FROM invoice_line ORDER BY invoice_id, position"), "invoice_id")
    for inv in rows(demo_file, "SELECT * FROM invoice"):
        cur = inv["currency"]
        mine = lines[inv["id"]]
        assert [ln["position"] for ln in mine] == list(range(1, len(mine) + 1))
        rates = taxes.TaxRates(Decimal(inv["tax1_rate"]), Decimal(inv["tax2_rate"]),
                               bool(inv["tax_compound"]), bool(inv["tax_inclusive"]))
        t = taxes.compute([(Money.from_minor(ln["amount"], cur), bool(ln["taxed"])) for ln in mine],
                          rates, cur)
        assert (inv["subtotal"], inv["tax1"], inv["tax2"], inv["total"]) == (
            t.subtotal.minor_units, t.tax1.minor_units, t.tax2.minor_units, t.total.minor_units), inv["id"]
        assert inv["total"] > 0
        for ln in mine:  # lines as check_lines accepts them
            assert ln["description"].strip() == ln["description"] and 0 < len(ln["description"]) <= 1000
            assert ln["type"] in invoicing.LINE_TYPES
        if inv["kind"] == "add_funds":
            assert [(ln["description"], ln["taxed"], ln["type"]) for ln in mine] == [
                ("Add funds to account credit", 0, "AddFunds")]


def test_paid_credit_and_refunded_are_the_sums_of_their_rows(demo_file):
    txns = by(rows(demo_file, "SELECT * FROM txn"), "invoice_id")
    entries = by(rows(demo_file, "SELECT * FROM credit_entry"), "invoice_id")
    for inv in rows(demo_file, "SELECT * FROM invoice"):
        mine, credit_rows = txns[inv["id"]], entries[inv["id"]]
        paid_in = sum(t["amount_in"] for t in mine)
        excess = sum(e["amount"] for e in credit_rows if e["kind"] == "overpayment")
        applied = -sum(e["amount"] for e in credit_rows if e["kind"] == "applied")
        returned_credit = sum(e["amount"] for e in credit_rows if e["kind"] == "returned"
                              and e["description"].startswith("Credit returned from cancelled"))
        returned_paid = sum(e["amount"] for e in credit_rows if e["kind"] == "returned"
                            and e["description"].startswith("Payments on cancelled"))
        assert inv["paid"] == paid_in - excess, inv["id"]
        assert inv["refunded"] == sum(t["amount_out"] for t in mine), inv["id"]
        if inv["status"] == "Cancelled":  # cancel_invoice gives applied credit and payments back
            assert inv["credit"] == 0 and applied == returned_credit and inv["paid"] == returned_paid
        else:
            assert inv["credit"] == applied and not returned_credit and not returned_paid, inv["id"]
        if inv["kind"] == "add_funds":
            assert applied == 0  # credit never pays an add-funds invoice
            assert sum(e["amount"] for e in credit_rows if e["kind"] == "add_funds") == paid_in


def test_status_agrees_with_the_balance(demo_file):
    paid_dates = by(rows(demo_file, "SELECT invoice_id, MAX(date) AS last FROM ("
                                    "SELECT invoice_id, date FROM txn WHERE amount_in > 0 UNION ALL "
                                    "SELECT invoice_id, date FROM credit_entry WHERE kind = 'applied') "
                                    "GROUP BY invoice_id"), "invoice_id")
    has_rows = {r[0] for r in rows(demo_file, "SELECT invoice_id FROM txn UNION "
                                              "SELECT invoice_id FROM credit_entry")}
    for inv in rows(demo_file, "SELECT * FROM invoice"):
        due = inv["total"] - inv["credit"] - inv["paid"]
        status, iid = inv["status"], inv["id"]
        assert inv["due_date"] >= inv["date"]
        if status == "Draft":
            assert inv["number"] is None and iid not in has_rows and inv["paid_date"] is None
            continue
        assert inv["number"] is not None
        if status in ("Unpaid", "Collections"):
            assert due > 0 and inv["paid_date"] is None, iid
        elif status == "Paid":
            assert due == 0, iid
            assert inv["paid_date"] == paid_dates[iid][0]["last"], iid
        elif status == "Refunded":
            assert due == 0 and inv["paid"] > 0 and inv["refunded"] >= inv["paid"], iid
        elif status == "Cancelled":
            assert inv["paid_date"] is None and inv["credit"] == 0 and inv["refunded"] == 0
            assert 0 <= inv["paid"] < inv["total"], iid
        if status != "Refunded":
            assert inv["refunded"] < inv["paid"] or inv["refunded"] == 0, iid


def test_numbers_are_gap_free_in_date_order(book):
    template = billing_settings.billing().number_format
    published = rows(book, "SELECT id, number, date FROM invoice WHERE number IS NOT NULL "
                           "ORDER BY date, id")
    assert len({r["number"] for r in published}) == len(published)
    for seq, r in enumerate(published, start=1):
        assert r["number"] == billing_settings.format_number(template, seq, dt.date.fromisoformat(r["date"]))
    assert billing_settings.next_number() == len(published) + 1
    assert rows(book, "SELECT COUNT(*) FROM invoice WHERE number IS NULL")[0][0] == \
        rows(book, "SELECT COUNT(*) FROM invoice WHERE status = 'Draft'")[0][0]
    # ids follow the dates as well
    ids = [r["id"] for r in rows(book, "SELECT id FROM invoice ORDER BY date, id")]
    assert ids == sorted(ids)


# --- transactions and credit

def test_transactions_are_payments_and_refunds_as_the_services_write_them(book):
    names = {r["id"]: clients.display_name(r["first_name"], r["last_name"], r["company"],
                                           demo.settings.display_format())
             for r in rows(book, "SELECT * FROM client")}
    invoices = {r["id"]: r for r in rows(book, "SELECT * FROM invoice")}
    excess = {r["transaction_id"]: r["amount"] for r in
              rows(book, "SELECT * FROM credit_entry WHERE kind = 'overpayment'")}
    all_txns = rows(book, "SELECT * FROM txn ORDER BY id")
    txns = {t["id"]: t for t in all_txns}
    refunded: dict[int, int] = defaultdict(int)
    for t in all_txns:
        inv = invoices[t["invoice_id"]]
        assert t["client_id"] == inv["client_id"] and t["client_name"] == names[t["client_id"]]
        assert t["currency"] == inv["currency"] and t["date"] >= inv["date"]
        assert (t["amount_in"] > 0) != (t["amount_out"] > 0)
        if t["amount_in"]:
            assert t["refund_of"] is None and not t["to_credit"]
            assert t["description"] == f"Payment for invoice #{inv['number']}"
            assert 0 <= t["fee"] <= t["amount_in"]
            assert t["method"] in billing_settings.payment_methods()
            assert inv["status"] not in ("Draft",)
        else:
            payment = txns[t["refund_of"]]
            assert payment["invoice_id"] == t["invoice_id"] and payment["id"] < t["id"]
            assert payment["date"] <= t["date"] and t["fee"] == 0
            refunded[payment["id"]] += t["amount_out"]
            assert refunded[payment["id"]] <= payment["amount_in"] - excess.get(payment["id"], 0)
            if t["to_credit"]:
                assert t["method"] == "Credit"
                assert t["description"] == f"Refund of transaction #{payment['id']} to credit"
            else:
                assert t["method"] == payment["method"]
                assert t["description"] == f"Refund of transaction #{payment['id']}"
        # payments.refundable agrees with the rows
        if t["amount_in"]:
            continue
        assert payments.refundable(t["refund_of"]).minor_units == (
            txns[t["refund_of"]]["amount_in"] - excess.get(t["refund_of"], 0) - refunded[t["refund_of"]])


def test_credit_entries_are_written_as_the_services_write_them(demo_file):
    invoices = {r["id"]: r for r in rows(demo_file, "SELECT * FROM invoice")}
    txns = {r["id"]: r for r in rows(demo_file, "SELECT * FROM txn")}
    entries = {r["id"]: r for r in rows(demo_file, "SELECT * FROM credit_entry")}
    for e in entries.values():
        kind, amount = e["kind"], e["amount"]
        inv = invoices.get(e["invoice_id"])
        tx = txns.get(e["transaction_id"])
        number = inv["number"] if inv else None
        if inv is not None:
            assert inv["client_id"] == e["client_id"] and e["date"] >= inv["date"]
        if kind in ("added", "removed", "adjustment", "reversal"):
            assert inv is None and tx is None
            assert (amount > 0) if kind == "added" else (amount < 0) if kind == "removed" else True
            assert e["description"].strip()
        if kind == "adjustment":
            assert e["description"].startswith("Manual balance adjustment: ")
        if kind == "reversal":
            target = entries[e["reverses_id"]]
            assert target["client_id"] == e["client_id"] and target["amount"] == -amount
            assert target["id"] < e["id"] and target["date"] <= e["date"]
            assert e["description"] == f"Deleted entry #{target['id']}: {target['description']}"
        else:
            assert e["reverses_id"] is None
        if kind == "applied":
            assert amount < 0 and tx is None and inv["kind"] == "standard"
            assert e["description"] == f"Credit applied to invoice #{number}"
        if kind == "overpayment":
            assert amount > 0 and tx["invoice_id"] == inv["id"] and tx["amount_in"] > amount
            assert e["description"] == f"Credit for overpayment of invoice #{number}"
        if kind == "add_funds":
            assert inv["kind"] == "add_funds" and tx["amount_in"] == amount
            assert e["description"] == f"Add funds: invoice #{number}"
        if kind == "refund":
            assert tx["refund_of"] is not None and tx["amount_out"] == abs(amount)
            if amount > 0:
                assert tx["to_credit"] and e["description"] == \
                    f"Refund of payment on invoice #{number} to credit"
            else:
                assert inv["kind"] == "add_funds" and not tx["to_credit"]
                assert e["description"] == f"Add funds refunded: invoice #{number}"
        if kind == "returned":
            assert amount > 0 and inv["status"] == "Cancelled"
            assert e["description"] in (f"Credit returned from cancelled invoice #{number}",
                                        f"Payments on cancelled invoice #{number} kept as credit")
        if kind in ("overpayment", "add_funds") and tx is not None:
            assert tx["date"] == e["date"]


def test_credit_balance_is_the_ledger_and_never_below_zero(demo_file):
    entries = by(rows(demo_file, "SELECT * FROM credit_entry ORDER BY id"), "client_id")
    with_credit = 0
    for c in rows(demo_file, "SELECT id, credit_balance FROM client"):
        mine = entries[c["id"]]
        assert c["credit_balance"] == sum(e["amount"] for e in mine) >= 0
        with_credit += c["credit_balance"] > 0
        for order in (lambda e: e["id"], lambda e: (e["date"], e["id"])):
            running = 0
            for e in sorted(mine, key=order):
                running += e["amount"]
                assert running >= 0, (c["id"], e["id"])
    assert with_credit > 0


# --- the statement and the services on demo data

def test_every_statement_checks_itself(book):
    for (client_id,) in rows(book, "SELECT id FROM client"):
        st = statements.all_time(client_id)
        assert st.complete and st.checked_ok is True, (client_id, st.closing, st.expected)
        assert credit.ledger_sum(client_id) == credit.balance(client_id)


def test_the_billing_helpers_agree(book):
    for (client_id,) in rows(book, "SELECT DISTINCT client_id FROM invoice "
                                   "UNION SELECT client_id FROM credit_entry"):
        check_invariants(client_id)


def test_the_services_work_on_demo_data(copy):
    unpaid = rows(copy, "SELECT id, client_id, total - credit - paid AS due, currency FROM invoice "
                        "WHERE status = 'Unpaid' AND kind = 'standard' ORDER BY id")
    first, second, third = unpaid[0], unpaid[1], unpaid[2]
    # pay one in full (with a fee), overpaying by 1.00
    cur = first["currency"]
    amount = Money.from_minor(first["due"], cur) + Money.of("1", cur)
    result = payments.add_payment(first["id"], str(amount), fee="0.50", method="PayPal")
    assert result.invoice.status == "Paid" and result.credit_added == Money.of("1", cur)
    # credit added by hand, applied to another invoice
    before = credit.balance(second["client_id"])
    credit.add_credit(second["client_id"], "5", "Goodwill")
    applied = invoicing.apply_credit(second["id"])
    assert applied == min(before + Money.of("5", second["currency"]),
                          Money.from_minor(second["due"], second["currency"]))
    # a part payment, then cancelling keeps it as credit
    payments.add_payment(third["id"], Money.from_minor(1, third["currency"]).amount)
    invoicing.cancel_invoice(third["id"])
    # refund a paid demo payment to credit, and another by its method
    refundable = [r for r in rows(copy, "SELECT t.id FROM txn t JOIN invoice i ON i.id = t.invoice_id "
                                        "WHERE t.amount_in > 0 AND i.kind = 'standard' "
                                        "AND i.status = 'Paid' ORDER BY t.id")
                  if payments.refundable(r[0])]
    for tx_id, to_credit in ((refundable[0][0], True), (refundable[1][0], False)):
        payments.refund(tx_id, payments.refundable(tx_id).amount, to_credit=to_credit)
    # publish a demo draft and make a new invoice: the numbers go on from the demo's
    draft = rows(copy, "SELECT id, client_id FROM invoice WHERE status = 'Draft' ORDER BY id")[0]
    n = billing_settings.next_number()
    number = invoicing.publish(draft["id"])
    assert number == billing_settings.format_number(demo.DEMO_NUMBER_FORMAT, n,
                                                    invoicing.get_invoice(draft["id"]).date)
    new_id = invoicing.create_invoice(draft["client_id"], [invoicing.LineInput("Extra work", "10", True)])
    assert invoicing.get_invoice(new_id).number.endswith(f"-{n + 1:05}")
    touched = {first["client_id"], second["client_id"], third["client_id"], draft["client_id"]}
    touched |= {r[0] for r in rows(copy, "SELECT client_id FROM txn WHERE id IN (?, ?)",
                                   (refundable[0][0], refundable[1][0]))}
    for client_id in touched:
        check_invariants(client_id)


# --- the generator

def test_same_seed_same_book_and_clients_do_not_depend_on_billing(tmp_path):
    tables = {"client": "id, first_name, last_name, company, email, phone, country, currency, status, "
                        "tax_exempt, group_id",
              "invoice": "*", "invoice_line": "*", "txn": "*", "credit_entry": "*"}
    dumps = []
    for name, billing in (("a", True), ("b", True), ("c", False)):
        path = tmp_path / f"{name}.sqlite3"
        init_db(path)
        try:
            result = demo.create_demo(40, 11, today=TODAY, billing=billing)
        finally:
            close_database()
        assert (result.invoices > 0) == billing
        dumps.append({t: rows(path, f"SELECT {cols} FROM {t} ORDER BY 1") for t, cols in tables.items()})
    assert [[tuple(r) for r in rs] for rs in dumps[0].values()] == \
        [[tuple(r) for r in rs] for rs in dumps[1].values()]
    assert [tuple(r) for r in dumps[0]["client"]] == [tuple(r) for r in dumps[2]["client"]]
    assert not dumps[2]["invoice"] and not dumps[2]["credit_entry"]


def test_an_empty_demo_with_billing(db):
    result = demo.create_demo(0, today=TODAY)
    assert (result.clients, result.invoices, result.transactions, result.credit_entries) == (0, 0, 0, 0)
    assert billing_settings.next_number() == 1


def test_settings_already_made_are_kept(db):
    billing_settings.save_billing(billing_settings.BillingSettings(number_format="{year}/{seq:04}"))
    billing_settings.add_tax_rule(1, "Sales tax", "8.875", "US")
    billing_settings.set_currency_rate("EUR", "1.2")
    result = demo.create_demo(30, 5, today=TODAY)
    assert result.invoices > 0
    assert billing_settings.billing().number_format == "{year}/{seq:04}"
    assert [(r.name, r.rate) for r in billing_settings.tax_rules()] == [("Sales tax", Decimal("8.875"))]
    assert billing_settings.currencies()["EUR"] == Decimal("1.2")
    published = rows(db_file(), "SELECT number, date FROM invoice WHERE number IS NOT NULL ORDER BY date, id")
    assert [r["number"] for r in published] == [
        billing_settings.format_number("{year}/{seq:04}", seq, dt.date.fromisoformat(r["date"]))
        for seq, r in enumerate(published, 1)]
    us = rows(db_file(), "SELECT DISTINCT i.tax1_name, i.tax1_rate FROM invoice i JOIN client c "
                         "ON c.id = i.client_id WHERE c.country = 'US' AND NOT c.tax_exempt "
                         "AND i.kind = 'standard'")
    assert [tuple(r) for r in us] == [("Sales tax", "8.875")]
    for (client_id,) in rows(db_file(), "SELECT id FROM client"):
        assert statements.all_time(client_id).checked_ok


def db_file() -> Path:
    from billdesk.models import database

    return Path(database.obj.database)


def test_nothing_in_the_demo_happened_after_its_now(demo_file):
    """The demo's day stamps its events at times of the day; none is
    later than the demo's 'now' (a Summary's Last activity in the future)."""
    now = TODAY.strftime("%Y-%m-%d %H:%M:%S")
    con = sqlite3.connect(demo_file)
    try:
        for table, column in (("invoice", "created_at"), ("invoice", "updated_at"),
                              ("credit_entry", "created_at"), ("client_log", "at")):
            latest = con.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
            assert latest is None or latest <= now, (table, column, latest)
    finally:
        con.close()
