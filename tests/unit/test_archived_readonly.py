"""C11: an archived client is read-only in every service that writes the
client's records by hand. Each write is refused with Conflict on the field
"client" and leaves the whole database as it was; after unarchiving, the
writes work again. The daily run's paths are not guarded (an archived
client has nothing open for them)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from billdesk.errors import Conflict
from billdesk.models import Service
from billdesk.services import (
    affiliates,
    billable,
    billing_settings,
    catalog,
    clients,
    contacts,
    credit,
    invoicing,
    lifecycle,
    mail,
    orders,
    paymethods,
    payments,
    quotes,
    recurring,
    service_groups,
    subscriptions,
    tickets,
    vault,
)
from billdesk.services.invoicing import LineInput as L

from billing_helpers import dump, new_client

TODAY = dt.date.today()


def _build() -> dict[str, Any]:
    """An archived client with one record of every kind (ids by name), and
    another client, not archived."""
    c = new_client(first_name="Arch", last_name="Ive")
    ids: dict[str, Any] = {"client": c, "other": new_client(first_name="Still", last_name="Here")}
    affiliates.activate(ids["other"], percent="5")
    ids["contact"] = contacts.add_contact(c, {"first_name": "Con", "last_name": "Tact",
                                              "email": "contact@example.com"})
    ids["group"] = service_groups.create_group(c, "Web")
    ids["group2"] = service_groups.create_group(c, "Mail")
    ids["service"] = subscriptions.add_service(c, name="Hosting", amount="10.00", cycle="monthly",
                                               next_due=TODAY, group_id=ids["group"])
    ids["addon"] = subscriptions.add_addon(c, ids["service"], name="Backup", amount="2.50",
                                           cycle="monthly", next_due=TODAY)
    ids["domain"] = subscriptions.add_domain(c, "arch.example", amount="12.00", next_due=TODAY)
    ids["quote"] = quotes.create_quote(c, [quotes.LineInput("Design", "50.00")], subject="Redesign")
    quotes.set_stage(ids["quote"], "Lost")  # an open quote would keep the client from archiving
    ids["item"] = billable.add_item(c, description="Support call", amount="30.00", action="next")
    ids["recurring"] = recurring.add_recurring(c, [("Retainer", "25.00")], start_date=TODAY)
    ids["product"] = catalog.add_product("Plan", currency="GBP", prices={"monthly": "5.00"})
    ids["order"] = orders.place_order(c, ids["product"], "monthly")
    ids["paid"] = invoicing.create_invoice(c, [L("Setup", "40.00")])
    ids["payment"] = payments.add_payment(ids["paid"], "40.00", method="Card").transaction_id
    key = vault.set_passphrase("archive passphrase", params=vault.KdfParams(1024, 1, 1))
    ids["key"] = key
    ids["card"] = paymethods.add_card(c, number="4111111111111111", expiry="12/39",
                                      holder="Arch Ive", key=key).id
    ids["token"] = paymethods.add_token(c, gateway="Stripe", token="pm_1", holder="Arch",
                                        last_four="4242").id
    ids["ticket"] = tickets.open_ticket(c, subject="Help", message="Please help").id
    affiliates.activate(c, percent="10")
    affiliates.refer(ids["other"], c)  # the other client is an affiliate who referred this one
    ids["affiliate"] = c
    lifecycle.close_client(c)  # cancels the order's invoice and the items, stops the template
    lifecycle.archive_client(c)
    assert lifecycle.open_items(c) == [] and clients.is_archived(c)
    return ids


@pytest.fixture(scope="module")
def archived_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The archived client's book, built once (closing takes a backup) in a
    folder of its own; each test opens a copy of it."""
    from billdesk.models import close_database, init_db

    folder = tmp_path_factory.mktemp("archived")
    (folder / "home").mkdir()
    path = folder / "template.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLDESK_HOME", str(folder / "home"))
        mp.delenv("BILLDESK_DB", raising=False)
        init_db(path)
        try:
            ids = _build()
        finally:
            close_database()
    return path, ids


@pytest.fixture
def archived(archived_book: tuple[Path, dict[str, Any]], db_path: Path) -> Iterator[dict[str, Any]]:
    from billdesk.models import close_database, init_db

    template, ids = archived_book
    with sqlite3.connect(template) as source, sqlite3.connect(db_path) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    init_db(db_path)
    yield ids
    close_database()


