"""product add|list|show: the product catalogue (SPEC.md S1).

Amounts reach the service as the text that was typed; it is the one place
that says what is refused, naming the option (``monthly``, ``setup_fee``).
A negative amount such as ``--monthly -5`` is taken as the option's value
(no option here looks like a negative number) and refused with exit 1."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.models import PRODUCT_TYPES

PRICE_OPTIONS = ("onetime", "monthly", "quarterly", "semiannually", "annually", "biennially",
                 "triennially")
SHORT = {"onetime": " once", "monthly": "/mo", "quarterly": "/qtr", "semiannually": "/6mo",
         "annually": "/yr", "biennially": "/2yr", "triennially": "/3yr"}


def register(commands: Any) -> None:
    product = commands.add_parser("product", help="the product catalogue: what you sell and its prices")
    sub = product.add_subparsers(dest="product_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a product with its prices")
    add.add_argument("--name", required=True, help="unique name, e.g. 'Web hosting S'")
    add.add_argument("--type", default="hosting", help=f"{', '.join(PRODUCT_TYPES)} (default hosting)")
    add.add_argument("--group", default="", help="product group, e.g. 'Shared hosting'")
    add.add_argument("--description", default="", help="shown on order forms")
    for cycle in PRICE_OPTIONS:
        add.add_argument(f"--{cycle}", metavar="AMOUNT", help=f"the {cycle} price (leave out: "
                                                              "not offered)")
    add.add_argument("--setup-fee", metavar="AMOUNT",
                     help="one-off fee charged with the first invoice, for every price given")
    add.add_argument("--currency", help="ISO 4217 code of the prices (default: your default "
                                        "currency)")
    add.add_argument("--hidden", action="store_true", help="leave it out of order forms")
    add.add_argument("--taxed", action="store_true", help="charge tax on it")
    add.set_defaults(handler=product_add)

    lst = sub.add_parser("list", help="every product with its prices, by group and name")
    lst.add_argument("--visible", action="store_true", help="leave hidden products out")
    lst.set_defaults(handler=product_list)

    show = sub.add_parser("show", help="one product with its prices")
    show.add_argument("product", help="product id or exact name")
    show.set_defaults(handler=product_show)


def prices_text(record: Any) -> str:
    """``USD 5.00/mo, 50.00/yr (setup 10.00)`` for each currency."""
    parts = []
    for currency in record.currencies():
        cycles = []
        for cycle in PRICE_OPTIONS:
            price = record.price(currency, cycle)
            if price is not None:
                amount, setup_fee = price
                cycles.append(f"{amount}{SHORT[cycle]}" + (f" (setup {setup_fee})" if setup_fee else ""))
        parts.append(f"{currency} " + ", ".join(cycles))
    return "; ".join(parts) or "no prices"


def product_text(record: Any, head: str = "Product") -> str:
    flags = [flag for flag, on in (("hidden", record.hidden), ("taxed", record.taxed)) if on]
    lines = [f"{head} #{record.id}: {record.name} ({record.type})"
             + (f" [{', '.join(flags)}]" if flags else "")]
    if record.product_group:
        lines.append(f"  Group:  {record.product_group}")
    lines.append(f"  Prices: {prices_text(record)}")
    if record.description:
        lines.append(f"  {record.description}")
    return "\n".join(lines)


def product_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import catalog

    prices = {cycle: getattr(args, cycle) for cycle in PRICE_OPTIONS
              if getattr(args, cycle) is not None}
    product_id = catalog.add_product(
        args.name, type=args.type, group=args.group, description=args.description,
        taxed=args.taxed, hidden=args.hidden, prices=prices, setup_fee=args.setup_fee,
        currency=args.currency)
    record = catalog.get_product(product_id)
    out.emit(record.as_json(), lambda: product_text(record, "Added product"))


def product_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import catalog

    records = catalog.list_products(include_hidden=not args.visible)

    def text() -> str:
        if not records:
            return "No products yet. Add one with: billdesk product add --name NAME --monthly AMOUNT"
        name_width = min(max(len(r.name) for r in records), 32)
        group_width = min(max([len(r.product_group) for r in records] + [5]), 24)
        lines = [f"{'ID':>5}  {'Name':{name_width}}  {'Type':8}  {'Group':{group_width}}  Prices"]
        for r in records:
            name = r.name if len(r.name) <= name_width else r.name[:name_width - 1] + "…"
            group = r.product_group if len(r.product_group) <= group_width else (
                r.product_group[:group_width - 1] + "…")
            lines.append(f"{r.id:>5}  {name:{name_width}}  {r.type:8}  {group:{group_width}}  "
                         f"{prices_text(r)}" + ("  (hidden)" if r.hidden else ""))
        lines.append(f"{len(records)} product{'s' if len(records) != 1 else ''}")
        return "\n".join(lines)

    out.emit({"products": [r.as_json() for r in records]}, text)


def product_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import catalog

    record = catalog.find_product(args.product)
    out.emit(record.as_json(), lambda: product_text(record))
