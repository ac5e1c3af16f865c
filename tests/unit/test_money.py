from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billdesk.errors import InvalidInput
from billdesk.money import Money, check_currency, minor_digits


def test_rounds_half_up_to_the_minor_unit():
    assert Money.of("0.125", "EUR").amount == Decimal("0.13")
    assert Money.of("-0.125", "EUR").amount == Decimal("-0.13")
    assert Money.of("1.5", "JPY").amount == Decimal("2")
    assert Money.of("1.0005", "BHD").amount == Decimal("1.001")


def test_minor_units_round_trip():
    assert Money.of("1019.99", "USD").minor_units == 101999
    assert Money.from_minor(101999, "USD") == Money.of("1019.99", "USD")
    assert minor_digits("JPY") == 0 and minor_digits("BHD") == 3


def test_str_has_exactly_the_currency_decimals():
    assert str(Money.of("5", "EUR")) == "5.00"
    assert str(Money.of("5", "JPY")) == "5"


def test_refuses_float_and_mixing_currencies():
    with pytest.raises(TypeError):
        Money.of(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money.of("1", "EUR") + Money.of("1", "USD")


def test_bad_text_names_the_field():
    with pytest.raises(InvalidInput) as exc:
        Money.of("12,3x", "EUR", field="amount")
    assert exc.value.field == "amount"
    with pytest.raises(InvalidInput):
        check_currency("XYZ")


@given(st.lists(st.decimals(min_value=-10**9, max_value=10**9, places=2), max_size=30))
def test_sum_of_money_equals_sum_of_minor_units(amounts):
    parts = [Money(a, "EUR") for a in amounts]
    total = sum(parts, Money.zero("EUR"))
    assert total.minor_units == sum(p.minor_units for p in parts)
    assert total.amount == sum(amounts, Decimal(0))


def test_a_currency_code_is_kept_apart_from_the_digits() -> None:
    """CLDR's currency spacing (which Babel leaves out): a symbol of letters
    gets a no-break space next to the digits; a sign symbol does not."""
    from decimal import Decimal

    from billdesk.services import addresses

    assert Money(Decimal("2718.6"), "NOK").format("en") == "NOK\u00a02,718.60"
    assert Money(Decimal("-326.4"), "NOK").format("en") == "-NOK\u00a0326.40"
    assert Money(Decimal("30.63"), "CAD").format("en") == "CA$30.63"
    assert Money(Decimal("1019.99"), "EUR").format("de") == "1.019,99\u00a0€"
    fast = addresses._amount_formatter("CHF", "en")  # the run's formatter agrees
    assert fast(Money(Decimal("12.5"), "CHF")) == "CHF\u00a012.50"
