"""How the windows write amounts and dates for people (Babel), in the
owner's locale; the CLI and files use plain text (``str(Money)``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from billdesk.money import Money


@lru_cache(maxsize=1)
def locale() -> str:
    from babel import default_locale

    found = default_locale("LC_NUMERIC") or default_locale() or "en_US"
    found = found.removesuffix("_POSIX")  # C.UTF-8 reads as en_US_POSIX: odd spacing
    try:
        from babel import Locale

        Locale.parse(found)
    except Exception:  # an unknown or "C" locale
        return "en_US"
    return found if found not in ("C", "POSIX") else "en_US"


def money(value: Money | None, blank_zero: bool = False) -> str:
    if value is None or (blank_zero and not value):
        return ""
    return value.format(locale())


def date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""
