"""The demo book's catalogue and holdings (services/demo.py, SPEC.md S1–S4,
S7): products, services, addons and domains with dates that follow
cycles.py, the client's payment method, service groups — and the billing
run works on them. Then its sales (S8, B3–B5): promotion codes, orders,
quotes, billable items and recurring invoices, made by their services."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from billdesk.models import DOMAIN_STATUSES, SERVICE_STATUSES, close_database, init_db
from billdesk.money import Money
from billdesk.services import (
    billable,
    billing_run,
    catalog,
    cycles,
    demo,
    invoicing,
    orders,
    promos,
    quotes,
    recurring,
    service_groups,
    settings,
    subscriptions,
    taxes,
)

from billing_helpers import check_invariants
from demo_helpers import book, copy, rows  # noqa: F401 (fixtures)

N_CLIENTS = 120
SEED = 4
TODAY = dt.datetime(2026, 3, 14, 16, 30)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-services") / "demo.sqlite3"
    init_db(path)
    try:
        result = demo.create_demo(N_CLIENTS, SEED, today=TODAY)
    finally:
        close_database()
    assert result.products >= 8 and result.services > N_CLIENTS
    assert result.addons > 0 and result.domains > 0 and result.service_groups > 0
    assert result.promos == 4 and result.orders >= 3 and result.quotes >= 3
    assert result.billable_items >= 4 and result.recurring_invoices >= 1
    return path


def test_a_catalogue_of_several_types_priced_in_the_default_currency(book):
    products = catalog.list_products()
    assert 8 <= len(products) <= 15
    assert {p.type for p in products} >= {"hosting", "reseller", "server", "addon", "domain"}
    assert any(p.hidden for p in products) and not all(p.hidden for p in products)
    currency = settings.default_currency()
    cycles_offered = set()
    for p in products:
        assert p.currencies() == [currency], p.name
        cycles_offered |= {cycle for _, cycle in p.prices}
        for (_, cycle), (amount, setup_fee) in p.prices.items():
            assert amount > Money.zero(currency) and setup_fee >= Money.zero(currency)
    assert {"monthly", "quarterly", "annually"} <= cycles_offered
    starter = catalog.find_product("Shared Hosting — Starter")
    monthly = starter.price(currency, "monthly")[0].amount
    assert starter.price(currency, "quarterly")[0].amount == monthly * 3
    assert starter.price(currency, "annually")[0].amount == monthly * 10  # a year: ten months


def test_most_clients_hold_services_addons_and_domains(demo_file):
    per_client = rows(demo_file, "SELECT c.id, c.status, COUNT(s.id) AS items, "
                                 "COALESCE(SUM(s.kind = 'service'), 0) AS services FROM client c "
                                 "LEFT JOIN service s ON s.client_id = c.id AND s.order_id IS NULL "
                                 "GROUP BY c.id")
    holding = [r for r in per_client if r["services"]]
    assert len(holding) > 0.7 * N_CLIENTS
    assert max(r["services"] for r in per_client) <= 5
    kinds = {r[0]: r[1] for r in rows(demo_file, "SELECT kind, COUNT(*) FROM service GROUP BY 1")}
    assert kinds["service"] > kinds["domain"] > kinds["addon"] > 0
    statuses = {r[0]: r[1] for r in rows(demo_file, "SELECT status, COUNT(*) FROM service "
                                                    "WHERE kind = 'service' GROUP BY 1")}
    assert statuses["Active"] > 0.6 * kinds["service"]
    assert {"Suspended", "Cancelled", "Terminated"} <= set(statuses)
    # closed clients hold nothing that is still running
    assert not rows(demo_file, "SELECT s.id FROM service s JOIN client c ON c.id = s.client_id "
                               "WHERE c.status = 'Closed' AND s.status IN ('Active', 'Suspended')")


def test_every_item_is_as_the_services_would_store_it(book):
    today = TODAY.date()
    client_ids = [r[0] for r in rows(book, "SELECT id FROM client")]
    methods = {r[0]: r[1] for r in rows(book, "SELECT id, payment_method FROM client")}
    created = {r[0]: dt.date.fromisoformat(r[1][:10])
               for r in rows(book, "SELECT id, created_at FROM client")}
    ordered = {r[0] for r in rows(book, "SELECT id FROM service WHERE order_id IS NOT NULL")}
    assert ordered
    seen = 0
    for client_id in client_ids:
        items = subscriptions.list_services(client_id, ("service", "addon", "domain"))
        by_id = {i.id: i for i in items}
        for item in items:
            seen += 1
            statuses = DOMAIN_STATUSES if item.kind == "domain" else SERVICE_STATUSES
            assert item.status in statuses
            assert item.payment_method == methods[client_id] != ""
            assert item.amount.currency == item.currency and item.amount.amount > 0
            if item.id in ordered:  # placed today: see the order tests
                assert item.signup_date == today and item.product_id is not None
                continue
            assert item.first_payment == item.amount
            assert today - dt.timedelta(days=731) <= item.signup_date <= today
            assert item.signup_date >= created[client_id] or item.status.startswith("Pending")
            # the due day is the signup day; the next due date is whole cycles after signup
            assert cycles.is_recurring(item.cycle) and item.next_due is not None
            assert item.due_day == item.signup_date.day
            times = 0
            while (due := cycles.next_due(item.signup_date, item.cycle, item.due_day, times)) \
                    < item.next_due:
                times += 1
            assert due == item.next_due, item.title
            if item.status in ("Pending", "Pending transfer"):
                assert item.signup_date >= today - dt.timedelta(days=10)
            if item.status == "Pending":
                assert item.next_due == item.signup_date
            if item.status == "Active":
                assert item.next_due >= today - dt.timedelta(days=45), item.title
            if item.kind == "domain":
                subscriptions.check_domain_name(item.name)
                assert item.expiry_date == item.next_due and item.product_id is None
            else:
                assert item.product_id is not None
            if item.kind == "addon":
                parent = by_id[item.parent_id]
                assert parent.kind != "addon" and item.signup_date >= parent.signup_date
                if parent.status not in ("Active", "Suspended"):
                    assert item.status == parent.status
    assert seen == rows(book, "SELECT COUNT(*) FROM service")[0][0]


def test_the_first_service_is_the_plan_the_history_invoices(demo_file):
    hosting = rows(demo_file, "SELECT client_id, description FROM invoice_line l "
                              "JOIN invoice i ON i.id = l.invoice_id WHERE l.type = 'Hosting' "
                              "AND i.id NOT IN (SELECT invoice_id FROM client_order "
                              "WHERE invoice_id IS NOT NULL)")
    first = {r[0]: r for r in rows(demo_file, "SELECT client_id, name, label, MIN(id) FROM service "
                                              "WHERE kind = 'service' GROUP BY client_id")}
    for client_id, description in hosting:
        service = first[client_id]
        assert description.startswith(f"{service['name']} — {service['label']} — ")


def test_service_groups_hold_their_clients_items_in_order(book):
    owners = [r[0] for r in rows(book, "SELECT DISTINCT client_id FROM service_group")]
    assert owners
    for client_id in owners:
        groups = service_groups.list_groups(client_id)
        assert [g.position for g in groups] == list(range(1, len(groups) + 1))
        items = subscriptions.list_services(client_id, ("service", "addon", "domain"))
        for group in groups:
            members = sorted((i for i in items if i.group_id == group.id), key=lambda i: i.position)
            assert [i.position for i in members] == list(range(1, len(members) + 1))
            assert group.services == len(members)
        assert all(i.position == 0 for i in items if i.group_id is None)


def test_generating_due_invoices_on_the_demo_book(copy):
    day = TODAY.date()
    due = rows(copy, "SELECT COUNT(*) FROM service WHERE next_due <= ? AND "
                     "((kind = 'domain' AND status = 'Active') OR "
                     "(kind <> 'domain' AND status IN ('Active', 'Suspended')))",
               (billing_run.horizon(day).isoformat(),))[0][0]
    assert due > 0

    result = billing_run.generate_due(today=day)

    assert len(result) > 0
    billed_items = 0
    grouped = 0
    for invoice_id in result.invoice_ids:
        inv = invoicing.get_invoice(invoice_id)
        renewals = [line for line in inv.lines if line.type in invoicing.RENEWAL_TYPES]
        billed_items += len(renewals)
        grouped += sum(1 for line in inv.lines if line.group)
        # the totals are those of the lines
        computed = taxes.compute([(line.amount, line.taxed) for line in inv.lines], inv.rates,
                                 inv.currency)
        assert (inv.subtotal, inv.tax1, inv.tax2, inv.total) == (
            computed.subtotal, computed.tax1, computed.tax2, computed.total)
        line_sum = sum((line.amount for line in inv.lines), Money.zero(inv.currency))
        assert (inv.total if inv.rates.inclusive else inv.subtotal) == line_sum
        for line in renewals:
            item = subscriptions.get_service(line.link_id)
            assert item.client_id == inv.client_id and line.due_date == inv.due_date
            assert line.amount == item.amount and item.payment_method == inv.payment_method
    assert billed_items + len(result.advanced) == due
    assert grouped > 0  # service groups head their lines
    for client_id in {invoicing.get_invoice(i).client_id for i in result.invoice_ids}:
        check_invariants(client_id)
    # never twice for the same due date
    assert len(billing_run.generate_due(today=day)) == 0


SALES_TABLES = ("promo_code", "client_order", "quote", "quote_line", "billable_item",
                "recurring_invoice", "recurring_line")


def test_same_seed_same_holdings_and_none_without_billing(tmp_path):
    dumps = []
    for name, billing in (("a", True), ("b", True), ("c", False)):
        path = tmp_path / f"{name}.sqlite3"
        init_db(path)
        try:
            result = demo.create_demo(30, 9, today=TODAY, billing=billing)
        finally:
            close_database()
        assert (result.services > 0) == billing and (result.products > 0) == billing
        assert (result.orders > 0) == billing and (result.quotes > 0) == billing
        # (everything but the clock: created_at / updated_at may straddle a second)
        dumps.append([tuple(v for k, v in zip(r.keys(), r) if not k.endswith("_at"))
                      for t in ("product", "product_price", "service_group", "service",
                                *SALES_TABLES, "invoice", "invoice_line", "txn", "credit_entry")
                      for r in rows(path, f"SELECT * FROM {t} ORDER BY 1")])
    assert dumps[0] == dumps[1]
    assert dumps[2] == []


def test_what_the_services_wrote_is_stamped_on_the_demo_days(demo_file):
    today = TODAY.date().isoformat()
    for table in ("client_order", "billable_item", "recurring_invoice", "promo_code"):
        stamps = rows(demo_file, f"SELECT DISTINCT substr(created_at, 1, 10), "
                                 f"substr(updated_at, 1, 10) FROM {table}")
        assert [tuple(r) for r in stamps] == [(today, today)], table
    for r in rows(demo_file, "SELECT date, created_at FROM quote"):
        assert r["created_at"].startswith(r["date"])
    ordered = rows(demo_file, "SELECT i.created_at, i.updated_at FROM invoice i "
                              "JOIN client_order o ON o.invoice_id = i.id")
    assert ordered and all(r[0].startswith(today) and r[1].startswith(today) for r in ordered)
    assert rows(demo_file, "SELECT MAX(at) FROM client_log")[0][0][:10] <= today


# --- sales: promotion codes, orders, quotes, billable items, recurring invoices

def test_promotion_codes_of_each_kind(book):
    today = TODAY.date()
    found = {p.code: p for p in promos.list_promos()}
    assert set(found) == {"WELCOME10", "FIVEOFF", "HOSTING20", "SPRING25"}
    assert found["WELCOME10"].kind == "percent" and not found["WELCOME10"].recurring
    assert found["FIVEOFF"].kind == "fixed" and found["FIVEOFF"].max_uses > 0
    hosting = found["HOSTING20"]
    assert hosting.recurring and hosting.products and hosting.cycles == ("annually",)
    assert found["SPRING25"].end_date < today  # expired
    for p in found.values():
        assert p.start_date is not None and p.start_date <= today
    # every use is an order that names it
    used = {r[0]: r[1] for r in rows(book, "SELECT promo_code, COUNT(*) FROM client_order "
                                           "WHERE promo_code <> '' GROUP BY 1")}
    assert {code: p.uses for code, p in found.items() if p.uses} == used
    assert used  # some orders use a code


def test_orders_are_as_the_order_service_leaves_them(book):
    today = TODAY.date()
    owners = [r[0] for r in rows(book, "SELECT DISTINCT client_id FROM client_order ORDER BY 1")]
    statuses = {r[0] for r in rows(book, "SELECT status FROM client_order")}
    assert statuses == {"Pending", "Active", "Cancelled"}
    assert len(owners) <= 0.1 * N_CLIENTS + 3
    for client_id in owners:
        assert rows(book, "SELECT status FROM client WHERE id = ?", (client_id,))[0][0] == "Active"
        for order in orders.list_orders(client_id):
            assert order.date == today and len(order.items) == 1
            item = order.items[0]
            inv = invoicing.get_invoice(order.invoice_id)
            assert inv.date == today and inv.total == order.amount and inv.total.amount > 0
            if order.status == "Cancelled":
                assert item.status == "Cancelled" and inv.status == "Cancelled"
            elif order.status == "Active":
                assert item.status == "Active" and inv.status == "Paid"
            else:
                assert item.status in ("Pending", "Pending transfer")
                assert inv.status in ("Unpaid", "Paid")
            service = subscriptions.get_service(item.id)
            assert rows(book, "SELECT order_id FROM service WHERE id = ?", (item.id,))[0][0] \
                == order.id
            assert service.signup_date == today
            assert service.next_due == cycles.next_due(today, service.cycle, today.day)
            promo_lines = [ln for ln in inv.lines if ln.type == "Promo"]
            assert bool(promo_lines) == bool(order.promo_code)
            assert service.first_payment == sum((ln.amount for ln in inv.lines),
                                                Money.zero(inv.currency))
        check_invariants(client_id)


def test_quotes_in_every_stage_with_sensible_dates(book):
    today = TODAY.date()
    owners = [r[0] for r in rows(book, "SELECT DISTINCT client_id FROM quote ORDER BY 1")]
    seen = set()
    for client_id in owners:
        for q in quotes.list_quotes(client_id):
            seen.add(q.stage)
            assert q.date <= today and q.valid_until >= q.date and 1 <= len(q.lines) <= 4
            if q.stage in ("Draft", "Delivered", "On hold"):
                assert q.is_current(today), q.label
            if q.stage in ("Lost", "Dead"):  # no longer on offer
                assert q.valid_until < today and not q.is_current(today)
            # the stored totals are taxes.compute over the lines, in the client's currency
            computed = taxes.compute([(ln.amount, ln.taxed) for ln in q.lines], q.rates, q.currency)
            assert (q.subtotal, q.tax1, q.tax2, q.total) == (
                computed.subtotal, computed.tax1, computed.tax2, computed.total)
            for ln in q.lines:
                assert ln.amount == quotes.line_amount(ln.quantity, ln.unit_price, ln.discount)
            # converted ones link the invoice made on the demo's today, with the quote's total
            if q.invoice_id is not None:
                made = invoicing.get_invoice(q.invoice_id)
                assert q.stage == "Accepted" and made.date == today and made.total == q.total
    assert seen == set(quotes.STAGES)


def test_billable_items_of_every_action(book):
    today = TODAY.date()
    owners = [r[0] for r in rows(book, "SELECT DISTINCT client_id FROM billable_item ORDER BY 1")]
    actions = set()
    for client_id in owners:
        for item in billable.list_items(client_id):
            actions.add(item.action)
            assert item.invoiced == 0 and item.amount.amount > 0
            if item.hours is not None:
                assert item.amount == billable.times_rate(item.hours, item.rate)
            if item.action == "due":
                assert today - dt.timedelta(days=3) <= item.due_date <= today + dt.timedelta(days=30)
            if item.action == "recur":
                assert item.due_date > today and item.every and item.unit and item.count
            assert item.waiting == (item.action != "none")
    assert actions == set(billable.ACTIONS)
    assert any(i.hours is not None for c in owners for i in billable.list_items(c))


def test_recurring_invoices_start_from_today(book):
    today = TODAY.date()
    owners = [r[0] for r in rows(book, "SELECT DISTINCT client_id FROM recurring_invoice")]
    assert owners
    for client_id in owners:
        for r in recurring.list_recurring(client_id):
            assert r.status == "Active" and r.issued == 0 and r.next_date == r.start_date
            assert today <= r.start_date <= today + dt.timedelta(days=32)
            assert r.total.amount > 0 and r.currency == rows(
                book, "SELECT currency FROM client WHERE id = ?", (client_id,))[0][0]


def test_a_small_demo_of_today_has_some_of_each_and_converted_quotes(tmp_path):
    path = tmp_path / "small.sqlite3"
    init_db(path)
    try:
        result = demo.create_demo(40, 7)  # today: the clock's, so quotes are converted
        assert result.promos == 4 and result.orders >= 3 and result.quotes >= 3
        assert result.billable_items >= 4 and result.recurring_invoices >= 1
        converted = [r[0] for r in rows(path, "SELECT id FROM quote WHERE invoice_id IS NOT NULL")]
        assert len(converted) == 1
        q = quotes.get_quote(converted[0])
        inv = invoicing.get_invoice(q.invoice_id)
        assert q.stage == "Accepted" and inv.total == q.total and inv.date == dt.date.today()
        owners = {r[0] for r in rows(path, "SELECT client_id FROM client_order UNION "
                                           "SELECT client_id FROM quote")}
        for client_id in owners:
            check_invariants(client_id)
    finally:
        close_database()


def test_every_address_mail_could_go_to_is_a_reserved_example_name(demo_file):
    """Someone trying their real mail settings on the demo book must not
    write to strangers: clients, contacts and the company are all at
    .example names (RFC 2606); the demo's domains for sale may be real."""
    addresses = [r[0] for r in rows(demo_file, "SELECT email FROM client UNION ALL "
                                               "SELECT email FROM contact")]
    assert len(addresses) > N_CLIENTS
    assert all(a.rpartition("@")[2].endswith(".example") for a in addresses), [
        a for a in addresses if not a.endswith(".example")][:5]
    assert rows(demo_file, "SELECT count(*) FROM service WHERE kind = 'domain' "
                           "AND name NOT LIKE '%.example'")[0][0] > 0
