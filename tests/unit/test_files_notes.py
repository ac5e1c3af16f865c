"""Client files (F1) and dated notes (F2) on a real SQLite file and a real
data folder: stored by content hash, one copy per content, bytes removed
with the last row naming them (and only after a caller's transaction),
every refusal naming its field and writing nothing, every write logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from billdesk import clock, paths
from billdesk.errors import BilldeskError, InvalidInput, NotFound
from billdesk.models import Client, close_database, database, init_db
from billdesk.models.tables import ClientFile, ClientNote
from billdesk.services import changelog, clients, files, notes

AT = dt.datetime(2026, 3, 14, 9, 30)


def client(email: str = "ann@example.com") -> int:
    """Ann Lee, added the day before AT (the log reads by time)."""
    with clock.frozen(AT - dt.timedelta(days=1)):
        return clients.add_client({"first_name": "Ann", "last_name": "Lee", "email": email})


def make(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def log_messages(client_id: int) -> list[str]:
    """The client's log, oldest first, as the Log tab describes each entry."""
    return [e.describe() for e in reversed(changelog.entries(client_id))][1:]  # not "created"


def stored_files() -> list[Path]:
    root = paths.data_dir() / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def snapshot() -> dict[str, list[tuple]]:
    return {name: database.execute_sql(f"SELECT * FROM {name} ORDER BY id").fetchall()
            for name in ("client_file", "client_note", "client_log")}


# --------------------------------------------------------------------------- files: adding

def test_add_file_stores_the_bytes_under_their_hash_and_logs_it(db, tmp_path):
    cid = client()
    content = b"%PDF-1.7 contract\n" * 1000
    source = make(tmp_path, "Contract 2026.pdf", content)
    with clock.frozen(AT):
        file_id = files.add_file(cid, source, admin_only=True)
    sha = hashlib.sha256(content).hexdigest()
    record = files.get_file(file_id)
    assert (record.client_id, record.name, record.sha256, record.size, record.admin_only,
            record.added_at) == (cid, "Contract 2026.pdf", sha, len(content), True, AT)
    stored = files.stored_path(sha)
    assert stored == files.files_root() / sha[:2] / sha
    assert stored.read_bytes() == content
    assert stored.is_relative_to(paths.data_dir() / "files")
    assert source.read_bytes() == content  # the original stays
    assert stored_files() == [stored]  # no half-made copy left beside it
    assert log_messages(cid) == ["File added: Contract 2026.pdf (17.6 KB), admin only"]
    assert record.as_json() == {
        "id": file_id, "client_id": cid, "name": "Contract 2026.pdf", "size": len(content),
        "sha256": sha, "admin_only": True, "added_at": "2026-03-14 09:30:00",
        "added": "2026-03-14"}


def test_one_content_takes_the_space_once_and_goes_with_its_last_row(db, tmp_path):
    ann, bob = client(), client("bob@example.com")
    first = files.add_file(ann, make(tmp_path, "a.txt", b"same bytes"))
    second = files.add_file(bob, make(tmp_path, "b.txt", b"same bytes"), name="  copy.txt ")
    third = files.add_file(ann, make(tmp_path, "c.txt", b"other bytes"))
    sha = files.get_file(first).sha256
    assert files.get_file(second).sha256 == sha
    assert files.get_file(second).name == "copy.txt"  # stripped
    assert len(stored_files()) == 2

    files.remove_file(first)
    assert files.stored_path(sha).read_bytes() == b"same bytes"  # bob's row still names it
    files.remove_file(second)
    assert not files.stored_path(sha).exists()
    assert stored_files() == [files.stored_path(files.get_file(third).sha256)]
    assert log_messages(ann)[-1] == "File removed: a.txt (10 bytes)"
    assert log_messages(bob)[-1] == "File removed: copy.txt (10 bytes)"
    with pytest.raises(NotFound) as exc:
        files.get_file(first)
    assert exc.value.field == "file_id"


def test_an_empty_file_is_a_file(db, tmp_path):
    cid = client()
    file_id = files.add_file(cid, make(tmp_path, "empty.txt", b""))
    assert files.get_file(file_id).size == 0
    assert files.open_path(file_id).read_bytes() == b""


