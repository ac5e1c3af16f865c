"""The program as a user starts it: the smoke test, a book that cannot be
opened, and the check for Qt's system libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from billdesk import qtcheck

BILLDESK = Path(sys.executable).parent / "billdesk"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, BILLDESK_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("BILLDESK_DB", None)
    return env


def test_smoke_test_paints_the_list_of_a_demo_book(tmp_path: Path) -> None:
    book = tmp_path / "demo.sqlite3"
    subprocess.run([str(BILLDESK), "demo", "--clients", "120", "--db", str(book)], check=True,
                   env=_env(tmp_path), capture_output=True)
    done = subprocess.run([str(BILLDESK), "--smoke-test", "--db", str(book)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "main window painted with 120 clients" in done.stdout
    assert "Traceback" not in done.stderr


def test_smoke_test_on_a_new_empty_book(tmp_path: Path) -> None:
    done = subprocess.run([str(BILLDESK), "--smoke-test", "--db", str(tmp_path / "new.sqlite3")],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "painted with 0 clients" in done.stdout


def test_a_book_that_cannot_be_opened_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite3"
    bad.write_text("this is not a database, just some notes\n" * 100)
    done = subprocess.run([str(BILLDESK), "--smoke-test", "--db", str(bad)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    assert bad.read_text().startswith("this is not a database")


def test_missing_qt_libraries_are_named_with_the_install_command(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(qtcheck, "XCB_LIBRARIES", {"libbilldesk-missing.so.9": "libbilldesk-missing9",
                                                   **qtcheck.XCB_LIBRARIES})
    monkeypatch.setattr(qtcheck.sys, "platform", "linux")
    message = qtcheck.problem()
    assert message is not None
    assert "libbilldesk-missing.so.9" in message
    assert "apt-get install -y libbilldesk-missing9" in message


def test_no_display_says_how_to_run_it(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(qtcheck.sys, "platform", "linux")
    message = qtcheck.problem()
    assert message is not None and "xvfb-run" in message


def test_a_new_book_left_at_the_first_run_dialog_is_not_kept(tmp_path: Path) -> None:
    """billdesk --db new.sqlite3, then Cancel on the first-run dialog: no
    empty book file is left behind; an existing book is never removed."""
    script = (
        "import sys\n"
        "from billdesk.views.settings_dialog import FirstRunDialog\n"
        "FirstRunDialog.exec = lambda self: FirstRunDialog.DialogCode.Rejected\n"
        "from billdesk import app\n"
        "sys.exit(app.main(sys.argv[1]))\n")
    book = tmp_path / "new.sqlite3"
    done = subprocess.run([sys.executable, "-c", script, str(book)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not book.exists() and not Path(f"{book}-wal").exists()
    empty = tmp_path / "kept.sqlite3"  # made before (by another run): left where it is
    subprocess.run([str(BILLDESK), "--smoke-test", "--db", str(empty)], env=_env(tmp_path),
                   capture_output=True, check=True, timeout=120)
    done = subprocess.run([sys.executable, "-c", script, str(empty)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert empty.exists()
