"""Clients (C1, C5, C13, C14): add, edit, read, with every change logged.

Values travel as plain dicts keyed by column name (``group_id`` and
``billing_contact_id`` for the links). ``problems()`` is the one validation
rule set: the Profile form calls it as you type, the services call it
before every write, and the CLI gets the same messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import ACCOUNT_TYPES, CLIENT_STATUSES, Client, ClientGroup, Contact, database, now
from billdesk.money import check_currency
from billdesk.services import changelog, settings, text, validate

TEXT_FIELDS = ("first_name", "last_name", "company", "email", "phone", "address1", "address2",
               "city", "state", "postcode", "country", "tax_id", "account_type", "currency",
               "language", "status", "notes", "payment_method")
BOOL_FIELDS = ("tax_exempt", "auto_cc", "overdue_notices", "late_fees", "separate_invoices",
               "two_factor")
LINK_FIELDS = ("group_id", "billing_contact_id")
# Per-client automation overrides (C6): None follows the global setting.
OVERRIDE_SWITCHES = ("auto_suspend", "auto_terminate", "payment_reminders", "auto_status")
OVERRIDE_DAYS = ("suspend_days", "terminate_days")
OVERRIDE_FIELDS = ("auto_suspend", "suspend_days", "auto_terminate", "terminate_days",
                   "payment_reminders", "auto_status")
EDITABLE = TEXT_FIELDS + BOOL_FIELDS + LINK_FIELDS + OVERRIDE_FIELDS

LABELS = {
    "first_name": "First name", "last_name": "Last name", "company": "Company",
    "email": "Email", "phone": "Phone", "address1": "Address 1", "address2": "Address 2",
    "city": "City", "state": "State/Region", "postcode": "Postcode", "country": "Country",
    "tax_id": "Tax ID", "account_type": "Account type", "currency": "Currency",
    "language": "Language", "status": "Status", "notes": "Admin notes",
    "tax_exempt": "Tax exempt", "auto_cc": "Auto card processing",
    "overdue_notices": "Send overdue reminders", "late_fees": "Apply late fees",
    "separate_invoices": "Separate invoices", "two_factor": "Two-factor authentication",
    "group_id": "Group", "billing_contact_id": "Default billing contact",
    "payment_method": "Default payment method",
    # as services/automation.py names them in the change log
    "auto_suspend": "Automation: suspend overdue services",
    "suspend_days": "Automation: suspend after days",
    "auto_terminate": "Automation: terminate overdue services",
    "terminate_days": "Automation: terminate after days",
    "payment_reminders": "Automation: payment reminders",
    "auto_status": "Automation: automatic status",
}
LIMITS = {"notes": 20000, "email": 254}
DEFAULT_LIMIT = 200


def display_name(first: str, last: str, company: str, fmt: str) -> str:
    """The client's name as the C14 setting says."""
    name = f"{first} {last}".strip()
    if fmt == "company_or_name" and company:
        return company
    if fmt == "first_last_company" and company:
        return f"{name} ({company})"
    return name


def index_values(values: dict[str, Any], fmt: str) -> dict[str, str]:
    """The hidden columns that sorting and search read."""
    first, last, company = values["first_name"], values["last_name"], values.get("company", "")
    email, phone = values["email"], values.get("phone", "")
    return {
        "sort_name": text.sort_key(display_name(first, last, company, fmt)),
        "company_key": text.sort_key(company),
        "email_key": email.strip().casefold(),
        "phone_key": text.digits(phone),
        "search_text": _search_text(values.get("id"), first, last, company, email, phone),
        "search_words": text.search_words(first, last, company, email, _phone_groups(phone),
                                          str(values.get("id") or "")),
    }


def _search_text(client_id: int | None, first: str, last: str, company: str, email: str,
                 phone: str) -> str:
    return text.search_text(f"{first} {last}", f"{last} {first}", company, email, phone,
                            str(client_id or ""))


def group_key(group_id: int | None) -> str:
    """What the list sorts a client's group by: its name, folded."""
    if group_id is None:
        return ""
    name = ClientGroup.select(ClientGroup.name).where(ClientGroup.id == group_id).scalar()
    return text.sort_key(name or "")


