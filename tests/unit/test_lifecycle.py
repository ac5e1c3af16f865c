"""A client's lifecycle (C7–C11) on a real book: currency change, merge,
close, delete, archive, anonymize — each amount written by hand, each
destructive action's backup opened and checked."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from peewee import fn

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import (
    Affiliate,
    AffiliateCommission,
    AffiliatePayout,
    AffiliateReferral,
    BillableItem,
    Client,
    ClientLog,
    Contact,
    CreditEntry,
    Email,
    Invoice,
    InvoiceLine,
    Order,
    PayMethod,
    Quote,
    RecurringInvoice,
    RecurringLine,
    Service,
    ServiceGroup,
    Ticket,
    TicketReply,
    Transaction,
    database,
    now,
)
from billdesk.models.tables import ClientFile, ClientNote
from billdesk import paths
from billdesk.services import (
    affiliates,
    backup,
    billable,
    billing_settings,
    catalog,
    changelog,
    clientlist,
    clients,
    contacts,
    credit,
    files,
    invoicing,
    lifecycle,
    mail,
    notes,
    orders,
    payments,
    quotes,
    recurring,
    service_groups,
    subscriptions,
    paymethods,
    tickets,
    vault,
)
from billdesk.services.invoicing import LineInput as L

from billing_helpers import check_invariants, dump, m, new_client

TODAY = dt.date.today()


# --------------------------------------------------------------------------- a client with everything

def populate(client_id: int, tag: str, currency: str = "GBP") -> dict[str, int]:
    """One record of every kind a client can have, amounts in ``currency``."""
    ids: dict[str, int] = {}
    ids["contact"] = contacts.add_contact(client_id, {"first_name": "Con", "last_name": tag,
                                                      "email": f"contact-{tag}@example.com"})
    ids["group"] = service_groups.create_group(client_id, "Web")
    ids["service"] = subscriptions.add_service(client_id, name=f"Hosting {tag}", amount="10.00",
                                               cycle="monthly", next_due=TODAY,
                                               group_id=ids["group"], notes="root password hint")
    ids["addon"] = subscriptions.add_addon(client_id, ids["service"], name="Backup", amount="2.50",
                                           cycle="monthly", next_due=TODAY)
    ids["domain"] = subscriptions.add_domain(client_id, f"{tag}.example", amount="12.00",
                                             next_due=TODAY)
    ids["unpaid"] = invoicing.create_invoice(client_id, [L("Consulting", "100.00")])
    payments.add_payment(ids["unpaid"], "20.00", method="Card")
    ids["paid"] = invoicing.create_invoice(client_id, [L("Setup", "40.00")])
    payments.add_payment(ids["paid"], "40.00", method="Card")
    credit.add_credit(client_id, "10.00", "Goodwill")
    ids["quote"] = quotes.create_quote(client_id, [quotes.LineInput("Design", "50.00")],
                                       subject="Redesign", customer_notes="call after 5")
    ids["item"] = billable.add_item(client_id, description="Support call", amount="30.00",
                                    action="next")
    ids["recurring"] = recurring.add_recurring(client_id, [("Retainer", "25.00")], start_date=TODAY,
                                               notes="monthly")
    product = catalog.add_product(f"Plan {tag}", currency=currency, prices={"monthly": "5.00"})
    ids["order"] = orders.place_order(client_id, product, "monthly", notes="by phone")
    ids["email"] = mail.queue_message(client_id, subject="Hello", body="Hi there")
    ids["note"] = notes.add_note(client_id, f"note {tag}")
    upload = paths.data_dir() / f"passport-{tag}.txt"
    upload.write_text(f"passport of {tag}")
    ids["file"] = files.add_file(client_id, upload)
    return ids


CARD_A, CARD_B = "4111111111111111", "5555555555554444"  # test numbers (Luhn-valid)


@pytest.fixture
def key(db) -> vault.Key:  # noqa: ANN001
    """The book's vault, with cheap Argon2id parameters (tests only)."""
    return vault.set_passphrase("correct horse", params=vault.KdfParams(1024, 1, 1))


def add_card(client_id: int, key: vault.Key, number: str) -> int:
    """A stored card (services/paymethods.py): a client's first is its default."""
    return paymethods.add_card(client_id, number=number, expiry="12/31", holder="Card Holder",
                               key=key).id


def open_ticket(client_id: int, subject: str) -> int:
    """A ticket with the opening message and one reply (so: Answered)."""
    ticket = tickets.open_ticket(client_id, subject=subject, message=f"{subject}: please help")
    tickets.reply(ticket.id, message="Looking into it")
    return ticket.id


def activate(client_id: int, percent: str = "10") -> int:
    return affiliates.activate(client_id, percent=percent).id


def paid_invoice(client_id: int, amount: str) -> int:
    invoice = invoicing.create_invoice(client_id, [L("Hosting", amount)])
    payments.add_payment(invoice, amount)
    return invoice


def affiliate_figures(client_id: int) -> tuple[int, int, int]:
    """(referrals, commissions earned, paid out) of the client's affiliate
    account, from the rows."""
    aff = Affiliate.select(Affiliate.id).where(Affiliate.client == client_id).scalar()
    earned = (AffiliateCommission.select(fn.COALESCE(fn.SUM(AffiliateCommission.amount), 0))
              .where(AffiliateCommission.affiliate == aff).scalar())
    paid = (AffiliatePayout.select(fn.COALESCE(fn.SUM(AffiliatePayout.amount), 0))
            .where(AffiliatePayout.affiliate == aff).scalar())
    return (AffiliateReferral.select().where(AffiliateReferral.affiliate == aff).count(),
            earned, paid)


@pytest.fixture
def family(db, key: vault.Key) -> dict[str, int]:  # noqa: ANN001
    """``two``'s Jane (a) and John (b), and: each has a default card and a
    ticket with two messages; Jane was referred by Rita (an affiliate at
    10 %, who earns on Jane's paid invoices) and is an affiliate herself
    at 10 %: she referred Carl, earned 5.00 on his paid 50.00 invoice and
    was paid 3.00 out. Commissions are payable the day they are earned."""
    affiliates.set_delay_days(0)
    a = new_client(first_name="Jane", last_name="Doe", company="Doe Ltd")
    b = new_client(first_name="John", last_name="Roe")
    ids = {"a": a, "b": b, "rita": new_client(first_name="Rita", last_name="Referrer")}
    activate(ids["rita"])
    affiliates.refer(ids["rita"], a)
    populate(a, "a")  # its paid invoices earn Rita her commissions
    populate(b, "b")
    ids["card_a"], ids["card_b"] = add_card(a, key, CARD_A), add_card(b, key, CARD_B)
    ids["ticket_a"], ids["ticket_b"] = open_ticket(a, "Login"), open_ticket(b, "Invoice")
    activate(a)
    ids["carl"] = new_client(first_name="Carl", last_name="Customer")
    affiliates.refer(a, ids["carl"])
    paid_invoice(ids["carl"], "50.00")
    affiliates.record_payout(a, amount="3.00", method="Bank transfer",
                             notes="paid to Jane's account")
    assert affiliate_figures(a) == (1, 500, 300)
    assert affiliate_figures(ids["rita"])[1] > 0
    return ids


