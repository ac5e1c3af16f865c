"""The file and note commands from outside (SPEC.md D5, F1, F2): the JSON
shapes, the bytes stored by hash in the data folder, exit codes, and
refusals that print one `error: <field>: …` line and change nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cli_helpers import cmd, dump, ok, query, run

FILE_KEYS = {"id", "client_id", "name", "size", "sha256", "admin_only", "added_at", "added"}
NOTE_KEYS = {"id", "client_id", "text", "sticky", "date", "created_at", "updated_at"}


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com")["id"] == 1
    return path


def stored(home: Path, sha: str) -> list[Path]:
    """Where the bytes of that hash are in the data folder (any book)."""
    return sorted((home / "data" / "files").glob(f"*/{sha[:2]}/{sha}"))


def test_file_add_stores_by_hash_and_list_shows_it(home, book, tmp_path):
    content = b"signed contract\n" * 300
    source = tmp_path / "Contract.pdf"
    source.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    added = ok(home, book, "file", "add", "1", str(source))
    assert set(added) == FILE_KEYS
    assert {k: added[k] for k in ("client_id", "name", "size", "sha256", "admin_only")} == {
        "client_id": 1, "name": "Contract.pdf", "size": len(content), "sha256": sha,
        "admin_only": False}
    assert len(added["added"]) == 10 and added["added_at"].startswith(added["added"])
    [path] = stored(home, sha)
    assert path.read_bytes() == content

    secret = cmd(home, book, "file", "add", "1", str(source), "--name", "Copy.pdf",
                 "--admin-only")
    assert (secret["name"], secret["admin_only"], secret["sha256"]) == ("Copy.pdf", True, sha)
    assert stored(home, sha) == [path]  # the same content once

    listed = ok(home, book, "file", "list", "1")
    assert list(listed) == ["files"]
    assert [f["id"] for f in listed["files"]] == [secret["id"], added["id"]]
    assert listed["files"][1] == added
    assert [f["id"] for f in ok(home, book, "file", "list", "1", "--no-admin-only")["files"]] == [
        added["id"]]
    text = run(home, "file", "list", "1", "--db", str(book))
    assert text.code == 0 and "Contract.pdf" in text.stdout and "[admin only]" in text.stdout
    assert query(book, "SELECT message FROM client_log WHERE message LIKE 'File%' ORDER BY id") == [
        ("File added: Contract.pdf (4.7 KB)",), ("File added: Copy.pdf (4.7 KB), admin only",)]


def test_file_remove_asks_then_deletes_the_bytes_with_the_last_row(home, book, tmp_path):
    source = tmp_path / "scan.jpg"
    source.write_bytes(b"jpeg bytes for removal")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    first = ok(home, book, "file", "add", "1", str(source))["id"]
    second = ok(home, book, "file", "add", "1", str(source))["id"]
    before = dump(book)
    refusal = run(home, "file", "remove", str(first), "--db", str(book))
    assert (refusal.code, refusal.stdout) == (1, "")
    assert refusal.stderr.startswith("error: confirmation: ") and refusal.stderr.count("\n") == 1
    assert dump(book) == before

    removed = ok(home, book, "file", "remove", str(first), "--yes")
    assert removed["deleted"] == first and removed["file"]["name"] == "scan.jpg"
    assert len(stored(home, sha)) == 1  # the second row still names it
    ok(home, book, "file", "remove", str(second), "--yes")
    assert stored(home, sha) == []
    assert ok(home, book, "file", "list", "1") == {"files": []}


@pytest.mark.parametrize("args, message", [
    (["file", "add", "1", "{missing}"], "error: path: "),
    (["file", "add", "1", "{folder}"], "error: path: "),
    (["file", "add", "9", "{file}"], "error: client_id: "),
    (["file", "add", "one", "{file}"], "error: client_id: "),
    (["file", "add", "1", "{file}", "--name", " "], "error: name: "),
    (["file", "add", "1", "{file}", "--name", "a/b"], "error: name: "),
    (["file", "list", "9"], "error: client_id: "),
    (["file", "remove", "77", "--yes"], "error: file_id: "),
    (["note", "add", "1", "   "], "error: text: "),
    (["note", "add", "9", "hello"], "error: client_id: "),
    (["note", "list", "0"], "error: client_id: "),
    (["note", "delete", "77", "--yes"], "error: note_id: "),
])
def test_refusals_exit_1_with_one_line_and_change_nothing(home, book, tmp_path, args, message):
    source = tmp_path / "a.txt"
    source.write_text("a")
    filled = [a.format(missing=tmp_path / "nowhere.txt", folder=tmp_path, file=source)
              for a in args]
    before = dump(book)
    done = run(home, *filled, "--db", str(book), "--json")
    assert (done.code, done.stdout) == (1, "")
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
    assert dump(book) == before


@pytest.mark.parametrize("args", [["file", "add", "1"], ["note", "add", "1"], ["file"],
                                  ["note", "list", "1", "--bogus"]])
def test_usage_errors_exit_2(home, book, args):
    assert run(home, *args, "--db", str(book)).code == 2


def test_notes_add_list_delete(home, book):
    first = ok(home, book, "note", "add", "1", "  Called about the renewal.\nFollow up Friday. ")
    assert set(first) == NOTE_KEYS
    assert (first["client_id"], first["text"], first["sticky"]) == (
        1, "Called about the renewal.\nFollow up Friday.", False)
    assert len(first["date"]) == 10 and first["created_at"] == first["updated_at"]
    pinned = cmd(home, book, "note", "add", "1", "Never call before 10:00", "--sticky")
    assert pinned["sticky"] is True
    later = ok(home, book, "note", "add", "1", "Paid by transfer")

    listed = ok(home, book, "note", "list", "1")
    assert list(listed) == ["notes"]
    assert [n["id"] for n in listed["notes"]] == [pinned["id"], later["id"], first["id"]]
    text = run(home, "note", "list", "1", "--db", str(book))
    assert text.code == 0 and text.stdout.splitlines()[0].endswith(
        "[sticky]  Never call before 10:00")

    refusal = run(home, "note", "delete", str(first["id"]), "--db", str(book))
    assert refusal.code == 1 and refusal.stderr.startswith("error: confirmation: ")
    deleted = ok(home, book, "note", "delete", str(first["id"]), "--yes")
    assert deleted == {"deleted": first["id"], "note": first}
    assert [n["id"] for n in ok(home, book, "note", "list", "1")["notes"]] == [
        pinned["id"], later["id"]]
    assert query(book, "SELECT message FROM client_log WHERE message LIKE '%ote%' ORDER BY id") == [
        ("Note added: Called about the renewal. …",),
        ("Sticky note added: Never call before 10:00",), ("Note added: Paid by transfer",),
        ("Note deleted: Called about the renewal. …",)]
