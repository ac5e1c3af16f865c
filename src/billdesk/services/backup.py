"""Backups of the open book (D3), with SQLite's online backup API.

One function for every caller: the daily run takes one before it starts
(A1), and every destructive action will take one before it acts. The copy
is made page by page from the open connection (``sqlite3.Connection.
backup``), so it is consistent even while the program runs, and a WAL book
is copied whole (committed pages only).

Files are named ``billdesk-YYYYMMDD-HHMMSS-<reason>.sqlite3`` in the backup
folder (the setting ``backup`` → ``{"folder": …}``, else ``backups`` in
the data folder). Automatic backups rotate by reason: the last ``RETAIN``
of each are kept — so ten days of daily runs do not push out the backup
taken before a client was deleted; that one goes after ten more deletes.
A backup made by hand (``automatic=False``) is named
``billdesk-YYYYMMDD-HHMMSS-<reason>.manual.sqlite3`` and never deleted by
the rotation."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from billdesk import paths
from billdesk.errors import Conflict, InvalidInput
from billdesk.models import database, now
from billdesk.services import settings as base

RETAIN = 10  # automatic backups kept
_NAME = re.compile(r"^billdesk-(\d{8})-(\d{6})-([a-z0-9_-]+?)(?:-(\d+))?(\.manual)?\.sqlite3$")
_REASON = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    created: dt.datetime
    reason: str
    automatic: bool
    size: int


def backup_folder() -> Path:
    """Where backups go: the setting, else ``backups`` in the data folder."""
    stored = base._get("backup", {}) or {}
    folder = stored.get("folder") if isinstance(stored, dict) else None
    return Path(folder).expanduser() if folder else paths.data_dir() / "backups"


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
    return BackupInfo(path, created, match.group(3), match.group(5) is None, size)


def backups(folder: Path | None = None) -> list[BackupInfo]:
    """The backups in the folder, oldest first."""
    folder = folder or backup_folder()
    if not folder.is_dir():
        return []
    found = [info for info in map(_info, folder.iterdir()) if info is not None]
    return sorted(found, key=_order)


def _order(info: BackupInfo) -> tuple:
    """Oldest first; within one second, in the order they were numbered."""
    match = _NAME.match(info.path.name)
    return (info.created, int(match.group(4) or 1) if match else 0, info.path.name)


def backup(*, reason: str, folder: Path | None = None, automatic: bool = True) -> Path:
    """Copy the open book into the backup folder and return the new file.
    Automatic backups beyond the last ``RETAIN`` are deleted."""
    if database.obj is None:
        raise Conflict("db", "no database is open")
    if database.in_transaction():
        raise Conflict("db", "a backup is taken outside a transaction")
    name_reason = _reason(reason)
    folder = Path(folder) if folder is not None else backup_folder()
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
            source.backup(dest)
        finally:
            dest.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise Conflict("backup", f"could not write {str(target)!r}: {exc}") from None
    if automatic:
        prune(folder)
    return target


def prune(folder: Path | None = None, keep: int = RETAIN) -> list[Path]:
    """Delete the automatic backups older than the last ``keep`` of their
    reason (oldest first within each)."""
    by_reason: dict[str, list[BackupInfo]] = {}
    for info in backups(folder):
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
