"""Shared fixtures: every test gets its own billdesk folders and database
file under tmp_path; nothing touches the user's real folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def billdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BILLDESK_HOME", str(home))
    monkeypatch.delenv("BILLDESK_DB", raising=False)
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "book.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[object]:
    """A migrated, empty book on a real SQLite file."""
    from billdesk.models import close_database, init_db

    database = init_db(db_path)
    yield database
    close_database()


@pytest.fixture
def smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A real SMTP server (aiosmtpd, STARTTLS + login) on 127.0.0.1, trusted
    through SSL_CERT_FILE; the SMTP password kept in the file store, never
    a real keyring. ``smtp_server.configure()`` points billdesk at it (the
    book must be open). See tests/smtp_helpers.py."""
    from smtp_helpers import smtp_server_fixture

    yield from smtp_server_fixture(tmp_path, monkeypatch)
