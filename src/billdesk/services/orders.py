"""Orders (S8): the admin's "Add New Order" for a client.

An order takes one product from the catalogue (hidden products too) for a
billing cycle, with an optional custom recurring price, promotion code,
payment method and label (a domain name). Placing it, in one transaction:

- creates the item in Pending — a service for hosting, reseller, server and
  other products (the label is its domain), an addon (on ``parent_id``)
  for addon products, a domain (named by the label) for domain products;
- writes its first invoice, dated and due on the order date: the first
  period ("Web Hosting - example.com (1 Jan 2026 - 31 Jan 2026)"), the
  setup fee when there is one, the promotion (a negative "Promo" line,
  off the first period and the setup fee), and the client group's
  discount (C6) as billing_run writes it; taxed like the product; the
  client's credit is applied as on every generated invoice;
- counts one use of the promotion code.

The item's recurring amount is the price (less the promotion when it is a
recurring one: the promotion is kept on the item), its first payment what
the first invoice charges for it before tax, and its next due date one
cycle after the signup date. The first period's line names the signup
date as the due date it bills, so billing_run never bills that period
again (the unique index on item and due date), and paying it does not move
the next due date (``invoicing._advance_renewals`` only moves an item still
due on the date its line billed).

Accepting an order makes it and its Pending items Active. Cancelling makes
it and its items Cancelled and cancels its invoice when still unpaid
(credit applied to it goes back to credit); a paid invoice is kept (refund
it on its own). The promotion's use stays counted, as in WHMCS.

Order numbers are random ten-digit numbers, like WHMCS's."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from peewee import fn

from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import (
    ORDER_STATUSES,
    Client,
    ClientGroup,
    Invoice,
    Order,
    Service,
    database,
    now,
)
from billdesk.money import Money
from billdesk.services import (
    billing_run,
    billing_settings,
    catalog,
    changelog,
    clients,
    cycles,
    invoicing,
    promos,
    subscriptions,
    taxes,
)
from billdesk.services.amounts import amount_input, date_input

KIND_OF_TYPE = {"hosting": "service", "reseller": "service", "server": "service",
                "other": "service", "addon": "addon", "domain": "domain"}


# --------------------------------------------------------------------------- records

@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A line of the first invoice as it will be written."""

    description: str
    amount: Money
    taxed: bool
    type: str

    def as_json(self) -> dict[str, Any]:
        return {"description": self.description, "amount": str(self.amount),
                "taxed": self.taxed, "type": self.type}


@dataclass(frozen=True, slots=True)
class OrderQuote:
    """What placing the order would do (nothing written): the item, its
    amounts and the first invoice's lines and totals."""

    client_id: int
    product_id: int
    product_name: str
    kind: str
    name: str
    label: str
    cycle: str
    date: dt.date
    price: Money  # the recurring price before any promotion
    setup_fee: Money
    recurring_amount: Money  # what renewals charge
    first_payment: Money  # what the first invoice charges for the item, before tax
    next_due: dt.date | None
    taxed: bool
    promo: promos.PromoRecord | None
    lines: list[QuoteLine]
    totals: taxes.Totals
    parent_id: int | None = None

    @property
    def currency(self) -> str:
        return self.price.currency

    @property
    def discount(self) -> Money:
        """What the promotion takes off the first invoice."""
        return -sum((ln.amount for ln in self.lines if ln.type == "Promo"),
                    Money.zero(self.currency))

    def as_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id, "product_id": self.product_id,
            "product": self.product_name, "kind": self.kind, "name": self.name,
            "label": self.label, "cycle": self.cycle, "date": self.date.isoformat(),
            "price": str(self.price), "setup_fee": str(self.setup_fee),
            "recurring_amount": str(self.recurring_amount),
            "first_payment": str(self.first_payment),
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "promo": self.promo.code if self.promo else None, "discount": str(self.discount),
            "lines": [ln.as_json() for ln in self.lines], "subtotal": str(self.totals.subtotal),
            "tax": str(self.totals.tax), "total": str(self.totals.total),
        }


