"""order add|accept|cancel|list|show and promo add|list|delete (SPEC.md S8, D5).

``order add`` prints the order with its first invoice (as ``invoice show``
prints it); ``order accept`` and ``order cancel`` print the order;
``order list`` prints ``{"orders": […]}`` newest first and ``promo list``
``{"promos": […]}``. Refused input (a promotion code that is expired, used
up or not for the product, a cycle without a price, …) exits 1 with one
``error: <field>: …`` line and writes nothing."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse

CYCLE_HELP = "free, onetime, monthly, quarterly, semiannually, annually, biennially, triennially"


def register(commands: Any) -> None:
    order = commands.add_parser("order", help="a client's orders: place, accept, cancel, list")
    sub = order.add_subparsers(dest="order_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="place an order from the catalogue (hidden products too): "
                                     "its item in Pending and its first invoice")
    add.add_argument("client_id", help="client id")
    add.add_argument("--product", required=True, help="product id or exact name")
    add.add_argument("--cycle", required=True, help=CYCLE_HELP)
    add.add_argument("--promo", metavar="CODE", help="promotion code")
    add.add_argument("--price", metavar="A", help="custom recurring price (default: the "
                                                  "product's price for the cycle)")
    add.add_argument("--domain", metavar="NAME", default="",
                     help="the service's domain (label); a domain product's name")
    add.add_argument("--parent", metavar="ID", help="for an addon product: the service or "
                                                    "domain it goes on")
    add.add_argument("--payment-method", help="default: the client's")
    add.add_argument("--date", metavar="YYYY-MM-DD", help="order date (default today)")
    add.add_argument("--notes", default="")
    add.set_defaults(handler=order_add)

    for name, handler, text in (("accept", order_accept, "accept a Pending order: it and its "
                                 "items become Active"),
                                ("cancel", order_cancel, "cancel an order: its items and its "
                                 "unpaid invoice too"),
                                ("show", order_show, "one order")):
        one = sub.add_parser(name, help=text)
        one.add_argument("id", help="order id")
        one.set_defaults(handler=handler)

    lst = sub.add_parser("list", help="a client's orders, newest first")
    lst.add_argument("client_id", help="client id")
    lst.set_defaults(handler=order_list)

    promo = commands.add_parser("promo", help="promotion codes: add, list, delete")
    psub = promo.add_subparsers(dest="promo_command", metavar="ACTION", required=True)
    padd = psub.add_parser("add", help="add a promotion code")
    padd.add_argument("code", help="the code, e.g. SPRING26")
    kind = padd.add_mutually_exclusive_group(required=True)
    kind.add_argument("--percent", metavar="P", help="percent off, e.g. 10")
    kind.add_argument("--fixed", metavar="A", help="amount off, in the client's currency")
    padd.add_argument("--products", nargs="+", metavar="PRODUCT",
                      help="only these products (ids or exact names; default: all)")
    padd.add_argument("--cycles", nargs="+", metavar="CYCLE",
                      help="only these billing cycles (default: all)")
    padd.add_argument("--recurring", action="store_true",
                      help="off every renewal too, not only the first payment")
    padd.add_argument("--max-uses", metavar="N", help="how many orders may use it (default: "
                                                      "no limit)")
    padd.add_argument("--start", metavar="YYYY-MM-DD", help="first day it may be used")
    padd.add_argument("--until", metavar="YYYY-MM-DD", help="last day it may be used")
    padd.add_argument("--notes", default="")
    padd.set_defaults(handler=promo_add)
    plist = psub.add_parser("list", help="every promotion code")
    plist.set_defaults(handler=promo_list)
    pdel = psub.add_parser("delete", help="delete a promotion code (orders keep its text)")
    pdel.add_argument("code", help="the code or its id")
    pdel.set_defaults(handler=promo_delete)


# --------------------------------------------------------------------------- text

def order_text(order: Any, head: str = "") -> str:
    lines = [f"{head}Order #{order.number} (id {order.id}) of {order.date.isoformat()} — "
             f"{order.status}",
             f"  Client #{order.client_id}   total {order.amount} {order.currency}"
             + (f"   promotion {order.promo_code}" if order.promo_code else "")
             + (f"   invoice #{order.invoice_number or order.invoice_id} ({order.invoice_status})"
                if order.invoice_id else "   no invoice")]
    lines += [f"  #{item.id} {item.kind} {item.name}" + (f" - {item.label}" if item.label else "")
              + f": {item.status}, {item.cycle} {item.amount}" for item in order.items]
    return "\n".join(lines)


def _invoice_text(invoice: Any) -> str:
    rows = [f"  {ln.description}  {ln.amount}" for ln in invoice.lines]
    rows.append(f"  Subtotal {invoice.subtotal}   tax {invoice.tax}   total {invoice.total}   "
                f"balance {invoice.balance}")
    return "\n".join(rows)


def promo_text(promo: Any) -> str:
    limits = []
    if promo.products:
        limits.append("for " + ", ".join(name for _i, name in promo.products))
    if promo.cycles:
        limits.append(", ".join(promo.cycles))
    if promo.start_date:
        limits.append(f"from {promo.start_date.isoformat()}")
    if promo.end_date:
        limits.append(f"until {promo.end_date.isoformat()}")
    uses = f"{promo.uses}/{promo.max_uses}" if promo.max_uses else f"{promo.uses}"
    return (f"{promo.id:>4}  {promo.code:20}  {promo.value_text:>10} "
            f"{'recurring' if promo.recurring else 'one time':9}  used {uses}"
            + (f"  ({'; '.join(limits)})" if limits else ""))


# --------------------------------------------------------------------------- orders

def order_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import invoicing, orders

    client_id = parse.record_id(args.client_id, "client_id")
    parent = parse.record_id(args.parent, "parent") if args.parent is not None else None
    order_id = orders.place_order(
        client_id, args.product, args.cycle, promo=args.promo, price=args.price,
        label=args.domain, parent_id=parent, payment_method=args.payment_method, date=args.date,
        notes=args.notes)
    order = orders.get_order(order_id)
    invoice = invoicing.get_invoice(order.invoice_id) if order.invoice_id else None
    document = order.as_json()
    document["invoice"] = invoice.as_json() if invoice else None
    out.emit(document, lambda: order_text(order, "Placed ")
             + ("\n" + _invoice_text(invoice) if invoice else ""))


def order_accept(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import orders

    order = orders.accept_order(parse.record_id(args.id))
    out.emit(order.as_json(), lambda: order_text(order, "Accepted "))


def order_cancel(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import orders

    order = orders.cancel_order(parse.record_id(args.id))
    out.emit(order.as_json(), lambda: order_text(order, "Cancelled "))


def order_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import orders

    order = orders.get_order(parse.record_id(args.id))
    out.emit(order.as_json(), lambda: order_text(order))


def order_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import orders

    found = orders.list_orders(parse.record_id(args.client_id, "client_id"))
    out.emit({"orders": [o.as_json() for o in found]},
             lambda: "\n".join(order_text(o) for o in found) if found else "No orders")


# --------------------------------------------------------------------------- promotions

def promo_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import promos

    max_uses = parse.integer(args.max_uses, "max-uses", minimum=0) if args.max_uses else 0
    products = list(args.products or ())  # ids or exact names
    promo_id = promos.add_promo(
        args.code, percent=args.percent, fixed=args.fixed, products=products,
        cycles=args.cycles or (), recurring=args.recurring, start_date=args.start,
        end_date=args.until, max_uses=max_uses, notes=args.notes)
    promo = promos.get_promo(promo_id)
    out.emit(promo.as_json(), lambda: "Added\n" + promo_text(promo))


def promo_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import promos

    found = promos.list_promos()
    out.emit({"promos": [p.as_json() for p in found]},
             lambda: "\n".join(promo_text(p) for p in found) if found else "No promotion codes")


def promo_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import NotFound
    from billdesk.services import promos

    try:
        promo = promos.find_promo(args.code, "code")
    except NotFound:
        text = args.code.strip()
        if not text.isdigit():
            raise
        promo = promos.get_promo(parse.record_id(text, "code"))
    promos.delete_promo(promo.id)
    out.emit({"id": promo.id, "code": promo.code, "deleted": True},
             f"Deleted promotion code {promo.code}")
