"""Generating due invoices (S4), invoicing selected items (B2) and the
prorata invoice of a mass update (S5), on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from billdesk.errors import Conflict, InvalidInput, ValidationFailed
from billdesk.models import Client, Invoice, InvoiceLine, Service, database
from billdesk.services import (
    billing_run,
    billing_settings,
    clients,
    credit,
    groups,
    invoicing,
    mail,
    payments,
    service_groups,
    subscriptions,
)

from billing_helpers import check_invariants, dump, m, new_client

D = dt.date
DAY = "2026-01-20"  # generation day; lead days 14 → due up to 3 Feb


@pytest.fixture
def client(db) -> int:  # noqa: ANN001
    return new_client()


def service(client_id: int, amount: str = "10.00", due: str = "2026-01-31", **extra) -> int:
    values = {"name": "Web Hosting", "cycle": "monthly", "amount": amount, "next_due": due,
              "signup_date": due}
    values.update(extra)
    return subscriptions.add_service(client_id, **values)


def invoices_of(client_id: int) -> list[invoicing.InvoiceRecord]:
    return [invoicing.get_invoice(i) for (i,) in Invoice.select(Invoice.id)
            .where(Invoice.client == client_id).order_by(Invoice.id).tuples()]


def next_due(service_id: int) -> dt.date:
    return Service.get_by_id(service_id).next_due


def test_due_items_are_invoiced_once_with_their_period(client: int) -> None:
    s1 = service(client, "10.00", label="example.com")
    s2 = service(client, "2.50", name="Mailboxes")
    later = service(client, "7.00", due="2026-02-04")  # outside the 14 lead days
    made = billing_run.generate_due(today=DAY)
    assert len(made) == 1
    inv = invoicing.get_invoice(made.invoice_ids[0])
    assert (inv.status, inv.date, inv.due_date, inv.total) == ("Unpaid", D(2026, 1, 20),
                                                               D(2026, 1, 31), m("12.50"))
    assert [(ln.description, ln.amount, ln.type, ln.link_id, ln.due_date) for ln in inv.lines] == [
        ("Web Hosting - example.com (Jan 31, 2026 - Feb 27, 2026)", m("10.00"), "Hosting", s1,
         D(2026, 1, 31)),
        ("Mailboxes (Jan 31, 2026 - Feb 27, 2026)", m("2.50"), "Hosting", s2, D(2026, 1, 31))]
    assert inv.number == "INV-2026-00001"
    # Twice for the same date, or a day later: nothing new.
    before = dump()
    assert not billing_run.generate_due(today=DAY)
    assert dump() == before
    assert next_due(later) == D(2026, 2, 4)
    # The next day the third one falls inside the lead days; only it is new.
    (third,) = billing_run.generate_due(today="2026-01-21", client_id=client).invoice_ids
    assert [ln.link_id for ln in invoicing.get_invoice(third).lines] == [later]
    assert not billing_run.generate_due(today="2026-01-21", client_id=client)
    check_invariants(client)


def test_grouped_by_due_date_and_payment_method(client: int) -> None:
    service(client, "1.00", payment_method="Card")
    service(client, "2.00", payment_method="Card")
    service(client, "3.00", payment_method="PayPal")
    service(client, "4.00", due="2026-02-01", payment_method="Card")
    made = billing_run.generate_due(today=DAY)
    got = sorted((inv.due_date, inv.payment_method, inv.total) for inv in invoices_of(client))
    assert len(made) == 3
    assert got == [(D(2026, 1, 31), "Card", m("3.00")), (D(2026, 1, 31), "PayPal", m("3.00")),
                   (D(2026, 2, 1), "Card", m("4.00"))]


def test_separate_invoices_for_the_client(client: int) -> None:
    clients.update_client(client, {"separate_invoices": True})
    for amount in ("1.00", "2.00", "3.00"):
        service(client, amount)
    assert len(billing_run.generate_due(today=DAY)) == 3
    assert sorted(inv.total for inv in invoices_of(client)) == [m("1.00"), m("2.00"), m("3.00")]


def test_separate_invoices_from_the_clients_group(client: int) -> None:
    group = groups.add_group("Resellers", discount="0", separate_invoices=True)
    clients.update_client(client, {"group_id": group})
    service(client, "1.00")
    service(client, "2.00")
    other = new_client()
    service(other, "1.00")
    service(other, "2.00")
    billing_run.generate_due(today=DAY)
    assert len(invoices_of(client)) == 2
    assert len(invoices_of(other)) == 1  # not in the group: one invoice


def test_paying_moves_the_next_due_date_on_by_exactly_one_cycle(client: int) -> None:
    monthly = service(client, "10.00", due="2026-01-31")
    yearly = service(client, "100.00", due="2026-01-31", cycle="annually", name="Domain pack")
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    payments.add_payment(inv.id, "50.00")  # part: nothing moves
    assert next_due(monthly) == D(2026, 1, 31)
    payments.add_payment(inv.id, "60.00")
    assert (next_due(monthly), next_due(yearly)) == (D(2026, 2, 28), D(2027, 1, 31))
    # The month after: 31 Jan → 28 Feb → 31 Mar (the due day is kept).
    inv2 = invoicing.get_invoice(billing_run.generate_due(today="2026-02-20").invoice_ids[0])
    assert inv2.lines[0].due_date == D(2026, 2, 28)
    assert inv2.lines[0].description == "Web Hosting (Feb 28, 2026 - Mar 30, 2026)"
    payments.mark_paid(inv2.id)
    assert next_due(monthly) == D(2026, 3, 31)
    assert next_due(yearly) == D(2027, 1, 31)
    check_invariants(client)


def test_an_unpaid_renewal_holds_the_next_one_back(client: int) -> None:
    s = service(client, "10.00", due="2026-01-31")
    billing_run.generate_due(today=DAY)
    # A month on, the January invoice is still unpaid: no second invoice
    # for the same due date, and the next due date has not moved.
    assert not billing_run.generate_due(today="2026-02-25")
    assert next_due(s) == D(2026, 1, 31)


def test_group_discount_and_default_payment_method_on_the_invoice(client: int) -> None:
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    gold = groups.add_group("Gold", discount="10", separate_invoices=False)
    clients.update_client(client, {"group_id": gold, "payment_method": "PayPal"})
    service(client, "10.00", taxed=True)
    service(client, "5.00", name="Backups", taxed=False)
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    assert inv.payment_method == "PayPal"
    discounts = [(ln.description, ln.amount, ln.taxed) for ln in inv.lines
                 if ln.type == "GroupDiscount"]
    assert discounts == [("Client group discount (Gold 10%)", m("-1.00"), True),
                         ("Client group discount (Gold 10%)", m("-0.50"), False)]
    # 10.00 + 5.00 − 1.50 = 13.50; VAT 20 % of the taxed 9.00 = 1.80
    assert (inv.subtotal, inv.tax, inv.total) == (m("13.50"), m("1.80"), m("15.30"))
    check_invariants(client)


def test_not_billed_statuses_cycles_and_free_items(client: int) -> None:
    service(client, "10.00", status="Pending")
    service(client, "10.00", status="Cancelled")
    service(client, "10.00", status="Terminated")
    subscriptions.add_service(client, name="Free DNS", cycle="free")
    subscriptions.add_service(client, name="Setup", cycle="onetime", amount="50.00",
                              next_due="2026-01-25")
    subscriptions.add_domain(client, "example.org", amount="12.00", next_due="2026-01-31",
                             status="Expired")
    zero = service(client, "0.00", name="Included mailbox")
    result = billing_run.generate_due(today=DAY)
    assert result.invoice_ids == []
    assert result.advanced == [zero]  # nothing to invoice: the due date moves on
    assert next_due(zero) == D(2026, 2, 28)
    suspended = service(client, "10.00", status="Suspended")
    domain = subscriptions.add_domain(client, "example.com", amount="12.00",
                                      next_due="2026-01-31")
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    assert {ln.link_id for ln in inv.lines} == {suspended, domain}
    assert any(ln.description.startswith("Domain renewal - example.com - 1 year (")
               for ln in inv.lines)


def test_new_invoices_take_the_clients_credit(client: int) -> None:
    covered = new_client()
    credit.add_credit(client, "5.00", "Goodwill")
    credit.add_credit(covered, "20.00", "Prepaid")
    partly = service(client, "12.50")
    whole = service(covered, "12.50")
    billing_run.generate_due(today=DAY)
    (inv,) = invoices_of(client)
    assert (inv.status, inv.credit, inv.balance) == ("Unpaid", m("5.00"), m("7.50"))
    (paid,) = invoices_of(covered)
    assert (paid.status, paid.credit, paid.balance) == ("Paid", m("12.50"), m("0.00"))
    assert credit.balance(covered) == m("7.50") and credit.balance(client) == m("0.00")
    assert next_due(whole) == D(2026, 2, 28) and next_due(partly) == D(2026, 1, 31)
    check_invariants(client)
    check_invariants(covered)


def test_service_groups_head_their_lines(client: int) -> None:
    web = service_groups.create_group(client, "Shop websites")
    hidden = service_groups.create_group(client, "Internal", hide_on_invoice=True)
    loose = service(client, "1.00", name="Loose")
    a = service(client, "2.00", name="Shop A")
    b = service(client, "3.00", name="Internal tools")
    service_groups.move_services([a], web)
    service_groups.move_services([b], hidden)
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    assert [(ln.link_id, ln.group) for ln in inv.lines] == [(loose, ""), (a, "Shop websites"),
                                                            (b, "")]


def test_the_period_follows_the_clients_language(db) -> None:  # noqa: ANN001
    german = new_client(currency="EUR", country="DE", language="de")
    service(german, "10.00")
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    assert inv.lines[0].description == "Web Hosting (31.01.2026 - 27.02.2026)"


def test_editing_a_generated_invoice_keeps_what_it_renews(client: int) -> None:
    s = service(client, "10.00")
    inv = invoicing.get_invoice(billing_run.generate_due(today=DAY).invoice_ids[0])
    lines = [ln.as_input() for ln in inv.lines] + [invoicing.LineInput("Extra work", "5.00")]
    invoicing.update_invoice(inv.id, lines)
    assert not billing_run.generate_due(today=DAY)
    payments.mark_paid(inv.id)
    assert next_due(s) == D(2026, 2, 28)


def test_invoice_selected_items(client: int) -> None:
    a = service(client, "10.00", due="2026-06-30")  # far ahead: invoiced early on request
    b = service(client, "5.00", due="2026-06-30")
    clients.update_client(client, {"separate_invoices": True})  # not applied here (WHMCS)
    made = billing_run.invoice_selected([a, b], today=DAY)
    (inv,) = [invoicing.get_invoice(i) for i in made.invoice_ids]
    assert (inv.total, inv.due_date, {ln.link_id for ln in inv.lines}) == (
        m("15.00"), D(2026, 6, 30), {a, b})
    assert mail.pending_count() == 0  # the invoice's email written, as generate_due's
    before = dump()
    with pytest.raises(Conflict) as err:
        billing_run.invoice_selected([a], today=DAY)
    assert err.value.field == "items" and "already invoiced" in err.value.message
    assert dump() == before
    # The daily generation does not bill them again either.
    assert not billing_run.generate_due(today="2026-06-25")


def test_invoice_selected_refusals_write_nothing(client: int) -> None:
    other = new_client()
    mine = service(client)
    theirs = service(other)
    free = subscriptions.add_service(client, name="Free", cycle="free")
    cancelled = service(client, name="Gone")
    subscriptions.edit_service(cancelled, status="Cancelled")
    before = dump()
    with pytest.raises(Conflict) as err:
        billing_run.invoice_selected([mine, cancelled], today=DAY)
    assert err.value.message == (f"Gone (#{cancelled}) is Cancelled: only active or suspended "
                                 "services are invoiced")
    for ids, field in (([], "items"), ([mine, theirs], "items"), ([free], "items"),
                       ([999_999], "items")):
        with pytest.raises(Exception) as err:  # noqa: PT011 - each is a BilldeskError
            billing_run.invoice_selected(ids, today=DAY)
        assert err.value.field == field
    assert dump() == before


# --- S5: mass update with a prorata invoice (positive, zero, negative)

def test_mass_update_prorata_positive_total_makes_one_invoice(client: int) -> None:
    a = service(client, "10.00", due="2026-03-01", name="Site A")  # Feb: 28 days
    b = service(client, "31.00", due="2026-04-01", name="Site B")  # Mar: 31 days
    result = subscriptions.mass_update([a, b], next_due="2026-04-15", prorata=True)
    assert result.updated == [a, b]
    inv = invoicing.get_invoice(result.invoice_id)
    # A: 10.00 × 45/28 = 16.07; B: 31.00 × 14/31 = 14.00
    assert [(ln.link_id, ln.amount) for ln in inv.lines] == [(a, m("16.07")), (b, m("14.00"))]
    assert inv.total == m("30.07") and inv.status == "Unpaid"
    assert all(ln.due_date is None for ln in inv.lines)  # prorata lines renew nothing
    assert next_due(a) == next_due(b) == D(2026, 4, 15)
    check_invariants(client)


def test_mass_update_prorata_zero_total_makes_no_invoice(client: int) -> None:
    a = service(client, "28.00", due="2026-03-01", name="Forward")  # Feb 28 days: +7 → +7.00
    b = service(client, "30.00", due="2026-05-15", name="Back")  # Apr15–May15 30 days
    subscriptions.mass_update([b], next_due="2026-03-08")
    # b moved by hand first (no prorata); now both to 8 Mar with prorata:
    # a: +7/28 × 28.00 = +7.00; b: 8 Mar → 8 Mar: 0 → total 7.00 > 0
    result = subscriptions.mass_update([a, b], next_due="2026-03-08", prorata=True)
    inv = invoicing.get_invoice(result.invoice_id)
    assert inv.total == m("7.00") and [ln.link_id for ln in inv.lines] == [a]
    # Now the zero case proper: +7.00 and −7.00 in one update.
    c = service(client, "28.00", due="2027-03-01", name="C")  # Feb 2027: 28 days
    d = service(client, "28.00", due="2027-03-15", name="D")  # 15 Feb–15 Mar: 28 days
    before = Invoice.select().count()
    result = subscriptions.mass_update([c, d], next_due="2027-03-08", prorata=True)
    assert result.invoice_id is None and Invoice.select().count() == before
    assert next_due(c) == next_due(d) == D(2027, 3, 8)


def test_mass_update_prorata_negative_total_makes_no_invoice_and_no_credit(client: int) -> None:
    a = service(client, "10.00", due="2026-03-31", name="Back")
    before_credit = credit.balance(client)
    result = subscriptions.mass_update([a], next_due="2026-03-01", prorata=True)
    assert result.invoice_id is None and Invoice.select().count() == 0
    assert credit.balance(client) == before_credit
    assert next_due(a) == D(2026, 3, 1)


# --- what a review found: ids, cancelled and late invoices, moved dates

def test_a_deleted_items_id_is_never_handed_out_again(client: int) -> None:
    old = service(client, "10.00")
    billing_run.generate_due(today=DAY)
    subscriptions.delete_services([old])
    new = service(client, "20.00")
    assert new > old  # AUTOINCREMENT: the old invoice line cannot claim the new item
    (inv,) = billing_run.generate_due(today=DAY).invoice_ids
    assert [ln.link_id for ln in invoicing.get_invoice(inv).lines] == [new]


def test_cancelling_a_generated_invoice_lets_the_next_run_bill_it_again(client: int) -> None:
    s = service(client, "10.00")
    (first,) = billing_run.generate_due(today=DAY).invoice_ids
    invoicing.cancel_invoice(first)
    (second,) = billing_run.generate_due(today=DAY).invoice_ids
    assert second != first and invoicing.get_invoice(second).lines[0].due_date == D(2026, 1, 31)
    payments.mark_paid(second)
    assert next_due(s) == D(2026, 2, 28)
    check_invariants(client)


def test_moving_back_to_a_paid_due_date_is_refused_naming_the_invoice(client: int) -> None:
    s = service(client, "10.00")
    (inv,) = billing_run.generate_due(today=DAY).invoice_ids
    payments.mark_paid(inv)
    assert next_due(s) == D(2026, 2, 28)
    before = dump()
    with pytest.raises(InvalidInput) as err:
        subscriptions.edit_service(s, next_due="2026-01-31")
    number = invoicing.get_invoice(inv).number
    assert err.value.field == "next_due"
    assert number in err.value.message and "2026-02-28" in err.value.message
    assert dump() == before
    subscriptions.edit_service(s, next_due="2026-02-15")  # an unbilled date is fine
    assert next_due(s) == D(2026, 2, 15)


def test_a_late_generated_invoice_stays_editable(client: int) -> None:
    service(client, "10.00", due="2026-01-05")  # billed on the 20th: due before its date
    (inv,) = billing_run.generate_due(today=DAY).invoice_ids
    record = invoicing.get_invoice(inv)
    assert record.due_date < record.date
    lines = [ln.as_input() for ln in record.lines] + [invoicing.LineInput("Extra", "1.00")]
    assert invoicing.update_invoice(inv, lines, notes="late").total == m("11.00")
    # moving the dates still has to keep due ≥ date
    with pytest.raises(ValidationFailed):
        invoicing.update_invoice(inv, due_date="2026-01-01")


def test_prorata_credit_on_a_taxed_item_offsets_an_untaxed_charge(client: int) -> None:
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    back = service(client, "28.00", due="2027-03-15", name="Taxed", taxed=True)  # 28-day cycle
    on = service(client, "56.00", due="2027-03-01", name="Untaxed")  # Feb 2027: 28 days
    result = subscriptions.mass_update([back, on], next_due="2027-03-08", prorata=True)
    inv = invoicing.get_invoice(result.invoice_id)
    # −7 days × 1.00 on the taxed item, +7 days × 2.00 on the other: 7.00, no tax
    assert [(ln.link_id, ln.amount) for ln in inv.lines] == [(back, m("-7.00")), (on, m("14.00"))]
    assert (inv.tax, inv.total) == (m("0.00"), m("7.00"))
    check_invariants(client)


def test_a_renewed_domain_keeps_its_expiry_day(client: int) -> None:
    domain = subscriptions.add_domain(client, "example.net", amount="12.00",
                                      next_due="2026-01-31", expiry_date="2026-02-14")
    (inv,) = billing_run.generate_due(today=DAY).invoice_ids
    payments.mark_paid(inv)
    item = Service.get_by_id(domain)
    assert (item.next_due, item.expiry_date) == (D(2027, 1, 31), D(2027, 2, 14))


def test_a_long_overdue_free_item_moves_past_the_lead_days_in_one_run(client: int) -> None:
    zero = service(client, "0.00", due="2025-06-30", name="Included")
    result = billing_run.generate_due(today=DAY)
    assert result.advanced == [zero] and not result.invoice_ids
    assert next_due(zero) == D(2026, 2, 28)  # 30 Jun → … → 31 Jan ≤ 3 Feb → 28 Feb
    before = dump()
    assert not billing_run.generate_due(today=DAY).advanced
    assert dump() == before


def test_get_invoices_reads_many_as_get_invoice_does(client: int) -> None:
    for amount, method in (("1.00", "Card"), ("2.00", "PayPal"), ("3.00", "Cash")):
        service(client, amount, payment_method=method)
    ids = billing_run.generate_due(today=DAY).invoice_ids
    wanted = [ids[2], 999_999, ids[0], ids[1]]
    assert invoicing.get_invoices(wanted) == [invoicing.get_invoice(i) for i in (ids[2], ids[0],
                                                                                ids[1])]


def test_a_restarted_sequence_skips_numbers_already_taken(client: int) -> None:
    for n in range(5):
        service(client, "1.00", payment_method=("Card", "PayPal", "Cash", "Bank transfer", "")[n])
    first = billing_run.generate_due(today=DAY).invoice_ids
    assert [invoicing.get_invoice(i).number for i in first] == [
        f"INV-2026-{n:05}" for n in range(1, 6)]
    for inv in first[1:4]:  # 2, 3 and 4 are gone; 1 and 5 stay taken
        invoicing.cancel_invoice(inv)
    billing_settings.set_next_number(1)
    service(client, "2.00", due="2026-01-31", payment_method="Card")
    again = billing_run.generate_due(today=DAY).invoice_ids  # the cancelled three, and one more
    taken = {invoicing.get_invoice(i).number for i in first}
    made = [invoicing.get_invoice(i).number for i in again]
    assert len(made) == 4 and not taken & set(made)
    assert made == ["INV-2026-00006", "INV-2026-00007", "INV-2026-00008", "INV-2026-00009"]


def test_a_generated_invoice_with_nothing_to_pay_is_paid_and_renews(client: int) -> None:
    free_ride = groups.add_group("Partners", discount="100", separate_invoices=False)
    clients.update_client(client, {"group_id": free_ride})
    s = service(client, "10.00")
    (inv,) = billing_run.generate_due(today=DAY).invoice_ids
    record = invoicing.get_invoice(inv)
    assert (record.total, record.status, record.paid_date) == (m("0.00"), "Paid", D(2026, 1, 20))
    assert next_due(s) == D(2026, 2, 28)  # paid, so renewed: the same path as any payment
    assert not billing_run.generate_due(today=DAY)
    check_invariants(client)


# --- two writers at once

_RACE = """
import sys
from billdesk.models import init_db
from billdesk.services import billing_run
init_db(sys.argv[1])
print(len(billing_run.generate_due(today="2026-01-20")))
"""


def test_two_processes_generating_at_once_make_each_invoice_once(db_path: Path, client: int) -> None:
    for n in range(40):
        other = new_client()
        service(other, "1.00")
        service(other, "2.00", payment_method="Card")
    database.close()
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, str(db_path)], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    counts = sorted(int(p.communicate(timeout=120)[0]) for p in procs)
    database.connect()
    assert sum(counts) == 80 and Invoice.select().count() == 80
    renewals = InvoiceLine.select().where(InvoiceLine.due_date.is_null(False)).count()
    assert renewals == 80
    assert Client.select().count() == 41


# --- property: random holdings, random days, random payments

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from billdesk.models import close_database, init_db  # noqa: E402
from billdesk.services import cycles  # noqa: E402

holding = st.tuples(
    st.sampled_from(["monthly", "quarterly", "annually", "semiannually"]),
    st.integers(0, 5000),  # cents
    st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 4, 30)),
    st.sampled_from(["Active", "Active", "Suspended", "Cancelled"]),
    st.sampled_from(["Card", "PayPal"]),
    st.booleans(),  # taxed
)
step = st.one_of(
    st.tuples(st.just("generate"), st.integers(0, 20)),  # days forward
    st.tuples(st.just("pay"), st.integers(0, 50)),  # which open invoice
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(items=st.lists(holding, min_size=1, max_size=6), steps=st.lists(step, max_size=12),
       separate=st.booleans(), discount=st.sampled_from(["0", "10", "12.5"]))
def test_random_schedules_bill_each_due_date_once_and_advance_on_payment(
        tmp_path_factory, items, steps, separate, discount) -> None:  # noqa: ANN001
    folder = tmp_path_factory.mktemp("book")
    init_db(folder / "book.sqlite3")
    try:
        billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
        group = groups.add_group("G", discount=discount, separate_invoices=False)
        cid = new_client(group_id=group, separate_invoices=separate)
        start: dict[int, tuple[dt.date, str, int]] = {}
        for cycle, cents, due, status, method, taxed in items:
            sid = subscriptions.add_service(
                cid, name="S", cycle=cycle, amount=f"{cents / 100:.2f}", next_due=due,
                signup_date=due, status=status, payment_method=method, taxed=taxed)
            start[sid] = (due, cycle, due.day)
        today = D(2026, 1, 1)
        for kind, n in steps:
            if kind == "generate":
                today += dt.timedelta(days=n)
                billing_run.generate_due(today=today)
            else:
                open_ids = [i for (i,) in Invoice.select(Invoice.id).where(
                    Invoice.client == cid, Invoice.status == "Unpaid").tuples()]
                if open_ids:
                    payments.mark_paid(open_ids[n % len(open_ids)], date=today)
            check_invariants(cid)
        # Every renewal line bills a distinct (item, due date); each item's
        # next due date is its first one moved on once per paid renewal (or
        # per zero-amount renewal that needed no invoice).
        seen = set()
        for link, due in (InvoiceLine.select(InvoiceLine.link_id, InvoiceLine.due_date)
                          .where(InvoiceLine.due_date.is_null(False)).tuples()):
            assert (link, due) not in seen
            seen.add((link, due))
        for sid, (first, cycle, day) in start.items():
            paid = (InvoiceLine.select().join(Invoice)
                    .where(InvoiceLine.link_id == sid, InvoiceLine.due_date.is_null(False),
                           Invoice.status == "Paid").count())
            now_due = Service.get_by_id(sid).next_due
            steps_moved = 0
            when = first
            while when < now_due:
                when = cycles.next_due(when, cycle, day)
                steps_moved += 1
            assert when == now_due
            if Service.get_by_id(sid).amount:
                assert steps_moved == paid, (sid, first, now_due, paid)
    finally:
        close_database()


def _written_by(pay) -> list[str]:  # noqa: ANN001
    """The whole book as SQL text after ``pay()``, then undone."""
    with database.atomic() as txn:
        pay()
        rows = dump()
        txn.rollback()
    return rows


def test_paying_many_at_once_writes_what_paying_one_by_one_does(client: int) -> None:
    other = new_client()
    service(client, "10.00", label="example.com")
    service(client, "5.00", name="Mailboxes", due="2026-01-25")
    service(other, "12.50", cycle="quarterly")
    subscriptions.add_domain(other, "example.net", amount="12.00", next_due="2026-01-31",
                             expiry_date="2026-02-14")
    made = billing_run.generate_due(today=DAY).invoice_ids
    assert len(made) == 3
    paid = [(invoice_id, D(2026, 1, 21)) for invoice_id in made]
    before = dump()
    one_by_one = _written_by(lambda: [invoicing.set_paid(i, when, "tester") for i, when in paid])
    assert one_by_one != before
    assert _written_by(lambda: invoicing.set_paid_many(paid, "tester")) == one_by_one
    assert dump() == before
    # an invoice named twice: paid one by one, as set_paid does
    twice = [paid[0], paid[0]]
    assert (_written_by(lambda: invoicing.set_paid_many(twice, "tester"))
            == _written_by(lambda: [invoicing.set_paid(i, when, "tester") for i, when in twice]))


def test_credit_that_pays_a_late_renewal_bills_it_again_in_the_same_run(client: int) -> None:
    """An item billed late whose renewal the client's credit paid is due
    again the same day: billed again in the same run (the second pass reads
    only the clients whose new invoice became Paid); the other clients'
    invoices are untouched, and running again makes nothing."""
    covered = new_client()
    credit.add_credit(covered, "100.00", "Prepaid")
    late = service(covered, "10.00", due="2025-12-10")  # paid by credit, then due again
    plain = service(client, "10.00")
    result = billing_run.generate_due(today=DAY)
    assert next_due(late) == D(2026, 2, 10) and next_due(plain) == D(2026, 1, 31)
    assert [inv.status for inv in invoices_of(covered)] == ["Paid", "Paid"]
    assert [inv.status for inv in invoices_of(client)] == ["Unpaid"]
    assert len(result.invoice_ids) == 3 and credit.balance(covered) == m("80.00")
    before = dump()
    assert not billing_run.generate_due(today=DAY).invoice_ids
    assert dump() == before
    check_invariants(covered)
