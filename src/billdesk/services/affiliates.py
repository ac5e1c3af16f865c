"""Affiliates (F4): a client activated as an affiliate earns a commission
on the paid invoices of the clients it referred.

The affiliate row's id is its client's id (kept so through a merge), so
"affiliate #12" and "client #12" are the same person. The commission is a
percent of the invoice's subtotal (before tax) or a fixed amount per paid
invoice, always in the affiliate's currency (a referred client paying in
another currency is converted at the book's rates). A commission accrues
when the invoice becomes Paid (``invoicing.set_paid``/``set_paid_many``
call ``accrue`` in their transaction), is pending for the set number of
days (``delay_days``) and payable from then on; a payout takes from the
payable balance. Add-funds invoices earn nothing (paying with that credit
later does). A paid invoice refunded in whole while its commission is
still pending loses it (``revoke``).

Every write is logged on the affiliate's (and, for a referral, the
referred client's) change log, in the same transaction."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from peewee import fn

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import (
    Affiliate,
    AffiliateCommission,
    AffiliatePayout,
    AffiliateReferral,
    Client,
    Setting,
    database,
    now,
)
from billdesk.money import Money, to_decimal
from billdesk.services import changelog, clients
from billdesk.services.amounts import amount_input, date_input

DELAY_KEY = "affiliate_delay_days"
DEFAULT_DELAY_DAYS = 30
MAX_DELAY_DAYS = 3650
METHOD_LIMIT = 100
NOTES_LIMIT = 2000
_PERCENT = re.compile(r"\d+(\.\d*)?|\.\d+")


# --------------------------------------------------------------------------- settings

def delay_days() -> int:
    """Days a commission stays pending after the invoice was paid."""
    row = Setting.get_or_none(Setting.key == DELAY_KEY)
    if row is None:
        return DEFAULT_DELAY_DAYS
    try:
        value = int(json.loads(row.value))
    except (TypeError, ValueError):
        return DEFAULT_DELAY_DAYS
    return value if 0 <= value <= MAX_DELAY_DAYS else DEFAULT_DELAY_DAYS


def set_delay_days(days: int | str) -> int:
    """Store the pending period (0–3650 days; field "delay_days"). Commissions
    already earned keep the payable date they were given."""
    if isinstance(days, bool) or not isinstance(days, (int, str)):
        raise InvalidInput("delay_days", f"{days!r} is not a whole number of days")
    try:
        value = int(str(days).strip())
    except ValueError:
        raise InvalidInput("delay_days", f"{days!r} is not a whole number of days") from None
    if not 0 <= value <= MAX_DELAY_DAYS:
        raise InvalidInput("delay_days", f"must be between 0 and {MAX_DELAY_DAYS}")
    Setting.insert(key=DELAY_KEY, value=json.dumps(value)).on_conflict_replace().execute()
    return value


# --------------------------------------------------------------------------- records

def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _percent_text(hundredths: int) -> str:
    return f"{Decimal(int(hundredths)).scaleb(-2):.2f}"


@dataclass(frozen=True, slots=True)
class AffiliateRecord:
    id: int  # == client_id
    client_id: int
    name: str
    currency: str
    commission_type: str  # "percent" | "fixed"
    percent: Decimal | None  # for "percent": 0.01–100.00
    fixed: Money | None  # for "fixed": in the affiliate's currency
    status: str
    activated_at: dt.datetime

    @property
    def commission_text(self) -> str:
        """"10.00 %" or "5.00 GBP per paid invoice"."""
        if self.commission_type == "percent":
            return f"{self.percent:.2f} %"
        return f"{self.fixed} {self.currency} per paid invoice"

    @property
    def commission_value(self) -> str:
        return f"{self.percent:.2f}" if self.commission_type == "percent" else str(self.fixed)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "name": self.name,
                "currency": self.currency, "commission_type": self.commission_type,
                "commission_value": self.commission_value, "status": self.status,
                "activated": self.activated_at.date().isoformat(),
                "activated_at": self.activated_at.isoformat(sep=" ")}


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    id: int
    affiliate_id: int
    client_id: int
    name: str
    referred_at: dt.datetime
    paid_invoices: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "affiliate_id": self.affiliate_id, "client_id": self.client_id,
                "name": self.name, "referred": self.referred_at.date().isoformat(),
                "referred_at": self.referred_at.isoformat(sep=" "),
                "paid_invoices": self.paid_invoices}


@dataclass(frozen=True, slots=True)
class CommissionRecord:
    id: int
    client_id: int | None  # the referred client (None once deleted)
    invoice_id: int | None
    invoice_number: str
    amount: Money
    earned_on: dt.date
    payable_on: dt.date
    state: str  # "pending" | "payable" (on the day it was read)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "invoice_id": self.invoice_id,
                "invoice_number": self.invoice_number, "amount": str(self.amount),
                "earned_on": self.earned_on.isoformat(), "payable_on": self.payable_on.isoformat(),
                "state": self.state}


@dataclass(frozen=True, slots=True)
class PayoutRecord:
    id: int
    affiliate_id: int
    amount: Money
    paid_on: dt.date
    method: str
    notes: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "affiliate_id": self.affiliate_id, "amount": str(self.amount),
                "paid_on": self.paid_on.isoformat(), "method": self.method, "notes": self.notes}


@dataclass(frozen=True, slots=True)
class AffiliateSummary:
    """Everything the Summary panel, its Details dialog and ``affiliate
    show`` show, as of ``today``."""

    affiliate: AffiliateRecord
    today: dt.date
    delay_days: int
    referrals: list[ReferralRecord] = field(default_factory=list)
    commissions: list[CommissionRecord] = field(default_factory=list)  # newest first
    payouts: list[PayoutRecord] = field(default_factory=list)  # newest first

    @property
    def id(self) -> int:
        return self.affiliate.id

    @property
    def currency(self) -> str:
        return self.affiliate.currency

    @property
    def signups(self) -> int:
        return len(self.referrals)

    def _sum(self, state: str) -> Money:
        units = sum(c.amount.minor_units for c in self.commissions if c.state == state)
        return Money.from_minor(units, self.currency)

    @property
    def pending(self) -> Money:
        return self._sum("pending")

    @property
    def payable(self) -> Money:
        """Commissions earned and past their pending days (paid out or not)."""
        return self._sum("payable")

    @property
    def paid_out(self) -> Money:
        return Money.from_minor(sum(p.amount.minor_units for p in self.payouts), self.currency)

    @property
    def balance(self) -> Money:
        """What can be paid out now: payable − paid out."""
        return self.payable - self.paid_out

    def as_json(self) -> dict[str, Any]:
        document = self.affiliate.as_json()
        document.update({
            "delay_days": self.delay_days, "today": self.today.isoformat(),
            "signups": self.signups, "pending": str(self.pending), "payable": str(self.payable),
            "paid_out": str(self.paid_out), "balance": str(self.balance),
            "referrals": [r.as_json() for r in self.referrals],
            "commissions": [c.as_json() for c in self.commissions],
            "payouts": [p.as_json() for p in self.payouts]})
        return document


# --------------------------------------------------------------------------- reading

def _name(client_id: int) -> str:
    from billdesk.services import settings

    row = (Client.select(Client.first_name, Client.last_name, Client.company)
           .where(Client.id == client_id).tuples().first())
    if row is None:
        return f"#{client_id}"
    return clients.display_name(*row, settings.display_format())


def is_affiliate(client_id: int) -> bool:
    return Affiliate.select().where(Affiliate.client == client_id).exists()


def get(affiliate_id: int) -> AffiliateRecord:
    """The affiliate (NotFound, field "affiliate", when there is none)."""
    row = (Affiliate.select(Affiliate.id, Affiliate.client, Affiliate.commission_type,
                            Affiliate.commission_value, Affiliate.status, Affiliate.activated_at,
                            Client.currency)
           .join(Client, on=(Client.id == Affiliate.client))
           .where(Affiliate.id == affiliate_id).tuples().first())
    if row is None:
        raise NotFound("affiliate", f"#{affiliate_id} is not an affiliate")
    aid, client_id, kind, value, status, activated, currency = row
    return AffiliateRecord(
        aid, client_id, _name(client_id), currency, kind,
        Decimal(int(value)).scaleb(-2) if kind == "percent" else None,
        Money.from_minor(value, currency) if kind == "fixed" else None,
        status, _datetime(activated))


def list_affiliates() -> list[tuple[int, str]]:
    """Every affiliate as (id, name), in name order (for choosing one)."""
    found = [(aid, _name(cid)) for aid, cid in
             Affiliate.select(Affiliate.id, Affiliate.client).tuples()]
    return sorted(found, key=lambda pair: (pair[1].casefold(), pair[0]))


def for_client(client_id: int) -> AffiliateRecord | None:
    """The client's affiliate record, or None when it is not an affiliate."""
    aid = Affiliate.select(Affiliate.id).where(Affiliate.client == client_id).scalar()
    return None if aid is None else get(aid)


