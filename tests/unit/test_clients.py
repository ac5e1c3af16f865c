"""Clients, contacts and groups (C1, C5, C6, C13, C14, K1) on a real SQLite
file: defaults, every refusal (naming the field, changing nothing), the
change log, display formats, billing contacts, group rules."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

import pytest

from billdesk.errors import InvalidInput, NotFound, ValidationFailed
from billdesk.models import Client, ClientLog, Contact
from billdesk.services import changelog, clientlist, clients, contacts, groups, settings


# --------------------------------------------------------------------------- helpers

def dump(database: Any) -> dict[str, list[tuple]]:
    """Every row of every table (FTS shadow tables included), in a stable order."""
    names = [row[0] for row in database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()]
    return {name: database.execute_sql(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
            for name in names}


def log_rows(client_id: int) -> list[tuple[str, str, str, str, str]]:
    """(field, old, new, reason, message) of a client's log, oldest first."""
    return [(e.field, e.old_value, e.new_value, e.reason, e.message)
            for e in reversed(changelog.entries(client_id))]


def base(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    values.update(overrides)
    return values


def names_in_list_order() -> list[int]:
    return [r.id for r in clientlist.page(clientlist.ClientQuery(sort="name"))]


# --------------------------------------------------------------------------- add_client

def test_add_client_fills_defaults_and_logs_creation(db):
    client_id = clients.add_client(base(), actor="tester")
    values = clients.get_values(client_id)
    assert values == {
        "first_name": "Ann", "last_name": "Lee", "company": "", "email": "ann@example.com",
        "phone": "", "address1": "", "address2": "", "city": "", "state": "", "postcode": "",
        "country": "", "tax_id": "", "account_type": "private", "currency": "USD",
        "language": "en", "status": "Active", "notes": "", "tax_exempt": False, "auto_cc": True,
        "overdue_notices": True, "late_fees": True, "separate_invoices": False,
        "two_factor": False, "group_id": None, "billing_contact_id": None, "payment_method": "",
        "auto_suspend": None, "suspend_days": None, "auto_terminate": None,
        "terminate_days": None, "payment_reminders": None, "auto_status": None,
    }
    record = clients.get_client(client_id)
    assert record.display_name == "Ann Lee"
    assert record.group_name == ""
    assert clients.count() == 1
    entries = changelog.entries(client_id)
    assert [(e.message, e.actor) for e in entries] == [("Client created", "tester")]


def test_add_client_takes_country_and_currency_defaults_from_the_company(db):
    settings.save_company(settings.Company(name="Shop", country="de", currency="eur"))
    client_id = clients.add_client(base())
    values = clients.get_values(client_id)
    assert (values["country"], values["currency"]) == ("DE", "EUR")


def test_add_client_trims_and_normalises_codes(db):
    client_id = clients.add_client(base(first_name="  Ann ", last_name=" Lee", email=" ann@example.com ",
                                        country="gb", currency="gbp", language="FR"))
    values = clients.get_values(client_id)
    assert (values["first_name"], values["last_name"], values["email"]) == ("Ann", "Lee", "ann@example.com")
    assert (values["country"], values["currency"], values["language"]) == ("GB", "GBP", "fr")


def test_add_client_is_not_broken_by_another_writer(db, db_path, monkeypatch):
    real = clients.place_in_name_order

    def another_process_writes_meanwhile(*args: Any, **kwargs: Any) -> int:
        other = sqlite3.connect(db_path, timeout=0.1)
        try:
            other.execute("INSERT INTO setting (key, value) VALUES ('elsewhere', '1')")
            other.commit()
        except sqlite3.OperationalError:
            pass  # add_client already holds the write lock: the other writer waits
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(clients, "place_in_name_order", another_process_writes_meanwhile)
    client_id = clients.add_client(base())
    assert clients.get_values(client_id)["email"] == "ann@example.com"


@pytest.fixture
def book(db):
    """One client and one group already in the book."""
    vip = groups.add_group("VIP", "#d4a017", "10")
    first = clients.add_client(base(email="taken@example.com", group_id=vip))
    return {"db": db, "group": vip, "client": first}


@pytest.mark.parametrize(("changes", "field"), [
    ({"first_name": ""}, "first_name"),
    ({"first_name": "   "}, "first_name"),
    ({"last_name": ""}, "last_name"),
    ({"email": ""}, "email"),
    ({"email": None}, "email"),
    ({"email": "ann"}, "email"),
    ({"email": "ann@"}, "email"),
    ({"email": "ann@example"}, "email"),
    ({"email": "ann..lee@example.com"}, "email"),
    ({"email": "ann lee@example.com"}, "email"),
    ({"email": "TAKEN@Example.COM"}, "email"),  # duplicate differing only in case
    ({"group_id": 999}, "group_id"),
    ({"country": "XX"}, "country"),
    ({"country": "GBR"}, "country"),
    ({"currency": "XYZ"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"language": "xx"}, "language"),
    ({"language": ""}, "language"),
    ({"status": "Deleted"}, "status"),
    ({"account_type": "business"}, "account_type"),
    ({"phone": "call me"}, "phone"),
    ({"notes": "x" * 20001}, "notes"),
    ({"company": "x" * 201}, "company"),
])
def test_add_client_refusal_names_the_field_and_changes_nothing(book, changes, field):
    values = base(email="new@example.com")
    values.update(changes)
    before = dump(book["db"])
    with pytest.raises(ValidationFailed) as exc:
        clients.add_client(values)
    assert exc.value.field == field
    assert field in str(exc.value)
    assert any(p.field == field for p in exc.value.problems)
    assert dump(book["db"]) == before


def test_missing_email_key_is_refused(book):
    before = dump(book["db"])
    with pytest.raises(ValidationFailed) as exc:
        clients.add_client({"first_name": "Ann", "last_name": "Lee"})
    assert exc.value.field == "email"
    assert dump(book["db"]) == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"favourite_colour": "red"}, "favourite_colour"),
    ({"tax_exempt": "yes"}, "tax_exempt"),
    ({"group_id": "VIP"}, "group_id"),
    ({"group_id": True}, "group_id"),
])
def test_add_client_refuses_unknown_keys_and_wrong_types(book, changes, field):
    before = dump(book["db"])
    with pytest.raises(InvalidInput) as exc:
        clients.add_client(base(email="new@example.com", **changes))
    assert exc.value.field == field
    assert dump(book["db"]) == before


