"""Promotion codes (S8): a percent or a fixed amount off, for chosen
products and billing cycles, on the first payment only or on every
renewal too, between a start and an end date, a limited number of times.

A fixed amount is exact decimal text and is taken in the currency of the
client who orders (rounded half-up to its minor unit); it never takes more
than the amount it applies to. A code is checked against the order date,
its uses, its products (none chosen: every product) and its cycles (none
chosen: every cycle); each refusal names the ``promo`` field and says why.
Uses are counted when an order is placed and kept when it is cancelled
(as WHMCS does)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peewee import IntegrityError

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Product, PromoCode, PromoProduct, database, now
from billdesk.money import Money
from billdesk.services import catalog, cycles
from billdesk.services.amounts import LARGEST, date_input

KINDS = ("percent", "fixed")
CODE_LIMIT = 50
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class PromoRecord:
    id: int
    code: str
    kind: str
    value: Decimal
    cycles: tuple[str, ...]  # empty: every cycle
    recurring: bool
    start_date: dt.date | None
    end_date: dt.date | None
    max_uses: int  # 0: no limit
    uses: int
    notes: str
    products: tuple[tuple[int, str], ...]  # (id, name); empty: every product

    @property
    def value_text(self) -> str:
        """"10%" or "5.00" (the amount as written)."""
        return f"{self.value.normalize():f}%" if self.kind == "percent" else f"{self.value:f}"

    @property
    def product_ids(self) -> tuple[int, ...]:
        return tuple(pid for pid, _name in self.products)

    def line_text(self, currency: str = "") -> str:
        """What the invoice line says: "Promotional Code: SPRING - 10% One Time Discount"."""
        value = self.value_text if self.kind == "percent" else (
            f"{Money(self.value, currency)} {currency}" if currency else self.value_text)
        return (f"Promotional Code: {self.code} - {value} "
                f"{'Recurring' if self.recurring else 'One Time'} Discount")

    def discount(self, amount: Money) -> Money:
        """What comes off ``amount`` (never more than it, never below zero)."""
        if amount.amount <= 0:
            return Money.zero(amount.currency)
        if self.kind == "percent":
            off = Money(amount.amount * self.value / 100, amount.currency)
        else:
            off = Money(self.value, amount.currency)
        return min(off, amount, key=lambda m: m.amount)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "code": self.code, "kind": self.kind, "value": f"{self.value:f}",
            "cycles": list(self.cycles), "recurring": self.recurring,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "max_uses": self.max_uses, "uses": self.uses, "notes": self.notes,
            "products": [{"id": pid, "name": name} for pid, name in self.products],
        }


# --------------------------------------------------------------------------- checking values

def _code(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput("code", "is required")
    if len(text) > CODE_LIMIT:
        raise InvalidInput("code", f"is longer than {CODE_LIMIT} characters")
    if not _CODE.fullmatch(text):
        raise InvalidInput("code", f"{text!r}: use letters, digits, '-', '_' and '.', no spaces")
    return text


def _value(kind: str, value: Any) -> Decimal:
    field = kind
    if isinstance(value, (bool, float)) or value is None:
        raise InvalidInput(field, "is required" if value is None else f"{value!r} is not a number")
    text = str(value).strip().removesuffix("%").strip() if not isinstance(value, Decimal) else None
    if text is not None:
        if not text:
            raise InvalidInput(field, "is required")
        if not _NUMBER.fullmatch(text):
            raise InvalidInput(field, f"{str(value).strip()!r} is not a number")
        number = Decimal(text)
    else:
        number = value
    if not number.is_finite() or number <= 0:
        raise InvalidInput(field, "must be more than 0")
    if kind == "percent" and number > 100:
        raise InvalidInput(field, "must be 100 or less")
    if kind == "percent" and number != number.quantize(Decimal("0.01")):
        raise InvalidInput(field, "has at most two decimals")
    if kind == "fixed" and (number > LARGEST or number != number.quantize(Decimal("0.001"))):
        raise InvalidInput(field, "is too large or has more than three decimals")
    return number


def _cycles(values: Iterable[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        cycle = cycles.check_cycle(value, "cycles")
        if cycle == "free":
            raise InvalidInput("cycles", "a free cycle has nothing to discount")
        if cycle not in found:
            found.append(cycle)
    return tuple(c for c in catalog.PRICED_CYCLES if c in found)  # in cycle order


def _products(values: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if isinstance(value, bool):
            raise InvalidInput("products", f"{value!r} is not a product")
        try:
            found = (catalog.get_product(value) if isinstance(value, int)
                     else catalog.find_product(str(value)))
        except NotFound as exc:
            raise NotFound("products", exc.message) from None
        if found.id not in ids:
            ids.append(found.id)
    return ids


def _count(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInput("max_uses", f"{value!r} is not a number")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInput("max_uses", f"{value!r} is not a whole number") from None
    if number < 0:
        raise InvalidInput("max_uses", "must not be negative (0: no limit)")
    return number


def _optional_date(value: Any, field: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return date_input(value, field)


def _checked(values: dict[str, Any],
             promo_id: int | None) -> tuple[dict[str, Any], list[int] | None]:
    """Every field given in ``values`` checked; all problems at once."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    product_ids: list[int] | None = None

    def attempt(field: str, fn: Any) -> None:
        try:
            out[field] = fn()
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
        except NotFound as exc:
            problems.append(Problem(exc.field, exc.message))

    if "code" in values:
        attempt("code", lambda: _code(values["code"]))
    if "kind" in values:
        kind = values["kind"]
        if kind not in KINDS:
            problems.append(Problem("kind", f"{kind!r}: use percent or fixed"))
        else:
            out["kind"] = kind
            attempt("value", lambda: str(_value(kind, values.get("value"))))
    if "cycles" in values:
        attempt("cycles", lambda: ",".join(_cycles(values["cycles"] or ())))
    if "recurring" in values:
        if not isinstance(values["recurring"], bool):
            problems.append(Problem("recurring", "must be yes or no"))
        else:
            out["recurring"] = values["recurring"]
    if "start_date" in values:
        attempt("start_date", lambda: _optional_date(values["start_date"], "start"))
    if "end_date" in values:
        attempt("end_date", lambda: _optional_date(values["end_date"], "until"))
    if out.get("start_date") and out.get("end_date") and out["end_date"] < out["start_date"]:
        problems.append(Problem("until", "must not be before the start date"))
    if "max_uses" in values:
        attempt("max_uses", lambda: _count(values["max_uses"]))
    if "notes" in values:
        out["notes"] = str(values["notes"] or "").strip()
    if "products" in values:
        try:
            product_ids = _products(values["products"] or ())
        except (InvalidInput, NotFound) as exc:
            problems.append(Problem(exc.field, exc.message))
    if "code" in out:
        query = PromoCode.select(PromoCode.id).where(PromoCode.code == out["code"])
        if promo_id is not None:
            query = query.where(PromoCode.id != promo_id)
        if query.exists():  # the column folds case (COLLATE NOCASE)
            problems.append(Problem("code", f"{out['code']!r} is already a promotion code"))
    if problems:
        raise ValidationFailed(problems)
    return out, product_ids


