"""Quotes (B4): lines with quantity, discount and tax, stages, current
quotes, and the one-time conversion to an invoice (acceptance 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billdesk.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from billdesk.models import ClientLog, Invoice, Quote, QuoteLine
from billdesk.money import Money
from billdesk.services import billing_settings, invoicing, quotes, taxes
from billdesk.services.quotes import LineInput

from billing_helpers import check_invariants, dump, m, new_client

TODAY = dt.date.today()


@pytest.fixture
def client_id(db):
    billing_settings.add_tax_rule(1, "VAT", "17.5")
    return new_client()


def logged(client_id: int) -> list[str]:
    return [f"{e.message}|{e.field}|{e.old_value}|{e.new_value}"
            for e in ClientLog.select().where(ClientLog.client == client_id).order_by(ClientLog.id)]


def check_quote_totals(quote_id: int) -> None:
    """The stored totals are what the tax rules give for the stored lines,
    and each line amount is quantity × unit price less the discount."""
    q = quotes.get_quote(quote_id)
    for ln in q.lines:
        exact = ln.quantity * ln.unit_price.amount * (100 - ln.discount) / 100
        assert ln.amount == Money(exact, q.currency)
    totals = taxes.compute(((ln.amount, ln.taxed) for ln in q.lines), q.rates, q.currency)
    assert (q.subtotal, q.tax1, q.tax2, q.total) == (totals.subtotal, totals.tax1, totals.tax2,
                                                     totals.total)
    assert q.total == q.subtotal + q.tax1 + q.tax2


def test_create_with_lines_quantity_discount_and_tax(client_id):
    quote_id = quotes.create_quote(client_id, [
        LineInput("Website design", "1200.00", taxed=True),
        LineInput("Hosting = yearly", "10.00", quantity="12", discount="10", taxed=True),
        LineInput("Domain", "9.99"),
    ], subject="New website", proposal="We propose…", customer_notes="Thanks",
        admin_notes="internal", valid_until=TODAY + dt.timedelta(days=10))

    q = quotes.get_quote(quote_id)
    assert (q.client_id, q.subject, q.stage, q.date, q.valid_until, q.currency) == (
        client_id, "New website", "Draft", TODAY, TODAY + dt.timedelta(days=10), "GBP")
    assert [(ln.description, ln.quantity, ln.unit_price, ln.discount, ln.amount, ln.taxed)
            for ln in q.lines] == [
        ("Website design", 1, m("1200.00"), 0, m("1200.00"), True),
        ("Hosting = yearly", 12, m("10.00"), 10, m("108.00"), True),
        ("Domain", 1, m("9.99"), 0, m("9.99"), False)]
    assert q.rates.rate1 == Decimal("17.5") and q.rates.name1 == "VAT"
    assert q.subtotal == m("1317.99")
    assert q.tax1 == m("228.90")  # 17.5 % of 1308.00
    assert q.total == m("1546.89")
    assert (q.proposal, q.customer_notes, q.admin_notes) == ("We propose…", "Thanks", "internal")
    check_quote_totals(quote_id)
    assert any("Quote #" in line and "created" in line for line in logged(client_id))


def test_defaults_today_and_thirty_days(client_id):
    q = quotes.get_quote(quotes.create_quote(client_id, [LineInput("A", "1")]))
    assert (q.date, q.valid_until, q.stage, q.subject) == (
        TODAY, TODAY + dt.timedelta(days=30), "Draft", "")


def test_line_amount_rounds_half_up_once():
    # 3 × 0.335 = 1.005 → 1.01 (half-up on the exact product, not per unit)
    assert quotes.line_amount(Decimal(3), m("0.34"), Decimal(0)) == m("1.02")
    assert quotes.line_amount(Decimal("1.5"), m("0.01"), Decimal(0)) == m("0.02")
    assert quotes.line_amount(Decimal(1), m("10.00"), Decimal("12.5")) == m("8.75")
    assert quotes.line_amount(Decimal(1), m("0.05"), Decimal("50")) == m("0.03")  # 0.025 → 0.03


def test_tax_is_rounded_once_on_the_taxed_sum(client_id):
    q = quotes.get_quote(quotes.create_quote(client_id, [LineInput(x, "0.10", taxed=True)
                                                         for x in "abc"]))
    assert (q.subtotal, q.tax1, q.total) == (m("0.30"), m("0.05"), m("0.35"))


def test_every_problem_is_named_and_nothing_is_written(client_id):
    before = dump()
    with pytest.raises(ValidationFailed) as caught:
        quotes.create_quote(client_id, [
            LineInput("", "abc", quantity="0", discount="120"),
            LineInput("ok", "5", quantity="x"),
        ], stage="Maybe", date="2026-13-01", valid_until="soon")
    fields = {p.field for p in caught.value.problems}
    assert {"lines[1].description", "lines[1].unit_price", "lines[1].quantity",
            "lines[1].discount", "lines[2].quantity", "stage", "date", "valid_until"} <= fields
    with pytest.raises(ValidationFailed) as caught:
        quotes.create_quote(client_id, [LineInput("a", "1")], date="2026-05-10",
                            valid_until="2026-05-09")
    assert caught.value.problems[0].field == "valid_until"
    with pytest.raises(InvalidInput) as caught:
        quotes.create_quote(client_id, [LineInput("a", "10"), LineInput("credit", "-20")])
    assert caught.value.field == "lines"
    with pytest.raises(NotFound):
        quotes.create_quote(999, [LineInput("a", "1")])
    # "1,000": a thousand, or one with a decimal comma? refused, not guessed
    with pytest.raises(ValidationFailed) as caught:
        quotes.create_quote(client_id, [LineInput("a", "1", quantity="1,000", discount="2,5")])
    messages = {p.field: p.message for p in caught.value.problems}
    assert set(messages) == {"lines[1].quantity", "lines[1].discount"}
    assert "without commas" in messages["lines[1].quantity"]
    assert dump() == before


def test_update_lines_dates_texts_and_log(client_id):
    quote_id = quotes.create_quote(client_id, [LineInput("A", "10")], subject="First")
    q = quotes.update_quote(quote_id, [LineInput("A", "10", quantity="2", taxed=True),
                                       LineInput("B", "5")],
                            subject="Second", valid_until=TODAY + dt.timedelta(days=5),
                            stage="Delivered", proposal="Text")
    assert [ln.amount for ln in q.lines] == [m("20.00"), m("5.00")]
    assert (q.subject, q.stage, q.proposal, q.valid_until) == (
        "Second", "Delivered", "Text", TODAY + dt.timedelta(days=5))
    assert q.total == m("28.50")  # 25 + 17.5 % of 20
    check_quote_totals(quote_id)
    log = logged(client_id)
    assert f"|Quote #{quote_id} total|10.00|28.50" in log
    assert f"|Quote #{quote_id} stage|Draft|Delivered" in log
    assert f"|Quote #{quote_id} subject|First|Second" in log
    # refused: nothing changes
    before = dump()
    with pytest.raises(ValidationFailed) as caught:
        quotes.update_quote(quote_id, [LineInput("A", "")], valid_until="2000-01-01")
    assert {p.field for p in caught.value.problems} == {"lines[1].unit_price", "valid_until"}
    assert dump() == before


def test_stages_are_logged_on_the_client(client_id):
    quote_id = quotes.create_quote(client_id, [LineInput("A", "10")])
    for stage in ("Delivered", "on hold", "Lost", "Dead", "Draft"):
        quotes.set_stage(quote_id, stage)
    assert quotes.get_quote(quote_id).stage == "Draft"
    stages = [line.split("|")[2:] for line in logged(client_id)
              if line.split("|")[1] == f"Quote #{quote_id} stage"]
    assert stages == [["Draft", "Delivered"], ["Delivered", "On hold"], ["On hold", "Lost"],
                      ["Lost", "Dead"], ["Dead", "Draft"]]
    with pytest.raises(InvalidInput) as caught:
        quotes.set_stage(quote_id, "Won")
    assert caught.value.field == "stage"


def test_convert_once_same_lines_and_tax(client_id):
    """Acceptance 4: one invoice with the same lines and tax; a second
    conversion is refused and changes nothing."""
    quote_id = quotes.create_quote(client_id, [
        LineInput("Design", "1200", taxed=True),
        LineInput("Hosting", "10", quantity="12", discount="10", taxed=True),
        LineInput("Domain", "9.99"),
    ], customer_notes="Pay within 14 days")
    q = quotes.get_quote(quote_id)

    invoice_id = quotes.convert(quote_id)

    inv = invoicing.get_invoice(invoice_id)
    assert inv.status == "Unpaid" and inv.number and inv.client_id == client_id
    assert [(ln.amount, ln.taxed) for ln in inv.lines] == [(ln.amount, ln.taxed) for ln in q.lines]
    assert [ln.description for ln in inv.lines] == [
        "Design", "12 x Hosting @ 10.00 (10% discount)", "Domain"]
    assert (inv.subtotal, inv.tax1, inv.tax2, inv.total) == (q.subtotal, q.tax1, q.tax2, q.total)
    assert inv.rates == q.rates
    assert inv.notes == "Pay within 14 days"
    after = quotes.get_quote(quote_id)
    assert (after.stage, after.invoice_id) == ("Accepted", invoice_id)
    assert any(f"converted to invoice #{inv.number}" in line for line in logged(client_id))
    check_invariants(client_id)

    before = dump()
    with pytest.raises(Conflict) as caught:
        quotes.convert(quote_id)
    assert caught.value.field == "quote" and inv.number in caught.value.message
    assert dump() == before
    assert Invoice.select().where(Invoice.client == client_id).count() == 1


def test_converted_invoice_keeps_the_quotes_tax_rates(client_id):
    quote_id = quotes.create_quote(client_id, [LineInput("A", "100", taxed=True)])
    rule = billing_settings.tax_rules()[0]
    billing_settings.update_tax_rule(rule.id, 1, "VAT", "20")
    inv = invoicing.get_invoice(quotes.convert(quote_id))
    assert inv.rates.rate1 == Decimal("17.5") and inv.tax1 == m("17.50") and inv.total == m("117.50")
    check_invariants(client_id)


def test_converted_quote_keeps_its_lines_and_stage(client_id):
    quote_id = quotes.create_quote(client_id, [LineInput("A", "100")])
    quotes.convert(quote_id)
    with pytest.raises(Conflict):
        quotes.update_quote(quote_id, [LineInput("B", "1")])
    with pytest.raises(Conflict):
        quotes.set_stage(quote_id, "Lost")
    q = quotes.update_quote(quote_id, admin_notes="signed")
    assert q.admin_notes == "signed" and q.stage == "Accepted"


def test_a_quote_without_lines_is_not_converted(client_id):
    quote_id = quotes.create_quote(client_id, [])
    before = dump()
    with pytest.raises(Conflict):
        quotes.convert(quote_id)
    assert dump() == before


def test_the_database_refuses_a_second_link_to_one_invoice(client_id):
    a = quotes.create_quote(client_id, [LineInput("A", "1")])
    b = quotes.create_quote(client_id, [LineInput("B", "1")])
    invoice_id = quotes.convert(a)
    with pytest.raises(Exception, match="UNIQUE"):
        Quote.update(invoice=invoice_id).where(Quote.id == b).execute()


def test_current_quotes_list_and_delete(client_id):
    yesterday, tomorrow = TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1)
    old = quotes.create_quote(client_id, [LineInput("old", "1")], date=TODAY - dt.timedelta(days=9),
                              valid_until=yesterday)
    today = quotes.create_quote(client_id, [LineInput("today", "1")], valid_until=TODAY)
    later = quotes.create_quote(client_id, [LineInput("later", "1")], valid_until=tomorrow,
                                stage="Delivered")
    lost = quotes.create_quote(client_id, [LineInput("lost", "1")], stage="Lost")
    accepted = quotes.create_quote(client_id, [LineInput("accepted", "1")])
    quotes.convert(accepted)
    assert [q.id for q in quotes.current_quotes(client_id)] == [today, later]
    assert [q.id for q in quotes.current_quotes(client_id, today=tomorrow)] == [later]
    assert {q.id for q in quotes.list_quotes(client_id)} == {old, today, later, lost, accepted}
    assert [q.id for q in quotes.list_quotes(client_id, "lost")] == [lost]
    assert quotes.count(client_id) == 5

    quotes.delete_quote(later)
    assert QuoteLine.select().where(QuoteLine.quote == later).count() == 0
    with pytest.raises(NotFound):
        quotes.get_quote(later)
    quotes.delete_quote(accepted)  # the invoice made from it stays
    assert Invoice.select().where(Invoice.client == client_id).count() == 1
    assert any("deleted" in line for line in logged(client_id))


def test_as_json_shape(client_id):
    q = quotes.get_quote(quotes.create_quote(client_id, [LineInput("A", "2.50", quantity="1.5")]))
    doc = q.as_json()
    assert {"id", "client_id", "subject", "stage", "date", "valid_until", "subtotal", "tax",
            "total", "invoice_id", "lines"} <= set(doc)
    assert doc["lines"][0] == {"id": q.lines[0].id, "description": "A", "quantity": "1.5",
                               "unit_price": "2.50", "discount": "0", "amount": "3.75",
                               "taxed": False}


amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(amounts, quantities, discounts, st.booleans()), min_size=1, max_size=6))
def test_totals_equal_the_sum_of_their_parts_and_survive_conversion(client_id, rows):
    lines = [LineInput(f"L{n}", unit, quantity=qty, discount=disc, taxed=taxed)
             for n, (unit, qty, disc, taxed) in enumerate(rows)]
    try:
        quote_id = quotes.create_quote(client_id, lines)
    except InvalidInput as exc:  # a negative total or negative taxed sum is refused
        assert exc.field == "lines"
        return
    check_quote_totals(quote_id)
    q = quotes.get_quote(quote_id)
    inv = invoicing.get_invoice(quotes.convert(quote_id))
    assert (inv.subtotal, inv.tax, inv.total) == (q.subtotal, q.tax, q.total)
    assert sum((ln.amount for ln in inv.lines), Money.zero("GBP")) == sum(
        (ln.amount for ln in q.lines), Money.zero("GBP"))


def test_expire_moves_open_quotes_past_their_date_to_dead(client_id):
    yesterday = TODAY - dt.timedelta(days=1)
    old = quotes.create_quote(client_id, [LineInput("old", "1")], date=yesterday,
                              valid_until=yesterday, stage="Delivered")
    lost = quotes.create_quote(client_id, [LineInput("lost", "1")], date=yesterday,
                               valid_until=yesterday, stage="Lost")
    fresh = quotes.create_quote(client_id, [LineInput("fresh", "1")], valid_until=TODAY)
    assert quotes.expire(TODAY) == [old]
    assert [quotes.get_quote(i).stage for i in (old, lost, fresh)] == [
        "Dead", "Lost", "Draft"]
    assert f"Quote expired|Quote #{old} stage|Delivered|Dead" in logged(client_id)
    assert quotes.expire(TODAY) == []
