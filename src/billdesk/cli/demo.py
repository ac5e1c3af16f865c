"""billdesk demo [--clients N] [--seed S] [--no-billing]"""

from __future__ import annotations

import argparse
import time
from typing import Any

from billdesk.cli import parse


def register(commands: Any) -> None:
    p = commands.add_parser("demo", help="fill an empty book with realistic demo data")
    p.add_argument("--clients", default="3000", metavar="N", help="how many clients (default 3000)")
    p.add_argument("--seed", default="1", metavar="S", help="random seed (default 1)")
    p.add_argument("--no-billing", dest="billing", action="store_false",
                   help="clients only: no invoices, payments or credit")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import demo

    n = parse.integer(args.clients, "clients", minimum=0)
    seed = parse.integer(args.seed, "seed")
    started = time.perf_counter()
    result = demo.create_demo(n, seed, billing=args.billing)
    took = time.perf_counter() - started
    billing = (f", {result.invoices} invoices, {result.transactions} transactions, "
               f"{result.credit_entries} credit entries; {result.products} products, "
               f"{result.services} services, {result.addons} addons, {result.domains} domains, "
               f"{result.orders} orders, {result.quotes} quotes, {result.billable_items} "
               f"billable items, {result.recurring_invoices} recurring invoices"
               if args.billing else "")
    out.emit(result.as_json(), f"Demo book ready: {result.clients} clients, {result.contacts} "
             f"contacts, {result.groups} groups{billing} ({took:.1f} s).")
