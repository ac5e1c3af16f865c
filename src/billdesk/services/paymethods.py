"""A client's stored pay methods (K2): cards and bank accounts.

The full number is only ever in ``number_enc``, encrypted by the vault
(services/vault.py) with the row id and column as associated data. What is
kept in clear is what may be shown: a card's brand, holder, first six and
last four digits and expiry ('YYYY-MM'); an account's holder, bank and last
four. No security code (CVV/CVC) is accepted anywhere: a caller passing one
is refused. A record bound to a remote gateway token holds no number (its
``number_enc`` is NULL) and can only be force-deleted here; an empty
``number_enc`` is a number erased by a vault reset.

Masked form, everywhere: a card is its first six, six ``*`` and its last
four ("411111******1111", whatever the length; a number shorter than 15
digits keeps fewer leading digits in clear, so at least five are never
stored in clear); a record without first digits (a bank account, a token)
is "****" and its last four ("****1234"). ``as_json`` gives the expiry as
"YYYY-MM".

Every write is refused for an archived client, is one transaction and is
logged on the client's change log — never with the number."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import database, now
from billdesk.models.tables import PayMethod
from billdesk.services import changelog, clients, vault

TABLE = "pay_method"
COLUMN = "number_enc"
MASK = "*"
TEXT_LIMIT = 200
SECURITY_CODE_NAMES = frozenset({"cvv", "cvv2", "cvc", "cvc2", "csc", "cid", "cvn", "cav2",
                                 "securitycode", "cardcode", "verificationcode", "cardsecuritycode",
                                 "cardverificationcode", "cardverificationvalue"})
SECURITY_CODE_REFUSAL = "billdesk never stores a card's security code"
_LAST_EXPIRY_YEARS = 30  # an expiry further ahead is a typing mistake


# -- values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayMethodRecord:
    id: int
    client_id: int
    kind: str  # "card" | "bank"
    description: str
    holder: str
    brand: str
    first_six: str
    last_four: str
    expiry: str  # 'YYYY-MM' or ''
    bank_name: str
    gateway: str
    gateway_token: str
    is_default: bool
    has_number: bool  # a number is stored (encrypted); False for a token or an erased number
    expired: bool  # a card whose expiry month has ended (billdesk.clock)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_token(self) -> bool:
        """Bound to a remote gateway token: billdesk holds no number."""
        return bool(self.gateway_token) and not self.has_number

    @property
    def expiry_short(self) -> str:
        """'MM/YY', or ''."""
        return f"{self.expiry[5:7]}/{self.expiry[2:4]}" if self.expiry else ""

    @property
    def masked(self) -> str:
        return masked(self.first_six, self.last_four)

    @property
    def label(self) -> str:
        """"Visa ending 1111, expires 12/27" / "Barclays account ending 1234"."""
        if self.kind == "bank":
            text = f"{self.bank_name or 'Bank'} account ending {self.last_four}"
        else:
            text = f"{self.brand or 'Card'} ending {self.last_four}"
            if self.expiry:
                text += f", {'expired' if self.expired else 'expires'} {self.expiry_short}"
        if self.is_token:
            text += f" (token at {self.gateway})"
        return text

    def as_json(self) -> dict[str, Any]:
        """Never the number, nor the gateway token."""
        return {"id": self.id, "client_id": self.client_id, "kind": self.kind,
                "brand": self.brand, "holder": self.holder, "first_six": self.first_six,
                "last_four": self.last_four, "expiry": self.expiry, "bank_name": self.bank_name,
                "description": self.description, "is_default": self.is_default,
                "gateway": self.gateway, "masked": self.masked, "expired": self.expired,
                "has_number": self.has_number, "label": self.label}


def masked(first_six: str, last_four: str) -> str:
    """The one masked form (see the module docstring)."""
    if not first_six:
        return MASK * 4 + last_four
    return first_six + MASK * 6 + last_four


# -- validation (pure functions) -----------------------------------------------------


def _clean_number(value: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", str(value or "")))


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of digits."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _between(number: str, low: int, high: int) -> bool:
    width = len(str(low))
    return len(number) >= width and low <= int(number[:width]) <= high


def card_brand(number: str) -> str:
    """The brand from the issuer prefix (IIN), else "Card"."""
    n = _clean_number(number)
    if not n.isascii() or not n.isdigit():
        return "Card"
    if n.startswith("4"):
        return "Visa"
    if _between(n, 51, 55) or _between(n, 2221, 2720):
        return "Mastercard"
    if n.startswith(("34", "37")):
        return "American Express"
    if n.startswith("6011") or _between(n, 644, 649) or n.startswith("65"):
        return "Discover"
    if _between(n, 300, 305) or n.startswith(("3095", "36", "38", "39")):
        return "Diners Club"
    if _between(n, 3528, 3589):
        return "JCB"
    if n.startswith("62"):
        return "UnionPay"
    if n.startswith(("50", "56", "57", "58", "639", "67")):
        return "Maestro"
    return "Card"


def card_number_problem(number: str) -> str:
    """'' when ``number`` is a valid card number, else why not (never the
    number itself)."""
    n = _clean_number(number)
    if not n:
        return "is required"
    if not n.isascii() or not n.isdigit():
        return "only digits, spaces and dashes"
    if not 12 <= len(n) <= 19:
        return f"a card number has 12 to 19 digits, not {len(n)}"
    if not luhn_ok(n):
        return "the check digit does not match (Luhn): mistyped?"
    return ""


def parse_expiry(value: str | date, field: str = "expiry") -> str:
    """'MM/YY', 'MM/YYYY', 'YYYY-MM' or a date → 'YYYY-MM' (not checked
    against today)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(field, "is required (MM/YY)")
    match = re.fullmatch(r"(\d{1,2})\s*[/\-.]\s*(\d{2}|\d{4})", text)
    if match:
        month, year = int(match.group(1)), int(match.group(2))
        if len(match.group(2)) == 2:
            year += 2000
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
        if not match:
            raise InvalidInput(field, f"{text!r}: write MM/YY, e.g. 12/27")
        year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidInput(field, f"{text!r}: the month must be 01 to 12")
    return f"{year:04d}-{month:02d}"


