"""Invoice totals (SPEC.md "Money rules"), as a pure function.

Each line amount is already rounded to the minor unit. Tax is computed per
level on the sum of the taxed lines and rounded once, half-up. A compound
level 2 is charged on subtotal + level-1 tax. With inclusive prices the
lines already contain the tax: each level's tax is its part of the taxed
sum, rounded the same way, and the subtotal is what is left."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billdesk.money import Money

HUNDRED = Decimal(100)


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
    if not (rates.rate1 or rates.rate2):
        zero = Money.zero(currency)
        return Totals(line_sum, zero, zero, line_sum)
    r1, r2 = rates.rate1 / HUNDRED, rates.rate2 / HUNDRED
    s = taxed_sum.amount
    if not rates.inclusive:
        tax1 = Money(s * r1, currency)
        base2 = s + tax1.amount if rates.compound else s
        tax2 = Money(base2 * r2, currency)
        return Totals(line_sum, tax1, tax2,
                      Money(line_sum.amount + tax1.amount + tax2.amount, currency))
    # Inclusive: s = net + tax1 + tax2.
    if rates.compound:
        # s = net·(1+r1)·(1+r2); tax1 = net·r1; tax2 = net·(1+r1)·r2
        net = s / ((1 + r1) * (1 + r2)) if s else Decimal(0)
        tax1 = Money(net * r1, currency)
        tax2 = Money(s * r2 / (1 + r2), currency)
    else:
        # s = net·(1 + r1 + r2)
        tax1 = Money(s * r1 / (1 + r1 + r2), currency)
        tax2 = Money(s * r2 / (1 + r1 + r2), currency)
    return Totals(line_sum - tax1 - tax2, tax1, tax2, line_sum)