@dataclass(frozen=True, slots=True)
class OrderItem:
    id: int
    kind: str
    name: str
    label: str
    status: str
    cycle: str
    amount: Money

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "label": self.label,
                "status": self.status, "cycle": self.cycle, "amount": str(self.amount)}


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: int
    client_id: int
    number: str
    date: dt.date
    status: str
    promo_code: str
    invoice_id: int | None
    invoice_number: str | None
    invoice_status: str | None
    amount: Money  # the first invoice's total
    payment_method: str
    notes: str
    items: list[OrderItem] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def items_text(self) -> str:
        return ", ".join(f"{i.name} - {i.label}" if i.label else i.name for i in self.items)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "client_id": self.client_id, "number": self.number,
            "date": self.date.isoformat(), "status": self.status,
            "promo": self.promo_code or None, "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number, "invoice_status": self.invoice_status,
            "currency": self.currency, "total": str(self.amount),
            "payment_method": self.payment_method, "notes": self.notes,
            "items": [item.as_json() for item in self.items],
        }


# --------------------------------------------------------------------------- quoting

def _client(client_id: int) -> tuple[str, str, str, Decimal]:
    """(currency, language, group name, group discount percent)."""
    if isinstance(client_id, bool) or not isinstance(client_id, int):
        raise InvalidInput("client_id", f"{client_id!r} is not an id")
    row = (Client.select(Client.currency, Client.language, ClientGroup.name, ClientGroup.discount)
           .left_outer_join(ClientGroup, on=(Client.group == ClientGroup.id))
           .where(Client.id == client_id).tuples().first())
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    currency, language, group, discount = row
    if not isinstance(discount, Decimal):  # stored hundredths, when read without the field
        discount = Decimal(int(discount or 0)).scaleb(-2)
    return currency, language or "en", group or "", discount


def _group_discounts(currency: str, group: str, rate: Decimal,
                     lines: list[QuoteLine]) -> list[QuoteLine]:
    """The client group's discount (C6) on these lines, as billing_run words it."""
    bases = {taxed: sum((ln.amount.amount for ln in lines if ln.taxed == taxed), Decimal(0))
             for taxed in (True, False)}
    return [QuoteLine(text, Money(amount, currency), taxed, "GroupDiscount")
            for text, amount, taxed in billing_run.group_discounts(currency, group, rate, bases)]


def _product(value: Any) -> catalog.ProductRecord:
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput("product", "is required")
    if isinstance(value, int):
        return catalog.get_product(value)
    return catalog.find_product(str(value))


def _parent(client_id: int, parent_id: Any) -> tuple[int, str]:
    if parent_id is None:
        raise InvalidInput("parent_id", "an addon goes on one of the client's services or "
                                        "domains: choose it")
    row = (Service.select(Service.client, Service.kind, Service.name)
           .where(Service.id == parent_id).tuples().first())
    if row is None:
        raise NotFound("parent_id", f"no service or domain #{parent_id}")
    if row[0] != client_id:
        raise Conflict("parent_id", f"#{parent_id} belongs to another client")
    if row[1] == "addon":
        raise InvalidInput("parent_id", f"#{parent_id} is an addon: an addon goes on a service "
                                        "or a domain")
    return parent_id, row[2]


