"""Services, addons, domains and service groups (S2, S3, S5, S6, S7, C5) on a
real SQLite file: defaults from the catalogue and the client, exact amounts
in minor units, due days, every refusal (naming the field, writing
nothing), the change log, mass updates in one transaction, prorata
invoices, deletion with addons, and the status filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import Invoice, Service, ServiceGroup
from billdesk.money import Money
from billdesk.services import catalog, changelog, clients, invoicing
from billdesk.services import service_groups as groups
from billdesk.services import subscriptions as subs

from billing_helpers import dump, new_client

D = dt.date


def log_rows(client_id: int) -> list[tuple[str, str, str, str]]:
    """(message, field, old, new) of the client's log, oldest first."""
    return [(e.message, e.field, e.old_value, e.new_value)
            for e in reversed(changelog.entries(client_id))]


def refused(exc_type: type[Exception], field: str, call, *args, **kwargs) -> Exception:
    """The call raises ``exc_type`` naming ``field`` and writes nothing."""
    before = dump()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert info.value.field == field, info.value
    assert dump() == before
    return info.value


@pytest.fixture
def shop(db) -> Iterator[dict[str, int]]:
    """A GBP client, a JPY client, and two products with GBP and JPY prices."""
    gbp = new_client("GBP")
    jpy = new_client("JPY", country="JP")
    web = catalog.add_product("Web Hosting", taxed=True,
                              price_table={"GBP": {"monthly": "9.99", "annually": ("99.00", "10.00")},
                                           "JPY": {"monthly": "1200"}})
    ip = catalog.add_product("Extra IP", type="addon", prices={"monthly": "2.50"}, currency="GBP")
    yield {"gbp": gbp, "jpy": jpy, "web": web, "ip": ip}
    subs.set_status_filter("service", None)
    subs.set_status_filter("addon", None)
    subs.set_status_filter("domain", None)


# --------------------------------------------------------------------------- adding services

def test_add_service_takes_the_catalogue_price_name_and_tax_flag(shop):
    clients.update_client(shop["gbp"], {"payment_method": "PayPal"})
    sid = subs.add_service(shop["gbp"], product="web hosting", cycle="monthly",
                           signup_date="2026-01-31", actor="tester")
    s = subs.get_service(sid)
    assert (s.client_id, s.kind, s.product_id, s.parent_id, s.name, s.label, s.status) == (
        shop["gbp"], "service", shop["web"], None, "Web Hosting", "", "Active")
    assert (s.cycle, s.amount, s.first_payment, s.taxed) == (
        "monthly", Money.of("9.99", "GBP"), Money.of("9.99", "GBP"), True)
    assert (s.signup_date, s.next_due, s.due_day, s.expiry_date) == (D(2026, 1, 31), D(2026, 1, 31),
                                                                     31, None)
    assert (s.payment_method, s.override_suspend, s.group_id, s.group_name, s.notes) == (
        "PayPal", False, None, "", "")
    assert Service.get_by_id(sid).amount == 999  # minor units
    assert s.as_json() == {
        "id": sid, "client_id": shop["gbp"], "kind": "service", "product_id": shop["web"],
        "parent_id": None, "name": "Web Hosting", "label": "", "status": "Active",
        "cycle": "monthly", "amount": "9.99", "first_payment": "9.99", "taxed": True,
        "signup_date": "2026-01-31", "next_due": "2026-01-31", "expiry_date": None,
        "payment_method": "PayPal", "override_suspend": False, "group": None, "notes": "",
    }
    assert log_rows(shop["gbp"])[-1] == (
        f"Service Web Hosting (#{sid}) added: 9.99 GBP monthly, next due 2026-01-31", "", "", "")
    assert changelog.entries(shop["gbp"])[0].actor == "tester"


def test_add_service_by_product_id_in_the_clients_currency(shop):
    sid = subs.add_service(shop["jpy"], product=shop["web"], cycle="monthly")
    s = subs.get_service(sid)
    assert (s.amount, str(s.amount), s.signup_date, s.next_due) == (
        Money.of("1200", "JPY"), "1200", dt.date.today(), dt.date.today())
    assert s.as_json()["amount"] == "1200"


