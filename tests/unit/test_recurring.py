"""Recurring invoices (B5): templates, and their issue by the generation
of due invoices day by day (acceptance 5), on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite3 import IntegrityError

from billdesk.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from billdesk.models import Invoice, RecurringInvoice, database
from billdesk.services import billing_run, billing_settings, clients, invoicing, recurring

from billing_helpers import check_invariants, dump, m, new_client

D = dt.date


@pytest.fixture
def client(db) -> int:  # noqa: ANN001
    return new_client()


def issued_invoices(rid: int) -> list[invoicing.InvoiceRecord]:
    return [invoicing.get_invoice(i) for (i,) in Invoice.select(Invoice.id)
            .where(Invoice.recurring == rid).order_by(Invoice.id).tuples()]


def run_days(first: dt.date, last: dt.date) -> list[int]:
    """Generation called once a day (twice, to show the second makes nothing)."""
    made: list[int] = []
    day = first
    while day <= last:
        made += billing_run.generate_due(today=day).recurring_ids
        assert not billing_run.generate_due(today=day)
        day += dt.timedelta(days=1)
    return made


def test_template_is_checked_and_refusals_write_nothing(client: int) -> None:
    before = dump()
    with pytest.raises(ValidationFailed) as exc:
        recurring.add_recurring(client, [("", "abc")], every=0, unit="week",
                                start_date="2026-13-01",
                                count=2, until="2026-12-31", due_days=-1, payment_method="Gold")
    fields = {p.field for p in exc.value.problems}
    assert fields == {"lines[1].description", "lines[1].amount", "every", "unit", "start",
                      "count", "due_days", "payment_method"}
    with pytest.raises(ValidationFailed) as exc:
        recurring.add_recurring(client, [], start_date="2026-01-01")
    assert {p.field for p in exc.value.problems} == {"item"}
    with pytest.raises(ValidationFailed) as exc:
        recurring.add_recurring(client, [("A", "5"), ("Discount", "-10")], start_date="2026-01-01",
                                until="2025-12-31")
    assert {p.field for p in exc.value.problems} == {"item", "until"}
    with pytest.raises(NotFound):
        recurring.add_recurring(424242, [("A", "5")], start_date="2026-01-01")
    assert dump() == before


def test_thirteen_months_day_by_day_make_exactly_the_expected_invoices(client: int) -> None:
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    monthly = recurring.add_recurring(client, [("Support plan", "100.00", True), ("Licence", "5")],
                                      every=1, unit="month", start_date="2026-01-31", count=12,
                                      due_days=7)
    quarterly = recurring.add_recurring(client, [("Audit", "300")], every=3, unit="month",
                                        start_date="2026-02-15", until="2026-12-31")
    yearly = recurring.add_recurring(client, [("Retainer", "1000")], every=1, unit="year",
                                     start_date="2026-03-01")
    made = run_days(D(2026, 1, 1), D(2027, 1, 31))
    dates = {rid: [inv.date for inv in issued_invoices(rid)]
             for rid in (monthly, quarterly, yearly)}
    assert dates[monthly] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30),
                              D(2026, 5, 31), D(2026, 6, 30), D(2026, 7, 31), D(2026, 8, 31),
                              D(2026, 9, 30), D(2026, 10, 31), D(2026, 11, 30), D(2026, 12, 31)]
    assert dates[quarterly] == [D(2026, 2, 15), D(2026, 5, 15), D(2026, 8, 15), D(2026, 11, 15)]
    assert dates[yearly] == [D(2026, 3, 1)]
    assert sorted(made) == sorted(i.id for rid in dates for i in issued_invoices(rid))
    first = issued_invoices(monthly)[0]
    assert (first.due_date, first.subtotal, first.tax, first.total, first.status) == (
        D(2026, 2, 7), m("105.00"), m("20.00"), m("125.00"), "Unpaid")
    assert [(ln.description, ln.amount, ln.taxed, ln.type) for ln in first.lines] == [
        ("Support plan", m("100.00"), True, ""), ("Licence", m("5.00"), False, "")]
    states = {r.id: (r.status, r.issued, r.next_date) for r in recurring.list_recurring(client)}
    assert states == {monthly: ("Finished", 12, None), quarterly: ("Finished", 4, None),
                      yearly: ("Active", 1, D(2027, 3, 1))}
    assert [r.id for r in recurring.active(client)] == [yearly]
    check_invariants(client)


def test_issued_on_its_date_not_ahead_and_missed_dates_are_caught_up(client: int) -> None:
    rid = recurring.add_recurring(client, [("Plan", "10")], every=1, unit="month",
                                  start_date="2026-01-10", count=5)
    assert not billing_run.generate_due(today="2026-01-09")  # the lead days do not apply
    made = billing_run.generate_due(client_id=client, today="2026-03-15")
    assert [invoicing.get_invoice(i).date for i in made.recurring_ids] == [
        D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10)]
    assert recurring.get_recurring(rid).next_date == D(2026, 4, 10)
    assert not billing_run.generate_due(client_id=client, today="2026-03-15")


def test_never_twice_for_one_date(client: int) -> None:
    rid = recurring.add_recurring(client, [("Plan", "10")], start_date="2026-01-10")
    billing_run.generate_due(today="2026-01-10")
    inv = issued_invoices(rid)[0]
    assert (inv.date, Invoice.get_by_id(inv.id).recurring_date) == (D(2026, 1, 10),
                                                                     D(2026, 1, 10))
    # Even if the template were set back by hand, the unique index refuses a second issue.
    RecurringInvoice.update(next_date=D(2026, 1, 10), issued=0).where(
        RecurringInvoice.id == rid).execute()
    before = dump()
    with pytest.raises(IntegrityError):
        billing_run.generate_due(today="2026-01-10")
    assert dump() == before


_RACE = """
import sys
from billdesk.models import init_db
from billdesk.services import billing_run
init_db(sys.argv[1])
print(len(billing_run.generate_due(today="2026-06-30")))
"""


def test_two_processes_at_once_issue_each_date_once(db_path: Path, client: int) -> None:
    for _ in range(10):
        other = new_client()
        recurring.add_recurring(other, [("Plan", "10")], start_date="2026-01-05", count=4)
    database.close()
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, str(db_path)], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    counts = [int(p.communicate(timeout=120)[0]) for p in procs]
    database.connect()
    assert sum(counts) == 40 and Invoice.select().count() == 40


def test_edit_stop_delete(client: int) -> None:
    rid = recurring.add_recurring(client, [("Plan", "10")], start_date="2026-01-31", count=3)
    billing_run.generate_due(today="2026-01-31")
    with pytest.raises(Conflict):
        recurring.edit_recurring(rid, start_date="2026-02-01")
    with pytest.raises(InvalidInput):
        recurring.edit_recurring(rid, count=0)
    # the schedule is fixed once issued: a new step would bill periods twice or skip them
    before = dump()
    for change in ({"every": 2}, {"unit": "year"}):
        with pytest.raises(Conflict) as err:
            recurring.edit_recurring(rid, **change)
        assert err.value.field in change and "stop this recurring invoice" in err.value.message
    assert dump() == before
    rec = recurring.edit_recurring(rid, lines=[("Plan", "12"), ("Extra", "1")], count=None,
                                   until="2026-12-31")
    assert (rec.next_date, rec.total, rec.status) == (D(2026, 2, 28), m("13.00"), "Active")
    rec = recurring.stop_recurring(rid)
    assert (rec.status, rec.next_date) == ("Stopped", None)
    assert not billing_run.generate_due(today="2026-04-30")
    with pytest.raises(Conflict):
        recurring.stop_recurring(rid)
    issued = issued_invoices(rid)
    recurring.delete_recurring(rid)
    assert Invoice.get_by_id(issued[0].id).recurring is None  # the invoice stays
    with pytest.raises(NotFound):
        recurring.get_recurring(rid)


def test_client_method_and_separate_setting(client: int) -> None:
    billing_settings.set_payment_methods(["Bank transfer", "Card"])
    clients.update_client(client, {"payment_method": "Card"})
    own = recurring.add_recurring(client, [("A", "1")], start_date="2026-01-01",
                                  payment_method="Bank transfer")
    default = recurring.add_recurring(client, [("B", "2")], start_date="2026-01-01")
    billing_run.generate_due(today="2026-01-01")
    assert issued_invoices(own)[0].payment_method == "Bank transfer"
    assert issued_invoices(default)[0].payment_method == "Card"