def referred_by(client_id: int) -> tuple[int, str] | None:
    """(affiliate id, the affiliate's name) of whoever referred the client."""
    row = (AffiliateReferral.select(Affiliate.id, Affiliate.client)
           .join(Affiliate, on=(Affiliate.id == AffiliateReferral.affiliate))
           .where(AffiliateReferral.client == client_id).tuples().first())
    return None if row is None else (row[0], _name(row[1]))


def referrals(affiliate_id: int) -> list[ReferralRecord]:
    """The affiliate's referred clients, oldest referral first, each with
    the number of its invoices paid (and not refunded)."""
    from billdesk.services import settings

    style = settings.display_format()
    rows = database.execute_sql(
        "SELECT r.id, r.client_id, c.first_name, c.last_name, c.company, r.referred_at, "
        "(SELECT count(*) FROM invoice i WHERE i.client_id = r.client_id AND i.status = 'Paid' "
        "AND i.kind = 'standard') FROM affiliate_referral r JOIN client c ON c.id = r.client_id "
        "WHERE r.affiliate_id = ? ORDER BY r.referred_at, r.id", (affiliate_id,)).fetchall()
    return [ReferralRecord(rid, affiliate_id, cid, clients.display_name(f, la, co, style),
                           _datetime(at), int(n)) for rid, cid, f, la, co, at, n in rows]