def test_add_service_with_its_own_values(shop):
    sid = subs.add_service(shop["gbp"], product="Web Hosting", name="Hosting for shop",
                           label="shop.example.com", amount="12.345", first_payment="20",
                           cycle="Quarterly", next_due="2026-03-30", signup_date="2026-02-01",
                           status="pending", payment_method="card", taxed=False,
                           notes="ask before renewing", override_suspend=True)
    s = subs.get_service(sid)
    assert (s.name, s.label, s.amount, s.first_payment, s.cycle, s.next_due, s.due_day) == (
        "Hosting for shop", "shop.example.com", Money.of("12.35", "GBP"), Money.of("20", "GBP"),
        "quarterly", D(2026, 3, 30), 30)
    assert (s.signup_date, s.status, s.payment_method, s.taxed, s.notes, s.override_suspend) == (
        D(2026, 2, 1), "Pending", "Card", False, "ask before renewing", True)


def test_free_and_one_time_services(shop):
    free = subs.get_service(subs.add_service(shop["gbp"], product="Web Hosting", cycle="free"))
    assert (free.amount, free.first_payment, free.next_due) == (Money.zero("GBP"), Money.zero("GBP"),
                                                                None)
    once = subs.get_service(subs.add_service(shop["gbp"], name="Setup", amount="50", cycle="onetime",
                                             signup_date="2026-05-05"))
    assert (once.product_id, once.amount, once.next_due, once.due_day, once.taxed) == (
        None, Money.of("50", "GBP"), None, 5, False)


@pytest.mark.parametrize("kwargs, exc, field", [
    ({"product": "Web Hosting", "cycle": "quarterly"}, InvalidInput, "amount"),  # no such price
    ({"product": "Web Hosting", "cycle": "monthly", "amount": "-1"}, InvalidInput, "amount"),
    ({"product": "Web Hosting", "cycle": "monthly", "amount": "ten"}, InvalidInput, "amount"),
    ({"product": "Web Hosting", "cycle": "monthly", "amount": "1e3"}, InvalidInput, "amount"),
    ({"product": "Web Hosting", "cycle": "free", "amount": "5"}, InvalidInput, "amount"),
    ({"product": "Web Hosting", "cycle": "free", "next_due": "2026-01-01"}, InvalidInput, "next_due"),
    ({"product": "Web Hosting", "cycle": "weekly"}, InvalidInput, "cycle"),
    ({"product": "No such thing", "cycle": "monthly"}, NotFound, "product"),
    ({"product": 999, "cycle": "monthly"}, NotFound, "product"),
    ({"name": "Custom", "cycle": "monthly"}, InvalidInput, "amount"),  # no product, no amount
    ({"amount": "5", "cycle": "monthly"}, InvalidInput, "name"),
    ({"name": "  ", "amount": "5", "cycle": "monthly"}, InvalidInput, "name"),
    ({"name": "x" * 201, "amount": "5", "cycle": "monthly"}, InvalidInput, "name"),
    ({"product": "Web Hosting", "cycle": "monthly", "next_due": "2026-02-30"}, InvalidInput, "next_due"),
    ({"product": "Web Hosting", "cycle": "monthly", "next_due": "1899-12-31"}, InvalidInput, "next_due"),
    ({"product": "Web Hosting", "cycle": "monthly", "signup_date": "31/01/2026"}, InvalidInput,
     "signup_date"),
    ({"product": "Web Hosting", "cycle": "monthly", "status": "Expired"}, InvalidInput, "status"),
    ({"product": "Web Hosting", "cycle": "monthly", "payment_method": "Bitcoin"}, InvalidInput,
     "payment_method"),
    ({"product": "Web Hosting", "cycle": "monthly", "first_payment": "-2"}, InvalidInput,
     "first_payment"),
    ({"product": "Web Hosting", "cycle": "monthly", "group_id": 99}, NotFound, "group_id"),
    ({"product": "Web Hosting", "cycle": "monthly", "taxed": "yes"}, InvalidInput, "taxed"),
])
def test_add_service_refusals_name_the_field_and_write_nothing(shop, kwargs, exc, field):
    refused(exc, field, subs.add_service, shop["gbp"], **kwargs)


