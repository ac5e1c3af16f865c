"""The demo book's catalogue and holdings (services/demo.py, SPEC.md S1–S4,
S7): products, services, addons and domains with dates that follow
cycles.py, the client's payment method, service groups — and the billing
run works on them."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from billdesk.models import DOMAIN_STATUSES, SERVICE_STATUSES, close_database, init_db
from billdesk.money import Money
from billdesk.services import (
    billing_run,
    catalog,
    cycles,
    demo,
    invoicing,
    service_groups,
    settings,
    subscriptions,
    taxes,
)

from billing_helpers import check_invariants

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
    return path


@pytest.fixture
def book(demo_file: Path) -> Iterator[Path]:
    init_db(demo_file)
    yield demo_file
    close_database()


@pytest.fixture
def copy(demo_file: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "copy.sqlite3"
    shutil.copy(demo_file, path)
    init_db(path)
    yield path
    close_database()


def rows(path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


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
                                 "LEFT JOIN service s ON s.client_id = c.id GROUP BY c.id")
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
                              "JOIN invoice i ON i.id = l.invoice_id WHERE l.type = 'Hosting'")
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
        # (everything but the clock: created_at / updated_at may straddle a second)
        dumps.append([tuple(v for k, v in zip(r.keys(), r) if not k.endswith("_at"))
                      for t in ("product", "product_price", "service_group", "service")
                      for r in rows(path, f"SELECT * FROM {t} ORDER BY 1")])
    assert dumps[0] == dumps[1]
    assert dumps[2] == []