def money_totals(client_id: int) -> dict[str, int]:
    def total(column, where):  # noqa: ANN001
        return int(column.model.select(fn.COALESCE(fn.SUM(column), 0)).where(where).scalar())

    return {
        "invoiced": total(Invoice.total, Invoice.client == client_id),
        "paid": total(Invoice.paid, Invoice.client == client_id),
        "received": total(Transaction.amount_in, Transaction.client == client_id),
        "ledger": total(CreditEntry.amount, CreditEntry.client == client_id),
        "services": total(Service.amount, Service.client == client_id),
        "quoted": total(Quote.total, Quote.client == client_id),
        "items": total(BillableItem.amount, BillableItem.client == client_id),
        "orders": total(Order.amount, Order.client == client_id),
    }


def fk_problems() -> list[tuple]:
    return database.execute_sql("PRAGMA foreign_key_check").fetchall()


def open_backup(path: Path) -> sqlite3.Connection:
    assert path.exists() and path.parent == backup.book_folder()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return con


def refused(exc_type: type[Exception], field: str, call, *args, **kwargs) -> Exception:  # noqa: ANN001
    before = dump()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert info.value.field == field, info.value
    assert dump() == before
    return info.value


@pytest.fixture
def two(db) -> tuple[int, int]:  # noqa: ANN001
    a = new_client(first_name="Jane", last_name="Doe", company="Doe Ltd")
    b = new_client(first_name="John", last_name="Roe")
    populate(a, "a")
    populate(b, "b")
    return a, b


# --------------------------------------------------------------------------- schema

def test_the_referencing_tables_come_from_the_schema(db) -> None:  # noqa: ANN001
    tables = {r.table for r in lifecycle.references()}
    assert {"invoice", "txn", "credit_entry", "service", "contact", "client_log", "client_file",
            "client_note", "email", "quote", "billable_item", "recurring_invoice", "client_order",
            "service_group", "pay_method", "ticket", "affiliate", "affiliate_referral",
            "affiliate_commission"} <= tables
    assert {r.table for r in lifecycle.references() if r.on_delete == "SET NULL"} == {
        "txn", "affiliate_commission"}  # kept when the client is deleted


def test_a_table_added_later_is_found_and_merged(two: tuple[int, int]) -> None:
    a, b = two
    database.execute_sql("CREATE TABLE loyalty (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL "
                         "REFERENCES client (id) ON DELETE CASCADE, points INTEGER)")
    database.execute_sql("INSERT INTO loyalty (client_id, points) VALUES (?, 5), (?, 7)", (a, b))
    assert lifecycle.record_counts(a)["loyalty"] == 1
    result = lifecycle.merge_clients(a, b)
    assert result.moved["loyalty"] == 1
    assert database.execute_sql("SELECT sum(points), count(*) FROM loyalty WHERE client_id = ?",
                                (b,)).fetchone() == (12, 2)


def test_a_later_unique_index_that_would_break_is_refused(two: tuple[int, int]) -> None:
    a, b = two
    database.execute_sql("CREATE TABLE portal (client_id INTEGER NOT NULL UNIQUE "
                         "REFERENCES client (id) ON DELETE CASCADE, login TEXT)")
    database.execute_sql("INSERT INTO portal VALUES (?, 'jane'), (?, 'john')", (a, b))
    error = refused(Conflict, "client", lifecycle.merge_clients, a, b)
    assert "portal" in error.message


# --------------------------------------------------------------------------- C8 merge

def test_merge_moves_everything_and_the_sums_add_up(family: dict[str, int],
                                                   key: vault.Key) -> None:
    a, b = family["a"], family["b"]
    every_kind = {r.table for r in lifecycle.references()}
    assert set(lifecycle.record_counts(a)) == every_kind  # the test covers every kind there is
    counts_a, counts_b = lifecycle.record_counts(a), lifecycle.record_counts(b)
    money_a, money_b = money_totals(a), money_totals(b)
    credit_a, credit_b = credit.balance(a), credit.balance(b)
    assert credit_a == m("5.00") == credit_b  # 10.00 added, 5.00 paid the order's invoice
    rita = affiliate_figures(family["rita"])
    earned_on_a = {c for c, in AffiliateCommission.select(AffiliateCommission.id)
                   .where(AffiliateCommission.client == a).tuples()}
    assert earned_on_a  # Rita's, on a's paid invoices

    preview = lifecycle.merge_preview(a, b)
    assert preview.counts == counts_a and preview.currency_conflict is None
    assert preview.source["first_name"] == "Jane" and preview.into["first_name"] == "John"
    result = lifecycle.merge_clients(a, b)

    assert (result.id, result.merged, result.keep) == (b, a, "target")
    assert result.moved == counts_a
    after = lifecycle.record_counts(b)
    for table in every_kind - {"client_log"}:
        assert after[table] == counts_a[table] + counts_b.get(table, 0), table
    assert after["client_log"] >= counts_a["client_log"] + counts_b["client_log"] + 1
    assert money_totals(b) == {k: money_a[k] + money_b[k] for k in money_a}
    assert credit.balance(b) == m("10.00") == credit.ledger_sum(b)
    for ref in lifecycle.references():
        assert not database.execute_sql(f"SELECT count(*) FROM {ref.table} WHERE {ref.column} = ?",
                                        (a,)).fetchone()[0], ref
    assert fk_problems() == []
    with pytest.raises(NotFound):
        clients.get_client(a)
    check_invariants(b)
    # both "Web" service groups stay, the moved one renamed
    assert sorted(n for n, in ServiceGroup.select(ServiceGroup.name)
                  .where(ServiceGroup.client == b).tuples()) == ["Web", f"Web (from #{a})"]
    assert clients.get_client(b).values["first_name"] == "John"  # the target's profile
    message = changelog.entries(b)[0].message
    assert message.startswith(f"Merged #{a} Jane Doe <")
    assert "3 invoices" in message and "credit GBP 5.00" in message
    assert "service group 'Web' renamed" in message
    assert [e for e in changelog.entries(b) if e.field == "Credit balance"][0].new_value == "10.00"

    # pay methods: both cards with b, b's the default; a's still decrypts
    # (its associated data is its row id, which the merge keeps)
    assert sorted(PayMethod.select(PayMethod.id, PayMethod.is_default)
                  .where(PayMethod.client == b).tuples()) == sorted(
        [(family["card_a"], False), (family["card_b"], True)])
    assert paymethods.reveal(family["card_a"], key) == CARD_A
    assert paymethods.reveal(family["card_b"], key) == CARD_B
    assert [p.id for p in paymethods.list_pay_methods(b)] == [family["card_b"], family["card_a"]]
    assert "default pay method is no longer the default" in message
    # tickets with their messages
    assert {t for t, in Ticket.select(Ticket.id).where(Ticket.client == b).tuples()} == {
        family["ticket_a"], family["ticket_b"]}
    assert TicketReply.select().where(TicketReply.ticket == family["ticket_a"]).count() == 2
    # a's affiliate account is b's now, under b's id; Rita's referral and
    # her commission on a's invoice follow a to b
    assert list(Affiliate.select(Affiliate.id, Affiliate.client)
                .where(Affiliate.client.in_([a, b])).tuples()) == [(b, b)]
    assert affiliate_figures(b) == (1, 500, 300)
    assert affiliates.summary(b).balance == m("2.00")  # 5.00 earned, 3.00 paid out
    assert AffiliateReferral.get(AffiliateReferral.client == family["carl"]).affiliate_id == b
    assert affiliates.referred_by(b) == (family["rita"], "Rita Referrer")
    assert affiliate_figures(family["rita"]) == rita  # she keeps her referral and earnings
    assert {c for c, in AffiliateCommission.select(AffiliateCommission.id)
            .where(AffiliateCommission.client == b).tuples()} == earned_on_a
    # Carl's next paid invoice earns the kept client
    paid_invoice(family["carl"], "10.00")
    assert affiliate_figures(b) == (1, 600, 300)


