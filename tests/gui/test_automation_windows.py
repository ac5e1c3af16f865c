"""The daily run in the windows (A1–A3, C6, D6): the scheduler on a fake
clock, catching up missed days after confirmation, Run now and its report,
the Automation settings page, a client's overrides, and the window staying
responsive during a 10,000-client run (issue 6, acceptance 5)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from gui_helpers import click, shown, wait_for

DAY = dt.date(2027, 3, 10)


class FakeClock:
    """What the scheduler (and the run it starts) takes for now."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.at = dt.datetime.combine(day, dt.time(hour, minute))


def add_services(rows: list[tuple[int, str, int, dt.date]]) -> None:
    """(client id, name, amount in minor units, next due) — monthly, Active."""
    from billdesk.models import database

    stamp = "2027-01-01 00:00:00"
    with database.atomic():
        database.connection().executemany(
            "INSERT INTO service (client_id, kind, name, status, cycle, amount, taxed, "
            "signup_date, due_day, next_due, payment_method, created_at, updated_at) "
            "VALUES (?, 'service', ?, 'Active', 'monthly', ?, 0, ?, ?, ?, '', ?, ?)",
            [(c, name, amount, due.isoformat(), due.day, due.isoformat(), stamp, stamp)
             for c, name, amount, due in rows])


@pytest.fixture
def book(db_path: Path) -> Iterator[Path]:
    """Two clients, each with a service the run of DAY invoices."""
    from billdesk.models import close_database, init_db
    from billdesk.services import clients, settings

    init_db(db_path)
    settings.save_company(settings.Company(name="Harbour Ltd", country="GB", currency="GBP",
                                           email="accounts@harbour.example"))
    ada = clients.add_client({"first_name": "Ada", "last_name": "Lovelace",
                              "email": "ada@example.com", "currency": "GBP", "country": "GB"})
    alan = clients.add_client({"first_name": "Alan", "last_name": "Turing",
                               "email": "alan@example.com", "currency": "GBP", "country": "GB"})
    # invoiced 14 days ahead (the default lead days): by the run of DAY, not before
    add_services([(ada, "Web Hosting", 1000, DAY + dt.timedelta(days=14)),
                  (alan, "VPS", 2500, DAY + dt.timedelta(days=14))])
    yield db_path
    close_database()


def seed_run(until: dt.date) -> None:
    """The run as the command line would have done it up to ``until``."""
    from billdesk.services import automation

    automation.run(until, clock=dt.datetime.combine(until, dt.time(3)), deliver=False)


def run_days() -> list[list[dt.date]]:
    from billdesk.services import automation

    return [run.days for run in reversed(automation.runs())]


def test_scheduler_runs_once_a_day_at_the_configured_hour(qtbot, ops):  # noqa: ANN001
    from billdesk.services import automation
    from billdesk.views.scheduler import Scheduler

    value = automation.automation_settings()
    value.hour = 3
    automation.save_automation_settings(value)
    seed_run(DAY - dt.timedelta(days=1))
    clock = FakeClock(dt.datetime.combine(DAY, dt.time(2, 30)))
    scheduler = Scheduler(ops, clock, interval_ms=20)
    asked, finished = [], []
    scheduler.catch_up_pending.connect(asked.append)
    scheduler.run_finished.connect(finished.append)

    scheduler.start()
    assert scheduler.timer.isActive()
    qtbot.wait(150)  # before the hour: several ticks, nothing runs
    assert finished == [] and asked == []
    assert scheduler.next_run_at == dt.datetime.combine(DAY, dt.time(3))

    clock.set(DAY, 3, 0)  # the hour comes: the timer's next tick runs the day, unasked
    wait_for(qtbot, lambda: finished, timeout=15_000)
    assert finished[0].days == [DAY] and asked == []
    qtbot.wait(150)
    clock.set(DAY, 17, 45)  # later the same day: still nothing more
    qtbot.wait(150)
    assert len(finished) == 1
    assert scheduler.next_run_at == dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(3))

    clock.set(DAY + dt.timedelta(days=1), 3, 1)  # the next day, at the hour: once more
    wait_for(qtbot, lambda: len(finished) == 2, timeout=15_000)
    qtbot.wait(150)
    assert len(finished) == 2 and asked == []
    assert run_days() == [[DAY - dt.timedelta(days=1)], [DAY], [DAY + dt.timedelta(days=1)]]
    scheduler.stop()


