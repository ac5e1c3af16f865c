"""Business settings kept in the database behind typed accessors.
(QSettings holds only window geometry and view choices.)"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, fields

from billdesk.errors import InvalidInput, Problem, ValidationFailed
from billdesk.models import DISPLAY_FORMATS, Setting, database
from billdesk.money import check_currency
from billdesk.services import validate

DISPLAY_FORMAT_LABELS = {
    "first_last": "First Last",
    "company_or_name": "Company, else First Last",
    "first_last_company": "First Last (Company)",
}


@dataclass(slots=True)
class Company:
    name: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    tax_id: str = ""
    currency: str = "USD"

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        if not self.name.strip():
            found.append(Problem("name", "is required"))
        if self.email.strip():
            found += validate.email_problems(self.email, "email")
        found += validate.country_problems(self.country, "country")
        try:
            check_currency(self.currency)
        except InvalidInput as exc:
            found.append(Problem("currency", exc.message))
        return found


def _get(key: str, default: object = None) -> object:
    row = Setting.get_or_none(Setting.key == key)
    return default if row is None else json.loads(row.value)


def _put(key: str, value: object) -> None:
    Setting.insert(key=key, value=json.dumps(value)).on_conflict_replace().execute()


def has_company() -> bool:
    return Setting.get_or_none(Setting.key == "company") is not None


def company() -> Company:
    stored = _get("company", {}) or {}
    known = {f.name for f in fields(Company)}
    return Company(**{k: v for k, v in stored.items() if k in known})


def save_company(value: Company, logo: bytes | None = None, *, clear_logo: bool = False) -> Company:
    value = Company(**{f.name: (getattr(value, f.name) or "").strip() for f in fields(Company)})
    value.currency = value.currency.upper()
    value.country = value.country.upper()
    problems = value.problems()
    if problems:
        raise ValidationFailed(problems)
    with database.atomic():
        _put("company", asdict(value))
        if logo is not None:
            _put("company_logo", base64.b64encode(logo).decode("ascii"))
        elif clear_logo:
            Setting.delete().where(Setting.key == "company_logo").execute()
    return value


def company_logo() -> bytes | None:
    data = _get("company_logo")
    return base64.b64decode(data) if data else None


def default_currency() -> str:
    return company().currency or "USD"


def display_format() -> str:
    value = _get("display_format", "first_last")
    return value if value in DISPLAY_FORMATS else "first_last"


def set_display_format(value: str) -> bool:
    """Store the display format (C14); re-key the list's name sort when it
    changed. Returns whether it changed."""
    if value not in DISPLAY_FORMATS:
        raise InvalidInput("display_format", f"must be one of {', '.join(DISPLAY_FORMATS)}")
    if value == display_format():
        return False
    from billdesk.services import clients

    with database.atomic():
        _put("display_format", value)
        clients.rebuild_sort_names(value)
    return True
