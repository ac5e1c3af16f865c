"""Billing settings (D6): how tax is charged, how invoices are numbered,
the late-fee rule, the payment methods and the currencies with their rates.
All live in the database; the Settings window and the CLI edit them here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from billdesk.errors import (
    BilldeskError,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    ValidationFailed,
)
from billdesk.models import Currency, NumberSequence, PaymentMethod, TaxRule, database
from billdesk.money import check_currency, to_decimal
from billdesk.services import settings as base
from billdesk.services import validate

DEFAULT_NUMBER_FORMAT = "INV-{year}-{seq:05}"
LATE_FEE_KINDS = ("fixed", "percent")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::0?(\d+))?\}")
_PLACEHOLDERS = {"seq", "year", "month", "day"}


@dataclass(slots=True)
class BillingSettings:
    """Tax mode, numbering and the late-fee rule (B1, B6)."""

    tax_inclusive: bool = False  # line prices already include tax
    tax_compound: bool = False  # level 2 is charged on subtotal + level-1 tax
    number_format: str = DEFAULT_NUMBER_FORMAT
    late_fee_kind: str = "fixed"  # fixed amount or percent of the invoice total
    late_fee_amount: str = "0"  # 0: no late fees
    late_fee_minimum: str = "0"  # for percent fees: at least this much
    late_fee_days: int = 0  # days after the due date
    invoice_lead_days: int = 14  # due invoices are generated this many days before the due date

    def problems(self) -> list[Problem]:
        found = number_format_problems(self.number_format)
        if self.late_fee_kind not in LATE_FEE_KINDS:
            found.append(Problem("late_fee_kind", "must be fixed or percent"))
        for name in ("late_fee_amount", "late_fee_minimum"):
            try:
                value = to_decimal(getattr(self, name), name)
                if value < 0:
                    found.append(Problem(name, "must not be negative"))
                elif self.late_fee_kind == "percent" and name == "late_fee_amount" and value > 100:
                    found.append(Problem(name, "a percentage must be 100 or less"))
            except InvalidInput as exc:
                found.append(Problem(name, exc.message))
        if not isinstance(self.late_fee_days, int) or not 0 <= self.late_fee_days <= 3650:
            found.append(Problem("late_fee_days", "must be a whole number of days from 0 to 3650"))
        if not isinstance(self.invoice_lead_days, int) or not 0 <= self.invoice_lead_days <= 365:
            found.append(Problem("invoice_lead_days", "must be a whole number of days from 0 to 365"))
        return found


def number_format_problems(text: str) -> list[Problem]:
    if "{seq" not in text:
        return [Problem("number_format", "must contain {seq}, e.g. INV-{year}-{seq:05}")]
    unknown = [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1) not in _PLACEHOLDERS]
    if unknown:
        return [Problem("number_format", f"unknown placeholder {{{unknown[0]}}}: use seq, year, "
                                         "month or day")]
    stray = _PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        return [Problem("number_format", "has an unmatched { or }")]
    if len(text) > 60:
        return [Problem("number_format", "must be 60 characters or fewer")]
    return []


def format_number(template: str, seq: int, when: dt.date) -> str:
    def fill(match: re.Match[str]) -> str:
        name, width = match.group(1), int(match.group(2) or 0)
        value = {"seq": seq, "year": when.year, "month": when.month, "day": when.day}[name]
        if name in ("month", "day") and not width:
            width = 2
        return str(value).zfill(width)

    return _PLACEHOLDER.sub(fill, template)


def billing() -> BillingSettings:
    stored = base._get("billing", {}) or {}
    known = {f.name for f in fields(BillingSettings)}
    return BillingSettings(**{k: v for k, v in stored.items() if k in known})


def save_billing(value: BillingSettings) -> BillingSettings:
    problems = value.problems()
    if problems:
        raise ValidationFailed(problems)
    value.late_fee_amount = str(to_decimal(value.late_fee_amount))
    value.late_fee_minimum = str(to_decimal(value.late_fee_minimum))
    with database.atomic():
        base._put("billing", asdict(value))
    return value


# --- the invoice number sequence (gap-free: taken inside the publishing transaction)

def next_number() -> int:
    return NumberSequence.select(NumberSequence.next_value).where(
        NumberSequence.name == "invoice").scalar() or 1


def set_next_number(value: int) -> None:
    """Restart numbering (e.g. a new business year); refused below a number
    already used, so numbers stay unique."""
    if not isinstance(value, int) or value < 1:
        raise InvalidInput("next_number", "must be a whole number of 1 or more")
    with database.atomic():
        NumberSequence.insert(name="invoice", next_value=value).on_conflict_replace().execute()


def take_number(when: dt.date) -> str:
    """The next invoice number; call inside the transaction that publishes."""
    if not database.in_transaction():
        raise RuntimeError("take_number must run inside the publishing transaction")
    template = billing().number_format
    from billdesk.models import Invoice

    while True:
        seq = next_number()
        NumberSequence.update(next_value=seq + 1).where(NumberSequence.name == "invoice").execute()
        number = format_number(template, seq, when)
        # A number typed in by hand earlier (or a restarted sequence) may
        # already exist; skip it rather than fail the publish.
        if not Invoice.select().where(Invoice.number == number).exists():
            return number


# --- payment methods

def payment_methods() -> list[str]:
    return [name for (name,) in PaymentMethod.select(PaymentMethod.name)
            .order_by(PaymentMethod.position, PaymentMethod.id).tuples()]


def check_payment_method(name: str, field: str = "method") -> str:
    """The stored spelling of a known method; '' stays '' (none chosen)."""
    name = (name or "").strip()
    if not name:
        return ""
    for known in payment_methods():
        if known.casefold() == name.casefold():
            return known
    raise InvalidInput(field, f"{name!r} is not a payment method (known: "
                              f"{', '.join(payment_methods()) or 'none'}; add it in Settings)")


def payment_method_problems(names: list[str]) -> list[Problem]:
    """Every problem with a list of method names, each on the field
    ``payment_methods[N]`` (N counts from 1)."""
    found: list[Problem] = []
    seen: set[str] = set()
    for i, name in enumerate(names, 1):
        name = name.strip()
        where = f"payment_methods[{i}]"
        if not name:
            found.append(Problem(where, "is empty"))
        elif len(name) > 40:
            found.append(Problem(where, "must be 40 characters or fewer"))
        elif name.casefold() in seen:
            found.append(Problem(where, f"{name!r} is listed twice"))
        seen.add(name.casefold())
    return found


def set_payment_methods(names: list[str]) -> None:
    """Replace the list (order kept). Methods already used on invoices and
    transactions stay there as text."""
    problems = payment_method_problems(names)
    if problems:
        raise ValidationFailed(problems)
    cleaned = [name.strip() for name in names]
    with database.atomic():
        PaymentMethod.delete().execute()
        if cleaned:
            PaymentMethod.insert_many([{"name": n, "position": i} for i, n in enumerate(cleaned, 1)]).execute()


# --- tax rules (two levels; the most specific rule for the client's country
# and state wins at each level)

@dataclass(frozen=True, slots=True)
class TaxRuleRecord:
    id: int
    level: int
    name: str
    rate: Decimal
    country: str
    state: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "name": self.name, "rate": str(self.rate),
                "country": self.country, "state": self.state}


def parse_rate(value: Any, field: str = "rate") -> Decimal:
    if isinstance(value, float):
        raise TypeError("tax rates refuse float")
    try:
        rate = Decimal(str(value).strip().rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput(field, f"{value!r} is not a percentage") from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise InvalidInput(field, "must be a percentage from 0 to 100")
    if rate != rate.quantize(Decimal("0.0001")):
        raise InvalidInput(field, "has more than 4 decimals")
    return Decimal(format(rate.normalize(), "f")) if rate else Decimal(0)  # 20, not 2E+1


def _tax_rule_values(level: Any, name: str, rate: Any, country: str, state: str) -> dict[str, Any]:
    problems: list[Problem] = []
    if level not in (1, 2):
        problems.append(Problem("level", "must be 1 or 2"))
    if not name.strip():
        problems.append(Problem("name", "is required"))
    parsed = Decimal(0)
    try:
        parsed = parse_rate(rate)
    except InvalidInput as exc:
        problems.append(Problem("rate", exc.message))
    country = country.strip().upper()
    if country:
        problems += validate.country_problems(country, "country")
    if problems:
        raise ValidationFailed(problems)
    return {"level": level, "name": name.strip(), "rate": str(parsed), "country": country,
            "state": state.strip()}


def tax_rule_problems(level: Any, name: str, rate: Any, country: str = "",
                      state: str = "") -> list[Problem]:
    """What add_tax_rule would refuse, on the fields level, name, rate and
    country; nothing is written (for forms that check as you type)."""
    try:
        _tax_rule_values(level, name, rate, country, state)
    except ValidationFailed as exc:
        return list(exc.problems)
    return []


def add_tax_rule(level: int, name: str, rate: Any, country: str = "", state: str = "") -> int:
    values = _tax_rule_values(level, name, rate, country, state)
    with database.atomic():
        return TaxRule.insert(**values).execute()


def update_tax_rule(rule_id: int, level: int, name: str, rate: Any, country: str = "",
                    state: str = "") -> None:
    values = _tax_rule_values(level, name, rate, country, state)
    with database.atomic():
        if not TaxRule.update(**values).where(TaxRule.id == rule_id).execute():
            raise NotFound("tax_rule", f"no tax rule #{rule_id}")


def delete_tax_rule(rule_id: int) -> None:
    with database.atomic():
        if not TaxRule.delete().where(TaxRule.id == rule_id).execute():
            raise NotFound("tax_rule", f"no tax rule #{rule_id}")


def tax_rules() -> list[TaxRuleRecord]:
    rows = (TaxRule.select(TaxRule.id, TaxRule.level, TaxRule.name, TaxRule.rate, TaxRule.country,
                           TaxRule.state).order_by(TaxRule.level, TaxRule.country, TaxRule.state,
                                                   TaxRule.id).tuples())
    return [TaxRuleRecord(i, lv, n, Decimal(r), c, s) for i, lv, n, r, c, s in rows]


def rule_for(level: int, country: str, state: str) -> TaxRuleRecord | None:
    """The rule that applies to an address at one level: country and state
    beat country alone, which beats a rule for every country."""
    best: tuple[int, TaxRuleRecord] | None = None
    for rule in tax_rules():
        if rule.level != level:
            continue
        if rule.country and rule.country != (country or "").upper():
            continue
        if rule.state and rule.state.casefold() != (state or "").strip().casefold():
            continue
        score = (2 if rule.country else 0) + (1 if rule.state else 0)
        if best is None or score > best[0]:
            best = (score, rule)
    return best[1] if best else None


# --- currencies and exchange rates (rate: units of the currency per one unit
# of the company's default currency)

def currencies() -> dict[str, Decimal]:
    found = {code: Decimal(rate) for code, rate in Currency.select(Currency.code, Currency.rate).tuples()}
    found.setdefault(base.default_currency(), Decimal(1))
    return dict(sorted(found.items()))


def _currency_rate_values(code: str, rate: Any) -> tuple[str, Decimal]:
    if isinstance(rate, float):
        raise TypeError("exchange rates refuse float")
    problems: list[Problem] = []
    try:
        code = check_currency(code)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    value = Decimal(0)
    try:
        value = Decimal(str(rate).strip())
    except InvalidOperation:
        problems.append(Problem("rate", f"{rate!r} is not a number"))
    else:
        if not value.is_finite() or value <= 0:
            problems.append(Problem("rate", "must be more than 0"))
        elif not problems and code == base.default_currency() and value != 1:
            problems.append(Problem("rate", f"{code} is the default currency: its rate is 1"))
    if problems:
        raise ValidationFailed(problems)
    return code, value


def currency_rate_problems(code: str, rate: Any) -> list[Problem]:
    """What set_currency_rate would refuse, on the fields currency and rate;
    nothing is written."""
    try:
        _currency_rate_values(code, rate)
    except ValidationFailed as exc:
        return list(exc.problems)
    return []


def set_currency_rate(code: str, rate: Any) -> None:
    code, value = _currency_rate_values(code, rate)
    with database.atomic():
        Currency.insert(code=code, rate=str(value)).on_conflict_replace().execute()


def delete_currency(code: str) -> None:
    from billdesk.models import Client

    code = check_currency(code)
    if Client.select().where(Client.currency == code).exists():
        raise Conflict("currency", f"{code} is used by clients; change their currency first")
    with database.atomic():
        Currency.delete().where(Currency.code == code).execute()


# --- the Settings window's Save: every billing change in one transaction

@dataclass(slots=True)
class BillingChanges:
    """What changed in the billing settings, to be written at once. None and
    empty mean unchanged. The ids of added rules are ignored."""

    settings: BillingSettings | None = None
    next_number: int | None = None
    deleted_rules: list[int] = field(default_factory=list)
    updated_rules: list[TaxRuleRecord] = field(default_factory=list)
    added_rules: list[TaxRuleRecord] = field(default_factory=list)
    payment_methods: list[str] | None = None
    removed_currencies: list[str] = field(default_factory=list)
    rates: dict[str, Decimal] = field(default_factory=dict)


@contextmanager
def _refused_as(list_field: str, what: str) -> Iterator[None]:
    """A refusal about one entry of a list, told on the list's field."""
    try:
        yield
    except BilldeskError as exc:
        problems = exc.problems if isinstance(exc, ValidationFailed) else [Problem(exc.field, exc.message)]
        raise ValidationFailed([
            Problem(list_field, f"{what}: {p.message}" if p.field in ("", "currency", "tax_rule")
                    else f"{what}: {p.field.replace('_', ' ')} {p.message}")
            for p in problems]) from exc