def test_a_failed_scheduled_run_is_not_retried_every_minute(qtbot, ops, monkeypatch):  # noqa: ANN001
    from billdesk.errors import Conflict
    from billdesk.services import automation
    from billdesk.views.scheduler import Scheduler

    seed_run(DAY - dt.timedelta(days=1))
    calls = []

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args)
        raise Conflict("backup", "the backup folder is full")

    monkeypatch.setattr(automation, "run", broken)
    clock = FakeClock(dt.datetime.combine(DAY, dt.time(3, 5)))
    scheduler = Scheduler(ops, clock, interval_ms=20)
    failed = []
    scheduler.run_failed.connect(failed.append)
    scheduler.started = True  # past the start (no catch-up question)
    scheduler.timer.start()
    wait_for(qtbot, lambda: failed)
    qtbot.wait(200)  # ten more ticks
    assert len(calls) == 1 and "full" in str(failed[0])
    asked = []
    scheduler.catch_up_pending.connect(asked.append)
    clock.set(DAY + dt.timedelta(days=1), 3)  # the next day: the failed day is shown again
    wait_for(qtbot, lambda: asked)
    assert asked[0] == [DAY, DAY + dt.timedelta(days=1)]
    scheduler.confirm_catch_up(True)
    wait_for(qtbot, lambda: len(calls) == 2)
    scheduler.stop()


def test_a_book_with_clients_that_never_ran_is_asked_first(qtbot, ops):  # noqa: ANN001
    """A book holding clients whose daily run never ran (a demo book, one
    whose runs all failed) is asked at start: its run may suspend, charge
    and mail. (A new, empty book is not: tests/gui/test_new_book.py.)"""
    from billdesk.services import automation
    from billdesk.views.scheduler import Scheduler

    assert automation.last_completed() is None
    scheduler = Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(9))), interval_ms=20)
    asked, finished = [], []
    scheduler.catch_up_pending.connect(asked.append)
    scheduler.run_finished.connect(finished.append)
    scheduler.start()
    wait_for(qtbot, lambda: asked)
    assert asked[0] == [DAY] and finished == []
    scheduler.stop()


def test_todays_run_alone_runs_at_start_unasked(qtbot, ops):  # noqa: ANN001
    """JOURNEYS 5, every day without thinking: yesterday ran, billdesk was
    closed at 03:00 and is opened at 09:00 — today's run goes by itself;
    only missed days are asked about."""
    from billdesk.models import AutomationDay
    from billdesk.services import automation
    from billdesk.views.scheduler import Scheduler

    automation.run(DAY - dt.timedelta(days=1), clock=dt.datetime.combine(
        DAY - dt.timedelta(days=1), dt.time(3)), deliver=False)
    scheduler = Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(9))), interval_ms=20)
    asked, finished = [], []
    scheduler.catch_up_pending.connect(asked.append)
    scheduler.run_finished.connect(finished.append)
    scheduler.start()
    wait_for(qtbot, lambda: finished)
    assert asked == [] and AutomationDay.get_or_none(AutomationDay.date == DAY) is not None
    scheduler.stop()


def test_scheduler_stays_idle_when_switched_off(qtbot, ops):  # noqa: ANN001
    from billdesk.services import automation
    from billdesk.views.scheduler import Scheduler

    value = automation.automation_settings()
    value.enabled = False
    automation.save_automation_settings(value)
    scheduler = Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(9))), interval_ms=20)
    started = []
    scheduler.run_started.connect(started.append)
    scheduler.catch_up_pending.connect(started.append)
    scheduler.start()
    qtbot.wait(120)
    assert started == [] and scheduler.next_run() is None
    scheduler.stop()


