"""`billdesk automation run|log` as a user (or cron) runs them, and
acceptance 3 of issue 6: a date run twice changes nothing, and a headless
run killed part-way (SIGKILL) then run again ends where one clean run
ends — the same database and outbox, the run log and backups aside."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import BILLDESK, cmd, dump, ok, query, run

from billdesk.models import close_database, init_db

STEP_KEYS = ["invoices_created", "credit_applied", "reminders", "overdue_notices", "late_fees",
             "suspended", "terminated", "status_changes", "quotes_expired", "recurring_invoices",
             "billable_items", "emails_queued", "emails_sent"]
NOW = "2026-03-01T03:00:00"


def book_dump(path: Path) -> list[str]:
    """Everything but the run log and the days done."""
    return [line for line in dump(path)
            if "automation_run" not in line and "automation_day" not in line]


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (the outbox included), the run log, the
    days done and their sequence aside: quicker than a dump of a big book."""
    con = sqlite3.connect(path)
    try:
        tables = [name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT IN ('automation_run', 'automation_day') ORDER BY name")]
        found = {name: con.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
                 for name in tables if name != "sqlite_sequence"}
        found["sqlite_sequence"] = con.execute(
            "SELECT * FROM sqlite_sequence WHERE name <> 'automation_run' ORDER BY 1").fetchall()
        return found
    finally:
        con.close()


def assert_same(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> None:
    assert list(got) == list(want)
    for table in want:  # table by table, for a readable failure
        assert len(got[table]) == len(want[table]), table
        assert got[table] == want[table], table


@pytest.fixture
def small_book(tmp_path: Path) -> Path:
    """Two clients: one with a service overdue since 02-20, one with nothing."""
    from billdesk.services import billing_run, clients, subscriptions

    path = tmp_path / "small.sqlite3"
    init_db(path)
    try:
        owing = clients.add_client({"first_name": "Ada", "last_name": "Owing",
                                    "email": "ada@example.com", "currency": "GBP"})
        clients.add_client({"first_name": "Bob", "last_name": "Idle",
                            "email": "bob@example.com", "currency": "GBP"})
        subscriptions.add_service(owing, name="Hosting", amount="10.00", cycle="monthly",
                                  next_due=dt.date(2026, 2, 20),
                                  signup_date=dt.date(2026, 1, 20))
        billing_run.generate_due(client_id=owing, today=dt.date(2026, 2, 10))
    finally:
        close_database()
    return path


def test_run_prints_the_d5_shape_and_a_second_run_does_nothing(home, small_book, monkeypatch):
    monkeypatch.setenv("BILLDESK_NOW", NOW)
    first = ok(home, small_book, "automation", "run", "--date", "2026-03-01")
    assert list(first) == ["days", "steps", "errors"]
    assert first["days"] == ["2026-03-01"] and first["errors"] == []
    assert list(first["steps"]) == STEP_KEYS
    assert all(isinstance(v, int) for v in first["steps"].values())
    assert first["steps"]["suspended"] == 1 and first["steps"]["status_changes"] == 1
    before = book_dump(small_book)
    second = cmd(home, small_book, "automation", "run", "--date", "2026-03-01")
    assert second == {"days": [], "steps": dict.fromkeys(STEP_KEYS, 0), "errors": []}
    assert book_dump(small_book) == before
    # catching up: every day after the last one done
    monkeypatch.setenv("BILLDESK_NOW", "2026-03-03T03:00:00")
    third = ok(home, small_book, "automation", "run", "--date", "2026-03-03")
    assert third["days"] == ["2026-03-02", "2026-03-03"]
    log = ok(home, small_book, "automation", "log")
    assert list(log) == ["runs"] and len(log["runs"]) == 3
    newest = log["runs"][0]
    assert newest["days"] == ["2026-03-02", "2026-03-03"] and newest["status"] == "Completed"
    assert newest["trigger"] == "cli" and list(newest["steps"]) == STEP_KEYS
    assert log["runs"][2]["steps"] == first["steps"]
    assert log["runs"][2]["started_at"] == "2026-03-01 03:00:00"


def test_text_output_is_a_short_report(home, small_book, monkeypatch):
    monkeypatch.setenv("BILLDESK_NOW", NOW)
    done = run(home, "automation", "run", "--date", "2026-03-01", "--db", str(small_book))
    assert done.code == 0 and done.stderr == ""
    assert done.stdout.startswith("Ran 2026-03-01 (Completed")
    assert "Suspend overdue services" in done.stdout and "Emails sent" in done.stdout
    # no mail set up: what waits, and why
    assert done.stdout.rstrip().endswith(" in the outbox: mail is not set up "
                                         "(billdesk → Settings → Mail)")
    done = run(home, "automation", "log", "--db", str(small_book))
    assert done.code == 0 and "Completed 2026-03-01" in done.stdout
    assert "Suspend overdue services 1" in done.stdout  # the steps' titles, as the run says them
    assert "Command line" in done.stdout  # who ran it, as the window's Run log says it


def test_refused_input(home, small_book, monkeypatch):
    before = dump(small_book)
    done = run(home, "automation", "run", "--date", "2026-02-30", "--db", str(small_book),
               "--json")
    assert (done.code, done.stdout) == (1, "")
    assert done.stderr.startswith("error: date: ") and done.stderr.count("\n") == 1
    # a day that has not come (a typo of a year would run months ahead, for good)
    monkeypatch.setenv("BILLDESK_NOW", NOW)
    done = run(home, "automation", "run", "--date", "2027-03-01", "--db", str(small_book))
    assert (done.code, done.stdout) == (1, "")
    assert done.stderr == ("error: date: 2027-03-01 is after today (2026-03-01): the daily run "
                           "only runs days that have come\n")
    done = run(home, "automation", "log", "--limit", "0", "--db", str(small_book))
    assert done.code == 1 and done.stderr.startswith("error: limit: ")
    assert run(home, "automation", "run", "--when", "x", "--db", str(small_book)).code == 2
    assert run(home, "automation", "--db", str(small_book)).code == 2
    assert dump(small_book) == before


def test_a_run_that_fails_exits_1_for_cron_with_its_report(home, small_book, monkeypatch):
    """No backup (the backups folder is a file): nothing runs, the report
    says why, and the exit code tells cron (1, with an error line)."""
    monkeypatch.setenv("BILLDESK_NOW", NOW)
    folder = home / "data" / "backups"
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    before = book_dump(small_book)
    try:
        done = run(home, "automation", "run", "--date", "2026-03-01", "--db", str(small_book),
                   "--json")
        text = run(home, "automation", "run", "--date", "2026-03-01", "--db", str(small_book))
    finally:
        folder.unlink()  # (the home is the module's)
    assert (done.code, done.stdout) == (1, "")  # D5: exit 1, one error line, nothing else
    assert done.stderr.startswith("error: run: backup: cannot create")
    assert done.stderr.endswith("; see billdesk automation log\n")
    assert done.stderr.count("\n") == 1
    assert book_dump(small_book) == before
    assert (text.code, text.stdout) == (1, "")
    log = ok(home, small_book, "automation", "log")
    assert log["runs"][0]["status"] == "Failed" and log["runs"][0]["days"] == []


def test_emails_a_template_cannot_write_are_errors_of_the_run(home, small_book, monkeypatch):
    """A template that passed its checks but fails on this data (a division
    by the length of the name less five): the messages are Failed in the Email
    log, and the run's report and its log say so (the run completed: exit 0)."""
    from billdesk.services import templates

    init_db(small_book)
    try:
        templates.save_template("overdue_1", language="en", subject="Overdue",
                                body="{{ 100 // (client.last_name | length - 5) }}")
    finally:
        close_database()
    monkeypatch.setenv("BILLDESK_NOW", NOW)
    done = run(home, "automation", "run", "--date", "2026-02-21", "--db", str(small_book),
               "--json")  # (its invoice fell due on 02-20: the first notice)
    assert done.code == 0
    report = json.loads(done.stdout)
    assert report["days"] == ["2026-02-21"] and report["steps"]["overdue_notices"] == 1
    (error,) = report["errors"]
    assert error.startswith("2026-02-21 1 email could not be written (Automation → Email log, "
                            "Failed): template 'overdue_1' (en), body: cannot be rendered")
    assert query(small_book, "SELECT status FROM email WHERE template = 'overdue_1'") == [
        ("Failed",)]
    log = ok(home, small_book, "automation", "log")
    assert log["runs"][0]["errors"] == [error]


def test_the_runs_invoice_emails_are_written_at_its_end_even_with_no_delivery(
        home, small_book, monkeypatch):
    """``automation run`` writes the text of the invoice emails it queued
    at its end (delivery's first step), with --no-deliver too: none is left
    without its text, and one its template cannot write is an error of the
    run (exit 0: the days are done)."""
    from billdesk.services import subscriptions, templates

    def hosting(due: dt.date) -> None:  # for Bob Idle (client #2)
        subscriptions.add_service(2, name="Hosting", amount="10.00", cycle="monthly",
                                  next_due=due, signup_date=due - dt.timedelta(days=28))

    init_db(small_book)
    try:
        hosting(dt.date(2026, 3, 15))
        templates.save_template("invoice_created", language="en", subject="Invoice {{ "
                                "invoice.number }}",
                                body="{{ 100 // (client.last_name | length - 4) }}")
    finally:
        close_database()
    monkeypatch.setenv("BILLDESK_NOW", "2026-03-07T03:00:00")
    done = run(home, "automation", "run", "--date", "2026-03-07", "--no-deliver",
               "--db", str(small_book), "--json")  # (the 03-15 renewal is billed)
    assert done.code == 0
    report = json.loads(done.stdout)
    assert report["steps"]["invoices_created"] == 1
    assert report["errors"] == [
        "1 email could not be written (Automation → Email log, Failed): template "
        "'invoice_created' (en), body: cannot be rendered: integer division or modulo by zero"]
    assert query(small_book, "SELECT status, pending FROM email WHERE template = "
                             "'invoice_created' AND client_id = 2") == [("Failed", 0)]
    assert ok(home, small_book, "automation", "log")["runs"][0]["errors"] == report["errors"]
    # a template that writes: the text is there when the run ends, waiting for delivery
    init_db(small_book)
    try:
        hosting(dt.date(2026, 4, 15))
        templates.save_template("invoice_created", language="en",
                                subject="Invoice {{ invoice.number }}", body="Total {{ "
                                "invoice.total }}")
    finally:
        close_database()
    monkeypatch.setenv("BILLDESK_NOW", "2026-04-07T03:00:00")
    assert run(home, "automation", "run", "--date", "2026-04-07", "--no-deliver",
               "--db", str(small_book)).code == 0
    assert query(small_book, "SELECT status, pending, to_addr, body FROM email WHERE template = "
                             "'invoice_created' AND client_id = 2 ORDER BY id")[1:] == [
        ("Queued", 0, "bob@example.com", "Total £10.00")]


def test_a_book_another_program_is_writing_is_busy_not_a_bug(home, small_book):
    """Exit 1 with a plain line, not exit 3 "internal error"."""
    holder = sqlite3.connect(small_book, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        done = run(home, "credit", "add", "1", "5", "--description", "x", "--db",
                   str(small_book))
    finally:
        holder.rollback()
        holder.close()
    assert done.code == 1 and done.stdout == ""
    assert done.stderr == ("error: db: the book is busy: another program is writing to it; "
                           "try again when it has finished\n")


# --- SIGKILL part-way, then a rerun (acceptance 3)

DAY = dt.date(2026, 3, 1)
LAST = DAY + dt.timedelta(days=2)


@pytest.fixture(scope="module")
def big_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo book of 2,000 clients whose last run was the day before DAY:
    the run catches up three days."""
    from billdesk.models import AutomationDay
    from billdesk.services import automation, billing_settings, demo

    path = tmp_path_factory.mktemp("kill") / "book.sqlite3"
    init_db(path)
    try:
        demo.create_demo(2000, 3, today=dt.datetime(2026, 2, 28, 9, 0))
        billing_settings.save_billing(billing_settings.BillingSettings(
            late_fee_kind="percent", late_fee_amount="10", late_fee_minimum="5", late_fee_days=5))
        automation.save_automation_settings(automation.AutomationSettings(terminate=True))
        AutomationDay.create(date=DAY - dt.timedelta(days=1), finished_at=dt.datetime(2026, 2, 28))
    finally:
        close_database()
    return path


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BILLDESK_DB", "BILLDESK_HOME", "BILLDESK_AUTOMATION_PAUSE_AFTER")}
    env.update(BILLDESK_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               BILLDESK_NOW=f"{LAST.isoformat()}T03:00:00", **extra)
    return env


def _args(db: Path) -> list[str]:
    return [str(BILLDESK), "automation", "run", "--date", LAST.isoformat(), "--db", str(db),
            "--json"]


def _finish(home: Path, db: Path) -> dict:
    done = subprocess.run(_args(db), capture_output=True, text=True, env=_env(home), timeout=300,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def clean(big_book: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[dict[str, list[tuple]], float]:
    """One clean run: its book (as SQL) and how long it took."""
    folder = tmp_path_factory.mktemp("clean")
    db = folder / "clean.sqlite3"
    shutil.copy(big_book, db)
    started = time.monotonic()
    report = _finish(folder, db)
    took = time.monotonic() - started
    assert report["days"] == [(DAY + dt.timedelta(days=n)).isoformat() for n in range(3)]
    steps = report["steps"]
    assert steps["invoices_created"] > 100 and steps["suspended"] > 0
    assert steps["reminders"] > 0 and steps["overdue_notices"] > 0 and steps["late_fees"] > 0
    assert steps["emails_queued"] >= steps["reminders"] + steps["overdue_notices"]
    return snapshot(db), took


def _integrity(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


@pytest.mark.parametrize("pause", ["invoices_created", "overdue_notices", "late_fees",
                                   "suspended"])
def test_killed_after_a_step_then_rerun_ends_like_a_clean_run(big_book, clean, tmp_path, pause):
    db = tmp_path / "killed.sqlite3"
    shutil.copy(big_book, db)
    proc = subprocess.Popen(_args(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp_path, BILLDESK_AUTOMATION_PAUSE_AFTER=pause),
                            stdin=subprocess.DEVNULL)
    try:
        line = proc.stderr.readline()
        assert line == f"paused after {pause}\n", line + proc.stderr.read()
        # one run at a time: a second one is refused while this one holds the book
        second = subprocess.run(_args(db), capture_output=True, text=True, env=_env(tmp_path),
                                timeout=60, stdin=subprocess.DEVNULL)
        assert (second.returncode, second.stdout) == (1, "")
        assert second.stderr.startswith("error: run: another automation run is in progress")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    _integrity(db)
    # the killed run did part of the first day: not recorded as done
    assert query(db, "SELECT count(*) FROM automation_day") == [(1,)]
    assert query(db, "SELECT status FROM automation_run") == [("Running",)]
    report = _finish(tmp_path, db)
    assert report["errors"] == [] and len(report["days"]) == 3
    assert_same(snapshot(db), clean[0])
    assert query(db, "SELECT status FROM automation_run ORDER BY id") == [("Failed",),
                                                                          ("Completed",)]


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.85])
def test_killed_at_any_moment_then_rerun_ends_like_a_clean_run(big_book, clean, tmp_path,
                                                               fraction):
    """SIGKILL at a moment in the run, most likely inside a transaction."""
    db = tmp_path / "killed.sqlite3"
    shutil.copy(big_book, db)
    proc = subprocess.Popen(_args(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=_env(tmp_path), stdin=subprocess.DEVNULL)
    time.sleep(clean[1] * fraction)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _integrity(db)
    report = _finish(tmp_path, db)
    assert report["errors"] == []
    assert_same(snapshot(db), clean[0])


def test_client_add_welcome_and_credit_add_notify_queue_their_emails(home, tmp_path):
    db = tmp_path / "book.sqlite3"
    client = ok(home, db, "client", "add", "--first", "Ada", "--last", "Lovelace",
                "--email", "ada@example.com", "--welcome")
    quiet = ok(home, db, "client", "add", "--first", "Bo", "--last", "Quiet",
               "--email", "bo@example.com")
    ok(home, db, "credit", "add", str(client["id"]), "10.00", "--description", "Goodwill",
       "--notify")
    ok(home, db, "credit", "add", str(quiet["id"]), "10.00", "--description", "Goodwill")
    rows = query(db, "SELECT client_id, template, to_addr, status FROM email ORDER BY id")
    assert rows == [(client["id"], "welcome", "ada@example.com", "Queued"),
                    (client["id"], "credit_added", "ada@example.com", "Queued")]
