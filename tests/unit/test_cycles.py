"""Due dates and prorata (S2, S5; SPEC.md "Money rules"), checked against
dates and amounts worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billdesk.errors import InvalidInput
from billdesk.money import Money
from billdesk.services import cycles

D = dt.date


def chain(start: dt.date, cycle: str, due_day: int, count: int) -> list[dt.date]:
    """Step one cycle at a time, as paying each renewal does."""
    out, when = [], start
    for _ in range(count):
        when = cycles.next_due(when, cycle, due_day)
        out.append(when)
    return out


MONTHLY_FROM_31_JAN_2027 = [
    D(2027, 2, 28), D(2027, 3, 31), D(2027, 4, 30), D(2027, 5, 31), D(2027, 6, 30),
    D(2027, 7, 31), D(2027, 8, 31), D(2027, 9, 30), D(2027, 10, 31), D(2027, 11, 30),
    D(2027, 12, 31), D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31), D(2028, 4, 30),
    D(2028, 5, 31), D(2028, 6, 30), D(2028, 7, 31), D(2028, 8, 31), D(2028, 9, 30),
    D(2028, 10, 31), D(2028, 11, 30), D(2028, 12, 31), D(2029, 1, 31), D(2029, 2, 28),
    D(2029, 3, 31), D(2029, 4, 30), D(2029, 5, 31), D(2029, 6, 30), D(2029, 7, 31),
    D(2029, 8, 31), D(2029, 9, 30), D(2029, 10, 31), D(2029, 11, 30), D(2029, 12, 31),
    D(2030, 1, 31),
]

MONTHLY_FROM_30_NOV_2027 = [
    D(2027, 12, 30), D(2028, 1, 30), D(2028, 2, 29), D(2028, 3, 30), D(2028, 4, 30),
    D(2028, 5, 30), D(2028, 6, 30), D(2028, 7, 30), D(2028, 8, 30), D(2028, 9, 30),
    D(2028, 10, 30), D(2028, 11, 30), D(2028, 12, 30), D(2029, 1, 30), D(2029, 2, 28),
    D(2029, 3, 30), D(2029, 4, 30), D(2029, 5, 30), D(2029, 6, 30), D(2029, 7, 30),
    D(2029, 8, 30), D(2029, 9, 30), D(2029, 10, 30), D(2029, 11, 30), D(2029, 12, 30),
    D(2030, 1, 30), D(2030, 2, 28), D(2030, 3, 30), D(2030, 4, 30), D(2030, 5, 30),
    D(2030, 6, 30), D(2030, 7, 30), D(2030, 8, 30), D(2030, 9, 30), D(2030, 10, 30),
    D(2030, 11, 30),
]

MONTHLY_FROM_29_FEB_2028 = [  # the 29th comes back every month but February
    D(2028, 3, 29), D(2028, 4, 29), D(2028, 5, 29), D(2028, 6, 29), D(2028, 7, 29),
    D(2028, 8, 29), D(2028, 9, 29), D(2028, 10, 29), D(2028, 11, 29), D(2028, 12, 29),
    D(2029, 1, 29), D(2029, 2, 28), D(2029, 3, 29), D(2029, 4, 29), D(2029, 5, 29),
    D(2029, 6, 29), D(2029, 7, 29), D(2029, 8, 29), D(2029, 9, 29), D(2029, 10, 29),
    D(2029, 11, 29), D(2029, 12, 29), D(2030, 1, 29), D(2030, 2, 28), D(2030, 3, 29),
    D(2030, 4, 29), D(2030, 5, 29), D(2030, 6, 29), D(2030, 7, 29), D(2030, 8, 29),
    D(2030, 9, 29), D(2030, 10, 29), D(2030, 11, 29), D(2030, 12, 29), D(2031, 1, 29),
    D(2031, 2, 28),
]

CASES = [
    # cycle, start, due day, the next due dates for three years and more
    ("monthly", D(2027, 1, 31), 31, MONTHLY_FROM_31_JAN_2027),
    ("monthly", D(2027, 11, 30), 30, MONTHLY_FROM_30_NOV_2027),
    ("monthly", D(2028, 2, 29), 29, MONTHLY_FROM_29_FEB_2028),
    ("quarterly", D(2027, 8, 31), 31, [
        D(2027, 11, 30), D(2028, 2, 29), D(2028, 5, 31), D(2028, 8, 31), D(2028, 11, 30),
        D(2029, 2, 28), D(2029, 5, 31), D(2029, 8, 31), D(2029, 11, 30), D(2030, 2, 28),
        D(2030, 5, 31), D(2030, 8, 31)]),
    ("quarterly", D(2027, 11, 30), 30, [
        D(2028, 2, 29), D(2028, 5, 30), D(2028, 8, 30), D(2028, 11, 30), D(2029, 2, 28),
        D(2029, 5, 30), D(2029, 8, 30), D(2029, 11, 30), D(2030, 2, 28), D(2030, 5, 30),
        D(2030, 8, 30), D(2030, 11, 30)]),
    ("semiannually", D(2027, 8, 31), 31, [
        D(2028, 2, 29), D(2028, 8, 31), D(2029, 2, 28), D(2029, 8, 31), D(2030, 2, 28),
        D(2030, 8, 31)]),
    ("semiannually", D(2028, 2, 29), 29, [
        D(2028, 8, 29), D(2029, 2, 28), D(2029, 8, 29), D(2030, 2, 28), D(2030, 8, 29),
        D(2031, 2, 28)]),
    ("annually", D(2024, 2, 29), 29, [
        D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)]),
    ("annually", D(2027, 1, 31), 31, [D(2028, 1, 31), D(2029, 1, 31), D(2030, 1, 31)]),
    ("biennially", D(2024, 2, 29), 29, [D(2026, 2, 28), D(2028, 2, 29), D(2030, 2, 28)]),
    ("biennially", D(2026, 8, 31), 31, [D(2028, 8, 31), D(2030, 8, 31)]),
    ("triennially", D(2024, 2, 29), 29, [D(2027, 2, 28), D(2030, 2, 28), D(2033, 2, 28)]),
    ("triennially", D(2025, 5, 31), 31, [D(2028, 5, 31), D(2031, 5, 31)]),
]


@pytest.mark.parametrize(("cycle", "start", "due_day", "expected"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_due_dates_over_three_years(cycle: str, start: dt.date, due_day: int,
                                    expected: list[dt.date]) -> None:
    assert chain(start, cycle, due_day, len(expected)) == expected
    # Jumping straight there agrees with stepping one cycle at a time.
    assert [cycles.next_due(start, cycle, due_day, times=n)
            for n in range(1, len(expected) + 1)] == expected


def test_the_due_day_defaults_to_the_dates_own_day() -> None:
    assert cycles.next_due(D(2026, 1, 31), "monthly") == D(2026, 2, 28)
    # Without the due day a short month would drag the dates down for good:
    assert cycles.next_due(D(2026, 2, 28), "monthly") == D(2026, 3, 28)
    assert cycles.next_due(D(2026, 2, 28), "monthly", 31) == D(2026, 3, 31)


def test_previous_due_and_period() -> None:
    assert cycles.previous_due(D(2028, 3, 31), "monthly", 31) == D(2028, 2, 29)
    assert cycles.previous_due(D(2028, 2, 29), "annually", 29) == D(2027, 2, 28)
    assert cycles.period(D(2027, 1, 31), "monthly", 31) == (D(2027, 1, 31), D(2027, 2, 27))
    assert cycles.period(D(2028, 2, 29), "annually", 29) == (D(2028, 2, 29), D(2029, 2, 27))
    assert cycles.period(D(2026, 12, 1), "quarterly", 1) == (D(2026, 12, 1), D(2027, 2, 28))
    assert cycles.cycle_days(D(2028, 3, 1), "annually", 1) == 366
    assert cycles.cycle_days(D(2027, 3, 1), "monthly", 1) == 28


PRORATA = [
    # amount, currency, cycle, old due, new due, due day, expected (worked by hand)
    ("10.00", "USD", "monthly", D(2026, 3, 1), D(2026, 3, 15), 1, "5.00"),  # 14/28 of Feb
    ("29.99", "USD", "monthly", D(2026, 4, 1), D(2026, 4, 20), 1, "18.38"),  # 19/31: 18.3809
    ("120.00", "USD", "annually", D(2028, 3, 1), D(2028, 3, 31), 1, "9.84"),  # 30/366: 9.8360
    ("120.00", "USD", "annually", D(2027, 3, 1), D(2027, 3, 31), 1, "9.86"),  # 30/365: 9.8630
    ("10.00", "USD", "monthly", D(2026, 3, 15), D(2026, 3, 1), 15, "-5.00"),  # back 14 of 28
    ("0.01", "USD", "monthly", D(2026, 5, 1), D(2026, 5, 16), 1, "0.01"),  # 0.005 rounds up
    ("0.01", "USD", "monthly", D(2026, 5, 16), D(2026, 5, 1), 16, "-0.01"),  # and away from 0
    ("1000", "JPY", "monthly", D(2026, 4, 1), D(2026, 4, 11), 1, "323"),  # 10/31: 322.58
    ("45.00", "EUR", "quarterly", D(2026, 4, 1), D(2026, 5, 1), 1, "15.00"),  # 30/90
    ("19.99", "GBP", "semiannually", D(2026, 7, 31), D(2026, 8, 15), 31, "1.66"),  # 15/181: 1.6566
    ("300.00", "USD", "biennially", D(2028, 1, 1), D(2028, 2, 1), 1, "12.74"),  # 31/730: 12.7397
    ("360.00", "USD", "triennially", D(2027, 1, 1), D(2027, 1, 2), 1, "0.33"),  # 1/1096: 0.3284
    ("10.00", "USD", "monthly", D(2026, 3, 31), D(2026, 4, 30), 31, "9.68"),  # 30/31 (28 Feb-31 Mar): 9.677
]


@pytest.mark.parametrize(("amount", "currency", "cycle", "old", "new", "day", "expected"), PRORATA)
def test_prorata_to_the_cent(amount: str, currency: str, cycle: str, old: dt.date, new: dt.date,
                             day: int, expected: str) -> None:
    assert cycles.prorata(Money.of(amount, currency), cycle, old, new, day) == Money.of(
        expected, currency)


def test_no_prorata_for_cycles_that_do_not_recur() -> None:
    for cycle in ("free", "onetime"):
        assert not cycles.prorata(Money.of("10.00", "USD"), cycle, D(2026, 1, 1), D(2026, 2, 1))
    assert not cycles.prorata(Money.of("10.00", "USD"), "monthly", D(2026, 1, 1), D(2026, 1, 1))


def test_cycle_spelling() -> None:
    assert cycles.check_cycle("Semi-Annually") == "semiannually"
    assert cycles.check_cycle("one time") == "onetime"
    with pytest.raises(InvalidInput) as err:
        cycles.check_cycle("weekly")
    assert err.value.field == "cycle"


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2200, 12, 31)),
       st.sampled_from(cycles.RECURRING), st.integers(1, 31), st.integers(1, 40))
def test_due_dates_keep_their_day_when_the_month_has_it(start: dt.date, cycle: str, day: int,
                                                        times: int) -> None:
    due = cycles.next_due(start, cycle, day, times)
    months = (due.year - start.year) * 12 + due.month - start.month
    assert months == cycles.CYCLE_MONTHS[cycle] * times
    last = (D(due.year + due.month // 12, due.month % 12 + 1, 1) - dt.timedelta(days=1)).day
    assert due.day == min(day, last)
    assert cycles.previous_due(cycles.next_due(due, cycle, day), cycle, day) == due
