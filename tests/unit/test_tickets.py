"""Support tickets (F3) on a real SQLite file: opening one (its first
message the opening one), replies and the status each leaves, the list
by latest activity and by status, the counts, every refusal naming its
field and writing nothing, archived clients read-only, every write on
the client's log and stamped by the one clock."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import database
from billdesk.services import changelog, clients, lifecycle, tickets

AT = dt.datetime(2026, 3, 14, 9, 30)


def client(email: str = "ann@example.com", **more: str) -> int:
    """Ann Lee, added the day before AT (the log reads by time)."""
    with clock.frozen(AT - dt.timedelta(days=1)):
        return clients.add_client({"first_name": "Ann", "last_name": "Lee", "email": email,
                                   **more})


def later(minutes: int) -> dt.datetime:
    return AT + dt.timedelta(minutes=minutes)


def log_messages(client_id: int) -> list[str]:
    """The client's log, oldest first, as the Log tab describes each entry."""
    return [e.describe() for e in reversed(changelog.entries(client_id))][1:]  # not "created"


def snapshot() -> dict[str, list[tuple]]:
    return {name: database.execute_sql(f"SELECT * FROM {name} ORDER BY id").fetchall()
            for name in ("ticket", "ticket_reply", "client_log")}


def test_open_ticket_stores_the_opening_message_and_logs_it(db):
    cid = client()
    with clock.frozen(AT):
        detail = tickets.open_ticket(cid, subject="  Mail   is down ",
                                     message="  No mail since noon.\nPlease look.  ",
                                     priority="high", actor="tom")
    t = detail.ticket
    assert (t.client_id, t.subject, t.priority, t.status) == (cid, "Mail is down", "High", "Open")
    assert t.created_at == t.updated_at == AT
    assert (t.replies_count, t.last_reply_by) == (1, "staff")
    [first] = detail.replies
    assert (first.author, first.name, first.message, first.created_at) == (
        "staff", "tom", "No mail since noon.\nPlease look.", AT)
    assert detail.id == t.id and detail.status == "Open" and detail.client_id == cid
    assert tickets.get(t.id) == detail
    assert log_messages(cid) == [f"Ticket #{t.id} opened: Mail is down"]
    assert changelog.entries(cid)[0].actor == "tom"


def test_a_ticket_opened_from_the_client_names_the_client(db):
    cid = client(company="Lee Ltd")
    detail = tickets.open_ticket(cid, subject="Invoice question", message="Why two lines?",
                                 author="client")
    [first] = detail.replies
    assert (first.author, first.name) == ("client", "Ann Lee")
    assert detail.ticket.last_reply_by == "client" and detail.status == "Open"
    assert log_messages(cid) == [f"Ticket #{detail.id} opened (by the client): Invoice question"]
    named = tickets.open_ticket(cid, subject="Call", message="Phoned", author="client",
                                name="Ann on the phone")
    assert named.replies[0].name == "Ann on the phone"