def test_merge_of_two_affiliates_combines_them(family: dict[str, int]) -> None:
    a, b = family["a"], family["b"]
    activate(b, "15")
    dora = new_client(first_name="Dora", last_name="Customer")
    affiliates.refer(b, dora)
    paid_invoice(dora, "20.00")
    affiliates.record_payout(b, amount="1.00")
    figures_a, figures_b = affiliate_figures(a), affiliate_figures(b)
    assert figures_b == (1, 300, 100)
    balance = affiliates.balance(a) + affiliates.balance(b)

    result = lifecycle.merge_clients(a, b)

    assert list(Affiliate.select(Affiliate.id, Affiliate.client, Affiliate.commission_value)
                .where(Affiliate.client.in_([a, b])).tuples()) == [(b, b, 1500)]  # b's terms
    assert not Affiliate.select().where(Affiliate.id == a).exists()
    assert affiliate_figures(b) == tuple(x + y for x, y in zip(figures_a, figures_b))
    assert affiliates.balance(b) == balance == m("4.00")  # (5.00 − 3.00) + (3.00 − 1.00)
    assert {c for c, in AffiliateReferral.select(AffiliateReferral.client)
            .where(AffiliateReferral.affiliate == b).tuples()} == {family["carl"], dora}
    assert result.moved["affiliate_referral"] == 1  # a's own referral by Rita
    assert fk_problems() == []


def test_merge_of_two_referred_clients_keeps_the_kept_ones_referral(
        family: dict[str, int]) -> None:
    a, b = family["a"], family["b"]
    ben = new_client(first_name="Ben", last_name="Referrer")
    activate(ben)
    affiliates.refer(ben, b)
    rita_before = affiliate_figures(family["rita"])

    lifecycle.merge_clients(a, b)

    assert list(AffiliateReferral.select(AffiliateReferral.affiliate)
                .where(AffiliateReferral.client == b).tuples()) == [(ben,)]
    assert affiliate_figures(family["rita"]) == (0, *rita_before[1:])  # a's referral dropped
    # Rita keeps what she earned on a's invoice: money, now with b
    assert AffiliateCommission.get(AffiliateCommission.affiliate == family["rita"]).client_id == b
    assert fk_problems() == []


@pytest.mark.parametrize("referrer", ["kept", "merged"])
def test_merge_drops_a_referral_that_would_refer_itself(db, referrer: str) -> None:  # noqa: ANN001
    """The source referred by the kept client, or the kept client by the
    source: after the merge the client would refer itself."""
    a = new_client(first_name="Jane", last_name="Doe")
    b = new_client(first_name="John", last_name="Roe")
    affiliate, referred = (b, a) if referrer == "kept" else (a, b)
    activate(affiliate)
    affiliates.refer(affiliate, referred)
    invoice = paid_invoice(referred, "30.00")
    earned = AffiliateCommission.get(AffiliateCommission.invoice == invoice).id

    lifecycle.merge_clients(a, b)

    assert not AffiliateReferral.select().exists()
    assert list(Affiliate.select(Affiliate.id, Affiliate.client).tuples()) == [(b, b)]
    # the commission already earned is money: it stays
    assert (AffiliateCommission.select(AffiliateCommission.affiliate, AffiliateCommission.client,
                                       AffiliateCommission.amount)
            .where(AffiliateCommission.id == earned).tuples().first()) == (b, b, 300)
    assert fk_problems() == []


def test_merge_keeps_the_sources_default_card_when_the_kept_client_has_none(
        two: tuple[int, int], key: vault.Key) -> None:
    a, b = two
    card_a = add_card(a, key, CARD_A)
    card_b = add_card(b, key, CARD_B)
    with database.atomic():  # a book from before one default was kept per client
        PayMethod.update(is_default=False).where(PayMethod.id == card_b).execute()
    lifecycle.merge_clients(a, b)
    assert dict(PayMethod.select(PayMethod.id, PayMethod.is_default)
                .where(PayMethod.client == b).tuples()) == {card_a: True, card_b: False}
    assert "default pay method" not in changelog.entries(b)[0].message


