"""Orders (S8) on a real SQLite file: placing an order creates its item in
Pending and a first invoice whose lines (first period, setup fee, promotion,
group discount) and tax are the numbers written here; accepting and
cancelling change exactly what they should; a refused promotion code (or
anything else) writes nothing; the first period is never billed twice."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Invoice, Order, PromoCode, Service
from billdesk.services import (
    billing_run,
    billing_settings,
    catalog,
    changelog,
    clients,
    credit,
    groups,
    invoicing,
    orders,
    payments,
    promos,
    subscriptions,
)

from billing_helpers import check_invariants, dump, m, new_client

D = dt.date
DAY = "2026-01-31"


@pytest.fixture
def shop(db) -> dict[str, int]:  # noqa: ANN001
    """A GB client in the Gold group (10 % off), VAT 20 %, a hidden taxed
    hosting product (10.00 a month + 5.00 setup), a domain product."""
    billing_settings.add_tax_rule(1, "VAT", "20", country="GB")
    client = new_client()
    clients.update_client(client, {"group_id": groups.add_group("Gold", discount="10")})
    hosting = catalog.add_product("Web Hosting", taxed=True, hidden=True, currency="GBP",
                                  prices={"monthly": ("10.00", "5.00"), "annually": "100.00"})
    domain = catalog.add_product(".com", type="domain", currency="GBP",
                                 prices={"annually": "12.00"})
    return {"client": client, "hosting": hosting, "domain": domain}


def lines(invoice_id: int) -> list[tuple[str, str, bool, str]]:
    return [(ln.description, str(ln.amount), ln.taxed, ln.type)
            for ln in invoicing.get_invoice(invoice_id).lines]


def refused(exc_type: type[Exception], field: str, call, *args, **kwargs) -> Exception:
    before = dump()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert info.value.field == field, info.value
    assert dump() == before
    return info.value


def test_an_order_with_a_promotion_code(shop: dict[str, int]) -> None:
    promos.add_promo("SPRING", percent="10", products=[shop["hosting"]], max_uses=5)
    order_id = orders.place_order(shop["client"], "Web Hosting", "monthly", promo="spring",
                                  label="example.com", date=DAY)
    order = orders.get_order(order_id)
    assert (order.status, order.promo_code, order.date, order.amount) == (
        "Pending", "SPRING", D(2026, 1, 31), m("14.58"))
    assert len(order.number) == 10 and order.number.isdigit()
    inv = invoicing.get_invoice(order.invoice_id)
    assert lines(inv.id) == [
        ("Web Hosting - example.com (Jan 31, 2026 - Feb 27, 2026)", "10.00", True, "Hosting"),
        ("Setup fee: Web Hosting - example.com", "5.00", True, "Setup"),
        ("Promotional Code: SPRING - 10% One Time Discount", "-1.50", True, "Promo"),
        ("Client group discount (Gold 10%)", "-1.35", True, "GroupDiscount")]
    # 15.00 - 1.50 = 13.50; - 10 % = 12.15; VAT 20 % = 2.43; total 14.58
    assert (inv.status, inv.date, inv.due_date, inv.subtotal, inv.tax, inv.total) == (
        "Unpaid", D(2026, 1, 31), D(2026, 1, 31), m("12.15"), m("2.43"), m("14.58"))
    (item,) = order.items
    svc = Service.get_by_id(item.id)
    assert (svc.kind, svc.status, svc.name, svc.label, svc.cycle, svc.amount, svc.first_payment,
            svc.taxed, svc.signup_date, svc.next_due, svc.order_id, svc.promo_id,
            svc.product_id) == (
        "service", "Pending", "Web Hosting", "example.com", "monthly", 1000, 1215, True,
        D(2026, 1, 31), D(2026, 2, 28), order_id, None, shop["hosting"])
    assert promos.find_promo("SPRING").uses == 1
    messages = [e.message for e in changelog.entries(shop["client"])]
    assert any(msg.startswith(f"Order #{order.number} placed: Web Hosting - example.com, "
                              "monthly, promotion code SPRING, first invoice 14.58 GBP")
               for msg in messages)
    check_invariants(shop["client"])


def test_quote_is_what_place_writes(shop: dict[str, int]) -> None:
    promos.add_promo("FIVE", fixed="5")
    before = dump()
    quote = orders.quote_order(shop["client"], shop["hosting"], "annually", promo="FIVE",
                               date=DAY)
    assert dump() == before  # a quote writes nothing
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "annually",
                                                promo="FIVE", date=DAY))
    assert [(ln.description, str(ln.amount)) for ln in quote.lines] == [
        (d, a) for d, a, _t, _ty in lines(order.invoice_id)]
    assert quote.totals.total == order.amount == m("102.60")  # (100 - 5) - 9.50 = 85.50 + VAT
    assert quote.discount == m("5.00")


def test_a_recurring_promotion_lowers_the_recurring_amount(shop: dict[str, int]) -> None:
    code = promos.add_promo("LOYAL", percent="25", recurring=True)
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                promo="LOYAL", price="8.00", date=DAY))
    assert lines(order.invoice_id)[:3] == [
        ("Web Hosting (Jan 31, 2026 - Feb 27, 2026)", "8.00", True, "Hosting"),
        ("Setup fee: Web Hosting", "5.00", True, "Setup"),
        ("Promotional Code: LOYAL - 25% Recurring Discount", "-3.25", True, "Promo")]
    svc = Service.get_by_id(order.items[0].id)
    assert (svc.amount, svc.promo_id) == (600, code)  # 8.00 less 25 %


def test_a_fixed_promotion_never_takes_more_than_the_order(shop: dict[str, int]) -> None:
    promos.add_promo("BIG", fixed="50")
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                promo="BIG", date=DAY))
    assert lines(order.invoice_id)[2] == ("Promotional Code: BIG - 50.00 GBP One Time Discount",
                                          "-15.00", True, "Promo")
    inv = invoicing.get_invoice(order.invoice_id)
    assert (inv.total, inv.status) == (m("0.00"), "Paid")  # nothing to pay
    assert Service.get_by_id(order.items[0].id).next_due == D(2026, 2, 28)  # not moved again
    check_invariants(shop["client"])


def test_paying_the_first_invoice_and_billing_run_bill_the_first_period_once(
        shop: dict[str, int]) -> None:
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                date=DAY))
    sid = order.items[0].id
    orders.accept_order(order.id)
    # Accepted but unpaid: the daily run finds nothing due for the first period.
    assert not billing_run.generate_due(today=DAY)
    payments.mark_paid(order.invoice_id, date=DAY)
    assert Service.get_by_id(sid).next_due == D(2026, 2, 28)
    assert not billing_run.generate_due(today="2026-02-01")
    # The renewal comes for the second period, once.
    (renewal,) = billing_run.generate_due(today="2026-02-20").invoice_ids
    assert lines(renewal)[0] == ("Web Hosting (Feb 28, 2026 - Mar 30, 2026)", "10.00", True,
                                 "Hosting")
    payments.mark_paid(renewal, date="2026-02-21")
    assert Service.get_by_id(sid).next_due == D(2026, 3, 31)
    check_invariants(shop["client"])


def test_accept_activates_the_order_and_its_pending_items(shop: dict[str, int]) -> None:
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                date=DAY))
    invoice_before = invoicing.get_invoice(order.invoice_id)
    accepted = orders.accept_order(order.id)
    assert accepted.status == "Active"
    assert [i.status for i in accepted.items] == ["Active"]
    assert invoicing.get_invoice(order.invoice_id) == invoice_before  # untouched
    entries = [(e.field, e.old_value, e.new_value) for e in changelog.entries(shop["client"])]
    assert (f"Order #{order.number} status", "Pending", "Active") in entries
    assert (f"Web Hosting (#{order.items[0].id}) status", "Pending", "Active") in entries
    refused(Conflict, "order", orders.accept_order, order.id)


def test_cancel_cancels_items_and_the_unpaid_invoice(shop: dict[str, int]) -> None:
    promos.add_promo("ONE", percent="10", max_uses=1)
    credit.add_credit(shop["client"], "3.00", "goodwill")
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                promo="ONE", date=DAY))
    inv = invoicing.get_invoice(order.invoice_id)
    assert inv.credit == m("3.00")  # the credit went on the first invoice
    other = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "annually",
                                                date=DAY))
    cancelled = orders.cancel_order(order.id)
    assert cancelled.status == "Cancelled"
    assert [i.status for i in cancelled.items] == ["Cancelled"]
    assert invoicing.get_invoice(order.invoice_id).status == "Cancelled"
    assert credit.balance(shop["client"]) == m("3.00")  # the applied credit came back
    assert promos.find_promo("ONE").uses == 1  # the use stays counted
    # The other order is untouched.
    assert orders.get_order(other.id).status == "Pending"
    assert invoicing.get_invoice(other.invoice_id).status == "Unpaid"
    refused(Conflict, "order", orders.cancel_order, order.id)
    check_invariants(shop["client"])


def test_cancel_keeps_a_paid_invoice(shop: dict[str, int]) -> None:
    order = orders.get_order(orders.place_order(shop["client"], shop["hosting"], "monthly",
                                                date=DAY))
    orders.accept_order(order.id)
    payments.mark_paid(order.invoice_id, date=DAY)
    cancelled = orders.cancel_order(order.id)
    assert [i.status for i in cancelled.items] == ["Cancelled"]
    assert invoicing.get_invoice(order.invoice_id).status == "Paid"


def test_promotion_refusals_write_nothing(shop: dict[str, int]) -> None:
    vps = catalog.add_product("VPS", currency="GBP", prices={"monthly": "20.00"})
    promos.add_promo("OLD", percent="10", end_date="2026-01-30")
    promos.add_promo("GONE", percent="10", max_uses=1)
    promos.add_promo("VPSONLY", percent="10", products=[vps])
    orders.place_order(shop["client"], shop["hosting"], "monthly", promo="GONE", date="2026-01-01")
    c = shop["client"]
    err = refused(InvalidInput, "promo", orders.place_order, c, shop["hosting"], "monthly",
                  promo="OLD", date=DAY)
    assert err.message == "OLD expired on 2026-01-30"
    err = refused(InvalidInput, "promo", orders.place_order, c, shop["hosting"], "monthly",
                  promo="GONE", date=DAY)
    assert err.message == "GONE is used up (1 of 1 uses)"
    err = refused(InvalidInput, "promo", orders.place_order, c, shop["hosting"], "monthly",
                  promo="VPSONLY", date=DAY)
    assert err.message == "VPSONLY is not for product 'Web Hosting' (only: VPS)"
    refused(NotFound, "promo", orders.place_order, c, shop["hosting"], "monthly",
            promo="NOSUCH", date=DAY)


def test_other_refusals_write_nothing(shop: dict[str, int]) -> None:
    c = shop["client"]
    refused(InvalidInput, "cycle", orders.place_order, c, shop["hosting"], "quarterly", date=DAY)
    refused(NotFound, "product", orders.place_order, c, "Nope", "monthly")
    refused(NotFound, "client_id", orders.place_order, 999, shop["hosting"], "monthly")
    refused(InvalidInput, "cycle", orders.place_order, c, shop["hosting"], "weekly")
    refused(InvalidInput, "price", orders.place_order, c, shop["hosting"], "monthly", price="-1")
    refused(InvalidInput, "payment_method", orders.place_order, c, shop["hosting"], "monthly",
            payment_method="Carrier pigeon")
    refused(InvalidInput, "domain", orders.place_order, c, shop["domain"], "annually")
    refused(InvalidInput, "name", orders.place_order, c, shop["domain"], "annually",
            label="not a domain")
    refused(InvalidInput, "cycle", orders.place_order, c, shop["domain"], "monthly",
            label="example.com", price="1")
    addon = catalog.add_product("Backup", type="addon", currency="GBP",
                                prices={"monthly": "2.00"})
    refused(InvalidInput, "parent_id", orders.place_order, c, addon, "monthly")


def test_domains_addons_onetime_and_free(shop: dict[str, int]) -> None:
    c = shop["client"]
    dom = orders.get_order(orders.place_order(c, shop["domain"], "annually", label="Example.ORG",
                                              date=DAY))
    (item,) = dom.items
    assert (item.kind, item.name, item.status) == ("domain", "example.org", "Pending")
    registered = Service.get_by_id(item.id)  # registered for the first period
    assert (registered.next_due, registered.expiry_date) == (D(2027, 1, 31), D(2027, 1, 31))
    assert lines(dom.invoice_id)[0] == (
        "Domain registration - example.org - 1 year (Jan 31, 2026 - Jan 30, 2027)", "12.00",
        False, "Domain")
    addon = catalog.add_product("Backup", type="addon", currency="GBP",
                                prices={"monthly": "2.00", "onetime": ("30.00", "1.00")})
    on = orders.get_order(orders.place_order(c, addon, "onetime", parent_id=item.id, date=DAY))
    assert lines(on.invoice_id)[:2] == [("Addon Backup (example.org)", "30.00", False, "Addon"),
                                        ("Setup fee: Backup", "1.00", False, "Setup")]
    svc = Service.get_by_id(on.items[0].id)
    assert (svc.kind, svc.parent_id, svc.next_due) == ("addon", item.id, None)
    free = orders.get_order(orders.place_order(c, shop["hosting"], "free", date=DAY))
    assert (free.invoice_id, free.amount) == (None, m("0.00"))  # nothing to invoice
    assert subscriptions.get_service(free.items[0].id).status == "Pending"
    listed = orders.list_orders(c)
    assert [o.id for o in listed] == [free.id, on.id, dom.id]  # newest first
    assert listed[1].as_json()["items"][0]["name"] == "Backup"
    assert Order.select().count() == 3 and PromoCode.select().count() == 0
    assert Invoice.select().count() == 2
    check_invariants(c)
