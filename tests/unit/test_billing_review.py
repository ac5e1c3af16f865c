"""Regression tests from a review of the billing services: each BUG
section was a real defect (now fixed); PIN tests pin behaviour checked to
work."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk.errors import BilldeskError, Conflict
from billdesk.services import billing_settings, credit, invoicing, payments, statements
from billdesk.services.invoicing import OWING
from billdesk.services.invoicing import LineInput as L

from billing_helpers import check_invariants, m, new_client


def _entry(cid: int, kind: str) -> int:
    return next(e.id for e in credit.credit_log(cid).entries if e.kind == kind)


# --- BUG 1: split can leave an Unpaid invoice with nothing to pay

@pytest.mark.parametrize("lines, move", [
    ([("A", "10"), ("B", "-10"), ("C", "5")], [0, 1]),  # the new invoice totals 0
    ([("A", "10"), ("B", "0")], [0]),                   # what stays behind totals 0
])
def test_regression_split_leaves_a_zero_total_invoice_unpaid(db, lines, move):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L(d, a) for d, a in lines])
    ids = [invoicing.get_invoice(iid).lines[n].id for n in move]
    new = invoicing.split_invoice(iid, ids)
    for part in (invoicing.get_invoice(iid), invoicing.get_invoice(new)):
        assert not (part.status in OWING and not part.total), (
            f"{part.label} is {part.status} with total {part.total} (paid_date {part.paid_date})")
    check_invariants(cid)


# --- BUG 2: deleting system credit entries (applied / refund) creates money

def test_regression_deleting_an_applied_entry_then_cancelling_returns_the_credit_twice(db):
    cid = new_client()
    credit.add_credit(cid, "10.00", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Work", "30.00")])
    invoicing.apply_credit(iid)  # 10 applied, 20 due
    with pytest.raises(Conflict):  # undone where it was made: cancel the invoice
        credit.delete_entry(_entry(cid, "applied"))
    invoicing.cancel_invoice(iid)  # returns the invoice's 10 credit again
    assert str(credit.balance(cid)) == "10.00"  # the client only ever had 10


def test_regression_deleting_an_add_funds_refund_entry_pays_the_money_out_twice(db):
    cid = new_client()
    af = invoicing.create_add_funds(cid, "40.00")
    tx = payments.add_payment(af, "40.00").transaction_id
    payments.refund(tx, "15.00")  # 15 paid out, credit 40 -> 25
    with pytest.raises(Conflict):
        credit.delete_entry(_entry(cid, "refund"))  # would put the 15 back in credit
    paid_out = payments.income(cid).refunds
    # 40 came in: what went back out plus what is still held can't exceed it
    assert paid_out + credit.balance(cid) <= m("40.00")


# --- BUG 3: "added once per invoice" (B6): a late fee the owner removed comes back

def test_regression_a_late_fee_removed_by_the_owner_is_added_again(db):
    billing_settings.save_billing(billing_settings.BillingSettings(
        late_fee_kind="fixed", late_fee_amount="5", late_fee_days=7))
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "50.00")], date="2026-01-01", due_date="2026-01-10")
    assert str(invoicing.add_late_fee(iid, dt.date(2026, 1, 20))) == "5.00"
    invoicing.update_invoice(iid, [L("Work", "50.00")])  # owner waives the fee
    assert invoicing.add_late_fee(iid, dt.date(2026, 1, 21)) is None  # next daily run
    assert str(invoicing.get_invoice(iid).total) == "50.00"


# --- BUG 4: very large amounts end in OverflowError / OperationalError, not a BilldeskError

def test_regression_an_invoice_total_past_sqlite_integer_is_a_traceback(db):
    cid = new_client("CLF", "CL")  # 4 decimals: 1000 lines of the largest amount > 2**63 minor units
    lines = [L(f"Line {n}", "999999999999") for n in range(1000)]
    with pytest.raises(BilldeskError):
        invoicing.create_invoice(cid, lines)


def test_regression_sums_over_large_invoices_overflow_in_owed_and_statement(db):
    billing_settings.add_tax_rule(1, "A", "100")
    billing_settings.add_tax_rule(2, "B", "100")
    billing_settings.save_billing(billing_settings.BillingSettings(tax_compound=True))
    cid = new_client("BHD", "BH")
    lines = [L(f"Line {n}", "999999999999", True) for n in range(1000)]
    created = 0
    with pytest.raises(BilldeskError) as err:
        for _ in range(3):  # each would be ~4.0e18 minor units
            invoicing.create_invoice(cid, lines)
            created += 1
    assert created == 0 and err.value.field == "lines"
    invoicing.owed(cid)
    statements.all_time(cid)


# --- PIN: verified to work

def test_pin_zero_and_three_decimal_currencies_round_and_balance(db):
    billing_settings.add_tax_rule(1, "VAT", "17.5")
    jpy = new_client("JPY", "JP")
    iid = invoicing.create_invoice(jpy, [L("a", "0.5", True), L("b", "1.0005", True), L("c", "¥1,000")])
    inv = invoicing.get_invoice(iid)
    assert [str(x.amount) for x in inv.lines] == ["1", "1", "1000"]
    assert (str(inv.tax1), str(inv.total)) == ("0", "1002")  # 2 × 17.5 % = 0.35 → 0
    tx = payments.add_payment(iid, "1003").transaction_id
    assert str(credit.balance(jpy)) == "1"
    payments.refund(tx, "2", to_credit=True)
    check_invariants(jpy)
    bhd = new_client("BHD", "BH")
    iid = invoicing.create_invoice(bhd, [L("a", "0.5", True), L("b", "1.0005", True),
                                         L("c", "1,000.000")])
    inv = invoicing.get_invoice(iid)
    assert [str(x.amount) for x in inv.lines] == ["0.500", "1.001", "1000.000"]
    assert (str(inv.tax1), str(inv.total)) == ("0.263", "1001.764")  # 1.501 × 17.5 % = 0.262675
    payments.add_payment(iid, "1001.765")
    assert str(credit.balance(bhd)) == "0.001"
    check_invariants(bhd)


def test_pin_editing_after_credit_and_payment_settles_or_refuses(db):
    cid = new_client()
    credit.add_credit(cid, "30.00", "prepaid")
    iid = invoicing.create_invoice(cid, [L("A", "60.00"), L("B", "40.00")])
    invoicing.apply_credit(iid)
    payments.add_payment(iid, "20.00")
    with pytest.raises(Conflict):
        invoicing.update_invoice(iid, [L("A", "49.99")])
    inv = invoicing.update_invoice(iid, [L("A", "50.00")])
    assert inv.status == "Paid" and str(inv.balance) == "0.00"
    check_invariants(cid)


def test_pin_cancel_with_credit_and_payment_then_statement_checks_itself(db):
    cid = new_client()
    credit.add_credit(cid, "10.00", "prepaid", date="2026-01-01")
    iid = invoicing.create_invoice(cid, [L("A", "100.00")], date="2026-01-02")
    invoicing.apply_credit(iid)
    payments.add_payment(iid, "25.00", date="2026-01-03")
    invoicing.cancel_invoice(iid)
    assert str(credit.balance(cid)) == "35.00"
    st = statements.statement(cid, "2026-01-01", max(dt.date.today(), dt.date(2026, 1, 3)))
    assert st.complete and st.checked_ok and str(st.closing) == "-35.00"
    check_invariants(cid)


# --- smaller points from the same review

def test_refund_dated_before_its_payment_is_refused(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "10")], date="2026-03-01")
    tx = payments.add_payment(iid, "10", date="2026-03-05").transaction_id
    with pytest.raises(BilldeskError) as err:
        payments.refund(tx, "5", date="2026-03-04")
    assert err.value.field == "date"


def test_only_the_amounts_own_currency_symbol_is_taken(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "£12.50")])
    assert str(invoicing.get_invoice(iid).total) == "12.50"
    with pytest.raises(BilldeskError) as err:
        payments.add_payment(iid, "$5")
    assert err.value.field == "amount"


def test_drafts_are_deleted_not_cancelled(db):
    cid = new_client()
    draft = invoicing.create_invoice(cid, [L("Work", "10")], draft=True)
    with pytest.raises(Conflict):
        invoicing.cancel_invoice(draft)


def test_taxed_lines_below_zero_are_refused(db):
    billing_settings.add_tax_rule(1, "VAT", "20")
    cid = new_client()
    with pytest.raises(BilldeskError) as err:
        invoicing.create_invoice(cid, [L("Work", "100"), L("Discount", "-10", True)])
    assert err.value.field == "lines"
    iid = invoicing.create_invoice(cid, [L("Work", "100", True), L("Discount", "-10", True)])
    assert str(invoicing.get_invoice(iid).total) == "108.00"


def test_payments_on_an_invoice_still_owed_are_not_refunded(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "100")])
    tx = payments.add_payment(iid, "40").transaction_id
    for to_credit in (False, True):
        with pytest.raises(Conflict) as err:
            payments.refund(tx, "40", to_credit=to_credit)
        assert err.value.field == "transaction" and "only payments on paid invoices" in err.value.message
    invoicing.cancel_invoice(iid)  # the way out: what was paid becomes credit
    assert str(credit.balance(cid)) == "40.00"
    check_invariants(cid)
