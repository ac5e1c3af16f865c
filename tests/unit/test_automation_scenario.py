"""Acceptance 2 of issue 6: the daily run driven day by day over 120 days
(2026-01-01 .. 2026-04-30) for a handful of clients. Every invoice,
reminder, overdue notice, late fee, suspension, termination and status
change is checked against dates and amounts written here by hand.

Settings: payment reminder 7 days before due; overdue notices 1 / 8 / 15
days after due; late fee 10 % with a minimum of 5.00 after 5 days;
suspend after 7 days; terminate after 30 days; invoices are generated 14
days ahead (the default lead days). Invoice numbers INV-2026-NNNNN, in
client order within one day. Each day the run goes first (at 03:00), then
whatever the clients do that day.

The clients (all GBP, no tax):
  A  monthly service 20.00, due 01-10, never pays
  B  annual domain 12.00, due 02-20, pays its invoice on 02-15
  C  monthly service 30.00, due 01-20, "don't send overdue emails", never pays
  D  monthly service 100.00, due 02-01, no late fees; pays the first invoice
     on 02-10 (after being suspended on 02-08), then stops paying
  E  monthly service 50.00, due 03-05, in a group opted out of late fees,
     payment reminders off (C6); never pays
  F  monthly service 40.00, due 01-15, suspend after 3 days and never
     terminate (C6 overrides); never pays
  G  monthly service 25.00 + addon 5.00, due 01-05; pays invoice 1 late on
     01-20, invoice 2 early on 02-01, then stops paying
  H  monthly service 60.00, due 01-25, 100.00 credit at the start; adds
     20.00 credit on 02-20
  I  no services, a quote valid until 01-31; a domain added on 03-01
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from billing_helpers import check_invariants, new_client

from billdesk import clock
from billdesk.models import ClientGroup, ClientLog, Email, Invoice, InvoiceLine, Service
from billdesk.services import (
    automation,
    billing_settings,
    credit,
    groups,
    payments,
    quotes,
    subscriptions,
)

START = dt.date(2026, 1, 1)
DAYS = 120


def d(text: str) -> dt.date:
    """'01-10' → 2026-01-10."""
    return dt.date.fromisoformat(f"2026-{text}")


# (number, client, date, due date, total, paid?) — by hand, see the docstring
INVOICES = [
    ("INV-2026-00001", "A", "01-01", "01-10", "25.00", False),  # 20.00 + late fee 5.00 (min)
    ("INV-2026-00002", "F", "01-01", "01-15", "45.00", False),  # 40.00 + 5.00
    ("INV-2026-00003", "G", "01-01", "01-05", "35.00", True),   # 25.00 + 5.00 addon + 5.00 fee
    ("INV-2026-00004", "C", "01-06", "01-20", "35.00", False),  # 30.00 + 5.00
    ("INV-2026-00005", "H", "01-11", "01-25", "60.00", True),   # paid by credit at once
    ("INV-2026-00006", "D", "01-18", "02-01", "100.00", True),  # no late fee (client)
    ("INV-2026-00007", "G", "01-22", "02-05", "30.00", True),
    ("INV-2026-00008", "B", "02-06", "02-20", "12.00", True),
    ("INV-2026-00009", "H", "02-11", "02-25", "60.00", True),   # 40.00 credit, then 20.00
    ("INV-2026-00010", "D", "02-15", "03-01", "100.00", False),
    ("INV-2026-00011", "E", "02-19", "03-05", "50.00", False),  # no late fee (group)
    ("INV-2026-00012", "G", "02-19", "03-05", "35.00", False),  # 30.00 + 5.00
    ("INV-2026-00013", "H", "03-11", "03-25", "66.00", False),  # 60.00 + 10 % = 6.00
]

# (day, template, invoice number)
EMAILS = [
    # A: INV-1 due 01-10
    ("01-03", "payment_reminder", 1), ("01-11", "overdue_1", 1), ("01-18", "overdue_2", 1),
    ("01-25", "overdue_3", 1),
    # F: INV-2 due 01-15
    ("01-08", "payment_reminder", 2), ("01-16", "overdue_1", 2), ("01-23", "overdue_2", 2),
    ("01-30", "overdue_3", 2),
    # G: INV-3 due 01-05 (its reminder day, 12-29, is before the first run); paid 01-20
    # after that day's run, so the third notice went
    ("01-06", "overdue_1", 3), ("01-13", "overdue_2", 3), ("01-20", "overdue_3", 3),
    # C: INV-4 due 01-20, a reminder but no overdue emails
    ("01-13", "payment_reminder", 4),
    # D: INV-6 due 02-01, paid 02-10 (no third notice)
    ("01-25", "payment_reminder", 6), ("02-02", "overdue_1", 6), ("02-09", "overdue_2", 6),
    # G: INV-7 due 02-05, paid early
    ("01-29", "payment_reminder", 7),
    # B: INV-8 due 02-20, paid 02-15
    ("02-13", "payment_reminder", 8),
    # H: INV-9 due 02-25, 20.00 still due on the reminder day
    ("02-18", "payment_reminder", 9),
    # D: INV-10 due 03-01
    ("02-22", "payment_reminder", 10), ("03-02", "overdue_1", 10), ("03-09", "overdue_2", 10),
    ("03-16", "overdue_3", 10),
    # E: INV-11 due 03-05, reminders off for E
    ("03-06", "overdue_1", 11), ("03-13", "overdue_2", 11), ("03-20", "overdue_3", 11),
    # G: INV-12 due 03-05
    ("02-26", "payment_reminder", 12), ("03-06", "overdue_1", 12), ("03-13", "overdue_2", 12),
    ("03-20", "overdue_3", 12),
    # H: INV-13 due 03-25
    ("03-18", "payment_reminder", 13), ("03-26", "overdue_1", 13), ("04-02", "overdue_2", 13),
    ("04-09", "overdue_3", 13),
]

# (day, invoice number, fee)
LATE_FEES = [("01-15", 1, "5.00"), ("01-20", 2, "5.00"), ("01-10", 3, "5.00"),
             ("01-25", 4, "5.00"), ("03-10", 12, "5.00"), ("03-30", 13, "6.00")]

# (day, client, item, old → new); unsuspensions are in the log but not counted:
# paid, an item is Active again at once (WHMCS), the day of the payment
ITEM_CHANGES = [
    ("01-12", "G", "service", "Active", "Suspended"),
    ("01-12", "G", "addon", "Active", "Suspended"),
    ("01-17", "A", "service", "Active", "Suspended"),
    ("01-18", "F", "service", "Active", "Suspended"),  # 3 days (override)
    ("01-20", "G", "service", "Suspended", "Active"),
    ("01-20", "G", "addon", "Suspended", "Active"),
    ("01-27", "C", "service", "Active", "Suspended"),
    ("02-08", "D", "service", "Active", "Suspended"),
    ("02-09", "A", "service", "Suspended", "Terminated"),
    ("02-10", "D", "service", "Suspended", "Active"),
    ("02-19", "C", "service", "Suspended", "Terminated"),
    ("03-08", "D", "service", "Active", "Suspended"),
    ("03-12", "E", "service", "Active", "Suspended"),
    ("03-12", "G", "service", "Active", "Suspended"),
    ("03-12", "G", "addon", "Active", "Suspended"),
    ("03-31", "D", "service", "Suspended", "Terminated"),
    ("04-01", "H", "service", "Active", "Suspended"),
    ("04-04", "E", "service", "Suspended", "Terminated"),
    ("04-04", "G", "service", "Suspended", "Terminated"),
    ("04-04", "G", "addon", "Suspended", "Terminated"),
    ("04-24", "H", "service", "Suspended", "Terminated"),
]

# (day, client, old → new)
STATUS_CHANGES = [
    ("01-01", "I", "Active", "Inactive"),  # no services at all
    ("02-09", "A", "Active", "Inactive"),
    ("02-19", "C", "Active", "Inactive"),
    ("03-01", "I", "Inactive", "Active"),  # its new domain
    ("03-31", "D", "Active", "Inactive"),
    ("04-04", "E", "Active", "Inactive"),
    ("04-04", "G", "Active", "Inactive"),
    ("04-24", "H", "Active", "Inactive"),
]
QUOTES_EXPIRED = ["02-01"]
# invoices that took credit: INV-5 and INV-9 as they were made, INV-9 again in the
# credit step after the top-up
CREDIT_APPLIED = ["01-11", "02-11", "02-21"]


@pytest.fixture
def book(db):
    billing_settings.save_billing(billing_settings.BillingSettings(
        late_fee_kind="percent", late_fee_amount="10", late_fee_minimum="5.00", late_fee_days=5))
    automation.save_automation_settings(automation.AutomationSettings(
        reminder_days=7, overdue_days=[1, 8, 15], suspend=True, suspend_days=7, terminate=True,
        terminate_days=30, auto_status=True))
    signup = dt.date(2025, 12, 1)
    c: dict[str, int] = {}
    items: dict[tuple[str, str], int] = {}
    with clock.frozen(dt.datetime(2025, 12, 31, 12, 0)):
        no_fees = groups.add_group("No late fees")
        ClientGroup.update(late_fees=False).where(ClientGroup.id == no_fees).execute()
        for name in "ABCDEFGHI":
            extra: dict = {}
            if name == "C":
                extra["overdue_notices"] = False
            if name == "D":
                extra["late_fees"] = False
            if name == "E":
                extra["group_id"] = no_fees
            c[name] = new_client(first_name=name, last_name="Client", **extra)

        def service(who: str, amount: str, due: str, kind: str = "service") -> None:
            items[(who, kind)] = subscriptions.add_service(
                c[who], name=f"Hosting {who}", amount=amount, cycle="monthly",
                next_due=d(due), signup_date=signup)

        service("A", "20.00", "01-10")
        items[("B", "domain")] = subscriptions.add_domain(
            c["B"], "b-example.com", amount="12.00", cycle="annually", next_due=d("02-20"),
            registration_date=dt.date(2025, 2, 20))
        service("C", "30.00", "01-20")
        service("D", "100.00", "02-01")
        service("E", "50.00", "03-05")
        service("F", "40.00", "01-15")
        service("G", "25.00", "01-05")
        items[("G", "addon")] = subscriptions.add_addon(
            c["G"], items[("G", "service")], name="Backup G", amount="5.00", cycle="monthly",
            next_due=d("01-05"), signup_date=signup)
        service("H", "60.00", "01-25")
        credit.add_credit(c["H"], "100.00", "Prepaid", date=dt.date(2025, 12, 31))
        automation.save_client_overrides(c["E"], automation.ClientOverrides(
            payment_reminders=False))
        automation.save_client_overrides(c["F"], automation.ClientOverrides(
            suspend_days=3, auto_terminate=False))
        quotes.create_quote(c["I"], [quotes.LineInput("Website", "500.00")], stage="Delivered",
                            date=dt.date(2025, 12, 20), valid_until=d("01-31"))
    return c, items


def _number(n: int) -> str:
    return f"INV-2026-{n:05d}"


def _pay(number: str, amount: str, day: dt.date) -> None:
    invoice_id = Invoice.get(Invoice.number == number).id
    result = payments.add_payment(invoice_id, amount, date=day, method="")
    assert result.invoice.status == "Paid"


def test_120_days(book) -> None:
    c, items = book
    reports: dict[dt.date, automation.RunReport] = {}
    for n in range(DAYS):
        day = START + dt.timedelta(days=n)
        reports[day] = automation.run(day, clock=dt.datetime.combine(day, dt.time(3, 0)),
                                      deliver=False)
        assert reports[day].days == [day] and reports[day].errors == []
        with clock.frozen(dt.datetime.combine(day, dt.time(12, 0))):  # the day's own events
            if day == d("01-20"):
                _pay(_number(3), "35.00", day)
            if day == d("02-01"):
                _pay(_number(7), "30.00", day)
            if day == d("02-10"):
                _pay(_number(6), "100.00", day)
            if day == d("02-15"):
                _pay(_number(8), "12.00", day)
            if day == d("02-20"):
                credit.add_credit(c["H"], "20.00", "Top-up", date=day)
            if day == d("02-28"):  # I's domain, added before the next day's run
                subscriptions.add_domain(c["I"], "i-example.com", amount="10.00",
                                         next_due=dt.date(2027, 3, 1),
                                         registration_date=dt.date(2026, 3, 1))
    who = {cid: name for name, cid in c.items()}
    item_name = {sid: key for key, sid in items.items()}
    by_number = {}

    # invoices: number, client, date, due date, total, paid
    got = []
    for inv in Invoice.select().order_by(Invoice.id):
        by_number[inv.number] = inv.id
        got.append((inv.number, who[inv.client_id], inv.date.isoformat()[5:],
                    inv.due_date.isoformat()[5:], f"{inv.total / 100:.2f}",
                    inv.status == "Paid"))
    assert got == INVOICES
    number_of = {iid: int(num[-5:]) for num, iid in by_number.items()}

    # reminders and overdue notices: the day queued, the template, the invoice
    sent = sorted((e.created_at.date().isoformat()[5:], e.template,
                   number_of[int(e.event_key.rsplit(":", 1)[1])])
                  for e in Email.select().where(Email.template.in_(
                      ["payment_reminder", "overdue_1", "overdue_2", "overdue_3"])))
    assert sent == sorted(EMAILS)

    # late fees: the day, the invoice, the amount
    def fee(invoice_id: int) -> str:
        line = InvoiceLine.get(InvoiceLine.invoice == invoice_id, InvoiceLine.type == "LateFee")
        return f"{line.amount / 100:.2f}"

    fees = sorted((inv.late_fee_date.isoformat()[5:], number_of[inv.id], fee(inv.id))
                  for inv in Invoice.select().where(Invoice.late_fee_date.is_null(False)))
    assert fees == sorted(LATE_FEES)
    assert InvoiceLine.select().where(InvoiceLine.type == "LateFee").count() == len(LATE_FEES)

    # item status changes, from the clients' change logs
    changes = []
    for entry in ClientLog.select().where(
            (ClientLog.actor == "automation")
            | (ClientLog.message == "Unsuspended: its invoice was paid"),  # (by the payment)
            ClientLog.field.endswith(") status")).order_by(ClientLog.id):
        sid = int(entry.field.rsplit("(#", 1)[1].split(")")[0])
        changes.append((entry.at.date().isoformat()[5:], *item_name[sid],
                        entry.old_value, entry.new_value))
    assert sorted(changes) == sorted(ITEM_CHANGES)
    final = {key: Service.get_by_id(sid).status for key, sid in items.items()}
    assert final == {("A", "service"): "Terminated", ("B", "domain"): "Active",
                     ("C", "service"): "Terminated", ("D", "service"): "Terminated",
                     ("E", "service"): "Terminated", ("F", "service"): "Suspended",
                     ("G", "service"): "Terminated", ("G", "addon"): "Terminated",
                     ("H", "service"): "Terminated"}

    # client status changes (C15)
    statuses = [(e.at.date().isoformat()[5:], who[e.client_id], e.old_value, e.new_value)
                for e in ClientLog.select().where(ClientLog.actor == "automation",
                                                  ClientLog.field == "Status"
                                                  ).order_by(ClientLog.id)]
    assert statuses == STATUS_CHANGES

    # the run's own counts, day by day, agree with all of the above
    expected: dict[dt.date, Counter] = defaultdict(Counter)
    for num, _who, date, *_ in INVOICES:
        expected[d(date)]["invoices_created"] += 1
    for day, template, _ in EMAILS:
        expected[d(day)]["reminders" if template == "payment_reminder" else
                         "overdue_notices"] += 1
    for day, *_ in LATE_FEES:
        expected[d(day)]["late_fees"] += 1
    for day, _who, _kind, old, new in ITEM_CHANGES:
        if new != "Active":  # (unsuspended by the payments, not by a run)
            expected[d(day)][new.lower()] += 1
    for day, *_ in STATUS_CHANGES:
        expected[d(day)]["status_changes"] += 1
    for day in QUOTES_EXPIRED:
        expected[d(day)]["quotes_expired"] += 1
    for day in CREDIT_APPLIED:
        expected[d(day)]["credit_applied"] += 1
    counted = ("invoices_created", "credit_applied", "reminders", "overdue_notices", "late_fees",
               "suspended", "terminated", "status_changes", "quotes_expired")
    for day, report in reports.items():
        assert {k: report.steps[k] for k in counted if report.steps[k]} == dict(expected[day]), day
        assert report.unsuspended == 0, day
        assert report.steps["emails_queued"] >= (expected[day]["reminders"]
                                                 + expected[day]["overdue_notices"])

    # the money is right all the way through
    for cid in c.values():
        check_invariants(cid)
    assert credit.balance(c["H"]).amount == 0
    # and a run of a day already done changes nothing
    assert automation.run(START + dt.timedelta(days=DAYS - 1), deliver=False).days == []
