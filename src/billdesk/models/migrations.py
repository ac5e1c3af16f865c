"""Numbered schema migrations, applied at start.

The schema version lives in SQLite's ``user_version`` as
``MAJOR * 10000 + number of the last migration applied``. Each migration runs
inside ``db.atomic()`` together with its version bump, so a crash leaves the
database at the previous version. A database from a newer *major* version is
refused; a newer minor version (later additive migrations) is opened as is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from peewee import SqliteDatabase

from billdesk.errors import SchemaTooNew

log = logging.getLogger(__name__)

MAJOR = 1

_M1_CLIENTS = """
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE client_group (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    colour            TEXT NOT NULL DEFAULT '#5b8def',
    discount          INTEGER NOT NULL DEFAULT 0 CHECK (discount BETWEEN 0 AND 10000),
    separate_invoices INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE client (
    id                 INTEGER PRIMARY KEY,
    first_name         TEXT NOT NULL,
    last_name          TEXT NOT NULL,
    company            TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL,
    phone              TEXT NOT NULL DEFAULT '',
    address1           TEXT NOT NULL DEFAULT '',
    address2           TEXT NOT NULL DEFAULT '',
    city               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL DEFAULT '',
    postcode           TEXT NOT NULL DEFAULT '',
    country            TEXT NOT NULL DEFAULT '',
    tax_id             TEXT NOT NULL DEFAULT '',
    account_type       TEXT NOT NULL DEFAULT 'private'
                       CHECK (account_type IN ('private', 'organization')),
    group_id           INTEGER REFERENCES client_group (id) ON DELETE SET NULL,
    currency           TEXT NOT NULL,
    language           TEXT NOT NULL DEFAULT 'en',
    status             TEXT NOT NULL DEFAULT 'Active'
                       CHECK (status IN ('Active', 'Inactive', 'Closed')),
    tax_exempt         INTEGER NOT NULL DEFAULT 0,
    auto_cc            INTEGER NOT NULL DEFAULT 1,
    overdue_notices    INTEGER NOT NULL DEFAULT 1,
    late_fees          INTEGER NOT NULL DEFAULT 1,
    separate_invoices  INTEGER NOT NULL DEFAULT 0,
    two_factor         INTEGER NOT NULL DEFAULT 0,
    billing_contact_id INTEGER REFERENCES contact (id) ON DELETE SET NULL,
    notes              TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    last_activity      TEXT,
    sort_name          TEXT NOT NULL DEFAULT '',
    name_rank          INTEGER NOT NULL,
    company_key        TEXT NOT NULL DEFAULT '',
    group_key          TEXT NOT NULL DEFAULT '',
    email_key          TEXT NOT NULL UNIQUE,
    phone_key          TEXT NOT NULL DEFAULT '',
    search_text        TEXT NOT NULL DEFAULT '',
    search_words       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX client_sort_name ON client (sort_name, id);
CREATE UNIQUE INDEX client_name_rank ON client (name_rank);
CREATE INDEX client_company_key ON client (company_key, id);
CREATE INDEX client_phone_key ON client (phone_key, id);
CREATE INDEX client_country ON client (country, id);
CREATE INDEX client_status ON client (status, id);
CREATE INDEX client_group_id ON client (group_id, id);
CREATE INDEX client_group_key ON client (group_key, id);
CREATE INDEX client_created_at ON client (created_at, id);
CREATE INDEX client_billing_contact ON client (billing_contact_id);

CREATE TABLE contact (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    company    TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL,
    phone      TEXT NOT NULL DEFAULT '',
    address1   TEXT NOT NULL DEFAULT '',
    address2   TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL DEFAULT '',
    postcode   TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX contact_client ON contact (client_id, id);

CREATE TABLE client_log (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    field      TEXT NOT NULL DEFAULT '',
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX client_log_client ON client_log (client_id, id);

-- Search: the services write a normalised search_text (accents folded, case
-- folded, punctuation dropped) and search_words; these contentless FTS5
-- indexes follow them through triggers, keyed by name_rank (the client's
-- place in name order) so that hits come out in name order.
CREATE VIRTUAL TABLE client_fts USING fts5 (
    search_text, content='', tokenize='trigram'
);
CREATE VIRTUAL TABLE client_words USING fts5 (
    search_words, content='', tokenize='unicode61 remove_diacritics 0', prefix='1 2'
);
"""

# Kept apart so that bulk loads (the demo) can drop them, load, and rebuild.
SEARCH_TRIGGERS = """
CREATE TRIGGER client_search_ai AFTER INSERT ON client BEGIN
    INSERT INTO client_fts (rowid, search_text) VALUES (new.name_rank, new.search_text);
    INSERT INTO client_words (rowid, search_words) VALUES (new.name_rank, new.search_words);
END;
CREATE TRIGGER client_search_ad AFTER DELETE ON client BEGIN
    INSERT INTO client_fts (client_fts, rowid, search_text)
        VALUES ('delete', old.name_rank, old.search_text);
    INSERT INTO client_words (client_words, rowid, search_words)
        VALUES ('delete', old.name_rank, old.search_words);
END;
CREATE TRIGGER client_search_au AFTER UPDATE OF search_text, search_words, name_rank ON client BEGIN
    INSERT INTO client_fts (client_fts, rowid, search_text)
        VALUES ('delete', old.name_rank, old.search_text);
    INSERT INTO client_words (client_words, rowid, search_words)
        VALUES ('delete', old.name_rank, old.search_words);
    INSERT INTO client_fts (rowid, search_text) VALUES (new.name_rank, new.search_text);
    INSERT INTO client_words (rowid, search_words) VALUES (new.name_rank, new.search_words);
END;
"""


def _run_script(script: str) -> Callable[[SqliteDatabase], None]:
    def apply(db: SqliteDatabase) -> None:
        for statement in _split(script):
            db.execute_sql(statement)

    return apply


def _split(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    import sqlite3

    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


# The list only grows: never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, Callable[[SqliteDatabase], None]]] = [
    ("clients, contacts, groups, change log, settings, search", _run_script(_M1_CLIENTS + SEARCH_TRIGGERS)),
]


def current_version(db: SqliteDatabase) -> tuple[int, int]:
    value = db.execute_sql("PRAGMA user_version").fetchone()[0]
    return divmod(value, 10000)


def migrate(db: SqliteDatabase) -> int:
    """Apply every migration not yet applied; return how many ran."""
    major, applied = current_version(db)
    if applied == 0 and major == 0:
        major = MAJOR
    if major > MAJOR:
        raise SchemaTooNew(
            "db",
            f"this file was written by a newer billdesk (schema {major}); "
            f"this version reads schema {MAJOR}. Update billdesk to open it.",
        )
    ran = 0
    for number, (title, apply) in enumerate(MIGRATIONS, start=1):
        if number <= applied:
            continue
        log.info("applying migration %d: %s", number, title)
        with db.atomic():
            apply(db)
            db.execute_sql(f"PRAGMA user_version = {MAJOR * 10000 + number}")
        ran += 1
    return ran


SEARCH_TRIGGER_NAMES = ("client_search_ai", "client_search_ad", "client_search_au")


def rebuild_search(db: SqliteDatabase) -> None:
    """Fill both search indexes anew from the client table."""
    for table, column in (("client_fts", "search_text"), ("client_words", "search_words")):
        db.execute_sql(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
        db.execute_sql(f"INSERT INTO {table} (rowid, {column}) "
                       f"SELECT name_rank, {column} FROM client ORDER BY name_rank")


class bulk_client_load:
    """For writing many clients at once (the demo, re-ranking every client),
    inside a transaction: the search triggers are dropped, and on leaving
    both FTS indexes are rebuilt from the client table and the triggers
    restored — several times faster than a trigger per row."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def __enter__(self) -> None:
        for name in SEARCH_TRIGGER_NAMES:
            self.db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            rebuild_search(self.db)
        for statement in _split(SEARCH_TRIGGERS):
            self.db.execute_sql(statement)