def test_all_problems_are_reported_at_once(book):
    with pytest.raises(ValidationFailed) as exc:
        clients.add_client({"first_name": "", "last_name": "", "email": "bad", "country": "XX"})
    assert {p.field for p in exc.value.problems} >= {"first_name", "last_name", "email", "country"}


def test_problems_is_empty_for_valid_values(book):
    assert clients.problems(clients.defaults() | base(email="fresh@example.com")) == []
    # the client's own email is not a clash with itself
    own = clients.get_values(book["client"])
    assert clients.problems(own, book["client"]) == []
    assert [p.field for p in clients.problems(own, None)] == ["email"]


# --------------------------------------------------------------------------- update_client

def test_update_writes_one_log_row_per_changed_field(book):
    client_id = book["client"]
    gold = groups.add_group("Gold")
    log_before = len(changelog.entries(client_id))
    diff = clients.update_client(
        client_id,
        {"first_name": "Anne", "tax_exempt": True, "group_id": gold, "country": "gb",
         "last_name": "Lee", "phone": "+44 20 7946 0958"},
        reason="  customer asked  ", actor="clerk")
    assert sorted(c.field for c in diff) == ["country", "first_name", "group_id", "phone", "tax_exempt"]
    new_rows = [(e.field, e.old_value, e.new_value, e.reason, e.actor)
                for e in changelog.entries(client_id)[: len(diff)]]
    assert len(changelog.entries(client_id)) == log_before + 5
    assert sorted(new_rows) == sorted([
        ("First name", "Ann", "Anne", "customer asked", "clerk"),
        ("Country", "", "GB", "customer asked", "clerk"),
        ("Phone", "", "+44 20 7946 0958", "customer asked", "clerk"),
        ("Tax exempt", "No", "Yes", "customer asked", "clerk"),
        ("Group", "VIP", "Gold", "customer asked", "clerk"),
    ])
    values = clients.get_values(client_id)
    assert (values["first_name"], values["tax_exempt"], values["group_id"], values["country"]) == \
        ("Anne", True, gold, "GB")
    # the hidden sort/search columns follow the change
    row = Client.get_by_id(client_id)
    assert row.sort_name == "anne lee"
    assert row.phone_key == "442079460958"


