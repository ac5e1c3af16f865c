"""Client groups (C6): name, colour, discount percent, separate-invoices
default."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from billdesk.errors import InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Client, ClientGroup, database, now
from billdesk.services import changelog, text, validate


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    colour: str
    discount: Decimal
    separate_invoices: bool
    late_fees: bool = True  # False: the group's clients pay no late fees (B6)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "colour": self.colour,
                "discount": f"{self.discount:.2f}", "separate_invoices": self.separate_invoices}


def parse_discount(value: Any) -> Decimal:
    if isinstance(value, float):
        raise TypeError("discount must not be a float")
    try:
        amount = Decimal(str(value).strip().rstrip("%") or "0")
    except InvalidOperation:
        raise InvalidInput("discount", f"{value!r} is not a percentage") from None
    if not amount.is_finite() or amount < 0 or amount > 100:
        raise InvalidInput("discount", "must be between 0 and 100")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("discount", "has more than two decimals")
    return amount


def problems(name: str, colour: str, group_id: int | None = None,
             discount: Any = "0") -> list[Problem]:
    """Every problem with a group's values at once (the editor shows them
    as you type)."""
    found = validate.required(name, "name") + validate.colour_problems(colour, "colour")
    try:
        parse_discount(discount)
    except InvalidInput as exc:
        found.append(Problem("discount", exc.message))
    found += validate.max_length(name, "name", 100)
    if name.strip():
        wanted = name.strip().casefold()  # casefold: Ärzte and ärzte are one group
        for other, existing in ClientGroup.select(ClientGroup.id, ClientGroup.name).tuples():
            if existing.casefold() == wanted and other != group_id:
                found.append(Problem("name", f"a group named {existing!r} exists"))
                break
    return found


def add_group(name: str, colour: str = "#5b8def", discount: Any = "0",
              separate_invoices: bool = False, *, late_fees: bool = True) -> int:
    found = problems(name, colour, None, discount)
    if found:
        raise ValidationFailed(found)
    amount = parse_discount(discount)
    return ClientGroup.insert(name=name.strip(), colour=colour, discount=amount,
                              separate_invoices=separate_invoices,
                              late_fees=bool(late_fees)).execute()


def update_group(group_id: int, name: str, colour: str, discount: Any, separate_invoices: bool,
                 *, late_fees: bool | None = None) -> None:
    """Change a group (``late_fees`` None: as it was)."""
    get_group(group_id)
    found = problems(name, colour, group_id, discount)
    if found:
        raise ValidationFailed(found)
    amount = parse_discount(discount)
    with database.atomic():
        extra = {} if late_fees is None else {"late_fees": bool(late_fees)}
        ClientGroup.update(name=name.strip(), colour=colour, discount=amount,
                           separate_invoices=separate_invoices, **extra).where(
            ClientGroup.id == group_id).execute()
        # the members sort under the new name
        Client.update(group_key=text.sort_key(name.strip())).where(
            Client.group == group_id).execute()


def delete_group(group_id: int, *, actor: str | None = None) -> int:
    """Delete a group; its clients keep their records and lose the group,
    each with a line in their change log. Returns how many there were."""
    group = get_group(group_id)
    with database.atomic():
        members = Client.select().where(Client.group == group_id).count()
        database.obj.execute_sql(
            "INSERT INTO client_log (client_id, at, actor, field, old_value, new_value, reason, "
            "message) SELECT id, ?, ?, 'Group', ?, '', 'group deleted', '' FROM client "
            "WHERE group_id = ?",
            (now().isoformat(" "), actor or changelog.current_actor(), group.name, group_id))
        Client.update(group=None, group_key="", updated_at=now()).where(
            Client.group == group_id).execute()
        ClientGroup.delete().where(ClientGroup.id == group_id).execute()
    return members


def get_group(group_id: int) -> Group:
    row = ClientGroup.get_or_none(ClientGroup.id == group_id)
    if row is None:
        raise NotFound("group", f"no group with id {group_id}")
    return _group(row)


def _group(row: ClientGroup) -> Group:
    return Group(row.id, row.name, row.colour, row.discount, bool(row.separate_invoices),
                 bool(row.late_fees))


def find_group(name: str) -> Group:
    row = ClientGroup.get_or_none(ClientGroup.name.collate("NOCASE") == name.strip())
    if row is None:
        raise NotFound("group", f"no group named {name!r}")
    return _group(row)


def list_groups() -> list[Group]:
    return [_group(row) for row in ClientGroup.select().order_by(ClientGroup.name)]
