"""Affiliates (F4, issue 8): activating, referring, the commission on a
referred client's paid invoices (pending, then payable on the exact day),
payouts against the balance, refunds, the daily run, merges. Amounts and
dates written out by hand."""

from __future__ import annotations

import datetime as dt
import tempfile
from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import (
    Affiliate,
    AffiliateCommission,
    AffiliatePayout,
    AffiliateReferral,
    Invoice,
    close_database,
    database,
    init_db,
)
from billdesk.money import Money
from billdesk.services import (
    affiliates,
    automation,
    billing_settings,
    changelog,
    credit,
    invoicing,
    payments,
    subscriptions,
)
from billdesk.services.invoicing import LineInput

from billing_helpers import dump, new_client

D = dt.date


def at(day: dt.date) -> AbstractContextManager[None]:
    """The clock's today is ``day`` (noon) within the block."""
    return clock.frozen(dt.datetime.combine(day, dt.time(12, 0)))


def invoice(client_id: int, *amounts: str, taxed: bool = False, day: dt.date = D(2026, 3, 1)) -> int:
    return invoicing.create_invoice(client_id, [LineInput(f"Line {n}", a, taxed)
                                                for n, a in enumerate(amounts)],
                                    date=day, due_date=day + dt.timedelta(days=14))


def pay(invoice_id: int, day: dt.date) -> None:
    inv = invoicing.get_invoice(invoice_id)
    with at(day):
        result = payments.add_payment(invoice_id, inv.balance.amount, date=day)
    assert result.invoice.status == "Paid"


def commissions(affiliate_id: int) -> list[tuple]:
    return [(c.invoice_id, str(c.amount), c.earned_on, c.payable_on) for c in
            reversed(affiliates.summary(affiliate_id, D(2000, 1, 1)).commissions)]


@pytest.fixture
def pair(db):
    """An affiliate (GBP, 10 %) and a client it referred (GBP); 30 days pending."""
    affiliates.set_delay_days(30)
    aff = new_client(first_name="Alice", last_name="Affiliate")
    referred = new_client(first_name="Rob", last_name="Referred")
    affiliates.activate(aff, percent="10")
    affiliates.refer(aff, referred)
    return aff, referred


# --------------------------------------------------------------------------- acceptance

def test_percent_commission_is_pending_then_payable_on_the_exact_day(pair):
    aff, referred = pair
    billing_settings.add_tax_rule(1, "VAT", "20", "GB")
    invoice_id = invoice(referred, "80.00", "20.00", taxed=True)  # subtotal 100.00, total 120.00
    assert invoicing.get_invoice(invoice_id).total == Money.of("120.00", "GBP")
    pay(invoice_id, D(2026, 3, 10))

    number = invoicing.get_invoice(invoice_id).number
    assert commissions(aff) == [(invoice_id, "10.00", D(2026, 3, 10), D(2026, 4, 9))]
    with at(D(2026, 4, 8)):  # the day before: still pending
        s = affiliates.summary(aff)
        assert (str(s.pending), str(s.payable), str(s.balance)) == ("10.00", "0.00", "0.00")
        assert [c.state for c in s.commissions] == ["pending"]
    with at(D(2026, 4, 9)):  # from the payable date on
        s = affiliates.summary(aff)
        assert (str(s.pending), str(s.payable), str(s.balance)) == ("0.00", "10.00", "10.00")
        assert [c.state for c in s.commissions] == ["payable"]
        assert affiliates.balance(aff) == Money.of("10.00", "GBP")
    messages = [e.message for e in changelog.entries(aff)]
    assert (f"Commission 10.00 GBP on invoice {number} of #{referred}, payable from 2026-04-09"
            in messages)


