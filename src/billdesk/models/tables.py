"""The peewee models. Their tables are created by the numbered migrations in
``migrations.py`` (the models mirror them; they never create tables)."""

from __future__ import annotations

import datetime as dt

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    DeferredForeignKey,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from billdesk import clock
from billdesk.models.base import BaseModel
from billdesk.models.fields import MoneyField, PercentField

CLIENT_STATUSES = ("Active", "Inactive", "Closed")
ACCOUNT_TYPES = ("private", "organization")
EMAIL_CATEGORIES = ("general", "invoice", "support", "product", "domain", "affiliate")
DISPLAY_FORMATS = ("first_last", "company_or_name", "first_last_company")
INVOICE_STATUSES = ("Draft", "Unpaid", "Paid", "Cancelled", "Refunded", "Collections")
INVOICE_KINDS = ("standard", "add_funds")
BILLING_CYCLES = ("free", "onetime", "monthly", "quarterly", "semiannually", "annually",
                  "biennially", "triennially")  # D5 spelling
PRODUCT_TYPES = ("hosting", "reseller", "server", "other", "addon", "domain")
SERVICE_KINDS = ("service", "addon", "domain")
SERVICE_STATUSES = ("Pending", "Active", "Suspended", "Terminated", "Cancelled", "Fraud")
DOMAIN_STATUSES = ("Pending", "Pending transfer", "Active", "Expired", "Cancelled", "Fraud",
                   "Transferred away")
ORDER_STATUSES = ("Pending", "Active", "Cancelled", "Fraud")
PROMO_KINDS = ("percent", "fixed")
QUOTE_STAGES = ("Draft", "Delivered", "On hold", "Accepted", "Lost", "Dead")
BILLABLE_ACTIONS = ("none", "next", "due", "recur")
BILLABLE_UNITS = ("day", "week", "month", "year")
RECURRING_UNITS = ("month", "year")
RECURRING_STATUSES = ("Active", "Finished", "Stopped")
EMAIL_TEMPLATE_KINDS = ("welcome", "invoice_created", "payment_reminder", "overdue_1", "overdue_2",
                        "overdue_3", "payment_confirmation", "credit_added", "quote_delivered",
                        "statement", "general", "custom")
EMAIL_STATUSES = ("Queued", "Sending", "Sent", "Failed")
AUTOMATION_RUN_STATUSES = ("Running", "Completed", "Failed")
PAY_METHOD_KINDS = ("card", "bank")
TICKET_PRIORITIES = ("Low", "Medium", "High")
TICKET_STATUSES = ("Open", "Answered", "Customer reply", "Closed")
TICKET_AUTHORS = ("staff", "client")
COMMISSION_TYPES = ("percent", "fixed")
AFFILIATE_STATUSES = ("Active", "Inactive")
CREDIT_KINDS = ("added", "removed", "adjustment", "overpayment", "add_funds", "refund", "applied",
                "returned", "reversal")


def now() -> dt.datetime:
    """Every stored timestamp comes from here: the one clock (a run freezes it)."""
    return clock.now()


