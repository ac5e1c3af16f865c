"""The product catalogue (S1): what the business sells, with a price and a
setup fee per billing cycle and currency, and a hidden flag (hidden
products are left out of order forms but can still be ordered by hand).

Prices are per (product, currency, cycle), stored as INTEGER minor units.
Every cycle but "free" can have a price; a cycle without one is not offered.
A price's setup fee is charged once, with the first invoice.

Amounts are given as the text a person typed (or Decimal, int, Money) and
read by ``amounts.amount_input``: zero is allowed, a negative amount or a
malformed one is refused naming the cycle (``monthly``), the shared setup
fee (``setup_fee``) or a cycle's own setup fee (``monthly_setup_fee``).
Every problem is reported at once; a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from billdesk.errors import BilldeskError, Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import BILLING_CYCLES, PRODUCT_TYPES, Product, ProductPrice, Service, database, now
from billdesk.money import Money, check_currency
from billdesk.services import settings, text, validate
from billdesk.services.amounts import amount_input
from billdesk.services.cycles import check_cycle

PRICED_CYCLES = tuple(c for c in BILLING_CYCLES if c != "free")  # "free" has no price
TYPE_LABELS = {"hosting": "Hosting", "reseller": "Reseller hosting", "server": "Server",
               "other": "Other", "addon": "Addon", "domain": "Domain"}
NAME_LIMIT, GROUP_LIMIT, DESCRIPTION_LIMIT = 200, 100, 10_000

Price = tuple[Money, Money]  # (amount, setup fee), both in the price's currency


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: int
    name: str
    type: str
    product_group: str
    description: str
    taxed: bool
    hidden: bool
    # (currency, cycle) → (amount, setup fee), by currency then in cycle order
    prices: dict[tuple[str, str], Price]

    def price(self, currency: str, cycle: str) -> Price | None:
        """The price in ``currency``; with none set there, the price in the
        default currency converted at the stored exchange rate (as WHMCS
        fills prices of other currencies from the base one)."""
        found = self.prices.get((currency, cycle))
        if found is None:
            base = settings.default_currency()
            if currency != base and (base, cycle) in self.prices:
                return converted(self.prices[(base, cycle)], currency)
        return found

    def currencies(self) -> list[str]:
        return sorted({currency for currency, _cycle in self.prices})

    def as_json(self) -> dict[str, Any]:
        prices: dict[str, dict[str, dict[str, str]]] = {}
        for (currency, cycle), (amount, setup_fee) in self.prices.items():
            prices.setdefault(currency, {})[cycle] = {"amount": str(amount),
                                                      "setup_fee": str(setup_fee)}
        return {"id": self.id, "name": self.name, "type": self.type, "group": self.product_group,
                "description": self.description, "taxed": self.taxed, "hidden": self.hidden,
                "prices": prices}


def converted(price: Price, currency: str) -> Price | None:
    """A default-currency price in ``currency`` at the stored exchange rate,
    rounded half-up; None when no rate is stored for it."""
    from billdesk.services import billing_settings

    rate = billing_settings.currencies().get(currency)
    if rate is None:
        return None
    amount, setup_fee = price
    return Money(amount.amount * rate, currency), Money(setup_fee.amount * rate, currency)


# --------------------------------------------------------------------------- checks

def check_type(value: Any, field: str = "type") -> str:
    found = str(value or "").strip().lower()
    if found not in PRODUCT_TYPES:
        raise InvalidInput(field, f"{value!r} is not a product type: use {', '.join(PRODUCT_TYPES)}")
    return found


def _cycle(key: Any) -> str:
    """A price's cycle, spelled as in BILLING_CYCLES ("Semi-annually" →
    semiannually); "free" and unknown cycles are refused."""
    found = str(key or "").strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    if found == "free":
        raise InvalidInput("prices", "a free product has no price: leave the cycle out")
    if found not in PRICED_CYCLES:
        raise InvalidInput("prices", f"unknown billing cycle {key!r}: use {', '.join(PRICED_CYCLES)}")
    return found


def _money(value: Any, currency: str, field: str, note: str, problems: list[Problem]) -> Money | None:
    try:
        return amount_input(value, currency, field, zero_ok=True)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, note + exc.message))
        return None


def _prices(cycles: Mapping[str, Any], currency: str, shared_fee: Any, note: str,
            problems: list[Problem]) -> dict[str, Price]:
    """One currency's prices: cycle → amount, or (amount, setup fee). An
    amount of None means the cycle is not offered; a missing setup fee is
    ``shared_fee``, else 0."""
    if not isinstance(cycles, Mapping):
        raise TypeError(f"prices must be a mapping of cycle to amount, not {type(cycles).__name__}")
    fee = None
    if shared_fee is not None:
        fee = _money(shared_fee, currency, "setup_fee", note, problems)
    found: dict[str, Price] = {}
    seen: set[str] = set()
    for key, value in cycles.items():
        try:
            cycle = _cycle(key)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, note + exc.message))
            continue
        if cycle in seen:  # "semiannually" and "Semi-annually"
            problems.append(Problem(cycle, f"{note}is given twice"))
            continue
        seen.add(cycle)
        amount, own_fee = value if isinstance(value, tuple) else (value, None)
        if amount is None:
            if own_fee is not None:
                problems.append(Problem(cycle, f"{note}is required when a setup fee is given"))
            continue
        money = _money(amount, currency, cycle, note, problems)
        if own_fee is not None:
            setup = _money(own_fee, currency, f"{cycle}_setup_fee", note, problems)
        else:
            setup = fee if shared_fee is not None else Money.zero(currency)
        if money is not None and setup is not None:
            found[cycle] = (money, setup)
    return {cycle: found[cycle] for cycle in PRICED_CYCLES if cycle in found}


def _price_table(prices: Mapping[str, Any] | None, setup_fee: Any, currency: str | None,
                 price_table: Mapping[str, Mapping[str, Any]] | None,
                 problems: list[Problem]) -> dict[str, dict[str, Price]]:
    """currency → cycle → price, for each currency whose prices are given."""
    given: list[tuple[str, Mapping[str, Any], Any]] = []
    if prices is not None or setup_fee is not None or currency is not None:
        try:
            code = settings.default_currency() if currency is None else check_currency(currency)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
        else:
            if setup_fee is not None and not any(
                    (v[0] if isinstance(v, tuple) else v) is not None for v in (prices or {}).values()):
                problems.append(Problem("setup_fee", "is charged with a price: give at least one "
                                                     f"({', '.join(PRICED_CYCLES)})"))
                setup_fee = None
            if prices is not None or setup_fee is not None:
                given.append((code, prices or {}, setup_fee))
    for raw, cycles in (price_table or {}).items():
        try:
            code = check_currency(raw)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
            continue
        if any(code == other for other, _c, _f in given):
            problems.append(Problem("currency", f"the prices in {code} are given twice"))
            continue
        given.append((code, cycles, None))
    several = len(given) > 1
    return {code: _prices(cycles, code, fee, f"{code}: " if several else "", problems)
            for code, cycles, fee in given}


def _field_values(name: Any, type: Any, group: Any, description: Any,
                  problems: list[Problem]) -> dict[str, Any]:
    values = {"name": str(name or "").strip(), "product_group": str(group or "").strip(),
              "description": str(description or "").strip()}
    problems += validate.required(values["name"], "name")
    problems += validate.max_length(values["name"], "name", NAME_LIMIT)
    try:
        values["type"] = check_type(type)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    problems += validate.max_length(values["product_group"], "group", GROUP_LIMIT)
    problems += validate.max_length(values["description"], "description", DESCRIPTION_LIMIT)
    return values


def _name_taken(name: str, product_id: int | None) -> Problem | None:
    """Names are unique with case folded (Ärzte and ÄRZTE are one name)."""
    wanted = name.casefold()
    if not wanted:
        return None
    for other, existing in Product.select(Product.id, Product.name).tuples():
        if existing.casefold() == wanted and other != product_id:
            return Problem("name", f"a product named {existing!r} exists (#{other})")
    return None


def _checked(name: Any, type: Any, group: Any, description: Any, product_id: int | None,
             prices: Mapping[str, Any] | None, setup_fee: Any, currency: str | None,
             price_table: Mapping[str, Mapping[str, Any]] | None,
             ) -> tuple[dict[str, Any], dict[str, dict[str, Price]], list[Problem], Problem | None]:
    problems: list[Problem] = []
    values = _field_values(name, type, group, description, problems)
    table = _price_table(prices, setup_fee, currency, price_table, problems)
    taken = _name_taken(values["name"], product_id)
    return values, table, problems, taken


def _refuse(problems: list[Problem], taken: Problem | None) -> None:
    """Malformed input: every problem at once (a taken name among them);
    only a taken name: Conflict on "name"."""
    if problems:
        raise ValidationFailed(([taken] if taken else []) + problems)
    if taken is not None:
        raise Conflict(taken.field, taken.message)


def product_problems(name: Any, type: Any = "hosting", group: Any = "", description: Any = "", *,
                     product_id: int | None = None, prices: Mapping[str, Any] | None = None,
                     setup_fee: Any = None, currency: str | None = None,
                     price_table: Mapping[str, Mapping[str, Any]] | None = None) -> list[Problem]:
    """What add_product (or update_product, with ``product_id``) would
    refuse, every problem at once; nothing is written (for forms that check
    as you type)."""
    _values, _table, problems, taken = _checked(name, type, group, description, product_id,
                                                prices, setup_fee, currency, price_table)
    return ([taken] if taken else []) + problems


# --------------------------------------------------------------------------- writes

def _price_rows(product_id: int, table: dict[str, dict[str, Price]]) -> list[dict[str, Any]]:
    return [{"product": product_id, "currency": code, "cycle": cycle, "amount": amount,
             "setup_fee": setup_fee}
            for code, cycles in table.items() for cycle, (amount, setup_fee) in cycles.items()]


def _unique_name(exc: IntegrityError, name: str) -> BilldeskError:
    """The database's own guard (two writers at once); anything else is a bug."""
    if "UNIQUE" not in str(exc).upper():
        raise exc
    return Conflict("name", f"a product named {name!r} exists")


