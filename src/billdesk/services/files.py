"""A client's files (F1): added from a path, stored under the data folder by
their SHA-256, renamed, flagged admin-only, removed.

The bytes live at ``files_root() / sha256[:2] / sha256``; the rows (name,
size, flag, when) in ``client_file``. One content added twice, to one client
or to several, takes the space once; its bytes go when the last row that
names their hash goes. ``files_root()`` is per book (a uuid kept in the
settings table), so two books in one data folder never share, nor delete,
each other's bytes.

Placing bytes and writing the row happen under the book's write lock (every
write transaction takes it when it begins), and so does deleting bytes no
row names: an add in another process cannot lose its bytes to a removal
here. A removal inside a caller's transaction (``remove_all`` from a merge
or a delete) leaves the bytes; the caller runs ``purge_orphans()`` once its
transaction has committed. Every write is logged on the client's log in its
own transaction."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from billdesk import paths
from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Setting, database, now
from billdesk.models.tables import ClientFile
from billdesk.services import changelog, clients

BOOK_ID_KEY = "book_id"  # the settings row naming this book's folder under data/files
NAME_LIMIT = 255
_CHUNK = 1 << 20
_HASH = re.compile(r"[0-9a-f]{64}")
_INCOMING = ".incoming-"  # a copy being hashed; left over only by a crash
_STALE_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: int
    client_id: int
    name: str
    sha256: str
    size: int
    admin_only: bool
    added_at: datetime

    @property
    def size_text(self) -> str:
        return human_size(self.size)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "name": self.name,
                "size": self.size, "sha256": self.sha256, "admin_only": self.admin_only,
                "added_at": self.added_at.isoformat(sep=" "),
                "added": self.added_at.date().isoformat()}


def human_size(n: int) -> str:
    """1 byte, 980 bytes, 12.4 KB, 3.1 MB, 1.2 GB (1 KB = 1024 bytes)."""
    if n < 1024:
        return f"{n} byte{'' if n == 1 else 's'}"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if round(value, 1) < 1024 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


# --- where the bytes are

def _book_id(*, create: bool) -> str | None:
    from billdesk.services import settings

    value = settings._get(BOOK_ID_KEY)
    if value is None:
        if not create:
            return None
        with database.atomic():  # two processes at once: the first one's id wins
            Setting.insert(key=BOOK_ID_KEY, value=json.dumps(uuid.uuid4().hex)
                           ).on_conflict_ignore().execute()
        value = settings._get(BOOK_ID_KEY)
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{32}", value):
        raise Conflict("book_id", f"the stored book id {value!r} is not a uuid; the files "
                                  "folder cannot be named")
    return value


def files_root() -> Path:
    """``data folder / files / <book id>``, made on first use."""
    root = paths.data_dir() / "files" / str(_book_id(create=True))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _existing_root() -> Path | None:
    """The root if this book ever stored a file (reads, never creates)."""
    book = _book_id(create=False)
    if book is None:
        return None
    root = paths.data_dir() / "files" / book
    return root if root.is_dir() else None


def stored_path(sha256: str) -> Path:
    if not _HASH.fullmatch(sha256 or ""):
        raise InvalidInput("sha256", f"{sha256!r} is not a SHA-256 in hex")
    return files_root() / sha256[:2] / sha256


def clean_name(name: str | None, field: str = "name") -> str:
    """A file name as shown and offered when opening: one line, no folder."""
    text = (name or "").strip()
    if not text:
        raise InvalidInput(field, "is empty; give the file a name")
    if any(c in text for c in "/\\\0") or any(ord(c) < 32 for c in text):
        raise InvalidInput(field, f"{text!r}: no slashes or control characters in a file name")
    if text in (".", ".."):
        raise InvalidInput(field, f"{text!r} is not a file name")
    if len(text) > NAME_LIMIT:
        raise InvalidInput(field, f"is too long (at most {NAME_LIMIT} characters)")
    return text


def _source(source: str | os.PathLike[str]) -> Path:
    path = Path(source).expanduser()
    if not path.exists():
        raise InvalidInput("path", f"{str(path)!r}: no such file")
    if path.is_dir():
        raise InvalidInput("path", f"{str(path)!r} is a folder, not a file")
    if not path.is_file():
        raise InvalidInput("path", f"{str(path)!r} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InvalidInput("path", f"{str(path)!r} cannot be read (permission denied)")
    return path


# --- writing

def add_file(client_id: int, source: str | os.PathLike[str], *, name: str | None = None,
             admin_only: bool = False, actor: str | None = None) -> int:
    """Store a copy of the file at ``source`` for the client; its id. The
    name defaults to the file's own."""
    path = _source(source)
    name = clean_name(path.name if name is None else name)
    clients.require_writable(client_id)  # before copying a big file for nothing
    root = files_root()
    fd, temp_name = tempfile.mkstemp(prefix=_INCOMING, dir=root)
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise InvalidInput("path", f"{str(path)!r} cannot be read: "
                                       f"{exc.strerror or exc}") from None
        sha = digest.hexdigest()
        target = root / sha[:2] / sha
        with database.atomic():
            clients.require_writable(client_id)
            placed = False
            if not target.is_file():
                target.parent.mkdir(exist_ok=True)
                os.replace(temp, target)
                placed = True
            try:
                file_id = ClientFile.insert(client=client_id, name=name, sha256=sha, size=size,
                                            admin_only=bool(admin_only), added_at=now()).execute()
                changelog.record(client_id, f"File added: {name} ({human_size(size)})"
                                 + (", admin only" if admin_only else ""), actor=actor)
            except BaseException:
                if placed:
                    target.unlink(missing_ok=True)
                raise
    finally:
        temp.unlink(missing_ok=True)  # gone already when it was placed
    return file_id


