"""The database lifecycle, in one place: the URL is parsed here, the
connection opened with WAL, synchronous=FULL and foreign keys, and the
numbered migrations run before anything else touches it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import DatabaseProxy, SqliteDatabase

from billdesk.errors import InvalidInput

database = DatabaseProxy()

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -32000,
    "temp_store": "memory",
}


@dataclass(frozen=True, slots=True)
class DbTarget:
    """What ``--db`` / ``BILLDESK_DB`` named: a kind and where it is."""

    kind: str  # "sqlite" (PostgreSQL is recognised, and refused for now)
    path: Path

    def __str__(self) -> str:
        return str(self.path)


def parse_db_url(value: str | os.PathLike[str] | None) -> DbTarget:
    """``None`` → the default file; a path or ``sqlite:///path`` → that file;
    ``postgresql://…`` is recognised and refused with a clear message."""
    from billdesk import paths

    if value is None or str(value) == "":
        env = os.environ.get("BILLDESK_DB")
        if env:
            return parse_db_url(env)
        return DbTarget("sqlite", paths.default_db_path())
    text = os.fspath(value)
    if "://" not in text:
        return DbTarget("sqlite", Path(text).expanduser())
    url = urlparse(text)
    if url.scheme == "sqlite":
        # As SQLAlchemy spells it: sqlite:///relative.db, sqlite:////abs/path.db
        if not text.startswith("sqlite:///"):
            raise InvalidInput("db", f"{text!r}: write sqlite:///path/to/file")
        raw = unquote(text[len("sqlite:///"):])
        if not raw:
            raise InvalidInput("db", f"{text!r} names no file")
        return DbTarget("sqlite", Path(raw).expanduser())
    if url.scheme in ("postgres", "postgresql"):
        raise InvalidInput("db", "PostgreSQL databases are not supported yet; use a SQLite file")
    raise InvalidInput("db", f"unknown database URL scheme {url.scheme!r}")


def open_database(target: DbTarget, *, migrate: bool = True) -> SqliteDatabase:
    """Open the database, bind every model to it and bring its schema up to
    date. Returns the database; ``close_database`` closes it."""
    from billdesk.models import migrations

    if target.path.is_dir():
        raise InvalidInput("db", f"{str(target.path)!r} is a folder, not a database file")
    if not target.path.parent.exists():
        raise InvalidInput("db", f"folder {str(target.path.parent)!r} does not exist")
    # Write transactions take the write lock when they begin (IMMEDIATE): a
    # transaction that reads before it writes could otherwise not upgrade
    # its snapshot after another process committed, and fail at once
    # instead of waiting busy_timeout.
    db = SqliteDatabase(str(target.path), pragmas=PRAGMAS, autoconnect=True,
                        lock_type="IMMEDIATE")
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:  # peewee.OperationalError, sqlite3.DatabaseError
        raise InvalidInput("db", f"cannot open {str(target.path)!r}: {exc}") from None
    if migrate:
        try:
            _backup_before_migrating(db)
            migrations.migrate(db)
        except Exception:
            db.close()
            raise
    return db


def _backup_before_migrating(db: SqliteDatabase) -> None:
    """D2: a book that has data and migrations to apply is backed up first
    (the one backup function, services/backup.py; kept with the automatic
    ones). A new, empty file has nothing to lose."""
    from billdesk.models import migrations

    major, applied = migrations.current_version(db)
    if applied == 0 or major != migrations.MAJOR or applied >= len(migrations.MIGRATIONS):
        return
    from billdesk.services import backup  # (services use models: import it only when needed)

    backup.backup(reason=f"before-migration-v{applied + 1}")


def init_db(url: str | os.PathLike[str] | None) -> SqliteDatabase:
    """Parse ``url`` and open it (see ``parse_db_url``)."""
    return open_database(parse_db_url(url))


def close_database() -> None:
    db = database.obj
    if db is not None and not db.is_closed():
        db.close()


def reading():
    """A read-only snapshot (BEGIN DEFERRED: takes no write lock), for
    reads that must agree with each other, e.g. a statement and its check."""
    return database.atomic(lock_type="DEFERRED")
