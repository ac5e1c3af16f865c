"""services/activity.py: the book's activity log — every client's changes
in one list, newest first, a page at a time; and what no client's log can
hold: a client deleted (JOURNEYS 6: "… and is in the change log") and the
book restored from a backup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from billdesk import clock
from billdesk.models import database
from billdesk.services import activity, backup, changelog, clients, lifecycle, settings

from billing_helpers import new_client


def test_every_clients_changes_newest_first_a_page_at_a_time(db) -> None:
    ada = new_client(first_name="Ada", last_name="Lovelace", company="Engines Ltd")
    bob = new_client(first_name="Bob", last_name="Brown")
    with clock.frozen(dt.datetime(2026, 5, 1, 9, 0)):
        clients.update_client(ada, {"phone": "+44 20 7946 0000"})
        changelog.record(bob, "Called about the invoice", actor="sam")
    found = activity.entries()
    assert found[0].client_id == bob and found[0].what == "Called about the invoice"
    assert (found[0].actor, found[0].at) == ("sam", dt.datetime(2026, 5, 1, 9, 0))
    assert found[1].client_id == ada and found[1].client_name == "Ada Lovelace"
    assert "Phone" in found[1].what and "+44 20 7946 0000" in found[1].what
    assert all(e.exists for e in found)
    everything = [e.id for e in found]
    assert everything == sorted(everything, reverse=True)
    # page by page, each entry once
    pages, before = [], None
    while page := activity.entries(before=before, limit=2):
        pages += [e.id for e in page]
        before = page[-1].id
    assert pages == everything
    # the names as the display setting says
    settings.set_display_format("company_or_name")
    assert activity.entries()[1].client_name == "Engines Ltd"


def test_changes_by_people_and_by_the_daily_run(db) -> None:
    from billdesk.services import automation

    ada = new_client(first_name="Ada", last_name="Lovelace")
    changelog.record(ada, "Suspended by the daily run", actor=automation.ACTOR)
    changelog.record(ada, "Called about the invoice", actor="sam")
    assert activity.RUN_ACTOR == automation.ACTOR
    assert [e.what for e in activity.entries("automation")] == ["Suspended by the daily run"]
    people = activity.entries("people")
    assert people[0].what == "Called about the invoice"
    assert all(e.actor != automation.ACTOR for e in people)
    assert len(activity.entries("changes")) == len(people) + 1
    assert [e.id for e in activity.entries("people", before=people[0].id)] == [
        e.id for e in people[1:]]


def test_a_deleted_client_is_in_the_book_log_with_its_name_and_what_went(db) -> None:
    from billdesk.services import invoicing, payments

    grace = new_client(first_name="Grace", last_name="Hopper", currency="GBP")
    other = new_client(first_name="Alan", last_name="Turing")
    invoice_id = invoicing.create_invoice(grace, [invoicing.LineInput("Hosting", "10.00")])
    payments.add_payment(invoice_id, "10.00", method="Bank transfer")
    changelog.record(other, "Unrelated")
    with clock.frozen(dt.datetime(2026, 6, 1, 10, 30)):
        result = lifecycle.delete_client(grace, actor="sam")
    [entry] = activity.entries("book")
    assert (entry.client_id, entry.client_name, entry.actor) == (grace, "Grace Hopper", "sam")
    assert entry.at == dt.datetime(2026, 6, 1, 10, 30)
    assert entry.what.startswith(f"{activity.DELETED}: #{grace} with ")
    assert "1 invoice" in entry.what and "1 transaction kept with the name" in entry.what
    assert entry.what.endswith(f"backup {result.backup.name}") and not entry.exists
    # the client's own log went with it; the others' stay, the deletion among them
    everything = activity.entries()
    assert {e.client_id for e in everything if e.id > 0} == {other}
    assert [e.what for e in everything if e.id < 0] == [entry.what]
    assert activity.entries("automation") == []


def test_a_client_merged_away_is_in_the_book_log_and_keeps_its_name(db) -> None:
    """A merge ends the source's id as a delete does: the book's log keeps
    who it was, which backup was taken, and its name for the backups list
    (even once SQLite hands the id out again)."""
    kept = new_client(first_name="Kim", last_name="Kept")
    going = new_client(first_name="Otto", last_name="Merged")
    with clock.frozen(dt.datetime(2026, 6, 1, 10, 30)):
        result = lifecycle.merge_clients(going, kept, actor="sam")
    [entry] = activity.entries("book")
    assert (entry.client_id, entry.client_name, entry.actor) == (going, "Otto Merged", "sam")
    assert entry.what == f"{activity.MERGED}: #{going} into #{kept}; backup {result.backup.name}"
    again = new_client(first_name="Nina", last_name="New")
    assert again == going  # the id, handed out again
    assert activity.removed_name(going, dt.datetime(2026, 6, 1, 10, 30)) == "Otto Merged"
    assert activity.removed_name(going, dt.datetime(2026, 6, 1, 10, 31)) is None
    assert activity.client_names([going]) == {going: "Nina New"}  # (as it is called now)


def test_the_book_events_fall_among_the_changes_by_time_page_after_page(db) -> None:
    ada = new_client(first_name="Ada", last_name="Lovelace")
    gone = []
    for day in range(1, 7):
        with clock.frozen(dt.datetime(2026, 7, day, 9, 0)):
            changelog.record(ada, f"Day {day}", actor="sam")
            if day in (2, 5):
                gone.append(new_client(first_name="Temp", last_name=f"Client {day}"))
        if day in (2, 5):
            with clock.frozen(dt.datetime(2026, 7, day, 12, 0)):
                lifecycle.delete_client(gone[-1])
    with clock.frozen(dt.datetime(2026, 7, 3, 12, 0)), database.atomic():
        activity.record(activity.RESTORED, "from an older backup")  # (written last, dated earlier)
    whole = [e.what for e in activity.entries()]
    for size in (1, 2, 3, 10):
        pages: list = []
        while True:
            before, shown = activity.cursor(pages)
            page = activity.entries(before=before, shown=shown, limit=size)
            pages += page
            if len([e for e in page if e.id > 0]) < size:
                break
        assert [e.what for e in pages] == whole, size
    days = [w for w in whole if w.startswith("Day")]
    assert days == [f"Day {d}" for d in range(6, 0, -1)]
    deleted = [n for n, w in enumerate(whole) if w.startswith(activity.DELETED)]
    assert [whole[n + 1] for n in deleted] == ["Day 5", "Day 2"]  # each after its day's change
    assert whole[whole.index(f"{activity.RESTORED}: from an older backup") + 1] == "Day 3"


def test_a_delete_that_fails_leaves_no_entry(db, monkeypatch) -> None:
    grace = new_client(first_name="Grace", last_name="Hopper")

    def broken(_client_id, _actor):  # noqa: ANN001, ANN202
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "_remove_files", broken)
    with pytest.raises(RuntimeError):
        lifecycle.delete_client(grace)
    assert activity.entries("book") == []
    assert clients.get_client(grace).id == grace


def test_a_restore_is_in_the_restored_books_log(db, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    backup.save_backup_folder(folder.mkdir() or folder)
    new_client(first_name="Ada", last_name="Lovelace")
    with clock.frozen(dt.datetime(2026, 1, 1, 3, 0)):
        taken = backup.backup(reason="automation")
    with clock.frozen(dt.datetime(2026, 1, 2, 9, 0)):
        kept = backup.restore(taken)
    [entry] = activity.entries("book")
    assert entry.what == (f"{activity.RESTORED}: from {taken.name}; the book as it was before "
                          f"is kept in {kept.name}")
    assert entry.at == dt.datetime(2026, 1, 2, 9, 0) and entry.client_id is None
    assert database.execute_sql("SELECT count(*) FROM activity").fetchone()[0] == 1


def test_an_unknown_list_is_refused(db) -> None:
    with pytest.raises(ValueError):
        activity.entries("everything")