@pytest.mark.parametrize("case, field", [
    ("missing", "path"), ("folder", "path"), ("empty_name", "name"), ("slash", "name"),
    ("unknown_client", "client_id"), ("long_name", "name")])
def test_add_file_refusals_name_the_field_and_write_nothing(db, tmp_path, case, field):
    cid = client()
    files.add_file(cid, make(tmp_path, "kept.txt", b"kept"))
    before, on_disk = snapshot(), stored_files()
    source = make(tmp_path, "new.txt", b"new bytes")
    call: dict[str, Any] = {
        "missing": lambda: files.add_file(cid, tmp_path / "nowhere.txt"),
        "folder": lambda: files.add_file(cid, tmp_path),
        "empty_name": lambda: files.add_file(cid, source, name="   "),
        "slash": lambda: files.add_file(cid, source, name="../escape.txt"),
        "unknown_client": lambda: files.add_file(cid + 99, source),
        "long_name": lambda: files.add_file(cid, source, name="x" * 256),
    }
    error = NotFound if case == "unknown_client" else InvalidInput
    with pytest.raises(error) as exc:
        call[case]()
    assert exc.value.field == field
    assert field in str(exc.value)
    assert snapshot() == before
    assert stored_files() == on_disk


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_an_unreadable_file_is_refused(db, tmp_path):
    cid = client()
    source = make(tmp_path, "secret.txt", b"secret")
    source.chmod(0)
    try:
        with pytest.raises(InvalidInput) as exc:
            files.add_file(cid, source)
    finally:
        source.chmod(0o600)
    assert exc.value.field == "path"
    assert "cannot be read" in exc.value.message
    assert files.list_files(cid) == []


def test_each_book_has_its_own_files_folder(tmp_path):
    first, second = tmp_path / "one.sqlite3", tmp_path / "two.sqlite3"
    init_db(first)
    root_one = files.files_root()
    assert root_one == files.files_root()  # kept, not made anew
    close_database()
    init_db(second)
    root_two = files.files_root()
    close_database()
    init_db(first)
    try:
        assert files.files_root() == root_one
    finally:
        close_database()
    assert root_one != root_two
    assert root_one.parent == root_two.parent == paths.data_dir() / "files"


# --------------------------------------------------------------------------- files: changing

def test_rename_and_admin_only_are_logged_and_same_values_write_nothing(db, tmp_path):
    cid = client()
    file_id = files.add_file(cid, make(tmp_path, "scan.jpg", b"jpeg"))
    files.rename_file(file_id, "  Passport scan.jpg ")
    files.set_admin_only(file_id, True)
    before = snapshot()
    files.rename_file(file_id, "Passport scan.jpg")
    files.set_admin_only(file_id, True)
    assert snapshot() == before
    record = files.get_file(file_id)
    assert (record.name, record.admin_only) == ("Passport scan.jpg", True)
    assert log_messages(cid)[1:] == ["File name: scan.jpg → Passport scan.jpg",
                                     "File Passport scan.jpg: admin only: No → Yes"]
    for bad in ("", "a/b.jpg", "a\\b.jpg", "two\nlines"):
        with pytest.raises(InvalidInput) as exc:
            files.rename_file(file_id, bad)
        assert exc.value.field == "name"
    with pytest.raises(NotFound):
        files.set_admin_only(file_id + 1, False)
    assert snapshot() == before


def test_list_files_newest_first_and_without_admin_only(db, tmp_path):
    cid = client()
    with clock.frozen(AT):
        old = files.add_file(cid, make(tmp_path, "old.txt", b"1"))
    with clock.frozen(AT + dt.timedelta(days=1)):
        new = files.add_file(cid, make(tmp_path, "new.txt", b"2"), admin_only=True)
    assert [r.id for r in files.list_files(cid)] == [new, old]
    assert [r.id for r in files.list_files(cid, include_admin_only=False)] == [old]
    assert files.list_files(client("bob@example.com")) == []
    with pytest.raises(NotFound):
        files.list_files(cid + 99)


def test_open_path_and_a_named_copy(db, tmp_path):
    cid = client()
    file_id = files.add_file(cid, make(tmp_path, "a.txt", b"hello"), name="Read me.txt")
    assert files.open_path(file_id) == files.stored_path(files.get_file(file_id).sha256)
    out = tmp_path / "out"
    out.mkdir()
    copy = files.copy_out(file_id, out)
    assert (copy.name, copy.read_bytes()) == ("Read me.txt", b"hello")
    files.open_path(file_id).unlink()  # the data folder lost it
    with pytest.raises(NotFound) as exc:
        files.open_path(file_id)
    assert exc.value.field == "file_id" and "missing" in exc.value.message


