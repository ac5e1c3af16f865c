"""The ticket commands from outside (SPEC.md D5, F3): `ticket open`,
`reply`, `list`, `show` and `close` as a user runs them — the JSON shapes,
the statuses replies leave, exit codes, and refusals that print one
`error: <field>: …` line and change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import cli_helpers
from cli_helpers import cmd, ok, query, run

TICKET_KEYS = {"id", "client_id", "subject", "priority", "status", "date", "created_at",
               "updated_at", "replies_count", "last_reply_by"}
REPLY_KEYS = {"id", "ticket_id", "author", "name", "message", "created_at"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com")["id"] == 1
    assert ok(home, path, "client", "add", "--first", "Bob", "--last", "Ray", "--email",
              "bob@example.com")["id"] == 2
    return path


def refused(home: Path, book: Path, *args: str) -> str:
    """``cli_helpers.refused`` with ``--json``: a refusal is still one
    `error:` line on stderr and nothing on stdout."""
    return cli_helpers.refused(home, book, *args, "--json")


def test_open_reply_and_show_a_ticket(home, book):
    opened = ok(home, book, "ticket", "open", "1", "--subject", "Mail is down", "--message",
                "No mail since noon.\nPlease look.", "--priority", "high")
    assert set(opened) == TICKET_KEYS | {"replies"}
    assert {k: opened[k] for k in ("client_id", "subject", "priority", "status", "replies_count",
                                   "last_reply_by")} == {
        "client_id": 1, "subject": "Mail is down", "priority": "High", "status": "Open",
        "replies_count": 1, "last_reply_by": "staff"}
    assert len(opened["date"]) == 10 and opened["created_at"].startswith(opened["date"])
    [first] = opened["replies"]
    assert set(first) == REPLY_KEYS
    assert (first["author"], first["message"], first["ticket_id"]) == (
        "staff", "No mail since noon.\nPlease look.", opened["id"])

    ticket = str(opened["id"])
    answered = ok(home, book, "ticket", "reply", ticket, "--message", "Fixed the relay.")
    assert (answered["id"], answered["status"], answered["replies_count"]) == (opened["id"],
                                                                           "Answered", 2)
    back = cmd(home, book, "ticket", "reply", ticket, "--message", "Works, thanks",
               "--from-client")
    assert (back["status"], back["last_reply_by"]) == ("Customer reply", "client")
    assert back["replies"][-1]["author"] == "client" and back["replies"][-1]["name"] == "Ann Lee"
    closed = ok(home, book, "ticket", "reply", ticket, "--message", "Closing it.", "--close")
    assert (closed["status"], closed["replies_count"]) == ("Closed", 4)
    assert ok(home, book, "ticket", "show", ticket) == closed

    text = run(home, "ticket", "show", ticket, "--db", str(book))
    assert text.code == 0 and text.stderr == ""
    assert "Mail is down" in text.stdout and "Status: Closed" in text.stdout
    assert "Works, thanks" in text.stdout and "Ann Lee (client)" in text.stdout
    assert query(book, "SELECT message FROM client_log WHERE client_id = 1 AND message LIKE "
                 "'%icket%' ORDER BY id") == [
        (f"Ticket #{ticket} opened: Mail is down",),
        (f"Staff reply on ticket #{ticket}: Fixed the relay.",),
        (f"Client reply on ticket #{ticket}: Works, thanks",),
        (f"Staff reply on ticket #{ticket}: Closing it.",)]


def test_list_is_latest_activity_first_and_filters(home, book):
    first = ok(home, book, "ticket", "open", "1", "--subject", "First", "--message", "1")["id"]
    second = ok(home, book, "ticket", "open", "1", "--subject", "Second", "--message", "2",
                "--from-client")["id"]
    ok(home, book, "ticket", "open", "2", "--subject", "Bob's", "--message", "b")
    closed = ok(home, book, "ticket", "close", str(first))
    assert closed["status"] == "Closed" and closed["id"] == first
    listed = ok(home, book, "ticket", "list", "1")
    assert list(listed) == ["tickets"]
    assert all(set(t) == TICKET_KEYS for t in listed["tickets"])
    assert {t["id"] for t in listed["tickets"]} == {first, second}
    assert [t["id"] for t in ok(home, book, "ticket", "list", "1", "--status", "Active")[
        "tickets"]] == [second]
    assert [t["id"] for t in ok(home, book, "ticket", "list", "1", "--status", "closed")[
        "tickets"]] == [first]
    assert ok(home, book, "ticket", "list", "1", "--status", "Answered") == {"tickets": []}
    text = run(home, "ticket", "list", "1", "--db", str(book))
    assert text.code == 0 and "First" in text.stdout and "Second" in text.stdout
    empty = run(home, "ticket", "list", "1", "--status", "Answered", "--db", str(book))
    assert empty.code == 0 and "no Answered tickets" in empty.stdout


def test_refusals_name_the_field_and_change_nothing(home, book):
    ticket = str(ok(home, book, "ticket", "open", "1", "--subject", "S", "--message", "M")["id"])
    assert refused(home, book, "ticket", "open", "1", "--subject", " ", "--message", "M") == (
        "error: subject: is empty; say what the ticket is about")
    assert refused(home, book, "ticket", "open", "1", "--subject", "S", "--message", "").startswith(
        "error: message: ")
    assert refused(home, book, "ticket", "open", "1", "--subject", "S", "--message", "M",
                   "--priority", "Urgent").startswith("error: priority: 'Urgent': must be one of")
    assert refused(home, book, "ticket", "open", "9", "--subject", "S", "--message", "M") == (
        "error: client_id: no client with id 9")
    assert refused(home, book, "ticket", "open", "x", "--subject", "S", "--message", "M"
                   ).startswith("error: client_id: ")
    assert refused(home, book, "ticket", "reply", "99", "--message", "M") == (
        "error: ticket: no ticket with id 99")
    assert refused(home, book, "ticket", "reply", ticket, "--message", "M", "--status",
                   "Pending").startswith("error: status: ")
    assert refused(home, book, "ticket", "reply", ticket, "--message", "M", "--status", "Open",
                   "--close").startswith("error: status: ")
    assert refused(home, book, "ticket", "show", "0").startswith("error: id: ")
    assert refused(home, book, "ticket", "close", "42") == "error: ticket: no ticket with id 42"
    assert refused(home, book, "ticket", "list", "1", "--status", "Later").startswith(
        "error: status: ")


def test_usage_errors_exit_2(home, book):
    for args in (("ticket", "open", "1", "--message", "M"),  # no --subject
                 ("ticket", "reply", "1"),  # no --message
                 ("ticket", "list"),
                 ("ticket", "frobnicate")):
        done = run(home, *args, "--db", str(book))
        assert done.code == 2 and done.stdout == "", args


def test_an_archived_clients_tickets_are_refused(home, book):
    ticket = str(ok(home, book, "ticket", "open", "2", "--subject", "S", "--message", "M")["id"])
    ok(home, book, "ticket", "close", ticket)
    ok(home, book, "client", "archive", "2")
    assert refused(home, book, "ticket", "reply", ticket, "--message", "M") == (
        "error: client: #2 is archived: unarchive it to change it")
    assert refused(home, book, "ticket", "open", "2", "--subject", "S", "--message", "M"
                   ).startswith("error: client: ")
    assert [t["status"] for t in ok(home, book, "ticket", "list", "2")["tickets"]] == ["Closed"]