def _phone_groups(phone: str) -> str:
    return " ".join(part for part in text.words(phone))


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    """Trim text, upper-case codes; unknown keys are refused."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE:
            raise InvalidInput(key, "is not a client field")
        if key in TEXT_FIELDS:
            value = "" if value is None else str(value)
            value = value.strip() if key != "notes" else value.rstrip()
            if key in ("country", "currency"):
                value = value.upper()
            elif key == "language":
                value = value.lower()
        elif key in BOOL_FIELDS:
            if not isinstance(value, bool):
                raise InvalidInput(key, "must be yes or no")
        elif key in LINK_FIELDS:
            if value in ("", 0):
                value = None
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput(key, "must be an id")
        elif key in OVERRIDE_SWITCHES:
            if value is not None and not isinstance(value, bool):
                raise InvalidInput(key, "must be yes, no or the global setting")
        elif key in OVERRIDE_DAYS:
            if value == "":
                value = None
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput(key, "must be a whole number of days")
        out[key] = value
    return out


def defaults() -> dict[str, Any]:
    """A new client's values before the user types anything."""
    return {
        "first_name": "", "last_name": "", "company": "", "email": "", "phone": "",
        "address1": "", "address2": "", "city": "", "state": "", "postcode": "",
        "country": settings.company().country, "tax_id": "", "account_type": "private",
        "currency": settings.default_currency(), "language": "en", "status": "Active",
        "notes": "", "tax_exempt": False, "auto_cc": True, "overdue_notices": True,
        "late_fees": True, "separate_invoices": False, "two_factor": False,
        "group_id": None, "billing_contact_id": None, "payment_method": "",
        **dict.fromkeys(OVERRIDE_FIELDS),
    }


def problems(values: dict[str, Any], client_id: int | None = None) -> list[Problem]:
    """Every problem with a client's values (pure checks, then the few that
    read the database: email taken, group and billing contact exist)."""
    found: list[Problem] = []
    found += validate.required(values.get("first_name", ""), "first_name")
    found += validate.required(values.get("last_name", ""), "last_name")
    found += validate.email_problems(values.get("email", ""), "email")
    found += validate.phone_problems(values.get("phone", ""), "phone")
    found += validate.country_problems(values.get("country", ""), "country")
    if values.get("language", "en") != "":
        found += validate.language_problems(values.get("language", "en"), "language")
    else:
        found.append(Problem("language", "is required"))
    if values.get("account_type", "private") not in ACCOUNT_TYPES:
        found.append(Problem("account_type", f"must be one of {', '.join(ACCOUNT_TYPES)}"))
    if values.get("status", "Active") not in CLIENT_STATUSES:
        found.append(Problem("status", f"must be one of {', '.join(CLIENT_STATUSES)}"))
    if any(values.get(key) is not None for key in OVERRIDE_FIELDS):
        from billdesk.services.automation import ClientOverrides

        found += ClientOverrides(**{key: values.get(key) for key in OVERRIDE_FIELDS}).problems()
    try:
        check_currency(values.get("currency", ""))
    except InvalidInput as exc:
        found.append(Problem("currency", exc.message))
    for key in TEXT_FIELDS:
        found += validate.max_length(values.get(key, ""), key, LIMITS.get(key, DEFAULT_LIMIT))
    method = values.get("payment_method", "")
    if method:
        from billdesk.services import billing_settings

        known = billing_settings.payment_methods()
        if method not in known:
            found.append(Problem("payment_method", f"{method!r} is not a payment method (known: "
                                                   f"{', '.join(known) or 'none'})"))

    email_ok = not any(p.field == "email" for p in found)
    if email_ok:
        other = email_owner(values["email"])
        if other is not None and other != client_id:
            found.append(Problem("email", f"{values['email']!r} is already used by client #{other}"))
    group_id = values.get("group_id")
    if group_id is not None and not ClientGroup.select().where(ClientGroup.id == group_id).exists():
        found.append(Problem("group_id", f"no group with id {group_id}"))
    contact_id = values.get("billing_contact_id")
    if contact_id is not None:
        owner = Contact.select(Contact.client).where(Contact.id == contact_id).scalar()
        if owner is None or owner != client_id:
            found.append(Problem("billing_contact_id", f"contact {contact_id} is not this client's"))
    return found