def summary(affiliate_id: int, today: dt.date | None = None) -> AffiliateSummary:
    """The affiliate's figures as of ``today`` (default: the clock's day):
    a commission is payable from its ``payable_on`` day on."""
    record = get(affiliate_id)
    today = today or clock.today()
    currency = record.currency
    commissions = [
        CommissionRecord(cid, client, invoice, number or "", Money.from_minor(amount, currency),
                         _date(earned), _date(payable),
                         "payable" if _date(payable) <= today else "pending")
        for cid, client, invoice, number, amount, earned, payable in (
            AffiliateCommission.select(
                AffiliateCommission.id, AffiliateCommission.client, AffiliateCommission.invoice,
                AffiliateCommission.invoice_number, AffiliateCommission.amount,
                AffiliateCommission.earned_on, AffiliateCommission.payable_on)
            .where(AffiliateCommission.affiliate == affiliate_id)
            .order_by(AffiliateCommission.earned_on.desc(), AffiliateCommission.id.desc())
            .tuples())]
    payouts = [PayoutRecord(pid, affiliate_id, Money.from_minor(amount, currency), _date(paid_on),
                            method, notes)
               for pid, amount, paid_on, method, notes in (
                   AffiliatePayout.select(AffiliatePayout.id, AffiliatePayout.amount,
                                          AffiliatePayout.paid_on, AffiliatePayout.method,
                                          AffiliatePayout.notes)
                   .where(AffiliatePayout.affiliate == affiliate_id)
                   .order_by(AffiliatePayout.paid_on.desc(), AffiliatePayout.id.desc()).tuples())]
    return AffiliateSummary(record, today, delay_days(), referrals(affiliate_id), commissions,
                            payouts)


def balance(affiliate_id: int, today: dt.date | None = None) -> Money:
    """Payable commissions less payouts, as of ``today``."""
    currency = get(affiliate_id).currency
    today = today or clock.today()
    earned = (AffiliateCommission.select(fn.COALESCE(fn.SUM(AffiliateCommission.amount), 0))
              .where(AffiliateCommission.affiliate == affiliate_id,
                     AffiliateCommission.payable_on <= today).scalar())
    paid = (AffiliatePayout.select(fn.COALESCE(fn.SUM(AffiliatePayout.amount), 0))
            .where(AffiliatePayout.affiliate == affiliate_id).scalar())
    return Money.from_minor(int(earned) - int(paid), currency)


