"""Schema migrations and the database lifecycle (D1, D2): versions in
user_version, idempotent opening, refusing newer majors, the connection
pragmas, and how --db / BILLDESK_DB are read."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from billdesk.errors import InvalidInput, SchemaTooNew
from billdesk.models import ALL_MODELS, close_database, database, init_db, parse_db_url
from billdesk.models import migrations
from billdesk.models.db import DbTarget, open_database

CURRENT = migrations.MAJOR * 10000 + len(migrations.MIGRATIONS)


def user_version(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def schema(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        con.close()


def test_fresh_file_migrates_to_the_current_version(db_path):
    assert not db_path.exists()
    db = init_db(db_path)
    try:
        assert db.execute_sql("PRAGMA user_version").fetchone()[0] == CURRENT
        assert migrations.current_version(db) == (migrations.MAJOR, len(migrations.MIGRATIONS))
        tables = {r[0] for r in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        assert {"client", "contact", "client_group", "client_log", "setting", "client_fts",
                "client_words"} <= tables
        triggers = {r[0] for r in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
        assert set(migrations.SEARCH_TRIGGER_NAMES) <= triggers
    finally:
        close_database()
    assert user_version(db_path) == CURRENT


def test_models_mirror_the_migrated_tables(db):
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = {r[1] for r in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}
        assert columns, f"no table {table}"
        fields = {f.column_name for f in model._meta.sorted_fields}
        assert fields <= columns, f"{table}: model fields missing from the table: {fields - columns}"


def test_money_like_columns_are_integers(db):
    # discount is INTEGER hundredths; no REAL or DECIMAL column anywhere
    for (table,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND sql NOT LIKE 'CREATE VIRTUAL%'").fetchall():
        for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall():
            assert row[2].upper() not in ("REAL", "FLOAT", "DOUBLE", "DECIMAL", "NUMERIC"), (table, row)


def test_opening_twice_runs_nothing_the_second_time(db_path, caplog):
    caplog.set_level(logging.INFO, logger="billdesk.models.migrations")
    init_db(db_path)
    close_database()
    assert any("applying migration 1" in r.getMessage() for r in caplog.records)
    first_schema = schema(db_path)

    caplog.clear()
    db = init_db(db_path)
    try:
        assert not [r for r in caplog.records if "applying migration" in r.getMessage()]
        assert migrations.migrate(db) == 0
    finally:
        close_database()
    assert schema(db_path) == first_schema
    assert user_version(db_path) == CURRENT


def test_migrate_reports_how_many_ran(db_path):
    db = open_database(DbTarget("sqlite", db_path), migrate=False)
    try:
        assert migrations.current_version(db) == (0, 0)
        assert migrations.migrate(db) == len(migrations.MIGRATIONS)
        assert migrations.migrate(db) == 0
    finally:
        close_database()


def test_a_failing_migration_leaves_the_previous_version(db_path, monkeypatch):
    init_db(db_path)
    close_database()
    before = schema(db_path)

    def half_done(db):
        db.execute_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        db.execute_sql("INSERT INTO half_done (id) VALUES (1)")
        raise RuntimeError("power cut")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("broken", half_done)])
    with pytest.raises(RuntimeError, match="power cut"):
        init_db(db_path)
    assert database.obj.is_closed()
    assert user_version(db_path) == CURRENT
    assert schema(db_path) == before  # no half_done table

    monkeypatch.undo()
    init_db(db_path)
    close_database()
    assert user_version(db_path) == CURRENT


@pytest.mark.parametrize("version", [2 * 10000, 2 * 10000 + 1, 99 * 10000 + 7])
def test_newer_major_is_refused(db_path, version):
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {version}")
    con.commit()
    con.close()
    with pytest.raises(SchemaTooNew) as exc:
        init_db(db_path)
    assert exc.value.field == "db"
    assert "newer" in exc.value.message
    assert database.obj.is_closed()
    assert user_version(db_path) == version
    assert [r for r in schema(db_path) if r[0] == "table"] == []  # nothing created


def test_newer_minor_of_the_same_major_is_opened_as_is(db_path):
    init_db(db_path)
    close_database()
    newer = CURRENT + 3
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {newer}")
    con.commit()
    con.close()
    db = init_db(db_path)
    try:
        assert db.execute_sql("SELECT count(*) FROM client").fetchone()[0] == 0
    finally:
        close_database()
    assert user_version(db_path) == newer


def test_connection_pragmas(db):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_foreign_keys_are_enforced(db):
    import peewee

    with pytest.raises(peewee.IntegrityError):
        db.execute_sql("INSERT INTO client_log (client_id, at) VALUES (999, '2024-01-01')")


# --------------------------------------------------------------------------- parse_db_url

def test_plain_path(tmp_path):
    assert parse_db_url(tmp_path / "a.db") == DbTarget("sqlite", tmp_path / "a.db")
    assert parse_db_url(str(tmp_path / "a.db")) == DbTarget("sqlite", tmp_path / "a.db")
    assert parse_db_url("relative/book.sqlite3") == DbTarget("sqlite", Path("relative/book.sqlite3"))
    assert parse_db_url("~/book.db").path == Path.home() / "book.db"


def test_sqlite_urls():
    assert parse_db_url("sqlite:///relative.db") == DbTarget("sqlite", Path("relative.db"))
    assert parse_db_url("sqlite:///sub/dir/x.db") == DbTarget("sqlite", Path("sub/dir/x.db"))
    assert parse_db_url("sqlite:////abs/path/x.db") == DbTarget("sqlite", Path("/abs/path/x.db"))
    assert parse_db_url("sqlite:////tmp/with%20space.db").path == Path("/tmp/with space.db")
    assert str(parse_db_url("sqlite:////abs/x.db")) == "/abs/x.db"


def test_billdesk_db_environment(monkeypatch, tmp_path, billdesk_home):
    assert parse_db_url(None) == DbTarget("sqlite", billdesk_home / "data" / "billdesk.sqlite3")
    monkeypatch.setenv("BILLDESK_DB", str(tmp_path / "env.db"))
    assert parse_db_url(None) == DbTarget("sqlite", tmp_path / "env.db")
    assert parse_db_url("") == DbTarget("sqlite", tmp_path / "env.db")
    monkeypatch.setenv("BILLDESK_DB", "sqlite:////srv/books/env.db")
    assert parse_db_url(None) == DbTarget("sqlite", Path("/srv/books/env.db"))
    # an explicit value wins over the environment
    assert parse_db_url(tmp_path / "x.db") == DbTarget("sqlite", tmp_path / "x.db")
    monkeypatch.setenv("BILLDESK_DB", "postgresql://u@h/db")
    with pytest.raises(InvalidInput) as exc:
        parse_db_url(None)
    assert exc.value.field == "db"


def test_init_db_uses_billdesk_db(monkeypatch, tmp_path):
    target = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("BILLDESK_DB", f"sqlite:///{target}")
    init_db(None)
    close_database()
    assert user_version(target) == CURRENT


@pytest.mark.parametrize("url", [
    "postgresql://user:secret@localhost/billdesk",
    "postgres://localhost/billdesk",
    "mysql://localhost/billdesk",
    "http://example.com/book.db",
    "sqlite://relative.db",
    "sqlite:///",
])
def test_refused_urls_name_the_db_field(url):
    with pytest.raises(InvalidInput) as exc:
        parse_db_url(url)
    assert exc.value.field == "db"
    assert "secret" not in exc.value.message


def test_postgresql_refusal_says_not_supported():
    with pytest.raises(InvalidInput, match="PostgreSQL"):
        parse_db_url("postgresql://localhost/billdesk")


def test_init_db_refuses_missing_folder_directory_and_garbage(tmp_path):
    with pytest.raises(InvalidInput) as exc:
        init_db(tmp_path / "no" / "such" / "book.db")
    assert exc.value.field == "db"
    assert not (tmp_path / "no").exists()
    with pytest.raises(InvalidInput) as exc:
        init_db(tmp_path)
    assert exc.value.field == "db"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database file" * 200)
    with pytest.raises(InvalidInput) as exc:
        init_db(garbage)
    assert exc.value.field == "db"
    assert garbage.read_bytes() == b"this is not a database file" * 200


def test_a_book_with_migrations_to_apply_is_backed_up_first(db_path, monkeypatch):
    """D2: the backup holds the book as it was, at its old version."""
    from billdesk.services import backup, settings

    every = list(migrations.MIGRATIONS)
    monkeypatch.setattr(migrations, "MIGRATIONS", every[:-1])  # a book of the last release
    init_db(db_path)
    settings.save_company(settings.Company(name="Before Ltd", currency="GBP"))
    close_database()
    assert backup.backups() == []  # a new file has nothing to lose
    monkeypatch.setattr(migrations, "MIGRATIONS", every)
    init_db(db_path)
    close_database()
    assert user_version(db_path) == CURRENT
    [taken] = backup.backups()
    assert taken.reason == f"before-migration-v{len(every)}" and taken.automatic
    assert user_version(taken.path) == CURRENT - 1
    con = sqlite3.connect(taken.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert "Before Ltd" in con.execute("SELECT value FROM setting WHERE key = 'company'"
                                           ).fetchone()[0]
    finally:
        con.close()
    init_db(db_path)  # up to date: no second backup
    close_database()
    assert len(backup.backups()) == 1