def email_owner(email: str) -> int | None:
    return (Client.select(Client.id)
            .where(Client.email_key == email.strip().casefold()).scalar())


def _check(values: dict[str, Any], client_id: int | None) -> None:
    found = problems(values, client_id)
    if found:
        raise ValidationFailed(found)


def add_client(values: dict[str, Any], *, welcome: bool = False, actor: str | None = None) -> int:
    """Create a client (C1) and log it; returns the new id. ``welcome``
    queues the welcome email with it (E1)."""
    merged = defaults()
    merged.update(normalise(values))
    if merged["two_factor"]:
        raise InvalidInput("two_factor", "is turned on by the client, not when adding them")
    if merged["billing_contact_id"] is not None:
        raise InvalidInput("billing_contact_id", "a new client has no contacts yet")
    stamp = now()
    with database.atomic():
        _check(merged, None)  # inside the transaction: the email is still free when written
        # The id is part of the search text and of the name order: take it now.
        client_id = (database.obj.execute_sql("SELECT max(id) FROM client").fetchone()[0] or 0) + 1
        merged["id"] = client_id
        index = index_values(merged, settings.display_format())
        row = {k: merged[k] for k in EDITABLE}
        row.update(id=client_id, created_at=stamp, updated_at=stamp,
                   group_key=group_key(merged["group_id"]),
                   name_rank=place_in_name_order(index["sort_name"], client_id), **index)
        Client.insert(**_columns(row)).execute()
        changelog.record(client_id, "Client created", actor=actor)
        if welcome:
            from billdesk.services import mail

            mail.welcome(client_id)
    return client_id


# --- name order -------------------------------------------------------------
# Each client has a name_rank: integers that sort like (sort_name, id), with
# gaps so that a new or renamed client fits between its neighbours. The
# search indexes are keyed by it (services/clientlist.py). When two
# neighbours have no room left, every client is ranked anew.
RANK_GAP = 1 << 32
_PARKED = 1 << 62  # above any real rank: a place to park ranks while re-ranking


def place_in_name_order(sort_name: str, client_id: int, current: int | None = None) -> int:
    """The rank for a client with this sort_name (keeps ``current`` when it
    is still in the right place)."""
    db = database.obj
    before = db.execute_sql(
        "SELECT name_rank FROM client WHERE (sort_name, id) < (?, ?) AND id != ? "
        "ORDER BY sort_name DESC, id DESC LIMIT 1", (sort_name, client_id, client_id)).fetchone()
    after = db.execute_sql(
        "SELECT name_rank FROM client WHERE (sort_name, id) > (?, ?) AND id != ? "
        "ORDER BY sort_name, id LIMIT 1", (sort_name, client_id, client_id)).fetchone()
    low = before[0] if before else None
    high = after[0] if after else None
    if current is not None and (low is None or low < current) and (high is None or current < high):
        return current
    if low is None and high is None:
        return 0
    if low is None:
        return high - RANK_GAP
    if high is None:
        return low + RANK_GAP
    if high - low > 1:
        return low + (high - low) // 2
    rerank_all()
    return place_in_name_order(sort_name, client_id)


def rerank_all() -> None:
    """Give every client a fresh rank, RANK_GAP apart, in (sort_name, id) order."""
    from billdesk.models.migrations import bulk_client_load

    db = database.obj
    ids = [row[0] for row in db.execute_sql("SELECT id FROM client ORDER BY sort_name, id")]
    with database.atomic(), bulk_client_load(db):
        db.execute_sql("UPDATE client SET name_rank = id + ?", (_PARKED,))
        db.cursor().executemany("UPDATE client SET name_rank = ? WHERE id = ?",
                                [((i + 1) * RANK_GAP, cid) for i, cid in enumerate(ids)])


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """Map value keys onto peewee field names (group_id → group, …)."""
    out = {}
    for key, value in row.items():
        if key == "group_id":
            out["group"] = value
        elif key == "billing_contact_id":
            out["billing_contact"] = value
        else:
            out[key] = value
    return out



def client_currency(client_id: int) -> str:
    """The client's currency code; NotFound (field client_id) when there is
    no such client."""
    currency = Client.select(Client.currency).where(Client.id == client_id).scalar()
    if currency is None:
        raise NotFound("client_id", f"no client #{client_id}")
    return currency