def test_add_service_for_an_unknown_client(shop):
    refused(NotFound, "client_id", subs.add_service, 999, product="Web Hosting", cycle="monthly")


def test_a_group_of_another_client_is_refused(shop):
    other = groups.create_group(shop["jpy"], "Theirs")
    refused(Conflict, "group_id", subs.add_service, shop["gbp"], product="Web Hosting",
            cycle="monthly", group_id=other)


# --------------------------------------------------------------------------- addons and domains

def test_addons_go_on_services_and_domains_of_the_same_client(shop):
    sid = subs.add_service(shop["gbp"], product="Web Hosting", cycle="monthly",
                           next_due="2026-04-10")
    did = subs.add_domain(shop["gbp"], "example.com", amount="10")
    ip = subs.get_service(subs.add_addon(shop["gbp"], sid, product="Extra IP", cycle="monthly",
                                         next_due="2026-04-10"))
    assert (ip.kind, ip.parent_id, ip.name, ip.amount, ip.due_day) == (
        "addon", sid, "Extra IP", Money.of("2.50", "GBP"), 10)
    privacy = subs.get_service(subs.add_addon(shop["gbp"], did, name="ID protection", amount="3",
                                              cycle="annually"))
    assert (privacy.parent_id, privacy.amount, privacy.cycle) == (did, Money.of("3", "GBP"),
                                                                  "annually")

    theirs = subs.add_service(shop["jpy"], product="Web Hosting", cycle="monthly")
    refused(Conflict, "parent_id", subs.add_addon, shop["gbp"], theirs, name="x", amount="1",
            cycle="monthly")
    refused(NotFound, "parent_id", subs.add_addon, shop["gbp"], 999, name="x", amount="1",
            cycle="monthly")
    refused(InvalidInput, "parent_id", subs.add_addon, shop["gbp"], ip.id, name="x", amount="1",
            cycle="monthly")
    refused(InvalidInput, "status", subs.add_addon, shop["gbp"], sid, name="x", amount="1",
            cycle="monthly", status="Pending transfer")


def test_add_domain_checks_the_name_and_cycle(shop):
    did = subs.add_domain(shop["gbp"], "  Shop.Example.CO.UK. ", amount="19.99", cycle="biennially",
                          registration_date="2024-02-29", next_due="2026-02-28",
                          expiry_date="2026-02-28", status="pending transfer", payment_method="Cash")
    d = subs.get_service(did)
    assert (d.kind, d.name, d.amount, d.cycle, d.signup_date, d.next_due, d.due_day, d.expiry_date,
            d.status, d.payment_method, d.taxed, d.product_id) == (
        "domain", "shop.example.co.uk", Money.of("19.99", "GBP"), "biennially", D(2024, 2, 29),
        D(2026, 2, 28), 28, D(2026, 2, 28), "Pending transfer", "Cash", False, None)
    assert subs.get_service(subs.add_domain(shop["gbp"], "xn--mnchen-3ya.de", amount="5")).cycle == \
        "annually"

    for bad in ("", "localhost", "-bad.com", "bad-.com", "bad..com", "b_d.com", "münchen.de",
                "a" * 64 + ".com", "example.123"):
        refused(InvalidInput, "name", subs.add_domain, shop["gbp"], bad, amount="10")
    refused(InvalidInput, "cycle", subs.add_domain, shop["gbp"], "ok.com", amount="10",
            cycle="monthly")
    refused(InvalidInput, "status", subs.add_domain, shop["gbp"], "ok.com", amount="10",
            status="Suspended")
    refused(InvalidInput, "amount", subs.add_domain, shop["gbp"], "ok.com", amount="")
    refused(InvalidInput, "registration_date", subs.add_domain, shop["gbp"], "ok.com", amount="1",
            registration_date="tomorrow")


# --------------------------------------------------------------------------- reading