def test_update_logs_every_value_as_text(book):
    client_id = book["client"]
    clients.update_client(client_id, {"group_id": None, "late_fees": False, "notes": "VIP since 2019"})
    rows = {e.field: (e.old_value, e.new_value) for e in changelog.entries(client_id)}
    assert rows["Group"] == ("VIP", "")
    assert rows["Apply late fees"] == ("Yes", "No")
    assert rows["Admin notes"] == ("", "VIP since 2019")


def test_update_with_nothing_changed_writes_nothing(book):
    client_id = book["client"]
    before = dump(book["db"])
    same = {"first_name": " Ann ", "email": "taken@example.com", "country": "", "currency": "usd",
            "language": "EN", "group_id": book["group"], "tax_exempt": False}
    assert clients.update_client(client_id, same, reason="no-op") == []
    assert clients.update_client(client_id, {}) == []
    assert dump(book["db"]) == before


def test_update_email_to_own_email_in_other_case_is_one_change(book):
    client_id = book["client"]
    diff = clients.update_client(client_id, {"email": "Taken@Example.com"})
    assert [c.field for c in diff] == ["email"]
    assert Client.get_by_id(client_id).email_key == "taken@example.com"


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "OTHER@example.com"}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"first_name": ""}, "first_name"),
    ({"status": "Gone"}, "status"),
    ({"group_id": 4242}, "group_id"),
    ({"currency": "ABCD"}, "currency"),
    ({"language": "klingon"}, "language"),
    ({"country": "UK"}, "country"),
    ({"tax_exempt": 1}, "tax_exempt"),
    ({"nickname": "Annie"}, "nickname"),
])
def test_update_refusal_names_the_field_and_changes_nothing(book, changes, field):
    clients.add_client(base(first_name="Olga", email="other@example.com"))
    before = dump(book["db"])
    with pytest.raises(InvalidInput) as exc:
        clients.update_client(book["client"], dict(changes, last_name="Changed"), reason="x")
    assert exc.value.field == field
    assert dump(book["db"]) == before


def test_update_unknown_client_is_not_found(db):
    with pytest.raises(NotFound) as exc:
        clients.update_client(12345, {"first_name": "X"})
    assert exc.value.field == "id"
    with pytest.raises(NotFound):
        clients.get_client(12345)


def test_two_factor_can_be_cleared_but_not_set(book):
    client_id = book["client"]
    before = dump(book["db"])
    with pytest.raises(InvalidInput) as exc:
        clients.update_client(client_id, {"two_factor": True})
    assert exc.value.field == "two_factor"
    assert dump(book["db"]) == before

    Client.update(two_factor=True).where(Client.id == client_id).execute()  # the client turned it on
    assert clients.update_client(client_id, {"two_factor": True}) == []  # already on: no change
    diff = clients.update_client(client_id, {"two_factor": False}, reason="lost phone")
    assert [(c.field, c.old, c.new) for c in diff] == [("two_factor", True, False)]
    assert log_rows(client_id)[-1] == ("Two-factor authentication", "Yes", "No", "lost phone", "")
    assert clients.get_values(client_id)["two_factor"] is False


