"""Invoice totals (SPEC.md "Money rules"), as a pure function.

Each line amount is already rounded to the minor unit. Tax is computed per
level on the sum of the taxed lines and rounded once, half-up. A compound
level 2 is charged on subtotal + level-1 tax. With inclusive prices the
lines already contain the tax: each level's tax is its part of the taxed
sum, rounded the same way, and the subtotal is what is left."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billdesk.money import Money

HUNDRED = Decimal(100)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class TaxRates:
    """What an invoice charges: two levels, their mode. Rates in percent."""

    rate1: Decimal = Decimal(0)
    rate2: Decimal = Decimal(0)
    compound: bool = False
    inclusive: bool = False
    name1: str = ""
    name2: str = ""

    @property
    def any(self) -> bool:
        return bool(self.rate1 or self.rate2)


NO_TAX = TaxRates()


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    tax1: Money
    tax2: Money
    total: Money

    @property
    def tax(self) -> Money:
        return self.tax1 + self.tax2


def compute(lines: Iterable[tuple[Money, bool]], rates: TaxRates, currency: str) -> Totals:
    """Totals of ``(amount, taxed)`` lines under ``rates``."""
    line_sum = taxed_sum = Decimal(0)
    for amount, taxed in lines:
        line_sum += amount.amount
        if taxed:
            taxed_sum += amount.amount
    return compute_sums(Money(line_sum, currency), Money(taxed_sum, currency), rates, currency)


def compute_sums(line_sum: Money, taxed_sum: Money, rates: TaxRates, currency: str) -> Totals:
    """The same, from the sum of all lines and the sum of the taxed ones."""
    if not rates.any:
        zero = Money.zero(currency)
        return Totals(line_sum, zero, zero, line_sum)
    units = compute_units(line_sum.minor_units, taxed_sum.minor_units, rates)
    return Totals(*(Money.from_minor(u, currency) for u in units))


def _round(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def compute_units(line_units: int, taxed_units: int, rates: TaxRates) -> tuple[int, int, int, int]:
    """(subtotal, tax1, tax2, total) in minor units from the sums of all
    lines and of the taxed ones in minor units: the one place the tax rules
    are written (the bulk invoice writer calls it without Money objects)."""
    if not rates.any:
        return line_units, 0, 0, line_units
    r1, r2 = rates.rate1 / HUNDRED, rates.rate2 / HUNDRED
    s = Decimal(taxed_units)
    if not rates.inclusive:
        tax1 = _round(s * r1)
        tax2 = _round((s + tax1 if rates.compound else s) * r2)
        return line_units, tax1, tax2, line_units + tax1 + tax2
    # Inclusive: s = net + tax1 + tax2.
    if rates.compound:
        # s = net·(1+r1)·(1+r2); tax1 = net·r1; tax2 = net·(1+r1)·r2
        net = s / ((1 + r1) * (1 + r2)) if s else Decimal(0)
        tax1 = _round(net * r1)
        tax2 = _round(s * r2 / (1 + r2))
    else:
        # s = net·(1 + r1 + r2)
        tax1 = _round(s * r1 / (1 + r1 + r2))
        tax2 = _round(s * r2 / (1 + r1 + r2))
    return line_units - tax1 - tax2, tax1, tax2, line_units