def test_lists_by_kind_and_status_in_id_order_and_counts(shop):
    c = shop["gbp"]
    s1 = subs.add_service(c, product="Web Hosting", cycle="monthly")
    d1 = subs.add_domain(c, "a.com", amount="10")
    s2 = subs.add_service(c, product="Web Hosting", cycle="annually", status="Suspended")
    a1 = subs.add_addon(c, s1, product="Extra IP", cycle="monthly", status="Cancelled")
    d2 = subs.add_domain(c, "b.com", amount="10", status="Expired")
    subs.add_service(shop["jpy"], product="Web Hosting", cycle="monthly")

    assert [s.id for s in subs.list_services(c)] == [s1, s2]
    assert [s.id for s in subs.list_services(c, kinds=("domain",))] == [d1, d2]
    assert [s.id for s in subs.list_services(c, kinds=("service", "addon", "domain"))] == \
        [s1, d1, s2, a1, d2]
    assert [s.id for s in subs.list_services(c, kinds=SERVICE_AND_DOMAIN, statuses=["Active"])] == \
        [s1, d1]
    assert subs.list_services(c, statuses=[]) == []
    assert subs.counts(c) == {"service": {"active": 1, "total": 2}, "addon": {"active": 0, "total": 1},
                              "domain": {"active": 1, "total": 2}}
    assert subs.counts(new_client()) == {k: {"active": 0, "total": 0}
                                         for k in ("service", "addon", "domain")}
    with pytest.raises(NotFound) as info:
        subs.list_services(999)
    assert info.value.field == "client_id"
    with pytest.raises(InvalidInput) as info:
        subs.list_services(c, kinds=("hosting",))
    assert info.value.field == "kind"
    with pytest.raises(NotFound) as info:
        subs.get_service(999)
    assert info.value.field == "id"


SERVICE_AND_DOMAIN = ("service", "domain")


# --------------------------------------------------------------------------- editing

def test_edit_service_logs_each_changed_field(shop):
    c = shop["gbp"]
    gid = groups.create_group(c, "Shop")
    sid = subs.add_service(c, product="Web Hosting", cycle="monthly", next_due="2026-01-31")
    before = len(changelog.entries(c))
    result = subs.edit_service(sid, status="Suspended", amount="10", cycle="annually",
                               next_due="2026-03-15", payment_method="cash",
                               override_suspend=True, name="Shop hosting", label="shop.example",
                               notes="n", taxed=False, expiry_date="2027-03-15", group_id=gid,
                               actor="tester")
    assert result == subs.MassUpdateResult([sid], None)
    s = subs.get_service(sid)
    assert (s.status, s.amount, s.cycle, s.next_due, s.due_day, s.payment_method, s.override_suspend,
            s.name, s.label, s.notes, s.taxed, s.expiry_date, s.group_id, s.group_name, s.position) == (
        "Suspended", Money.of("10", "GBP"), "annually", D(2026, 3, 15), 15, "Cash", True,
        "Shop hosting", "shop.example", "n", False, D(2027, 3, 15), gid, "Shop", 1)
    title = f"Web Hosting (#{sid})"
    assert log_rows(c)[before:] == [
        ("", f"{title} status", "Active", "Suspended"),
        ("", f"{title} payment method", "", "Cash"),
        ("", f"{title} override auto-suspend", "No", "Yes"),
        ("", f"{title} recurring amount", "9.99", "10.00"),
        ("", f"{title} billing cycle", "Monthly", "Annually"),
        ("", f"{title} next due date", "2026-01-31", "2026-03-15"),
        ("", f"{title} name", "Web Hosting", "Shop hosting"),
        ("", f"{title} label", "", "shop.example"),
        ("", f"{title} notes", "", "n"),
        ("", f"{title} taxed", "Yes", "No"),
        ("", f"{title} expiry date", "", "2027-03-15"),
        ("", f"{title} service group", "", "Shop"),
    ]
    assert {e.actor for e in changelog.entries(c)[:12]} == {"tester"}

    # the same values again change nothing and log nothing
    logged = len(changelog.entries(c))
    assert subs.edit_service(sid, status="suspended", amount="10.00", group_id=gid).updated == []
    assert len(changelog.entries(c)) == logged
    # group_id=None ungroups; leaving it out keeps it
    subs.edit_service(sid, notes="m")
    assert subs.get_service(sid).group_id == gid
    subs.edit_service(sid, group_id=None)
    assert subs.get_service(sid).group_id is None