@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


def update_client(client_id: int, changes: dict[str, Any], *, reason: str = "",
                  actor: str | None = None) -> list[Change]:
    """Apply ``changes`` (only the fields given), one log entry per field
    that really changed. Returns those changes; nothing is written when
    any value is refused."""
    current = get_values(client_id)
    check_writable(client_id)
    changes = normalise(changes)
    if "two_factor" in changes and changes["two_factor"] and not current["two_factor"]:
        raise InvalidInput("two_factor", "can only be cleared here; the client turns it on")
    merged = dict(current)
    merged.update(changes)
    diff = [Change(k, current[k], merged[k]) for k in EDITABLE if merged[k] != current[k]]
    if any(c.field == "currency" for c in diff) and has_billing(client_id):
        raise Conflict("currency", f"is fixed at {current['currency']} by the client's invoices "
                                   "and transactions (C7)")
    stamp = now()
    actor = actor or changelog.current_actor()
    with database.atomic():
        _check(merged, client_id)  # under the write lock: the email is still free when written
        if not diff:
            return []
        row = {c.field: c.new for c in diff}
        merged["id"] = client_id
        index = index_values(merged, settings.display_format())
        current_rank = Client.select(Client.name_rank).where(Client.id == client_id).scalar()
        row.update(updated_at=stamp, group_key=group_key(merged["group_id"]),
                   name_rank=place_in_name_order(index["sort_name"], client_id, current_rank),
                   **index)
        Client.update(**_columns(row)).where(Client.id == client_id).execute()
        if "payment_method" in row:  # C5: open invoices follow the client's default
            from billdesk.models import Invoice

            Invoice.update(payment_method=row["payment_method"]).where(
                Invoice.client == client_id, Invoice.status.in_(("Draft", "Unpaid", "Collections"))
            ).execute()
            from billdesk.services import subscriptions  # and so do services, addons, domains

            subscriptions.apply_client_payment_method(client_id, row["payment_method"], actor=actor)
        changelog.record_many([
            {"client": client_id, "at": stamp, "actor": actor, "field": LABELS[c.field],
             "old_value": describe_value(c.field, c.old), "new_value": describe_value(c.field, c.new),
             "reason": reason.strip(), "message": ""}
            for c in diff
        ])
    return diff


def describe_value(field: str, value: Any) -> str:
    """A value as the change log and the CLI show it."""
    if field in OVERRIDE_FIELDS:  # worded as services/automation.py logs them
        return "global setting" if value is None else (
            ("yes" if value else "no") if isinstance(value, bool) else str(value))
    if value is None:
        return ""
    if field in BOOL_FIELDS:
        return "Yes" if value else "No"
    if field == "group_id":
        return ClientGroup.select(ClientGroup.name).where(ClientGroup.id == value).scalar() or f"#{value}"
    if field == "billing_contact_id":
        row = Contact.select(Contact.first_name, Contact.last_name).where(Contact.id == value).tuples().first()
        return f"{row[0]} {row[1]}" if row else f"#{value}"
    return str(value)


_SELECT = [getattr(Client, "group" if k == "group_id" else "billing_contact" if k == "billing_contact_id" else k)
           for k in EDITABLE]


def get_values(client_id: int) -> dict[str, Any]:
    """The editable values of one client, as ``problems()`` takes them."""
    row = Client.select(*_SELECT).where(Client.id == client_id).tuples().first()
    if row is None:
        raise NotFound("id", f"no client with id {client_id}")
    values = dict(zip(EDITABLE, row))
    for key in BOOL_FIELDS:
        values[key] = bool(values[key])
    for key in OVERRIDE_SWITCHES:
        values[key] = None if values[key] is None else bool(values[key])
    return values


def has_billing(client_id: int) -> bool:
    """Whether invoices, transactions or credit fix the client's currency."""
    from billdesk.models import CreditEntry, Invoice, Transaction

    return any(model.select().where(model.client == client_id).exists()
               for model in (Invoice, Transaction, CreditEntry))


def exists(client_id: int) -> bool:
    return Client.select().where(Client.id == client_id).exists()