def add_product(name: str, *, type: str = "hosting", group: str = "", description: str = "",
                taxed: bool = False, hidden: bool = False,
                prices: Mapping[str, Any] | None = None, setup_fee: Any = None,
                currency: str | None = None,
                price_table: Mapping[str, Mapping[str, Any]] | None = None,
                actor: str | None = None) -> int:
    """Add a product; returns its id.

    ``prices`` maps a cycle to its amount in ``currency`` (default: the
    business's default currency), or to ``(amount, setup fee)``; an amount
    of None leaves the cycle out. ``setup_fee`` is the setup fee of every
    cycle given without its own. ``price_table`` gives prices in more
    currencies: currency → the same mapping. ``actor`` is accepted for
    symmetry with the client services (the catalogue keeps no change log).
    """
    del actor
    with database.atomic():
        values, table, problems, taken = _checked(name, type, group, description, None,
                                                  prices, setup_fee, currency, price_table)
        _refuse(problems, taken)
        try:
            product_id = Product.insert(**values, taxed=bool(taxed), hidden=bool(hidden),
                                        created_at=now()).execute()
        except IntegrityError as exc:
            raise _unique_name(exc, values["name"]) from None
        rows = _price_rows(product_id, table)
        if rows:
            ProductPrice.insert_many(rows).execute()
    return product_id


