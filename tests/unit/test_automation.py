"""services/automation.py: settings, pending days, the steps' rules and
overrides, the run log, and idempotency (a day run twice changes nothing;
a catch-up of several days ends where running them one by one ends)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from billing_helpers import check_invariants, new_client

from billdesk import clock
from billdesk.errors import Conflict, ValidationFailed
from billdesk.models import (
    AutomationDay,
    AutomationRun,
    Client,
    ClientGroup,
    ClientLog,
    Invoice,
    Service,
    close_database,
    database,
    init_db,
)
from billdesk.services import (
    automation,
    backup,
    billing_run,
    billing_settings,
    credit,
    demo,
    groups,
    invoicing,
    payments,
    subscriptions,
)

DAY = dt.date(2026, 3, 1)


def at(day: dt.date, hour: int = 3) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0))


def run(day: dt.date, **kw) -> automation.RunReport:
    return automation.run(day, clock=at(day), deliver=False, **kw)


def book_dump(path_or_conn) -> list[str]:
    """The book as SQL, the run log and the days done aside."""
    con = sqlite3.connect(path_or_conn) if isinstance(path_or_conn, (str, Path)) else path_or_conn
    try:
        return [line for line in con.iterdump()
                if "automation_run" not in line and "automation_day" not in line]
    finally:
        if isinstance(path_or_conn, (str, Path)):
            con.close()


# --- settings

def test_settings_defaults_round_trip_and_field_named_problems(db) -> None:
    value = automation.automation_settings()
    assert (value.enabled, value.hour, value.reminder_days, value.overdue_days, value.suspend,
            value.suspend_days, value.terminate, value.terminate_days, value.auto_status,
            value.credit_added_email) == (True, 3, 7, [1, 8, 15], True, 7, False, 30, True, False)
    value.hour, value.overdue_days, value.terminate = 5, [2, 0, 20], True
    automation.save_automation_settings(value)
    assert automation.automation_settings() == value
    bad = automation.AutomationSettings(hour=24, reminder_days=-1, overdue_days=[5, 3, "x"],
                                        suspend_days=0, terminate=True, terminate_days=4000,
                                        auto_status="yes")
    with pytest.raises(ValidationFailed) as err:
        automation.save_automation_settings(bad)
    assert {p.field for p in err.value.problems} == {
        "auto_status", "hour", "reminder_days", "suspend_days", "terminate_days",
        "overdue_days[2]", "overdue_days[3]"}
    with pytest.raises(ValidationFailed) as err:
        automation.save_automation_settings(automation.AutomationSettings(overdue_days=[1, 2]))
    assert err.value.field == "overdue_days"
    with pytest.raises(ValidationFailed) as err:
        automation.save_automation_settings(automation.AutomationSettings(
            terminate=True, suspend_days=10, terminate_days=5))
    assert err.value.field == "terminate_days"
    assert automation.automation_settings() == value  # nothing written


def test_client_overrides_are_validated_and_logged(db) -> None:
    cid = new_client()
    assert automation.client_overrides(cid) == automation.ClientOverrides()
    with pytest.raises(ValidationFailed) as err:
        automation.save_client_overrides(cid, automation.ClientOverrides(suspend_days=0,
                                                                         auto_status="x"))
    assert {p.field for p in err.value.problems} == {"suspend_days", "auto_status"}
    saved = automation.save_client_overrides(cid, automation.ClientOverrides(
        auto_suspend=False, terminate_days=45, payment_reminders=False), actor="me")
    assert saved == automation.ClientOverrides(auto_suspend=False, terminate_days=45,
                                               payment_reminders=False)
    log = {(e.field, e.old_value, e.new_value) for e in ClientLog.select().where(
        ClientLog.client == cid, ClientLog.field.startswith("Automation"))}
    assert log == {("Automation: suspend overdue services", "global setting", "no"),
                   ("Automation: terminate after days", "global setting", "45"),
                   ("Automation: payment reminders", "global setting", "no")}


def test_a_client_is_not_terminated_before_it_is_suspended(db) -> None:
    """The Profile refuses what the global page refuses: terminating after
    fewer days than suspending, with the days that apply to the client."""
    from billdesk.services import clients

    cid = new_client()
    for overrides in (dict(auto_terminate=True, terminate_days=5),  # suspend: global, 7 days
                      dict(suspend_days=20, auto_terminate=True, terminate_days=10)):
        with pytest.raises(ValidationFailed) as err:
            clients.update_client(cid, overrides)
        (problem,) = err.value.problems
        assert problem.field == "terminate_days"
        assert problem.message.startswith("must not be fewer than the suspend days (")
    assert automation.client_overrides(cid) == automation.ClientOverrides()
    # suspending off, or terminating after the suspension: fine
    clients.update_client(cid, {"auto_suspend": False, "auto_terminate": True,
                                "terminate_days": 5})
    clients.update_client(cid, {"auto_suspend": None, "suspend_days": 3})
    assert automation.client_overrides(cid).suspend_days == 3


# --- which days

def test_pending_days(db) -> None:
    assert automation.pending_days(DAY) == [DAY]  # never ran: the day alone
    AutomationDay.create(date=DAY - dt.timedelta(days=3), finished_at=at(DAY))
    assert automation.pending_days(DAY) == [DAY - dt.timedelta(days=2),
                                            DAY - dt.timedelta(days=1), DAY]
    assert automation.pending_days(DAY - dt.timedelta(days=3)) == []
    assert automation.pending_days(DAY - dt.timedelta(days=10)) == []


def test_a_run_catches_up_and_logs_itself(db, billdesk_home: Path) -> None:
    first = run(DAY)
    assert first.days == [DAY] and first.status == "Completed"
    assert list(first.as_json()) == ["days", "steps", "errors"]
    assert list(first.as_json()["steps"]) == list(automation.STEP_KEYS)
    assert len(automation.STEP_KEYS) == 13
    assert Path(first.backup).exists() and backup.backups()[-1].path == Path(first.backup)
    later = run(DAY + dt.timedelta(days=3), trigger="window")
    assert later.as_json()["days"] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    again = run(DAY + dt.timedelta(days=3))
    assert again.days == [] and again.backup == ""  # nothing to do: no backup either
    assert len(backup.backups()) == 2
    rows = automation.runs()
    assert [r.id for r in rows] == [again.run_id, later.run_id, first.run_id]
    assert rows[1].trigger == "window" and rows[1].status == "Completed"
    assert rows[1].days == [DAY + dt.timedelta(days=n) for n in (1, 2, 3)]
    assert rows[1].started_at == at(DAY + dt.timedelta(days=3))
    assert rows[1].as_json()["steps"] == later.as_json()["steps"]
    assert [d.date for d in AutomationDay.select().order_by(AutomationDay.date)] == [
        DAY + dt.timedelta(days=n) for n in range(4)]


def test_progress_is_reported_per_step(db) -> None:
    seen = []
    run(DAY, progress=lambda done, total, text: seen.append((done, total, text)))
    total = len(automation.DAY_STEPS) + 2  # the steps, writing the emails, delivering
    assert seen[0] == (0, total, "Backing up the book")
    # how far the copy is, then the steps
    assert seen[1] == (0, total, "Backing up the book (100 %)")
    seen = seen[1:]
    assert [s[0] for s in seen[1:]] == list(range(1, total + 1))
    assert all(s[1] == total for s in seen)
    assert seen[1][2] == "2026-03-01: Generate due invoices"
    assert [s[2] for s in seen[-2:]] == ["Writing the emails", "Delivering email"]


def test_the_garbage_collector_is_paused_for_the_run_only(db) -> None:
    import gc

    seen = []
    assert gc.isenabled()
    run(DAY, progress=lambda done, total, text: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()
    gc.disable()  # switched off by the caller: left off
    try:
        run(DAY + dt.timedelta(days=1))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failing_step_leaves_the_day_to_be_run_again(db, monkeypatch) -> None:
    def broken(ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(automation._STEPS, "late_fees", broken)
    report = run(DAY)
    assert report.status == "Failed" and report.days == []
    assert report.errors == ["2026-03-01 Late fees: disk on fire"]
    assert AutomationDay.select().count() == 0
    assert AutomationRun.get_by_id(report.run_id).status == "Failed"
    assert json.loads(AutomationRun.get_by_id(report.run_id).errors) == report.errors
    monkeypatch.undo()
    assert run(DAY).days == [DAY]


def test_a_run_cut_off_is_marked_failed_by_the_next(db) -> None:
    AutomationRun.create(started_at=at(DAY), trigger="cli", days="2026-03-01", status="Running")
    run(DAY)
    assert automation.runs()[-1].status == "Failed"
    assert automation.runs()[-1].errors == ["the run was interrupted before it finished "
                                            "2026-03-01"]
    assert automation.runs()[-1].days == []


def test_a_run_cut_off_keeps_the_days_it_finished(db) -> None:
    """Killed after the first of three days: its log row shows that day
    done and names the two left, which the next run runs."""
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    cut = AutomationRun.create(started_at=at(DAY), trigger="cli", status="Running",
                               days=",".join(d.isoformat() for d in days))
    AutomationDay.create(date=days[0], run=cut.id, finished_at=at(days[0]))
    assert automation.run(days[-1], clock=at(days[-1]), deliver=False).days == days[1:]
    row = next(r for r in automation.runs() if r.id == cut.id)
    assert (row.status, row.days) == ("Failed", [days[0]])
    assert row.errors == ["the run was interrupted before it finished 2026-03-02 to "
                          "2026-03-03 (2 days)"]


def test_one_run_at_a_time(db) -> None:
    with automation._run_lock():
        with pytest.raises(Conflict) as err:
            run(DAY)
    assert err.value.field == "run"
    assert AutomationRun.select().count() == 0
    assert run(DAY).days == [DAY]


def test_delivery_counts_emails_sent(db, monkeypatch) -> None:
    from billdesk.services import outbox

    monkeypatch.setattr(outbox, "is_configured", lambda: True)
    monkeypatch.setattr(outbox, "deliver", lambda **kw: outbox.DeliveryResult(sent=3))
    report = automation.run(DAY, clock=at(DAY))
    assert report.steps["emails_sent"] == 3
    monkeypatch.setattr(outbox, "is_configured", lambda: False)
    assert automation.run(DAY, clock=at(DAY)).steps["emails_sent"] == 0


def test_the_runs_invoice_emails_get_their_text_after_the_run(db) -> None:
    """The run queues each new invoice's email in the invoice's transaction
    (never lost) and leaves its text to what delivery does first
    (write_emails): ``automation run`` at its end, mail set up or not; the
    window's courier a batch at a time. The reminders and notices are
    written as they are queued."""
    from billdesk.models import Email

    cid = new_client(email="ada@example.com")
    _monthly(cid, DAY + dt.timedelta(days=3))
    report = run(DAY, write=False)  # (as the window runs it)
    assert report.steps["invoices_created"] == 1 and report.steps["emails_queued"] == 1
    (email,) = Email.select().where(Email.client == cid)
    assert (email.template, email.status, email.pending, email.subject, email.body) == (
        "invoice_created", "Queued", True, "", "")
    errors: list[str] = []
    assert automation.write_emails(errors) == 1 and errors == []
    email = Email.get_by_id(email.id)
    (invoice,) = Invoice.select().where(Invoice.client == cid)
    assert not email.pending and email.to_addr == "ada@example.com"
    assert invoice.number in email.subject and "10.00" in email.body
    assert automation.write_emails(errors) == 0  # nothing left without its text
    # the cron run writes them at its end, mail not set up
    other = new_client(email="bo@example.com")
    _monthly(other, DAY + dt.timedelta(days=4))
    ran = automation.run(DAY + dt.timedelta(days=1), clock=at(DAY + dt.timedelta(days=1)))
    assert ran.errors == [] and ran.steps["invoices_created"] == 1
    (email,) = Email.select().where(Email.client == other)
    assert not email.pending and email.to_addr == "bo@example.com" and email.body


def test_write_emails_reports_a_template_that_fails_on_the_data(db) -> None:
    """Written after the run, a message its template cannot write is Failed
    (Email log) and write_emails says so, once, in the run's words."""
    from billdesk.models import Email
    from billdesk.services import templates

    templates.save_template("invoice_created", language="en", subject="Invoice",
                            body="{{ 100 // (client.last_name | length - 6) }}")
    good, bad = new_client(last_name="Lovelace"), new_client(last_name="Smythe")
    for cid in (good, bad):
        _monthly(cid, DAY + dt.timedelta(days=3))
    assert run(DAY, write=False).errors == []
    errors: list[str] = []
    assert automation.write_emails(errors) == 2
    assert errors == ["1 email could not be written (Automation → Email log, Failed): "
                      "template 'invoice_created' (en), body: cannot be rendered: integer "
                      "division or modulo by zero"]
    assert Email.get(Email.client == bad).status == "Failed"
    assert [e.status for e in Email.select().where(Email.client == good)] == ["Queued"]