# --------------------------------------------------------------------------- display format (C14)

@pytest.mark.parametrize(("fmt", "with_company", "without_company"), [
    ("first_last", "Ann Lee", "Ann Lee"),
    ("company_or_name", "Acme Ltd", "Ann Lee"),
    ("first_last_company", "Ann Lee (Acme Ltd)", "Ann Lee"),
])
def test_display_name_formats(fmt, with_company, without_company):
    assert clients.display_name("Ann", "Lee", "Acme Ltd", fmt) == with_company
    assert clients.display_name("Ann", "Lee", "", fmt) == without_company


def test_display_format_setting_renames_and_resorts_the_list(db):
    zed = clients.add_client(base(first_name="Ann", last_name="Zed", company="Zulu Corp", email="a@example.com"))
    young = clients.add_client(base(first_name="Bob", last_name="Young", email="b@example.com"))
    xu = clients.add_client(base(first_name="Cy", last_name="Xu", company="Alpha", email="c@example.com"))
    assert settings.display_format() == "first_last"
    assert names_in_list_order() == [zed, young, xu]

    assert settings.set_display_format("company_or_name") is True
    assert settings.display_format() == "company_or_name"
    assert clients.get_client(zed).display_name == "Zulu Corp"
    assert clients.get_client(young).display_name == "Bob Young"
    assert names_in_list_order() == [xu, young, zed]  # Alpha, Bob Young, Zulu Corp
    # a client added now is keyed by the new format too
    ace = clients.add_client(base(first_name="Zack", last_name="Zz", company="Aardvark", email="d@example.com"))
    assert names_in_list_order() == [ace, xu, young, zed]

    assert settings.set_display_format("company_or_name") is False  # unchanged
    assert settings.set_display_format("first_last_company") is True
    assert clients.get_client(xu).display_name == "Cy Xu (Alpha)"
    assert names_in_list_order() == [zed, young, xu, ace]  # Ann Zed…, Bob, Cy, Zack


def test_display_format_refuses_unknown_value(db):
    before = dump(db)
    with pytest.raises(InvalidInput) as exc:
        settings.set_display_format("last_first")
    assert exc.value.field == "display_format"
    assert dump(db) == before


# --------------------------------------------------------------------------- contacts (K1)

@pytest.fixture
def client_id(db) -> int:
    return clients.add_client(base(email="owner@example.com"))


def contact(first: str = "Cal", email: str = "cal@example.com", **extra: Any) -> dict[str, Any]:
    return {"first_name": first, "last_name": "Rivers", "email": email, **extra}


@pytest.mark.parametrize(("raw", "parsed"), [
    (None, ()),
    ("", ()),
    ("invoice", ("invoice",)),
    (" Invoice , general,invoice,, ", ("general", "invoice")),
    (["domain", "GENERAL"], ("general", "domain")),
    ("affiliate,domain,product,support,invoice,general",
     ("general", "invoice", "support", "product", "domain", "affiliate")),
])
def test_parse_categories(raw, parsed):
    assert contacts.parse_categories(raw) == parsed


def test_parse_categories_refuses_unknown():
    with pytest.raises(InvalidInput) as exc:
        contacts.parse_categories("general,billing")
    assert exc.value.field == "categories"
    assert "billing" in exc.value.message


