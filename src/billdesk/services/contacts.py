"""Contacts of a client (K1): name and email required, email categories
decide which emails they are copied on, one can be the default billing
contact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billdesk.errors import InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import EMAIL_CATEGORIES, Client, Contact, database, now
from billdesk.services import changelog, clients, validate

FIELDS = ("first_name", "last_name", "company", "email", "phone", "address1", "address2",
          "city", "state", "postcode", "country", "categories")
LABELS = {
    "first_name": "First name", "last_name": "Last name", "company": "Company", "email": "Email",
    "phone": "Phone", "address1": "Address 1", "address2": "Address 2", "city": "City",
    "state": "State/Region", "postcode": "Postcode", "country": "Country",
    "categories": "Email categories",
}
CATEGORY_LABELS = {
    "general": "General", "invoice": "Invoice", "support": "Support", "product": "Product",
    "domain": "Domain", "affiliate": "Affiliate",
}


@dataclass(frozen=True, slots=True)
class ContactRecord:
    id: int
    client_id: int
    values: dict[str, Any]
    is_billing: bool

    @property
    def name(self) -> str:
        return f"{self.values['first_name']} {self.values['last_name']}".strip()

    def as_json(self) -> dict[str, Any]:
        out = {"id": self.id, "client_id": self.client_id}
        out.update(self.values)
        out["categories"] = list(self.values["categories"])
        out["billing"] = self.is_billing
        return out


def parse_categories(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        if item not in EMAIL_CATEGORIES:
            raise InvalidInput("categories", f"{item!r} is not one of {', '.join(EMAIL_CATEGORIES)}")
        if item not in out:
            out.append(item)
    return tuple(c for c in EMAIL_CATEGORIES if c in out)


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FIELDS:
            raise InvalidInput(key, "is not a contact field")
        if key == "categories":
            out[key] = parse_categories(value)
        else:
            value = "" if value is None else str(value).strip()
            out[key] = value.upper() if key == "country" else value
    return out


def problems(values: dict[str, Any], client_id: int, contact_id: int | None = None) -> list[Problem]:
    found: list[Problem] = []
    found += validate.required(values.get("first_name", ""), "first_name")
    found += validate.required(values.get("last_name", ""), "last_name")
    found += validate.email_problems(values.get("email", ""), "email")
    found += validate.phone_problems(values.get("phone", ""), "phone")
    found += validate.country_problems(values.get("country", ""), "country")
    for key in FIELDS:
        if key != "categories":
            found += validate.max_length(values.get(key, ""), key, 200)
    if not any(p.field == "email" for p in found):
        wanted = values["email"].strip().casefold()  # casefold: ZOË and zoë are one address
        taken = (Contact.select(Contact.id, Contact.email)
                 .where(Contact.client == client_id).tuples())
        if any(email.casefold() == wanted and other != contact_id for other, email in taken):
            found.append(Problem("email", f"{values['email']!r} is already a contact of this client"))
        elif Client.select(Client.email_key).where(Client.id == client_id).scalar() == wanted:
            found.append(Problem("email", "is the client's own address; a contact is someone else"))
    return found


def _defaults() -> dict[str, Any]:
    """A new contact gets general emails unless told otherwise (as in the dialog)."""
    return {k: ("" if k != "categories" else ("general",)) for k in FIELDS}


def add_contact(client_id: int, values: dict[str, Any], *, billing: bool = False,
                actor: str | None = None) -> int:
    clients.require(client_id)
    clients.check_writable(client_id)  # C11: an archived client is read-only
    merged = _defaults()
    merged.update(normalise(values))
    found = problems(merged, client_id)
    if found:
        raise ValidationFailed(found)
    with database.atomic():
        row = dict(merged, categories=",".join(merged["categories"]))
        contact_id = Contact.insert(client=client_id, created_at=now(), **row).execute()
        changelog.record(client_id, f"Contact added: {merged['first_name']} {merged['last_name']} "
                         f"<{merged['email']}>", actor=actor)
        if billing:
            _set_billing(client_id, contact_id, actor)
    return contact_id


def update_contact(contact_id: int, changes: dict[str, Any], *, billing: bool | None = None,
                   actor: str | None = None) -> None:
    current = get_contact(contact_id)
    clients.check_writable(current.client_id)
    merged = dict(current.values)
    merged.update(normalise(changes))
    found = problems(merged, current.client_id, contact_id)
    if found:
        raise ValidationFailed(found)
    changed = [k for k in FIELDS if merged[k] != current.values[k]]
    with database.atomic():
        if changed:
            row = {k: merged[k] for k in changed}
            if "categories" in row:
                row["categories"] = ",".join(row["categories"])
            Contact.update(**row).where(Contact.id == contact_id).execute()
            changelog.record_many([
                {"client": current.client_id, "at": now(), "actor": actor or changelog.current_actor(),
                 "field": f"Contact {current.name}: {LABELS[k]}",
                 "old_value": _show(current.values[k]), "new_value": _show(merged[k]),
                 "reason": "", "message": ""}
                for k in changed
            ])
        if billing is True and not current.is_billing:
            _set_billing(current.client_id, contact_id, actor)
        elif billing is False and current.is_billing:
            _set_billing(current.client_id, None, actor)


def _show(value: Any) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def delete_contact(contact_id: int, *, actor: str | None = None) -> None:
    current = get_contact(contact_id)
    clients.check_writable(current.client_id)
    with database.atomic():
        if current.is_billing:
            _set_billing(current.client_id, None, actor)
        Contact.delete().where(Contact.id == contact_id).execute()
        changelog.record(current.client_id, f"Contact deleted: {current.name} <{current.values['email']}>",
                         actor=actor)


def set_billing_contact(client_id: int, contact_id: int | None, *, actor: str | None = None) -> None:
    clients.require(client_id)
    clients.check_writable(client_id)
    if contact_id is not None:
        owner = Contact.select(Contact.client).where(Contact.id == contact_id).scalar()
        if owner != client_id:
            raise InvalidInput("billing_contact_id", f"contact {contact_id} is not this client's")
    with database.atomic():
        _set_billing(client_id, contact_id, actor)


def _set_billing(client_id: int, contact_id: int | None, actor: str | None) -> None:
    from billdesk.services.clients import describe_value

    old = Client.select(Client.billing_contact).where(Client.id == client_id).scalar()
    if old == contact_id:
        return
    old_text = describe_value("billing_contact_id", old)
    Client.update(billing_contact=contact_id, updated_at=now()).where(Client.id == client_id).execute()
    changelog.record(client_id, field="Default billing contact", old=old_text,
                     new=describe_value("billing_contact_id", contact_id), actor=actor)


_COLS = [getattr(Contact, k) for k in FIELDS]


def get_contact(contact_id: int) -> ContactRecord:
    row = (Contact.select(Contact.id, Contact.client, *_COLS)
           .where(Contact.id == contact_id).tuples().first())
    if row is None:
        raise NotFound("contact_id", f"no contact with id {contact_id}")
    return _record(row, Client.select(Client.billing_contact).where(Client.id == row[1]).scalar())


def _record(row: tuple, billing_id: int | None) -> ContactRecord:
    values = dict(zip(FIELDS, row[2:]))
    values["categories"] = parse_categories(values["categories"])
    return ContactRecord(id=row[0], client_id=row[1], values=values, is_billing=row[0] == billing_id)


def list_contacts(client_id: int) -> list[ContactRecord]:
    clients.require(client_id)
    billing_id = Client.select(Client.billing_contact).where(Client.id == client_id).scalar()
    rows = (Contact.select(Contact.id, Contact.client, *_COLS)
            .where(Contact.client == client_id).order_by(Contact.id).tuples())
    return [_record(row, billing_id) for row in rows]