# --- the steps' rules

def _monthly(cid: int, due: dt.date, amount: str = "10.00", **kw) -> int:
    return subscriptions.add_service(cid, name="Hosting", amount=amount, cycle="monthly",
                                     next_due=due, signup_date=due - dt.timedelta(days=31), **kw)


def _unpaid_invoice(cid: int, service_id: int, due: dt.date) -> int:
    """A renewal invoice for the service, generated two weeks before due."""
    result = billing_run.generate_due(client_id=cid, today=due - dt.timedelta(days=14))
    (invoice_id,) = result.invoice_ids
    return invoice_id


def test_suspend_override_and_exemption_and_unsuspend_on_payment(db) -> None:
    due = DAY - dt.timedelta(days=7)  # 7 days overdue on DAY
    plain = new_client()
    exempt = new_client()
    off = new_client(auto_suspend=False)
    later = new_client(suspend_days=10)
    ids = {}
    for name, cid in (("plain", plain), ("exempt", exempt), ("off", off), ("later", later)):
        ids[name] = _monthly(cid, due, override_suspend=(name == "exempt"))
        _unpaid_invoice(cid, ids[name], due)
    report = run(DAY)
    assert report.steps["suspended"] == 1
    status = {name: Service.get_by_id(sid).status for name, sid in ids.items()}
    assert status == {"plain": "Suspended", "exempt": "Active", "off": "Active",
                      "later": "Active"}
    svc = Service.get_by_id(ids["plain"])
    assert svc.suspend_reason == automation.SUSPEND_REASON
    entry = ClientLog.select().where(ClientLog.client == plain).order_by(ClientLog.id.desc()).get()
    assert (entry.field, entry.old_value, entry.new_value, entry.reason, entry.actor) == (
        f"Hosting (#{svc.id}) status", "Active", "Suspended", "Overdue on payment", "automation")
    # the day is said: a catch-up runs many days at one time, stamped alike
    assert entry.message == f"Suspended by the daily run of {DAY.isoformat()}"
    inv = Invoice.get(Invoice.client == plain)
    with clock.frozen(at(DAY, 12)):
        payments.add_payment(inv.id, "10.00", date=DAY)
    # WHMCS unsuspends on payment: at once, not at the next morning's run
    svc = Service.get_by_id(ids["plain"])
    assert (svc.status, svc.suspend_reason) == ("Active", "")
    entry = ClientLog.select().where(ClientLog.client == plain,
                                     ClientLog.field == f"Hosting (#{svc.id}) status"
                                     ).order_by(ClientLog.id.desc()).get()
    assert (entry.old_value, entry.new_value, entry.message) == (
        "Suspended", "Active", "Unsuspended: its invoice was paid")
    nxt = run(DAY + dt.timedelta(days=1))
    assert nxt.unsuspended == 0 and nxt.steps["suspended"] == 0
    assert Service.get_by_id(ids["plain"]).status == "Active"
    # a service suspended by hand is not the run's to unsuspend
    Service.update(status="Suspended").where(Service.id == ids["exempt"]).execute()
    run(DAY + dt.timedelta(days=2))
    assert Service.get_by_id(ids["exempt"]).status == "Suspended"


