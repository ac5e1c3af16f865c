"""What a client holds: services, addons and domains (S2, S3, S5, S6, C5).

One table holds the three kinds (``service.kind``); an addon points at its
service or domain (``parent_id``) and goes when its parent is deleted.
Amounts are INTEGER minor units in the client's currency. A due date set
by hand fixes the item's *due day*, the day of month later due dates keep;
all date arithmetic is in ``cycles.py``.

Every write is one transaction and every change is logged in the client's
change log, naming the item. Refused input raises before anything is
written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, fn

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import (
    DOMAIN_STATUSES,
    SERVICE_KINDS,
    SERVICE_STATUSES,
    Client,
    Service,
    ServiceGroup,
    database,
    now,
)
from billdesk.money import Money
from billdesk.services import billing_settings, catalog, changelog, clients, cycles
from billdesk.services.amounts import amount_input, date_input
from billdesk.services.text import counted

KIND_LABELS = {"service": "Service", "addon": "Addon", "domain": "Domain"}
STATUSES = {"service": SERVICE_STATUSES, "addon": SERVICE_STATUSES, "domain": DOMAIN_STATUSES}
DOMAIN_CYCLES = ("free", "onetime", "annually", "biennially", "triennially")
LIMITS = {"name": 200, "label": 200, "notes": 20000}
_CHUNK = 500  # ids per IN (...) query: far below SQLite's variable limit
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


# --------------------------------------------------------------------------- records

@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """One service, addon or domain as the windows and the CLI show it."""

    id: int
    client_id: int
    kind: str
    product_id: int | None
    parent_id: int | None
    name: str
    label: str
    status: str
    cycle: str
    amount: Money
    first_payment: Money
    taxed: bool
    signup_date: dt.date
    next_due: dt.date | None
    due_day: int
    expiry_date: dt.date | None
    payment_method: str
    override_suspend: bool
    group_id: int | None
    group_name: str
    position: int
    notes: str

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def title(self) -> str:
        """How the change log and messages name it: "Web hosting (#4)"."""
        return f"{self.name} (#{self.id})"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "client_id": self.client_id, "kind": self.kind,
            "product_id": self.product_id, "parent_id": self.parent_id, "name": self.name,
            "label": self.label, "status": self.status, "cycle": self.cycle,
            "amount": str(self.amount), "first_payment": str(self.first_payment),
            "taxed": self.taxed, "signup_date": _iso(self.signup_date),
            "next_due": _iso(self.next_due), "expiry_date": _iso(self.expiry_date),
            "payment_method": self.payment_method, "override_suspend": self.override_suspend,
            "group": self.group_name or None, "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class MassUpdateResult:
    """The items that really changed, and the prorata invoice if one was made."""

    updated: list[int] = field(default_factory=list)
    invoice_id: int | None = None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


_COLUMNS = (Service.id, Service.client, Service.kind, Service.product, Service.parent, Service.name,
            Service.label, Service.status, Service.cycle, Service.amount, Service.first_payment,
            Service.taxed, Service.signup_date, Service.next_due, Service.due_day,
            Service.expiry_date, Service.payment_method, Service.override_suspend, Service.group,
            ServiceGroup.name, Service.position, Service.notes, Client.currency)


def _query():
    return (Service.select(*_COLUMNS)
            .join(Client, on=(Service.client == Client.id))
            .switch(Service)
            .join(ServiceGroup, JOIN.LEFT_OUTER, on=(Service.group == ServiceGroup.id)))


def _record(row: tuple) -> ServiceRecord:
    (sid, client_id, kind, product_id, parent_id, name, label, status, cycle, amount, first,
     taxed, signup, due, due_day, expiry, method, override, group_id, group_name, position,
     notes, currency) = row
    return ServiceRecord(
        sid, client_id, kind, product_id, parent_id, name, label, status, cycle,
        Money.from_minor(amount, currency), Money.from_minor(first, currency), bool(taxed),
        _date(signup), _date(due), due_day, _date(expiry), method, bool(override), group_id,
        group_name or "", position, notes)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def get_service(service_id: int) -> ServiceRecord:
    row = _query().where(Service.id == service_id).tuples().first()
    if row is None:
        raise NotFound("id", f"no service, addon or domain #{service_id}")
    return _record(row)


def _check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(kinds)
    for kind in chosen:
        if kind not in SERVICE_KINDS:
            raise InvalidInput("kind", f"{kind!r}: must be one of {', '.join(SERVICE_KINDS)}")
    return chosen


def list_services(client_id: int, kinds: Iterable[str] = ("service",),
                  statuses: Iterable[str] | None = None) -> list[ServiceRecord]:
    """The client's items of these kinds (and statuses; None = all), by id."""
    chosen = _check_kinds(kinds)
    _client_currency(client_id)
    query = _query().where(Service.client == client_id, Service.kind.in_(chosen))
    if statuses is not None:
        query = query.where(Service.status.in_(tuple(statuses)))
    return [_record(row) for row in query.order_by(Service.id).tuples()]


