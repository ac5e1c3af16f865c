"""The peewee models. Their tables are created by the numbered migrations in
``migrations.py`` (the models mirror them; they never create tables)."""

from __future__ import annotations

import datetime as dt

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    DeferredForeignKey,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from billdesk.models.base import BaseModel
from billdesk.models.fields import PercentField

CLIENT_STATUSES = ("Active", "Inactive", "Closed")
ACCOUNT_TYPES = ("private", "organization")
EMAIL_CATEGORIES = ("general", "invoice", "support", "product", "domain", "affiliate")
DISPLAY_FORMATS = ("first_last", "company_or_name", "first_last_company")


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class Setting(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()


class ClientGroup(BaseModel):
    name = CharField()
    colour = CharField(default="#5b8def")
    discount = PercentField(default=0)
    separate_invoices = BooleanField(default=False)


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


ALL_MODELS = (Setting, ClientGroup, Client, Contact, ClientLog)
