"""Text folding for search and sorting.

SQLite 3.40's trigram tokenizer cannot fold accents, so billdesk indexes a
normalised text made here and normalises every query the same way: accents
and case folded ("Zoë" → "zoe"), letters without a decomposition mapped
("ø" → "o", "ł" → "l", "æ" → "ae"), and everything that is not a letter or
digit (in any script) dropped inside a field ("O'Brien" → "obrien", "+44 20 7946" →
"44207946"). Fields are joined by a space, which no query contains, so a
search never matches across two fields.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_EXTRA = str.maketrans({
    "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d",
    "þ": "th", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "ħ": "h",
})
_NOT_ALNUM = re.compile(r"[\W_]+")  # anything but a letter or digit, in any script
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc`\u00b4")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Accents and case folded, other characters kept."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold().translate(_EXTRA)


@lru_cache(maxsize=65536)
def squash(text: str) -> str:
    """Folded, and everything but letters and digits dropped."""
    return _NOT_ALNUM.sub("", fold(text))


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """Folded words; apostrophes join ("O'Brien-Smith" → obrien, smith)."""
    return tuple(w for w in _NOT_ALNUM.split(fold(text).translate(_APOSTROPHES)) if w)


def sort_key(text: str) -> str:
    """Folded text for ORDER BY: case and accents ignored, spaces kept."""
    return " ".join(fold(text).split())


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def search_text(*fields: str) -> str:
    """The trigram-indexed text: each field squashed, joined by spaces."""
    return " ".join(s for s in (squash(f) for f in fields) if s)


def search_words(*fields: str) -> str:
    """The word-prefix-indexed text: every word of every field."""
    seen: dict[str, None] = {}
    for field in fields:
        for word in words(field):
            seen.setdefault(word, None)
        squashed = squash(field)
        if squashed:
            seen.setdefault(squashed, None)
    return " ".join(seen)


def counted(n: int, one: str, many: str | None = None) -> str:
    """"1 invoice", "3 invoices"; ``many`` when the plural is not one + s
    ("1 entry", "2 entries")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
