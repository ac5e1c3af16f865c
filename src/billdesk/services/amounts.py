"""Reading amounts and dates that a person typed (window or CLI): one
place that says what is refused and names the field."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from decimal import Decimal
from typing import Any

from billdesk.errors import InvalidInput
from billdesk.money import Money, to_decimal

# Far below SQLite's INTEGER limit even in a currency with 3 decimals.
LARGEST = Decimal("999999999999")
FIRST_YEAR, LAST_YEAR = 1900, 2999
# Plain decimal text: digits, an optional point, thousands commas; no
# exponents ("1e3") or underscores ("1_000"), which Decimal would take.
# ASCII digits only ("٣" is not taken for 3).
_AMOUNT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?", re.ASCII)
# One thousands comma and no point ("12,500") is read as 12.5 by half the
# world and as 12500 by the other half: refused rather than guessed (in a
# currency with decimals; "¥1,000" is a thousand yen).
_UNCLEAR = re.compile(r"[+-]?\d{1,3},\d{3}", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def amount_input(value: Any, currency: str, field: str = "amount", *, zero_ok: bool = False,
                 negative_ok: bool = False) -> Money:
    """A Money rounded half-up to the currency's minor unit. By default
    the amount must be more than zero; ``zero_ok`` lets 0 through and
    ``negative_ok`` any sign (discount lines)."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise InvalidInput(field, f"is in {value.currency}, expected {currency}")
        number = value.amount
    else:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise InvalidInput(field, "is required")
            for symbol in _symbols(currency):  # "£12" for a GBP amount; "$12" is refused
                text = text.replace(symbol, "")
            text = text.replace(" ", "").replace("\u00a0", "")
            if not _AMOUNT.fullmatch(text) or not any(c.isdigit() for c in text):
                raise InvalidInput(field, f"{value.strip()!r} is not an amount")
            if _UNCLEAR.fullmatch(text) and Money.from_minor(1, currency).amount < 1:
                whole = text.replace(",", "")
                part = Money(Decimal(text.replace(",", ".")), currency)
                raise InvalidInput(field, f"{value.strip()!r} is unclear: write {whole} for "
                                          f"the whole amount, or {part} with a point for "
                                          "decimals")
            value = text.replace(",", "")
        number = to_decimal(value, field)
    if abs(number) > LARGEST:
        raise InvalidInput(field, "is too large")
    money = Money(number, currency)
    if money.amount < 0 and not negative_ok:
        raise InvalidInput(field, "must not be negative")
    if not money and not (zero_ok or negative_ok):
        if number:  # 0.001 GBP
            raise InvalidInput(field, f"rounds to {money}: must be at least "
                                      f"{Money.from_minor(1, currency)}")
        raise InvalidInput(field, "must be more than 0")
    return money


@lru_cache(maxsize=None)
def _symbols(currency: str) -> tuple[str, ...]:
    from babel.numbers import get_currency_symbol

    found = {currency}
    for locale in ("en", "en_US", "en_GB", "de", "fr", "ja"):
        symbol = get_currency_symbol(currency, locale=locale)
        if not any(c.isdigit() or c in ".,-+" for c in symbol):
            found.add(symbol)
    return tuple(sorted(found, key=len, reverse=True))


def date_input(value: Any, field: str = "date") -> dt.date:
    """A date from a ``date`` or ``YYYY-MM-DD`` text, between 1900 and 2999."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        result = value
    else:
        text = str(value or "").strip()
        if not text:
            raise InvalidInput(field, "is required (YYYY-MM-DD)")
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            result = dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(field, f"{text!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= result.year <= LAST_YEAR:
        raise InvalidInput(field, f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return result