def _get_row(file_id: int) -> FileRecord:
    row = (ClientFile.select(ClientFile.id, ClientFile.client, ClientFile.name, ClientFile.sha256,
                             ClientFile.size, ClientFile.admin_only, ClientFile.added_at)
           .where(ClientFile.id == file_id).tuples().first())
    if row is None:
        raise NotFound("file_id", f"no file with id {file_id}")
    return _record(row)


def _record(row: tuple) -> FileRecord:
    added = row[6] if isinstance(row[6], datetime) else datetime.fromisoformat(str(row[6]))
    return FileRecord(id=row[0], client_id=row[1], name=row[2], sha256=row[3], size=row[4],
                      admin_only=bool(row[5]), added_at=added)


def get_file(file_id: int) -> FileRecord:
    return _get_row(file_id)


def list_files(client_id: int, *, include_admin_only: bool = True) -> list[FileRecord]:
    """The client's files, newest first."""
    clients.require(client_id)
    query = (ClientFile.select(ClientFile.id, ClientFile.client, ClientFile.name, ClientFile.sha256,
                               ClientFile.size, ClientFile.admin_only, ClientFile.added_at)
             .where(ClientFile.client == client_id))
    if not include_admin_only:
        query = query.where(ClientFile.admin_only == False)  # noqa: E712 (SQL)
    return [_record(row) for row in query.order_by(ClientFile.added_at.desc(),
                                                   ClientFile.id.desc()).tuples()]


def rename_file(file_id: int, name: str, *, actor: str | None = None) -> None:
    new = clean_name(name)
    with database.atomic():
        current = _get_row(file_id)
        clients.require_writable(current.client_id)
        if new == current.name:
            return
        ClientFile.update(name=new).where(ClientFile.id == file_id).execute()
        changelog.record(current.client_id, field="File name", old=current.name, new=new,
                         actor=actor)


def set_admin_only(file_id: int, admin_only: bool, *, actor: str | None = None) -> None:
    flag = bool(admin_only)
    with database.atomic():
        current = _get_row(file_id)
        clients.require_writable(current.client_id)
        if flag == current.admin_only:
            return
        ClientFile.update(admin_only=flag).where(ClientFile.id == file_id).execute()
        changelog.record(current.client_id, field=f"File {current.name}: admin only",
                         old="Yes" if current.admin_only else "No", new="Yes" if flag else "No",
                         actor=actor)


