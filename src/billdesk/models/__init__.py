"""peewee models and the migrations that create their tables."""

from billdesk.models.db import close_database, database, init_db, open_database, parse_db_url
from billdesk.models.tables import (
    ACCOUNT_TYPES,
    ALL_MODELS,
    CLIENT_STATUSES,
    DISPLAY_FORMATS,
    EMAIL_CATEGORIES,
    Client,
    ClientGroup,
    ClientLog,
    Contact,
    Setting,
    now,
)

__all__ = [
    "ACCOUNT_TYPES", "ALL_MODELS", "CLIENT_STATUSES", "DISPLAY_FORMATS", "EMAIL_CATEGORIES",
    "Client", "ClientGroup", "ClientLog", "Contact", "Setting", "close_database", "database",
    "init_db", "now", "open_database", "parse_db_url",
]