# --------------------------------------------------------------------------- activating

def _commission(currency: str, percent: Any, fixed: Any) -> tuple[str, int]:
    """("percent", hundredths) or ("fixed", minor units), checked."""
    if (percent is None) == (fixed is None):
        raise InvalidInput("percent", "give either a percent or a fixed amount (not both)")
    if percent is not None:
        if isinstance(percent, float):
            raise TypeError("a percent must not be a float")
        if isinstance(percent, str):
            text = percent.strip().removesuffix("%").strip()
            if not _PERCENT.fullmatch(text):
                raise InvalidInput("percent", f"{percent.strip()!r} is not a percent (like 10 or 12.5)")
            percent = text
        value = to_decimal(percent, "percent")
        if not 0 < value <= 100:
            raise InvalidInput("percent", "must be more than 0 and at most 100")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidInput("percent", "has more than 2 decimals")
        return "percent", int(value * 100)
    money = amount_input(fixed, currency, "fixed", zero_ok=True)
    return "fixed", money.minor_units


def activate(client_id: int, *, percent: Decimal | str | None = None,
             fixed: Decimal | str | None = None, actor: str | None = None) -> AffiliateRecord:
    """Make the client an affiliate with a commission of ``percent`` of each
    paid invoice's subtotal or ``fixed`` (the client's currency) per paid
    invoice. Conflict when it is one already."""
    currency = clients.client_currency(client_id)
    clients.check_writable(client_id)
    kind, value = _commission(currency, percent, fixed)
    if is_affiliate(client_id):
        raise Conflict("client", f"#{client_id} is already an affiliate")
    with database.atomic():
        Affiliate.insert(id=client_id, client=client_id, commission_type=kind,
                         commission_value=value, status="Active", activated_at=now()).execute()
        record = get(client_id)
        changelog.record(client_id, f"Activated as an affiliate: commission "
                                    f"{record.commission_text}", actor=actor)
    return record


def update_commission(affiliate_id: int, *, percent: Decimal | str | None = None,
                      fixed: Decimal | str | None = None,
                      actor: str | None = None) -> AffiliateRecord:
    """A new commission for what is paid from now on (earned ones stay)."""
    before = get(affiliate_id)
    clients.check_writable(before.client_id)
    kind, value = _commission(before.currency, percent, fixed)
    with database.atomic():
        Affiliate.update(commission_type=kind, commission_value=value).where(
            Affiliate.id == affiliate_id).execute()
        after = get(affiliate_id)
        if after.commission_text != before.commission_text:
            changelog.record(before.client_id, "", field="Affiliate commission",
                             old=before.commission_text, new=after.commission_text, actor=actor)
    return after


def set_status(affiliate_id: int, status: str, *, actor: str | None = None) -> AffiliateRecord:
    """Active or Inactive: an inactive affiliate earns no new commissions
    (earned ones stay, and can be paid out)."""
    if status not in ("Active", "Inactive"):
        raise InvalidInput("status", f"{status!r}: must be Active or Inactive")
    before = get(affiliate_id)
    clients.check_writable(before.client_id)
    if before.status == status:
        return before
    with database.atomic():
        Affiliate.update(status=status).where(Affiliate.id == affiliate_id).execute()
        changelog.record(before.client_id, "", field="Affiliate status", old=before.status,
                         new=status, actor=actor)
    return get(affiliate_id)


def deactivate(affiliate_id: int, *, actor: str | None = None) -> AffiliateRecord:
    return set_status(affiliate_id, "Inactive", actor=actor)


def reactivate(affiliate_id: int, *, actor: str | None = None) -> AffiliateRecord:
    return set_status(affiliate_id, "Active", actor=actor)


# --------------------------------------------------------------------------- referrals