def quote_order(client_id: int, product: int | str, cycle: str, *, promo: str | None = None,
                price: Any = None, label: str = "", parent_id: int | None = None,
                date: Any = None) -> OrderQuote:
    """What placing this order would create and charge; refuses what
    place_order refuses, and writes nothing (the order dialog's preview)."""
    currency, language, group, rate = _client(client_id)
    found = _product(product)
    cycle = cycles.check_cycle(cycle)
    kind = KIND_OF_TYPE[found.type]
    day = date_input(date, "date") if date not in (None, "") else dt.date.today()
    label = str(label or "").strip()
    name, parent_name = found.name, None
    if kind == "domain":
        name = subscriptions.check_domain_name(label) if label else ""
        if not name:
            raise InvalidInput("domain", f"{found.name!r} is a domain product: give the domain "
                                         "name")
        if cycle not in subscriptions.DOMAIN_CYCLES:
            raise InvalidInput("cycle", "a domain is registered for "
                                        f"{', '.join(subscriptions.DOMAIN_CYCLES)}, not {cycle}")
        label = ""
    elif kind == "addon":
        parent_id, parent_name = _parent(client_id, parent_id)
        label = ""
    if len(label) > subscriptions.LIMITS["label"]:
        raise InvalidInput("domain", f"is longer than {subscriptions.LIMITS['label']} characters")
    listed = found.price(currency, cycle)
    zero = Money.zero(currency)
    if cycle == "free":
        if price not in (None, "") and amount_input(price, currency, "price", zero_ok=True):
            raise InvalidInput("price", "a free item costs nothing")
        amount, setup = zero, zero
    elif price not in (None, ""):
        amount = amount_input(price, currency, "price", zero_ok=True)
        setup = listed[1] if listed else zero
    elif listed is not None:
        amount, setup = listed
    else:
        offered = ", ".join(c for (cur, c) in found.prices if cur == currency) or "none"
        raise InvalidInput("cycle", f"{found.name!r} has no {cycle} price in {currency} "
                                    f"(offered: {offered}); give a price")
    code = None
    if promo not in (None, "") and str(promo).strip():
        code = promos.check_promo(str(promo), product_id=found.id, cycle=cycle, when=day)
    recurring_amount = amount
    if code and code.recurring and cycles.is_recurring(cycle):
        recurring_amount = amount - code.discount(amount)
    next_due = cycles.next_due(day, cycle, day.day) if cycles.is_recurring(cycle) else None
    lines: list[QuoteLine] = []
    if cycles.is_recurring(cycle):
        start, end = cycles.period(day, cycle, day.day)
        if kind == "domain":
            years = cycles.CYCLE_MONTHS[cycle] // 12
            text = (f"Domain registration - {name} - {years} year{'s' if years != 1 else ''} "
                    f"({billing_run.date_text(start, language)} - "
                    f"{billing_run.date_text(end, language)})")
        else:
            text = billing_run.describe(kind, name, label, parent_name, cycle, start, end, language)
    elif kind == "domain":
        text = f"Domain registration - {name}"
    elif kind == "addon":
        text = f"Addon {name}" + (f" ({parent_name})" if parent_name else "")
    else:
        text = f"{name} - {label}" if label else name
    if amount or cycle != "free":
        lines.append(QuoteLine(text, amount, found.taxed, billing_run.LINE_TYPE[kind]))
    if setup:
        lines.append(QuoteLine(f"Setup fee: {name}" + (f" - {label}" if label else ""), setup,
                               found.taxed, "Setup"))
    if code:
        off = code.discount(amount + setup)
        if off:
            lines.append(QuoteLine(code.line_text(currency), -off, found.taxed, "Promo"))
    lines += _group_discounts(currency, group, rate, lines)
    first_payment = sum((ln.amount for ln in lines), zero)
    totals = invoicing.preview(((ln.amount, ln.taxed) for ln in lines),
                               invoicing.rates_for_client(client_id), currency)
    return OrderQuote(client_id, found.id, found.name, kind, name, label, cycle, day, amount,
                      setup, recurring_amount, first_payment, next_due, bool(found.taxed), code,
                      lines, totals, parent_id)


# --------------------------------------------------------------------------- placing

def _new_number(draw: Callable[[int], int] = secrets.randbelow) -> str:
    """A random 10-digit order number not used yet (as WHMCS numbers
    orders); ``draw(n)`` gives 0 ≤ x < n (the demo passes a seeded one)."""
    while True:
        number = str(1_000_000_000 + draw(9_000_000_000))
        if not Order.select().where(Order.number == number).exists():
            return number