def test_the_run_unsuspends_what_no_overdue_invoice_bills_any_more(db) -> None:
    """Its invoice cancelled rather than paid: the next run sets it Active.
    A service billed by a second overdue invoice stays suspended when the
    first is paid."""
    due = DAY - dt.timedelta(days=7)
    cid = new_client()
    sid = _monthly(cid, due)
    first = _unpaid_invoice(cid, sid, due)
    run(DAY)
    assert Service.get_by_id(sid).status == "Suspended"
    second = invoicing.create_invoice(cid, [invoicing.LineInput("Hosting (earlier)", "5.00",
                                                                type="Hosting", link_id=sid)],
                                      date=due - dt.timedelta(days=20), due_date=due)
    with clock.frozen(at(DAY, 12)):
        payments.add_payment(first, "10.00", date=DAY)
    assert Service.get_by_id(sid).status == "Suspended"  # the second still overdue
    invoicing.cancel_invoice(second)
    nxt = run(DAY + dt.timedelta(days=1))
    assert nxt.unsuspended == 1 and Service.get_by_id(sid).status == "Active"


def test_a_payment_leaves_a_suspension_made_by_hand(db) -> None:
    """Suspended by the run, set Active by hand, suspended by hand (abuse):
    paying the old invoice does not set it Active — it is not the run's."""
    due = DAY - dt.timedelta(days=7)
    cid = new_client()
    sid = _monthly(cid, due)
    invoice_id = _unpaid_invoice(cid, sid, due)
    run(DAY)
    assert Service.get_by_id(sid).suspend_reason == automation.SUSPEND_REASON
    subscriptions.edit_service(sid, status="Active")
    subscriptions.edit_service(sid, status="Suspended")
    assert Service.get_by_id(sid).suspend_reason == ""
    with clock.frozen(at(DAY, 12)):
        payments.add_payment(invoice_id, "10.00", date=DAY)
    assert Service.get_by_id(sid).status == "Suspended"


