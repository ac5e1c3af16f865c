"""Billing by example (B1, B2, B6, P1–P5), every amount written by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billdesk.errors import BilldeskError, Conflict, InvalidInput, NotFound, ValidationFailed
from billdesk.models import ClientLog, Invoice
from billdesk.money import Money
from billdesk.services import billing_settings, clients, credit, invoicing, payments, statements, taxes
from billdesk.services.invoicing import LineInput as L

from billing_helpers import check_invariants, dump, m, new_client


def totals(lines, r1="0", r2="0", compound=False, inclusive=False, currency="GBP"):
    rates = taxes.TaxRates(Decimal(r1), Decimal(r2), compound, inclusive)
    t = taxes.compute([(Money.of(a, currency), taxed) for a, taxed in lines], rates, currency)
    return str(t.subtotal), str(t.tax1), str(t.tax2), str(t.total)


# --- tax, to the cent (SPEC.md "Money rules")

def test_the_spec_example_rounds_tax_once_on_the_taxed_sum():
    assert totals([("0.10", True)] * 3, "17.5") == ("0.30", "0.05", "0.00", "0.35")


def test_one_level_exclusive():
    assert totals([("100.00", True), ("50.00", False)], "20") == ("150.00", "20.00", "0.00", "170.00")
    assert totals([("1.00", True)], "12.5") == ("1.00", "0.13", "0.00", "1.13")  # half-up


def test_two_levels_exclusive_each_on_the_taxed_sum():
    assert totals([("100.00", True), ("50.00", False)], "10", "5") == ("150.00", "10.00", "5.00", "165.00")


def test_compound_level_two_is_charged_on_subtotal_plus_level_one():
    assert totals([("100.00", True)], "10", "5", compound=True) == ("100.00", "10.00", "5.50", "115.50")
    assert totals([("19.99", True)], "7", "9.975", compound=True) == ("19.99", "1.40", "2.13", "23.52")


def test_inclusive_one_level_takes_the_tax_out_of_the_price():
    assert totals([("120.00", True)], "20", inclusive=True) == ("100.00", "20.00", "0.00", "120.00")
    # 10.00 − 10.00/1.175 = 1.4893… → 1.49
    assert totals([("10.00", True), ("5.00", False)], "17.5", inclusive=True) == (
        "13.51", "1.49", "0.00", "15.00")


def test_inclusive_two_levels_and_compound():
    assert totals([("115.00", True)], "10", "5", inclusive=True) == ("100.00", "10.00", "5.00", "115.00")
    assert totals([("115.50", True)], "10", "5", compound=True, inclusive=True) == (
        "100.00", "10.00", "5.50", "115.50")


def test_currency_without_minor_unit():
    assert totals([("1000", True)], "8", currency="JPY") == ("1000", "80", "0", "1080")


def test_invoice_takes_the_clients_tax_rule_and_exempt_clients_pay_none(db):
    billing_settings.add_tax_rule(1, "VAT", "20")
    billing_settings.add_tax_rule(1, "VAT DE", "19", country="DE")
    billing_settings.add_tax_rule(2, "Local", "2.5", country="DE", state="Berlin")
    gb = new_client()
    berlin = new_client("EUR", "DE", state="Berlin")
    exempt = new_client(tax_exempt=True)
    lines = [L("Hosting", "10.00", True), L("Setup", "5", False)]
    a = invoicing.get_invoice(invoicing.create_invoice(gb, lines))
    assert (str(a.subtotal), str(a.tax1), str(a.tax2), str(a.total)) == ("15.00", "2.00", "0.00", "17.00")
    assert a.rates.name1 == "VAT"
    b = invoicing.get_invoice(invoicing.create_invoice(berlin, lines))
    assert (str(b.tax1), str(b.tax2), str(b.total)) == ("1.90", "0.25", "17.15")
    c = invoicing.get_invoice(invoicing.create_invoice(exempt, lines))
    assert (str(c.tax), str(c.total)) == ("0.00", "15.00")


def test_inclusive_and_compound_settings_reach_new_invoices(db):
    billing_settings.add_tax_rule(1, "GST", "10")
    billing_settings.add_tax_rule(2, "PST", "5")
    settings = billing_settings.billing()
    settings.tax_inclusive, settings.tax_compound = True, True
    billing_settings.save_billing(settings)
    inv = invoicing.get_invoice(invoicing.create_invoice(new_client(), [L("Plan", "115.50", True)]))
    assert (str(inv.subtotal), str(inv.tax1), str(inv.tax2), str(inv.total)) == (
        "100.00", "10.00", "5.50", "115.50")


def test_line_amounts_are_rounded_half_up_on_entry(db):
    inv = invoicing.get_invoice(invoicing.create_invoice(new_client(), [L("a", "0.125"), L("b", "0.124")]))
    assert [str(x.amount) for x in inv.lines] == ["0.13", "0.12"]
    assert str(inv.total) == "0.25"


# --- numbering

def test_numbers_are_given_on_publishing_without_gaps(db):
    cid = new_client()
    draft = invoicing.create_invoice(cid, [L("a", "1")], draft=True)
    first = invoicing.create_invoice(cid, [L("b", "1")], date="2026-03-04")
    assert invoicing.get_invoice(draft).number is None
    assert invoicing.get_invoice(first).number == "INV-2026-00001"
    invoicing.delete_draft(draft)
    settings = billing_settings.billing()
    settings.number_format = "{year}/{month}/{seq:03}"
    billing_settings.save_billing(settings)
    second = invoicing.create_invoice(cid, [L("c", "1")], date="2026-03-05", draft=True)
    assert invoicing.publish(second) == "2026/03/002"
    with pytest.raises(ValidationFailed) as err:
        billing_settings.save_billing(billing_settings.BillingSettings(number_format="INV-{year}"))
    assert err.value.field == "number_format"


def test_a_failed_publish_takes_no_number(db):
    cid = new_client()
    empty = invoicing.create_invoice(cid, [], draft=True)
    with pytest.raises(InvalidInput):
        invoicing.publish(empty)
    assert billing_settings.next_number() == 1


def test_zero_total_invoice_is_paid_when_published(db):
    inv = invoicing.get_invoice(invoicing.create_invoice(new_client(), [L("Free month", "0")]))
    assert inv.status == "Paid" and inv.paid_date == inv.date


# --- payments (P2)

def test_partial_then_exact_payment(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "100.00")])
    r = payments.add_payment(iid, "40.00", fee="1.20", date="2026-05-01", method="Card", reference="ch_1")
    assert r.invoice.status == "Unpaid" and str(r.invoice.balance) == "60.00"
    assert str(r.credit_added) == "0.00"
    r = payments.add_payment(iid, "60", date="2026-05-03")
    assert r.invoice.status == "Paid" and r.invoice.paid_date == dt.date(2026, 5, 3)
    assert str(r.invoice.paid) == "100.00" and str(r.invoice.balance) == "0.00"
    income = payments.income(cid)
    assert (str(income.gross), str(income.expenses), str(income.net)) == ("100.00", "1.20", "98.80")
    check_invariants(cid)


def test_overpayment_goes_to_credit(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "100.00")])
    number = invoicing.get_invoice(iid).number
    r = payments.add_payment(iid, "150.00")
    assert r.invoice.status == "Paid" and str(r.credit_added) == "50.00"
    assert str(r.invoice.paid) == "100.00"
    log = credit.credit_log(cid)
    assert str(log.balance) == "50.00"
    assert log.entries[0].description == f"Credit for overpayment of invoice #{number}"
    assert str(log.entries[0].amount) == "50.00"
    check_invariants(cid)


def test_add_funds_invoice_pays_into_credit_and_never_takes_credit(db):
    cid = new_client()
    credit.add_credit(cid, "10", "goodwill")
    af = invoicing.create_add_funds(cid, "25.00")
    inv = invoicing.get_invoice(af)
    assert inv.kind == "add_funds" and inv.status == "Unpaid" and str(inv.tax) == "0.00"
    with pytest.raises(Conflict):
        invoicing.apply_credit(af)
    assert str(invoicing.apply_credit_to_new_invoice(af)) == "0.00"
    r = payments.add_payment(af, "25.00")
    assert r.invoice.status == "Paid" and str(r.credit_added) == "25.00"
    assert str(credit.balance(cid)) == "35.00"
    check_invariants(cid)


def test_credit_covers_a_generated_invoice(db):
    cid = new_client()
    credit.add_credit(cid, "30.00", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Hosting", "30.00")])
    assert str(invoicing.apply_credit_to_new_invoice(iid)) == "30.00"
    inv = invoicing.get_invoice(iid)
    assert inv.status == "Paid" and str(inv.credit) == "30.00" and str(inv.balance) == "0.00"
    assert str(credit.balance(cid)) == "0.00"
    check_invariants(cid)


def test_partial_credit_lowers_the_balance_due(db):
    cid = new_client()
    credit.add_credit(cid, "12.50", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Hosting", "30.00")])
    assert str(invoicing.apply_credit_to_new_invoice(iid)) == "12.50"
    inv = invoicing.get_invoice(iid)
    assert inv.status == "Unpaid" and str(inv.balance) == "17.50"
    assert str(credit.balance(cid)) == "0.00"
    check_invariants(cid)


def test_applying_credit_by_hand(db):
    cid = new_client()
    credit.add_credit(cid, "50", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Hosting", "30.00")])
    assert str(invoicing.apply_credit(iid, "10")) == "10.00"
    assert str(invoicing.apply_credit(iid)) == "20.00"  # min(credit 40, due 20)
    assert invoicing.get_invoice(iid).status == "Paid"
    assert str(credit.balance(cid)) == "20.00"
    check_invariants(cid)


# --- credit (P4)

def test_add_remove_adjust_and_delete_entries(db):
    cid = new_client()
    first = credit.add_credit(cid, "20.00", "Downtime in May")
    credit.remove_credit(cid, "5.00", "Charged by mistake")
    assert str(credit.balance(cid)) == "15.00"
    credit.adjust_balance(cid, "40", "Agreed on the phone")
    assert str(credit.balance(cid)) == "40.00"
    reversal = credit.delete_entry(first, reason="wrong client")
    assert str(credit.balance(cid)) == "20.00"
    log = credit.credit_log(cid)
    by_id = {e.id: e for e in log.entries}
    assert by_id[first].reversed_by == reversal and str(by_id[reversal].amount) == "-20.00"
    with pytest.raises(Conflict):
        credit.delete_entry(first)
    with pytest.raises(Conflict):
        credit.delete_entry(reversal)
    messages = [r.message for r in ClientLog.select().where(ClientLog.client == cid)]
    assert any("Credit entry #" in text and "deleted" in text for text in messages)
    check_invariants(cid)


def test_deleting_an_entry_that_was_spent_is_refused(db):
    cid = new_client()
    entry = credit.add_credit(cid, "20.00", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Hosting", "15.00")])
    invoicing.apply_credit(iid)
    before = dump()
    with pytest.raises(Conflict) as err:
        credit.delete_entry(entry)
    assert err.value.field == "entry" and "below zero" in err.value.message
    assert dump() == before


# --- refunds (P3)

def test_refund_to_the_original_method_whole_marks_refunded(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "80.00")])
    tx = payments.add_payment(iid, "80.00", method="Card").transaction_id
    payments.refund(tx, "30.00")
    inv = invoicing.get_invoice(iid)
    assert inv.status == "Paid" and str(inv.refunded) == "30.00"
    assert str(payments.refundable(tx)) == "50.00"
    payments.refund(tx, "50.00")
    inv = invoicing.get_invoice(iid)
    assert inv.status == "Refunded" and str(inv.balance) == "0.00"
    income = payments.income(cid)
    assert (str(income.gross), str(income.expenses), str(income.net)) == ("80.00", "80.00", "0.00")
    assert str(credit.balance(cid)) == "0.00"
    with pytest.raises(Conflict):
        payments.refund(tx, "0.01")
    check_invariants(cid)


def test_refund_to_credit(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "80.00")])
    tx = payments.add_payment(iid, "80.00").transaction_id
    payments.refund(tx, "80.00", to_credit=True)
    assert invoicing.get_invoice(iid).status == "Refunded"
    assert str(credit.balance(cid)) == "80.00"
    assert str(payments.income(cid).net) == "80.00"  # the money stayed with us, as credit
    check_invariants(cid)


def test_refunding_an_overpayment_refunds_only_what_went_to_the_invoice(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "100.00")])
    tx = payments.add_payment(iid, "150.00").transaction_id
    assert str(payments.refundable(tx)) == "100.00"
    with pytest.raises(Conflict):
        payments.refund(tx, "150.00")
    payments.refund(tx, "100.00")
    check_invariants(cid)


def test_refunding_add_funds_takes_the_credit_back(db):
    cid = new_client()
    af = invoicing.create_add_funds(cid, "40")
    tx = payments.add_payment(af, "40").transaction_id
    with pytest.raises(Conflict):
        payments.refund(tx, "10", to_credit=True)
    payments.refund(tx, "15")
    assert str(credit.balance(cid)) == "25.00"
    check_invariants(cid)


# --- cancelling, splitting, editing

def test_cancelling_returns_credit_and_payments_to_credit(db):
    cid = new_client()
    credit.add_credit(cid, "10", "prepaid")
    iid = invoicing.create_invoice(cid, [L("Work", "100.00")])
    invoicing.apply_credit(iid)
    payments.add_payment(iid, "25")
    inv = invoicing.cancel_invoice(iid)
    assert inv.status == "Cancelled" and str(inv.balance) == "0.00"
    assert str(credit.balance(cid)) == "35.00"
    with pytest.raises(Conflict):
        payments.add_payment(iid, "1")
    check_invariants(cid)


def test_payments_of_a_cancelled_invoice_are_not_refunded_twice(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("Work", "100.00")])
    tx = payments.add_payment(iid, "60").transaction_id
    invoicing.cancel_invoice(iid)
    assert str(credit.balance(cid)) == "60.00"
    before = dump()
    with pytest.raises(Conflict) as err:
        payments.refund(tx, "60")
    assert err.value.field == "transaction" and dump() == before
    check_invariants(cid)


def test_split_moves_lines_to_a_new_numbered_invoice(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("A", "10"), L("B", "20"), L("C", "30")])
    inv = invoicing.get_invoice(iid)
    new = invoicing.split_invoice(iid, [inv.lines[1].id, inv.lines[2].id])
    a, b = invoicing.get_invoice(iid), invoicing.get_invoice(new)
    assert (str(a.total), str(b.total)) == ("10.00", "50.00")
    assert b.status == "Unpaid" and b.number == "INV-%d-00002" % dt.date.today().year
    with pytest.raises(InvalidInput):
        invoicing.split_invoice(iid, [a.lines[0].id])
    check_invariants(cid)


def test_editing_lines_keeps_totals_and_refuses_going_below_paid(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("A", "10"), L("B", "20")])
    payments.add_payment(iid, "15")
    inv = invoicing.update_invoice(iid, [L("A", "10"), L("B", "25")])
    assert str(inv.total) == "35.00" and str(inv.balance) == "20.00"
    before = dump()
    with pytest.raises(Conflict):
        invoicing.update_invoice(iid, [L("A", "10")])
    assert dump() == before
    inv = invoicing.update_invoice(iid, [L("A", "15")])
    assert inv.status == "Paid"
    check_invariants(cid)


def test_collections_counts_as_owed(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("A", "10")])
    invoicing.set_status(iid, "Collections")
    assert str(invoicing.owed(cid)) == "10.00"
    payments.add_payment(iid, "10")
    assert invoicing.get_invoice(iid).status == "Paid"
    check_invariants(cid)


# --- late fees (B6: the calculation)

def test_late_fee_fixed_and_percent_with_minimum(db):
    total = m("200.00")
    fixed = billing_settings.BillingSettings(late_fee_kind="fixed", late_fee_amount="5")
    assert str(invoicing.late_fee_for(total, fixed)) == "5.00"
    pct = billing_settings.BillingSettings(late_fee_kind="percent", late_fee_amount="2.5",
                                           late_fee_minimum="10")
    assert str(invoicing.late_fee_for(total, pct)) == "10.00"
    assert str(invoicing.late_fee_for(m("1000.00"), pct)) == "25.00"


def test_a_fixed_fee_and_the_minimum_are_converted_into_the_invoice_currency(db):
    """They are set in the default currency (GBP): 5.00 GBP is ¥950 at 190,
    not ¥5; in a currency with no rate stored they are taken as written."""
    from billdesk.services import settings

    settings.save_company(settings.Company(name="Co", country="GB", currency="GBP"))
    billing_settings.set_currency_rate("JPY", "190")
    billing_settings.set_currency_rate("DKK", "8.7234")
    fixed = billing_settings.BillingSettings(late_fee_kind="fixed", late_fee_amount="5")
    assert invoicing.late_fee_for(Money("15180", "JPY"), fixed) == Money("950", "JPY")
    assert invoicing.late_fee_for(Money("34.79", "DKK"), fixed) == Money("43.62", "DKK")
    assert invoicing.late_fee_for(m("34.79"), fixed) == m("5.00")
    assert invoicing.late_fee_for(Money("100", "SEK"), fixed) == Money("5.00", "SEK")
    pct = billing_settings.BillingSettings(late_fee_kind="percent", late_fee_amount="10",
                                           late_fee_minimum="5")
    assert invoicing.late_fee_for(Money("34.79", "DKK"), pct) == Money("43.62", "DKK")
    assert invoicing.late_fee_for(Money("1000.00", "DKK"), pct) == Money("100.00", "DKK")
    assert invoicing.late_fee_for(Money("34.79", "SEK"), pct) == Money("5.00", "SEK")


def test_the_daily_run_charges_a_fixed_fee_in_the_invoice_currency(db):
    from billdesk.services import automation, settings

    settings.save_company(settings.Company(name="Co", country="GB", currency="GBP"))
    billing_settings.set_currency_rate("JPY", "190")
    billing_settings.save_billing(billing_settings.BillingSettings(
        late_fee_kind="fixed", late_fee_amount="5", late_fee_days=5))
    cid = new_client(currency="JPY", country="JP")
    iid = invoicing.create_invoice(cid, [L("A", "15180")], date="2026-01-01",
                                   due_date="2026-01-10")
    automation.run(dt.date(2026, 1, 15), clock=lambda: dt.datetime(2026, 1, 15, 3, 0),
                   deliver=False)
    inv = invoicing.get_invoice(iid)
    assert [(ln.type, ln.amount) for ln in inv.lines] == [
        ("", Money("15180", "JPY")), ("LateFee", Money("950", "JPY"))]
    assert inv.total == Money("16130", "JPY")


def test_late_fee_is_added_once_after_the_days_unless_the_client_opts_out(db):
    billing_settings.save_billing(billing_settings.BillingSettings(
        late_fee_kind="percent", late_fee_amount="10", late_fee_minimum="1", late_fee_days=7))
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("A", "50")], date="2026-01-01", due_date="2026-01-10")
    assert invoicing.add_late_fee(iid, dt.date(2026, 1, 16)) is None
    assert str(invoicing.add_late_fee(iid, dt.date(2026, 1, 17))) == "5.00"
    assert invoicing.add_late_fee(iid, dt.date(2026, 2, 1)) is None
    assert str(invoicing.get_invoice(iid).total) == "55.00"
    other = new_client(late_fees=False)
    iid2 = invoicing.create_invoice(other, [L("A", "50")], date="2026-01-01", due_date="2026-01-10")
    assert invoicing.add_late_fee(iid2, dt.date(2026, 3, 1)) is None
    check_invariants(cid)


# --- statement (P5)

def test_statement_rows_signs_running_balance_and_self_check(db):
    cid = new_client()
    i1 = invoicing.create_invoice(cid, [L("Jan", "100.00")], date="2026-01-05")
    payments.add_payment(i1, "100.00", date="2026-01-10", method="Card", fee="3.00")
    i2 = invoicing.create_invoice(cid, [L("Feb", "60.00")], date="2026-02-05")
    tx2 = payments.add_payment(i2, "80.00", date="2026-02-07").transaction_id  # 20 to credit
    credit.add_credit(cid, "5.00", "Goodwill", date="2026-02-10")
    payments.refund(tx2, "10.00", date="2026-02-12")
    af = invoicing.create_add_funds(cid, "40")
    Invoice.update(date="2026-02-15").where(Invoice.id == af).execute()
    payments.add_payment(af, "40", date="2026-02-15")
    i3 = invoicing.create_invoice(cid, [L("Mar", "70.00")], date="2026-03-01")
    invoicing.apply_credit(i3, "30")
    st = statements.statement(cid, "2026-01-01", "2026-12-31")
    got = [(r.date.isoformat(), r.type, str(r.debit), str(r.credit), str(r.balance)) for r in st.rows]
    assert got == [
        ("2026-01-05", "Invoice", "100.00", "0.00", "100.00"),
        ("2026-01-10", "Payment", "0.00", "100.00", "0.00"),
        ("2026-02-05", "Invoice", "60.00", "0.00", "60.00"),
        ("2026-02-07", "Payment", "0.00", "80.00", "-20.00"),
        ("2026-02-10", "Credit added", "0.00", "5.00", "-25.00"),
        ("2026-02-12", "Refund", "0.00", "10.00", "-35.00"),
        ("2026-02-12", "Refund paid out", "10.00", "0.00", "-25.00"),
        ("2026-02-15", "Payment", "0.00", "40.00", "-65.00"),
        ("2026-03-01", "Invoice", "70.00", "0.00", "5.00"),
    ]
    assert str(st.opening) == "0.00" and str(st.closing) == "5.00"
    # owed 70 − 30 = 40; credit 20 + 5 + 40 − 30 = 35 → 5
    assert st.complete and str(st.expected) == "5.00" and st.checked_ok
    part = statements.statement(cid, "2026-02-06", "2026-02-12")
    assert str(part.opening) == "60.00" and str(part.closing) == "-25.00"
    assert not part.complete and part.checked_ok is None
    check_invariants(cid)


def test_amounts_that_could_be_read_two_ways_are_refused_with_how_to_write_them(db):
    from billdesk.services.amounts import amount_input

    for typed, says in (("12,500", "'12,500' is unclear: write 12500 for the whole amount, "
                                   "or 12.50 with a point for decimals"),
                        ("0.001", "rounds to 0.00: must be at least 0.01")):
        with pytest.raises(InvalidInput) as refused:
            amount_input(typed, "GBP")
        assert refused.value.message == says
    assert str(amount_input("12,500.00", "GBP")) == "12500.00"  # a point: the comma groups
    assert str(amount_input("1,234,567", "GBP")) == "1234567.00"
    assert str(amount_input("¥1,000", "JPY")) == "1000"  # no decimals in yen: a thousand


# --- refused input changes nothing (P-rules, SPEC "Ground rules")

@pytest.mark.parametrize("call, field", [
    (lambda c, i, t: payments.add_payment(i, "-5"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "12,x"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "1e3"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "1_000"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "12,500"), "amount"),  # 12.5 or 12,500?
    (lambda c, i, t: payments.add_payment(i, "\u0663"), "amount"),  # an Arabic-Indic 3
    (lambda c, i, t: payments.add_payment(i, "0.001"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "5", date="2026-W01-1"), "date"),
    (lambda c, i, t: payments.add_payment(i, "0"), "amount"),
    (lambda c, i, t: payments.add_payment(i, "5", fee="-1"), "fee"),
    (lambda c, i, t: payments.add_payment(i, "5", fee="6"), "fee"),
    (lambda c, i, t: payments.add_payment(i, "5", date="2026-13-01"), "date"),
    (lambda c, i, t: payments.add_payment(i, "5", method="Bitcoin"), "method"),
    (lambda c, i, t: payments.add_payment(999, "5"), "invoice"),
    (lambda c, i, t: credit.remove_credit(c, "10.01", "too much"), "amount"),
    (lambda c, i, t: credit.remove_credit(c, "-1", "negative"), "amount"),
    (lambda c, i, t: credit.add_credit(c, "5", "  "), "description"),
    (lambda c, i, t: credit.add_credit(999, "5", "x"), "client_id"),
    (lambda c, i, t: credit.adjust_balance(c, "-1", "x"), "credit_balance"),
    (lambda c, i, t: credit.delete_entry(999), "entry"),
    (lambda c, i, t: invoicing.apply_credit(i, "10.01"), "amount"),
    (lambda c, i, t: invoicing.create_invoice(c, [L("A", "abc")]), "lines[1].amount"),
    (lambda c, i, t: invoicing.create_invoice(c, [L("A", "-5")]), "lines"),
    (lambda c, i, t: invoicing.create_invoice(c, [L("", "5")]), "lines[1].description"),
    (lambda c, i, t: invoicing.create_invoice(c, [L("A", "5")], due_date="2020-01-01"), "due"),
    (lambda c, i, t: invoicing.create_invoice(c, [L("A", "5")], date="31/12/2026"), "date"),
    (lambda c, i, t: invoicing.create_invoice(c, []), "item"),
    (lambda c, i, t: payments.refund(t, "20.01"), "amount"),
    (lambda c, i, t: payments.refund(999, "1"), "transaction"),
    (lambda c, i, t: invoicing.create_add_funds(c, "0"), "amount"),
])
def test_refused_input_names_the_field_and_writes_nothing(db, call, field):
    cid = new_client()
    credit.add_credit(cid, "10.00", "start")
    iid = invoicing.create_invoice(cid, [L("Work", "50.00")])
    paid = invoicing.create_invoice(cid, [L("Work", "20.00")])
    tid = payments.add_payment(paid, "20.00").transaction_id
    before = dump()
    with pytest.raises(BilldeskError) as err:
        call(cid, iid, tid)
    assert err.value.field == field, err.value
    assert dump() == before


def test_paying_cancelled_and_draft_invoices_is_refused(db):
    cid = new_client()
    cancelled = invoicing.create_invoice(cid, [L("A", "5")])
    invoicing.cancel_invoice(cancelled)
    draft = invoicing.create_invoice(cid, [L("A", "5")], draft=True)
    before = dump()
    for iid in (cancelled, draft):
        with pytest.raises(Conflict) as err:
            payments.add_payment(iid, "5")
        assert err.value.field == "invoice"
    assert dump() == before


def test_unknown_ids(db):
    with pytest.raises(NotFound):
        invoicing.get_invoice(1)
    with pytest.raises(NotFound):
        invoicing.create_invoice(42, [L("A", "5")])
    with pytest.raises(NotFound):
        statements.statement(42, "2026-01-01", "2026-02-01")


def test_client_currency_is_fixed_once_billing_exists(db):
    cid = new_client()
    clients.update_client(cid, {"currency": "EUR"})
    invoicing.create_invoice(cid, [L("A", "5")])
    with pytest.raises(BilldeskError) as err:
        clients.update_client(cid, {"currency": "USD"})
    assert err.value.field == "currency"


def test_money_events_are_in_the_change_log(db):
    cid = new_client()
    iid = invoicing.create_invoice(cid, [L("A", "5")])
    tx = payments.add_payment(iid, "7").transaction_id
    payments.refund(tx, "1", to_credit=True)
    credit.add_credit(cid, "3", "gift")
    messages = " | ".join(r.message for r in ClientLog.select().where(ClientLog.client == cid))
    number = invoicing.get_invoice(iid).number
    for text in (f"Invoice #{number} published", "Payment 7.00 GBP received", "2.00 to credit",
                 f"Refund 1.00 GBP of transaction #{tx}", "Credit added: 3.00 GBP"):
        assert text in messages