def _is_expired(expiry: str, today: date | None = None) -> bool:
    if not expiry:
        return False
    today = today or clock.today()
    return (int(expiry[:4]), int(expiry[5:7])) < (today.year, today.month)


def check_expiry(value: str | date, field: str = "expiry") -> str:
    """A card's expiry as 'YYYY-MM', refused when its month has ended (a
    card is valid to the end of its expiry month) or is absurdly far."""
    expiry = parse_expiry(value, field)
    today = clock.today()
    if _is_expired(expiry, today):
        raise InvalidInput(field, f"the card expired at the end of {expiry[5:7]}/{expiry[:4]}")
    if int(expiry[:4]) > today.year + _LAST_EXPIRY_YEARS:
        raise InvalidInput(field, f"{expiry[5:7]}/{expiry[:4]} is too far ahead: mistyped?")
    return expiry


def _text(value: str | None, field: str, *, required: bool) -> tuple[str, str]:
    """(cleaned text, problem or '')."""
    text = " ".join(str(value or "").split())
    if required and not text:
        return "", "is required"
    if len(text) > TEXT_LIMIT:
        return text, f"is too long (at most {TEXT_LIMIT} characters)"
    return text, ""


def _extra_problems(extra: dict[str, Any]) -> list[Problem]:
    problems = []
    for name in extra:
        squashed = re.sub(r"[^a-z0-9]", "", name.lower())
        if squashed in SECURITY_CODE_NAMES:
            problems.append(Problem(name, SECURITY_CODE_REFUSAL))
        else:
            problems.append(Problem(name, "is not a field of a pay method"))
    return problems


def card_problems(number: str, expiry: str | date, holder: str) -> list[Problem]:
    """Every problem of a card's fields at once (fields card, expiry,
    holder), for a form to show beside each field."""
    problems = []
    if problem := card_number_problem(number):
        problems.append(Problem("card", problem))
    try:
        check_expiry(expiry)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if problem := _text(holder, "holder", required=True)[1]:
        problems.append(Problem("holder", problem))
    return problems