def refer(affiliate_id: int, client_id: int, *, reassign: bool = False,
          actor: str | None = None) -> ReferralRecord:
    """Record that the affiliate referred the client: from now on the
    client's paid invoices earn the affiliate a commission. A client is
    referred by one affiliate at most (``reassign`` moves it)."""
    affiliate = get(affiliate_id)
    clients.client_currency(client_id)  # NotFound (client_id) for no such client
    if client_id == affiliate.client_id:
        raise Conflict("client_id", f"#{client_id} is the affiliate itself: an affiliate cannot "
                                    "refer itself")
    clients.check_writable(client_id)
    clients.check_writable(affiliate.client_id)
    current = referred_by(client_id)
    if current is not None:
        if current[0] == affiliate_id:
            raise Conflict("client_id", f"#{client_id} is already referred by this affiliate")
        if not reassign:
            raise Conflict("client_id", f"#{client_id} is already referred by affiliate "
                                        f"#{current[0]} {current[1]}")
    name = _name(client_id)
    with database.atomic():
        if current is not None:
            AffiliateReferral.delete().where(AffiliateReferral.client == client_id).execute()
            changelog.record(current[0], f"Referred client #{client_id} {name} reassigned to "
                                         f"affiliate #{affiliate_id}", actor=actor)
        referral_id = AffiliateReferral.insert(affiliate=affiliate_id, client=client_id,
                                               referred_at=now()).execute()
        changelog.record(client_id, "", field="Referred by",
                         old=f"#{current[0]} {current[1]}" if current else "",
                         new=f"#{affiliate_id} {affiliate.name}", actor=actor)
        changelog.record(affiliate.client_id, f"Referred client #{client_id} {name} added",
                         actor=actor)
    row = AffiliateReferral.get_by_id(referral_id)
    return ReferralRecord(referral_id, affiliate_id, client_id, name, _datetime(row.referred_at))


def unrefer(client_id: int, *, actor: str | None = None) -> bool:
    """The client is referred by no one any more (earned commissions
    stay). Returns whether there was a referral."""
    current = referred_by(client_id)
    if current is None:
        return False
    clients.check_writable(client_id)
    with database.atomic():
        AffiliateReferral.delete().where(AffiliateReferral.client == client_id).execute()
        changelog.record(client_id, "", field="Referred by", old=f"#{current[0]} {current[1]}",
                         new="", actor=actor)
        changelog.record(current[0], f"Referred client #{client_id} {_name(client_id)} removed",
                         actor=actor)
    return True


# --------------------------------------------------------------------------- accrual

# The paid invoices of referred clients, with their affiliate, that have no
# commission yet (one query for a whole batch).
_ACCRUE_SQL = """
SELECT i.id, i.client_id, i.number, i.currency, i.subtotal, a.id, a.client_id,
       a.commission_type, a.commission_value, ac.currency
  FROM invoice i
  JOIN affiliate_referral r ON r.client_id = i.client_id
  JOIN affiliate a ON a.id = r.affiliate_id AND a.status = 'Active'
  JOIN client ac ON ac.id = a.client_id
 WHERE i.id IN (SELECT value FROM json_each(?)) AND i.kind = 'standard' AND i.subtotal > 0
   AND NOT EXISTS (SELECT 1 FROM affiliate_commission k WHERE k.invoice_id = i.id)
"""


def commission_for(subtotal: Money, kind: str, value: int, currency: str,
                   rates: dict[str, Decimal] | None = None) -> Money | None:
    """The commission in ``currency`` (the affiliate's) on an invoice with
    that subtotal: ``value`` hundredths of a percent of it, converted at
    the book's rates and rounded half-up once; or the fixed ``value`` minor
    units. None when a rate needed is missing."""
    if kind == "fixed":
        return Money.from_minor(value, currency)
    amount = subtotal.amount * Decimal(int(value)) / Decimal(10000)
    if subtotal.currency != currency:
        if rates is None:
            from billdesk.services import billing_settings

            rates = billing_settings.currencies()
        if subtotal.currency not in rates or currency not in rates:
            return None
        amount = amount * rates[currency] / rates[subtotal.currency]
    return Money(amount, currency)


