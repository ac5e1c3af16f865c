"""services/backup.py: the SQLite online backup of the open book, and the
retention rule (the last 10 automatic backups; manual ones are kept)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from billdesk import clock
from billdesk.errors import InvalidInput
from billdesk.models import database
from billdesk.services import backup

from billing_helpers import new_client


def _rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_backup_copies_the_open_book(db, billdesk_home: Path) -> None:
    client_id = new_client()
    with clock.frozen(dt.datetime(2026, 3, 1, 3, 0, 5)):
        path = backup.backup(reason="automation")
    assert path.parent == backup.book_folder() and path.parent.parent == (
        billdesk_home / "data" / "backups")
    assert path.parent.name.startswith("book-")  # the book's file name, and where it is
    assert path.name == "billdesk-20260301-030005-automation.sqlite3"
    assert _rows(path, "SELECT id, email FROM client") == [
        (client_id, database.execute_sql("SELECT email FROM client").fetchone()[0])]
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
    # the book stays usable and the copy is independent of it
    new_client()
    assert len(_rows(path, "SELECT id FROM client")) == 1
    (info,) = backup.backups()
    assert (info.path, info.reason, info.automatic) == (path, "automation", True)
    assert info.created == dt.datetime(2026, 3, 1, 3, 0, 5)
    assert info.size == path.stat().st_size > 0


def test_a_big_book_is_copied_in_steps_that_say_how_far(db, monkeypatch) -> None:
    client_id = new_client()
    for _ in range(40):  # a few dozen pages
        database.execute_sql("INSERT INTO client_log (client_id, at, message) VALUES (?, ?, ?)",
                             (client_id, "2026-03-01 00:00:00", "x" * 3000))
    monkeypatch.setattr(backup, "STEP_PAGES", 5)
    seen: list[tuple[int, int]] = []
    path = backup.backup(reason="automation", progress=lambda done, of: seen.append((done, of)))
    pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    assert len(seen) > 3 and {of for _done, of in seen} == {pages}
    assert [done for done, _of in seen] == sorted(done for done, _of in seen)
    assert seen[-1] == (pages, pages)
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(path, "SELECT count(*) FROM client_log WHERE length(message) = 3000") == [(40,)]


def test_uncommitted_work_is_not_in_the_copy_and_no_backup_inside_a_transaction(db) -> None:
    new_client()
    with database.atomic():
        new_client()
        with pytest.raises(Exception, match="outside a transaction"):
            backup.backup(reason="automation")
    path = backup.backup(reason="automation")
    assert len(_rows(path, "SELECT id FROM client")) == 2


def test_retention_keeps_the_last_ten_automatic_and_every_manual(db, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    start = dt.datetime(2026, 1, 1, 3, 0, 0)
    manual = []
    for n in range(14):
        with clock.frozen(start + dt.timedelta(days=n)):
            backup.backup(reason="automation", folder=folder)
            if n in (0, 7):
                manual.append(backup.backup(reason="before restore", folder=folder,
                                            automatic=False))
    found = backup.backups(folder)
    auto = [b for b in found if b.automatic]
    assert len(auto) == backup.RETAIN == 10
    assert [b.created.day for b in auto] == list(range(5, 15))  # the oldest four went
    assert [b.path for b in found if not b.automatic] == manual
    assert manual[0].name == "billdesk-20260101-030000-before-restore.manual.sqlite3"
    assert all(p.exists() for p in manual)


def test_daily_runs_do_not_push_out_the_backup_taken_before_a_delete(db, tmp_path: Path) -> None:
    """Rotation is by reason: the backup taken before a client was deleted
    stays through any number of daily runs, until ten more deletes."""
    folder = tmp_path / "bk"
    start = dt.datetime(2026, 1, 1, 3, 0, 0)
    with clock.frozen(start):
        before_delete = backup.backup(reason="before-delete", folder=folder)
    for n in range(1, 15):
        with clock.frozen(start + dt.timedelta(days=n)):
            backup.backup(reason="automation", folder=folder)
    assert before_delete.exists()
    assert len([b for b in backup.backups(folder) if b.reason == "automation"]) == backup.RETAIN
    for n in range(10):
        with clock.frozen(start + dt.timedelta(days=20 + n)):
            backup.backup(reason="before-delete", folder=folder)
    assert not before_delete.exists()  # the eleventh delete's backup pushed it out
    assert len([b for b in backup.backups(folder) if b.reason == "before-delete"]) == 10


def test_the_same_second_gets_a_numbered_name(db, tmp_path: Path) -> None:
    with clock.frozen(dt.datetime(2026, 5, 5, 12, 0, 0)):
        first = backup.backup(reason="automation", folder=tmp_path)
        second = backup.backup(reason="automation", folder=tmp_path)
    assert first.name == "billdesk-20260505-120000-automation.sqlite3"
    assert second.name == "billdesk-20260505-120000-automation-2.sqlite3"
    assert [b.path for b in backup.backups(tmp_path)] == [first, second]


def test_two_books_rotate_their_own_backups_only(db, tmp_path: Path) -> None:
    """A copy of the book tried out beside it (another file, the same
    backup folder): eleven runs on the copy leave the book's one backup."""
    from billdesk.models import close_database, init_db

    mine = backup.backup(reason="automation")
    close_database()
    copy = tmp_path / "copy" / "book.sqlite3"
    copy.parent.mkdir()
    init_db(copy)
    for n in range(11):
        with clock.frozen(dt.datetime(2026, 3, 1 + n, 3, 0)):
            backup.backup(reason="automation")
    assert len(backup.backups()) == backup.RETAIN
    assert mine.exists() and mine not in {b.path for b in backup.backups()}
    assert backup.book_folder() != mine.parent and backup.book_folder().parent == mine.parent.parent