def promo_problems(**values: Any) -> list[Problem]:
    """What add_promo would refuse, every field at once (for forms)."""
    promo_id = values.pop("promo_id", None)
    try:
        _checked(values, promo_id)
    except ValidationFailed as exc:
        return exc.problems
    return []


# --------------------------------------------------------------------------- writing

def add_promo(code: str, *, percent: Any = None, fixed: Any = None, products: Iterable[Any] = (),
              cycles: Iterable[Any] = (), recurring: bool = False, start_date: Any = None,
              end_date: Any = None, max_uses: Any = 0, notes: str = "") -> int:
    """A new promotion code: exactly one of ``percent`` or ``fixed``."""
    if (percent is None) == (fixed is None):
        raise InvalidInput("percent", "give either a percent or a fixed amount")
    kind, value = ("percent", percent) if percent is not None else ("fixed", fixed)
    out, product_ids = _checked({
        "code": code, "kind": kind, "value": value, "products": list(products),
        "cycles": list(cycles), "recurring": recurring, "start_date": start_date,
        "end_date": end_date, "max_uses": max_uses, "notes": notes}, None)
    stamp = now()
    with database.atomic():
        try:
            promo_id = PromoCode.insert(**out, uses=0, created_at=stamp, updated_at=stamp).execute()
        except IntegrityError:
            raise Conflict("code", f"{out['code']!r} is already a promotion code") from None
        if product_ids:
            PromoProduct.insert_many([{"promo": promo_id, "product": pid}
                                      for pid in product_ids]).execute()
    return promo_id


def update_promo(promo_id: int, *, code: Any = _UNSET, percent: Any = None, fixed: Any = None,
                 products: Any = _UNSET, cycles: Any = _UNSET, recurring: Any = _UNSET,
                 start_date: Any = _UNSET, end_date: Any = _UNSET, max_uses: Any = _UNSET,
                 notes: Any = _UNSET) -> PromoRecord:
    """Change the fields given (a percent or a fixed amount changes the
    kind too); the uses so far are kept."""
    get_promo(promo_id)
    if percent is not None and fixed is not None:
        raise InvalidInput("percent", "give either a percent or a fixed amount")
    values: dict[str, Any] = {k: v for k, v in (
        ("code", code), ("products", products), ("cycles", cycles), ("recurring", recurring),
        ("start_date", start_date), ("end_date", end_date), ("max_uses", max_uses),
        ("notes", notes)) if v is not _UNSET}
    if percent is not None:
        values.update(kind="percent", value=percent)
    elif fixed is not None:
        values.update(kind="fixed", value=fixed)
    out, product_ids = _checked(values, promo_id)
    current = get_promo(promo_id)
    start = out.get("start_date", current.start_date)
    end = out.get("end_date", current.end_date)
    if start and end and end < start:
        raise InvalidInput("until", "must not be before the start date")
    with database.atomic():
        if out:
            try:
                PromoCode.update(**out, updated_at=now()).where(PromoCode.id == promo_id).execute()
            except IntegrityError:
                raise Conflict("code", f"{out['code']!r} is already a promotion code") from None
        if product_ids is not None:
            PromoProduct.delete().where(PromoProduct.promo == promo_id).execute()
            if product_ids:
                PromoProduct.insert_many([{"promo": promo_id, "product": pid}
                                          for pid in product_ids]).execute()
    return get_promo(promo_id)


