"""Backups of the open book (D3), with SQLite's online backup API.

One function for every caller: the daily run takes one before it starts
(A1), and every destructive action takes one before it acts; ``restore``
puts the book back as a backup holds it (File → Backups…). The copy
is made page by page from the open connection (``sqlite3.Connection.
backup``), so it is consistent even while the program runs, and a WAL book
is copied whole (committed pages only).

Files are named ``billdesk-YYYYMMDD-HHMMSS-<reason>.sqlite3`` in the backup
folder (``<reason>-client<ID>`` when taken before an action on one client,
so that the list can say whose it was) in the book's own folder inside the
backup folder (the setting ``backup`` → ``{"folder": …}``, else ``backups``
in the data folder): one book's rotation never touches another's. Automatic
backups rotate by reason: the last ``RETAIN``
of each are kept — so ten days of daily runs do not push out the backup
taken before a client was deleted; that one goes after ten more deletes.
A backup made by hand (``automatic=False``) is named
``billdesk-YYYYMMDD-HHMMSS-<reason>.manual.sqlite3`` and never deleted by
the rotation."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from billdesk import paths
from billdesk.errors import Conflict, InvalidInput
from billdesk.models import database, now
from billdesk.services import settings as base

RETAIN = 10  # automatic backups kept
STEP_PAGES = 8192  # copied between two progress calls (32 MB of 4 KB pages)
_NAME = re.compile(r"^billdesk-(\d{8})-(\d{6})-([a-z0-9_-]+?)(?:-(\d+))?(\.manual)?\.sqlite3$")
_REASON = re.compile(r"[^a-z0-9_-]+")
_FOR_CLIENT = re.compile(r"^(.+)-client(\d+)$")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    created: dt.datetime
    reason: str  # why, as the caller named it ("automation", "before-delete")
    automatic: bool
    size: int
    client_id: int | None = None  # the client the action was on, when it was on one


def backup_folder() -> Path:
    """Where backups go: the setting, else ``backups`` in the data folder."""
    stored = base._get("backup", {}) or {}
    folder = stored.get("folder") if isinstance(stored, dict) else None
    return Path(folder).expanduser() if folder else paths.data_dir() / "backups"


def book_folder(base: Path | None = None) -> Path:
    """Where this book's backups go: a folder of its own inside the backup
    folder, named after the book's file and where it is (``book-3f9a1c``),
    so that the rotation of one book never deletes another's backups (a
    copy tried out beside the real book, a second business)."""
    name = str(getattr(database.obj, "database", "") or "") if database.obj is not None else ""
    if name and name != ":memory:" and not name.startswith("file:"):
        path = Path(name).expanduser().resolve()
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-")[:32] or "book"
        where = os.path.normcase(str(path))  # (one file, however its case is typed)
        tag = f"{stem}-{hashlib.sha1(where.encode()).hexdigest()[:6]}"
    else:
        tag = "book"
    return (base or backup_folder()) / tag


def save_backup_folder(folder: str | Path | None) -> Path:
    """Set the backup folder ('' or None: the default). It must exist."""
    text = str(folder or "").strip()
    if text:
        path = Path(text).expanduser()
        if not path.is_dir():
            raise InvalidInput("folder", f"{text!r} is not an existing folder")
    with database.atomic():
        base._put("backup", {"folder": text})
    return backup_folder()


def _reason(reason: str) -> str:
    cleaned = _REASON.sub("-", (reason or "").strip().lower()).strip("-")
    if not cleaned:
        raise InvalidInput("reason", "name why the backup is taken (e.g. automation)")
    return cleaned[:40]


def _info(path: Path) -> BackupInfo | None:
    match = _NAME.match(path.name)
    if not match:
        return None
    try:
        created = dt.datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    reason, client_id = match.group(3), None
    for_client = _FOR_CLIENT.match(reason)
    if for_client:
        reason, client_id = for_client.group(1), int(for_client.group(2))
    return BackupInfo(path, created, reason, match.group(5) is None, size, client_id)


def backups(folder: Path | None = None) -> list[BackupInfo]:
    """The backups in the folder (default: this book's, with those taken
    before books had folders of their own, loose in the backup folder),
    oldest first."""
    folders = [folder] if folder is not None else [book_folder(), backup_folder()]
    found = [info for place in folders if place.is_dir()
             for info in map(_info, place.iterdir()) if info is not None]
    return sorted(found, key=_order)


def _order(info: BackupInfo) -> tuple:
    """Oldest first; within one second, in the order they were numbered,
    then written."""
    match = _NAME.match(info.path.name)
    try:
        written = info.path.stat().st_mtime_ns
    except OSError:
        written = 0
    return (info.created, int(match.group(4) or 1) if match else 0, written, info.path.name)


def backup(*, reason: str, folder: Path | None = None, automatic: bool = True,
           client_id: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> Path:
    """Copy the open book into the backup folder and return the new file.
    Automatic backups beyond the last ``RETAIN`` of their reason are
    deleted. ``client_id``: the client the action about to be taken is on
    (kept in the file's name). ``progress(pages copied, pages in all)`` is
    called after each ``STEP_PAGES`` pages (a big book's copy takes
    seconds where its pages are not in memory)."""
    if database.obj is None:
        raise Conflict("db", "no database is open")
    if database.in_transaction():
        raise Conflict("db", "a backup is taken outside a transaction")
    name_reason = _reason(reason)
    if client_id is not None:
        name_reason += f"-client{int(client_id)}"
    folder = Path(folder) if folder is not None else book_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput("folder", f"cannot create {str(folder)!r}: {exc.strerror}") from None
    stamp = now().strftime("%Y%m%d-%H%M%S")
    suffix = "" if automatic else ".manual"
    target = folder / f"billdesk-{stamp}-{name_reason}{suffix}.sqlite3"
    n = 1
    while target.exists():  # the same second (a frozen clock): number it
        n += 1
        target = folder / f"billdesk-{stamp}-{name_reason}-{n}{suffix}.sqlite3"
    partial = target.with_name(target.name + ".part")
    source = database.connection()
    try:
        dest = sqlite3.connect(str(partial))
        try:
            _copy(source, dest, progress)
        finally:
            dest.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise Conflict("backup", f"could not write {str(target)!r}: {exc}") from None
    if automatic:
        prune(folder)
    return target


def _copy(source: sqlite3.Connection, dest: sqlite3.Connection,
          progress: Callable[[int, int], None] | None) -> None:
    """The whole book in one step; in steps that report how far, when
    asked, and only while no delivery is writing the outbox beside it (a
    write from another connection starts a stepped copy over)."""
    if progress is None:
        source.backup(dest)
        return
    from billdesk.services import outbox

    with outbox._delivery_lock() as held:
        if not held:
            source.backup(dest)
            return
        source.backup(dest, pages=STEP_PAGES,
                      progress=lambda _status, left, pages: progress(pages - left, pages))


def prune(folder: Path | None = None, keep: int = RETAIN) -> list[Path]:
    """Delete the automatic backups older than the last ``keep`` of their
    reason (oldest first within each)."""
    by_reason: dict[str, list[BackupInfo]] = {}
    for info in backups(folder or book_folder()):  # (this book's own only)
        if info.automatic:
            by_reason.setdefault(info.reason, []).append(info)
    old = [info for same in by_reason.values() for info in same[:max(len(same) - keep, 0)]]
    removed = []
    for info in old:
        try:
            info.path.unlink()
            removed.append(info.path)
        except OSError:
            pass
    return removed


def delete_backup(path: str | Path, folder: Path | None = None) -> None:
    """Delete one backup of the folder (the backups list's Delete). Only a
    file the folder lists as a backup is deleted; anything else is refused."""
    target = Path(path)
    if target not in {info.path for info in backups(folder)}:
        raise InvalidInput("backup", f"{target.name!r} is not one of the book's backups")
    try:
        target.unlink()
    except OSError as exc:
        raise Conflict("backup", f"could not delete {target.name}: {exc.strerror}") from None


def restore(path: str | Path) -> Path:
    """Put the open book back as the backup at ``path`` holds it, and
    return the backup of the book as it was just before (reason
    ``before-restore``, kept by hand: the rotation never deletes it, so a
    restore can itself be undone). The backup's pages are copied over the
    open book with SQLite's online backup API, in one step, on this
    connection; then the migrations the backup predates are applied.

    Mail already sent stays sent: a message the backup holds as waiting
    that the book had sent since is marked Sent (as it was), so that the
    outbox does not send it a second time. No daily run or delivery may be
    going (their locks are held for the restore: a cron run in another
    process is not overwritten half-way). Refused, changing nothing: a
    file that is not there, not a billdesk book, damaged, written by a
    newer billdesk, or with another page size."""
    from billdesk.models import migrations
    from billdesk.services import automation, outbox

    if database.obj is None:
        raise Conflict("db", "no database is open")
    if database.in_transaction():
        raise Conflict("db", "a backup is restored outside a transaction")
    source_path = Path(path)
    if not source_path.is_file():
        raise InvalidInput("backup", f"{str(source_path)!r} is not a file")
    try:  # read-only and immutable: the backup itself is never touched
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro&immutable=1",
                                 uri=True)
    except sqlite3.Error as exc:
        raise InvalidInput("backup", f"cannot open {str(source_path)!r}: {exc}") from None
    try:
        _check_restorable(source, source_path)
        applied = source.execute("PRAGMA user_version").fetchone()[0] % 10000
        with automation._run_lock(), outbox._delivery_lock() as delivering:
            if not delivering:
                raise Conflict("backup", "mail is being sent; restore once it has finished")
            kept = backup(reason="before-restore", automatic=False)
            try:
                source.backup(database.connection())
            except sqlite3.Error as exc:
                raise Conflict("backup", f"could not restore {source_path.name}: {exc}; the "
                                         f"book as it was is in {kept}") from None
            _keep_sent(kept)
    finally:
        source.close()
    if applied < len(migrations.MIGRATIONS):
        migrations.migrate(database.obj)
    from billdesk.services import activity

    with database.atomic():  # (in the restored book: its activity log goes on from there)
        activity.record(activity.RESTORED, f"from {source_path.name}; the book as it was "
                                           f"before is kept in {kept.name}")
    return kept


def _check_restorable(source: sqlite3.Connection, source_path: Path) -> None:
    from billdesk.models import migrations

    name = source_path.name
    try:
        check = source.execute("PRAGMA quick_check").fetchone()[0]
        major, applied = divmod(source.execute("PRAGMA user_version").fetchone()[0], 10000)
        has_clients = source.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'client'").fetchone()
        page_size = source.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise InvalidInput("backup", f"{name} is not a billdesk book: {exc}") from None
    if check != "ok":
        raise InvalidInput("backup", f"{name} is damaged: {check}")
    if major > migrations.MAJOR or (major == migrations.MAJOR
                                    and applied > len(migrations.MIGRATIONS)):
        raise InvalidInput("backup", f"{name} was written by a newer billdesk; update billdesk "
                                     "to restore it")
    if major != migrations.MAJOR or applied == 0 or not has_clients:
        raise InvalidInput("backup", f"{name} is not a billdesk book")
    ours = database.execute_sql("PRAGMA page_size").fetchone()[0]
    if page_size != ours:
        raise InvalidInput("backup", f"{name} has {page_size}-byte pages and this book "
                                     f"{ours}-byte ones: it cannot be copied over it")


def _keep_sent(before: Path) -> int:
    """Mark Sent (as they were) the restored book's waiting messages that
    the book had sent by the time of the restore (``before``, its backup):
    matched by Message-ID, which is the same in both."""
    conn = database.connection()
    conn.execute("ATTACH DATABASE ? AS before_restore", (str(before),))  # (only read)
    try:
        with database.atomic():
            return conn.execute(
                "UPDATE email SET status = 'Sent', error = '', next_attempt = NULL, "
                "sent_at = (SELECT b.sent_at FROM before_restore.email b "
                "           WHERE b.message_id = email.message_id AND b.status = 'Sent'), "
                "attempts = max(attempts, 1) "
                "WHERE status IN ('Queued', 'Sending', 'Failed') AND message_id IN "
                "(SELECT message_id FROM before_restore.email WHERE status = 'Sent')").rowcount
    finally:
        conn.execute("DETACH DATABASE before_restore")