def test_missed_days_are_listed_and_run_after_confirming(qtbot, main_window):  # noqa: ANN001
    from billdesk.services import automation
    from billdesk.views.models.automation_tables import days_text

    seed_run(DAY - dt.timedelta(days=5))
    clock = FakeClock(dt.datetime.combine(DAY, dt.time(9, 15)))
    scheduler = main_window.scheduler
    scheduler.clock = clock
    finished = []
    scheduler.run_finished.connect(finished.append)

    scheduler.start()  # at start: the four missed days and today, shown before anything runs
    box = wait_for(qtbot, lambda: main_window.catch_up_box)
    missed = [DAY - dt.timedelta(days=n) for n in (4, 3, 2, 1, 0)]
    listed = box.text() + "\n" + box.informativeText()
    for day in missed:
        assert day.isoformat() in listed
    assert "5 days" in box.text()
    qtbot.wait(100)
    assert finished == [] and len(automation.runs()) == 1  # nothing ran while it asks

    click(qtbot, _button(box, "runCatchUp"))
    wait_for(qtbot, lambda: finished, timeout=20_000)
    assert finished[0].days == missed
    assert run_days()[-1] == missed
    assert finished[0].steps["invoices_created"] == 2  # both services fell due within the lead days
    wait_for(qtbot, lambda: "Automation run finished" in main_window.statusBar().currentMessage())
    message = main_window.statusBar().currentMessage()
    assert message.startswith(f"Automation run finished for {days_text(missed)}: 2 invoices")
    assert "…" not in message  # every count, none cut off
    assert main_window.automation_label.text() == "Next run 2027-03-11 03:00"
    scheduler.stop()


def test_run_now_before_the_hour_moves_the_next_run_to_tomorrow(qtbot, main_window):  # noqa: ANN001
    """At 00:44, before the 03:00 run, Run now runs today: today's 03:00
    then has nothing to do, so the next run said is tomorrow's."""
    seed_run(DAY - dt.timedelta(days=1))
    scheduler = main_window.scheduler
    scheduler.clock = FakeClock(dt.datetime.combine(DAY, dt.time(0, 44)))
    scheduler.start()  # yesterday ran: nothing is due before 03:00
    assert main_window.automation_label.text() == "Next run 2027-03-10 03:00"
    finished = []
    scheduler.run_finished.connect(finished.append)
    assert scheduler.run_now()
    wait_for(qtbot, lambda: finished, timeout=20_000)
    assert finished[0].days == [DAY]
    assert scheduler.next_run() == dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(3))
    wait_for(qtbot, lambda: main_window.automation_label.text() == "Next run 2027-03-11 03:00")
    scheduler.check()  # the minute ticks on: nothing runs, the next run stays tomorrow's
    assert main_window.automation_label.text() == "Next run 2027-03-11 03:00"
    scheduler.stop()


def test_missed_days_wait_when_the_user_says_later(qtbot, main_window):  # noqa: ANN001
    seed_run(DAY - dt.timedelta(days=3))
    scheduler = main_window.scheduler
    scheduler.clock = FakeClock(dt.datetime.combine(DAY, dt.time(9)))
    started = []
    scheduler.run_started.connect(started.append)
    scheduler.start()
    box = wait_for(qtbot, lambda: main_window.catch_up_box)
    click(qtbot, _button(box, "laterCatchUp"))
    scheduler.check()
    qtbot.wait(100)
    assert started == [] and main_window.catch_up_box is None
    assert len(run_days()) == 1
    # the status bar says what waits, not tomorrow's run
    first = DAY - dt.timedelta(days=2)
    assert main_window.automation_label.text() == (
        f"Automation: {first.isoformat()} to {DAY.isoformat()} (3 days) not run — "
        "Automation → Run now")
    scheduler.stop()


def _button(box: QMessageBox, name: str):  # noqa: ANN202
    return next(b for b in box.buttons() if b.objectName() == name)


