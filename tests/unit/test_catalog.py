"""The product catalogue (S1) on a real SQLite file: prices per cycle and
currency with a setup fee, stored as exact minor units; refusals name the
field, report every problem at once and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Product, ProductPrice, Service, database
from billdesk.money import Money
from billdesk.services import catalog, clients, settings


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def dump() -> list[str]:
    return list(database.connection().iterdump())


def stored_prices(product_id: int) -> list[tuple]:
    return list(ProductPrice.select(ProductPrice.currency, ProductPrice.cycle, ProductPrice.amount,
                                    ProductPrice.setup_fee)
                .where(ProductPrice.product == product_id)
                .order_by(ProductPrice.currency, ProductPrice.cycle).tuples())


# --------------------------------------------------------------------------- adding and reading

def test_add_product_stores_minor_units_and_reads_back_exact_money(db):  # noqa: ANN001
    assert settings.default_currency() == "USD"
    product_id = catalog.add_product(
        "Web hosting S", type="hosting", group="Shared", description="1 site, 10 GB",
        taxed=True, prices={"monthly": "4.99", "annually": Decimal("49.9"), "onetime": 120},
        setup_fee="10")
    assert stored_prices(product_id) == [("USD", "annually", 4990, 1000),
                                         ("USD", "monthly", 499, 1000),
                                         ("USD", "onetime", 12000, 1000)]
    record = catalog.get_product(product_id)
    assert (record.id, record.name, record.type, record.product_group, record.description,
            record.taxed, record.hidden) == (product_id, "Web hosting S", "hosting", "Shared",
                                             "1 site, 10 GB", True, False)
    # in cycle order, whatever order they were given in
    assert list(record.prices) == [("USD", "onetime"), ("USD", "monthly"), ("USD", "annually")]
    assert record.prices[("USD", "monthly")] == (usd("4.99"), usd("10.00"))
    assert record.price("USD", "annually") == (usd("49.90"), usd("10.00"))
    assert record.price("USD", "quarterly") is None
    assert record.as_json() == {
        "id": product_id, "name": "Web hosting S", "type": "hosting", "group": "Shared",
        "description": "1 site, 10 GB", "taxed": True, "hidden": False,
        "prices": {"USD": {"onetime": {"amount": "120.00", "setup_fee": "10.00"},
                           "monthly": {"amount": "4.99", "setup_fee": "10.00"},
                           "annually": {"amount": "49.90", "setup_fee": "10.00"}}}}


def test_currency_decimals_rounding_and_the_default_currency(db):  # noqa: ANN001
    settings.save_company(settings.Company(name="Acme", currency="EUR"))
    euro = catalog.add_product("Euro plan", prices={"monthly": "9.995"})  # half-up: 10.00
    assert catalog.get_product(euro).prices == {
        ("EUR", "monthly"): (Money(Decimal("10.00"), "EUR"), Money(Decimal(0), "EUR"))}
    yen = catalog.add_product("Yen plan", prices={"monthly": "1000.5", "quarterly": "0"},
                              setup_fee="99.4", currency="jpy")
    assert stored_prices(yen) == [("JPY", "monthly", 1001, 99), ("JPY", "quarterly", 0, 99)]
    assert catalog.get_product(yen).as_json()["prices"] == {
        "JPY": {"monthly": {"amount": "1001", "setup_fee": "99"},
                "quarterly": {"amount": "0", "setup_fee": "99"}}}
    dinar = catalog.add_product("Dinar plan", prices={"annually": "1.2345"}, currency="BHD")
    assert catalog.price_for(dinar, "BHD", "annually") == (Money(Decimal("1.235"), "BHD"),
                                                           Money(Decimal("0.000"), "BHD"))


def test_prices_per_cycle_setup_fees_and_several_currencies(db):  # noqa: ANN001
    product_id = catalog.add_product(
        "VPS", type="server",
        prices={"Semi-annually": ("30", "5"), "monthly": "6", "quarterly": None, "annually": (None, None)},
        setup_fee="2",
        price_table={"eur": {"monthly": ("5.50", None), "biennially": "100"}})
    record = catalog.get_product(product_id)
    assert record.prices == {
        ("EUR", "monthly"): (Money(Decimal("5.50"), "EUR"), Money(Decimal(0), "EUR")),
        ("EUR", "biennially"): (Money(Decimal("100"), "EUR"), Money(Decimal(0), "EUR")),
        ("USD", "monthly"): (usd("6"), usd("2")),  # the shared setup fee
        ("USD", "semiannually"): (usd("30"), usd("5")),  # its own
    }
    assert record.currencies() == ["EUR", "USD"]


def test_list_products_by_group_then_name_and_hidden_ones_left_out(db):  # noqa: ANN001
    ids = {name: catalog.add_product(name, group=group, hidden=hidden,
                                     prices={"monthly": "1"} if not hidden else {"annually": "9"})
           for name, group, hidden in (("zeta", "", False), ("Beta", "VPS", False),
                                       ("alpha", "vps", True), ("Élan", "", False),
                                       ("Ada", "Dedicated", False))}
    listed = catalog.list_products()
    assert [p.name for p in listed] == ["Élan", "zeta", "Ada", "alpha", "Beta"]
    assert listed[3].prices == {("USD", "annually"): (usd("9"), usd("0"))}
    visible = catalog.list_products(include_hidden=False)
    assert [p.id for p in visible] == [ids["Élan"], ids["zeta"], ids["Ada"], ids["Beta"]]
    assert all(("USD", "annually") not in p.prices for p in visible)
    assert catalog.list_products() == [catalog.get_product(p.id) for p in listed]


def test_find_product_by_id_or_exact_name(db):  # noqa: ANN001
    first = catalog.add_product("Straße S")
    named_2024 = catalog.add_product("2024")
    assert catalog.find_product(str(first)).id == first
    assert catalog.find_product(f" #{first} ").id == first
    assert catalog.find_product(first).id == first
    assert catalog.find_product("STRASSE s").id == first  # casefolded: ß is ss
    assert catalog.find_product("2024").id == named_2024  # no product #2024: the name
    for text in ("Straße", "99", "", "#"):
        with pytest.raises(NotFound) as err:
            catalog.find_product(text)
        assert err.value.field == "product"
    with pytest.raises(NotFound) as err:
        catalog.get_product(99)
    assert (err.value.field, err.value.message) == ("product", "no product #99")


def test_price_for(db):  # noqa: ANN001
    product_id = catalog.add_product("Mail", prices={"monthly": "2.50"}, setup_fee="1",
                                     price_table={"GBP": {"annually": "20"}})
    assert catalog.price_for(product_id, "usd", "monthly") == (usd("2.50"), usd("1.00"))
    assert catalog.price_for(product_id, "GBP", "annually") == (Money(Decimal(20), "GBP"),
                                                                Money(Decimal(0), "GBP"))
    assert catalog.price_for(product_id, "USD", "annually") is None
    assert catalog.price_for(product_id, "EUR", "monthly") is None
    assert catalog.price_for(product_id, "USD", "free") is None
    with pytest.raises(NotFound):
        catalog.price_for(999, "USD", "monthly")
    with pytest.raises(InvalidInput) as err:
        catalog.price_for(product_id, "USD", "weekly")
    assert err.value.field == "cycle"
    with pytest.raises(InvalidInput) as err:
        catalog.price_for(product_id, "XYZ", "monthly")
    assert err.value.field == "currency"


def test_a_currency_without_prices_takes_the_default_ones_at_the_stored_rate(db):  # noqa: ANN001
    from billdesk.services import billing_settings

    product_id = catalog.add_product("Mail", prices={"monthly": "2.50", "annually": "19.99"},
                                     setup_fee="1", price_table={"GBP": {"annually": "20"}})
    assert catalog.price_for(product_id, "EUR", "monthly") is None  # no EUR rate stored yet
    billing_settings.set_currency_rate("EUR", "0.9250")
    billing_settings.set_currency_rate("JPY", "151.37")
    eur = lambda text: Money(Decimal(text), "EUR")  # noqa: E731
    # 2.50 × 0.925 = 2.3125 → 2.31; 19.99 × 0.925 = 18.49075 → 18.49; 1 × 0.925 → 0.93
    assert catalog.price_for(product_id, "EUR", "monthly") == (eur("2.31"), eur("0.93"))
    assert catalog.price_for(product_id, "EUR", "annually") == (eur("18.49"), eur("0.93"))
    # 2.50 × 151.37 = 378.425 → 378 yen (no minor unit)
    assert catalog.price_for(product_id, "JPY", "monthly")[0] == Money(Decimal(378), "JPY")
    # a price set in a currency wins over the converted one; a cycle not offered stays so
    assert catalog.price_for(product_id, "GBP", "annually")[0] == Money(Decimal(20), "GBP")
    assert catalog.price_for(product_id, "EUR", "quarterly") is None
    record = catalog.get_product(product_id)
    assert record.price("EUR", "annually") == catalog.price_for(product_id, "EUR", "annually")
    assert record.price("EUR", "onetime") is None


# --------------------------------------------------------------------------- refusals

def test_every_problem_at_once_and_nothing_written(db):  # noqa: ANN001
    catalog.add_product("Existing", prices={"monthly": "1"})
    before = dump()
    with pytest.raises(ValidationFailed) as err:
        catalog.add_product(" ", type="vps", group="g" * 101,
                            prices={"monthly": "-5", "annually": "12,x", "free": "1", "weekly": "3",
                                    "quarterly": "1e3", "biennially": ("1", "abc"),
                                    "triennially": (None, "4")},
                            setup_fee="")
    assert err.value.problems == [
        Problem("name", "is required"),
        Problem("type", "'vps' is not a product type: use hosting, reseller, server, other, addon, "
                        "domain"),
        Problem("group", "is longer than 100 characters"),
        Problem("setup_fee", "is required"),
        Problem("monthly", "must not be negative"),
        Problem("annually", "'12,x' is not an amount"),
        Problem("prices", "a free product has no price: leave the cycle out"),
        Problem("prices", "unknown billing cycle 'weekly': use onetime, monthly, quarterly, "
                          "semiannually, annually, biennially, triennially"),
        Problem("quarterly", "'1e3' is not an amount"),
        Problem("biennially_setup_fee", "'abc' is not an amount"),
        Problem("triennially", "is required when a setup fee is given"),
    ]
    assert dump() == before

    refusals = [
        (dict(name="x" * 201), ["name"]),
        (dict(name="New", prices={"monthly": ""}), ["monthly"]),
        (dict(name="New", prices={"monthly": "1000000000000"}), ["monthly"]),
        (dict(name="New", setup_fee="5"), ["setup_fee"]),  # a setup fee needs a price
        (dict(name="New", prices={"monthly": None}, setup_fee="5"), ["setup_fee"]),
        (dict(name="New", prices={"monthly": "1"}, currency="XYZ"), ["currency"]),
        (dict(name="New", prices={"semiannually": "x", "Semi-annually": "1"}),
         ["semiannually", "semiannually"]),
        (dict(name="New", prices={"monthly": Money(Decimal(1), "EUR")}), ["monthly"]),
        (dict(name="New", prices={"monthly": "1"}, price_table={"USD": {"annually": "2"}}),
         ["currency"]),
        (dict(name="New", price_table={"EUR": {"monthly": "-1"}, "GBP": {"monthly": "x"}}),
         ["monthly", "monthly"]),
    ]
    for kwargs, fields in refusals:
        with pytest.raises(ValidationFailed) as err:
            catalog.add_product(**kwargs)
        assert [p.field for p in err.value.problems] == fields, kwargs
    with pytest.raises(ValidationFailed) as err:
        catalog.add_product("New", price_table={"EUR": {"monthly": "-1"}, "GBP": {"monthly": "x"}})
    # several currencies: each message says which
    assert [p.message for p in err.value.problems] == ["EUR: must not be negative",
                                                       "GBP: 'x' is not an amount"]
    with pytest.raises(TypeError):
        catalog.add_product("New", prices={"monthly": 4.99})  # a float is a bug, not input
    assert dump() == before


def test_names_are_unique_with_case_folded(db):  # noqa: ANN001
    first = catalog.add_product("Ärzte Straße")
    before = dump()
    for name in ("ärzte straße", "ÄRZTE STRASSE", " Ärzte Straße "):
        with pytest.raises(Conflict) as err:
            catalog.add_product(name, prices={"monthly": "1"})
        assert (err.value.field, err.value.message) == (
            "name", f"a product named 'Ärzte Straße' exists (#{first})")
    # with other problems, all of them at once
    with pytest.raises(ValidationFailed) as err:
        catalog.add_product("ärzte straße", type="x")
    assert [p.field for p in err.value.problems] == ["name", "type"]
    assert catalog.product_problems("ÄRZTE STRASSE") == [
        Problem("name", f"a product named 'Ärzte Straße' exists (#{first})")]
    assert catalog.product_problems("Ärzte straße", product_id=first) == []  # itself
    assert dump() == before


def test_product_problems_are_what_add_product_refuses(db):  # noqa: ANN001
    assert catalog.product_problems("Fine", "server", prices={"monthly": "1"}) == []
    cases = [
        dict(name="", type="x"),
        dict(name="A", prices={"monthly": "abc"}, setup_fee="-1"),
        dict(name="A", currency="EU", prices={}),
    ]
    before = dump()
    for kwargs in cases:
        problems = catalog.product_problems(**kwargs)
        assert problems
        with pytest.raises(ValidationFailed) as err:
            catalog.add_product(**kwargs)
        assert err.value.problems == problems
    assert dump() == before


def test_a_failure_while_writing_prices_writes_nothing(db, monkeypatch):  # noqa: ANN001
    before = dump()

    def broken(rows):  # noqa: ANN001, ANN202
        raise RuntimeError("disk full")

    monkeypatch.setattr(ProductPrice, "insert_many", broken)
    with pytest.raises(RuntimeError):
        catalog.add_product("Half", prices={"monthly": "1"})
    assert dump() == before
    monkeypatch.undo()
    product_id = catalog.add_product("Whole", prices={"monthly": "1"})
    before = dump()
    monkeypatch.setattr(ProductPrice, "insert_many", broken)
    with pytest.raises(RuntimeError):
        catalog.update_product(product_id, name="Renamed", prices={"annually": "2"})
    assert dump() == before


# --------------------------------------------------------------------------- updating and deleting

def test_update_product_changes_what_is_given_and_replaces_one_currency(db):  # noqa: ANN001
    product_id = catalog.add_product("Plan", group="A", description="d", taxed=True,
                                     prices={"monthly": "5", "annually": "50"}, setup_fee="1",
                                     price_table={"EUR": {"monthly": "4"}})
    catalog.update_product(product_id, name="PLAN", hidden=True)
    record = catalog.get_product(product_id)
    assert (record.name, record.product_group,
            record.description, record.taxed, record.hidden) == ("PLAN", "A", "d", True, True)
    assert len(record.prices) == 3  # no prices given: unchanged

    catalog.update_product(product_id, prices={"quarterly": "14.999"}, type="reseller", group="")
    record = catalog.get_product(product_id)
    assert (record.type, record.product_group) == ("reseller", "")
    assert record.prices == {
        ("EUR", "monthly"): (Money(Decimal(4), "EUR"), Money(Decimal(0), "EUR")),  # kept
        ("USD", "quarterly"): (usd("15.00"), usd("0")),  # USD replaced
    }
    catalog.update_product(product_id, price_table={"EUR": {}})  # remove the euro prices
    assert list(catalog.get_product(product_id).prices) == [("USD", "quarterly")]


def test_update_refusals_change_nothing(db):  # noqa: ANN001
    taken = catalog.add_product("Taken")
    product_id = catalog.add_product("Plan", prices={"monthly": "5"})
    before = dump()
    with pytest.raises(Conflict) as err:
        catalog.update_product(product_id, name="taken", prices={"annually": "1"})
    assert err.value.field == "name" and f"#{taken}" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        catalog.update_product(product_id, name="", type="nope", prices={"monthly": "x"})
    assert [p.field for p in err.value.problems] == ["name", "type", "monthly"]
    with pytest.raises(NotFound) as err:
        catalog.update_product(999, name="Ghost")
    assert err.value.field == "product"
    assert dump() == before


def test_delete_product_keeps_the_services_sold(db):  # noqa: ANN001
    product_id = catalog.add_product("Plan", prices={"monthly": "5"})
    other = catalog.add_product("Other", prices={"monthly": "1"})
    client_id = clients.add_client({"first_name": "Ann", "last_name": "Lee",
                                    "email": "ann@example.com"})
    service_id = Service.insert(client=client_id, kind="service", product=product_id, name="Plan",
                                cycle="monthly", amount=usd("5"), signup_date=dt.date(2026, 1, 1),
                                next_due=dt.date(2026, 2, 1)).execute()
    assert catalog.delete_product(product_id) == 1
    assert [p.id for p in catalog.list_products()] == [other]
    assert not ProductPrice.select().where(ProductPrice.product == product_id).exists()
    service = Service.get_by_id(service_id)
    assert (service.product_id, service.name, service.amount) == (None, "Plan", 500)
    assert catalog.delete_product(other) == 0
    before = dump()
    with pytest.raises(NotFound):
        catalog.delete_product(product_id)
    assert dump() == before
    assert Product.select().count() == 0