def test_edit_refusals_write_nothing(shop):
    c = shop["gbp"]
    sid = subs.add_service(c, product="Web Hosting", cycle="monthly", next_due="2026-01-31")
    did = subs.add_domain(c, "a.com", amount="10")
    refused(NotFound, "id", subs.edit_service, 999, status="Active")
    refused(InvalidInput, "status", subs.edit_service, sid, status="Expired")
    refused(InvalidInput, "status", subs.edit_service, did, status="Terminated")
    refused(InvalidInput, "amount", subs.edit_service, sid, amount="-3")
    refused(InvalidInput, "cycle", subs.edit_service, did, cycle="monthly")
    refused(InvalidInput, "next_due", subs.edit_service, sid, next_due="2026-13-01")
    refused(InvalidInput, "payment_method", subs.edit_service, sid, payment_method="Gold")
    refused(InvalidInput, "name", subs.edit_service, did, name="not a domain")
    refused(InvalidInput, "name", subs.edit_service, sid, name="")
    refused(InvalidInput, "amount", subs.edit_service, sid, cycle="free", amount="5")
    refused(InvalidInput, "next_due", subs.edit_service, sid, cycle="free", next_due="2026-02-01")
    refused(InvalidInput, "prorata", subs.edit_service, sid, amount="5", prorata=True)
    refused(InvalidInput, "override_suspend", subs.edit_service, sid, override_suspend="no")
    other = groups.create_group(shop["jpy"], "Theirs")
    refused(Conflict, "group_id", subs.edit_service, sid, group_id=other)


def test_cycle_changes_keep_amounts_and_due_dates_coherent(shop):
    c = shop["gbp"]
    sid = subs.add_service(c, product="Web Hosting", cycle="monthly", next_due="2026-01-31")
    subs.edit_service(sid, cycle="free")
    s = subs.get_service(sid)
    assert (s.cycle, s.amount, s.next_due) == ("free", Money.zero("GBP"), None)
    # back to recurring: a next due date is needed
    refused(InvalidInput, "next_due", subs.edit_service, sid, cycle="monthly", amount="5")
    subs.edit_service(sid, cycle="monthly", amount="5", next_due="2026-02-28")
    s = subs.get_service(sid)
    assert (s.cycle, s.amount, s.next_due, s.due_day) == ("monthly", Money.of("5", "GBP"),
                                                          D(2026, 2, 28), 28)
    # a cycle change alone keeps the due date and its day
    subs.edit_service(sid, cycle="quarterly")
    s = subs.get_service(sid)
    assert (s.cycle, s.next_due, s.due_day) == ("quarterly", D(2026, 2, 28), 28)


def test_setting_the_same_due_date_by_hand_fixes_its_day(shop):
    c = shop["gbp"]
    sid = subs.add_service(c, name="Box", amount="5", cycle="monthly", next_due="2026-01-31")
    Service.update(next_due=D(2026, 2, 28)).where(Service.id == sid).execute()  # paid on, day kept
    assert subs.get_service(sid).due_day == 31
    assert subs.edit_service(sid, next_due="2026-02-28").updated == [sid]
    assert subs.get_service(sid).due_day == 28
    assert log_rows(c)[-1] == ("", f"Box (#{sid}) due day", "31", "28")


# --------------------------------------------------------------------------- mass update (S5)

@pytest.fixture
def held(shop) -> dict[str, int]:
    c = shop["gbp"]
    sid = subs.add_service(c, product="Web Hosting", cycle="monthly", next_due="2026-01-31")
    did = subs.add_domain(c, "a.com", amount="12", next_due="2026-06-01")
    aid = subs.add_addon(c, sid, product="Extra IP", cycle="monthly", next_due="2026-02-20")
    return {**shop, "s": sid, "d": did, "a": aid}