def test_run_now_from_the_window_shows_the_report(qtbot, main_window):  # noqa: ANN001
    seed_run(DAY - dt.timedelta(days=1))
    main_window.scheduler.clock = FakeClock(dt.datetime.combine(DAY, dt.time(11)))
    main_window.run_log_action.trigger()
    window = main_window.automation_window
    qtbot.waitExposed(window)
    assert window.model.rowCount() == 1
    assert window.pending_label.text() == "Run now runs: 2027-03-10"

    listed: list[int] = []  # the run is listed while it goes (Running), not only after
    window.model.modelReset.connect(lambda: listed.append(window.model.rowCount()))
    click(qtbot, window.run_button)
    assert not window.run_button.isEnabled()
    wait_for(qtbot, lambda: window.report.isVisible(), timeout=20_000)
    assert len(listed) >= 2 and listed[0] == 2, listed
    report = window.report.text()
    assert "Run finished" in report and "2027-03-10" in report and "2 invoices" in report
    # what the run queued waits for a mail server, and the report says where to see it
    assert "2 emails wait in the outbox (mail is not set up: Settings → Mail)" in report
    window.report.linkActivated.emit("emails")
    assert main_window.email_log_window is not None and main_window.email_log_window.isVisible()
    assert main_window.email_log_window.model.rowCount() == 2
    assert window.model.rowCount() == 2
    details = window.details
    assert details.fields["days"].text() == "2027-03-10"
    assert details.fields["status"].text() == "Completed"
    assert details.fields["trigger"].text() == "Run now"
    assert details.counts["invoices_created"].text() == "2"
    assert details.counts["emails_queued"].text() == "2"  # the two "invoice created" emails
    assert details.counts["late_fees"].text() == "0"
    # (the window's run leaves its mail to the courier: not a count of 0 sent)
    assert details.counts["emails_sent"].text() == "—"
    assert "in the background" in details.counts["emails_sent"].toolTip()
    assert window.run_button.isEnabled()
    assert window.pending_label.text().startswith("Up to date")

    window.view.selectRow(1)  # the earlier run, in detail
    assert details.fields["days"].text() == "2027-03-09"
    assert details.fields["trigger"].text() == "Command line"


def test_an_empty_run_log_says_when_the_run_happens(qtbot, main_window):  # noqa: ANN001
    main_window.run_log_action.trigger()
    window = main_window.automation_window
    qtbot.waitExposed(window)
    assert window.model.rowCount() == 0
    assert window.view.placeholder.startswith("No runs yet.")
    assert "billdesk automation run" in window.view.placeholder
    # it is painted in the empty list (and nowhere once there is a run)
    shot = window.view.viewport().grab().toImage()
    assert any(shot.pixelColor(x, y) != shot.pixelColor(0, 0)
               for x in range(0, shot.width(), 4) for y in range(30, 80, 2))


def test_run_now_with_several_days_lists_them_first(qtbot, main_window, answers):  # noqa: ANN001
    seed_run(DAY - dt.timedelta(days=3))
    main_window.scheduler.clock = FakeClock(dt.datetime.combine(DAY, dt.time(11)))
    window = main_window.open_automation()
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, window.run_button)
    assert "3 days" in answers.said[-1] and "2027-03-08" in answers.said[-1]
    qtbot.wait(50)
    assert not window.progress_row.isVisible() and len(run_days()) == 1
    click(qtbot, window.run_button)  # Yes this time
    wait_for(qtbot, lambda: window.report.isVisible(), timeout=20_000)
    assert run_days()[-1] == [DAY - dt.timedelta(days=n) for n in (2, 1, 0)]


