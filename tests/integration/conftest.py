from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One BILLDESK_HOME per test module for the commands run as a user would."""
    return tmp_path_factory.mktemp("billdesk-home")


@pytest.fixture
def book(base_book: Path, tmp_path: Path) -> Path:
    """A private copy, for one test that writes, of the book the module's
    own module-scoped ``base_book`` fixture builds once (a module with a
    different ``book`` defines its own)."""
    path = tmp_path / "book.sqlite3"
    shutil.copy(base_book, path)
    return path