def test_terminate_needs_the_switch_and_spares_domains(db) -> None:
    automation.save_automation_settings(automation.AutomationSettings(terminate=True,
                                                                      terminate_days=30))
    due = DAY - dt.timedelta(days=30)
    on = new_client()
    off = new_client(auto_terminate=False)
    svc_on, svc_off = _monthly(on, due), _monthly(off, due)
    _unpaid_invoice(on, svc_on, due)
    _unpaid_invoice(off, svc_off, due)
    dom = subscriptions.add_domain(on, "on-example.com", amount="12.00", next_due=due,
                                   registration_date=due - dt.timedelta(days=365))
    billing_run.generate_due(client_id=on, today=due - dt.timedelta(days=14))
    report = run(DAY)
    assert report.steps["terminated"] == 1
    assert Service.get_by_id(svc_on).status == "Terminated"
    assert Service.get_by_id(svc_off).status == "Suspended"  # suspended, never terminated
    assert Service.get_by_id(dom).status == "Active"
    assert Client.get_by_id(on).status == "Active"  # its domain keeps it Active


def test_late_fees_skip_opted_out_clients_and_groups_and_come_once(db) -> None:
    billing_settings.save_billing(billing_settings.BillingSettings(
        late_fee_kind="fixed", late_fee_amount="2.50", late_fee_days=3))
    due = DAY - dt.timedelta(days=3)
    group = groups.add_group("Friends")
    ClientGroup.update(late_fees=False).where(ClientGroup.id == group).execute()
    payer, opted, grouped = new_client(), new_client(late_fees=False), new_client(group_id=group)
    invoices = {}
    for cid in (payer, opted, grouped):
        invoices[cid] = _unpaid_invoice(cid, _monthly(cid, due), due)
    assert run(DAY).steps["late_fees"] == 1
    assert Invoice.get_by_id(invoices[payer]).total == 1250
    assert Invoice.get_by_id(invoices[payer]).late_fee_date == DAY
    assert Invoice.get_by_id(invoices[opted]).total == 1000
    assert Invoice.get_by_id(invoices[grouped]).total == 1000
    # the group rule holds for add_late_fee itself too
    assert invoicing.add_late_fee(invoices[grouped], DAY + dt.timedelta(days=5)) is None
    assert run(DAY + dt.timedelta(days=1)).steps["late_fees"] == 0