def test_progress_is_throttled_and_reaches_the_gui_thread(qtbot, ops):  # noqa: ANN001
    """The worker reports after every step; the window gets at most one
    signal per interval plus the last, on the GUI thread."""
    import threading

    from billdesk.views.scheduler import Scheduler, throttled

    calls = []
    progress = throttled(lambda *a: calls.append(a), interval=10)
    for n in range(1, 101):
        progress(n, 100, f"step {n}")
    assert calls == [(1, 100, "step 1"), (100, 100, "step 100")]

    scheduler = Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(4))))
    seen = []
    scheduler.progress.connect(lambda *a: seen.append((threading.current_thread(), a)))
    finished = []
    scheduler.run_finished.connect(finished.append)
    scheduler.run_now(DAY)
    wait_for(qtbot, lambda: finished, timeout=20_000)
    assert seen and all(thread is threading.main_thread() for thread, _ in seen)
    assert seen[-1][1][0] == seen[-1][1][1]  # the last one: done == total


# --- Settings → Automation ----------------------------------------------------------

def test_settings_page_saves_and_refuses_bad_values_beside_the_field(qtbot, settings_dialog):  # noqa: ANN001
    from billdesk.services import automation

    dialog = settings_dialog
    page = dialog.automation
    dialog.tabs.setCurrentWidget(dialog.products)
    fields = page.form.fields
    assert "14 days before the due date" in page.lead_label.text()  # from Taxes & numbering
    fields["overdue_1"].widget.setValue(10)
    fields["overdue_2"].widget.setValue(5)  # before the first
    fields["terminate"].widget.setChecked(True)
    fields["terminate_days"].widget.setValue(3)  # before suspension (7 days)
    assert not fields["overdue_2"].problem.isHidden()
    assert "after the earlier notice" in fields["overdue_2"].problem.text()
    assert "suspend" in fields["terminate_days"].problem.text()
    assert fields["overdue_1"].problem.isHidden()

    click(qtbot, dialog.save_button)
    assert dialog.isVisible() and dialog.tabs.currentWidget() is page
    assert automation.automation_settings() == automation.AutomationSettings()  # nothing saved

    fields["overdue_2"].widget.setValue(20)
    fields["overdue_3"].widget.setValue(0)  # third notice off
    fields["terminate_days"].widget.setValue(45)
    fields["hour"].widget.setValue(5)
    fields["reminder_days"].widget.setValue(3)
    fields["credit_added_email"].widget.setChecked(True)
    assert fields["overdue_2"].problem.isHidden()
    click(qtbot, dialog.save_button)
    wait_for(qtbot, lambda: not dialog.isVisible())
    stored = automation.automation_settings()
    assert (stored.hour, stored.reminder_days, stored.overdue_days) == (5, 3, [10, 20, 0])
    assert (stored.terminate, stored.terminate_days, stored.credit_added_email) == (True, 45, True)


def test_lead_days_follow_the_billing_page_and_link_to_it(qtbot, settings_dialog):  # noqa: ANN001
    dialog = settings_dialog
    dialog.billing.form.fields["invoice_lead_days"].widget.setValue(0)
    assert "on the due date" in dialog.automation.lead_label.text()
    dialog.tabs.setCurrentWidget(dialog.automation)
    dialog.automation.lead_label.linkActivated.emit("billing")
    assert dialog.tabs.currentWidget() is dialog.billing.taxes_page


# --- a client's overrides (C6) --------------------------------------------------------

def test_client_overrides_save_and_are_logged(qtbot, window):  # noqa: ANN001
    from billdesk.services import automation, changelog

    profile = window.profile
    window.tabs.setCurrentWidget(profile)
    fields = profile.form.form.fields
    assert fields["auto_suspend"].widget.currentText() == "Default (on)"
    assert fields["suspend_days"].widget.text() == "Default (7 days)"
    fields["auto_suspend"].widget.setCurrentIndex(2)  # Off
    fields["auto_terminate"].widget.setCurrentIndex(1)  # On
    fields["terminate_days"].widget.setValue(60)
    fields["payment_reminders"].widget.setCurrentIndex(2)  # Off
    profile.reason.setText("asked by phone")
    click(qtbot, profile.save)
    wait_for(qtbot, lambda: not profile.dirty)
    stored = automation.client_overrides(window.client_id)
    assert stored == automation.ClientOverrides(auto_suspend=False, auto_terminate=True,
                                                terminate_days=60, payment_reminders=False)
    log = {e.field: e for e in changelog.entries(window.client_id)}
    entry = log["Automation: suspend overdue services"]
    assert (entry.old_value, entry.new_value, entry.reason) == ("global setting", "no",
                                                                "asked by phone")
    assert log["Automation: terminate after days"].new_value == "60"
    assert "Automation: automatic status" not in log  # unchanged: not logged

    fields["auto_suspend"].widget.setCurrentIndex(0)  # back to the default
    click(qtbot, profile.save)
    wait_for(qtbot, lambda: not profile.dirty)
    assert automation.client_overrides(window.client_id).auto_suspend is None
    window.reload()
    assert fields["auto_suspend"].widget.currentText() == "Default (on)"
    assert fields["auto_terminate"].widget.currentText() == "On"


