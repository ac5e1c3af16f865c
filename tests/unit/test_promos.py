"""Promotion codes (S8) on a real SQLite file: adding, editing, deleting,
every refusal naming its field and writing nothing, the validity checks
(dates, uses, products, cycles) and the discount arithmetic (a fixed
amount never takes more than the line)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billdesk.errors import InvalidInput, NotFound, ValidationFailed
from billdesk.money import Money
from billdesk.services import catalog, promos

from billing_helpers import dump, m

D = dt.date


@pytest.fixture
def hosting(db) -> int:  # noqa: ANN001
    return catalog.add_product("Web Hosting", prices={"monthly": "10.00", "annually": "100.00"},
                               currency="GBP")


def refused(exc_type: type[Exception], field: str, call, *args, **kwargs) -> Exception:
    before = dump()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert info.value.field == field, info.value
    assert dump() == before
    return info.value


def test_add_list_edit_delete(hosting: int) -> None:
    vps = catalog.add_product("VPS", prices={"monthly": "20.00"}, currency="GBP")
    first = promos.add_promo("SPRING", percent="12.5", products=["web hosting", vps],
                             cycles=["annually", "monthly"], recurring=True,
                             start_date="2026-01-01", end_date="2026-03-31", max_uses=10,
                             notes="spring sale")
    second = promos.add_promo("fiver", fixed="5")
    listed = promos.list_promos()
    assert [p.code for p in listed] == ["fiver", "SPRING"]
    spring = promos.get_promo(first)
    assert spring.as_json() == {
        "id": first, "code": "SPRING", "kind": "percent", "value": "12.5",
        "cycles": ["monthly", "annually"], "recurring": True, "start_date": "2026-01-01",
        "end_date": "2026-03-31", "max_uses": 10, "uses": 0, "notes": "spring sale",
        "products": [{"id": vps, "name": "VPS"}, {"id": hosting, "name": "Web Hosting"}]}
    assert promos.find_promo("spring").id == first  # case does not matter
    assert spring.line_text("GBP") == "Promotional Code: SPRING - 12.5% Recurring Discount"
    assert promos.get_promo(second).line_text("GBP") == ("Promotional Code: fiver - 5.00 GBP "
                                                         "One Time Discount")
    changed = promos.update_promo(first, fixed="3.50", products=[], cycles=[], recurring=False,
                                  end_date=None, max_uses=0)
    assert (changed.kind, changed.value, changed.products, changed.cycles, changed.recurring,
            changed.end_date, changed.max_uses) == ("fixed", Decimal("3.50"), (), (), False,
                                                    None, 0)
    promos.delete_promo(second)
    assert [p.code for p in promos.list_promos()] == ["SPRING"]
    refused(NotFound, "id", promos.delete_promo, second)


def test_refusals_name_the_field_and_write_nothing(hosting: int) -> None:
    promos.add_promo("TAKEN", percent="10")
    refused(InvalidInput, "percent", promos.add_promo, "X")  # neither
    refused(InvalidInput, "percent", promos.add_promo, "X", percent="1", fixed="2")  # both
    refused(InvalidInput, "code", promos.add_promo, "  ", percent="10")
    refused(InvalidInput, "code", promos.add_promo, "two words", percent="10")
    refused(InvalidInput, "code", promos.add_promo, "taken", percent="10")  # case folded
    refused(InvalidInput, "percent", promos.add_promo, "X", percent="101")
    refused(InvalidInput, "percent", promos.add_promo, "X", percent="0")
    refused(InvalidInput, "percent", promos.add_promo, "X", percent="ten")
    refused(InvalidInput, "percent", promos.add_promo, "X", percent="1.234")
    refused(InvalidInput, "fixed", promos.add_promo, "X", fixed="-5")
    refused(InvalidInput, "products", promos.add_promo, "X", percent="5", products=["Nope"])
    refused(InvalidInput, "cycles", promos.add_promo, "X", percent="5", cycles=["weekly"])
    refused(InvalidInput, "until", promos.add_promo, "X", percent="5", start_date="2026-02-01",
            end_date="2026-01-01")
    refused(InvalidInput, "until", promos.add_promo, "X", percent="5", end_date="31/01/2026")
    refused(InvalidInput, "max_uses", promos.add_promo, "X", percent="5", max_uses=-1)
    with pytest.raises(ValidationFailed) as info:  # every problem at once
        promos.add_promo("bad code", percent="200", max_uses="many")
    assert [p.field for p in info.value.problems] == ["code", "percent", "max_uses"]
    assert [p.field for p in promos.promo_problems(code="", kind="fixed", value="x")] == [
        "code", "fixed"]


def test_validity_for_an_order(hosting: int) -> None:
    vps = catalog.add_product("VPS", prices={"monthly": "20.00"}, currency="GBP")
    promos.add_promo("WINTER", percent="10", start_date="2026-01-10", end_date="2026-01-31")
    promos.add_promo("WEBONLY", percent="10", products=[hosting], cycles=["annually"])
    used = promos.get_promo(promos.add_promo("ONCE", fixed="5", max_uses=1))
    ok = promos.check_promo("winter", product_id=hosting, cycle="monthly", when=D(2026, 1, 31))
    assert ok.code == "WINTER"

    def no(code: str, product: int, cycle: str, when: dt.date, says: str) -> None:
        with pytest.raises(InvalidInput) as info:
            promos.check_promo(code, product_id=product, cycle=cycle, when=when)
        assert info.value.field == "promo"
        assert says in info.value.message, info.value.message

    no("WINTER", hosting, "monthly", D(2026, 1, 9), "WINTER starts on 2026-01-10")
    no("WINTER", hosting, "monthly", D(2026, 2, 1), "WINTER expired on 2026-01-31")
    no("WEBONLY", vps, "annually", D(2026, 1, 1), "WEBONLY is not for product 'VPS' "
                                                   "(only: Web Hosting)")
    no("WEBONLY", hosting, "monthly", D(2026, 1, 1), "not for the monthly billing cycle")
    with pytest.raises(NotFound) as info:
        promos.check_promo("NOSUCH", product_id=hosting, cycle="monthly", when=D(2026, 1, 1))
    assert info.value.field == "promo"
    promos.take_use(used)
    no("ONCE", hosting, "monthly", D(2026, 1, 1), "ONCE is used up (1 of 1 uses)")
    with pytest.raises(InvalidInput):  # the last use went meanwhile
        promos.take_use(used)
    assert promos.get_promo(used.id).uses == 1


def test_discounts_are_exact_and_clamped(hosting: int) -> None:
    pct = promos.get_promo(promos.add_promo("P", percent="12.5"))
    fixed = promos.get_promo(promos.add_promo("F", fixed="15"))
    assert pct.discount(m("10.00")) == m("1.25")
    assert pct.discount(m("0.10")) == m("0.01")  # 0.0125 rounds half-up
    assert fixed.discount(m("10.00")) == m("10.00")  # never more than the amount
    assert fixed.discount(m("20.00")) == m("15.00")
    assert fixed.discount(Money.of("20", "JPY")) == Money.of("15", "JPY")
    assert fixed.discount(m("0.00")) == m("0.00")


@settings(max_examples=60, deadline=None)
@given(units=st.integers(min_value=0, max_value=10**9),
       pct=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
       fixed=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2))
def test_a_discount_never_exceeds_its_amount(units: int, pct: Decimal, fixed: Decimal) -> None:
    amount = Money.from_minor(units, "GBP")
    for kind, value in (("percent", pct), ("fixed", fixed)):
        promo = promos.PromoRecord(1, "X", kind, value, (), False, None, None, 0, 0, "", ())
        off = promo.discount(amount)
        assert Money.zero("GBP") <= off <= amount
        assert (amount - off).amount >= 0
