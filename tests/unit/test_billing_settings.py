"""The pure checks behind the billing settings forms: each names the field
it is about, reports every problem at once and writes nothing; the writers
refuse exactly what the checks report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billdesk.errors import InvalidInput, Problem, ValidationFailed
from billdesk.services import billing_settings as bs
from billdesk.services import settings


def test_tax_rule_problems_name_each_field_and_write_nothing(db):  # noqa: ANN001
    assert bs.tax_rule_problems(1, "VAT", "20", "de", "") == []
    problems = bs.tax_rule_problems(3, " ", "abc", "XX")
    assert {p.field for p in problems} == {"level", "name", "rate", "country"}
    assert Problem("rate", "'abc' is not a percentage") in problems
    assert [p.field for p in bs.tax_rule_problems(1, "VAT", "120")] == ["rate"]
    assert [p.field for p in bs.tax_rule_problems(2, "VAT", "7.12345")] == ["rate"]
    assert bs.tax_rules() == []
    with pytest.raises(ValidationFailed) as err:
        bs.add_tax_rule(3, " ", "abc", "XX")
    assert err.value.problems == problems


def test_currency_rate_problems_match_what_set_currency_rate_refuses(db):  # noqa: ANN001
    assert settings.default_currency() == "USD"
    assert bs.currency_rate_problems("eur", "0.92") == []
    assert bs.currency_rate_problems("EUR", "abc") == [Problem("rate", "'abc' is not a number")]
    assert [p.field for p in bs.currency_rate_problems("EUR", "0")] == ["rate"]
    assert [p.field for p in bs.currency_rate_problems("XYZ", "-1")] == ["currency", "rate"]
    assert bs.currency_rate_problems("USD", "2") == [
        Problem("rate", "USD is the default currency: its rate is 1")]
    assert bs.currency_rate_problems("USD", "1") == []
    for code, rate in (("EUR", "abc"), ("XYZ", "1"), ("USD", "2")):
        with pytest.raises(InvalidInput):
            bs.set_currency_rate(code, rate)
    with pytest.raises(TypeError):
        bs.currency_rate_problems("EUR", 0.92)
    assert bs.currencies() == {"USD": Decimal(1)}
    bs.set_currency_rate("eur", "0.92")
    assert bs.currencies() == {"EUR": Decimal("0.92"), "USD": Decimal(1)}


def test_payment_method_problems_number_the_methods_from_one(db):  # noqa: ANN001
    assert bs.payment_method_problems(["Card", "Cash"]) == []
    assert bs.payment_method_problems(["Card", " ", "card", "x" * 41]) == [
        Problem("payment_methods[2]", "is empty"),
        Problem("payment_methods[3]", "'card' is listed twice"),
        Problem("payment_methods[4]", "must be 40 characters or fewer"),
    ]
    before = bs.payment_methods()
    with pytest.raises(InvalidInput) as err:
        bs.set_payment_methods(["Card", "CARD"])
    assert err.value.field == "payment_methods[2]"
    assert bs.payment_methods() == before
    bs.set_payment_methods([" Crypto ", "Card"])
    assert bs.payment_methods() == ["Crypto", "Card"]


def _snapshot() -> tuple:
    return (bs.billing(), bs.next_number(), bs.tax_rules(), bs.payment_methods(), bs.currencies(),
            settings.display_format())


def test_apply_changes_writes_everything_in_one_go(db):  # noqa: ANN001
    vat = bs.add_tax_rule(1, "VAT", "20")
    old = bs.add_tax_rule(2, "Old", "1")
    bs.set_currency_rate("GBP", "0.8")
    wanted = bs.BillingSettings(tax_inclusive=True, number_format="B{seq:04}",
                                late_fee_kind="percent", late_fee_amount="1.5",
                                late_fee_minimum="5", late_fee_days=14)
    bs.apply_changes(bs.BillingChanges(
        settings=wanted, next_number=42, deleted_rules=[old],
        updated_rules=[bs.TaxRuleRecord(vat, 1, "VAT", Decimal("19"), "DE", "")],
        added_rules=[bs.TaxRuleRecord(-1, 2, "Local", Decimal("2.5"), "DE", "Berlin")],
        payment_methods=["Card", "Crypto"], removed_currencies=["GBP"],
        rates={"EUR": Decimal("0.92")}),
        before=lambda: settings.set_display_format("company_or_name"))
    assert bs.billing() == wanted
    assert bs.next_number() == 42
    assert [(r.level, r.name, r.rate, r.country, r.state) for r in bs.tax_rules()] == [
        (1, "VAT", Decimal(19), "DE", ""), (2, "Local", Decimal("2.5"), "DE", "Berlin")]
    assert bs.payment_methods() == ["Card", "Crypto"]
    assert bs.currencies() == {"EUR": Decimal("0.92"), "USD": Decimal(1)}
    assert settings.display_format() == "company_or_name"


def test_a_refused_change_writes_nothing_and_names_its_list(db):  # noqa: ANN001
    from billdesk.services import clients

    bs.set_currency_rate("EUR", "0.9")
    clients.add_client({"first_name": "Ana", "last_name": "Gil", "email": "ana@example.com",
                        "currency": "EUR"})
    before = _snapshot()
    changes = bs.BillingChanges(settings=bs.BillingSettings(tax_inclusive=True), next_number=9,
                                added_rules=[bs.TaxRuleRecord(-1, 1, "VAT", Decimal(20), "", "")],
                                payment_methods=["Card"], removed_currencies=["EUR"])
    with pytest.raises(ValidationFailed) as err:
        bs.apply_changes(changes, before=lambda: settings.set_display_format("company_or_name"))
    assert [p.field for p in err.value.problems] == ["currencies"]
    assert "EUR is used by clients" in err.value.problems[0].message
    assert _snapshot() == before

    with pytest.raises(ValidationFailed) as err:
        bs.apply_changes(bs.BillingChanges(
            payment_methods=["Card"],
            added_rules=[bs.TaxRuleRecord(-1, 1, "", Decimal(20), "XX", "")]))
    assert {p.field for p in err.value.problems} == {"tax_rules"}
    assert err.value.problems[0].message == "Tax rule '': name is required"
    with pytest.raises(ValidationFailed) as err:
        bs.apply_changes(bs.BillingChanges(settings=bs.BillingSettings(number_format="INV")))
    assert err.value.field == "number_format"
    assert _snapshot() == before