def test_fixed_commission_per_paid_invoice_and_only_paid_ones(pair):
    aff, referred = pair
    affiliates.update_commission(aff, fixed="5.00")
    first, second, unpaid = (invoice(referred, "7.00"), invoice(referred, "900.00"),
                             invoice(referred, "50.00"))
    pay(first, D(2026, 3, 2))
    pay(second, D(2026, 3, 31))
    assert commissions(aff) == [(first, "5.00", D(2026, 3, 2), D(2026, 4, 1)),
                                (second, "5.00", D(2026, 3, 31), D(2026, 4, 30))]
    with at(D(2026, 4, 15)):
        s = affiliates.summary(aff)
        assert (str(s.pending), str(s.payable), str(s.balance)) == ("5.00", "5.00", "5.00")
        assert [(r.client_id, r.paid_invoices) for r in s.referrals] == [(referred, 2)]
        assert s.signups == 1
    assert invoicing.get_invoice(unpaid).status == "Unpaid"


def test_commission_in_the_affiliates_currency(db):
    # rates: units per one USD (the default currency)
    billing_settings.set_currency_rate("GBP", "0.8")
    billing_settings.set_currency_rate("EUR", "0.9")
    billing_settings.set_currency_rate("JPY", "150")
    usd = new_client("USD", "US", first_name="Dollar")
    eur = new_client("EUR", "DE", first_name="Euro")
    jpy = new_client("JPY", "JP", first_name="Yen")
    gbp1, gbp2, usd1 = new_client("GBP"), new_client("GBP"), new_client("USD", "US")
    affiliates.activate(usd, percent="10")
    affiliates.activate(eur, percent="12.5")
    affiliates.activate(jpy, percent="10")
    affiliates.refer(usd, gbp1)
    affiliates.refer(eur, gbp2)
    affiliates.refer(jpy, usd1)
    a, b, c = invoice(gbp1, "100.00"), invoice(gbp2, "33.33"), invoice(usd1, "19.99")
    for invoice_id in (a, b, c):
        pay(invoice_id, D(2026, 5, 1))
    # 10 % of 100.00 GBP = 10 GBP = 10 / 0.8 USD
    assert commissions(usd)[0][1] == "12.50"
    # 12.5 % of 33.33 GBP = 4.16625 GBP × 0.9 / 0.8 = 4.68703125 → 4.69 EUR
    assert commissions(eur)[0][1] == "4.69"
    # 10 % of 19.99 USD = 1.999 USD × 150 = 299.85 → 300 JPY
    assert commissions(jpy)[0][1] == "300"
    assert affiliates.summary(jpy, D(2026, 7, 1)).as_json()["balance"] == "300"


def test_a_payout_lowers_the_balance_and_cannot_exceed_it(pair):
    aff, referred = pair
    for day, amount in ((D(2026, 1, 5), "150.00"), (D(2026, 1, 20), "50.00")):
        pay(invoice(referred, amount, day=day), day)
    with at(D(2026, 2, 10)):  # the first (15.00) payable from 02-04, the second (5.00) from 02-19
        assert str(affiliates.balance(aff)) == "15.00"
        before = dump()
        with pytest.raises(Conflict) as refused:
            affiliates.record_payout(aff, amount="15.01")
        assert refused.value.field == "amount" and "balance (15.00 GBP)" in refused.value.message
        assert dump() == before
        with pytest.raises(InvalidInput) as zero:
            affiliates.record_payout(aff, amount="0")
        assert zero.value.field == "amount"
        payout = affiliates.record_payout(aff, amount="12.00", method="Bank transfer")
        assert (str(payout.amount), payout.paid_on) == ("12.00", D(2026, 2, 10))
        s = affiliates.summary(aff)
        assert (str(s.payable), str(s.paid_out), str(s.balance), str(s.pending)) == (
            "15.00", "12.00", "3.00", "5.00")
        with pytest.raises(Conflict):
            affiliates.record_payout(aff, amount="3.01")
    with at(D(2026, 2, 19)):
        assert str(affiliates.balance(aff)) == "8.00"
        affiliates.record_payout(aff, amount="8.00", paid_on="2026-02-19")
        assert str(affiliates.balance(aff)) == "0.00"
        affiliates.delete_payout(payout.id)
        assert str(affiliates.balance(aff)) == "12.00"
    assert any("Affiliate payout 12.00 GBP on 2026-02-10 by Bank transfer; balance 3.00" == e.message
               for e in changelog.entries(aff))