def accrue(paid: Sequence[tuple[int, dt.date]], actor: str | None = None) -> int:
    """Commissions on invoices just paid: each (invoice id, paid date) of a
    referred client with an active affiliate, a standard invoice with a
    subtotal, earns one commission (never twice). Call inside the paying
    transaction. Costs one cheap query when no client is referred.
    Returns how many were written."""
    if not paid:
        return 0
    conn = database.connection()
    if conn.execute("SELECT 1 FROM affiliate_referral LIMIT 1").fetchone() is None:
        return 0
    when = {invoice_id: day for invoice_id, day in paid}
    rows = conn.execute(_ACCRUE_SQL, (json.dumps(list(when)),)).fetchall()
    if not rows:
        return 0
    delay = dt.timedelta(days=delay_days())
    rates: dict[str, Decimal] | None = None
    if any(row[3] != row[9] and row[7] == "percent" for row in rows):  # another currency
        from billdesk.services import billing_settings

        rates = billing_settings.currencies()
    stamp = str(now())
    who = actor or changelog.current_actor()
    inserts, logs = [], []
    for (invoice_id, client_id, number, currency, subtotal, affiliate_id, affiliate_client, kind,
         value, affiliate_currency) in rows:
        earned = _date(when[invoice_id])
        label = f"invoice {number}" if number else f"invoice {invoice_id}"
        amount = commission_for(Money.from_minor(subtotal, currency), kind, value,
                                affiliate_currency, rates)
        if amount is None:
            logs.append((affiliate_client, stamp, who, "", "", "", "",
                         f"No commission on {label} of #{client_id}: no exchange rate for "
                         f"{currency} to {affiliate_currency}"))
            continue
        payable = earned + delay
        inserts.append((affiliate_id, client_id, invoice_id, number or "", amount.minor_units,
                        earned.isoformat(), payable.isoformat(), stamp))
        logs.append((affiliate_client, stamp, who, "", "", "", "",
                     f"Commission {amount} {affiliate_currency} on {label} of #{client_id}, "
                     f"payable from {payable.isoformat()}"))
    conn.executemany(
        "INSERT INTO affiliate_commission (affiliate_id, client_id, invoice_id, invoice_number, "
        "amount, earned_on, payable_on, created_at) VALUES (?,?,?,?,?,?,?,?)", inserts)
    changelog.record_values(logs)
    return len(inserts)


def revoke(invoice_ids: Sequence[int], *, reason: str = "refunded",
           actor: str | None = None) -> int:
    """Remove the commissions of these invoices that are still pending
    (today before their payable date), logged on the affiliate; ones
    already payable stay. Call inside the transaction that took the
    invoice out of Paid. Returns how many were removed."""
    if not invoice_ids:
        return 0
    conn = database.connection()
    if conn.execute("SELECT 1 FROM affiliate_commission LIMIT 1").fetchone() is None:
        return 0
    rows = conn.execute(
        "SELECT k.id, a.client_id, k.invoice_id, k.invoice_number, k.client_id, k.amount, "
        "c.currency FROM affiliate_commission k JOIN affiliate a ON a.id = k.affiliate_id "
        "JOIN client c ON c.id = a.client_id WHERE k.invoice_id IN (SELECT value FROM json_each(?)) "
        "AND k.payable_on > ?", (json.dumps(list(invoice_ids)), clock.today().isoformat())).fetchall()
    if not rows:
        return 0
    conn.executemany("DELETE FROM affiliate_commission WHERE id = ?", [(r[0],) for r in rows])
    stamp = str(now())
    who = actor or changelog.current_actor()
    changelog.record_values([
        (aclient, stamp, who, "", "", "", "",
         f"Pending commission {Money.from_minor(amount, cur)} {cur} on invoice "
         f"{number or invoice_id} of #{client_id} removed: the invoice was {reason}")
        for _kid, aclient, invoice_id, number, client_id, amount, cur in rows])
    return len(rows)


# --------------------------------------------------------------------------- payouts

def record_payout(affiliate_id: int, *, amount: Any, paid_on: Any = None, method: str = "",
                  notes: str = "", actor: str | None = None) -> PayoutRecord:
    """Money paid to the affiliate: more than 0 and at most its balance
    (payable − paid out)."""
    affiliate = get(affiliate_id)
    clients.check_writable(affiliate.client_id)
    value = amount_input(amount, affiliate.currency, "amount")
    when = date_input(paid_on, "date") if paid_on not in (None, "") else clock.today()
    method = (method or "").strip()
    notes = (notes or "").strip()
    if len(method) > METHOD_LIMIT:
        raise InvalidInput("method", f"must be {METHOD_LIMIT} characters or fewer")
    if len(notes) > NOTES_LIMIT:
        raise InvalidInput("notes", f"must be {NOTES_LIMIT} characters or fewer")
    with database.atomic():
        available = balance(affiliate_id)
        if value > available:
            raise Conflict("amount", f"{value} is more than the balance ({available} "
                                     f"{affiliate.currency})")
        payout_id = AffiliatePayout.insert(affiliate=affiliate_id, amount=value, paid_on=when,
                                           method=method, notes=notes,
                                           created_at=now()).execute()
        changelog.record(affiliate.client_id,
                         f"Affiliate payout {value} {affiliate.currency} on {when.isoformat()}"
                         + (f" by {method}" if method else "")
                         + f"; balance {available - value}", actor=actor)
    return PayoutRecord(payout_id, affiliate_id, value, when, method, notes)