def test_add_update_delete_contact(db, client_id):
    cid = contacts.add_contact(client_id, contact(categories="invoice, general", phone=" +44 1 234 "))
    record = contacts.get_contact(cid)
    assert record.client_id == client_id
    assert record.name == "Cal Rivers"
    assert record.values["categories"] == ("general", "invoice")
    assert record.values["phone"] == "+44 1 234"
    assert record.is_billing is False
    assert Contact.get_by_id(cid).categories == "general,invoice"
    assert record.as_json()["categories"] == ["general", "invoice"]
    assert [c.id for c in contacts.list_contacts(client_id)] == [cid]
    assert log_rows(client_id)[-1][4] == "Contact added: Cal Rivers <cal@example.com>"

    contacts.update_contact(cid, {"email": "cal.rivers@example.com", "categories": "support"})
    updated = contacts.get_contact(cid)
    assert updated.values["email"] == "cal.rivers@example.com"
    assert updated.values["categories"] == ("support",)
    assert sorted(log_rows(client_id)[-2:]) == [
        ("Contact Cal Rivers: Email", "cal@example.com", "cal.rivers@example.com", "", ""),
        ("Contact Cal Rivers: Email categories", "general, invoice", "support", "", ""),
    ]
    rows_before = len(changelog.entries(client_id))
    contacts.update_contact(cid, {"email": "cal.rivers@example.com"})  # nothing changed
    assert len(changelog.entries(client_id)) == rows_before

    contacts.delete_contact(cid)
    assert contacts.list_contacts(client_id) == []
    with pytest.raises(NotFound) as exc:
        contacts.get_contact(cid)
    assert exc.value.field == "contact_id"
    assert log_rows(client_id)[-1][4] == "Contact deleted: Cal Rivers <cal.rivers@example.com>"


@pytest.mark.parametrize(("values", "field"), [
    (contact(first=""), "first_name"),
    ({"first_name": "Cal", "last_name": " ", "email": "c@example.com"}, "last_name"),
    (contact(email=""), "email"),
    (contact(email="cal@"), "email"),
    (contact(email="OWNER2@EXAMPLE.com"), "email"),  # already a contact of this client
    (contact(phone="phone me"), "phone"),
    (contact(country="Atlantis"), "country"),
    (contact(categories="general,spam"), "categories"),
    (contact(shoe_size="44"), "shoe_size"),
])
def test_add_contact_refusal_names_the_field_and_changes_nothing(db, client_id, values, field):
    contacts.add_contact(client_id, contact(email="owner2@example.com"))
    before = dump(db)
    with pytest.raises(InvalidInput) as exc:
        contacts.add_contact(client_id, values, billing=True)
    assert exc.value.field == field
    assert dump(db) == before


def test_contact_email_unique_within_client_only(db, client_id):
    other = clients.add_client(base(first_name="Bea", email="bea@example.com"))
    first = contacts.add_contact(client_id, contact())
    # the same address may be a contact of another client
    contacts.add_contact(other, contact(email="CAL@example.com"))
    second = contacts.add_contact(client_id, contact(first="Dee", email="dee@example.com"))
    before = dump(db)
    with pytest.raises(ValidationFailed) as exc:
        contacts.update_contact(second, {"email": "Cal@Example.com"})
    assert exc.value.field == "email"
    assert dump(db) == before
    # keeping one's own address (in another case) is no clash
    contacts.update_contact(first, {"email": "CAL@example.com"})
    assert contacts.get_contact(first).values["email"] == "CAL@example.com"


def test_contact_email_duplicate_in_non_ascii_case_refused(db, client_id):
    contacts.add_contact(client_id, contact(email="zoë@example.com"))
    with pytest.raises(ValidationFailed):
        contacts.add_contact(client_id, contact(first="Zed", email="ZOË@example.com"))


def test_add_contact_to_unknown_client(db):
    with pytest.raises(NotFound) as exc:
        contacts.add_contact(999, contact())
    assert exc.value.field == "client_id"
    with pytest.raises(NotFound):
        contacts.list_contacts(999)


def billing_id(client_id: int) -> int | None:
    return clients.get_values(client_id)["billing_contact_id"]


