"""Amounts, dates, countries and postal addresses in a client's language
(Babel): what the PDFs (``documents.py``) and the email placeholders
(``mail.py``) both show. Kept apart from ``documents.py`` so that writing
an email does not import ReportLab."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from billdesk.money import Money, minor_digits


# --- locale: amounts, dates, countries

@lru_cache(maxsize=64)
def _locale_name(language: str | None) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse((language or "en").replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"


# Babel output that the built-in fonts cannot print, as something they
# can: narrow and thin no-break spaces (French and Swiss amounts) become a
# no-break space, the fullwidth yen of Japanese patterns "¥", and invisible
# direction marks (Arabic, Persian, Hebrew patterns) are dropped. A French
# or Japanese invoice so stays on Helvetica, with no TrueType font needed.
_PRINTABLE = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0", "\u2007": "\u00a0",
                           "\uffe5": "\u00a5", "\u200e": None, "\u200f": None, "\u061c": None})


@lru_cache(maxsize=64)
def _amount_formatter(currency: str, locale: str) -> Callable[[Money], str]:
    """``Money.format(locale)`` (with _PRINTABLE applied), but about 30
    times faster: the pattern's prefix and suffix and the grouping are read
    once from Babel, and the result is checked against Babel before it is
    trusted."""

    def slow(m: Money) -> str:
        return m.format(locale).translate(_PRINTABLE)

    try:
        fast = _fast_formatter(currency, locale)
        for whole in ("0", "1", "12", "123", "1234", "12345", "123456", "1234567", "987654321012"):
            for frac in (".00", ".05", ".99", ".5"):
                for sign in ("", "-"):
                    probe = Money(Decimal(sign + whole + frac), currency)
                    if fast(probe) != slow(probe):
                        return slow
    except Exception:  # an unusual pattern: Babel every time
        return slow
    return fast


def _fast_formatter(currency: str, locale: str) -> Callable[[Money], str]:
    from babel import Locale
    from babel.numbers import get_decimal_symbol, get_group_symbol

    digits = minor_digits(currency)
    pattern = Locale.parse(locale).currency_formats["standard"]
    primary, secondary = pattern.grouping
    decimal_sign = get_decimal_symbol(locale).translate(_PRINTABLE)
    group_sign = get_group_symbol(locale).translate(_PRINTABLE)
    spec = f".{digits}f"

    def number(value: Decimal) -> str:
        whole, _, frac = format(abs(value), spec).partition(".")
        if len(whole) > primary:
            groups = [whole[-primary:]]
            head = whole[:-primary]
            while len(head) > secondary:
                groups.append(head[-secondary:])
                head = head[:-secondary]
            groups.append(head)
            whole = group_sign.join(reversed(groups))
        return whole + decimal_sign + frac if digits else whole

    unit = Decimal(1).scaleb(-digits)
    body = number(unit)
    positive = Money(unit, currency).format(locale).translate(_PRINTABLE)
    negative = Money(-unit, currency).format(locale).translate(_PRINTABLE)
    if positive.count(body) != 1 or negative.count(body) != 1:
        raise ValueError("cannot find the number in the pattern")
    pos_prefix, pos_suffix = positive.split(body)
    neg_prefix, neg_suffix = negative.split(body)

    def fast(m: Money) -> str:
        value = m.amount
        if value.is_signed():
            return neg_prefix + number(value) + neg_suffix
        return pos_prefix + number(value) + pos_suffix

    return fast


@lru_cache(maxsize=8192)
def _date(value: dt.date, locale: str) -> str:
    from babel.dates import format_date

    return format_date(value, format="medium", locale=locale).translate(_PRINTABLE)


@lru_cache(maxsize=64)
def _territories(locale: str) -> dict[str, str]:
    from babel import Locale

    return dict(Locale.parse(locale).territories)


def _country(code: str, locale: str) -> str:
    code = (code or "").strip().upper()
    return _territories(locale).get(code, code) if code else ""


@lru_cache(maxsize=64)
def _decimal_sign(locale: str) -> str:
    from babel.numbers import get_decimal_symbol

    return get_decimal_symbol(locale)


def _rate(rate: Decimal, locale: str) -> str:
    """17.5 → "17.5" ("17,5" in German); no trailing zeros."""
    text = format(Decimal(rate).normalize(), "f")
    return text.replace(".", _decimal_sign(locale))


# --- postal addresses

def _address(values: dict[str, Any], locale: str) -> list[str]:
    get = lambda key: (values.get(key) or "").strip()  # noqa: E731
    country = get("country").upper()
    city, state, postcode = get("city"), get("state"), get("postcode")
    lines = [get("address1"), get("address2")]
    if country in ("US", "CA", "AU"):
        lines.append(", ".join(p for p in (city, " ".join(p for p in (state, postcode) if p)) if p))
    elif country in ("GB", "IE"):
        lines += [city, state, postcode]
    else:
        lines += [" ".join(p for p in (postcode, city) if p), state]
    lines.append(_country(country, locale))
    return [line for line in lines if line]