def place_order(client_id: int, product: int | str, cycle: str, *, promo: str | None = None,
                price: Any = None, label: str = "", parent_id: int | None = None,
                payment_method: str | None = None, date: Any = None, notes: str = "",
                draw: Callable[[int], int] | None = None, actor: str | None = None) -> int:
    """Place the order (see the module's text); returns the order's id.
    A refusal (unknown product, no price for the cycle, a promotion code
    that is expired, used up or not for this product or cycle, …) raises
    and writes nothing. ``draw`` picks the random order number (a seeded
    one makes the demo repeatable)."""
    actor = actor or changelog.current_actor()
    method = (billing_settings.check_payment_method(payment_method, "payment_method")
              if payment_method not in (None, "") else None)
    with database.atomic():
        quote = quote_order(client_id, product, cycle, promo=promo, price=price, label=label,
                            parent_id=parent_id, date=date)
        clients.check_writable(client_id)  # C11: an archived client is read-only
        if method is None:
            method = invoicing._client_method(client_id)
        if quote.promo:
            promos.take_use(quote.promo)
        stamp = now()
        number = _new_number(draw or secrets.randbelow)
        order_id = Order.insert(
            client=client_id, number=number, date=quote.date, status="Pending",
            promo=quote.promo.id if quote.promo else None,
            promo_code=quote.promo.code if quote.promo else "", currency=quote.currency,
            amount=0, payment_method=method, notes=str(notes or "").strip(),
            created_at=stamp, updated_at=stamp).execute()
        common = dict(cycle=quote.cycle, amount=quote.recurring_amount.amount,
                      first_payment=quote.first_payment.amount, status="Pending",
                      payment_method=method, actor=actor)
        if quote.kind == "service":
            item_id = subscriptions.add_service(
                client_id, product=quote.product_id, label=quote.label, taxed=quote.taxed,
                signup_date=quote.date, next_due=quote.next_due, **common)
        elif quote.kind == "addon":
            item_id = subscriptions.add_addon(
                client_id, quote.parent_id, product=quote.product_id, taxed=quote.taxed,
                signup_date=quote.date, next_due=quote.next_due, **common)
        else:
            item_id = subscriptions.add_domain(  # registered for the first period
                client_id, quote.name, registration_date=quote.date, next_due=quote.next_due,
                expiry_date=quote.next_due, taxed=quote.taxed, **common)
        # due dates keep the signup day (31 Jan → 28 Feb → 31 Mar), not the first due date's
        Service.update(order=order_id, product=quote.product_id, due_day=quote.date.day,
                       promo=quote.promo.id if quote.promo and quote.promo.recurring else None
                       ).where(Service.id == item_id).execute()
        invoice_id = None
        if any(ln.amount for ln in quote.lines):
            claim = quote.date if cycles.is_recurring(quote.cycle) else None
            lines = [invoicing.LineInput(ln.description, ln.amount.amount, ln.taxed, ln.type,
                                         None if ln.type == "GroupDiscount" else item_id,
                                         claim if ln.type in invoicing.RENEWAL_TYPES else None)
                     for ln in quote.lines]
            invoice_id = invoicing.create_invoice(
                client_id, lines, date=quote.date, due_date=quote.date, payment_method=method,
                actor=actor)
            total = Invoice.select(Invoice.total).where(Invoice.id == invoice_id).scalar()
            Order.update(invoice=invoice_id, amount=total).where(Order.id == order_id).execute()
            invoicing.apply_credit_to_new_invoice(invoice_id, when=quote.date, actor=actor)
        changelog.record(client_id, f"Order #{number} placed: {quote.name}"
                         + (f" - {quote.label}" if quote.label else "")
                         + f", {cycles.CYCLE_LABELS[quote.cycle].lower()}"
                         + (f", promotion code {quote.promo.code}" if quote.promo else "")
                         + f", first invoice {quote.totals.total} {quote.currency}", actor=actor)
    return order_id


# --------------------------------------------------------------------------- reading

_ORDER_COLUMNS = (Order.id, Order.client, Order.number, Order.date, Order.status,
                  Order.promo_code, Order.invoice, Invoice.number, Invoice.status, Order.amount,
                  Order.currency, Order.payment_method, Order.notes)


