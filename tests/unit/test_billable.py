"""Billable items (B3): adding them, and how generation of due invoices
picks them up for each invoice action (acceptance 3), on a real SQLite file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billdesk.errors import InvalidInput, NotFound, ValidationFailed
from billdesk.models import BillableItem, Invoice, database
from billdesk.money import Money
from billdesk.services import (
    billable,
    billing_run,
    billing_settings,
    changelog,
    clients,
    credit,
    invoicing,
    subscriptions,
)

from billing_helpers import check_invariants, dump, m, new_client

D = dt.date
DAY = D(2026, 1, 20)  # lead days 14 → due up to 3 Feb


@pytest.fixture
def client(db) -> int:  # noqa: ANN001
    return new_client()


def invoices_of(client_id: int) -> list[invoicing.InvoiceRecord]:
    return [invoicing.get_invoice(i) for (i,) in Invoice.select(Invoice.id)
            .where(Invoice.client == client_id).order_by(Invoice.id).tuples()]


def item_lines(client_id: int) -> list[tuple[dt.date, int | None, Money]]:
    """(invoice date, billable item id, amount) of every Item line."""
    return [(inv.date, ln.link_id, ln.amount) for inv in invoices_of(client_id)
            for ln in inv.lines if ln.type == "Item"]


def problems(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


# --- adding, refusing

def test_hours_times_rate_rounds_half_up(client: int) -> None:
    item = billable.get_item(billable.add_item(client, description="Consulting", hours="1.5",
                                               rate="33.33"))
    assert item.amount == m("50.00")  # 49.995 → 50.00
    assert (item.hours, item.rate, item.action) == (Decimal("1.5"), m("33.33"), "none")
    same = billable.add_item(client, description="Again", hours="1.5", rate="33.33", amount="50.00")
    assert billable.get_item(same).amount == m("50.00")


@settings(max_examples=60, deadline=None)
@given(hours=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4),
       rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2))
def test_times_rate_is_exact_product_rounded_once(hours: Decimal, rate: Decimal) -> None:
    got = billable.times_rate(hours, Money.of(rate, "GBP"))
    exact = hours * rate
    assert abs(got.amount - exact) <= Decimal("0.005")
    assert got.amount == exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_refusals_name_every_field_and_write_nothing(client: int) -> None:
    before = dump()
    with pytest.raises(ValidationFailed) as exc:
        billable.add_item(client, description=" ", hours="2", rate="10", amount="25",
                          action="due")
    assert set(problems(exc)) == {"description", "amount", "due"}
    assert "hours × rate = 20.00" in problems(exc)["amount"]
    with pytest.raises(ValidationFailed) as exc:
        billable.add_item(client, description="X", hours="2", action="recur", every="0",
                          unit="fortnight")
    assert set(problems(exc)) == {"rate", "every", "unit", "count"}
    with pytest.raises(ValidationFailed) as exc:
        billable.add_item(client, description="X", amount="-1", every="2", count="3")
    assert set(problems(exc)) == {"amount", "every", "count"}
    with pytest.raises(TypeError):  # a float is a bug, as everywhere in billdesk
        billable.add_item(client, description="X", amount=0.5)
    with pytest.raises(ValidationFailed) as exc:
        billable.add_item(client, description="X")
    assert set(problems(exc)) == {"amount"}
    with pytest.raises(NotFound):
        billable.add_item(99999, description="X", amount="1")
    assert dump() == before


def test_edit_delete_and_log(client: int) -> None:
    item_id = billable.add_item(client, description="Setup work", amount="40")
    item = billable.edit_item(item_id, action="due", due_date="2026-01-25", hours="3", rate="15")
    assert (item.amount, item.action, item.due_date) == (m("45.00"), "due", D(2026, 1, 25))
    item = billable.edit_item(item_id, amount="30")
    assert (item.amount, item.hours, item.rate) == (m("30.00"), None, None)
    with pytest.raises(InvalidInput):
        billable.edit_item(item_id, invoiced=3)
    billable.delete_item(item_id)
    with pytest.raises(NotFound):
        billable.get_item(item_id)
    log = [e.describe() for e in changelog.entries(client)]
    assert any("Billable item Setup work" in text and "deleted" in text for text in log)
    assert any("amount" in text and "45.00" in text for text in log)


# --- acceptance 3: each action is invoiced exactly when it should be

def test_each_action_is_invoiced_exactly_when_it_should_be(client: int) -> None:
    none = billable.add_item(client, description="Not billed", amount="1.00")
    nxt = billable.add_item(client, description="Next run", amount="2.00", action="next")
    due = billable.add_item(client, description="On due date", amount="3.00", action="due",
                            due_date="2026-02-10")
    recur = billable.add_item(client, description="Support", amount="4.00", action="recur",
                              due_date="2026-01-25", every=1, unit="month", count=3)
    assert [i.id for i in billable.queued(client)] == [nxt, recur, due]
    billed: dict[int, list[dt.date]] = {}
    day = DAY
    while day <= D(2026, 6, 30):
        billing_run.generate_due(today=day)
        assert not billing_run.generate_due(today=day)  # never twice on one day
        day += dt.timedelta(days=1)
    for date, link, _amount in item_lines(client):
        billed.setdefault(link, []).append(date)
    assert none not in billed
    assert billed[nxt] == [DAY]  # the next run
    assert billed[due] == [D(2026, 1, 27)]  # 10 Feb − 14 lead days
    # recur: due 25 Jan (already inside the lead days), 25 Feb, 25 Mar; then it stops
    assert billed[recur] == [DAY, D(2026, 2, 11), D(2026, 3, 11)]
    rec = billable.get_item(recur)
    assert (rec.invoiced, rec.due_date, rec.waiting) == (3, D(2026, 4, 25), False)
    assert billable.get_item(nxt).invoiced == 1 and billable.get_item(none).invoiced == 0
    assert billable.queued(client) == []
    check_invariants(client)


def test_bills_are_item_lines_with_due_dates_and_join_the_renewal_invoice(client: int) -> None:
    subscriptions.add_service(client, name="Hosting", cycle="monthly", amount="10.00",
                              next_due="2026-01-31", signup_date="2026-01-01")
    joined = billable.add_item(client, description="Extra disk", amount="5.00", action="due",
                               due_date="2026-01-31", taxed=True)
    own = billable.add_item(client, description="Hours", hours="2", rate="12.50", action="next")
    made = billing_run.generate_due(client_id=client, today=DAY)
    assert sorted(made.billed_items) == sorted([joined, own])
    assert made.recurring_ids == []
    by_due = {inv.due_date: inv for inv in invoices_of(client)}
    assert set(by_due) == {D(2026, 1, 31), DAY}
    renewal = by_due[D(2026, 1, 31)]
    assert [(ln.type, ln.link_id, ln.due_date) for ln in renewal.lines][1:] == [
        ("Item", joined, None)]
    hours = by_due[DAY]
    assert [(ln.description, ln.amount, ln.type, ln.link_id) for ln in hours.lines] == [
        ("Hours (2 h × 12.50)", m("25.00"), "Item", own)]
    assert billable.get_item(own).invoice_id == hours.id
    assert set(made.invoice_ids) == {renewal.id, hours.id}
    check_invariants(client)


def test_separate_invoices_and_payment_method(client: int) -> None:
    billing_settings.set_payment_methods(["Bank transfer", "Card"])
    clients.update_client(client, {"separate_invoices": True, "payment_method": "Card"})
    for amount in ("1.00", "2.00"):
        billable.add_item(client, description=f"Item {amount}", amount=amount, action="next")
    billing_run.generate_due(today=DAY)
    got = invoices_of(client)
    assert sorted((inv.total, inv.payment_method) for inv in got) == [
        (m("1.00"), "Card"), (m("2.00"), "Card")]


def test_credit_is_taken_and_an_unrelated_client_is_untouched(client: int) -> None:
    credit.add_credit(client, "100.00", "Prepaid")
    other = new_client()
    billable.add_item(other, description="Other", amount="1.00")  # action none
    billable.add_item(client, description="Covered", amount="30.00", action="next")
    made = billing_run.generate_due(today=DAY)
    (inv,) = invoices_of(client)
    assert made.invoice_ids == [inv.id]
    assert (inv.status, inv.credit) == ("Paid", m("30.00"))
    assert invoices_of(other) == []
    check_invariants(client)


def test_daily_recurrence_inside_the_lead_days_bills_each_date_once(client: int) -> None:
    item = billable.add_item(client, description="Daily check", amount="1.00", action="recur",
                             due_date="2026-01-20", every=1, unit="day", count=20)
    first = billing_run.generate_due(today=DAY)
    # 20 Jan … 3 Feb are within the lead days: 15 bills, each on its due date's invoice
    assert len(first.billed_items) == 15
    assert not billing_run.generate_due(today=DAY)
    assert len(billing_run.generate_due(today=DAY + dt.timedelta(days=1)).billed_items) == 1
    for _ in range(10):
        billing_run.generate_due(today=D(2026, 3, 1))
    assert billable.get_item(item).invoiced == 20
    assert len(item_lines(client)) == 20


def test_a_monthly_item_from_the_31st_keeps_its_day_after_a_short_month(client: int) -> None:
    item = billable.add_item(client, description="Retainer", amount="5.00", action="recur",
                             due_date="2026-01-31", every=1, unit="month", count=4)
    day = D(2026, 1, 17)  # 31 Jan within the 14 lead days from here
    while day <= D(2026, 5, 31):
        billing_run.generate_due(today=day)
        day += dt.timedelta(days=1)
    billed = [line[0] for line in item_lines(client) if line[1] == item]
    # billed as each date enters the lead days: 31 Jan, 28 Feb, 31 Mar, 30 Apr
    assert billed == [D(2026, 1, 17), D(2026, 2, 14), D(2026, 3, 17), D(2026, 4, 16)]
    assert [ln.description for inv in invoices_of(client) for ln in inv.lines] == [
        f"Retainer ({when})" for when in ("Jan 31, 2026", "Feb 28, 2026", "Mar 31, 2026",
                                         "Apr 30, 2026")]
    # a due date typed anew takes its own day
    billable.edit_item(item, count=6, due_date="2026-06-30")
    assert BillableItem.get_by_id(item).due_day == 30


def test_weeks_years_and_month_end_steps() -> None:
    assert billable.step(D(2026, 1, 31), 2, "week") == D(2026, 2, 14)
    assert billable.step(D(2024, 2, 29), 1, "year") == D(2025, 2, 28)
    assert billable.step(D(2026, 1, 31), 1, "month") == D(2026, 2, 28)
    assert billable.step(D(2026, 1, 31), 3, "month") == D(2026, 4, 30)
    assert billable.step(D(2026, 2, 28), 1, "month", 31) == D(2026, 3, 31)


def test_one_transaction_with_generation(client: int, monkeypatch: pytest.MonkeyPatch) -> None:
    billable.add_item(client, description="Next", amount="2.00", action="next")
    before = dump()

    def boom(*_args, **_kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("disk full")

    monkeypatch.setattr(billing_run._Plan, "record", boom)
    with pytest.raises(RuntimeError):
        billing_run.generate_due(today=DAY)
    assert dump() == before
    assert database.obj.in_transaction() is False
    assert BillableItem.get().invoiced == 0