def remove_file(file_id: int, *, actor: str | None = None) -> None:
    """The row goes; the bytes too when no other row names their hash
    (inside a caller's transaction: at ``purge_orphans()`` after it)."""
    outer = database.in_transaction()
    with database.atomic():
        current = _get_row(file_id)
        clients.require_writable(current.client_id)
        ClientFile.delete().where(ClientFile.id == file_id).execute()
        changelog.record(current.client_id, f"File removed: {current.name} "
                         f"({human_size(current.size)})", actor=actor)
    if not outer:
        _drop_unreferenced([current.sha256])


def remove_all(client_id: int, *, actor: str | None = None) -> int:
    """Remove every file of the client (merge, delete, anonymize); how many.
    Not refused for an archived client: its caller decides. Called inside
    the caller's transaction, the bytes stay until ``purge_orphans()``
    runs after the commit; called alone, they go at once."""
    outer = database.in_transaction()
    with database.atomic():
        clients.require(client_id)
        hashes = [h for (h,) in ClientFile.select(ClientFile.sha256)
                  .where(ClientFile.client == client_id).tuples()]
        if not hashes:
            return 0
        ClientFile.delete().where(ClientFile.client == client_id).execute()
        changelog.record(client_id, f"All files removed ({len(hashes)})", actor=actor)
    if not outer:
        _drop_unreferenced(hashes)
    return len(hashes)


def _drop_unreferenced(hashes: Iterable[str]) -> int:
    """Delete the stored bytes of those hashes no row names (under the write lock)."""
    root = _existing_root()
    if root is None:
        return 0
    wanted = set(hashes)
    removed = 0
    with database.atomic():
        named = {h for (h,) in ClientFile.select(ClientFile.sha256)
                 .where(ClientFile.sha256.in_(list(wanted))).tuples()}
        for sha in wanted - named:
            removed += _unlink(root / sha[:2] / sha)
    return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    try:
        path.parent.rmdir()  # when it was the last file of its folder
    except OSError:
        pass
    return 1


def purge_orphans() -> int:
    """Delete the stored bytes no row of this book names (after a client's
    delete, merge or anonymize has committed), and copies a crash left half
    made; how many stored files went. Must not run inside a transaction:
    a rollback would bring back rows whose bytes are gone."""
    if database.in_transaction():
        raise RuntimeError("purge_orphans() runs after the transaction has committed")
    root = _existing_root()
    if root is None:
        return 0
    removed = 0
    stale = time.time() - _STALE_SECONDS
    with database.atomic():
        named = {h for (h,) in ClientFile.select(ClientFile.sha256).distinct().tuples()}
        for entry in list(root.iterdir()):
            if entry.is_file() and entry.name.startswith(_INCOMING):
                if entry.stat().st_mtime < stale:  # younger: an add running elsewhere
                    entry.unlink(missing_ok=True)
                continue
            if not (entry.is_dir() and re.fullmatch(r"[0-9a-f]{2}", entry.name)):
                continue
            for stored in list(entry.iterdir()):
                if (_HASH.fullmatch(stored.name) and stored.name[:2] == entry.name
                        and stored.name not in named):
                    removed += _unlink(stored)
    return removed


# --- reading the bytes

def open_path(file_id: int) -> Path:
    """The stored file (read it, never write it). NotFound when its bytes
    are missing from the data folder."""
    record = _get_row(file_id)
    root = _existing_root()
    path = (root / record.sha256[:2] / record.sha256) if root is not None else None
    if path is None or not path.is_file():
        raise NotFound("file_id", f"the stored copy of {record.name!r} is missing from "
                                  f"{root or paths.data_dir() / 'files'}")
    return path


def copy_out(file_id: int, folder: str | os.PathLike[str]) -> Path:
    """A copy of the file in ``folder`` under its name (for opening it with
    the program its name calls for, or saving it elsewhere); its path."""
    record = _get_row(file_id)
    source = open_path(file_id)
    target = Path(folder) / record.name
    shutil.copyfile(source, target)
    return target