@pytest.mark.parametrize("inclusive", [False, True])
def test_the_runs_late_fee_is_add_late_fee_in_bulk(db, inclusive) -> None:
    """The step writes late fees in bulk; what it writes matches the one
    by one ``invoicing.add_late_fee`` on a taxed invoice."""
    billing_settings.save_billing(billing_settings.BillingSettings(
        tax_inclusive=inclusive, late_fee_kind="percent", late_fee_amount="7.5",
        late_fee_minimum="1.00", late_fee_days=2))
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    billing_settings.add_tax_rule(2, "Levy", "2.5", country="GB")
    due = DAY - dt.timedelta(days=2)
    by_hand, by_run = new_client(), new_client()
    invoices = {}
    for cid in (by_hand, by_run):
        sid = subscriptions.add_service(cid, name="Hosting", amount="33.33", cycle="monthly",
                                        next_due=due, signup_date=due - dt.timedelta(days=31),
                                        taxed=True)
        invoices[cid] = _unpaid_invoice(cid, sid, due)
    with clock.frozen(at(DAY)):
        invoicing.add_late_fee(invoices[by_hand], DAY, actor="automation")
    AutomationDay.create(date=DAY - dt.timedelta(days=1), finished_at=at(DAY))
    Invoice.update(late_fee_date=DAY).where(Invoice.id == invoices[by_hand]).execute()
    assert run(DAY).steps["late_fees"] == 1
    hand, bulk = (invoicing.get_invoice(invoices[c]) for c in (by_hand, by_run))
    assert (hand.subtotal, hand.tax1, hand.tax2, hand.total) == (
        bulk.subtotal, bulk.tax1, bulk.tax2, bulk.total)
    assert bulk.tax1.amount > 0 and bulk.tax2.amount > 0
    assert [(ln.description.replace(hand.number, "N"), ln.amount, ln.taxed, ln.type)
            for ln in hand.lines] == [(ln.description.replace(bulk.number, "N"), ln.amount,
                                       ln.taxed, ln.type) for ln in bulk.lines]
    assert bulk.lines[-1].type == "LateFee" and bulk.lines[-1].taxed is False
    assert Invoice.get_by_id(invoices[by_run]).late_fee_date == DAY
    check_invariants(by_run)