def test_override_days_follow_their_switch_and_reminders_need_global_days(
        qtbot, open_window, answers):  # noqa: ANN001
    """The days of a switched-off override are greyed out (as on the global
    page); with no payment reminders globally, "On" cannot be chosen."""
    from billdesk.services import automation

    value = automation.automation_settings()
    value.reminder_days = 0
    automation.save_automation_settings(value)
    window = open_window()
    fields = window.profile.form.form.fields
    suspend, days = fields["auto_suspend"].widget, fields["suspend_days"].widget
    assert suspend.currentText() == "Default (on)" and days.isEnabled()
    suspend.setCurrentIndex(suspend.findData("off"))
    assert not days.isEnabled()
    suspend.setCurrentIndex(suspend.findData("on"))
    assert days.isEnabled()
    terminate, ended = fields["auto_terminate"].widget, fields["terminate_days"].widget
    assert terminate.currentText() == "Default (off)" and not ended.isEnabled()
    reminders = fields["payment_reminders"].widget
    assert reminders.currentText() == "Default (off)"
    assert not reminders.model().item(reminders.findData("on")).isEnabled()
    assert reminders.model().item(reminders.findData("off")).isEnabled()


def test_the_profile_and_the_service_log_overrides_alike() -> None:
    from billdesk.services import automation, clients

    assert clients.OVERRIDE_FIELDS == automation.OVERRIDE_FIELDS
    assert {k: clients.LABELS[k] for k in clients.OVERRIDE_FIELDS} == automation.OVERRIDE_LABELS


def test_client_override_days_are_refused_beside_the_field(qtbot, window):  # noqa: ANN001
    from billdesk.errors import ValidationFailed
    from billdesk.services import clients

    with pytest.raises(ValidationFailed) as refused:
        clients.update_client(window.client_id, {"suspend_days": 0})
    assert refused.value.problems[0].field == "suspend_days"
    profile = window.profile
    profile.form.show_error(refused.value)
    window.tabs.setCurrentWidget(profile)
    assert profile.form.form.fields["suspend_days"].problem.isVisible()


def test_a_group_can_opt_out_of_late_fees(qtbot, client_ops):  # noqa: ANN001
    from billdesk.services import groups
    from billdesk.views.groups_dialog import GroupEditor

    editor = shown(qtbot, GroupEditor(client_ops, None))
    editor.form.set_values({"name": "Charities"})
    editor.form.fields["late_fees"].widget.setChecked(False)
    editor.save()
    wait_for(qtbot, lambda: groups.list_groups())
    assert groups.find_group("Charities").late_fees is False


# --- acceptance 5: the window stays responsive during a 10,000-client run ----------------

@pytest.fixture
def big_book(db_path: Path) -> Iterator[Path]:
    """10,000 clients (the demo generator, no history) with 20,000 services
    due in the lead days of DAY."""
    from billdesk.models import close_database, init_db
    from billdesk.services import demo

    init_db(db_path)
    demo.create_demo(10_000, seed=3, billing=False)
    add_services([(c, name, 999 + k, DAY + dt.timedelta(days=3 * k))
                  for c in range(1, 10_001) for k, name in enumerate(("Web Hosting", "Email"))])
    yield db_path
    close_database()


