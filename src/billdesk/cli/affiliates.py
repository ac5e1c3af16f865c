"""affiliate activate|commission|deactivate|reactivate|refer|unrefer|show|
payout|payout-delete|settings (F4). An affiliate's id is its client's id."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.services.text import counted


def register(commands: Any) -> None:
    """Adds the ``affiliate`` command."""
    affiliate = commands.add_parser(
        "affiliate", help="affiliates: referred clients, commissions and payouts")
    sub = affiliate.add_subparsers(dest="affiliate_command", metavar="ACTION", required=True)

    activate = sub.add_parser("activate", help="make a client an affiliate")
    activate.add_argument("client_id")
    _commission_options(activate)
    activate.set_defaults(handler=affiliate_activate)

    commission = sub.add_parser("commission", help="change an affiliate's commission (for "
                                "invoices paid from now on)")
    commission.add_argument("affiliate_id")
    _commission_options(commission)
    commission.set_defaults(handler=affiliate_commission)

    for name, text, handler in (
            ("deactivate", "stop new commissions (earned ones stay)", affiliate_deactivate),
            ("reactivate", "earn commissions again", affiliate_reactivate)):
        p = sub.add_parser(name, help=text)
        p.add_argument("affiliate_id")
        p.set_defaults(handler=handler)

    refer = sub.add_parser("refer", help="record that the affiliate referred a client")
    refer.add_argument("affiliate_id")
    refer.add_argument("client_id", help="the referred client")
    refer.add_argument("--reassign", action="store_true",
                       help="move the client from the affiliate that referred it before")
    refer.set_defaults(handler=affiliate_refer)

    unrefer = sub.add_parser("unrefer", help="the client is referred by no one any more")
    unrefer.add_argument("client_id")
    unrefer.set_defaults(handler=affiliate_unrefer)

    show = sub.add_parser("show", help="an affiliate's referrals, commissions, payouts and "
                          "balance")
    show.add_argument("client_id")
    show.set_defaults(handler=affiliate_show)

    payout = sub.add_parser("payout", help="record money paid to an affiliate (at most its "
                            "balance)")
    payout.add_argument("affiliate_id")
    payout.add_argument("--amount", required=True, help="in the affiliate's currency")
    payout.add_argument("--date", help="YYYY-MM-DD (default: today)")
    payout.add_argument("--method", default="", help="how it was paid, e.g. Bank transfer")
    payout.add_argument("--notes", default="")
    payout.set_defaults(handler=affiliate_payout)

    delete = sub.add_parser("payout-delete", help="delete a payout recorded by mistake")
    delete.add_argument("id", help="payout id")
    delete.add_argument("--yes", action="store_true", help="don't ask")
    delete.set_defaults(handler=affiliate_payout_delete)

    settings = sub.add_parser("settings", help="show or set the days a commission stays "
                              "pending")
    settings.add_argument("--delay-days", help="days from the invoice's payment until its "
                          "commission is payable")
    settings.set_defaults(handler=affiliate_settings)


def _commission_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--percent", help="percent of each paid invoice's subtotal, e.g. 10 or 12.5")
    group.add_argument("--fixed", help="a fixed amount per paid invoice, in the client's currency")


def _record_text(record: Any, said: str = "") -> str:
    return (f"{said}affiliate #{record.id} {record.name}: commission {record.commission_text}, "
            f"{record.status}, since {record.activated_at:%Y-%m-%d}")


def affiliate_activate(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    record = affiliates.activate(parse.record_id(args.client_id, "client_id"),
                                 percent=args.percent, fixed=args.fixed)
    out.emit(record.as_json(), lambda: _record_text(record, "Activated "))


def affiliate_commission(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    record = affiliates.update_commission(parse.record_id(args.affiliate_id, "affiliate_id"),
                                          percent=args.percent, fixed=args.fixed)
    out.emit(record.as_json(), lambda: _record_text(record, "Changed "))


def affiliate_deactivate(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    record = affiliates.deactivate(parse.record_id(args.affiliate_id, "affiliate_id"))
    out.emit(record.as_json(), lambda: _record_text(record))


def affiliate_reactivate(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    record = affiliates.reactivate(parse.record_id(args.affiliate_id, "affiliate_id"))
    out.emit(record.as_json(), lambda: _record_text(record))


def affiliate_refer(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    referral = affiliates.refer(parse.record_id(args.affiliate_id, "affiliate_id"),
                                parse.record_id(args.client_id, "client_id"),
                                reassign=args.reassign)
    out.emit(referral.as_json(), lambda: f"Client #{referral.client_id} {referral.name} is "
             f"referred by affiliate #{referral.affiliate_id}")


def affiliate_unrefer(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates, clients

    client_id = parse.record_id(args.client_id, "client_id")
    clients.client_currency(client_id)  # NotFound for no such client
    removed = affiliates.unrefer(client_id)
    out.emit({"client_id": client_id, "removed": removed},
             f"Client #{client_id} is referred by no one any more" if removed
             else f"Client #{client_id} was referred by no one")


def _show_text(s: Any) -> str:
    a = s.affiliate
    cur = a.currency
    lines = [_record_text(a),
             f"Sign-ups {s.signups}; pending {s.pending} {cur}; payable {s.payable} {cur}; "
             f"paid out {s.paid_out} {cur}; balance {s.balance} {cur} "
             f"(commissions payable {s.delay_days} days after payment)"]
    if s.referrals:
        lines.append("Referred clients:")
        lines += [f"  #{r.client_id} {r.name}  since {r.referred_at:%Y-%m-%d}  "
                  f"{counted(r.paid_invoices, 'paid invoice')}" for r in s.referrals]
    if s.commissions:
        lines.append("Commissions:")
        lines += [f"  #{c.id}  {c.earned_on}  {str(c.amount):>10} {cur}  invoice "
                  f"{c.invoice_number or c.invoice_id or '—'} of #{c.client_id or '—'}  "
                  f"{c.state} from {c.payable_on}" for c in s.commissions]
    if s.payouts:
        lines.append("Payouts:")
        lines += [f"  #{p.id}  {p.paid_on}  {str(p.amount):>10} {cur}  {p.method}".rstrip()
                  for p in s.payouts]
    return "\n".join(lines)


def affiliate_show(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import NotFound
    from billdesk.services import affiliates, clients

    client_id = parse.record_id(args.client_id, "client_id")
    clients.client_currency(client_id)  # NotFound for no such client
    if not affiliates.is_affiliate(client_id):
        raise NotFound("client", f"#{client_id} is not an affiliate")
    found = affiliates.summary(client_id)
    out.emit(found.as_json(), lambda: _show_text(found))


def affiliate_payout(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    affiliate_id = parse.record_id(args.affiliate_id, "affiliate_id")
    payout = affiliates.record_payout(affiliate_id, amount=args.amount, paid_on=args.date,
                                      method=args.method, notes=args.notes)
    left = affiliates.balance(affiliate_id)
    document = payout.as_json()
    document["balance"] = str(left)
    out.emit(document, lambda: f"Payout #{payout.id}: {payout.amount} {left.currency} to "
             f"affiliate #{affiliate_id} on {payout.paid_on}; balance {left} {left.currency}")


def affiliate_payout_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import NotFound
    from billdesk.models import AffiliatePayout
    from billdesk.services import affiliates

    payout_id = parse.record_id(args.id, "id")
    row = AffiliatePayout.get_or_none(AffiliatePayout.id == payout_id)
    if row is None:
        raise NotFound("id", f"no payout #{payout_id}")
    parse.confirmed(args.yes, f"Delete payout #{payout_id} of affiliate #{row.affiliate_id}?")
    affiliates.delete_payout(payout_id)
    left = affiliates.balance(row.affiliate_id)
    out.emit({"deleted": payout_id, "affiliate_id": row.affiliate_id, "balance": str(left)},
             f"Deleted payout #{payout_id}; balance {left} {left.currency}")


def affiliate_settings(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import affiliates

    if args.delay_days is not None:
        affiliates.set_delay_days(args.delay_days)
    days = affiliates.delay_days()
    out.emit({"delay_days": days}, f"Commissions are payable {days} days after the invoice "
             "is paid.")
