"""Service groups per client (S7): a name, a description and an order;
on the invoice a group heads its services unless "don't show on invoice".

Names are unique per client regardless of case (casefolded: "Büro" and
"BÜRO" are one name). Deleting a group leaves its services ungrouped.
Every change is logged in the client's change log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import fn

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Client, Service, ServiceGroup, database
from billdesk.services import changelog, clients
from billdesk.services.text import counted

NAME_LIMIT = 100
DESCRIPTION_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class ServiceGroupRecord:
    id: int
    client_id: int
    name: str
    description: str
    position: int
    hide_on_invoice: bool
    services: int  # how many services, addons and domains it holds

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "name": self.name,
                "description": self.description, "position": self.position,
                "hide_on_invoice": self.hide_on_invoice, "services": self.services}


_COLUMNS = (ServiceGroup.id, ServiceGroup.client, ServiceGroup.name, ServiceGroup.description,
            ServiceGroup.position, ServiceGroup.hide_on_invoice)


def _members():
    return (Service.select(fn.COUNT(Service.id)).where(Service.group == ServiceGroup.id))


def _record(row: tuple) -> ServiceGroupRecord:
    gid, client_id, name, description, position, hide, members = row
    return ServiceGroupRecord(gid, client_id, name, description, position, bool(hide), members)


def get_group(group_id: int) -> ServiceGroupRecord:
    row = (ServiceGroup.select(*_COLUMNS, _members().alias("members"))
           .where(ServiceGroup.id == group_id).tuples().first())
    if row is None:
        raise NotFound("id", f"no service group #{group_id}")
    return _record(row)


def list_groups(client_id: int) -> list[ServiceGroupRecord]:
    """The client's groups in their order."""
    _check_client(client_id)
    rows = (ServiceGroup.select(*_COLUMNS, _members().alias("members"))
            .where(ServiceGroup.client == client_id)
            .order_by(ServiceGroup.position, ServiceGroup.id).tuples())
    return [_record(row) for row in rows]


def _check_client(client_id: int) -> None:
    if not Client.select().where(Client.id == client_id).exists():
        raise NotFound("client_id", f"no client #{client_id}")


def _name(value: Any, client_id: int, group_id: int | None = None) -> str:
    name = str(value or "").strip()
    if not name:
        raise InvalidInput("name", "is required")
    if len(name) > NAME_LIMIT:
        raise InvalidInput("name", f"is longer than {NAME_LIMIT} characters")
    wanted = name.casefold()
    for other, existing in (ServiceGroup.select(ServiceGroup.id, ServiceGroup.name)
                            .where(ServiceGroup.client == client_id).tuples()):
        if other != group_id and existing.casefold() == wanted:
            raise Conflict("name", f"the client already has a service group named {existing!r}")
    return name


def _description(value: Any) -> str:
    text = str(value or "").rstrip()
    if len(text) > DESCRIPTION_LIMIT:
        raise InvalidInput("description", f"is longer than {DESCRIPTION_LIMIT} characters")
    return text


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be yes or no")
    return value


def create_group(client_id: int, name: str, description: str = "", hide_on_invoice: bool = False,
                 *, actor: str | None = None) -> int:
    """A new group, last in the client's order."""
    with database.atomic():
        _check_client(client_id)
        clients.check_writable(client_id)  # C11: an archived client is read-only
        name = _name(name, client_id)
        values = {"description": _description(description),
                  "hide_on_invoice": _flag(hide_on_invoice, "hide_on_invoice")}
        last = (ServiceGroup.select(fn.MAX(ServiceGroup.position))
                .where(ServiceGroup.client == client_id).scalar())
        group_id = ServiceGroup.insert(client=client_id, name=name, position=(last or 0) + 1,
                                       **values).execute()
        changelog.record(client_id, f"Service group {name} created", actor=actor)
    return group_id