def apply_changes(changes: BillingChanges, before: Callable[[], object] | None = None) -> None:
    """Write the changes in one transaction, after ``before`` (the rest of a
    settings save) in the same one: a refusal anywhere writes nothing.
    Refusals name the setting (number_format, late_fee_amount, next_number,
    payment_methods[N]) or the list: tax_rules, currencies."""
    with database.atomic():
        if before is not None:
            before()
        if changes.settings is not None:
            save_billing(changes.settings)
        if changes.next_number is not None:
            set_next_number(changes.next_number)
        for rule_id in changes.deleted_rules:
            with _refused_as("tax_rules", f"Tax rule #{rule_id}"):
                delete_tax_rule(rule_id)
        for rule in changes.updated_rules:
            with _refused_as("tax_rules", f"Tax rule {rule.name!r}"):
                update_tax_rule(rule.id, rule.level, rule.name, rule.rate, rule.country, rule.state)
        for rule in changes.added_rules:
            with _refused_as("tax_rules", f"Tax rule {rule.name!r}"):
                add_tax_rule(rule.level, rule.name, rule.rate, rule.country, rule.state)
        if changes.payment_methods is not None:
            set_payment_methods(changes.payment_methods)
        for code in changes.removed_currencies:
            with _refused_as("currencies", f"Removing {code}"):
                delete_currency(code)
        for code, rate in changes.rates.items():
            with _refused_as("currencies", code):
                set_currency_rate(code, rate)