def require(client_id: int) -> None:
    """NotFound (field "client_id") when there is no such client: for the
    services that keep a client's own records (contacts, files, notes,
    tickets, pay methods)."""
    if not exists(client_id):
        raise NotFound("client_id", f"no client with id {client_id}")


def is_archived(client_id: int) -> bool:
    """Whether the client is archived (C11); NotFound when there is none."""
    archived = Client.select(Client.archived).where(Client.id == client_id).scalar()
    if archived is None:
        raise NotFound("id", f"no client with id {client_id}")
    return bool(archived)


def check_writable(client_id: int) -> None:
    """An archived client is read-only until unarchived (C11): every write
    to the client's own records calls this first (the daily run does not:
    an archived client has nothing open for it)."""
    if is_archived(client_id):
        raise Conflict("client", f"#{client_id} is archived: unarchive it to change it")


def require_writable(client_id: int) -> None:
    """NotFound for no such client (as ``require``); refused for an
    archived one (C11, as ``check_writable``)."""
    require(client_id)
    check_writable(client_id)


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """One client as the windows and the CLI show it."""

    id: int
    values: dict[str, Any]
    display_name: str
    group_name: str
    group_colour: str
    created_at: datetime
    updated_at: datetime
    last_activity: datetime | None
    archived: bool = False

    def as_json(self) -> dict[str, Any]:
        v = self.values
        return {
            "id": self.id, "first_name": v["first_name"], "last_name": v["last_name"],
            "company": v["company"], "email": v["email"], "phone": v["phone"],
            "address1": v["address1"], "address2": v["address2"], "city": v["city"],
            "state": v["state"], "postcode": v["postcode"], "country": v["country"],
            "tax_id": v["tax_id"], "account_type": v["account_type"],
            "currency": v["currency"], "group": self.group_name or None,
            "status": v["status"], "language": v["language"],
            "tax_exempt": v["tax_exempt"], "auto_cc": v["auto_cc"],
            "overdue_notices": v["overdue_notices"], "late_fees": v["late_fees"],
            "separate_invoices": v["separate_invoices"], "two_factor": v["two_factor"],
            "billing_contact_id": v["billing_contact_id"], "notes": v["notes"],
            "payment_method": v["payment_method"],
            "display_name": self.display_name,
            "created": self.created_at.date().isoformat(),
            "last_activity": self.last_activity.date().isoformat() if self.last_activity else None,
            "archived": self.archived,
        }


def get_client(client_id: int) -> ClientRecord:
    values = get_values(client_id)
    meta = (Client.select(Client.created_at, Client.updated_at, Client.last_activity,
                          Client.archived)
            .where(Client.id == client_id).tuples().first())
    group_name, colour = "", ""
    if values["group_id"] is not None:
        group = ClientGroup.get_or_none(ClientGroup.id == values["group_id"])
        if group is not None:
            group_name, colour = group.name, group.colour
    # the last thing that happened: the client's newest log entry by time (an
    # invoice, a payment, a change… — as the Log tab orders them: an entry
    # dated back is not the newest), or the stored time where that is later
    logged = database.execute_sql("SELECT max(at) FROM client_log WHERE client_id = ?",
                                  (client_id,)).fetchone()
    activity = [_as_datetime(v) for v in (meta[2], logged[0] if logged else None) if v]
    return ClientRecord(
        id=client_id, values=values,
        display_name=display_name(values["first_name"], values["last_name"], values["company"],
                                  settings.display_format()),
        group_name=group_name, group_colour=colour,
        created_at=_as_datetime(meta[0]), updated_at=_as_datetime(meta[1]),
        last_activity=max(activity) if activity else None, archived=bool(meta[3]),
    )


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def rebuild_sort_names(fmt: str) -> None:
    """Re-key the name order after the display format changed (C14)."""
    rows = Client.select(Client.id, Client.first_name, Client.last_name, Client.company).tuples()
    updates = [(text.sort_key(display_name(f, l, c, fmt)), cid) for cid, f, l, c in rows]
    with database.atomic():
        database.obj.cursor().executemany("UPDATE client SET sort_name = ? WHERE id = ?", updates)
        rerank_all()


def count() -> int:
    return Client.select().count()
