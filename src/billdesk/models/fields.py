"""peewee fields for exact numbers. Money is INTEGER minor units in the
database (sums stay in SQL); never a floating-point column, never peewee's
DecimalField (a DECIMAL column, which SQLite stores as floating point)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from peewee import IntegerField

from billdesk.money import Money


class MoneyField(IntegerField):
    """Stores a ``Money`` (or an int already in minor units) as INTEGER
    minor units of the row's currency. Reads give the int back; turn it
    into Money with the row's currency: ``Money.from_minor(n, cur)``."""

    def db_value(self, value: Money | int | None) -> int | None:
        if value is None:
            return None
        if isinstance(value, Money):
            return value.minor_units
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"MoneyField takes Money or int minor units, not {type(value).__name__}")
        return value


class PercentField(IntegerField):
    """A percentage with two decimals, stored as INTEGER hundredths."""

    def db_value(self, value: Decimal | int | None) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("PercentField refuses float")
        return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))

    def python_value(self, value: int | None) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)