def test_backups_from_before_books_had_folders_are_listed_not_rotated(db) -> None:
    loose = backup.backup_folder() / "billdesk-20250101-030000-automation.sqlite3"
    loose.parent.mkdir(parents=True, exist_ok=True)
    loose.write_bytes(backup.backup(reason="automation").read_bytes())
    for n in range(11):
        with clock.frozen(dt.datetime(2026, 3, 1 + n, 3, 0)):
            backup.backup(reason="automation")
    listed = [b.path for b in backup.backups()]
    assert loose.exists() and listed[0] == loose and len(listed) == backup.RETAIN + 1
    backup.delete_backup(loose)  # and deleted by hand, as any other
    assert not loose.exists()


def test_backup_folder_setting(db, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        backup.save_backup_folder(tmp_path / "missing")
    assert err.value.field == "folder"
    assert backup.save_backup_folder(tmp_path) == tmp_path
    assert backup.backup(reason="manual").parent.parent == tmp_path
    with pytest.raises(InvalidInput) as err:
        backup.backup(reason="  ")
    assert err.value.field == "reason"


def test_restore_puts_the_book_back_and_keeps_what_it_replaced(db, tmp_path: Path) -> None:
    """Restore: the book as the backup holds it (its search index too), and
    the book as it was just before kept by hand (never rotated out), so the
    restore itself can be undone."""
    from billdesk.services import clientlist, clients

    folder = tmp_path / "bk"
    backup.save_backup_folder(folder.mkdir() or folder)
    ada = new_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    with clock.frozen(dt.datetime(2026, 1, 1, 3, 0)):
        taken = backup.backup(reason="automation")
    bob = new_client(first_name="Bob", last_name="Brown", email="bob@example.com")
    with clock.frozen(dt.datetime(2026, 1, 2, 9, 0)):
        kept = backup.restore(taken)
    assert [c.id for c in clientlist.page(clientlist.ClientQuery())] == [ada]
    assert clientlist.page(clientlist.ClientQuery(search="brown")) == []
    with pytest.raises(Exception):
        clients.get_client(bob)
    assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert kept.name == "billdesk-20260102-090000-before-restore.manual.sqlite3"
    assert _rows(kept, "SELECT first_name FROM client ORDER BY id") == [("Ada",), ("Bob",)]
    # and back again: the restore undone
    backup.restore(kept)
    assert sorted(c.id for c in clientlist.page(clientlist.ClientQuery())) == [ada, bob]


def _sqlite(script: str):  # noqa: ANN202
    def make(path: Path) -> None:
        con = sqlite3.connect(path)
        con.executescript(script)
        con.close()
    return make


@pytest.mark.parametrize("make, says", [
    (lambda p: None, "is not a file"),
    (lambda p: p.write_text("not a database at all " * 100) and None, "is not a billdesk book"),
    (_sqlite("CREATE TABLE t (x); PRAGMA user_version = 3;"), "is not a billdesk book"),
    (_sqlite("CREATE TABLE client (id INTEGER PRIMARY KEY); PRAGMA user_version = 29999;"),
     "newer billdesk"),
])
def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(db, tmp_path: Path,
                                                                 make, says) -> None:  # noqa: ANN001
    ada = new_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    path = tmp_path / "other.sqlite3"
    make(path)
    folder = backup.book_folder()
    before = sorted(folder.iterdir()) if folder.is_dir() else []
    with pytest.raises(InvalidInput) as refused:
        backup.restore(path)
    assert refused.value.field == "backup" and says in refused.value.message
    assert database.execute_sql("SELECT id FROM client").fetchall() == [(ada,)]
    assert (sorted(folder.iterdir()) if folder.is_dir() else []) == before  # no backup taken


def test_mail_sent_since_the_backup_stays_sent_after_a_restore(db, tmp_path: Path) -> None:
    """The world has had the messages sent since the backup: the restored
    book marks them Sent (as they were), and the outbox does not send them
    again; what was still waiting waits."""
    from billdesk.models import Email
    from billdesk.services import mail, outbox

    client = new_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    sent_since = mail.queue_message(client, subject="Your invoice", body="Hi")
    waiting = mail.queue_message(client, subject="Still waiting", body="Hi")
    taken = backup.backup(reason="automation", folder=tmp_path / "bk")
    Email.update(status="Sent", sent_at=dt.datetime(2026, 1, 2, 9, 30),
                 attempts=1).where(Email.id == sent_since).execute()
    backup.restore(taken)
    row = mail.get_email(sent_since)
    assert (row.status, row.sent_at) == ("Sent", dt.datetime(2026, 1, 2, 9, 30))
    assert mail.get_email(waiting).status == "Queued"
    assert outbox.waiting_count() == 1
    assert not list((tmp_path / "bk").glob("*-wal")) and not list((tmp_path / "bk").glob("*-shm"))


def test_no_restore_while_a_daily_run_holds_the_book(db, tmp_path: Path) -> None:
    from billdesk.errors import Conflict
    from billdesk.services import automation

    new_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    taken = backup.backup(reason="automation", folder=tmp_path / "bk")
    with automation._run_lock():
        with pytest.raises(Conflict) as refused:
            backup.restore(taken)
    assert refused.value.field == "run"
    assert [b.reason for b in backup.backups()] == []  # no before-restore backup taken


def test_only_a_listed_backup_is_deleted(db, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    with pytest.raises(InvalidInput, match="not one of the book's backups"):
        backup.delete_backup(other)
    assert other.exists()
    taken = backup.backup(reason="by-hand", automatic=False)
    backup.delete_backup(taken)
    assert not taken.exists() and backup.backups() == []


def test_a_backup_before_an_action_on_a_client_names_the_client(db, tmp_path: Path) -> None:
    """``client_id`` goes into the file's name; the reason stays the kind,
    so backups before deleting different clients rotate together."""
    folder = tmp_path / "bk"
    start = dt.datetime(2026, 1, 1, 3, 0, 0)
    with clock.frozen(start):
        first = backup.backup(reason="before-delete", folder=folder, client_id=12)
        again = backup.backup(reason="before-delete", folder=folder, client_id=12)
    assert first.name == "billdesk-20260101-030000-before-delete-client12.sqlite3"
    assert again.name == "billdesk-20260101-030000-before-delete-client12-2.sqlite3"
    found = backup.backups(folder)
    assert [(b.path, b.reason, b.client_id) for b in found] == [
        (first, "before-delete", 12), (again, "before-delete", 12)]
    for n in range(10):
        with clock.frozen(start + dt.timedelta(days=1 + n)):
            backup.backup(reason="before-delete", folder=folder, client_id=100 + n)
    kept = backup.backups(folder)
    assert [b.client_id for b in kept] == list(range(100, 110))  # ten, whoever they were for
    assert not first.exists() and not again.exists()