def test_merge_keeping_the_source_profile_keeps_search_right(two: tuple[int, int]) -> None:
    a, b = two
    email_a = clients.get_client(a).values["email"]
    lifecycle.merge_clients(a, b, keep="source")
    kept = clients.get_client(b)
    assert (kept.values["first_name"], kept.values["last_name"], kept.values["company"],
            kept.values["email"]) == ("Jane", "Doe", "Doe Ltd", email_a)
    assert clients.email_owner(email_a) == b
    found = clientlist.page(clientlist.ClientQuery(search="Jane Doe"))
    assert [r.id for r in found] == [b]
    assert clientlist.page(clientlist.ClientQuery(search="John Roe")) == []
    assert clientlist.count(clientlist.ClientQuery()) == 1
    fields = {e.field for e in changelog.entries(b)}
    assert {"First name", "Email"} <= fields


def test_merge_across_currencies_is_refused_while_the_source_has_money(db) -> None:  # noqa: ANN001
    billing_settings.set_currency_rate("EUR", "0.92")
    a = new_client(currency="EUR")
    b = new_client()
    invoicing.create_invoice(a, [L("Work", "10.00")])
    error = refused(Conflict, "currency", lifecycle.merge_clients, a, b)
    assert "change #%d's currency to GBP first" % a in error.message
    c = new_client(currency="EUR")  # only a contact: nothing in EUR to move
    contacts.add_contact(c, {"first_name": "X", "last_name": "Y", "email": "xy@example.com"})
    assert lifecycle.merge_clients(c, b).moved["contact"] == 1
    d = new_client(currency="EUR")  # an affiliate: its commissions would be in EUR
    activate(d)
    error = refused(Conflict, "currency", lifecycle.merge_clients, d, b)
    assert "1 affiliate record" in error.message


def test_merge_refusals(two: tuple[int, int]) -> None:
    a, b = two
    refused(InvalidInput, "into", lifecycle.merge_clients, a, a)
    refused(InvalidInput, "keep", lifecycle.merge_clients, a, b, keep="both")
    refused(NotFound, "id", lifecycle.merge_clients, a, 999)


def test_merge_takes_a_backup_that_holds_both_clients(two: tuple[int, int]) -> None:
    a, b = two
    result = lifecycle.merge_clients(a, b)
    con = open_backup(result.backup)
    assert "before-merge" in result.backup.name
    assert con.execute("SELECT first_name FROM client WHERE id = ?", (a,)).fetchone() == ("Jane",)
    assert con.execute("SELECT count(*) FROM invoice WHERE client_id = ?", (a,)).fetchone() == (3,)
    con.close()


# --------------------------------------------------------------------------- C9 close

def test_close_cancels_what_is_open_and_keeps_everything(db) -> None:  # noqa: ANN001
    c = new_client()
    service = subscriptions.add_service(c, name="Hosting", amount="10.00", cycle="monthly",
                                        next_due=TODAY)
    suspended = subscriptions.add_service(c, name="VPS", amount="20.00", cycle="monthly",
                                          next_due=TODAY, status="Suspended")
    gone = subscriptions.add_service(c, name="Old", amount="5.00", cycle="monthly",
                                     next_due=TODAY, status="Terminated")
    domain = subscriptions.add_domain(c, "close.example", amount="12.00", next_due=TODAY)
    unpaid = invoicing.create_invoice(c, [L("Work", "100.00")])
    credit.add_credit(c, "30.00", "Goodwill")
    invoicing.apply_credit(unpaid, "30.00")
    part_paid = invoicing.create_invoice(c, [L("More", "50.00")])
    payments.add_payment(part_paid, "20.00")
    paid = invoicing.create_invoice(c, [L("Done", "40.00")])
    payments.add_payment(paid, "40.00")
    draft = invoicing.create_invoice(c, [L("Later", "5.00")], draft=True)
    template = recurring.add_recurring(c, [("Retainer", "25.00")], start_date=TODAY)
    item = billable.add_item(c, description="Call", amount="15.00", action="next")
    answered = open_ticket(c, "Login")  # Answered
    waiting = tickets.open_ticket(c, subject="Refund", message="Where is it?").id  # Open
    done = open_ticket(c, "Old")
    tickets.close(done)
    counts = lifecycle.record_counts(c)
    assert credit.balance(c) == m("0.00")
    assert "2 unpaid invoices cancelled (GBP 100.00)" in lifecycle.impact(c, "close").text()
    assert "2 open tickets closed" in lifecycle.impact(c, "close").text()

    result = lifecycle.close_client(c)
    assert ("Client closed", f"backup {result.backup.name}") in [
        (e.message, e.reason) for e in changelog.entries(c)]

    assert Client.get_by_id(c).status == "Closed"
    status = dict(Invoice.select(Invoice.id, Invoice.status).where(Invoice.client == c).tuples())
    assert status == {unpaid: "Cancelled", part_paid: "Cancelled", paid: "Paid", draft: "Cancelled"}
    items = dict(Service.select(Service.id, Service.status).where(Service.client == c).tuples())
    assert items == {service: "Cancelled", suspended: "Cancelled", gone: "Terminated",
                     domain: "Cancelled"}
    assert RecurringInvoice.get_by_id(template).status == "Stopped"
    assert BillableItem.get_by_id(item).action == "none"
    # the applied credit and the part payment came back as credit
    assert credit.balance(c) == m("50.00") == credit.ledger_sum(c)
    assert result.credit_returned == m("50.00")
    assert (len(result.invoices_cancelled), len(result.items_cancelled),
            len(result.recurring_stopped), len(result.billable_stopped)) == (3, 3, 1, 1)
    assert result.tickets_closed == [answered, waiting]
    assert result.as_json()["tickets_closed"] == 2
    assert {s for s, in Ticket.select(Ticket.status).where(Ticket.client == c).tuples()} == {
        "Closed"}
    assert TicketReply.select().count() == 5  # the threads stay
    logged = {(e.field, e.old_value, e.new_value) for e in changelog.entries(c)}
    assert {(f"Ticket #{answered} status", "Answered", "Closed"),
            (f"Ticket #{waiting} status", "Open", "Closed")} <= logged
    after = lifecycle.record_counts(c)
    assert {t: n for t, n in after.items() if t not in ("client_log", "credit_entry")} == {
        t: n for t, n in counts.items() if t not in ("client_log", "credit_entry")}  # nothing deleted
    assert after["credit_entry"] == counts["credit_entry"] + 2
    check_invariants(c)
    assert lifecycle.open_items(c) == []
    con = open_backup(result.backup)
    assert con.execute("SELECT status FROM client WHERE id = ?", (c,)).fetchone() == ("Active",)
    assert con.execute("SELECT status FROM invoice WHERE id = ?", (unpaid,)).fetchone() == ("Unpaid",)
    con.close()