def test_add_funds_earn_nothing_but_paying_with_that_credit_does(pair):
    aff, referred = pair
    funds = invoicing.create_add_funds(referred, "200.00")
    pay(funds, D(2026, 3, 1))
    assert credit.balance(referred) == Money.of("200.00", "GBP")
    assert commissions(aff) == []
    bill = invoice(referred, "60.00")
    with at(D(2026, 3, 5)):
        invoicing.apply_credit(bill, when=D(2026, 3, 5))
    assert invoicing.get_invoice(bill).status == "Paid"
    assert commissions(aff) == [(bill, "6.00", D(2026, 3, 5), D(2026, 4, 4))]


def test_invoices_paid_by_the_daily_run_accrue(pair):
    aff, referred = pair
    other = new_client(first_name="Second", last_name="Referred")
    affiliates.refer(aff, other)
    signup = D(2026, 1, 1)
    with at(D(2026, 2, 1)):
        for client_id, amount in ((referred, "20.00"), (other, "40.00")):
            subscriptions.add_service(client_id, name="Hosting", amount=amount, cycle="monthly",
                                      next_due=D(2026, 2, 10), signup_date=signup)
            credit.add_credit(client_id, "100.00", "Prepaid", date=D(2026, 2, 1))
        hand = invoice(other, "30.00", day=D(2026, 2, 1))  # Unpaid; the run's credit step pays it
    report = automation.run(D(2026, 2, 3), clock=dt.datetime(2026, 2, 3, 3, 0), deliver=False)
    assert report.errors == []
    paid = {i.id: (i.client_id, str(i.subtotal)) for i in
            (invoicing.get_invoice(i) for (i,) in Invoice.select(Invoice.id).tuples())
            if i.status == "Paid"}
    assert hand in paid
    got = sorted((paid[i][0], amount, earned) for i, amount, earned, _p in commissions(aff))
    assert got == sorted([(referred, "2.00", D(2026, 2, 3)), (other, "4.00", D(2026, 2, 3)),
                          (other, "3.00", D(2026, 2, 3))])
    assert len(got) == len(paid)


def test_no_referrals_no_commission_rows_and_inactive_earns_nothing(pair):
    aff, referred = pair
    stranger = new_client()
    pay(invoice(stranger, "10.00"), D(2026, 3, 1))
    affiliates.deactivate(aff)
    pay(invoice(referred, "10.00"), D(2026, 3, 1))
    assert AffiliateCommission.select().count() == 0
    affiliates.reactivate(aff)
    later = invoice(referred, "10.00")
    pay(later, D(2026, 3, 2))
    assert [c[0] for c in commissions(aff)] == [later]
    assert affiliates.accrue([(later, D(2026, 3, 3))]) == 0  # never twice


def test_a_whole_refund_removes_a_pending_commission_not_a_payable_one(pair):
    aff, referred = pair
    early, late = invoice(referred, "100.00"), invoice(referred, "50.00")
    pay(early, D(2026, 1, 1))  # payable from 01-31
    pay(late, D(2026, 2, 1))  # payable from 03-03
    tx_early = payments.for_invoice(early)[0].id
    tx_late = payments.for_invoice(late)[0].id
    with at(D(2026, 2, 5)):
        payments.refund(tx_late, "20.00", date=D(2026, 2, 5))  # part: stays Paid, keeps it
        assert len(commissions(aff)) == 2
        payments.refund(tx_late, "30.00", date=D(2026, 2, 5))
        payments.refund(tx_early, "100.00", date=D(2026, 2, 5))
    assert invoicing.get_invoice(late).status == "Refunded"
    assert commissions(aff) == [(early, "10.00", D(2026, 1, 1), D(2026, 1, 31))]
    assert any(e.message.startswith("Pending commission 5.00 GBP on invoice")
               and e.message.endswith("removed: the invoice was refunded")
               for e in changelog.entries(aff))


# --------------------------------------------------------------------------- rules