def update_product(product_id: int, *, name: str | None = None, type: str | None = None,
                   group: str | None = None, description: str | None = None,
                   taxed: bool | None = None, hidden: bool | None = None,
                   prices: Mapping[str, Any] | None = None, setup_fee: Any = None,
                   currency: str | None = None,
                   price_table: Mapping[str, Mapping[str, Any]] | None = None,
                   actor: str | None = None) -> None:
    """Change the fields given (None: unchanged). Prices given for a
    currency (``prices`` in ``currency``, or each currency of
    ``price_table``) replace all of that currency's prices; an empty
    mapping removes them. Prices in other currencies stay."""
    del actor
    with database.atomic():
        current = get_product(product_id)
        values, table, problems, taken = _checked(
            current.name if name is None else name, current.type if type is None else type,
            current.product_group if group is None else group,
            current.description if description is None else description,
            product_id, prices, setup_fee, currency, price_table)
        _refuse(problems, taken)
        changes: dict[str, Any] = dict(values)
        if taxed is not None:
            changes["taxed"] = bool(taxed)
        if hidden is not None:
            changes["hidden"] = bool(hidden)
        try:
            Product.update(**changes).where(Product.id == product_id).execute()
        except IntegrityError as exc:
            raise _unique_name(exc, values["name"]) from None
        if table:
            ProductPrice.delete().where((ProductPrice.product == product_id)
                                        & (ProductPrice.currency.in_(list(table)))).execute()
            rows = _price_rows(product_id, table)
            if rows:
                ProductPrice.insert_many(rows).execute()