def _iban_ok(account: str) -> bool:
    moved = account[4:] + account[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def clean_account(value: str) -> str:
    """An account number or IBAN, upper-case, without spaces or dashes;
    ``InvalidInput("bank", …)`` when malformed (never echoing it)."""
    account = _clean_number(value).upper()
    if not account:
        raise InvalidInput("bank", "the account number is required")
    if not account.isascii() or not account.isalnum():
        raise InvalidInput("bank", "only letters, digits, spaces and dashes")
    if not 4 <= len(account) <= 34:
        raise InvalidInput("bank", f"an account number has 4 to 34 characters, not {len(account)}")
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", account):
        if len(account) < 15 or not _iban_ok(account):
            raise InvalidInput("bank", "the IBAN's check digits do not match: mistyped?")
    elif not any(ch.isdigit() for ch in account):
        raise InvalidInput("bank", "an account number has digits")
    return account


def bank_problems(account: str, bank_name: str, holder: str) -> list[Problem]:
    """Every problem of a bank account's fields at once (bank, bank_name, holder)."""
    problems = []
    try:
        clean_account(account)
    except InvalidInput as exc:
        problems.append(Problem(exc.field, exc.message))
    if problem := _text(bank_name, "bank_name", required=True)[1]:
        problems.append(Problem("bank_name", problem))
    if problem := _text(holder, "holder", required=True)[1]:
        problems.append(Problem("holder", problem))
    return problems


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


# -- reading -------------------------------------------------------------------------


_HAS_NUMBER = PayMethod.number_enc.is_null(False) & (PayMethod.number_enc != b"")
_COLUMNS = (PayMethod.id, PayMethod.client, PayMethod.kind, PayMethod.description,
            PayMethod.holder, PayMethod.brand, PayMethod.first_six, PayMethod.last_four,
            PayMethod.expiry, PayMethod.bank_name, PayMethod.gateway, PayMethod.gateway_token,
            PayMethod.is_default, _HAS_NUMBER, PayMethod.created_at, PayMethod.updated_at)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _record(row: tuple, today: date | None = None) -> PayMethodRecord:
    kind, expiry = row[2], row[8] or ""
    return PayMethodRecord(
        id=row[0], client_id=row[1], kind=kind, description=row[3], holder=row[4],
        brand=row[5], first_six=row[6], last_four=row[7], expiry=expiry, bank_name=row[9],
        gateway=row[10], gateway_token=row[11], is_default=bool(row[12]),
        has_number=bool(row[13]), expired=kind == "card" and _is_expired(expiry, today),
        created_at=_as_datetime(row[14]), updated_at=_as_datetime(row[15]))


def get(pay_method_id: int) -> PayMethodRecord:
    row = PayMethod.select(*_COLUMNS).where(PayMethod.id == pay_method_id).tuples().first()
    if row is None:
        raise NotFound("pay_method", f"no pay method with id {pay_method_id}")
    return _record(row)


def list_pay_methods(client_id: int) -> list[PayMethodRecord]:
    """The client's pay methods, the default first, then by id."""
    clients.require(client_id)
    today = clock.today()
    rows = (PayMethod.select(*_COLUMNS).where(PayMethod.client == client_id)
            .order_by(PayMethod.is_default.desc(), PayMethod.id).tuples())
    return [_record(row, today) for row in rows]


# -- writing -------------------------------------------------------------------------


def _insert(client_id: int, make_default: bool, **values: Any) -> int:
    """Insert a row (inside the caller's transaction); the client's first
    pay method, or ``make_default``, becomes the default."""
    has_any = PayMethod.select().where(PayMethod.client == client_id).exists()
    default = bool(make_default) or not has_any
    if default:
        PayMethod.update(is_default=False).where(
            (PayMethod.client == client_id) & PayMethod.is_default).execute()
    stamp = now()
    return PayMethod.insert(client=client_id, is_default=default, created_at=stamp,
                            updated_at=stamp, **values).execute()


def _store_number(key: vault.Key, pay_method_id: int, number: str) -> None:
    blob = vault.encrypt(key, number, table=TABLE, row_id=pay_method_id, column=COLUMN)
    PayMethod.update(number_enc=blob).where(PayMethod.id == pay_method_id).execute()


def _default_note(record: PayMethodRecord) -> str:
    return " as the default" if record.is_default else ""


def add_card(client_id: int, *, number: str, expiry: str | date, holder: str, key: vault.Key,
             description: str = "", make_default: bool = False, **extra: Any) -> PayMethodRecord:
    """Store a card: the number encrypted, brand / first six / last four /
    expiry / holder in clear. Refused (nothing written): any other keyword
    (a security code above all), a number failing the length or Luhn check,
    an ended expiry month, no holder."""
    problems = _extra_problems(extra)
    _raise(problems)
    problems = card_problems(number, expiry, holder)
    desc, desc_problem = _text(description, "description", required=False)
    if desc_problem:
        problems.append(Problem("description", desc_problem))
    _raise(problems)
    digits = _clean_number(number)
    month = check_expiry(expiry)
    name = _text(holder, "holder", required=True)[0]
    brand = card_brand(digits)
    shown = max(0, min(6, len(digits) - 4 - 5))  # at least five digits stay hidden
    with database.atomic():
        clients.require_writable(client_id)
        vault.check_key(key)
        # The row needs its id before the number is encrypted (the id is
        # associated data): an empty placeholder, replaced in this transaction.
        new_id = _insert(client_id, make_default, kind="card", description=desc, holder=name,
                         brand=brand, first_six=digits[:shown], last_four=digits[-4:],
                         expiry=month, number_enc=b"")
        _store_number(key, new_id, digits)
        record = get(new_id)
        changelog.record(client_id, f"Card {record.brand} ending {record.last_four} "
                                    f"(expires {record.expiry_short}) added{_default_note(record)}")
    return record


def add_bank(client_id: int, *, account: str, bank_name: str, holder: str, key: vault.Key,
             description: str = "", make_default: bool = False, **extra: Any) -> PayMethodRecord:
    """Store a bank account (an IBAN is checked with its mod-97 digits): the
    number encrypted, holder / bank / last four in clear."""
    _raise(_extra_problems(extra))
    problems = bank_problems(account, bank_name, holder)
    desc, desc_problem = _text(description, "description", required=False)
    if desc_problem:
        problems.append(Problem("description", desc_problem))
    _raise(problems)
    number = clean_account(account)
    bank = _text(bank_name, "bank_name", required=True)[0]
    name = _text(holder, "holder", required=True)[0]
    with database.atomic():
        clients.require_writable(client_id)
        vault.check_key(key)
        new_id = _insert(client_id, make_default, kind="bank", description=desc, holder=name,
                         bank_name=bank, last_four=number[-4:], number_enc=b"")
        _store_number(key, new_id, number)
        record = get(new_id)
        changelog.record(client_id, f"Bank account {record.bank_name} ending {record.last_four} "
                                    f"added{_default_note(record)}")
    return record


def add_token(client_id: int, *, gateway: str, token: str, holder: str, brand: str = "",
              last_four: str, expiry: str | date = "", kind: str = "card",
              make_default: bool = False, description: str = "") -> PayMethodRecord:
    """A record bound to a remote gateway token: no number, no passphrase."""
    problems = []
    if kind not in ("card", "bank"):
        problems.append(Problem("kind", f"{kind!r}: must be card or bank"))
    gateway_name, problem = _text(gateway, "gateway", required=True)
    if problem:
        problems.append(Problem("gateway", problem))
    token_text = str(token or "").strip()
    if not token_text:
        problems.append(Problem("token", "is required"))
    elif len(token_text) > TEXT_LIMIT or any(ch.isspace() for ch in token_text):
        problems.append(Problem("token", f"one word of at most {TEXT_LIMIT} characters"))
    name, problem = _text(holder, "holder", required=True)
    if problem:
        problems.append(Problem("holder", problem))
    last = str(last_four or "").strip()
    if not re.fullmatch(r"\d{4}" if kind == "card" else r"[0-9A-Za-z]{4}", last):
        problems.append(Problem("last_four", "write the last four digits"))
    month = ""
    if str(expiry or "").strip() or isinstance(expiry, date):
        try:
            month = check_expiry(expiry)
        except InvalidInput as exc:
            problems.append(Problem(exc.field, exc.message))
    brand_name, problem = _text(brand, "brand", required=False)
    if problem:
        problems.append(Problem("brand", problem))
    desc, problem = _text(description, "description", required=False)
    if problem:
        problems.append(Problem("description", problem))
    _raise(problems)
    with database.atomic():
        clients.require_writable(client_id)
        new_id = _insert(client_id, make_default, kind=kind, description=desc, holder=name,
                         brand=(brand_name or "Card") if kind == "card" else "",
                         last_four=last.upper(), expiry=month if kind == "card" else "",
                         gateway=gateway_name, gateway_token=token_text, number_enc=None)
        record = get(new_id)
        what = f"Card {record.brand}" if kind == "card" else "Bank account"
        changelog.record(client_id, f"{what} ending {record.last_four} added as a token at "
                                    f"{record.gateway}{_default_note(record)}")
    return record


def revealable(pay_method_id: int) -> PayMethodRecord:
    """The record if it holds a number to reveal (checked before asking for
    the passphrase); refused for a gateway token or an erased number."""
    record = get(pay_method_id)
    if record.is_token:
        raise InvalidInput("pay_method", f"#{record.id} is a gateway token: the number is held "
                                         f"by {record.gateway}")
    if not record.has_number:
        raise InvalidInput("pay_method", f"#{record.id}: its number was erased when the vault "
                                         "was reset")
    return record


def reveal(pay_method_id: int, key: vault.Key) -> str:
    """The full number (a read: nothing is written)."""
    record = revealable(pay_method_id)
    blob = PayMethod.select(PayMethod.number_enc).where(PayMethod.id == pay_method_id).scalar()
    vault.check_key(key)
    return vault.decrypt(key, blob, table=TABLE, row_id=record.id, column=COLUMN)


def set_default(pay_method_id: int) -> PayMethodRecord:
    """Make this the client's default (one transaction: the others cleared)."""
    with database.atomic():
        record = get(pay_method_id)
        clients.require_writable(record.client_id)
        if record.is_default:
            return record
        PayMethod.update(is_default=False).where(
            (PayMethod.client == record.client_id) & PayMethod.is_default).execute()
        PayMethod.update(is_default=True, updated_at=now()).where(
            PayMethod.id == pay_method_id).execute()
        record = get(pay_method_id)
        changelog.record(record.client_id, f"{record.label}: made the default pay method")
    return record


def delete(pay_method_id: int, *, force: bool = False) -> PayMethodRecord:
    """Delete a record; returns it as it was. A gateway-token record is
    refused without ``force`` (billdesk cannot remove the token at the
    gateway; force-deleting removes only this record). When the default
    goes, the client's lowest remaining id becomes the default."""
    with database.atomic():
        record = get(pay_method_id)
        clients.require_writable(record.client_id)
        if record.is_token and not force:
            raise Conflict("pay_method", f"#{record.id} is stored at {record.gateway} as a token: "
                                         "billdesk cannot remove it there; force-delete removes "
                                         "only this record")
        PayMethod.delete().where(PayMethod.id == pay_method_id).execute()
        if record.is_default:
            successor = (PayMethod.select(PayMethod.id).where(PayMethod.client == record.client_id)
                         .order_by(PayMethod.id).limit(1).scalar())
            if successor is not None:
                PayMethod.update(is_default=True, updated_at=now()).where(
                    PayMethod.id == successor).execute()
        how = (f"force-deleted (the token at {record.gateway} is not touched)" if record.is_token
               else "deleted")
        changelog.record(record.client_id, f"{record.label}: {how}")
    return record


def remove_all(client_id: int, *, actor: str | None = None) -> int:
    """Delete every pay method of the client, gateway-token records too
    (anonymize, GDPR); how many. Not refused for an archived client: its
    caller decides. Nothing is run at any gateway."""
    with database.atomic():
        clients.require(client_id)
        count = PayMethod.delete().where(PayMethod.client == client_id).execute()
        if count:
            changelog.record(client_id, f"All stored pay methods deleted ({count})", actor=actor)
    return count