def test_activate_checks_the_commission(db):
    cid = new_client()
    for kwargs, field in (({"percent": "0"}, "percent"), ({"percent": "100.01"}, "percent"),
                          ({"percent": "12.345"}, "percent"), ({"percent": "ten"}, "percent"),
                          ({"percent": "-5"}, "percent"), ({}, "percent"),
                          ({"percent": "5", "fixed": "1"}, "percent"),
                          ({"fixed": "-1.00"}, "fixed"), ({"fixed": "abc"}, "fixed")):
        with pytest.raises(InvalidInput) as refused:
            affiliates.activate(cid, **kwargs)
        assert refused.value.field == field, kwargs
    assert not affiliates.is_affiliate(cid)
    record = affiliates.activate(cid, percent="12.5%")
    assert (record.id, record.commission_type, str(record.percent), record.status) == (
        cid, "percent", "12.50", "Active")
    assert record.as_json()["commission_value"] == "12.50"
    with pytest.raises(Conflict) as again:
        affiliates.activate(cid, fixed="3")
    assert again.value.field == "client" and "already an affiliate" in again.value.message
    with pytest.raises(NotFound):
        affiliates.activate(999, percent="5")
    other = new_client()
    assert str(affiliates.activate(other, fixed="0").fixed) == "0.00"
    assert Affiliate.get_by_id(other).commission_value == 0


def test_refer_rules(pair):
    aff, referred = pair
    second = new_client(first_name="Bea", last_name="Second")
    affiliates.activate(second, fixed="2.00")
    loose = new_client()
    with pytest.raises(Conflict) as self_ref:
        affiliates.refer(aff, aff)
    assert self_ref.value.field == "client_id"
    with pytest.raises(Conflict) as taken:
        affiliates.refer(second, referred)
    assert f"already referred by affiliate #{aff} Alice Affiliate" in taken.value.message
    with pytest.raises(NotFound) as nobody:
        affiliates.refer(loose, referred)
    assert nobody.value.field == "affiliate"
    moved = affiliates.refer(second, referred, reassign=True)
    assert moved.affiliate_id == second
    assert affiliates.referred_by(referred) == (second, "Bea Second")
    assert affiliates.unrefer(referred) and affiliates.referred_by(referred) is None
    assert not affiliates.unrefer(referred)


def test_archived_clients_are_read_only(pair):
    aff, referred = pair
    newcomer = new_client()
    database.execute_sql("UPDATE client SET archived = 1 WHERE id = ?", (aff,))
    for call in (lambda: affiliates.refer(aff, newcomer),
                 lambda: affiliates.record_payout(aff, amount="1"),
                 lambda: affiliates.update_commission(aff, percent="5")):
        with pytest.raises(Conflict) as refused:
            call()
        assert refused.value.field == "client"


def test_delay_days_setting(db):
    assert affiliates.delay_days() == 30
    assert affiliates.set_delay_days("0") == 0 and affiliates.delay_days() == 0
    for bad in ("-1", "3651", "x", "1.5"):
        with pytest.raises(InvalidInput) as refused:
            affiliates.set_delay_days(bad)
        assert refused.value.field == "delay_days"


# --------------------------------------------------------------------------- merge (C8)

def _move_client_columns(source_id: int, into_id: int) -> None:
    """What the merge's generic move does to the affiliate tables."""
    for table in ("affiliate", "affiliate_referral", "affiliate_commission"):
        database.execute_sql(f"UPDATE {table} SET client_id = ? WHERE client_id = ?",
                             (into_id, source_id))


def _merge(source_id: int, into_id: int) -> list[str]:
    with database.atomic():
        notes = affiliates.resolve_merge(source_id, into_id)
        _move_client_columns(source_id, into_id)
        database.execute_sql("DELETE FROM client WHERE id = ?", (source_id,))
        return notes + affiliates.after_merge(source_id, into_id)


def test_merge_keeps_the_affiliate_under_the_kept_clients_id(pair):
    aff, referred = pair
    pay(invoice(referred, "40.00"), D(2026, 1, 1))
    with at(D(2026, 3, 1)):
        affiliates.record_payout(aff, amount="1.00")
    kept = new_client(first_name="Kept")
    notes = _merge(aff, kept)
    assert notes == [f"affiliate #{aff} is now affiliate #{kept}"]
    assert [a.id for a in Affiliate.select()] == [kept]
    assert affiliates.referred_by(referred)[0] == kept
    s = affiliates.summary(kept, D(2026, 3, 1))
    assert (str(s.payable), str(s.paid_out), s.signups) == ("4.00", "1.00", 1)
    assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []


