"""peewee models and the migrations that create their tables."""

from billdesk.models.db import close_database, database, init_db, open_database, parse_db_url
from billdesk.models.tables import (
    ACCOUNT_TYPES,
    ALL_MODELS,
    CLIENT_STATUSES,
    CREDIT_KINDS,
    DISPLAY_FORMATS,
    EMAIL_CATEGORIES,
    INVOICE_KINDS,
    INVOICE_STATUSES,
    Client,
    ClientGroup,
    ClientLog,
    Contact,
    CreditEntry,
    Currency,
    Invoice,
    InvoiceLine,
    NumberSequence,
    PaymentMethod,
    Setting,
    TaxRule,
    Transaction,
    now,
)

__all__ = [
    "ACCOUNT_TYPES", "ALL_MODELS", "CLIENT_STATUSES", "CREDIT_KINDS", "DISPLAY_FORMATS",
    "EMAIL_CATEGORIES", "INVOICE_KINDS", "INVOICE_STATUSES", "Client", "ClientGroup", "ClientLog",
    "Contact", "CreditEntry", "Currency", "Invoice", "InvoiceLine", "NumberSequence",
    "PaymentMethod", "Setting", "TaxRule", "Transaction", "close_database", "database", "init_db",
    "now", "open_database", "parse_db_url",
]