def delete_promo(promo_id: int) -> None:
    """Delete a code; orders and services that used it keep their amounts
    (their link to it is cleared; an order keeps the code's text)."""
    get_promo(promo_id)
    with database.atomic():
        PromoCode.delete().where(PromoCode.id == promo_id).execute()


# --------------------------------------------------------------------------- reading

def _records(query: Any) -> list[PromoRecord]:
    rows = list(query.tuples())
    if not rows:
        return []
    ids = [row[0] for row in rows]
    names = dict(Product.select(Product.id, Product.name).tuples())
    products: dict[int, list[tuple[int, str]]] = {}
    for promo, product in (PromoProduct.select(PromoProduct.promo, PromoProduct.product)
                           .where(PromoProduct.promo.in_(ids)).tuples()):
        products.setdefault(promo, []).append((product, names.get(product, f"#{product}")))
    out = []
    for (pid, code, kind, value, cyc, recurring, start, end, max_uses, uses, notes) in rows:
        out.append(PromoRecord(
            pid, code, kind, Decimal(value), tuple(c for c in cyc.split(",") if c),
            bool(recurring), _date(start), _date(end), max_uses, uses, notes,
            tuple(sorted(products.get(pid, []), key=lambda p: p[1].casefold()))))
    return out


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


_COLUMNS = (PromoCode.id, PromoCode.code, PromoCode.kind, PromoCode.value, PromoCode.cycles,
            PromoCode.recurring, PromoCode.start_date, PromoCode.end_date, PromoCode.max_uses,
            PromoCode.uses, PromoCode.notes)


def get_promo(promo_id: int) -> PromoRecord:
    if isinstance(promo_id, bool) or not isinstance(promo_id, int):
        raise InvalidInput("id", f"{promo_id!r} is not an id")
    found = _records(PromoCode.select(*_COLUMNS).where(PromoCode.id == promo_id))
    if not found:
        raise NotFound("id", f"no promotion code #{promo_id}")
    return found[0]


def find_promo(code: str, field: str = "promo") -> PromoRecord:
    """A code by its text (case does not matter)."""
    text = str(code or "").strip()
    if not text:
        raise InvalidInput(field, "no promotion code given")
    found = _records(PromoCode.select(*_COLUMNS).where(PromoCode.code == text))
    if not found:
        raise NotFound(field, f"no promotion code {text!r}")
    return found[0]


def list_promos() -> list[PromoRecord]:
    """Every code, by code (case folded)."""
    return sorted(_records(PromoCode.select(*_COLUMNS)), key=lambda p: p.code.casefold())


def check_promo(code: str, *, product_id: int, cycle: str, when: dt.date,
                field: str = "promo") -> PromoRecord:
    """The code if it may be used for this product and cycle on ``when``;
    otherwise InvalidInput on ``field`` saying why (unknown, not started,
    expired, used up, not for that product, not for that cycle)."""
    promo = find_promo(code, field)
    if promo.start_date and when < promo.start_date:
        raise InvalidInput(field, f"{promo.code} starts on {promo.start_date.isoformat()}")
    if promo.end_date and when > promo.end_date:
        raise InvalidInput(field, f"{promo.code} expired on {promo.end_date.isoformat()}")
    if promo.max_uses and promo.uses >= promo.max_uses:
        raise InvalidInput(field, f"{promo.code} is used up ({promo.uses} of {promo.max_uses} "
                                  "uses)")
    if promo.products and product_id not in promo.product_ids:
        name = catalog.get_product(product_id).name
        allowed = ", ".join(n for _i, n in promo.products)
        raise InvalidInput(field, f"{promo.code} is not for product {name!r} (only: {allowed})")
    if promo.cycles and cycle not in promo.cycles:
        raise InvalidInput(field, f"{promo.code} is not for the {cycle} billing cycle (only: "
                                  f"{', '.join(promo.cycles)})")
    return promo


def take_use(promo: PromoRecord, field: str = "promo") -> None:
    """Count one use, inside the caller's transaction; refused when the
    last use went meanwhile."""
    taken = (PromoCode.update(uses=PromoCode.uses + 1, updated_at=now())
             .where((PromoCode.id == promo.id)
                    & ((PromoCode.max_uses == 0) | (PromoCode.uses < PromoCode.max_uses)))
             .execute())
    if not taken:
        raise InvalidInput(field, f"{promo.code} is used up")