class Setting(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()


class ClientGroup(BaseModel):
    name = CharField()
    colour = CharField(default="#5b8def")
    discount = PercentField(default=0)
    separate_invoices = BooleanField(default=False)
    late_fees = BooleanField(default=True)  # False: the group's clients pay no late fees (B6)


class Client(BaseModel):
    first_name = CharField()
    last_name = CharField()
    company = CharField(default="")
    email = CharField()
    phone = CharField(default="")
    address1 = CharField(default="")
    address2 = CharField(default="")
    city = CharField(default="")
    state = CharField(default="")
    postcode = CharField(default="")
    country = CharField(default="")
    tax_id = CharField(default="")
    account_type = CharField(default="private")
    group = ForeignKeyField(ClientGroup, null=True, on_delete="SET NULL", column_name="group_id")
    currency = CharField()
    language = CharField(default="en")
    status = CharField(default="Active")
    tax_exempt = BooleanField(default=False)
    auto_cc = BooleanField(default=True)
    overdue_notices = BooleanField(default=True)
    late_fees = BooleanField(default=True)
    separate_invoices = BooleanField(default=False)
    two_factor = BooleanField(default=False)
    billing_contact = DeferredForeignKey("Contact", null=True, on_delete="SET NULL",
                                         column_name="billing_contact_id")
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    last_activity = DateTimeField(null=True)
    # Kept by services/clients.py for sorting and search; never shown.
    sort_name = CharField(default="")
    name_rank = IntegerField()
    company_key = CharField(default="")
    group_key = CharField(default="")  # the group's name, folded: the list sorts by it
    email_key = CharField()
    phone_key = CharField(default="")
    search_text = TextField(default="")
    search_words = TextField(default="")
    # Billing (migration 2)
    payment_method = CharField(default="")  # default for new invoices (C5)
    credit_balance = MoneyField(default=0)  # kept equal to the credit ledger by services/credit.py
    # Automation overrides (C6, migration 6): None follows the global setting
    auto_suspend = BooleanField(null=True)
    suspend_days = IntegerField(null=True)
    auto_terminate = BooleanField(null=True)
    terminate_days = IntegerField(null=True)
    payment_reminders = BooleanField(null=True)
    auto_status = BooleanField(null=True)
    archived = BooleanField(default=False)  # C11 (migration 7): hidden from the list, read-only


class Contact(BaseModel):
    client = ForeignKeyField(Client, backref="contacts", on_delete="CASCADE")
    first_name = CharField()
    last_name = CharField()
    company = CharField(default="")
    email = CharField()
    phone = CharField(default="")
    address1 = CharField(default="")
    address2 = CharField(default="")
    city = CharField(default="")
    state = CharField(default="")
    postcode = CharField(default="")
    country = CharField(default="")
    categories = CharField(default="")  # comma-separated EMAIL_CATEGORIES
    created_at = DateTimeField(default=now)


class ClientLog(BaseModel):
    client = ForeignKeyField(Client, backref="log", on_delete="CASCADE")
    at = DateTimeField(default=now)
    actor = CharField(default="")
    field = CharField(default="")
    old_value = TextField(default="")
    new_value = TextField(default="")
    reason = TextField(default="")
    message = TextField(default="")


class Currency(BaseModel):
    code = CharField(primary_key=True)
    rate = CharField(default="1")  # exact decimal text: units per one default-currency unit


class PaymentMethod(BaseModel):
    name = CharField()
    position = IntegerField(default=0)

    class Meta:
        table_name = "payment_method"


class TaxRule(BaseModel):
    level = IntegerField()
    name = CharField()
    rate = CharField()  # percent, exact decimal text ("17.5")
    country = CharField(default="")  # "" applies to every country
    state = CharField(default="")

    class Meta:
        table_name = "tax_rule"


class NumberSequence(BaseModel):
    name = CharField(primary_key=True)
    next_value = IntegerField()

    class Meta:
        table_name = "number_sequence"


class Invoice(BaseModel):
    client = ForeignKeyField(Client, backref="invoices", on_delete="CASCADE")
    number = CharField(null=True)
    kind = CharField(default="standard")
    status = CharField(default="Draft")
    date = DateField()
    due_date = DateField()
    paid_date = DateField(null=True)
    currency = CharField()
    payment_method = CharField(default="")
    tax1_name = CharField(default="")
    tax1_rate = CharField(default="0")
    tax2_name = CharField(default="")
    tax2_rate = CharField(default="0")
    tax_compound = BooleanField(default=False)
    tax_inclusive = BooleanField(default=False)
    subtotal = MoneyField(default=0)
    tax1 = MoneyField(default=0)
    tax2 = MoneyField(default=0)
    total = MoneyField(default=0)
    credit = MoneyField(default=0)
    paid = MoneyField(default=0)
    refunded = MoneyField(default=0)
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    late_fee_date = DateField(null=True)  # migration 3: B6 adds a late fee once, ever
    # migration 5: the recurring invoice (B5) that issued it, for which date
    recurring = DeferredForeignKey("RecurringInvoice", null=True, on_delete="SET NULL")
    recurring_date = DateField(null=True)


class InvoiceLine(BaseModel):
    invoice = ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    description = TextField()
    amount = MoneyField()
    taxed = BooleanField(default=False)
    type = CharField(default="")
    link_id = IntegerField(null=True)
    due_date = DateField(null=True)  # migration 4: the due date a renewal line bills
    group_name = CharField(default="")  # migration 4: the service group heading the line

    class Meta:
        table_name = "invoice_line"


class Transaction(BaseModel):
    client = ForeignKeyField(Client, null=True, backref="transactions", on_delete="SET NULL")
    client_name = CharField(default="")
    invoice = ForeignKeyField(Invoice, null=True, backref="transactions", on_delete="SET NULL")
    date = DateField()
    method = CharField(default="")
    reference = CharField(default="")
    description = CharField(default="")
    currency = CharField()
    amount_in = MoneyField(default=0)
    fee = MoneyField(default=0)
    amount_out = MoneyField(default=0)
    refund_of = ForeignKeyField("self", null=True, backref="refunds", on_delete="SET NULL",
                                column_name="refund_of")
    to_credit = BooleanField(default=False)
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "txn"


class CreditEntry(BaseModel):
    client = ForeignKeyField(Client, backref="credit_entries", on_delete="CASCADE")
    date = DateField()
    kind = CharField()
    description = TextField()
    amount = MoneyField()  # signed: positive adds credit
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")
    transaction = ForeignKeyField(Transaction, null=True, on_delete="SET NULL")
    reverses = ForeignKeyField("self", null=True, on_delete="SET NULL", column_name="reverses_id")
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "credit_entry"


class Product(BaseModel):
    name = CharField()
    type = CharField(default="hosting")
    product_group = CharField(default="")
    description = TextField(default="")
    taxed = BooleanField(default=False)
    hidden = BooleanField(default=False)
    created_at = DateTimeField(default=now)


class ProductPrice(BaseModel):
    product = ForeignKeyField(Product, backref="prices", on_delete="CASCADE")
    currency = CharField()
    cycle = CharField()
    amount = MoneyField()
    setup_fee = MoneyField(default=0)

    class Meta:
        table_name = "product_price"
        primary_key = CompositeKey("product", "currency", "cycle")
        without_rowid = True


class ServiceGroup(BaseModel):
    client = ForeignKeyField(Client, backref="service_groups", on_delete="CASCADE")
    name = CharField()
    description = TextField(default="")
    position = IntegerField(default=0)
    hide_on_invoice = BooleanField(default=False)

    class Meta:
        table_name = "service_group"


class Service(BaseModel):
    """A service, addon or domain (``kind``) a client holds; amounts are in
    the client's currency."""

    client = ForeignKeyField(Client, backref="services", on_delete="CASCADE")
    kind = CharField()
    product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    parent = ForeignKeyField("self", null=True, backref="addons", on_delete="CASCADE")
    name = CharField()
    label = CharField(default="")
    status = CharField(default="Pending")
    cycle = CharField()
    amount = MoneyField(default=0)
    first_payment = MoneyField(default=0)
    taxed = BooleanField(default=False)
    signup_date = DateField()
    next_due = DateField(null=True)
    due_day = IntegerField(default=1)  # the day of month due dates keep (31 Jan → 29 Feb → 31 Mar)
    expiry_date = DateField(null=True)
    payment_method = CharField(default="")
    override_suspend = BooleanField(default=False)
    group = ForeignKeyField(ServiceGroup, null=True, backref="services", on_delete="SET NULL")
    position = IntegerField(default=0)
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    # migration 5: the order that created it and the promotion it keeps
    order = DeferredForeignKey("Order", null=True, on_delete="SET NULL")
    promo = DeferredForeignKey("PromoCode", null=True, on_delete="SET NULL")
    suspend_reason = CharField(default="")  # migration 6: why the run suspended it


class PromoCode(BaseModel):
    """S8: a promotion code; ``value`` is exact decimal text (a percent or
    an amount in the client's currency)."""

    code = CharField()
    kind = CharField()  # percent | fixed
    value = CharField()
    cycles = CharField(default="")  # comma-separated billing cycles; '' = all
    recurring = BooleanField(default=False)
    start_date = DateField(null=True)
    end_date = DateField(null=True)
    max_uses = IntegerField(default=0)  # 0: no limit
    uses = IntegerField(default=0)
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "promo_code"


class PromoProduct(BaseModel):
    promo = ForeignKeyField(PromoCode, backref="products", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="CASCADE")

    class Meta:
        table_name = "promo_product"
        primary_key = CompositeKey("promo", "product")
        without_rowid = True


class Order(BaseModel):
    client = ForeignKeyField(Client, backref="orders", on_delete="CASCADE")
    number = CharField()
    date = DateField()
    status = CharField(default="Pending")
    promo = ForeignKeyField(PromoCode, null=True, on_delete="SET NULL")
    promo_code = CharField(default="")
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")
    currency = CharField()
    amount = MoneyField(default=0)  # the first invoice's total
    payment_method = CharField(default="")
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "client_order"  # "order" is an SQL keyword


class Quote(BaseModel):
    client = ForeignKeyField(Client, backref="quotes", on_delete="CASCADE")
    subject = CharField(default="")
    stage = CharField(default="Draft")
    date = DateField()
    valid_until = DateField()
    currency = CharField()
    tax1_name = CharField(default="")
    tax1_rate = CharField(default="0")
    tax2_name = CharField(default="")
    tax2_rate = CharField(default="0")
    tax_compound = BooleanField(default=False)
    tax_inclusive = BooleanField(default=False)
    subtotal = MoneyField(default=0)
    tax1 = MoneyField(default=0)
    tax2 = MoneyField(default=0)
    total = MoneyField(default=0)
    proposal = TextField(default="")
    customer_notes = TextField(default="")
    admin_notes = TextField(default="")
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")  # converted once
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)