def test_automatic_status_switches_and_closed_clients(db) -> None:
    idle, closed, kept = new_client(), new_client(status="Closed"), new_client(auto_status=False)
    busy = new_client(status="Inactive")
    _monthly(busy, DAY + dt.timedelta(days=40))
    assert automation.client_status(idle) == "Inactive"
    assert automation.client_status(closed) == "Closed"
    assert automation.client_status(busy) == "Active"
    report = run(DAY)
    assert report.steps["status_changes"] == 2
    status = {cid: Client.get_by_id(cid).status for cid in (idle, closed, kept, busy)}
    assert status == {idle: "Inactive", closed: "Closed", kept: "Active", busy: "Active"}
    entry = ClientLog.get(ClientLog.client == idle, ClientLog.field == "Status")
    assert (entry.old_value, entry.new_value, entry.message) == (
        "Active", "Inactive", f"Automatic status (daily run of {DAY.isoformat()})")
    # switched off globally: nothing changes
    automation.save_automation_settings(automation.AutomationSettings(auto_status=False))
    Client.update(status="Active").where(Client.id == idle).execute()
    assert run(DAY + dt.timedelta(days=1)).steps["status_changes"] == 0
    assert Client.get_by_id(idle).status == "Active"


def test_credit_that_pays_a_late_renewal_bills_the_next_period_the_same_day(db) -> None:
    """An item billed late (next due long past): credit pays the invoice,
    which moves the due date on by one month, still past: the same day's
    run bills that month too, so running the day again makes nothing."""
    cid = new_client()
    _monthly(cid, DAY - dt.timedelta(days=70), amount="10.00")
    credit.add_credit(cid, "25.00", "Goodwill", date=DAY)
    report = run(DAY)
    totals = sorted((i.status, i.credit) for i in Invoice.select().where(Invoice.client == cid))
    # three periods are due by DAY + 14 days: 10 + 10 from credit, 5 of the third
    assert totals == [("Paid", 1000), ("Paid", 1000), ("Unpaid", 500)]
    assert report.steps["invoices_created"] == 3
    assert report.steps["credit_applied"] == 3  # each took credit as it was made: counted
    before = book_dump(database.connection())
    AutomationDay.delete().execute()
    again = run(DAY)
    assert again.steps["invoices_created"] == 0 and book_dump(database.connection()) == before
    # credit added later goes on the open invoice in the credit step
    credit.add_credit(cid, "5.00", "More", date=DAY)
    assert run(DAY + dt.timedelta(days=1)).steps["credit_applied"] == 1
    assert Invoice.select().where(Invoice.client == cid, Invoice.status == "Unpaid").count() == 0