# --------------------------------------------------------------------------- files: lifecycle

def test_remove_all_inside_a_transaction_keeps_bytes_until_purge(db, tmp_path):
    ann, bob = client(), client("bob@example.com")
    files.add_file(ann, make(tmp_path, "a.txt", b"ann only"))
    files.add_file(ann, make(tmp_path, "shared.txt", b"shared"))
    files.add_file(bob, make(tmp_path, "shared.txt", b"shared"))
    with database.atomic():
        assert files.remove_all(ann) == 2
        with pytest.raises(RuntimeError):  # a rollback would bring rows back without bytes
            files.purge_orphans()
        assert len(stored_files()) == 2  # nothing deleted before the commit
    assert files.list_files(ann) == []
    assert files.purge_orphans() == 1
    assert [p.read_bytes() for p in stored_files()] == [b"shared"]
    assert log_messages(ann)[-1] == "All files removed (2)"
    assert files.remove_all(ann) == 0


def test_a_rolled_back_removal_loses_no_bytes(db, tmp_path):
    cid = client()
    file_id = files.add_file(cid, make(tmp_path, "a.txt", b"precious"))
    with pytest.raises(ZeroDivisionError):
        with database.atomic():
            files.remove_all(cid)
            1 / 0
    assert files.open_path(file_id).read_bytes() == b"precious"
    assert files.purge_orphans() == 0


def test_remove_all_alone_deletes_the_bytes_at_once(db, tmp_path):
    cid = client()
    files.add_file(cid, make(tmp_path, "a.txt", b"a"))
    files.add_file(cid, make(tmp_path, "b.txt", b"b"))
    assert files.remove_all(cid) == 2
    assert stored_files() == []


def test_deleting_a_client_then_purging_clears_its_bytes_and_stale_copies(db, tmp_path):
    ann, bob = client(), client("bob@example.com")
    files.add_file(ann, make(tmp_path, "a.txt", b"ann's"))
    kept = files.add_file(bob, make(tmp_path, "b.txt", b"bob's"))
    root = files.files_root()
    stale = root / ".incoming-crashed"
    stale.write_bytes(b"half")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    fresh = root / ".incoming-running"  # an add in progress elsewhere
    fresh.write_bytes(b"half")
    Client.delete().where(Client.id == ann).execute()  # rows go by ON DELETE CASCADE
    assert files.purge_orphans() == 1
    assert not stale.exists() and fresh.exists()
    assert [p.read_bytes() for p in stored_files() if not p.name.startswith(".")] == [b"bob's"]
    assert files.open_path(kept).read_bytes() == b"bob's"


def test_purge_in_a_book_that_never_stored_a_file_makes_no_folder(db):
    assert files.purge_orphans() == 0
    assert not (paths.data_dir() / "files").exists()


def test_human_sizes():
    assert [files.human_size(n) for n in (0, 1, 1023, 1024, 1536, 1048575, 5 * 1024 ** 3)] == [
        "0 bytes", "1 byte", "1023 bytes", "1.0 KB", "1.5 KB", "1.0 MB", "5.0 GB"]


@pytest.mark.skipif(not hasattr(clients, "check_writable"),
                    reason="clients.check_writable (C11) is not there yet")
def test_an_archived_client_is_read_only(db, tmp_path):
    cid = client()
    file_id = files.add_file(cid, make(tmp_path, "a.txt", b"a"))
    note_id = notes.add_note(cid, "before")
    Client.update(archived=True).where(Client.id == cid).execute()
    before = snapshot()
    for write in (lambda: files.add_file(cid, make(tmp_path, "b.txt", b"b")),
                  lambda: files.rename_file(file_id, "c.txt"),
                  lambda: files.set_admin_only(file_id, True),
                  lambda: files.remove_file(file_id),
                  lambda: notes.add_note(cid, "after"),
                  lambda: notes.update_note(note_id, sticky=True),
                  lambda: notes.delete_note(note_id)):
        with pytest.raises(BilldeskError) as exc:  # a refusal, not a crash
            write()
        assert "archived" in exc.value.message
    assert snapshot() == before