def test_billing_contact_set_moved_unset_and_cleared_on_delete(db, client_id):
    a = contacts.add_contact(client_id, contact(first="Amy", email="amy@example.com"), billing=True)
    assert billing_id(client_id) == a
    assert contacts.get_contact(a).is_billing
    assert log_rows(client_id)[-1][:3] == ("Default billing contact", "", "Amy Rivers")

    b = contacts.add_contact(client_id, contact(first="Ben", email="ben@example.com"), billing=True)
    assert billing_id(client_id) == b
    assert [c.is_billing for c in contacts.list_contacts(client_id)] == [False, True]
    assert log_rows(client_id)[-1][:3] == ("Default billing contact", "Amy Rivers", "Ben Rivers")

    contacts.update_contact(b, {}, billing=False)
    assert billing_id(client_id) is None
    assert log_rows(client_id)[-1][:3] == ("Default billing contact", "Ben Rivers", "")

    contacts.update_contact(a, {}, billing=True)
    assert billing_id(client_id) == a
    rows = len(changelog.entries(client_id))
    contacts.set_billing_contact(client_id, a)  # already: nothing logged
    assert len(changelog.entries(client_id)) == rows

    contacts.set_billing_contact(client_id, b)
    assert billing_id(client_id) == b
    contacts.delete_contact(b)
    assert billing_id(client_id) is None
    assert [m for *_, m in log_rows(client_id)[-2:]] == ["", "Contact deleted: Ben Rivers <ben@example.com>"]
    assert log_rows(client_id)[-2][:3] == ("Default billing contact", "Ben Rivers", "")

    # the client profile path: billing_contact_id through update_client
    clients.update_client(client_id, {"billing_contact_id": a}, reason="invoices to Amy")
    assert billing_id(client_id) == a
    assert log_rows(client_id)[-1] == ("Default billing contact", "", "Amy Rivers", "invoices to Amy", "")


def test_billing_contact_must_belong_to_the_client(db, client_id):
    other = clients.add_client(base(first_name="Bea", email="bea@example.com"))
    foreign = contacts.add_contact(other, contact())
    before = dump(db)
    with pytest.raises(InvalidInput) as exc:
        contacts.set_billing_contact(client_id, foreign)
    assert exc.value.field == "billing_contact_id"
    with pytest.raises(ValidationFailed) as exc2:
        clients.update_client(client_id, {"billing_contact_id": foreign})
    assert exc2.value.field == "billing_contact_id"
    assert dump(db) == before


def test_deleting_a_client_row_cascades_contacts_and_log(db, client_id):
    contacts.add_contact(client_id, contact(), billing=True)
    Client.delete().where(Client.id == client_id).execute()
    assert Contact.select().count() == 0
    assert ClientLog.select().count() == 0


# --------------------------------------------------------------------------- groups (C6)

def test_add_find_update_delete_group(db):
    gid = groups.add_group(" Resellers ", "#7b61ff", "12.5%", True)
    group = groups.get_group(gid)
    assert (group.name, group.colour, group.discount, group.separate_invoices) == \
        ("Resellers", "#7b61ff", Decimal("12.50"), True)
    assert group.as_json() == {"id": gid, "name": "Resellers", "colour": "#7b61ff",
                               "discount": "12.50", "separate_invoices": True}
    assert groups.find_group("resellers").id == gid
    assert groups.find_group("  RESELLERS ").id == gid

    groups.update_group(gid, "resellers", "#000000", "0", False)  # own name in another case is fine
    group = groups.get_group(gid)
    assert (group.name, group.colour, group.discount, group.separate_invoices) == \
        ("resellers", "#000000", Decimal("0.00"), False)

    other = groups.add_group("Alpha")
    assert [g.name for g in groups.list_groups()] == ["Alpha", "resellers"]

    a = clients.add_client(base(email="a@example.com", group_id=gid))
    b = clients.add_client(base(email="b@example.com", group_id=gid))
    c = clients.add_client(base(email="c@example.com", group_id=other))
    assert groups.delete_group(gid) == 2
    assert clients.get_values(a)["group_id"] is None
    assert clients.get_values(b)["group_id"] is None
    assert clients.get_values(c)["group_id"] == other
    with pytest.raises(NotFound) as exc:
        groups.get_group(gid)
    assert exc.value.field == "group"
    with pytest.raises(NotFound):
        groups.find_group("resellers")
    with pytest.raises(NotFound):
        groups.delete_group(gid)
    with pytest.raises(NotFound):
        groups.update_group(gid, "X", "#000000", "0", False)