def test_mass_update_changes_every_kind_in_one_go(held):
    c = held["gbp"]
    ids = [held["s"], held["d"], held["a"]]
    before = len(changelog.entries(c))
    result = subs.mass_update(ids, status="Cancelled", payment_method="PayPal", override_suspend=True,
                              amount="4", next_due="2026-03-05", actor="tester")
    assert result == subs.MassUpdateResult(ids, None)
    for s in subs.list_services(c, kinds=("service", "addon", "domain")):
        assert (s.status, s.payment_method, s.override_suspend, s.amount, s.next_due, s.due_day) == (
            "Cancelled", "PayPal", True, Money.of("4", "GBP"), D(2026, 3, 5), 5)
    entries = log_rows(c)[before:]
    assert len(entries) == 3 * 5
    assert ("Mass update", f"a.com (#{held['d']}) next due date", "2026-06-01", "2026-03-05") in entries
    assert ("Mass update", f"Extra IP (#{held['a']}) recurring amount", "2.50", "4.00") in entries
    assert ("Mass update", f"Web Hosting (#{held['s']}) status", "Active", "Cancelled") in entries

    # items already so are left out of "updated"
    assert subs.mass_update(ids, status="cancelled", amount="4.00").updated == []
    assert subs.mass_update([held["s"], held["d"]], amount="5").updated == [held["s"], held["d"]]


def test_mass_update_statuses_must_suit_every_kind(held):
    ids = [held["s"], held["d"]]
    err = refused(InvalidInput, "status", subs.mass_update, ids, status="Suspended",
                  amount="1")
    assert "a.com" in err.message
    refused(InvalidInput, "status", subs.mass_update, ids, status="Pending transfer")
    refused(InvalidInput, "cycle", subs.mass_update, ids, cycle="monthly")  # a domain cannot
    subs.mass_update(ids, status="Fraud")
    assert {s.status for s in subs.list_services(held["gbp"], kinds=SERVICE_AND_DOMAIN)} == {"Fraud"}


def test_mass_update_refusals_write_nothing(held):
    other = subs.add_service(held["jpy"], product="Web Hosting", cycle="monthly")
    refused(Conflict, "ids", subs.mass_update, [held["s"], other], status="Active")
    refused(InvalidInput, "ids", subs.mass_update, [], status="Active")
    refused(InvalidInput, "ids", subs.mass_update, ["1"], status="Active")
    refused(NotFound, "id", subs.mass_update, [held["s"], 999], status="Active")
    refused(InvalidInput, "amount", subs.mass_update, [held["s"], held["a"]], amount="1.2.3")
    refused(InvalidInput, "next_due", subs.mass_update, [held["s"]], next_due="soon")
    refused(InvalidInput, "payment_method", subs.mass_update, [held["s"]], payment_method="Gold")
    refused(InvalidInput, "prorata", subs.mass_update, [held["s"]], status="Active", prorata=True)
    # the second item is refused after the first was checked: still nothing written
    free = subs.add_service(held["gbp"], product="Web Hosting", cycle="free")
    refused(InvalidInput, "next_due", subs.mass_update, [held["s"], free], next_due="2026-05-01")


def test_cycle_change_to_free_in_a_mass_update(held):
    subs.mass_update([held["s"], held["a"]], cycle="free")
    for sid in (held["s"], held["a"]):
        s = subs.get_service(sid)
        assert (s.cycle, s.amount, s.next_due) == ("free", Money.zero("GBP"), None)


# --------------------------------------------------------------------------- prorata

def test_prorata_invoice_bills_the_days_between_the_due_dates(held):
    c = held["gbp"]
    # 9.99 monthly, 31 Jan → 15 Feb: 15 days of the 31 that 31 Jan closes → 4.8339 → 4.83
    result = subs.edit_service(held["s"], next_due="2026-02-15", prorata=True, actor="tester")
    assert result.updated == [held["s"]] and result.invoice_id is not None
    inv = invoicing.get_invoice(result.invoice_id)
    assert (inv.client_id, inv.status, str(inv.total)) == (c, "Unpaid", "4.83")
    assert [(ln.amount, ln.taxed, ln.type, ln.link_id) for ln in inv.lines] == [
        (Money.of("4.83", "GBP"), True, "Hosting", held["s"])]
    assert subs.get_service(held["s"]).due_day == 15


def test_prorata_mass_update_sums_charges_and_credits(held):
    # service 9.99: 31 Jan → 10 Feb, +10/31 → 3.22; addon 2.50: 20 Feb → 10 Feb, −10/31 → −0.81
    result = subs.mass_update([held["s"], held["a"]], next_due="2026-02-10", prorata=True)
    inv = invoicing.get_invoice(result.invoice_id)
    assert sorted(str(ln.amount) for ln in inv.lines) == ["-0.81", "3.22"]
    assert str(inv.total) == "2.41"