# --------------------------------------------------------------------------- notes

def test_notes_sticky_first_then_newest(db):
    cid = client()
    with clock.frozen(AT):
        first = notes.add_note(cid, "  Called about the renewal.\nFollow up Friday.  ")
    with clock.frozen(AT + dt.timedelta(hours=1)):
        pinned = notes.add_note(cid, "Never call before 10:00", sticky=True)
    with clock.frozen(AT + dt.timedelta(hours=2)):
        latest = notes.add_note(cid, "Paid by transfer")
    listed = notes.list_notes(cid)
    assert [n.id for n in listed] == [pinned, latest, first]
    note = notes.get_note(first)
    assert note.text == "Called about the renewal.\nFollow up Friday."  # stripped
    assert (note.first_line, note.sticky, note.created_at, note.edited) == (
        "Called about the renewal.", False, AT, False)
    assert listed[0].as_json() == {
        "id": pinned, "client_id": cid, "text": "Never call before 10:00", "sticky": True,
        "date": "2026-03-14", "created_at": "2026-03-14 10:30:00",
        "updated_at": "2026-03-14 10:30:00"}
    assert log_messages(cid) == ["Note added: Called about the renewal. …",
                                 "Sticky note added: Never call before 10:00",
                                 "Note added: Paid by transfer"]


def test_update_note_changes_text_and_flag_and_logs_each(db):
    cid = client()
    with clock.frozen(AT):
        note_id = notes.add_note(cid, "draft")
    later = AT + dt.timedelta(days=2)
    with clock.frozen(later):
        notes.update_note(note_id, text=" final text ", sticky=True)
    note = notes.get_note(note_id)
    assert (note.text, note.sticky, note.created_at, note.updated_at, note.edited) == (
        "final text", True, AT, later, True)
    assert log_messages(cid)[1:] == ["Note of 2026-03-14: text: draft → final text",
                                     "Note of 2026-03-14: sticky: No → Yes"]
    before = snapshot()
    notes.update_note(note_id)
    notes.update_note(note_id, text="final text", sticky=True)
    assert snapshot() == before
    notes.update_note(note_id, sticky=False)
    assert notes.get_note(note_id).sticky is False


@pytest.mark.parametrize("text", ["", "   \n\t ", None, "x" * 20001])
def test_an_empty_or_huge_note_is_refused(db, text):
    cid = client()
    note_id = notes.add_note(cid, "kept")
    before = snapshot()
    with pytest.raises(InvalidInput) as exc:
        notes.add_note(cid, text)  # type: ignore[arg-type]
    assert exc.value.field == "text"
    if text is not None:
        with pytest.raises(InvalidInput) as exc:
            notes.update_note(note_id, text=text)
        assert exc.value.field == "text"
    assert snapshot() == before


def test_notes_of_unknown_clients_and_ids(db):
    cid = client()
    for call, field in ((lambda: notes.add_note(cid + 9, "x"), "client_id"),
                        (lambda: notes.list_notes(cid + 9), "client_id"),
                        (lambda: notes.update_note(77, sticky=True), "note_id"),
                        (lambda: notes.delete_note(77), "note_id")):
        with pytest.raises(NotFound) as exc:
            call()
        assert exc.value.field == field


def test_delete_note_and_remove_all(db):
    cid = client()
    long_line = "A very long first line that goes on and on about the client's wishes and more"
    note_id = notes.add_note(cid, long_line)
    notes.add_note(cid, "second", sticky=True)
    notes.delete_note(note_id)
    assert [n.text for n in notes.list_notes(cid)] == ["second"]
    assert log_messages(cid)[-1] == f"Note deleted: {long_line[:59].rstrip()}…"
    assert notes.remove_all(cid) == 1
    assert ClientNote.select().count() == 0
    assert log_messages(cid)[-1] == "All notes deleted (1)"
    assert notes.remove_all(cid) == 0


def test_deleting_a_client_deletes_its_rows(db, tmp_path):
    cid = client()
    files.add_file(cid, make(tmp_path, "a.txt", b"a"))
    notes.add_note(cid, "n")
    Client.delete().where(Client.id == cid).execute()
    assert ClientFile.select().count() == ClientNote.select().count() == 0