def counts(client_id: int) -> dict[str, dict[str, int]]:
    """Active and total per kind, every kind present (the Summary tab, C4)."""
    _client_currency(client_id)
    found = {kind: {"active": 0, "total": 0} for kind in SERVICE_KINDS}
    rows = (Service.select(Service.kind, fn.SUM(Service.status == "Active"), fn.COUNT(Service.id))
            .where(Service.client == client_id).group_by(Service.kind).tuples())
    for kind, active, total in rows:
        found[kind] = {"active": int(active or 0), "total": int(total)}
    return found


def _load(ids: Sequence[int]) -> list[ServiceRecord]:
    """The records of ``ids`` (in that order); NotFound names the first
    unknown id."""
    found: dict[int, ServiceRecord] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for row in _query().where(Service.id.in_(chunk)).tuples():
            found[row[0]] = _record(row)
    for sid in ids:
        if sid not in found:
            raise NotFound("id", f"no service, addon or domain #{sid}")
    return [found[sid] for sid in ids]


def _check_ids(ids: Iterable[Any]) -> list[int]:
    chosen: list[int] = []
    seen: set[int] = set()
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("ids", f"{value!r} is not an id")
        if value not in seen:
            seen.add(value)
            chosen.append(value)
    if not chosen:
        raise InvalidInput("ids", "select at least one service, addon or domain")
    return chosen


def _one_client(records: list[ServiceRecord]) -> int:
    clients = {r.client_id for r in records}
    if len(clients) > 1:
        raise Conflict("ids", "the selected items belong to more than one client: "
                              f"#{', #'.join(str(c) for c in sorted(clients))}")
    return records[0].client_id


# --------------------------------------------------------------------------- checking values

def _client_currency(client_id: int) -> str:
    return clients.client_currency(client_id)


def check_status(value: Any, kind: str, field_name: str = "status", item: str = "") -> str:
    """The spec's spelling of a status for this kind (case does not matter);
    ``item`` names the item in the refusal."""
    text = str(value or "").strip()
    for known in STATUSES[kind]:
        if known.casefold() == text.casefold():
            return known
    where = f" ({item} is a {kind})" if item else ""
    raise InvalidInput(field_name, f"{text!r} is not a {kind} status{where}: use "
                                   f"{', '.join(STATUSES[kind])}")


def _check_cycle(value: Any, kind: str) -> str:
    cycle = cycles.check_cycle(value)
    if kind == "domain" and cycle not in DOMAIN_CYCLES:
        raise InvalidInput("cycle", f"a domain is registered for {', '.join(DOMAIN_CYCLES)}, "
                                    f"not {cycle}")
    return cycle


def check_domain_name(value: Any) -> str:
    """A domain name, lower-cased: labels of letters, digits and hyphens
    (not at either end), at least one dot. International names are written
    in their xn-- form."""
    text = str(value or "").strip().lower().rstrip(".")
    if not text:
        raise InvalidInput("name", "is required")
    if "." not in text:
        raise InvalidInput("name", f"{text!r} is not a domain name (e.g. example.com)")
    if len(text) > 253 or not all(_DOMAIN_LABEL.fullmatch(part) for part in text.split(".")):
        raise InvalidInput("name", f"{text!r} is not a domain name: labels of letters, digits "
                                   "and hyphens, 63 characters at most, joined by dots")
    if text.split(".")[-1].isdigit():
        raise InvalidInput("name", f"{text!r} is not a domain name (the last label is a number)")
    return text


def _text(value: Any, field_name: str, *, required: bool = False) -> str:
    text = "" if value is None else str(value)
    text = text.rstrip() if field_name == "notes" else text.strip()
    if required and not text:
        raise InvalidInput(field_name, "is required")
    if len(text) > LIMITS[field_name]:
        raise InvalidInput(field_name, f"is longer than {LIMITS[field_name]} characters")
    return text


