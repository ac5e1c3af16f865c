"""Exact money. One rule: amounts are ``Decimal`` rounded half-up to the
currency's minor unit at the edges (input, storage, display) and stored as
INTEGER minor units. Floats are refused everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from billdesk.errors import InvalidInput

# a letter against a digit: a currency code written onto the amount ("NOK2,718.60")
_TOUCHING = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")

ROUNDING = ROUND_HALF_UP


@lru_cache(maxsize=None)
def known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def check_currency(code: str, field: str = "currency") -> str:
    """Return the upper-cased ISO 4217 code or raise InvalidInput."""
    code = (code or "").strip().upper()
    if not code:
        raise InvalidInput(field, "is required")
    if len(code) != 3 or code not in known_currencies():
        raise InvalidInput(field, f"{code!r} is not an ISO 4217 currency code")
    return code


@lru_cache(maxsize=None)
def minor_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit (EUR 2, JPY 0, BHD 3)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency)


@lru_cache(maxsize=None)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


def to_decimal(value: Decimal | int | str, field: str = "amount") -> Decimal:
    """Turn user or stored input into a Decimal; floats are a bug, text a
    possible user error."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be built from {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "") if value.count(",") and value.count(".") else value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(field, f"{value!r} is not an amount") from None
    else:
        raise TypeError(f"money must not be built from {type(value).__name__}")
    if not result.is_finite():
        raise InvalidInput(field, f"{value!r} is not an amount")
    return result


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(_quantum(currency), rounding=ROUNDING)


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in one currency, always rounded to its minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))
        object.__setattr__(self, "amount", quantize(self.amount, self.currency))

    @classmethod
    def of(cls, value: Decimal | int | str, currency: str, field: str = "amount") -> Money:
        return cls(to_decimal(value, field), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        return cls(Decimal(int(units)).scaleb(-minor_digits(currency)), currency)

    @property
    def minor_units(self) -> int:
        return int(self.amount.scaleb(minor_digits(self.currency)))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        """Plain text with exactly the currency's decimals: ``1019.99``."""
        return f"{self.amount:f}"

    def format(self, locale: str = "en") -> str:
        """For people: ``€1,019.99`` or ``1.019,99 €`` by locale (Babel);
        a symbol that is letters (a code) is kept apart from the digits by
        a no-break space, ``NOK 2,718.60``, as CLDR's currency spacing
        asks (Babel leaves it out)."""
        from babel.numbers import format_currency

        return _TOUCHING.sub("\u00a0", format_currency(self.amount, self.currency, locale=locale))