def test_no_prorata_invoice_when_the_total_is_not_positive(held):
    invoices = Invoice.select().count()
    # the addon moves back: a credit, so no invoice and no credit issued
    result = subs.mass_update([held["a"]], next_due="2026-02-01", prorata=True)
    assert result == subs.MassUpdateResult([held["a"]], None)
    assert subs.get_service(held["a"]).next_due == D(2026, 2, 1)
    assert Invoice.select().count() == invoices
    # nothing moved: nothing billed
    assert subs.mass_update([held["a"]], next_due="2026-02-01", prorata=True).invoice_id is None


def test_prorata_uses_the_old_due_day(shop):
    c = shop["gbp"]
    sid = subs.add_service(c, name="Box", amount="31", cycle="monthly", next_due="2026-03-31")
    subs.edit_service(sid, next_due="2026-02-28")  # due day 28 now
    # 28 Feb closes 28 Jan – 28 Feb (31 days); 3 days on → 31 × 3 / 31 = 3.00
    result = subs.edit_service(sid, next_due="2026-03-03", prorata=True)
    assert str(invoicing.get_invoice(result.invoice_id).total) == "3.00"


# --------------------------------------------------------------------------- delete

def test_delete_takes_the_addons_with_it(held):
    c = held["gbp"]
    before = len(changelog.entries(c))
    assert subs.delete_services([held["s"]], actor="tester") == 2
    assert [s.id for s in subs.list_services(c, kinds=("service", "addon", "domain"))] == [held["d"]]
    assert log_rows(c)[before:] == [
        (f"Service Web Hosting (#{held['s']}) deleted", "", "", ""),
        (f"Addon Extra IP (#{held['a']}) deleted with its parent #{held['s']}", "", "", ""),
    ]
    refused(NotFound, "id", subs.delete_services, [held["d"], held["s"]])
    other = subs.add_service(held["jpy"], product="Web Hosting", cycle="monthly")
    refused(Conflict, "ids", subs.delete_services, [held["d"], other])
    assert subs.delete_services([held["d"], held["d"]]) == 1


# --------------------------------------------------------------------------- C5

def test_the_clients_payment_method_reaches_every_item(held):
    c = held["gbp"]
    other = subs.add_service(held["jpy"], product="Web Hosting", cycle="monthly")
    before = len(changelog.entries(c))
    clients.update_client(c, {"payment_method": "Bank transfer"})
    assert {s.payment_method for s in subs.list_services(c, kinds=("service", "addon", "domain"))} == \
        {"Bank transfer"}
    assert subs.get_service(other).payment_method == ""
    assert log_rows(c)[before:] == [
        ("Payment method of 3 services, addons and domains set to Bank transfer", "", "", ""),
        ("", "Default payment method", "", "Bank transfer"),
    ]
    # and later items take it
    assert subs.get_service(subs.add_domain(c, "new.com", amount="1")).payment_method == "Bank transfer"
    assert subs.apply_client_payment_method(c, "bank TRANSFER") == 0
    with pytest.raises(InvalidInput):
        subs.apply_client_payment_method(c, "Gold")


# --------------------------------------------------------------------------- service groups (S7)

def test_groups_create_rename_reorder_and_delete(shop):
    c = shop["gbp"]
    a = groups.create_group(c, "Shop", "the web shop", actor="tester")
    b = groups.create_group(c, "Büro", hide_on_invoice=True)
    assert [(g.id, g.name, g.description, g.position, g.hide_on_invoice, g.services)
            for g in groups.list_groups(c)] == [(a, "Shop", "the web shop", 1, False, 0),
                                                (b, "Büro", "", 2, True, 0)]
    refused(Conflict, "name", groups.create_group, c, "BÜRO")
    refused(Conflict, "name", groups.create_group, c, " shop ")
    refused(InvalidInput, "name", groups.create_group, c, " ")
    refused(NotFound, "client_id", groups.create_group, 999, "X")
    assert groups.create_group(shop["jpy"], "Shop")  # per client

    assert groups.update_group(a, name="Web shop", hide_on_invoice=True) == ["name", "hide_on_invoice"]
    assert groups.update_group(a, name="Web shop") == []
    refused(Conflict, "name", groups.update_group, a, name="büro")
    refused(NotFound, "id", groups.update_group, 999, name="x")

    groups.reorder_groups(c, [b, a])
    assert [g.id for g in groups.list_groups(c)] == [b, a]
    refused(InvalidInput, "ids", groups.reorder_groups, c, [b])
    refused(InvalidInput, "ids", groups.reorder_groups, c, [b, a, a])

    s1 = subs.add_service(c, product="Web Hosting", cycle="monthly", group_id=a)
    groups.delete_group(a)
    assert subs.get_service(s1).group_id is None
    assert [g.id for g in groups.list_groups(c)] == [b]
    assert [m for m, *_ in log_rows(c) if "group" in m.lower()] == [
        "Service group Shop created", "Service group Büro created", "Service groups reordered",
        "Service group Web shop deleted (1 item now ungrouped)"]
    assert ("", "Service group Shop name", "Shop", "Web shop") in [
        (m, f, o, n) for m, f, o, n in log_rows(c)]