# --- idempotency on a demo book

@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("automation-demo") / "demo.sqlite3"
    init_db(path)
    try:
        demo.create_demo(400, 7, today=dt.datetime(2026, 2, 27, 9, 0))
        billing_settings.save_billing(billing_settings.BillingSettings(
            late_fee_kind="percent", late_fee_amount="10", late_fee_minimum="5", late_fee_days=5))
        automation.save_automation_settings(automation.AutomationSettings(terminate=True))
    finally:
        close_database()
    return path


def _open_copy(demo_file: Path, path: Path) -> None:
    close_database()
    shutil.copy(demo_file, path)
    init_db(path)


def test_a_day_run_again_changes_nothing(demo_file: Path, tmp_path: Path) -> None:
    _open_copy(demo_file, tmp_path / "a.sqlite3")
    try:
        first = run(DAY)
        assert first.steps["invoices_created"] > 0 and first.steps["suspended"] > 0
        assert first.steps["reminders"] + first.steps["overdue_notices"] > 0
        assert first.steps["late_fees"] > 0 and first.steps["terminated"] > 0
        assert first.errors == []
        before = book_dump(database.connection())
        assert run(DAY).days == []  # the day is done: skipped
        assert book_dump(database.connection()) == before
        AutomationDay.delete().execute()  # forget it was done: the steps find nothing to do
        again = run(DAY)
        assert again.days == [DAY]
        assert {k: v for k, v in again.steps.items() if v} == {}
        assert book_dump(database.connection()) == before
    finally:
        close_database()