# --------------------------------------------------------------------------- C10 delete

def test_delete_keeps_only_the_transactions(two: tuple[int, int]) -> None:
    a, b = two
    name = clients.get_client(a).display_name
    tx_before = list(Transaction.select(Transaction.id, Transaction.amount_in, Transaction.currency)
                     .where(Transaction.client == a).tuples())
    assert len(tx_before) == 2  # the part payment and the paid invoice
    Transaction.update(client_name="").where(Transaction.id == tx_before[0][0]).execute()
    other = lifecycle.record_counts(b), money_totals(b)
    assert "transactions kept" in lifecycle.impact(a, "delete").text()

    result = lifecycle.delete_client(a)

    assert (result.transactions_kept, result.transactions_deleted) == (2, 0)
    for ref in lifecycle.references():
        assert not database.execute_sql(f"SELECT count(*) FROM {ref.table} WHERE {ref.column} = ?",
                                        (a,)).fetchone()[0], ref
    kept = list(Transaction.select(Transaction.id, Transaction.amount_in, Transaction.currency,
                                   Transaction.client, Transaction.client_name)
                .where(Transaction.id.in_([t[0] for t in tx_before])).tuples())
    assert [(i, amount, cur) for i, amount, cur, _, _ in kept] == tx_before
    assert {(client, client_name) for *_, client, client_name in kept} == {(None, name)}
    assert not Client.select().where(Client.id == a).exists()
    assert fk_problems() == []
    assert (lifecycle.record_counts(b), money_totals(b)) == other
    check_invariants(b)
    with pytest.raises(NotFound):
        clients.get_client(a)
    con = open_backup(result.backup)
    assert con.execute("SELECT first_name, last_name FROM client WHERE id = ?",
                       (a,)).fetchone() == ("Jane", "Doe")
    assert con.execute("SELECT count(*) FROM invoice WHERE client_id = ?", (a,)).fetchone() == (3,)
    con.close()


def test_delete_takes_pay_methods_tickets_and_the_affiliate_account(
        family: dict[str, int]) -> None:
    a, b = family["a"], family["b"]
    ritas = list(AffiliateCommission.select(AffiliateCommission.id, AffiliateCommission.amount,
                                            AffiliateCommission.invoice_number)
                 .where(AffiliateCommission.client == a).order_by(AffiliateCommission.id).tuples())
    assert ritas and affiliate_figures(family["rita"]) == (1, sum(r[1] for r in ritas), 0)
    impact = lifecycle.impact(a, "delete").text()
    for words in ("1 pay method", "1 ticket", "1 affiliate record", "1 referral",
                  "their affiliate account's records: 1 referral, 1 commission (GBP 5.00), "
                  "1 payout (GBP 3.00)",
                  f"{len(ritas)} commission{'s' if len(ritas) != 1 else ''} earned on their "
                  "invoices kept for the affiliate"):
        assert words in impact, words
    other = lifecycle.record_counts(b)

    result = lifecycle.delete_client(a)

    assert {t: result.deleted[t] for t in ("pay_method", "ticket", "affiliate",
                                           "affiliate_referral", "affiliate_commission",
                                           "affiliate_payout")} == {
        "pay_method": 1, "ticket": 1, "affiliate": 1,
        "affiliate_referral": 2,  # Rita's of a, a's of Carl
        "affiliate_commission": 1, "affiliate_payout": 1}  # a's own, on Carl's invoice
    assert result.unlinked == {"affiliate_commission": len(ritas)}
    assert result.as_json()["unlinked"] == {"affiliate_commission": len(ritas)}
    assert not PayMethod.select().where(PayMethod.id == family["card_a"]).exists()
    assert not TicketReply.select().where(TicketReply.ticket == family["ticket_a"]).exists()
    assert not Affiliate.select().where(Affiliate.client == a).exists()
    assert not AffiliateReferral.select().where(AffiliateReferral.client == family["carl"]).exists()
    assert AffiliatePayout.select().count() == 0
    # Rita's earnings on a's invoices stay, no longer linked to a (nor to
    # the gone invoices), with the invoices' numbers
    assert list(AffiliateCommission.select(
        AffiliateCommission.id, AffiliateCommission.amount, AffiliateCommission.invoice_number,
        AffiliateCommission.affiliate, AffiliateCommission.client, AffiliateCommission.invoice)
        .where(AffiliateCommission.id.in_([r[0] for r in ritas]))
        .order_by(AffiliateCommission.id).tuples()) == [(*r, family["rita"], None, None)
                                                        for r in ritas]
    assert affiliate_figures(family["rita"]) == (0, sum(r[1] for r in ritas), 0)
    assert lifecycle.record_counts(b) == other
    assert fk_problems() == []


def test_delete_with_transactions(two: tuple[int, int]) -> None:
    a, b = two
    ids = [t for t, in Transaction.select(Transaction.id).where(Transaction.client == a).tuples()]
    result = lifecycle.delete_client(a, with_transactions=True)
    assert (result.transactions_kept, result.transactions_deleted) == (0, 2)
    assert not Transaction.select().where(Transaction.id.in_(ids)).exists()
    assert fk_problems() == []
    check_invariants(b)


# --------------------------------------------------------------------------- C11 archive

