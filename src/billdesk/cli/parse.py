"""Turning option text into values. A malformed value is refused input
(exit 1 naming the option), not a usage error, so argparse only sees
strings and these helpers do the rest."""

from __future__ import annotations

import sys
from pathlib import Path

from billdesk.errors import InvalidInput
from billdesk.models import CLIENT_STATUSES


LARGEST = 2**63 - 1  # SQLite's INTEGER


def integer(value: str, field: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(field, f"{value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise InvalidInput(field, f"must be {minimum} or more")
    if abs(number) > LARGEST:
        raise InvalidInput(field, f"{value.strip()} is too large")
    return number


def record_id(value: str, field: str = "id") -> int:
    return integer(value, field, minimum=1)


def yes_no(value: str, field: str) -> bool:
    text = value.strip().lower()
    if text in ("yes", "y", "true", "1", "on"):
        return True
    if text in ("no", "n", "false", "0", "off"):
        return False
    raise InvalidInput(field, f"{value!r}: write yes or no")


def status(value: str, field: str = "status") -> str:
    for known in CLIENT_STATUSES:
        if value.strip().lower() == known.lower():
            return known
    raise InvalidInput(field, f"{value!r}: must be one of {', '.join(CLIENT_STATUSES)}")


def items(values: list[str]) -> list[tuple[str, str]]:
    """``--item "DESCRIPTION=AMOUNT"`` options as (description, amount);
    the amount follows the last "=", so a description may hold one."""
    out = []
    for n, value in enumerate(values, start=1):
        where = f" (item {n})" if len(values) > 1 else ""
        description, sep, amount = value.rpartition("=")
        if not sep:
            raise InvalidInput("item", f"{value!r}: write DESCRIPTION=AMOUNT{where}")
        if not description.strip():
            raise InvalidInput("item", f"{value!r}: the description before '=' is empty{where}")
        if not amount.strip():
            raise InvalidInput("item", f"{value!r}: the amount after '=' is empty{where}")
        out.append((description.strip(), amount))
    return out


def terminal() -> bool:
    """Whether there is a terminal to ask on (stdin is one)."""
    return bool(sys.stdin) and sys.stdin.isatty()


def confirmed(yes: bool, question: str, *, details: str = "", prompt: str = "",
              refused: str = "nothing deleted") -> None:
    """The D5 rule for destructive commands: ``--yes`` goes ahead; without
    it they ask on a terminal (``details`` printed first) and, with no
    terminal to ask on, refuse (exit 1, ``error: confirmation: …``)."""
    if yes:
        return
    if not terminal():
        raise InvalidInput("confirmation", "add --yes to confirm (no terminal to ask on)")
    if details:
        print(f"{question}\n{details}", file=sys.stderr)
    answer = input(f"{prompt or question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise InvalidInput("confirmation", f"not confirmed; {refused}")


def output_path(value: str) -> Path:
    """``-o FILE``: an absolute path whose folder exists, checked before
    anything is done (refused as ``output``)."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput("output", "is required")
    path = Path(text).expanduser().resolve()
    if path.is_dir():
        raise InvalidInput("output", f"{str(path)!r} is a folder; name a file")
    if not path.parent.is_dir():
        raise InvalidInput("output", f"the folder {str(path.parent)!r} does not exist")
    return path