def test_a_catch_up_ends_where_day_by_day_runs_end(demo_file: Path, tmp_path: Path) -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(4)]
    clock_at = dt.datetime(2026, 3, 4, 3, 0)
    _open_copy(demo_file, tmp_path / "one.sqlite3")
    try:
        for day in days:
            automation.run(day, clock=clock_at, deliver=False)
    finally:
        close_database()
    _open_copy(demo_file, tmp_path / "all.sqlite3")
    try:
        AutomationDay.create(date=DAY - dt.timedelta(days=1), finished_at=clock_at)
        report = automation.run(days[-1], clock=clock_at, deliver=False)
        assert report.days == days
        AutomationDay.delete().execute()
    finally:
        close_database()
    assert book_dump(tmp_path / "one.sqlite3") == book_dump(tmp_path / "all.sqlite3")


def test_the_report_of_a_run_with_no_days_says_what_the_outbox_sent() -> None:
    """'Nothing to do' is said only when nothing was done: a run with every
    day done that delivered waiting mail says so."""
    idle = automation.RunReport(1, [], {}, [], 12)
    assert idle.text().startswith("Nothing to do: every day is done.")
    delivered = automation.RunReport(2, [], {"emails_sent": 3}, [], 900)
    head = delivered.text().splitlines()[0]
    assert head.startswith("Every day is done; the outbox delivered 3 waiting emails")
    assert "Emails sent" in delivered.text() or "emails" in delivered.text().lower()


def test_a_catch_up_sends_no_reminder_of_a_day_gone_by_nor_two_notices(db) -> None:
    """Days caught up at once (billdesk was closed): the reminder that the
    invoice "is due on" a day now past, and the first notice the second
    follows, are not sent (Failed, saying why) — WHMCS, sending each the
    day it is made, never sends those. The second notice goes."""
    from billdesk.models import Email

    due = DAY + dt.timedelta(days=7)
    cid = new_client()
    invoice_id = invoicing.create_invoice(cid, [invoicing.LineInput("Work", "40.00")],
                                          date=DAY - dt.timedelta(days=7), due_date=due)
    run(DAY)  # (the book's first day: 7 days before it falls due)
    last = due + dt.timedelta(days=8)
    report = automation.run(last, clock=at(last), deliver=False)
    assert report.steps["reminders"] == 0 and report.steps["overdue_notices"] == 2
    found = {e.template: (e.status, e.error) for e in Email.select().where(
        Email.event_key.endswith(f":invoice:{invoice_id}"), Email.template != "invoice_created")}
    assert found == {
        "payment_reminder": ("Failed", "Not sent: the invoice fell due before it could go "
                                       "(the overdue notices follow)"),
        "overdue_1": ("Failed", "Not sent: a later notice about the invoice goes instead"),
        "overdue_2": ("Queued", ""),
    }
    # sent anyway (Resend, after asking): a copy, which is not held back again
    from billdesk.services import mail, outbox

    reminder = Email.get(Email.event_key == f"payment_reminder:invoice:{invoice_id}")
    copy = outbox.resend(reminder.id)
    assert copy != reminder.id and Email.get_by_id(copy).event_key is None
    assert mail.withhold_stale(last + dt.timedelta(days=1)) == 0
    assert Email.get_by_id(copy).status == "Queued"


def test_stale_emails_are_held_back_by_a_run_with_no_days_left(db) -> None:
    """Killed after its last day but before holding back: the run again
    (nothing pending) still holds them back, as one clean run would."""
    from billdesk.models import Email

    due = DAY + dt.timedelta(days=7)
    cid = new_client()
    invoice_id = invoicing.create_invoice(cid, [invoicing.LineInput("Work", "40.00")],
                                          date=DAY - dt.timedelta(days=7), due_date=due)
    run(DAY)
    later = due + dt.timedelta(days=1)
    AutomationDay.create(date=later, finished_at=at(later))  # (the days done, not held back)
    for n in range(1, (later - DAY).days):
        AutomationDay.create(date=DAY + dt.timedelta(days=n), finished_at=at(later))
    report = automation.run(later, clock=at(later), deliver=False)
    assert report.days == []
    reminder = Email.get(Email.event_key == f"payment_reminder:invoice:{invoice_id}")
    assert reminder.status == "Failed" and reminder.error.startswith("Not sent: the invoice")