def test_move_services_orders_them_within_the_group(shop):
    c = shop["gbp"]
    g = groups.create_group(c, "Shop")
    s1, s2, s3, s4 = (subs.add_service(c, product="Web Hosting", cycle="monthly") for _ in range(4))

    def members() -> list[int]:
        return [sid for (sid,) in Service.select(Service.id).where(Service.group == g)
                .order_by(Service.position).tuples()]

    groups.move_services([s1, s2, s3], g)
    assert members() == [s1, s2, s3]
    groups.move_services([s4], g, position=1)
    assert members() == [s1, s4, s2, s3]
    groups.move_services([s3], g, position=0)  # reorder within the group
    assert members() == [s3, s1, s4, s2]
    assert [p for (p,) in Service.select(Service.position).where(Service.group == g)
            .order_by(Service.position).tuples()] == [1, 2, 3, 4]
    assert groups.list_groups(c)[0].services == 4
    assert subs.get_service(s1).as_json()["group"] == "Shop"

    groups.move_services([s1], None)
    assert members() == [s3, s4, s2] and subs.get_service(s1).group_id is None

    other = groups.create_group(shop["jpy"], "Theirs")
    theirs = subs.add_service(shop["jpy"], product="Web Hosting", cycle="monthly")
    refused(Conflict, "group_id", groups.move_services, [s1], other)
    refused(Conflict, "ids", groups.move_services, [s1, theirs], g)
    refused(NotFound, "id", groups.move_services, [999], g)
    refused(NotFound, "id", groups.move_services, [s1], 999)
    refused(InvalidInput, "position", groups.move_services, [s1], g, position=-1)
    # a new service in the group goes last
    s5 = subs.add_service(c, product="Web Hosting", cycle="monthly", group_id=g)
    assert members()[-1] == s5
    assert ServiceGroup.get_by_id(g).name == "Shop"


# --------------------------------------------------------------------------- status filter (S6)

def test_status_filter_is_remembered_per_kind_in_memory(shop):
    assert subs.status_filter("service") is None
    before = dump()
    assert subs.set_status_filter("service", ["active", "Suspended"]) == frozenset({"Active",
                                                                                   "Suspended"})
    assert subs.status_filter("service") == frozenset({"Active", "Suspended"})
    assert subs.status_filter("domain") is None
    subs.set_status_filter("domain", ["Pending transfer"])
    assert subs.status_filter("domain") == frozenset({"Pending transfer"})
    with pytest.raises(InvalidInput):
        subs.set_status_filter("domain", ["Suspended"])
    with pytest.raises(InvalidInput):
        subs.status_filter("hosting")
    assert subs.status_filter("domain") == frozenset({"Pending transfer"})  # unchanged by refusal
    assert dump() == before  # never stored in the database
    # the lists take it as their statuses
    c = shop["gbp"]
    subs.add_service(c, product="Web Hosting", cycle="monthly", status="Pending")
    active = subs.add_service(c, product="Web Hosting", cycle="monthly")
    assert [s.id for s in subs.list_services(c, statuses=subs.status_filter("service"))] == [active]
    subs.set_status_filter("service", None)
    assert subs.status_filter("service") is None
    assert len(subs.list_services(c, statuses=subs.status_filter("service"))) == 2
