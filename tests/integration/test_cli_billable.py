"""The billable and recurring commands from outside (SPEC.md D5, B3, B5):
their JSON shapes, exit codes, refusals that print one `error: <field>: …`
line and change nothing, and `invoice generate` picking them up."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import cmd, dump, ok, run

ITEM_KEYS = {"id", "client_id", "description", "hours", "rate", "amount", "currency", "taxed",
             "action", "due_date", "every", "unit", "count", "invoiced", "invoice_id", "waiting",
             "notes"}
RECURRING_KEYS = {"id", "client_id", "every", "unit", "start_date", "next_date", "count", "until",
                  "issued", "status", "due_days", "payment_method", "notes", "total", "lines"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "USD")["id"] == 1
    return path


def test_billable_add_list_and_generate(home: Path, book: Path) -> None:
    hours = ok(home, book, "billable", "add", "1", "--description", "Consulting", "--hours", "1.5",
               "--rate", "33.33", "--action", "next")
    assert set(hours) == ITEM_KEYS
    assert (hours["amount"], hours["hours"], hours["rate"], hours["waiting"]) == (
        "50.00", "1.5", "33.33", True)
    recur = cmd(home, book, "billable", "add", "1", "--description", "Support", "--amount", "10",
                "--action", "recur", "--due", "2026-03-01", "--every", "2", "--unit", "week",
                "--count", "2")
    assert (recur["every"], recur["unit"], recur["count"], recur["due_date"]) == (
        2, "week", 2, "2026-03-01")
    kept = ok(home, book, "billable", "add", "1", "--description", "Kept", "--amount", "5")
    assert kept["action"] == "none" and kept["waiting"] is False
    listed = ok(home, book, "billable", "list", "1")
    assert [i["id"] for i in listed["billable_items"]] == [kept["id"], recur["id"], hours["id"]]
    queued = ok(home, book, "billable", "list", "1", "--queued")["billable_items"]
    assert [i["id"] for i in queued] == [hours["id"], recur["id"]]

    made = ok(home, book, "invoice", "generate", "--date", "2026-03-01")["invoices"]
    items = sorted((line["link_id"], line["amount"], inv["due_date"]) for inv in made
                   for line in inv["lines"] if line["type"] == "Item")
    assert items == sorted([(hours["id"], "50.00", "2026-03-01"),
                            (recur["id"], "10.00", "2026-03-01"),
                            (recur["id"], "10.00", "2026-03-15")])
    assert ok(home, book, "invoice", "generate", "--date", "2026-03-01")["invoices"] == []
    assert ok(home, book, "billable", "list", "1", "--queued")["billable_items"] == []
    shown = ok(home, book, "billable", "show", str(recur["id"]))
    assert (shown["invoiced"], shown["due_date"]) == (2, "2026-03-29")
    assert ok(home, book, "billable", "delete", str(kept["id"])) == {"deleted": kept["id"]}
    text = run(home, "--db", str(book), "billable", "list", "1")
    assert text.code == 0 and "Consulting" in text.stdout and "2 items" in text.stdout


@pytest.mark.parametrize(("args", "field"), [
    (["1", "--description", "X"], "amount"),
    (["1", "--description", "X", "--amount", "-5"], "amount"),
    (["1", "--description", "X", "--hours", "2", "--rate", "10", "--amount", "25"], "amount"),
    (["1", "--description", "X", "--hours", "2"], "rate"),
    (["1", "--description", "X", "--amount", "5", "--action", "due"], "due"),
    (["1", "--description", "X", "--amount", "5", "--action", "sometimes"], "action"),
    (["1", "--description", "X", "--amount", "5", "--action", "recur", "--every", "1"], "count"),
    (["1", "--description", "X", "--amount", "5", "--action", "recur", "--every", "1",
      "--count", "2", "--unit", "fortnight"], "unit"),
    (["1", "--description", "X", "--amount", "5", "--every", "1"], "every"),
    (["9", "--description", "X", "--amount", "5"], "client_id"),
])
def test_billable_refusals_exit_1_and_write_nothing(home: Path, book: Path, args: list[str],
                                                    field: str) -> None:
    before = dump(book)
    done = run(home, "--db", str(book), "billable", "add", *args)
    assert done.code == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and f"{field}: " in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert dump(book) == before


def test_recurring_add_list_and_generate(home: Path, book: Path) -> None:
    rec = ok(home, book, "recurring", "add", "1", "--item", "Plan=10", "--item", "Disk a=b=2.50",
             "--every", "1", "--unit", "month", "--start", "2026-01-31", "--count", "3",
             "--due-days", "7")
    assert set(rec) == RECURRING_KEYS
    assert (rec["total"], rec["next_date"], rec["status"]) == ("12.50", "2026-01-31", "Active")
    assert [line["description"] for line in rec["lines"]] == ["Plan", "Disk a=b"]
    until = cmd(home, book, "recurring", "add", "1", "--item", "Year=100", "--every", "1", "--unit",
                "year", "--start", "2026-02-01", "--until", "2026-12-31")
    listed = ok(home, book, "recurring", "list", "1")["recurring_invoices"]
    assert [r["id"] for r in listed] == [until["id"], rec["id"]]
    made = []
    for date in ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-03-31"):
        made += ok(home, book, "invoice", "generate", "--date", date)["invoices"]
    assert sorted((inv["date"], inv["due_date"], inv["total"]) for inv in made) == [
        ("2026-01-31", "2026-02-07", "12.50"), ("2026-02-01", "2026-02-01", "100.00"),
        ("2026-02-28", "2026-03-07", "12.50"), ("2026-03-31", "2026-04-07", "12.50")]
    shown = ok(home, book, "recurring", "show", str(rec["id"]))
    assert (shown["status"], shown["issued"], shown["next_date"]) == ("Finished", 3, None)
    # the yearly one ended with its first issue (the next would be after --until)
    assert ok(home, book, "recurring", "show", str(until["id"]))["status"] == "Finished"
    refused = run(home, "--db", str(book), "recurring", "stop", str(until["id"]))
    assert (refused.code, refused.stderr) == (1, f"error: status: recurring invoice "
                                                 f"#{until['id']} is Finished\n")
    again = cmd(home, book, "recurring", "add", "1", "--item", "A=1", "--start", "2027-01-01")
    assert ok(home, book, "recurring", "stop", str(again["id"]))["status"] == "Stopped"
    assert ok(home, book, "recurring", "delete", str(again["id"])) == {"deleted": again["id"]}


def test_recurring_refusals(home: Path, book: Path) -> None:
    before = dump(book)
    for args, field in (
            (["1", "--start", "2026-01-01"], "item"),
            (["1", "--item", "Plan", "--start", "2026-01-01"], "item"),
            (["1", "--item", "Plan=x", "--start", "2026-01-01"], "item"),
            (["1", "--item", "Plan=1", "--start", "2026-02-30"], "start"),
            (["1", "--item", "Plan=1", "--start", "2026-01-01", "--unit", "week"], "unit"),
            (["1", "--item", "Plan=1", "--start", "2026-01-01", "--every", "0"], "every"),
            (["1", "--item", "Plan=1", "--start", "2026-01-01", "--until", "2025-01-01"], "until"),
            (["7", "--item", "Plan=1", "--start", "2026-01-01"], "client_id")):
        done = run(home, "--db", str(book), "recurring", "add", *args)
        assert done.code == 1, (args, done.stderr)
        assert done.stderr.startswith("error: ") and f"{field}: " in done.stderr, done.stderr
    usage = run(home, "--db", str(book), "recurring", "add", "1", "--item", "A=1", "--start",
                "2026-01-01", "--count", "2", "--until", "2026-12-31")
    assert usage.code == 2
    assert run(home, "--db", str(book), "recurring", "add", "1", "--item", "A=1").code == 2
    assert run(home, "--db", str(book), "recurring", "show", "99").code == 1
    assert dump(book) == before