def test_archive_needs_nothing_open_and_makes_the_client_read_only(db) -> None:  # noqa: ANN001
    c = new_client(first_name="Arch", last_name="Ive")
    new_client(first_name="Other", last_name="One")
    inv = invoicing.create_invoice(c, [L("Work", "10.00")])
    subscriptions.add_service(c, name="Hosting", amount="10.00", cycle="monthly", next_due=TODAY)
    error = refused(Conflict, "client", lifecycle.archive_client, c)
    assert "1 open invoice," in error.message and "close the account" in error.message
    assert "1 pending, active or suspended service, addon or domain" in error.message
    payments.add_payment(inv, "10.00")
    lifecycle.close_client(c)
    assert "hidden from the client list" in lifecycle.impact(c, "archive").text()
    result = lifecycle.archive_client(c)
    assert result.backup.exists() and "before-archive" in result.backup.name
    assert ("backup " + result.backup.name) in [e.reason for e in changelog.entries(c)]

    assert clients.get_client(c).archived is True
    assert clients.get_client(c).as_json()["archived"] is True
    everyone = clientlist.ClientQuery(archived=True)
    assert [r.id for r in clientlist.page(clientlist.ClientQuery())] != []
    assert c not in [r.id for r in clientlist.page(clientlist.ClientQuery())]
    assert c in [r.id for r in clientlist.page(everyone)]
    assert clientlist.count(clientlist.ClientQuery()) == 1 and clientlist.count(everyone) == 2
    assert clientlist.page(clientlist.ClientQuery(search="Arch")) == []
    assert clientlist.count(clientlist.ClientQuery(search="Arch")) == 0
    assert clientlist.count(clientlist.ClientQuery(search="Arch", archived=True)) == 1
    assert clientlist.count(clientlist.ClientQuery(status="Closed")) == 0
    assert clientlist.count(clientlist.ClientQuery(status="Closed", archived=True)) == 1
    for sort in clientlist.SORTS:
        assert [r.id for r in clientlist.page(clientlist.ClientQuery(sort=sort))] == [c + 1]
    row = clientlist.page(everyone.with_(search="Arch"))[0]
    assert row.archived is True and row.as_json()["archived"] is True

    error = refused(Conflict, "client", clients.update_client, c, {"city": "Leeds"})
    assert error.message == f"#{c} is archived: unarchive it to change it"
    refused(Conflict, "client", lifecycle.archive_client, c)
    refused(Conflict, "client", lifecycle.merge_clients, c, c + 1)
    refused(Conflict, "client", lifecycle.change_currency, c, "USD", convert=False)
    lifecycle.unarchive_client(c)
    clients.update_client(c, {"city": "Leeds"})
    refused(Conflict, "client", lifecycle.unarchive_client, c)
    logged = [(e.field, e.old_value, e.new_value) for e in changelog.entries(c)]
    assert ("Archived", "No", "Yes") in logged and ("Archived", "Yes", "No") in logged


def test_archive_refusal_names_every_open_thing(db) -> None:  # noqa: ANN001
    c = new_client()
    recurring.add_recurring(c, [("Retainer", "25.00")], start_date=TODAY)
    billable.add_item(c, description="Call", amount="15.00", action="next")
    quotes.create_quote(c, [quotes.LineInput("Design", "50.00")])
    invoicing.create_invoice(c, [L("Later", "5.00")], draft=True)
    error = refused(Conflict, "client", lifecycle.archive_client, c)
    tickets.open_ticket(c, subject="Help", message="Please")
    error = refused(Conflict, "client", lifecycle.archive_client, c)
    for words in ("1 open invoice,", "1 active recurring invoice,",
                  "1 billable item waiting to be invoiced,", "1 open quote,", "1 open ticket:"):
        assert words in error.message, words
    assert lifecycle.open_items(c) == [
        "1 open invoice", "1 active recurring invoice", "1 billable item waiting to be invoiced",
        "1 open quote", "1 open ticket"]
    assert "before-archive" not in [b.reason for b in backup.backups()]  # refused before it


# --------------------------------------------------------------------------- C11 anonymize

def test_anonymize_replaces_personal_data_and_keeps_the_billing(family: dict[str, int]) -> None:
    a, b = family["a"], family["b"]
    clients.update_client(a, {"phone": "+44 20 7946 0000", "address1": "1 High St",
                              "city": "Leeds", "postcode": "LS1 1AA", "tax_id": "GB123",
                              "notes": "VIP", "country": "GB"})
    before = clients.get_values(a)
    money = money_totals(a)
    invoice_rows = list(Invoice.select(Invoice.id, Invoice.number, Invoice.status, Invoice.total,
                                       Invoice.paid).where(Invoice.client == a).tuples())
    lines = list(InvoiceLine.select(InvoiceLine.id, InvoiceLine.amount)
                 .join(Invoice).where(Invoice.client == a).tuples())
    ledger = list(CreditEntry.select(CreditEntry.id, CreditEntry.amount)
                  .where(CreditEntry.client == a).tuples())
    counts = lifecycle.record_counts(a)
    other = lifecycle.record_counts(b)
    affiliate = affiliate_figures(a), affiliate_figures(family["rita"])
    impact = lifecycle.impact(a, "anonymize").text()
    for words in ("1 pay method deleted", "1 ticket deleted", "1 affiliate record",
                  "1 affiliate payout kept with their amounts, without notes"):
        assert words in impact, words

    result = lifecycle.anonymize_client(a)

    after = clients.get_values(a)
    assert {k: after[k] for k in ("first_name", "last_name", "company", "email", "phone",
                                  "address1", "address2", "city", "state", "postcode", "tax_id",
                                  "notes")} == {
        "first_name": "Anonymized", "last_name": f"Client #{a}", "company": "",
        "email": f"anonymized-{a}@anonymized.invalid", "phone": "", "address1": "",
        "address2": "", "city": "", "state": "", "postcode": "", "tax_id": "", "notes": ""}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"first_name", "last_name", "company", "email", "phone", "address1", "city",
                       "postcode", "tax_id", "notes"}  # country, currency, group… kept
    assert not clients.problems(after, a)  # still a valid client
    assert result.name == f"Anonymized Client #{a}"
    for model in (Contact, ClientNote, ClientFile, Email):
        assert not model.select().where(model.client == a).exists(), model
    assert [(e.message, e.reason) for e in changelog.entries(a)] == [
        ("Anonymized", f"backup {result.backup.name}")]
    assert {k: v for k, v in result.cleared.items() if k != "client_log"} == {
        "contact": 1, "client_note": 1, "client_file": 1, "email": counts["email"],
        "pay_method": 1, "ticket": 1}
    assert not PayMethod.select().where(PayMethod.client == a).exists()
    assert not Ticket.select().where(Ticket.client == a).exists()
    assert not TicketReply.select().where(TicketReply.ticket == family["ticket_a"]).exists()
    # affiliate records are money: kept, the payouts without their notes
    assert (affiliate_figures(a), affiliate_figures(family["rita"])) == affiliate
    assert list(AffiliatePayout.select(AffiliatePayout.method, AffiliatePayout.notes)
                .tuples()) == [("Bank transfer", "")]
    assert AffiliateReferral.get(AffiliateReferral.client == a).affiliate_id == family["rita"]
    assert result.cleared["client_log"] >= counts["client_log"]
    assert money_totals(a) == money
    assert list(Invoice.select(Invoice.id, Invoice.number, Invoice.status, Invoice.total,
                               Invoice.paid).where(Invoice.client == a).tuples()) == invoice_rows
    assert list(InvoiceLine.select(InvoiceLine.id, InvoiceLine.amount)
                .join(Invoice).where(Invoice.client == a).tuples()) == lines
    assert list(CreditEntry.select(CreditEntry.id, CreditEntry.amount)
                .where(CreditEntry.client == a).tuples()) == ledger
    assert {n for n, in Transaction.select(Transaction.client_name)
            .where(Transaction.client == a).tuples()} == {f"Anonymized Client #{a}"}
    assert {n for n, in Service.select(Service.notes).where(Service.client == a).tuples()} == {""}
    assert {(q.customer_notes, q.admin_notes) for q in Quote.select().where(Quote.client == a)} == {
        ("", "")}
    assert {o.notes for o in Order.select().where(Order.client == a)} == {""}
    assert {r.notes for r in RecurringInvoice.select().where(RecurringInvoice.client == a)} == {""}
    kept = lifecycle.record_counts(a)
    for table in ("invoice", "txn", "credit_entry", "service", "quote", "client_order",
                  "billable_item", "recurring_invoice", "service_group", "affiliate",
                  "affiliate_referral", "affiliate_commission"):
        assert kept[table] == counts[table], table
    assert lifecycle.record_counts(b) == other
    check_invariants(a)
    assert clientlist.count(clientlist.ClientQuery(search="Jane")) == 0
    assert [r.id for r in clientlist.page(clientlist.ClientQuery(search="Anonymized"))] == [a]
    assert fk_problems() == []
    con = open_backup(result.backup)
    assert con.execute("SELECT first_name, city, notes FROM client WHERE id = ?",
                       (a,)).fetchone() == ("Jane", "Leeds", "VIP")
    assert con.execute("SELECT count(*) FROM contact WHERE client_id = ?", (a,)).fetchone() == (1,)
    con.close()


