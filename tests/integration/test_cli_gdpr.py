"""`billdesk client gdpr ID -o FILE` from outside (C12, D5; acceptance 6):
the PDF it writes holds the client's profile, contacts, invoices, files
and notes; its JSON and text; refusals print one `error: …` line, exit 1
and write nothing."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

from cli_helpers import dump, ok, run

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), squash("".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Client 1 (Ann Lee, USD) with a contact, two invoices (one paid),
    credit, a file and a dated note; client 2 with nothing."""
    path = tmp_path_factory.mktemp("gdpr") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com", "--currency", "USD", "--phone", "+1 555 0100",
              "--address1", "12 Elm Street", "--city", "Springfield", "--country", "US",
              "--notes", "VIP since 2019")["id"] == 1
    ok(home, path, "contact", "add", "1", "--first", "Cal", "--last", "Rivers", "--email",
       "cal@example.com", "--billing")
    first = ok(home, path, "invoice", "create", "1", "--item", "Hosting=100",
               "--item", "Domain=15.50")
    ok(home, path, "invoice", "create", "1", "--item", "Consulting=240")
    ok(home, path, "payment", "add", str(first["id"]), "115.50", "--ref", "WIRE-991")
    ok(home, path, "credit", "add", "1", "10.00", "--description", "Goodwill")
    ok(home, path, "client", "add", "--first", "Bo", "--last", "Quiet", "--email",
       "bo@example.com", "--currency", "USD")
    con = sqlite3.connect(path)
    with con:  # as the files and notes commands store them (F1, F2)
        con.execute("INSERT INTO client_file (client_id, name, sha256, size, admin_only, "
                    "added_at) VALUES (1, 'passport-scan.pdf', ?, 2048, 1, "
                    "'2026-11-01 09:30:00')", (SHA,))
        con.execute("INSERT INTO client_note (client_id, created_at, updated_at, text, sticky) "
                    "VALUES (1, '2026-11-02 10:00:00', '2026-11-02 10:00:00', "
                    "'Wants paper invoices from January', 1)")
    con.close()
    return path


def test_report_holds_profile_contacts_invoices_files_and_notes(home, book, tmp_path):
    target = tmp_path / "ann.pdf"
    before = dump(book)
    done = ok(home, book, "client", "gdpr", "1", "-o", str(target))
    assert dump(book) == before  # a report changes nothing
    assert done["id"] == 1 and done["path"] == str(target.resolve())
    pages, text = pdf_text(target)
    assert done["pages"] == pages >= 1
    assert done["sections"]["contacts"] == 1
    assert done["sections"]["invoices"] == 2
    assert done["sections"]["files"] == 1 and done["sections"]["notes"] == 1
    assert done["sections"]["transactions"] == 1 and done["sections"]["credit_entries"] == 1
    assert set(done) == {"id", "path", "pages", "sections"}

    assert "PersonaldataheldaboutAnnLee" in text
    for part in ("ann@example.com", "+1 555 0100", "12 Elm Street", "Springfield",
                 "VIP since 2019", "Cal Rivers", "cal@example.com", "Hosting", "Domain",
                 "Consulting", "$115.50", "$240.00", "WIRE-991", "Goodwill",
                 "passport-scan.pdf", "2.0 KB", SHA[:32], SHA[32:],
                 "Wants paper invoices from January"):
        assert squash(part) in text, part
    numbers = [n for (n,) in sqlite3.connect(book).execute(
        "SELECT number FROM invoice WHERE client_id = 1 ORDER BY id")]
    assert len(numbers) == 2 and all(squash(n) in text for n in numbers)
    assert "BoQuiet" not in text and "bo@example.com" not in text  # only this client


def test_text_output_is_one_line(home, book, tmp_path):
    target = tmp_path / "sub" / "bo.pdf"
    target.parent.mkdir()
    done = run(home, "client", "gdpr", "2", "--output", str(target), "--db", str(book))
    assert done.code == 0 and done.stderr == ""
    assert done.stdout.count("\n") == 1
    assert str(target) in done.stdout and "client #2" in done.stdout
    _, text = pdf_text(target)
    assert "PersonaldataheldaboutBoQuiet" in text and "Nonestored." in text


def test_an_existing_file_is_replaced(home, book, tmp_path):
    target = tmp_path / "old.pdf"
    target.write_bytes(b"old content")
    ok(home, book, "client", "gdpr", "1", "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("argv", "field"), [
    (["client", "gdpr", "99", "-o", "{tmp}/x.pdf"], "id"),
    (["client", "gdpr", "abc", "-o", "{tmp}/x.pdf"], "id"),
    (["client", "gdpr", "0", "-o", "{tmp}/x.pdf"], "id"),
    (["client", "gdpr", "1", "-o", "{tmp}/no-such-folder/x.pdf"], "output"),
    (["client", "gdpr", "1", "-o", "{tmp}"], "output"),
    (["client", "gdpr", "1", "-o", "{tmp}/a-file/x.pdf"], "output"),
    (["client", "gdpr", "1", "-o", ""], "output"),
])
def test_refused(home, book, tmp_path, argv, field):
    (tmp_path / "a-file").write_text("not a folder")
    before = dump(book)
    files = sorted(tmp_path.rglob("*"))
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = run(home, "--db", str(book), *args)
    assert done.code == 1, (done.code, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {field}: ") and done.stderr.count("\n") == 1, done.stderr
    assert dump(book) == before
    assert sorted(tmp_path.rglob("*")) == files  # no PDF, no temporary file left


def test_output_is_required(home, book):
    done = run(home, "--db", str(book), "client", "gdpr", "1")
    assert done.code == 2 and "-o/--output" in done.stderr
