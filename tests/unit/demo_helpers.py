"""For the tests of the demo book: each module builds its demo once in a
``demo_file`` fixture; ``book`` opens it, ``copy`` opens a private copy
for tests that write, and ``rows`` reads it with plain sqlite3."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from billdesk.models import close_database, init_db


@pytest.fixture
def book(demo_file: Path) -> Iterator[Path]:
    """The module's demo book, open through the services."""
    init_db(demo_file)
    yield demo_file
    close_database()


@pytest.fixture
def copy(demo_file: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy, for tests that write."""
    path = tmp_path / "copy.sqlite3"
    shutil.copy(demo_file, path)
    init_db(path)
    yield path
    close_database()


def rows(path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