def test_deleting_a_group_logs_the_change_on_each_member(db):
    gid = groups.add_group("Resellers")
    a = clients.add_client(base(email="a@example.com", group_id=gid))
    groups.delete_group(gid)
    assert any(e.field == "Group" and e.old_value == "Resellers" for e in changelog.entries(a))


@pytest.mark.parametrize("name", ["vip", "VIP", " Vip ", "vIP"])
def test_duplicate_group_name_in_other_case_refused(db, name):
    groups.add_group("VIP")
    other = groups.add_group("Gold")
    before = dump(db)
    with pytest.raises(ValidationFailed) as exc:
        groups.add_group(name)
    assert exc.value.field == "name"
    with pytest.raises(ValidationFailed) as exc:
        groups.update_group(other, name, "#5b8def", "0", False)
    assert exc.value.field == "name"
    assert dump(db) == before


def test_duplicate_group_name_in_non_ascii_case_refused(db):
    groups.add_group("Ärzte")
    with pytest.raises(ValidationFailed):
        groups.add_group("ärzte")


@pytest.mark.parametrize(("discount", "stored"), [
    ("0", "0.00"), ("100", "100.00"), ("99.99", "99.99"), ("12.5%", "12.50"), (" 7 ", "7.00"),
    (Decimal("33.33"), "33.33"), (15, "15.00"), ("", "0.00"),
])
def test_discount_bounds_accepted(db, discount, stored):
    gid = groups.add_group("G", discount=discount)
    assert groups.get_group(gid).as_json()["discount"] == stored
    raw = db.execute_sql("SELECT discount FROM client_group WHERE id = ?", (gid,)).fetchone()[0]
    assert raw == int(Decimal(stored) * 100)  # INTEGER hundredths


@pytest.mark.parametrize("discount", ["-0.01", "-5", "100.01", "101", "12.345", "abc", "NaN",
                                      "Infinity", "1e3"])
def test_discount_bounds_refused(db, discount):
    gid = groups.add_group("Existing")
    before = dump(db)
    with pytest.raises(InvalidInput) as exc:
        groups.add_group("New", discount=discount)
    assert exc.value.field == "discount"
    with pytest.raises(InvalidInput) as exc:
        groups.update_group(gid, "Existing", "#5b8def", discount, False)
    assert exc.value.field == "discount"
    assert dump(db) == before


def test_discount_refuses_float(db):
    with pytest.raises(TypeError):
        groups.add_group("G", discount=12.5)


@pytest.mark.parametrize(("name", "colour", "field"), [
    ("", "#5b8def", "name"),
    ("   ", "#5b8def", "name"),
    ("x" * 101, "#5b8def", "name"),
    ("G", "blue", "colour"),
    ("G", "#12345", "colour"),
    ("G", "#12345g", "colour"),
])
def test_group_refusals(db, name, colour, field):
    before = dump(db)
    with pytest.raises(ValidationFailed) as exc:
        groups.add_group(name, colour)
    assert exc.value.field == field
    assert dump(db) == before


def test_add_client_refuses_what_only_an_existing_client_can_have(db):
    before = dump(db)
    with pytest.raises(InvalidInput) as exc:
        clients.add_client(base(two_factor=True))
    assert exc.value.field == "two_factor"
    with pytest.raises(InvalidInput) as exc:
        clients.add_client(base(billing_contact_id=1))
    assert exc.value.field == "billing_contact_id"
    assert dump(db) == before