# --------------------------------------------------------------------------- C7 currency

@pytest.fixture
def rated(db) -> None:  # noqa: ANN001
    """USD is the default (rate 1); GBP 0.8, EUR 0.92, JPY 150 per USD:
    GBP → EUR multiplies by 1.15, GBP → JPY by 187.5."""
    for code, rate in (("GBP", "0.8"), ("EUR", "0.92"), ("JPY", "150")):
        billing_settings.set_currency_rate(code, rate)
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")


def priced_client() -> dict[str, int]:
    c = new_client()
    ids = {"client": c}
    ids["unpaid"] = invoicing.create_invoice(c, [L("Consulting", "100.00", True),
                                                 L("Travel", "19.99")])
    ids["paid"] = invoicing.create_invoice(c, [L("Setup", "40.00")])
    payments.add_payment(ids["paid"], "40.00")
    ids["service"] = subscriptions.add_service(c, name="Hosting", amount="10.00", cycle="monthly",
                                               next_due=TODAY)
    ids["addon"] = subscriptions.add_addon(c, ids["service"], name="Backup", amount="9.99",
                                           cycle="monthly", next_due=TODAY)
    ids["recurring"] = recurring.add_recurring(c, [("Retainer", "33.33")], start_date=TODAY)
    ids["item"] = billable.add_item(c, description="Support", hours="1.5", rate="40.00",
                                    action="next")
    ids["quote"] = quotes.create_quote(c, [quotes.LineInput("Design", "12.34", quantity="3",
                                                            discount="10")])
    credit.add_credit(c, "10.00", "Goodwill")
    return ids


def figures(ids: dict[str, int]) -> dict[str, tuple]:
    inv = invoicing.get_invoice(ids["unpaid"])
    paid = invoicing.get_invoice(ids["paid"])
    item = billable.get_item(ids["item"])
    q = quotes.get_quote(ids["quote"])
    return {
        "unpaid": (inv.currency, [str(ln.amount) for ln in inv.lines], str(inv.subtotal),
                   str(inv.tax), str(inv.total)),
        "paid": (paid.currency, str(paid.total)),
        "service": (subscriptions.get_service(ids["service"]).currency,
                    str(subscriptions.get_service(ids["service"]).amount)),
        "addon": str(subscriptions.get_service(ids["addon"]).amount),
        "recurring": [str(ln.amount) for ln in recurring.get_recurring(ids["recurring"]).lines],
        "item": (str(item.rate), str(item.amount)),
        "quote": (q.currency, [str(ln.unit_price) for ln in q.lines],
                  [str(ln.amount) for ln in q.lines], str(q.total)),
        "credit": (str(credit.balance(ids["client"])), str(credit.ledger_sum(ids["client"]))),
    }


def test_convert_to_euro_to_the_cent(rated) -> None:  # noqa: ANN001
    ids = priced_client()
    c = ids["client"]
    assert figures(ids)["unpaid"] == ("GBP", ["100.00", "19.99"], "119.99", "20.00", "139.99")
    preview = lifecycle.currency_preview(c, "eur")
    assert (preview.old, preview.new, str(preview.rate)) == ("GBP", "EUR", "1.15")
    assert preview.blocked == [] and preview.code_only_blocked == []
    shown = {(i.kind, i.id): (str(i.before), str(i.after)) for i in preview.items}
    assert shown[("invoice", ids["unpaid"])] == ("139.99", "160.99")
    assert shown[("credit", None)] == ("10.00", "11.50")

    backup = lifecycle.change_currency(c, "EUR", convert=True)

    con = open_backup(backup)  # converting rewrites amounts: a backup holds them as they were
    assert "before-currency" in backup.name
    assert con.execute("SELECT currency FROM client WHERE id = ?", (c,)).fetchone() == ("GBP",)
    con.close()
    assert figures(ids) == {
        # 100.00 × 1.15 = 115.00; 19.99 × 1.15 = 22.9885 → 22.99; VAT 20 % of 115.00
        "unpaid": ("EUR", ["115.00", "22.99"], "137.99", "23.00", "160.99"),
        "paid": ("GBP", "40.00"),  # history keeps its currency
        "service": ("EUR", "11.50"),
        "addon": "11.49",  # 9.99 × 1.15 = 11.4885
        "recurring": ["38.33"],  # 33.33 × 1.15 = 38.3295
        "item": ("46.00", "69.00"),  # 1.5 h × 46.00
        # 12.34 × 1.15 = 14.191 → 14.19; 3 × 14.19 less 10 % = 38.313 → 38.31
        "quote": ("EUR", ["14.19"], ["38.31"], "38.31"),
        "credit": ("11.50", "11.50"),
    }
    assert clients.get_client(c).values["currency"] == "EUR"
    adjustment = CreditEntry.select().where(CreditEntry.client == c).order_by(
        CreditEntry.id.desc()).first()
    assert (adjustment.kind, adjustment.amount) == ("adjustment", 150)
    entry = changelog.entries(c)[0]
    assert (entry.field, entry.old_value, entry.new_value) == ("Currency", "GBP", "EUR")
    assert "converted at 1.15" in entry.message
    check_invariants(c)