def _records(query: Any) -> list[OrderRecord]:
    rows = list(query.tuples())
    ids = [row[0] for row in rows]
    items: dict[int, list[OrderItem]] = {}
    if ids:
        for (sid, order_id, kind, name, label, status, cycle, amount, currency) in (
                Service.select(Service.id, Service.order, Service.kind, Service.name,
                               Service.label, Service.status, Service.cycle, Service.amount,
                               Client.currency)
                .join(Client, on=(Service.client == Client.id))
                .where(Service.order.in_(ids)).order_by(Service.id).tuples()):
            items.setdefault(order_id, []).append(OrderItem(
                sid, kind, name, label, status, cycle, Money.from_minor(amount, currency)))
    out = []
    for (oid, client_id, number, date, status, code, invoice_id, inv_number, inv_status, amount,
         currency, method, notes) in rows:
        out.append(OrderRecord(oid, client_id, number, _date(date), status, code, invoice_id,
                               inv_number, inv_status, Money.from_minor(amount, currency), method,
                               notes, items.get(oid, [])))
    return out


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _query() -> Any:
    return (Order.select(*_ORDER_COLUMNS)
            .left_outer_join(Invoice, on=(Order.invoice == Invoice.id)))


def get_order(order_id: int) -> OrderRecord:
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise InvalidInput("id", f"{order_id!r} is not an id")
    found = _records(_query().where(Order.id == order_id))
    if not found:
        raise NotFound("id", f"no order #{order_id}")
    return found[0]


def list_orders(client_id: int) -> list[OrderRecord]:
    """The client's orders, newest first."""
    _client(client_id)
    return _records(_query().where(Order.client == client_id).order_by(Order.id.desc()))


def counts(client_id: int) -> dict[str, int]:
    """How many of the client's orders are in each status (C4)."""
    found = dict.fromkeys(ORDER_STATUSES, 0)
    found.update(Order.select(Order.status, fn.COUNT(Order.id)).where(Order.client == client_id)
                 .group_by(Order.status).tuples())
    return found


# --------------------------------------------------------------------------- accept / cancel

def _set_items(order: OrderRecord, from_statuses: tuple[str, ...], to: str, message: str,
               actor: str) -> list[int]:
    changed = []
    stamp = now()
    for item in order.items:
        if item.status not in from_statuses or item.status == to:
            continue
        Service.update(status=to, updated_at=stamp).where(Service.id == item.id).execute()
        changelog.record(order.client_id, message, field=f"{item.name} (#{item.id}) status",
                         old=item.status, new=to, actor=actor)
        changed.append(item.id)
    return changed


def accept_order(order_id: int, *, actor: str | None = None) -> OrderRecord:
    """A Pending order becomes Active, and so do its Pending items."""
    actor = actor or changelog.current_actor()
    with database.atomic():
        order = get_order(order_id)
        clients.check_writable(order.client_id)
        if order.status != "Pending":
            raise Conflict("order", f"order #{order.number} is {order.status}; only a Pending "
                                    "order can be accepted")
        Order.update(status="Active", updated_at=now()).where(Order.id == order_id).execute()
        changelog.record(order.client_id, "", field=f"Order #{order.number} status",
                         old=order.status, new="Active", actor=actor)
        _set_items(order, ("Pending",), "Active", f"Order #{order.number} accepted", actor)
    return get_order(order_id)


def cancel_order(order_id: int, *, actor: str | None = None) -> OrderRecord:
    """The order and its items become Cancelled; its invoice is cancelled
    when not yet paid (credit applied to it returns to the client's
    credit). A paid invoice is left as it is. The promotion's use stays."""
    actor = actor or changelog.current_actor()
    with database.atomic():
        order = get_order(order_id)
        clients.check_writable(order.client_id)
        if order.status == "Cancelled":
            raise Conflict("order", f"order #{order.number} is already cancelled")
        Order.update(status="Cancelled", updated_at=now()).where(Order.id == order_id).execute()
        changelog.record(order.client_id, "", field=f"Order #{order.number} status",
                         old=order.status, new="Cancelled", actor=actor)
        _set_items(order, ("Pending", "Pending transfer", "Active", "Suspended"), "Cancelled",
                   f"Order #{order.number} cancelled", actor)
        if order.invoice_id is not None and order.invoice_status in invoicing.OWING:
            invoicing.cancel_invoice(order.invoice_id, actor=actor)
    return get_order(order_id)