def test_the_list_sorts_by_group_name_and_follows_a_rename(db):
    zebra = groups.add_group("Zebra", "#000000")
    apple = groups.add_group("apple", "#ffffff")
    in_zebra = clients.add_client(base(email="z@example.com", group_id=zebra))
    in_apple = clients.add_client(base(email="a@example.com", group_id=apple))
    no_group = clients.add_client(base(email="n@example.com"))
    order = [r.id for r in clientlist.page(clientlist.ClientQuery(sort="group"))]
    assert order == [no_group, in_apple, in_zebra]
    groups.update_group(zebra, "Aardvark", "#000000", "0", False)
    order = [r.id for r in clientlist.page(clientlist.ClientQuery(sort="group"))]
    assert order == [no_group, in_zebra, in_apple]
    groups.delete_group(zebra)
    order = [r.id for r in clientlist.page(clientlist.ClientQuery(sort="group"))]
    assert order == [in_zebra, no_group, in_apple]  # both in no group now: ties break by id
    assert clients.get_values(in_zebra)["group_id"] is None


def test_a_contact_is_not_the_client_and_gets_general_emails_by_default(db):
    client_id = clients.add_client(base(email="Owner@Example.com"))
    with pytest.raises(ValidationFailed) as exc:
        contacts.add_contact(client_id, {"first_name": "A", "last_name": "B",
                                         "email": "owner@example.com"})
    assert exc.value.field == "email"
    contact_id = contacts.add_contact(client_id, {"first_name": "A", "last_name": "B",
                                                  "email": "a@example.com"})
    assert contacts.get_contact(contact_id).values["categories"] == ("general",)


def test_last_activity_is_the_newest_thing_that_happened(db):
    """C4's "Last activity": the client's newest log entry (a payment, an
    invoice, a change), later than the client's own last edit."""
    import datetime as dt

    from billdesk import clock
    from billdesk.services import invoicing, payments
    from billdesk.services.invoicing import LineInput

    with clock.frozen(dt.datetime(2026, 5, 1, 9, 0)):
        client_id = clients.add_client(base())
    assert clients.get_client(client_id).last_activity == dt.datetime(2026, 5, 1, 9, 0)
    with clock.frozen(dt.datetime(2026, 6, 2, 14, 30)):
        invoice_id = invoicing.create_invoice(client_id, [LineInput("Hosting", "10.00")])
        payments.add_payment(invoice_id, "10.00")
    record = clients.get_client(client_id)
    assert record.updated_at < dt.datetime(2026, 6, 1)
    assert record.last_activity == dt.datetime(2026, 6, 2, 14, 30)
    assert record.as_json()["last_activity"] == "2026-06-02"
    with clock.frozen(dt.datetime(2026, 3, 1, 8, 0)):  # an entry dated back, written last
        changelog.record(client_id, "Imported note")
    assert clients.get_client(client_id).last_activity == dt.datetime(2026, 6, 2, 14, 30)


def test_the_log_is_newest_first_by_time_as_after_a_merge(db):
    """A merged client's entries move over with their own times and ids:
    the log reads by time, newest first (then as written)."""
    client_id = clients.add_client(base())
    changelog.record_many([
        {"client": client_id, "at": "2030-01-02 10:00:00", "message": "later, written first"},
        {"client": client_id, "at": "2030-01-01 10:00:00", "message": "earlier, moved in"},
        {"client": client_id, "at": "2030-01-02 10:00:00", "message": "same time, written after"},
    ])
    assert [e.message for e in changelog.entries(client_id)[:3]] == [
        "same time, written after", "later, written first", "earlier, moved in"]


def test_a_refused_phone_says_why() -> None:
    from billdesk.services import validate

    assert validate.phone_problems("+44 20 7946 0000") == []
    (short,) = validate.phone_problems("12")
    assert short.message == "'12' is too short for a phone number (at least 3 digits)"
    (odd,) = validate.phone_problems("call me")
    assert odd.message == "'call me' is not a phone number (digits, spaces, + - ( ) . /)"