def _flag(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field_name, "must be yes or no")
    return value


def _group_of_client(group_id: Any, client_id: int) -> int | None:
    if group_id is None:
        return None
    if isinstance(group_id, bool) or not isinstance(group_id, int):
        raise InvalidInput("group_id", f"{group_id!r} is not an id")
    owner = ServiceGroup.select(ServiceGroup.client).where(ServiceGroup.id == group_id).scalar()
    if owner is None:
        raise NotFound("group_id", f"no service group #{group_id}")
    if owner != client_id:
        raise Conflict("group_id", f"service group #{group_id} belongs to another client")
    return group_id


def _end_of_group(group_id: int | None) -> int:
    if group_id is None:
        return 0
    last = (Service.select(fn.MAX(Service.position)).where(Service.group == group_id).scalar())
    return (last or 0) + 1


# --------------------------------------------------------------------------- the catalogue

def _product(value: Any) -> tuple[int, str, bool]:
    """(id, name, taxed) of a product named by id or by name."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput("product", f"{value!r} is not a product")
    found = (catalog.get_product(value) if isinstance(value, int)
             else catalog.find_product(str(value)))
    return found.id, found.name, bool(found.taxed)


def _price(product_id: int, currency: str, cycle: str) -> Money | None:
    found = catalog.price_for(product_id, currency, cycle)
    return found[0] if found else None


# --------------------------------------------------------------------------- adding

def _billing(cycle: str, amount: Any, currency: str, *, next_due: Any, signup: dt.date,
             default_amount: Money | None, what: str) -> tuple[Money, dt.date | None]:
    """The recurring amount and first due date of a new item."""
    if cycle == "free":
        money = (Money.zero(currency) if amount is None
                 else amount_input(amount, currency, "amount", zero_ok=True))
        if money:
            raise InvalidInput("amount", "a free item costs nothing: leave the amount at 0")
        if next_due is not None:
            raise InvalidInput("next_due", "a free item has no due date")
        return money, None
    if amount is not None:
        money = amount_input(amount, currency, "amount", zero_ok=True)
    elif default_amount is not None:
        money = default_amount
    else:
        raise InvalidInput("amount", f"is required: {what} has no {cycles.CYCLE_LABELS[cycle].lower()}"
                                     f" price in {currency}; give an amount")
    if next_due is not None:
        return money, date_input(next_due, "next_due")
    return money, signup if cycles.is_recurring(cycle) else None


def _insert(client_id: int, kind: str, *, product_id: int | None, parent_id: int | None,
            name: str, label: str, status: str, cycle: str, amount: Money, first_payment: Any,
            taxed: bool, signup: dt.date, next_due: dt.date | None, expiry: dt.date | None,
            payment_method: str | None, override_suspend: bool, group_id: int | None, notes: str,
            actor: str | None) -> int:
    """Check what is left and write one item with its log entry (inside
    the caller's transaction)."""
    currency = amount.currency
    first = (amount if first_payment is None
             else amount_input(first_payment, currency, "first_payment", zero_ok=True))
    if payment_method is None:
        method = Client.select(Client.payment_method).where(Client.id == client_id).scalar() or ""
    else:
        method = billing_settings.check_payment_method(payment_method, "payment_method")
    group_id = _group_of_client(group_id, client_id)
    stamp = now()
    service_id = Service.insert(
        client=client_id, kind=kind, product=product_id, parent=parent_id, name=name, label=label,
        status=status, cycle=cycle, amount=amount, first_payment=first, taxed=taxed,
        signup_date=signup, next_due=next_due, due_day=next_due.day if next_due else signup.day,
        expiry_date=expiry, payment_method=method,
        override_suspend=_flag(override_suspend, "override_suspend"), group=group_id,
        position=_end_of_group(group_id), notes=notes, created_at=stamp, updated_at=stamp,
    ).execute()
    price = "free" if cycle == "free" else f"{amount} {currency} {cycles.CYCLE_LABELS[cycle].lower()}"
    due = f", next due {next_due.isoformat()}" if next_due else ""
    changelog.record(client_id, f"{KIND_LABELS[kind]} {name} (#{service_id}) added: {price}{due}",
                     actor=actor)
    return service_id


def add_service(client_id: int, *, product: int | str | None = None, name: str | None = None,
                label: str = "", amount: Any = None, first_payment: Any = None, cycle: str,
                next_due: Any = None, signup_date: Any = None, status: str = "Active",
                payment_method: str | None = None, taxed: bool | None = None,
                group_id: int | None = None, notes: str = "", override_suspend: bool = False,
                actor: str | None = None) -> int:
    """A new service (S2). Without an amount it takes the product's price
    for the cycle in the client's currency; a free cycle costs 0. The name
    and taxed flag default to the product's, the payment method to the
    client's default, the next due date to the signup date (today by
    default) for recurring cycles, the first payment to the amount."""
    with database.atomic():
        currency = _client_currency(client_id)
        clients.check_writable(client_id)  # C11: an archived client is read-only
        cycle = cycles.check_cycle(cycle)
        status = check_status(status, "service")
        product_id, product_name, product_taxed = (None, "", False)
        if product is not None:
            product_id, product_name, product_taxed = _product(product)
        name = _text(name if name is not None else product_name, "name", required=True)
        signup = date_input(signup_date, "signup_date") if signup_date is not None else dt.date.today()
        default = _price(product_id, currency, cycle) if product_id is not None else None
        money, due = _billing(cycle, amount, currency, next_due=next_due, signup=signup,
                              default_amount=default,
                              what=f"product {product_name!r}" if product_id else "the service")
        return _insert(
            client_id, "service", product_id=product_id, parent_id=None, name=name,
            label=_text(label, "label"), status=status, cycle=cycle, amount=money,
            first_payment=first_payment,
            taxed=product_taxed if taxed is None else _flag(taxed, "taxed"), signup=signup,
            next_due=due, expiry=None, payment_method=payment_method,
            override_suspend=override_suspend, group_id=group_id, notes=_text(notes, "notes"),
            actor=actor)


def add_addon(client_id: int, parent_id: int, *, name: str | None = None,
              product: int | str | None = None, amount: Any = None, cycle: str,
              next_due: Any = None, first_payment: Any = None, signup_date: Any = None,
              status: str = "Active", payment_method: str | None = None, taxed: bool | None = None,
              expiry_date: Any = None, notes: str = "", override_suspend: bool = False,
              actor: str | None = None) -> int:
    """An addon on one of the client's services or domains (S3); the same
    defaults as ``add_service``."""
    with database.atomic():
        currency = _client_currency(client_id)
        clients.check_writable(client_id)  # C11: an archived client is read-only
        parent = Service.select(Service.client, Service.kind).where(Service.id == parent_id).tuples().first()
        if parent is None:
            raise NotFound("parent_id", f"no service or domain #{parent_id}")
        if parent[0] != client_id:
            raise Conflict("parent_id", f"#{parent_id} belongs to another client")
        if parent[1] == "addon":
            raise InvalidInput("parent_id", f"#{parent_id} is an addon: an addon goes on a service "
                                            "or a domain")
        cycle = cycles.check_cycle(cycle)
        status = check_status(status, "addon")
        product_id, product_name, product_taxed = (None, "", False)
        if product is not None:
            product_id, product_name, product_taxed = _product(product)
        name = _text(name if name is not None else product_name, "name", required=True)
        signup = date_input(signup_date, "signup_date") if signup_date is not None else dt.date.today()
        default = _price(product_id, currency, cycle) if product_id is not None else None
        money, due = _billing(cycle, amount, currency, next_due=next_due, signup=signup,
                              default_amount=default,
                              what=f"product {product_name!r}" if product_id else "the addon")
        expiry = date_input(expiry_date, "expiry_date") if expiry_date is not None else None
        return _insert(
            client_id, "addon", product_id=product_id, parent_id=parent_id, name=name, label="",
            status=status, cycle=cycle, amount=money, first_payment=first_payment,
            taxed=product_taxed if taxed is None else _flag(taxed, "taxed"), signup=signup,
            next_due=due, expiry=expiry, payment_method=payment_method,
            override_suspend=override_suspend, group_id=None, notes=_text(notes, "notes"),
            actor=actor)


def add_domain(client_id: int, name: str, *, amount: Any, cycle: str = "annually",
               next_due: Any = None, registration_date: Any = None, expiry_date: Any = None,
               status: str = "Active", payment_method: str | None = None, taxed: bool = False,
               first_payment: Any = None, notes: str = "", actor: str | None = None) -> int:
    """A domain (registered for one to three years, or free / one time).
    The registration date is the signup date (today by default); the next
    due date defaults to it."""
    with database.atomic():
        currency = _client_currency(client_id)
        clients.check_writable(client_id)  # C11: an archived client is read-only
        domain = check_domain_name(name)
        cycle = _check_cycle(cycle, "domain")
        status = check_status(status, "domain")
        signup = (date_input(registration_date, "registration_date")
                  if registration_date is not None else dt.date.today())
        money, due = _billing(cycle, amount, currency, next_due=next_due, signup=signup,
                              default_amount=None, what="the domain")
        expiry = date_input(expiry_date, "expiry_date") if expiry_date is not None else None
        return _insert(
            client_id, "domain", product_id=None, parent_id=None, name=domain, label="",
            status=status, cycle=cycle, amount=money, first_payment=first_payment,
            taxed=_flag(taxed, "taxed"), signup=signup, next_due=due, expiry=expiry,
            payment_method=payment_method, override_suspend=False, group_id=None,
            notes=_text(notes, "notes"), actor=actor)


# --------------------------------------------------------------------------- editing

_WHAT = {
    "status": "status", "payment_method": "payment method",
    "override_suspend": "override auto-suspend", "amount": "recurring amount",
    "cycle": "billing cycle", "next_due": "next due date", "name": "name", "label": "label",
    "notes": "notes", "taxed": "taxed", "expiry_date": "expiry date", "group_id": "service group",
    "due_day": "due day",  # logged alone only: a new next due date says it already
}


def _shown(key: str, value: Any, groups: dict[int, str]) -> str:
    """A value as the change log shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.isoformat()
    if key == "cycle":
        return cycles.CYCLE_LABELS[value]
    if key == "group_id":
        return groups.get(value, f"#{value}")
    return str(value)


def _requested(currency: str, values: dict[str, Any]) -> dict[str, Any]:
    """The asked-for changes, each checked once (not yet per item)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "payment_method":
            out[key] = billing_settings.check_payment_method(value or "", "payment_method")
        elif key in ("override_suspend", "taxed"):
            out[key] = _flag(value, key)
        elif key == "amount":
            out[key] = amount_input(value, currency, "amount", zero_ok=True)
        elif key == "cycle":
            out[key] = cycles.check_cycle(value)
        elif key in ("next_due", "expiry_date"):
            out[key] = date_input(value, key)
        elif key in ("label", "notes"):
            out[key] = _text(value, key)
        else:  # status, name (per kind), group_id (per client): checked per item
            out[key] = value
    return out


def _plan(rec: ServiceRecord, asked: dict[str, Any], client_id: int) -> dict[str, Any]:
    """The item's new values (only those that differ from now)."""
    new: dict[str, Any] = {}
    if "status" in asked:
        new["status"] = check_status(asked["status"], rec.kind, item=rec.title)
    if "name" in asked:
        new["name"] = (check_domain_name(asked["name"]) if rec.kind == "domain"
                       else _text(asked["name"], "name", required=True))
    for key in ("payment_method", "override_suspend", "taxed", "label", "notes", "expiry_date"):
        if key in asked:
            new[key] = asked[key]
    if "group_id" in asked:
        new["group_id"] = _group_of_client(asked["group_id"], client_id)
    cycle = rec.cycle
    if "cycle" in asked:
        cycle = asked["cycle"]
        if rec.kind == "domain" and cycle not in DOMAIN_CYCLES:
            raise InvalidInput("cycle", f"{rec.title} is a domain: it is registered for "
                                        f"{', '.join(DOMAIN_CYCLES)}, not {cycle}")
        new["cycle"] = cycle
    amount = asked.get("amount", Money.zero(rec.currency) if cycle == "free" else rec.amount)
    if cycle == "free" and amount:
        raise InvalidInput("amount", f"{rec.title} would be free: a free item costs nothing")
    new["amount"] = amount
    if "next_due" in asked:
        if cycle == "free":
            raise InvalidInput("next_due", f"{rec.title} is free: it has no due date")
        new["next_due"] = asked["next_due"]
        new["due_day"] = asked["next_due"].day
        if asked["next_due"] != rec.next_due:
            _check_not_paid_for(rec, asked["next_due"], cycle)
    elif cycle == "free":
        new["next_due"] = None
    elif cycles.is_recurring(cycle) and rec.next_due is None:
        raise InvalidInput("next_due", f"{rec.title} needs a next due date for a "
                                       f"{cycles.CYCLE_LABELS[cycle].lower()} cycle")
    current = {"status": rec.status, "name": rec.name, "payment_method": rec.payment_method,
               "override_suspend": rec.override_suspend, "taxed": rec.taxed, "label": rec.label,
               "notes": rec.notes, "expiry_date": rec.expiry_date, "group_id": rec.group_id,
               "cycle": rec.cycle, "amount": rec.amount, "next_due": rec.next_due,
               "due_day": rec.due_day}
    return {k: v for k, v in new.items() if v != current[k]}


_PAID_FOR_SQL = """
SELECT i.number, i.id FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
 WHERE l.link_id = ? AND l.due_date = ? AND i.status IN ('Paid', 'Refunded')
"""


def _check_not_paid_for(rec: ServiceRecord, due: dt.date, cycle: str) -> None:
    """A next due date whose renewal is already paid would never be billed
    nor move on again: refused, naming the invoice and the date after it."""
    row = database.execute_sql(_PAID_FOR_SQL, (rec.id, due.isoformat())).fetchone()
    if row is None:
        return
    after = (f"; the next due date after it is {cycles.next_due(due, cycle, due.day).isoformat()}"
             if cycles.is_recurring(cycle) else "")
    raise InvalidInput("next_due", f"{rec.title} is already paid for {due.isoformat()} "
                                   f"(invoice {row[0] or '#' + str(row[1])}){after}")


def _update(ids: Iterable[Any], values: dict[str, Any], *, prorata: bool, actor: str | None,
            message: str) -> MassUpdateResult:
    chosen = _check_ids(ids)
    if prorata and "next_due" not in values:
        raise InvalidInput("prorata", "needs a new next due date")
    actor = actor or changelog.current_actor()
    with database.atomic():
        records = _load(chosen)
        client_id = _one_client(records)
        clients.check_writable(client_id)
        asked = _requested(records[0].currency, values)
        plans = [(rec, _plan(rec, asked, client_id)) for rec in records]
        groups = dict(ServiceGroup.select(ServiceGroup.id, ServiceGroup.name)
                      .where(ServiceGroup.client == client_id).tuples())  # names for the log
        stamp = now()
        updated: list[int] = []
        moved: list[tuple[int, dt.date, dt.date, int]] = []  # id, old due, new due, old due day
        log: list[dict[str, Any]] = []
        for rec, plan in plans:
            if not plan:
                continue
            row = {("group" if k == "group_id" else k): v for k, v in plan.items()}
            if "group_id" in plan:
                row["position"] = _end_of_group(plan["group_id"])
            row["updated_at"] = stamp
            if "status" in plan:  # set by hand: no longer the run's to undo on payment
                row["suspend_reason"] = ""
            Service.update(**row).where(Service.id == rec.id).execute()
            updated.append(rec.id)
            for key in _WHAT:
                if key not in plan or (key == "due_day" and "next_due" in plan):
                    continue
                old, new = getattr(rec, key), plan[key]
                log.append({"client": client_id, "at": stamp, "actor": actor, "message": message,
                            "field": f"{rec.title} {_WHAT[key]}", "reason": "",
                            "old_value": _shown(key, old, groups),
                            "new_value": _shown(key, new, groups)})
            new_due = plan.get("next_due")
            if (prorata and new_due is not None and rec.next_due is not None
                    and cycles.is_recurring(plan.get("cycle", rec.cycle))):
                moved.append((rec.id, rec.next_due, new_due, rec.due_day))
        changelog.record_many(log)
        invoice_id = None
        if moved:
            from billdesk.services import billing_run

            invoice_id = billing_run.prorata_invoice(client_id, moved, actor=actor)
    return MassUpdateResult(updated, invoice_id)


def edit_service(service_id: int, *, status: str | None = None, amount: Any = None,
                 cycle: str | None = None, next_due: Any = None,
                 payment_method: str | None = None, override_suspend: bool | None = None,
                 name: str | None = None, label: str | None = None, notes: str | None = None,
                 taxed: bool | None = None, expiry_date: Any = None, group_id: Any = ...,
                 prorata: bool = False, actor: str | None = None) -> MassUpdateResult:
    """Change one service, addon or domain: the fields given (None, and
    ``...`` for the group, leave a field as it is; ``group_id=None``
    ungroups). With ``prorata`` and a new next due date, the days between
    the old and the new date are invoiced (S5)."""
    if isinstance(service_id, bool) or not isinstance(service_id, int):
        raise InvalidInput("id", f"{service_id!r} is not an id")
    get_service(service_id)
    values = {k: v for k, v in (
        ("status", status), ("amount", amount), ("cycle", cycle), ("next_due", next_due),
        ("payment_method", payment_method), ("override_suspend", override_suspend),
        ("name", name), ("label", label), ("notes", notes), ("taxed", taxed),
        ("expiry_date", expiry_date)) if v is not None}
    if group_id is not ...:
        values["group_id"] = group_id
    return _update([service_id], values, prorata=prorata, actor=actor, message="")


def mass_update(ids: Iterable[int], *, status: str | None = None,
                payment_method: str | None = None, override_suspend: bool | None = None,
                amount: Any = None, cycle: str | None = None, next_due: Any = None,
                prorata: bool = False, actor: str | None = None) -> MassUpdateResult:
    """S5: the same changes to several items of ONE client, in one
    transaction; fields left None stay as they are. A status must suit
    every selected kind. With ``prorata`` and a new next due date, one
    invoice bills the days between each item's old and new due date
    (none when the total is not positive)."""
    values = {k: v for k, v in (
        ("status", status), ("payment_method", payment_method),
        ("override_suspend", override_suspend), ("amount", amount), ("cycle", cycle),
        ("next_due", next_due)) if v is not None}
    return _update(ids, values, prorata=prorata, actor=actor, message="Mass update")


def delete_services(ids: Iterable[int], *, actor: str | None = None) -> int:
    """Delete the items (records only: invoices keep their lines); addons of
    a deleted service or domain go with it. Returns how many records went."""
    chosen = _check_ids(ids)
    actor = actor or changelog.current_actor()
    with database.atomic():
        records = _load(chosen)
        client_id = _one_client(records)
        clients.check_writable(client_id)
        gone = list(records)
        selected = set(chosen)
        parents = [r.id for r in records if r.kind != "addon"]
        for start in range(0, len(parents), _CHUNK):
            rows = _query().where(Service.parent.in_(parents[start:start + _CHUNK])).tuples()
            gone += [_record(row) for row in rows if row[0] not in selected]
        for start in range(0, len(chosen), _CHUNK):
            Service.delete().where(Service.id.in_(chosen[start:start + _CHUNK])).execute()
        stamp = now()
        changelog.record_many([
            {"client": client_id, "at": stamp, "actor": actor, "field": "", "old_value": "",
             "new_value": "", "reason": "",
             "message": f"{KIND_LABELS[r.kind]} {r.title} deleted"
                        + (f" with its parent #{r.parent_id}" if r.id not in selected else "")}
            for r in gone])
    return len(gone)


# --------------------------------------------------------------------------- C5

def apply_client_payment_method(client_id: int, method: str, *, actor: str | None = None) -> int:
    """Every service, addon and domain of the client takes this payment
    method (the client's default changed, C5). Returns how many changed."""
    method = billing_settings.check_payment_method(method or "", "payment_method")
    with database.atomic():
        _client_currency(client_id)
        clients.check_writable(client_id)
        changed = (Service.update(payment_method=method, updated_at=now())
                   .where(Service.client == client_id, Service.payment_method != method).execute())
        if changed:
            items = counted(changed, "service, addon or domain", "services, addons and domains")
            changelog.record(client_id, f"Payment method of {items} "
                                        f"set to {method or '(none)'}", actor=actor)
    return changed


# --------------------------------------------------------------------------- S6

_status_filters: dict[str, frozenset[str]] = {}


def status_filter(kind: str) -> frozenset[str] | None:
    """The statuses the lists of this kind show (None: all). Remembered
    while the program runs, never stored (S6)."""
    _check_kinds([kind])
    return _status_filters.get(kind)


def set_status_filter(kind: str, statuses: Iterable[str] | None) -> frozenset[str] | None:
    """Remember which statuses the lists of this kind show (None: all)."""
    _check_kinds([kind])
    if statuses is None:
        _status_filters.pop(kind, None)
        return None
    chosen = frozenset(check_status(s, kind) for s in statuses)
    _status_filters[kind] = chosen
    return chosen
