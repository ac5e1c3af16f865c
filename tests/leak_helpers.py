"""Looking for secrets in the raw bytes a book leaves on disk, for the
"no full number on disk" tests of pay methods (K2), in-process and through
the command line. Import as ``from leak_helpers import leaks`` (tests/ is on
pytest's path, as for smtp_helpers)."""

from __future__ import annotations

from pathlib import Path


def book_files(db: Path, home: Path) -> list[Path]:
    """The book, its WAL and shared-memory files, and every file under
    ``home`` (backups, logs): those that exist."""
    candidates = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), *sorted(home.rglob("*"))]
    return [p for p in candidates if p.is_file()]


def leaks(files: list[Path], secrets: list[str]) -> list[str]:
    """Where each secret stands in the files' bytes, as ASCII or UTF-16
    either way round: "…1111 (ascii) in /path/to/file" per find."""
    found = []
    for path in files:
        raw = path.read_bytes()
        for secret in secrets:
            for encoding in ("ascii", "utf-16-le", "utf-16-be"):
                if secret.encode(encoding) in raw:
                    found.append(f"…{secret[-4:]} ({encoding}) in {path}")
    return found