def test_the_default_priority_is_medium(db):
    detail = tickets.open_ticket(client(), subject="S", message="M")
    assert detail.ticket.priority == "Medium"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"subject": "   ", "message": "M"}, "subject"),
    ({"subject": "x" * 251, "message": "M"}, "subject"),
    ({"subject": "S", "message": " \n "}, "message"),
    ({"subject": "S", "message": "M", "priority": "Urgent"}, "priority"),
    ({"subject": "S", "message": "M", "author": "robot"}, "author"),
])
def test_open_ticket_refuses_bad_input_naming_the_field(db, kwargs, field):
    cid = client()
    before = snapshot()
    with pytest.raises(InvalidInput) as info:
        tickets.open_ticket(cid, **kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert snapshot() == before


def test_an_unknown_client_or_ticket_is_not_found(db):
    with pytest.raises(NotFound) as info:
        tickets.open_ticket(99, subject="S", message="M")
    assert info.value.field == "client_id"
    with pytest.raises(NotFound):
        tickets.list_tickets(99)
    with pytest.raises(NotFound):
        tickets.counts(99)
    for call in (lambda: tickets.get(7), lambda: tickets.reply(7, message="M"),
                 lambda: tickets.set_status(7, "Closed"), lambda: tickets.close(7),
                 lambda: tickets.set_priority(7, "Low"), lambda: tickets.delete_ticket(7)):
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.field == "ticket" and "7" in info.value.message


def test_replies_set_the_status_by_who_wrote_them(db):
    cid = client()
    with clock.frozen(AT):
        ticket_id = tickets.open_ticket(cid, subject="VPN", message="No access").id
    with clock.frozen(later(5)):
        detail = tickets.reply(ticket_id, message="Try again now", actor="tom")
    assert (detail.status, detail.ticket.updated_at, detail.ticket.created_at) == (
        "Answered", later(5), AT)
    with clock.frozen(later(9)):
        detail = tickets.reply(ticket_id, message="Still nothing", author="client")
    assert (detail.status, detail.ticket.last_reply_by, detail.ticket.replies_count) == (
        "Customer reply", "client", 3)
    assert [(r.author, r.name, r.message, r.created_at) for r in detail.replies] == [
        ("staff", changelog.current_actor(), "No access", AT),
        ("staff", "tom", "Try again now", later(5)),
        ("client", "Ann Lee", "Still nothing", later(9))]
    assert log_messages(cid)[1:] == [
        f"Staff reply on ticket #{ticket_id}: Try again now — Ticket #{ticket_id} status: "
        "Open → Answered",
        f"Client reply on ticket #{ticket_id}: Still nothing — Ticket #{ticket_id} status: "
        "Answered → Customer reply"]


def test_a_reply_can_close_the_ticket_and_a_later_one_opens_it_again(db):
    cid = client()
    ticket_id = tickets.open_ticket(cid, subject="DNS", message="Change the MX").id
    assert tickets.reply(ticket_id, message="Done", status="closed").status == "Closed"
    assert tickets.reply(ticket_id, message="One more thing", author="client").status == (
        "Customer reply")
    same = tickets.reply(ticket_id, message="And another", author="client")
    assert same.status == "Customer reply"
    assert log_messages(cid)[-1] == f"Client reply on ticket #{ticket_id}: And another"
    before = snapshot()
    for bad, field in (({"message": ""}, "message"), ({"message": "M", "status": "Pending"},
                                                         "status"),
                       ({"message": "M", "author": "bot"}, "author")):
        with pytest.raises(InvalidInput) as info:
            tickets.reply(ticket_id, **bad)
        assert info.value.field == field
    assert snapshot() == before


def test_status_and_priority_changes_are_logged_and_the_same_value_writes_nothing(db):
    cid = client()
    with clock.frozen(AT):
        ticket_id = tickets.open_ticket(cid, subject="Backup", message="Restore a file").id
    with clock.frozen(later(1)):
        record = tickets.set_priority(ticket_id, "low")
    assert (record.priority, record.updated_at) == ("Low", later(1))
    with clock.frozen(later(2)):
        record = tickets.close(ticket_id)
    assert (record.status, record.updated_at, record.active) == ("Closed", later(2), False)
    before = snapshot()
    assert tickets.close(ticket_id) == record
    assert tickets.set_priority(ticket_id, "Low").priority == "Low"
    assert snapshot() == before
    assert tickets.set_status(ticket_id, "Open").status == "Open"
    with pytest.raises(InvalidInput) as info:
        tickets.set_status(ticket_id, "Waiting")
    assert info.value.field == "status"
    with pytest.raises(InvalidInput) as info:
        tickets.set_priority(ticket_id, "")
    assert info.value.field == "priority"
    assert log_messages(cid)[1:] == [f"Ticket #{ticket_id} priority: Medium → Low",
                                     f"Ticket #{ticket_id} status: Open → Closed",
                                     f"Ticket #{ticket_id} status: Closed → Open"]


def test_list_is_latest_activity_first_and_filters_by_status(db):
    cid = client()
    other = client("bob@example.com")
    with clock.frozen(AT):
        first = tickets.open_ticket(cid, subject="First", message="1").id
    with clock.frozen(later(1)):
        second = tickets.open_ticket(cid, subject="Second", message="2").id
    with clock.frozen(later(2)):
        third = tickets.open_ticket(cid, subject="Third", message="3").id
    tickets.open_ticket(other, subject="Not hers", message="x")
    assert [t.id for t in tickets.list_tickets(cid)] == [third, second, first]
    with clock.frozen(later(3)):
        tickets.reply(first, message="answered", author="staff")
    with clock.frozen(later(4)):
        tickets.close(second)
    assert [t.id for t in tickets.list_tickets(cid)] == [second, first, third]
    assert [t.id for t in tickets.list_tickets(cid, status="Answered")] == [first]
    assert [t.id for t in tickets.list_tickets(cid, status="active")] == [first, third]
    assert [t.id for t in tickets.list_tickets(cid, status=["Open", "Closed"])] == [second, third]
    assert tickets.list_tickets(cid, status="Customer reply") == []
    with pytest.raises(InvalidInput) as info:
        tickets.list_tickets(cid, status="Pending")
    assert info.value.field == "status"
    listed = tickets.list_tickets(cid, status="Answered")[0]
    assert (listed.replies_count, listed.last_reply_by, listed.updated_at) == (2, "staff",
                                                                              later(3))


def test_counts_has_every_status_the_active_and_the_total(db):
    cid = client()
    assert tickets.counts(cid) == {"Open": 0, "Answered": 0, "Customer reply": 0, "Closed": 0,
                                   "active": 0, "total": 0}
    ids = [tickets.open_ticket(cid, subject=f"T{n}", message="m").id for n in range(4)]
    tickets.reply(ids[0], message="a")
    tickets.reply(ids[1], message="c", author="client")
    tickets.close(ids[2])
    assert tickets.counts(cid) == {"Open": 1, "Answered": 1, "Customer reply": 1, "Closed": 1,
                                   "active": 3, "total": 4}


def test_delete_ticket_removes_the_thread_and_logs_it(db):
    cid = client()
    keep = tickets.open_ticket(cid, subject="Keep", message="k").id
    gone = tickets.open_ticket(cid, subject="Spam", message="s")
    tickets.reply(gone.id, message="r")
    tickets.delete_ticket(gone.id)
    assert [t.id for t in tickets.list_tickets(cid)] == [keep]
    assert database.execute_sql("SELECT COUNT(*) FROM ticket_reply WHERE ticket_id = ?",
                                (gone.id,)).fetchone() == (0,)
    assert log_messages(cid)[-1] == f"Ticket #{gone.id} deleted: Spam (2 messages)"
    assert tickets.remove_all(cid) == 1
    assert tickets.list_tickets(cid) == [] and tickets.counts(cid)["total"] == 0
    assert database.execute_sql("SELECT COUNT(*) FROM ticket_reply").fetchone() == (0,)
    assert log_messages(cid)[-1] == "All tickets deleted (1)"
    assert tickets.remove_all(cid) == 0


def test_an_archived_clients_tickets_are_read_only(db):
    cid = client()
    ticket_id = tickets.open_ticket(cid, subject="Old", message="m").id
    with pytest.raises(Conflict) as info:  # an open ticket could not be answered once archived
        lifecycle.archive_client(cid)
    assert "1 open ticket" in info.value.message
    tickets.close(ticket_id)
    lifecycle.archive_client(cid)
    before = snapshot()
    for call in (lambda: tickets.open_ticket(cid, subject="S", message="M"),
                 lambda: tickets.reply(ticket_id, message="M"),
                 lambda: tickets.set_status(ticket_id, "Open"),
                 lambda: tickets.set_priority(ticket_id, "High"),
                 lambda: tickets.delete_ticket(ticket_id)):
        with pytest.raises(Conflict) as info:
            call()
        assert info.value.field == "client"
        assert "archived" in info.value.message
    assert snapshot() == before
    assert [t.id for t in tickets.list_tickets(cid)] == [ticket_id]  # still read
    assert tickets.counts(cid)["active"] == 0
    lifecycle.unarchive_client(cid)
    assert tickets.reply(ticket_id, message="Back").status != "Closed"


def test_as_json_is_the_cli_shape(db):
    cid = client()
    with clock.frozen(AT):
        detail = tickets.open_ticket(cid, subject="Shape", message="Body", actor="tom")
    document = detail.as_json()
    assert document == {
        "id": detail.id, "client_id": cid, "subject": "Shape", "priority": "Medium",
        "status": "Open", "date": "2026-03-14", "created_at": "2026-03-14 09:30:00",
        "updated_at": "2026-03-14 09:30:00", "replies_count": 1, "last_reply_by": "staff",
        "replies": [{"id": detail.replies[0].id, "ticket_id": detail.id, "author": "staff",
                     "name": "tom", "message": "Body", "created_at": "2026-03-14 09:30:00"}]}
    assert tickets.list_tickets(cid)[0].as_json() == {
        k: v for k, v in document.items() if k != "replies"}