def test_merge_of_two_affiliates_and_two_referred_clients(pair):
    aff, referred = pair
    other = new_client(first_name="Other")
    affiliates.activate(other, percent="5")
    theirs = new_client()
    affiliates.refer(other, theirs)
    pay(invoice(theirs, "100.00"), D(2026, 1, 1))
    # the referred client is merged into one referred by another affiliate
    notes = _merge(referred, theirs)
    assert any("dropped" in n for n in notes)
    assert affiliates.referred_by(theirs)[0] == other
    # the two affiliates merged: everything joins the kept one
    notes = _merge(other, aff)
    assert [a.id for a in Affiliate.select()] == [aff]
    assert AffiliateReferral.select().where(AffiliateReferral.affiliate == aff).count() == 1
    assert commissions(aff)[0][1] == "5.00"
    # an affiliate merged with the client it referred: no self-referral
    newcomer = new_client()
    affiliates.refer(aff, newcomer)
    _merge(newcomer, aff)
    assert AffiliateReferral.select().where(AffiliateReferral.client == aff).count() == 0
    assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    assert AffiliatePayout.select().count() == 0


# --------------------------------------------------------------------------- property

cents = st.integers(min_value=1, max_value=500_000)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(percent=st.integers(min_value=1, max_value=10_000), rate=st.sampled_from(["1", "0.8", "1.37", "150"]),
       bills=st.lists(st.tuples(cents, st.sampled_from(["pay", "credit", "funds", "open"])),
                      min_size=1, max_size=8))
def test_commissions_sum_to_the_expected_total(percent, rate, bills):
    with tempfile.TemporaryDirectory() as folder:
        init_db(Path(folder) / "book.sqlite3")
        try:
            billing_settings.set_currency_rate("EUR", rate)
            aff = new_client("USD", "US")
            referred = new_client("EUR", "DE")
            pct = Decimal(percent).scaleb(-2)
            affiliates.activate(aff, percent=str(pct))
            affiliates.refer(aff, referred)
            expected = Decimal(0)
            for n, (units, how) in enumerate(bills):
                amount = Decimal(units).scaleb(-2)
                day = D(2026, 1, 1) + dt.timedelta(days=n)
                if how == "funds":
                    pay(invoicing.create_add_funds(referred, str(amount)), day)
                    continue
                bill = invoice(referred, str(amount), day=day)
                if how == "open":
                    continue
                if how == "credit":
                    credit.add_credit(referred, str(amount), "Top-up", date=day)
                    with at(day):
                        invoicing.apply_credit(bill, when=day)
                else:
                    pay(bill, day)
                expected += (amount * pct / 100 / Decimal(rate)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP)
            s = affiliates.summary(aff, D(2030, 1, 1))
            assert s.payable.amount == expected
            assert len(s.commissions) == sum(how in ("pay", "credit") for _u, how in bills)
            assert s.pending == Money.zero("USD")
        finally:
            close_database()


def test_a_real_merge_moves_the_affiliate_account(pair):
    from billdesk.services import lifecycle

    aff, referred = pair
    pay(invoice(referred, "40.00"), D(2026, 1, 1))
    kept = new_client(first_name="Kept")
    other = new_client(first_name="Other")
    affiliates.activate(other, percent="5")
    affiliates.refer(other, kept)
    lifecycle.merge_clients(aff, kept)  # the affiliate merged into a client another referred
    assert [a.id for a in Affiliate.select().order_by(Affiliate.id)] == [kept, other]
    assert affiliates.referred_by(referred)[0] == kept
    assert affiliates.referred_by(kept)[0] == other  # the kept client's own referral stays
    s = affiliates.summary(kept, D(2026, 3, 1))
    assert (str(s.payable), s.signups) == ("4.00", 1)
    assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
