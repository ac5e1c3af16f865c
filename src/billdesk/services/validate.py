"""Validation rules as pure functions returning lists of problems, so a
form can show every problem beside its field at once."""

from __future__ import annotations

import re
from functools import lru_cache

from billdesk.errors import InvalidInput, Problem

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\u00a0-\uffff-]+"
    r"@(?:[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff-]{0,61}[A-Za-z0-9\u00a0-\uffff])?\.)+"
    r"[A-Za-z\u00a0-\uffff]{2,}$"
)
_PHONE = re.compile(r"^[0-9+()./\s-]*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def required(value: str, field: str) -> list[Problem]:
    return [] if value and value.strip() else [Problem(field, "is required")]


def email_problems(value: str, field: str = "email") -> list[Problem]:
    value = (value or "").strip()
    if not value:
        return [Problem(field, "is required")]
    if len(value) > 254 or ".." in value or not _EMAIL.match(value):
        return [Problem(field, f"{value!r} is not a valid email address")]
    return []


def phone_problems(value: str, field: str = "phone") -> list[Problem]:
    value = (value or "").strip()
    if value and not _PHONE.match(value):
        return [Problem(field, f"{value!r} is not a phone number (digits, spaces, + - ( ) . /)")]
    if value and sum(ch.isdigit() for ch in value) < 3:
        return [Problem(field, f"{value!r} is too short for a phone number (at least 3 digits)")]
    return []


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code → English name."""
    from babel import Locale

    return {
        code: name
        for code, name in sorted(Locale("en").territories.items(), key=lambda kv: kv[1])
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB")
    }


def country_problems(value: str, field: str = "country") -> list[Problem]:
    value = (value or "").strip().upper()
    if value and value not in countries():
        return [Problem(field, f"{value!r} is not an ISO 3166 country code (e.g. GB, DE, US)")]
    return []


LANGUAGE_CODES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "nb", "fi",
                  "cs", "hu", "ro", "el", "tr", "ru", "uk", "ja", "zh", "ar", "he")


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """Language code → name in its own language, for the languages billdesk offers."""
    from babel import Locale

    return {code: Locale(code).get_display_name(code).capitalize() for code in LANGUAGE_CODES}


def language_problems(value: str, field: str = "language") -> list[Problem]:
    if value not in languages():
        return [Problem(field, f"{value!r} is not one of {', '.join(LANGUAGE_CODES)}")]
    return []


def colour_problems(value: str, field: str = "colour") -> list[Problem]:
    if not _COLOUR.match(value or ""):
        return [Problem(field, f"{value!r} is not a colour like #5b8def")]
    return []


def max_length(value: str, field: str, limit: int) -> list[Problem]:
    if value and len(value) > limit:
        return [Problem(field, f"is longer than {limit} characters")]
    return []


def bounded_text(value: str | None, field: str, limit: int, *, empty: str = "",
                 one_line: bool = False) -> str:
    """``value`` stripped (``one_line``: each run of white space one space),
    or InvalidInput naming ``field`` when it is longer than ``limit`` or,
    with ``empty`` (why it may not be), when nothing is left."""
    text = " ".join((value or "").split()) if one_line else (value or "").strip()
    if empty and not text:
        raise InvalidInput(field, empty)
    if len(text) > limit:
        raise InvalidInput(field, f"is too long (at most {limit} characters)")
    return text