@pytest.mark.slow
def test_gui_thread_keeps_ticking_during_a_10000_client_run(qtbot, big_book):  # noqa: ANN001
    from billdesk.app import _configure_qsettings
    from billdesk.models import Email
    from billdesk.services import mail
    from billdesk.views.automation_window import AutomationWindow
    from billdesk.views.ops import Operations
    from billdesk.views.scheduler import Scheduler

    _configure_qsettings()
    ops = Operations()
    try:
        scheduler = Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(3))))
        window = shown(qtbot, AutomationWindow(scheduler))
        finished = []
        scheduler.run_finished.connect(finished.append)
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            moment = time.perf_counter()
            gaps.append(moment - last[0])
            last[0] = moment

        timer = QTimer(window)
        timer.setInterval(10)
        timer.timeout.connect(tick)
        timer.start()
        qtbot.wait(50)
        gaps.clear()
        last[0] = time.perf_counter()
        started = time.perf_counter()
        click(qtbot, window.run_button)
        wait_for(qtbot, lambda: finished, timeout=60_000)
        took = time.perf_counter() - started
        qtbot.wait(30)
        during = max(gaps)
        # then the courier writes the run's invoice emails, a batch at a time on the
        # worker (started as the window starts it: the day is done, no run)
        gaps.clear()
        last[0] = time.perf_counter()
        started = time.perf_counter()
        scheduler.start()
        wait_for(qtbot, lambda: not scheduler.delivering and not mail.pending_count(),
                 timeout=60_000)
        writing = time.perf_counter() - started
        qtbot.wait(30)
        timer.stop()
        scheduler.stop()
        report = finished[0]
        print(f"\n10,000-client run: {took:.2f} s, largest gap {during * 1000:.1f} ms; "
              f"then its emails written in {writing:.2f} s, largest gap "
              f"{max(gaps) * 1000:.1f} ms; {report.steps}")
        assert report.status == "Completed" and report.errors == []
        assert report.steps["invoices_created"] >= 10_000
        assert during < 0.1, f"the GUI thread stalled for {during * 1000:.0f} ms"
        assert max(gaps) < 0.1, f"the GUI thread stalled for {max(gaps) * 1000:.0f} ms"
        assert mail.pending_count() == 0 and Email.select().where(
            Email.template == "invoice_created", Email.subject == "").count() == 0
        assert window.details.counts["invoices_created"].text() == f"{report.steps['invoices_created']:,}"
    finally:
        ops.shutdown()


def test_a_running_run_is_said_to_be_running_and_long_ranges_show_whole(qtbot, ops):  # noqa: ANN001
    from types import SimpleNamespace as Row

    from billdesk.views.automation_window import AutomationWindow
    from billdesk.views.models.automation_tables import RunColumn, RunTableModel
    from billdesk.views.scheduler import Scheduler

    model = RunTableModel()
    model.set_rows([Row(id=1, status="Running", started_at=dt.datetime(2026, 11, 30, 9),
                        trigger="window", days=[DAY], duration_ms=0, steps={}, errors=[])])
    assert model.index(0, RunColumn.DID).data() == "running…"
    window = AutomationWindow(Scheduler(ops, FakeClock(dt.datetime.combine(DAY, dt.time(9)))))
    qtbot.addWidget(window)
    width = window.view.fontMetrics().horizontalAdvance("2026-12-02 – 2027-06-01 (182 days)")
    assert window.view.columnWidth(RunColumn.DAYS) > width


def test_a_run_stopped_before_any_day_says_why_in_the_status_bar(qtbot, main_window):  # noqa: ANN001
    from billdesk.services import automation

    report = automation.RunReport(7, [], {}, ["backup: cannot create '/x/backups'"], 12,
                                  status="Failed")
    main_window._automation_finished(report)
    assert main_window.statusBar().currentMessage() == (
        "Automation run failed: backup: cannot create '/x/backups' — 1 error, see "
        "Automation → Run log")