def _other_method(ids: dict[str, Any]) -> str:
    current = Service.select(Service.payment_method).where(Service.id == ids["service"]).scalar()
    return next(m for m in billing_settings.payment_methods() if m != current)


# Every guarded write, called as by hand with values it would otherwise take
# (or refuse for another reason only after the guard).
WRITES: dict[str, Callable[[dict[str, Any]], Any]] = {
    # contacts
    "add_contact": lambda i: contacts.add_contact(
        i["client"], {"first_name": "New", "last_name": "Person", "email": "new@example.com"}),
    "update_contact": lambda i: contacts.update_contact(i["contact"], {"city": "Leeds"}),
    "delete_contact": lambda i: contacts.delete_contact(i["contact"]),
    "set_billing_contact": lambda i: contacts.set_billing_contact(i["client"], i["contact"]),
    # services, addons, domains
    "add_service": lambda i: subscriptions.add_service(i["client"], name="More", amount="5.00",
                                                       cycle="monthly"),
    "add_addon": lambda i: subscriptions.add_addon(i["client"], i["service"], name="Extra",
                                                   amount="1.00", cycle="monthly"),
    "add_domain": lambda i: subscriptions.add_domain(i["client"], "more.example", amount="9.00"),
    "edit_service": lambda i: subscriptions.edit_service(i["service"], notes="changed"),
    "mass_update": lambda i: subscriptions.mass_update([i["service"], i["addon"]],
                                                       override_suspend=True),
    "delete_services": lambda i: subscriptions.delete_services([i["domain"]]),
    "apply_client_payment_method": lambda i: subscriptions.apply_client_payment_method(
        i["client"], _other_method(i)),
    # service groups
    "create_group": lambda i: service_groups.create_group(i["client"], "Servers"),
    "update_group": lambda i: service_groups.update_group(i["group"], name="Websites"),
    "delete_group": lambda i: service_groups.delete_group(i["group"]),
    "reorder_groups": lambda i: service_groups.reorder_groups(i["client"],
                                                              [i["group2"], i["group"]]),
    "move_services": lambda i: service_groups.move_services([i["service"]], i["group2"]),
    # quotes
    "create_quote": lambda i: quotes.create_quote(i["client"], [quotes.LineInput("Logo", "20.00")]),
    "update_quote": lambda i: quotes.update_quote(i["quote"], subject="Second try"),
    "set_stage": lambda i: quotes.set_stage(i["quote"], "Draft"),
    "convert": lambda i: quotes.convert(i["quote"]),
    "delete_quote": lambda i: quotes.delete_quote(i["quote"]),
    # billable items
    "add_item": lambda i: billable.add_item(i["client"], description="Call", amount="5.00"),
    "edit_item": lambda i: billable.edit_item(i["item"], notes="changed"),
    "delete_item": lambda i: billable.delete_item(i["item"]),
    # recurring invoices
    "add_recurring": lambda i: recurring.add_recurring(i["client"], [("Care", "9.00")],
                                                       start_date=TODAY),
    "edit_recurring": lambda i: recurring.edit_recurring(i["recurring"], notes="changed"),
    "stop_recurring": lambda i: recurring.stop_recurring(i["recurring"]),
    "delete_recurring": lambda i: recurring.delete_recurring(i["recurring"]),
    # orders
    "place_order": lambda i: orders.place_order(i["client"], i["product"], "monthly"),
    "accept_order": lambda i: orders.accept_order(i["order"]),
    "cancel_order": lambda i: orders.cancel_order(i["order"]),
    # payments
    "add_payment": lambda i: payments.add_payment(i["paid"], "1.00"),
    "mark_paid": lambda i: payments.mark_paid(i["paid"]),
    "refund": lambda i: payments.refund(i["payment"], "10.00"),
    # invoices
    "create_invoice": lambda i: invoicing.create_invoice(i["client"], [L("More", "5.00")]),
    "create_add_funds": lambda i: invoicing.create_add_funds(i["client"], "10.00"),
    "publish": lambda i: invoicing.publish(i["paid"]),
    "update_invoice": lambda i: invoicing.update_invoice(i["paid"], notes="changed"),
    "cancel_invoice": lambda i: invoicing.cancel_invoice(i["paid"]),
    "delete_draft": lambda i: invoicing.delete_draft(i["paid"]),
    "split_invoice": lambda i: invoicing.split_invoice(i["paid"], []),
    # credit
    "add_credit": lambda i: credit.add_credit(i["client"], "5.00", "Goodwill"),
    "remove_credit": lambda i: credit.remove_credit(i["client"], "5.00", "Correction"),
    "adjust_balance": lambda i: credit.adjust_balance(i["client"], "7.00", "Correction"),
    # email by hand
    "queue_message": lambda i: mail.queue_message(i["client"], subject="Hello", body="Hi"),
    # pay methods (K2)
    "add_card": lambda i: paymethods.add_card(i["client"], number="5555555555554444",
                                              expiry="11/38", holder="Arch Ive",
                                              key=i["key"]),
    "add_bank": lambda i: paymethods.add_bank(i["client"], account="GB82WEST12345698765432",
                                              bank_name="West", holder="Arch Ive",
                                              key=i["key"]),
    "add_token": lambda i: paymethods.add_token(i["client"], gateway="Stripe", token="pm_2",
                                                holder="Arch", last_four="1881"),
    "set_default_pay_method": lambda i: paymethods.set_default(i["token"]),
    "delete_pay_method": lambda i: paymethods.delete(i["card"]),
    # tickets (F3)
    "open_ticket": lambda i: tickets.open_ticket(i["client"], subject="More", message="Hi"),
    "reply_ticket": lambda i: tickets.reply(i["ticket"], message="Answer"),
    "set_ticket_status": lambda i: tickets.set_status(i["ticket"], "Answered"),
    "set_ticket_priority": lambda i: tickets.set_priority(i["ticket"], "High"),
    "delete_ticket": lambda i: tickets.delete_ticket(i["ticket"]),
    # affiliates (F4)
    "update_commission": lambda i: affiliates.update_commission(i["affiliate"], percent="20"),
    "deactivate_affiliate": lambda i: affiliates.deactivate(i["affiliate"]),
    "refer_to_archived": lambda i: affiliates.refer(i["affiliate"], i["other"]),
    "unrefer": lambda i: affiliates.unrefer(i["client"]),
    # the profile
    "update_client": lambda i: clients.update_client(i["client"], {"city": "York"}),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_an_archived_clients_records_are_read_only(archived: dict[str, Any], name: str) -> None:
    before = dump()
    with pytest.raises(Conflict) as info:
        WRITES[name](archived)
    assert info.value.field == "client", info.value
    assert info.value.message == f"#{archived['client']} is archived: unarchive it to change it"
    assert dump() == before


# The same writes, after unarchiving, do what they did before C11 (those
# that the closed client's records refuse for their own reasons are left
# out: a paid invoice takes no payment, a stopped template does not stop).
WORKS_AGAIN = ["update_contact", "add_service", "edit_service", "move_services", "update_quote",
               "edit_item", "delete_recurring", "accept_order", "refund"]


@pytest.mark.parametrize("name", WORKS_AGAIN)
def test_after_unarchiving_the_writes_work_again(archived: dict[str, Any], name: str) -> None:
    lifecycle.unarchive_client(archived["client"])
    before = dump()
    WRITES[name](archived)
    assert dump() != before


def test_another_clients_records_stay_writable(archived: dict[str, Any]) -> None:
    other = archived["other"]
    contact = contacts.add_contact(other, {"first_name": "Co", "last_name": "Worker",
                                           "email": "co@example.com"})
    contacts.set_billing_contact(other, contact)
    group = service_groups.create_group(other, "Web")
    service = subscriptions.add_service(other, name="Hosting", amount="10.00", cycle="monthly",
                                        group_id=group)
    subscriptions.edit_service(service, notes="fine")
    quote = quotes.create_quote(other, [quotes.LineInput("Design", "50.00")])
    quotes.convert(quote)
    billable.add_item(other, description="Call", amount="5.00")
    recurring.add_recurring(other, [("Care", "9.00")], start_date=TODAY)
    order = orders.place_order(other, archived["product"], "monthly")
    orders.accept_order(order)
    assert Service.select().where(Service.client == other).count() == 2