class QuoteLine(BaseModel):
    quote = ForeignKeyField(Quote, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    description = TextField()
    quantity = CharField(default="1")  # exact decimal
    unit_price = MoneyField()
    discount = CharField(default="0")  # percent, exact decimal
    amount = MoneyField()
    taxed = BooleanField(default=False)

    class Meta:
        table_name = "quote_line"


class BillableItem(BaseModel):
    client = ForeignKeyField(Client, backref="billable_items", on_delete="CASCADE")
    description = TextField()
    hours = CharField(null=True)  # exact decimal; amount = hours × rate
    rate = MoneyField(null=True)
    amount = MoneyField()
    taxed = BooleanField(default=False)
    action = CharField(default="none")  # none | next | due | recur
    due_date = DateField(null=True)
    due_day = IntegerField(null=True)  # the day monthly/yearly dates keep (31 Jan → 28 Feb → 31 Mar)
    every = IntegerField(null=True)
    unit = CharField(null=True)  # day | week | month | year
    count = IntegerField(null=True)
    invoiced = IntegerField(default=0)
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "billable_item"


class RecurringInvoice(BaseModel):
    client = ForeignKeyField(Client, backref="recurring_invoices", on_delete="CASCADE")
    every = IntegerField()
    unit = CharField()  # month | year
    start_date = DateField()
    next_date = DateField(null=True)
    count = IntegerField(null=True)
    until = DateField(null=True)
    issued = IntegerField(default=0)
    status = CharField(default="Active")
    due_days = IntegerField(default=0)
    payment_method = CharField(default="")
    notes = TextField(default="")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "recurring_invoice"


class RecurringLine(BaseModel):
    recurring = ForeignKeyField(RecurringInvoice, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    description = TextField()
    amount = MoneyField()
    taxed = BooleanField(default=False)

    class Meta:
        table_name = "recurring_line"


class EmailTemplate(BaseModel):
    name = CharField()
    language = CharField(default="en")
    kind = CharField()
    category = CharField(default="general")
    subject = TextField()
    body = TextField()
    disabled = BooleanField(default=False)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "email_template"


class Email(BaseModel):
    client = ForeignKeyField(Client, null=True, backref="emails", on_delete="CASCADE")
    template = CharField(default="")
    event_key = CharField(null=True, unique=True)
    message_id = CharField()  # unique by making: it holds the row's id
    to_addr = TextField()
    cc = TextField(default="")
    subject = TextField()
    body = TextField()
    status = CharField(default="Queued")
    attempts = IntegerField(default=0)
    next_attempt = DateTimeField(null=True)
    error = TextField(default="")
    created_at = DateTimeField(default=now)
    sent_at = DateTimeField(null=True)
    pending = BooleanField(default=False)  # queued by a bulk run; text written by render_pending


class EmailAttachment(BaseModel):
    email = ForeignKeyField(Email, backref="attachments", on_delete="CASCADE")
    position = IntegerField(default=0)
    filename = CharField()
    kind = CharField()  # invoice | quote | data
    ref_id = IntegerField(null=True)
    content = BlobField(null=True)

    class Meta:
        table_name = "email_attachment"


class AutomationRun(BaseModel):
    started_at = DateTimeField(default=now)
    finished_at = DateTimeField(null=True)
    trigger = CharField(default="")
    days = TextField(default="")
    status = CharField(default="Running")
    steps = TextField(default="{}")
    errors = TextField(default="[]")
    duration_ms = IntegerField(default=0)

    class Meta:
        table_name = "automation_run"


class AutomationDay(BaseModel):
    date = DateField(primary_key=True)
    run = ForeignKeyField(AutomationRun, null=True, on_delete="SET NULL")
    finished_at = DateTimeField(default=now)

    class Meta:
        table_name = "automation_day"


class ClientFile(BaseModel):
    """F1: the bytes are at ``paths.files_dir() / sha256[:2] / sha256``."""

    client = ForeignKeyField(Client, backref="files", on_delete="CASCADE")
    name = CharField()
    sha256 = CharField()
    size = IntegerField()
    admin_only = BooleanField(default=False)
    added_at = DateTimeField(default=now)

    class Meta:
        table_name = "client_file"


class ClientNote(BaseModel):
    client = ForeignKeyField(Client, backref="dated_notes", on_delete="CASCADE")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    text = TextField()
    sticky = BooleanField(default=False)

    class Meta:
        table_name = "client_note"


class Vault(BaseModel):
    """K2: the one row describing the book's vault (see migration 9)."""

    id = IntegerField(primary_key=True)
    kdf = CharField(default="argon2id")
    salt = BlobField()
    memory_kib = IntegerField()
    iterations = IntegerField()
    lanes = IntegerField()
    verifier = BlobField()
    wrapped_key = BlobField()
    created_at = DateTimeField(default=now)
    changed_at = DateTimeField(default=now)

    class Meta:
        table_name = "vault"


class PayMethod(BaseModel):
    """K2: a stored card or bank account; the full number only encrypted."""

    client = ForeignKeyField(Client, backref="pay_methods", on_delete="CASCADE")
    kind = CharField()  # PAY_METHOD_KINDS
    description = CharField(default="")
    holder = CharField()
    brand = CharField(default="")
    first_six = CharField(default="")
    last_four = CharField()
    expiry = CharField(default="")  # 'YYYY-MM'
    bank_name = CharField(default="")
    number_enc = BlobField(null=True)
    gateway = CharField(default="")
    gateway_token = CharField(default="")
    is_default = BooleanField(default=False)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "pay_method"


class Ticket(BaseModel):
    client = ForeignKeyField(Client, backref="tickets", on_delete="CASCADE")
    subject = CharField()
    priority = CharField(default="Medium")  # TICKET_PRIORITIES
    status = CharField(default="Open")  # TICKET_STATUSES
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "ticket"


class TicketReply(BaseModel):
    ticket = ForeignKeyField(Ticket, backref="replies", on_delete="CASCADE")
    author = CharField()  # TICKET_AUTHORS
    name = CharField(default="")
    message = TextField()
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "ticket_reply"


class Affiliate(BaseModel):
    client = ForeignKeyField(Client, backref="affiliate", unique=True, on_delete="CASCADE")
    commission_type = CharField()  # COMMISSION_TYPES
    commission_value = IntegerField()  # percent: hundredths; fixed: minor units
    status = CharField(default="Active")
    activated_at = DateTimeField(default=now)

    class Meta:
        table_name = "affiliate"


class AffiliateReferral(BaseModel):
    affiliate = ForeignKeyField(Affiliate, backref="referrals", on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="referral", unique=True, on_delete="CASCADE")
    referred_at = DateTimeField(default=now)

    class Meta:
        table_name = "affiliate_referral"


class AffiliateCommission(BaseModel):
    affiliate = ForeignKeyField(Affiliate, backref="commissions", on_delete="CASCADE")
    client = ForeignKeyField(Client, null=True, backref="commissions_earned", on_delete="SET NULL")
    invoice = ForeignKeyField(Invoice, null=True, unique=True, on_delete="SET NULL")
    invoice_number = CharField(default="")
    amount = MoneyField()  # minor units of the affiliate's currency
    earned_on = DateField()
    payable_on = DateField()
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "affiliate_commission"


class AffiliatePayout(BaseModel):
    affiliate = ForeignKeyField(Affiliate, backref="payouts", on_delete="CASCADE")
    amount = MoneyField()  # minor units of the affiliate's currency
    paid_on = DateField()
    method = CharField(default="")
    notes = TextField(default="")
    created_at = DateTimeField(default=now)

    class Meta:
        table_name = "affiliate_payout"


ALL_MODELS = (Setting, ClientGroup, Client, Contact, ClientLog, Currency, PaymentMethod, TaxRule,
              NumberSequence, Invoice, InvoiceLine, Transaction, CreditEntry, Product, ProductPrice,
              ServiceGroup, Service, PromoCode, PromoProduct, Order, Quote, QuoteLine, BillableItem,
              RecurringInvoice, RecurringLine, EmailTemplate, Email, EmailAttachment, AutomationRun,
              AutomationDay, ClientFile, ClientNote, Vault, PayMethod, Ticket, TicketReply,
              Affiliate, AffiliateReferral, AffiliateCommission, AffiliatePayout)