def test_convert_to_yen_rounds_to_whole_yen(rated) -> None:  # noqa: ANN001
    ids = priced_client()
    lifecycle.change_currency(ids["client"], "JPY", convert=True)
    got = figures(ids)
    # × 187.5: 100.00 → 18750, 19.99 → 3748.125 → 3748; VAT 3750
    assert got["unpaid"] == ("JPY", ["18750", "3748"], "22498", "3750", "26248")
    assert got["service"] == ("JPY", "1875") and got["addon"] == "1873"  # 1873.125
    assert got["recurring"] == ["6249"]  # 6249.375
    assert got["item"] == ("7500", "11250")
    assert got["credit"] == ("1875", "1875")
    check_invariants(ids["client"])


def test_code_only_keeps_the_figures(rated) -> None:  # noqa: ANN001
    ids = priced_client()
    before = figures(ids)
    assert lifecycle.change_currency(ids["client"], "EUR", convert=False) is None  # no backup
    after = figures(ids)
    assert after["unpaid"] == ("EUR",) + before["unpaid"][1:]
    assert after["paid"] == ("GBP", "40.00")
    assert after["service"] == ("EUR", "10.00") and after["addon"] == "9.99"
    assert after["quote"][0] == "EUR" and after["quote"][1:] == before["quote"][1:]
    assert after["credit"] == ("10.00", "10.00")
    assert "code only" in changelog.entries(ids["client"])[0].message
    check_invariants(ids["client"])


def test_converting_converts_the_affiliate_account(rated) -> None:  # noqa: ANN001
    affiliates.set_delay_days(0)
    c = new_client(first_name="Aff", last_name="Iliate")
    activate(c)
    referred = new_client()
    affiliates.refer(c, referred)
    paid_invoice(referred, "33.30")  # 10 %: 3.33
    affiliates.record_payout(c, amount="1.11")
    fixed = new_client(first_name="Fix", last_name="Ed")
    affiliates.activate(fixed, fixed="9.99")
    shown = {i.label: (str(i.before), str(i.after))
             for i in lifecycle.currency_preview(c, "EUR").items}
    assert shown == {"Affiliate commissions earned": ("3.33", "3.83"),  # 3.8295
                     "Affiliate payouts": ("1.11", "1.28")}  # 1.2765

    lifecycle.change_currency(c, "EUR", convert=True)
    lifecycle.change_currency(fixed, "EUR", convert=True)

    summary = affiliates.summary(c)
    assert (summary.currency, str(summary.payable), str(summary.paid_out),
            str(summary.balance)) == ("EUR", "3.83", "1.28", "2.55")
    assert affiliates.get(fixed).fixed == m("11.49", "EUR")  # 9.99 × 1.15 = 11.4885
    # the referred client's next paid invoice earns in EUR, from GBP
    paid_invoice(referred, "10.00")  # 1.00 GBP → 1.15 EUR
    assert str(affiliates.summary(c).payable) == "4.98"
    error = refused(Conflict, "currency", lifecycle.change_currency, c, "JPY", convert=False)
    assert "decimals" in error.message


def test_currency_change_refusals(rated) -> None:  # noqa: ANN001
    ids = priced_client()
    c = ids["client"]
    refused(InvalidInput, "currency", lifecycle.change_currency, c, "CHF", convert=True)
    refused(InvalidInput, "currency", lifecycle.change_currency, c, "XX", convert=True)
    refused(Conflict, "currency", lifecycle.change_currency, c, "GBP", convert=True)
    error = refused(Conflict, "currency", lifecycle.change_currency, c, "JPY", convert=False)
    assert "2 decimals" in error.message
    payments.add_payment(ids["unpaid"], "9.99")
    error = refused(Conflict, "currency", lifecycle.change_currency, c, "EUR", convert=True)
    assert "settle or cancel it first" in error.message
    refused(Conflict, "currency", lifecycle.change_currency, c, "EUR", convert=False)
    refused(NotFound, "id", lifecycle.change_currency, 999, "EUR", convert=True)


# --------------------------------------------------------------------------- impact

def test_impact_names_what_will_go(two: tuple[int, int]) -> None:
    a, _ = two
    delete = lifecycle.impact(a, "delete").text()
    assert "3 invoices" in delete and "2 transactions kept" in delete
    assert "2 transactions deleted" in lifecycle.impact(a, "delete_with_transactions").text()
    assert "1 contact deleted" in lifecycle.impact(a, "anonymize").text()
    assert "credit GBP 5.00" in lifecycle.impact(a, "merge").text()
    assert lifecycle.describe_counts({"pay_method": 3, "ticket": 2, "affiliate": 1,
                                      "affiliate_referral": 1, "affiliate_commission": 2}) == (
        "3 pay methods, 2 tickets, 1 affiliate record, 1 referral, 2 commissions")
    with pytest.raises(InvalidInput):
        lifecycle.impact(a, "explode")


def test_destructive_actions_refuse_inside_a_transaction(two: tuple[int, int]) -> None:
    a, _ = two
    with database.atomic():
        with pytest.raises(Conflict):
            lifecycle.delete_client(a)
    assert Client.select().where(Client.id == a).exists()
    assert RecurringLine.select().count() == 2
    assert ClientLog.select().where(ClientLog.client == a).exists()


def test_deleting_and_anonymizing_remove_the_stored_bytes(two: tuple[int, int]) -> None:
    a, b = two
    own = files.stored_path(files.get_file(files.list_files(a)[0].id).sha256)
    shared_source = paths.data_dir() / "shared.txt"
    shared_source.write_text("the same bytes")
    shared = files.stored_path(files.get_file(files.add_file(a, shared_source)).sha256)
    files.add_file(b, shared_source)
    assert own.exists() and shared.exists()
    lifecycle.delete_client(a)
    assert not own.exists()  # no row names them any more
    assert shared.exists()  # client b's file still does
    theirs = files.stored_path(files.list_files(b)[0].sha256)
    lifecycle.anonymize_client(b)
    assert not theirs.exists() and not shared.exists()
    assert not ClientFile.select().exists()