def delete_product(product_id: int) -> int:
    """Delete a product and its prices. Services made from it stay, with
    their own name and amounts; returns how many there are."""
    with database.atomic():
        get_product(product_id)
        users = Service.select().where(Service.product == product_id).count()
        Product.delete().where(Product.id == product_id).execute()  # prices: ON DELETE CASCADE
    return users


# --------------------------------------------------------------------------- reads

_COLUMNS = (Product.id, Product.name, Product.type, Product.product_group, Product.description,
            Product.taxed, Product.hidden)
_PRICE_COLUMNS = (ProductPrice.product, ProductPrice.currency, ProductPrice.cycle,
                  ProductPrice.amount, ProductPrice.setup_fee)
_CYCLE_ORDER = {cycle: i for i, cycle in enumerate(PRICED_CYCLES)}


def _records(rows: list[tuple], price_rows: list[tuple]) -> list[ProductRecord]:
    prices: dict[int, list[tuple[str, str, int, int]]] = {}
    for product_id, code, cycle, amount, setup_fee in price_rows:
        prices.setdefault(product_id, []).append((code, cycle, amount, setup_fee))
    found = []
    for product_id, name, kind, group, description, taxed, hidden in rows:
        own = sorted(prices.get(product_id, ()), key=lambda p: (p[0], _CYCLE_ORDER.get(p[1], 99)))
        found.append(ProductRecord(
            product_id, name, kind, group, description, bool(taxed), bool(hidden),
            {(code, cycle): (Money.from_minor(amount, code), Money.from_minor(setup_fee, code))
             for code, cycle, amount, setup_fee in own}))
    return found


def get_product(product_id: int) -> ProductRecord:
    rows = list(Product.select(*_COLUMNS).where(Product.id == product_id).tuples())
    if not rows:
        raise NotFound("product", f"no product #{product_id}")
    price_rows = list(ProductPrice.select(*_PRICE_COLUMNS)
                      .where(ProductPrice.product == product_id).tuples())
    return _records(rows, price_rows)[0]


def find_product(value: str | int) -> ProductRecord:
    """A product by id ("12", "#12") or by its exact name, case folded."""
    wanted = str(value).strip()
    if not wanted:
        raise NotFound("product", "no product given: write its id or name")
    digits = wanted.removeprefix("#")
    if digits.isdigit() and digits.isascii() and len(digits) < 19:
        found = Product.select(Product.id).where(Product.id == int(digits)).scalar()
        if found is not None:
            return get_product(found)
    for product_id, name in Product.select(Product.id, Product.name).tuples():
        if name.casefold() == wanted.casefold():
            return get_product(product_id)
    raise NotFound("product", f"no product with id or name {wanted!r}")


def list_products(include_hidden: bool = True) -> list[ProductRecord]:
    """Every product with its prices, by group, then name (case and accents
    ignored)."""
    query = Product.select(*_COLUMNS)
    prices = ProductPrice.select(*_PRICE_COLUMNS)
    if not include_hidden:
        query = query.where(Product.hidden == False)  # noqa: E712 (peewee expression)
        prices = prices.join(Product).where(Product.hidden == False)  # noqa: E712
    records = _records(list(query.tuples()), list(prices.tuples()))
    return sorted(records, key=lambda r: (text.sort_key(r.product_group), text.sort_key(r.name),
                                          r.id))


def price_for(product_id: int, currency: str, cycle: str) -> Price | None:
    """(amount, setup fee) of the product in that currency and cycle, or
    None when it is not offered so (a free cycle never has a price)."""
    code = check_currency(currency)
    cycle = check_cycle(cycle)
    row = (ProductPrice.select(ProductPrice.amount, ProductPrice.setup_fee)
           .where((ProductPrice.product == product_id) & (ProductPrice.currency == code)
                  & (ProductPrice.cycle == cycle)).tuples().first())
    if row is None:
        if not Product.select().where(Product.id == product_id).exists():
            raise NotFound("product", f"no product #{product_id}")
        base = settings.default_currency()
        if code != base:  # none set in this currency: the default one's, converted
            found = price_for(product_id, base, cycle)
            return converted(found, code) if found is not None else None
        return None
    return Money.from_minor(row[0], code), Money.from_minor(row[1], code)