def delete_payout(payout_id: int, *, actor: str | None = None) -> None:
    """Remove a payout recorded by mistake (its amount is owed again)."""
    row = AffiliatePayout.get_or_none(AffiliatePayout.id == payout_id)
    if row is None:
        raise NotFound("payout", f"no payout #{payout_id}")
    affiliate = get(row.affiliate_id)
    clients.check_writable(affiliate.client_id)
    value = Money.from_minor(row.amount, affiliate.currency)
    with database.atomic():
        AffiliatePayout.delete().where(AffiliatePayout.id == payout_id).execute()
        changelog.record(affiliate.client_id,
                         f"Affiliate payout #{payout_id} of {value} {affiliate.currency} "
                         f"({_date(row.paid_on).isoformat()}) deleted", actor=actor)


# --------------------------------------------------------------------------- merge (C8)

def resolve_merge(source_id: int, into_id: int) -> list[str]:
    """Before a merge moves the source's client columns to ``into_id``
    (inside its transaction): make room in the UNIQUE affiliate columns.
    Both affiliates: the source's referrals, commissions and payouts go to
    the kept affiliate and the source's affiliate row goes. Both referred:
    the kept client's referral stays. A referral between the two clients
    (it would make the kept client refer itself) goes. Returns notes."""
    notes: list[str] = []
    pair = [source_id, into_id]
    dropped = (AffiliateReferral.delete()
               .where(AffiliateReferral.client.in_(pair), AffiliateReferral.affiliate.in_(pair))
               .execute())
    if dropped:
        notes.append("the referral between the two clients removed")
    if (AffiliateReferral.select().where(AffiliateReferral.client == source_id).exists()
            and AffiliateReferral.select().where(AffiliateReferral.client == into_id).exists()):
        AffiliateReferral.delete().where(AffiliateReferral.client == source_id).execute()
        notes.append(f"#{source_id}'s referral dropped (#{into_id} keeps its own)")
    source = Affiliate.get_or_none(Affiliate.client == source_id)
    kept = Affiliate.get_or_none(Affiliate.client == into_id)
    if source is not None and kept is not None:
        source_currency = clients.client_currency(source_id)
        into_currency = clients.client_currency(into_id)
        has_money = (AffiliateCommission.select().where(AffiliateCommission.affiliate == source.id)
                     .exists() or AffiliatePayout.select()
                     .where(AffiliatePayout.affiliate == source.id).exists())
        if source_currency != into_currency and has_money:
            raise Conflict("currency", f"both clients are affiliates with commissions in "
                                       f"{source_currency} and {into_currency}; pay out and "
                                       "settle one first")
        moved = [model.update(affiliate=kept.id).where(model.affiliate == source.id).execute()
                 for model in (AffiliateReferral, AffiliateCommission, AffiliatePayout)]
        Affiliate.delete().where(Affiliate.id == source.id).execute()
        notes.append(f"affiliate #{source.id} joined to affiliate #{kept.id} ({moved[0]} "
                     f"referral(s), {moved[1]} commission(s), {moved[2]} payout(s))")
    return notes


def after_merge(source_id: int, into_id: int) -> list[str]:
    """After the merge moved the client columns (inside its transaction):
    an affiliate row that came from the source takes the kept client's id,
    its referrals, commissions and payouts with it. Returns notes."""
    row = (Affiliate.select(Affiliate.id).where(Affiliate.client == into_id).scalar())
    if row is None or row == into_id:
        return []
    # its referrals, commissions and payouts follow (ON UPDATE CASCADE)
    Affiliate.update(id=into_id).where(Affiliate.id == row).execute()
    return [f"affiliate #{row} is now affiliate #{into_id}"]