def update_group(group_id: int, *, name: str | None = None, description: str | None = None,
                 hide_on_invoice: bool | None = None, actor: str | None = None) -> list[str]:
    """Rename or change a group (the fields given); returns the fields that
    changed."""
    with database.atomic():
        group = get_group(group_id)
        clients.check_writable(group.client_id)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = _name(name, group.client_id, group_id)
        if description is not None:
            changes["description"] = _description(description)
        if hide_on_invoice is not None:
            changes["hide_on_invoice"] = _flag(hide_on_invoice, "hide_on_invoice")
        changes = {k: v for k, v in changes.items() if v != getattr(group, k)}
        if not changes:
            return []
        ServiceGroup.update(**changes).where(ServiceGroup.id == group_id).execute()
        what = {"name": "name", "description": "description", "hide_on_invoice": "don't show on invoice"}
        for key, new in changes.items():
            old = getattr(group, key)
            if isinstance(new, bool):
                old, new = ("Yes" if old else "No"), ("Yes" if new else "No")
            changelog.record(group.client_id, "", field=f"Service group {group.name} {what[key]}",
                             old=str(old), new=str(new), actor=actor)
    return list(changes)


def delete_group(group_id: int, *, actor: str | None = None) -> None:
    """Remove the group; its services stay, ungrouped."""
    with database.atomic():
        group = get_group(group_id)
        clients.check_writable(group.client_id)
        Service.update(group=None, position=0).where(Service.group == group_id).execute()
        ServiceGroup.delete().where(ServiceGroup.id == group_id).execute()
        changelog.record(group.client_id, f"Service group {group.name} deleted"
                         + (f" ({counted(group.services, 'item')} now ungrouped)"
                            if group.services else ""),
                         actor=actor)


def _ids(values: Iterable[Any], field: str) -> list[int]:
    out: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(field, f"{value!r} is not an id")
        if value in out:
            raise InvalidInput(field, f"#{value} is listed twice")
        out.append(value)
    return out


def reorder_groups(client_id: int, ids_in_order: Sequence[int], *, actor: str | None = None) -> None:
    """Put the client's groups in this order; every group once."""
    ids = _ids(ids_in_order, "ids")
    with database.atomic():
        _check_client(client_id)
        clients.check_writable(client_id)
        current = [g.id for g in list_groups(client_id)]
        if set(ids) != set(current):
            raise InvalidInput("ids", "must name each of the client's service groups once: "
                                      f"#{', #'.join(str(i) for i in current) or 'none'}")
        if ids == current:
            return
        for position, gid in enumerate(ids, 1):
            ServiceGroup.update(position=position).where(ServiceGroup.id == gid).execute()
        changelog.record(client_id, "Service groups reordered", actor=actor)


def move_services(service_ids: Sequence[int], group_id: int | None, position: int | None = None,
                  *, actor: str | None = None) -> None:
    """Put the items in the group (None: ungrouped), together and in the
    order given, before the member at ``position`` (0-based; None: at the
    end). Moving within their own group reorders them."""
    ids = _ids(service_ids, "ids")
    if not ids:
        raise InvalidInput("ids", "select at least one service")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)
                                 or position < 0):
        raise InvalidInput("position", "must be a whole number of 0 or more")
    with database.atomic():
        rows = {sid: (client, name, old_group) for sid, client, name, old_group in
                Service.select(Service.id, Service.client, Service.name, Service.group)
                .where(Service.id.in_(ids)).tuples()}
        for sid in ids:
            if sid not in rows:
                raise NotFound("id", f"no service, addon or domain #{sid}")
        owners = {client for client, _, _ in rows.values()}
        if len(owners) > 1:
            raise Conflict("ids", "the selected items belong to more than one client")
        client_id = owners.pop()
        clients.check_writable(client_id)
        group_name = ""
        if group_id is not None:
            group = get_group(group_id)
            if group.client_id != client_id:
                raise Conflict("group_id", f"service group #{group_id} belongs to another client")
            group_name = group.name
            members = [sid for (sid,) in Service.select(Service.id)
                       .where(Service.group == group_id, Service.id.not_in(ids))
                       .order_by(Service.position, Service.id).tuples()]
            at = len(members) if position is None else min(position, len(members))
            order = members[:at] + ids + members[at:]
            for place, sid in enumerate(order, 1):
                Service.update(group=group_id, position=place).where(Service.id == sid).execute()
        else:
            Service.update(group=None, position=0).where(Service.id.in_(ids)).execute()
        names = dict(ServiceGroup.select(ServiceGroup.id, ServiceGroup.name)
                     .where(ServiceGroup.client == client_id).tuples())
        for sid in ids:
            _, name, old_group = rows[sid]
            if old_group != group_id:
                changelog.record(client_id, "", field=f"{name} (#{sid}) service group",
                                 old=names.get(old_group, "") if old_group else "",
                                 new=group_name, actor=actor)
