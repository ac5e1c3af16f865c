"""Numbered schema migrations, applied at start.

The schema version lives in SQLite's ``user_version`` as
``MAJOR * 10000 + number of the last migration applied``. Each migration runs
inside ``db.atomic()`` together with its version bump, so a crash leaves the
database at the previous version. A database from a newer *major* version is
refused; a newer minor version (later additive migrations) is opened as is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from peewee import SqliteDatabase

from billdesk.errors import SchemaTooNew

log = logging.getLogger(__name__)

MAJOR = 1

_M1_CLIENTS = """
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE client_group (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    colour            TEXT NOT NULL DEFAULT '#5b8def',
    discount          INTEGER NOT NULL DEFAULT 0 CHECK (discount BETWEEN 0 AND 10000),
    separate_invoices INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE client (
    id                 INTEGER PRIMARY KEY,
    first_name         TEXT NOT NULL,
    last_name          TEXT NOT NULL,
    company            TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL,
    phone              TEXT NOT NULL DEFAULT '',
    address1           TEXT NOT NULL DEFAULT '',
    address2           TEXT NOT NULL DEFAULT '',
    city               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL DEFAULT '',
    postcode           TEXT NOT NULL DEFAULT '',
    country            TEXT NOT NULL DEFAULT '',
    tax_id             TEXT NOT NULL DEFAULT '',
    account_type       TEXT NOT NULL DEFAULT 'private'
                       CHECK (account_type IN ('private', 'organization')),
    group_id           INTEGER REFERENCES client_group (id) ON DELETE SET NULL,
    currency           TEXT NOT NULL,
    language           TEXT NOT NULL DEFAULT 'en',
    status             TEXT NOT NULL DEFAULT 'Active'
                       CHECK (status IN ('Active', 'Inactive', 'Closed')),
    tax_exempt         INTEGER NOT NULL DEFAULT 0,
    auto_cc            INTEGER NOT NULL DEFAULT 1,
    overdue_notices    INTEGER NOT NULL DEFAULT 1,
    late_fees          INTEGER NOT NULL DEFAULT 1,
    separate_invoices  INTEGER NOT NULL DEFAULT 0,
    two_factor         INTEGER NOT NULL DEFAULT 0,
    billing_contact_id INTEGER REFERENCES contact (id) ON DELETE SET NULL,
    notes              TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    last_activity      TEXT,
    sort_name          TEXT NOT NULL DEFAULT '',
    name_rank          INTEGER NOT NULL,
    company_key        TEXT NOT NULL DEFAULT '',
    group_key          TEXT NOT NULL DEFAULT '',
    email_key          TEXT NOT NULL UNIQUE,
    phone_key          TEXT NOT NULL DEFAULT '',
    search_text        TEXT NOT NULL DEFAULT '',
    search_words       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX client_sort_name ON client (sort_name, id);
CREATE UNIQUE INDEX client_name_rank ON client (name_rank);
CREATE INDEX client_company_key ON client (company_key, id);
CREATE INDEX client_phone_key ON client (phone_key, id);
CREATE INDEX client_country ON client (country, id);
CREATE INDEX client_status ON client (status, id);
CREATE INDEX client_group_id ON client (group_id, id);
CREATE INDEX client_group_key ON client (group_key, id);
CREATE INDEX client_created_at ON client (created_at, id);
CREATE INDEX client_billing_contact ON client (billing_contact_id);

CREATE TABLE contact (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    company    TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL,
    phone      TEXT NOT NULL DEFAULT '',
    address1   TEXT NOT NULL DEFAULT '',
    address2   TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL DEFAULT '',
    postcode   TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX contact_client ON contact (client_id, id);

CREATE TABLE client_log (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    field      TEXT NOT NULL DEFAULT '',
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX client_log_client ON client_log (client_id, id);

-- Search: the services write a normalised search_text (accents folded, case
-- folded, punctuation dropped) and search_words; these contentless FTS5
-- indexes follow them through triggers, keyed by name_rank (the client's
-- place in name order) so that hits come out in name order.
CREATE VIRTUAL TABLE client_fts USING fts5 (
    search_text, content='', tokenize='trigram'
);
CREATE VIRTUAL TABLE client_words USING fts5 (
    search_words, content='', tokenize='unicode61 remove_diacritics 0', prefix='1 2'
);
"""

# Billing (issue 3). Money columns are INTEGER minor units of the row's
# currency; rates are exact decimal text ("17.5"). Totals on the invoice are
# kept by services/invoicing.py in the same transaction as their parts.
_M2_BILLING = """
ALTER TABLE client ADD COLUMN payment_method TEXT NOT NULL DEFAULT '';
ALTER TABLE client ADD COLUMN credit_balance INTEGER NOT NULL DEFAULT 0 CHECK (credit_balance >= 0);

CREATE TABLE currency (
    code TEXT PRIMARY KEY,
    rate TEXT NOT NULL DEFAULT '1'
);
CREATE TABLE payment_method (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE COLLATE NOCASE,
    position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO payment_method (name, position) VALUES
    ('Bank transfer', 1), ('Card', 2), ('PayPal', 3), ('Cash', 4);
CREATE TABLE tax_rule (
    id      INTEGER PRIMARY KEY,
    level   INTEGER NOT NULL CHECK (level IN (1, 2)),
    name    TEXT NOT NULL,
    rate    TEXT NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    state   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE number_sequence (
    name       TEXT PRIMARY KEY,
    next_value INTEGER NOT NULL CHECK (next_value >= 1)
);
INSERT INTO number_sequence (name, next_value) VALUES ('invoice', 1);

CREATE TABLE invoice (
    id             INTEGER PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    number         TEXT UNIQUE,
    kind           TEXT NOT NULL DEFAULT 'standard' CHECK (kind IN ('standard', 'add_funds')),
    status         TEXT NOT NULL DEFAULT 'Draft'
                   CHECK (status IN ('Draft', 'Unpaid', 'Paid', 'Cancelled', 'Refunded', 'Collections')),
    date           TEXT NOT NULL,
    due_date       TEXT NOT NULL,
    paid_date      TEXT,
    currency       TEXT NOT NULL,
    payment_method TEXT NOT NULL DEFAULT '',
    tax1_name      TEXT NOT NULL DEFAULT '',
    tax1_rate      TEXT NOT NULL DEFAULT '0',
    tax2_name      TEXT NOT NULL DEFAULT '',
    tax2_rate      TEXT NOT NULL DEFAULT '0',
    tax_compound   INTEGER NOT NULL DEFAULT 0,
    tax_inclusive  INTEGER NOT NULL DEFAULT 0,
    subtotal       INTEGER NOT NULL DEFAULT 0,
    tax1           INTEGER NOT NULL DEFAULT 0,
    tax2           INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    credit         INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
    paid           INTEGER NOT NULL DEFAULT 0 CHECK (paid >= 0),
    refunded       INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    notes          TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX invoice_client ON invoice (client_id, date, id);
CREATE INDEX invoice_client_status ON invoice (client_id, status);
CREATE INDEX invoice_due ON invoice (status, due_date);

CREATE TABLE invoice_line (
    id          INTEGER PRIMARY KEY,
    invoice_id  INTEGER NOT NULL REFERENCES invoice (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    description TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    taxed       INTEGER NOT NULL DEFAULT 0,
    type        TEXT NOT NULL DEFAULT '',
    link_id     INTEGER
);
CREATE INDEX invoice_line_invoice ON invoice_line (invoice_id, position);

-- "transaction" is an SQL keyword: the table is txn. The client link is
-- cleared when a client is deleted; the name stays (C10).
CREATE TABLE txn (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER REFERENCES client (id) ON DELETE SET NULL,
    client_name TEXT NOT NULL DEFAULT '',
    invoice_id  INTEGER REFERENCES invoice (id) ON DELETE SET NULL,
    date        TEXT NOT NULL,
    method      TEXT NOT NULL DEFAULT '',
    reference   TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    currency    TEXT NOT NULL,
    amount_in   INTEGER NOT NULL DEFAULT 0 CHECK (amount_in >= 0),
    fee         INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0),
    amount_out  INTEGER NOT NULL DEFAULT 0 CHECK (amount_out >= 0),
    refund_of   INTEGER REFERENCES txn (id) ON DELETE SET NULL,
    to_credit   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE INDEX txn_client ON txn (client_id, date, id);
CREATE INDEX txn_invoice ON txn (invoice_id);
CREATE INDEX txn_refund_of ON txn (refund_of);

CREATE TABLE credit_entry (
    id             INTEGER PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    date           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('added', 'removed', 'adjustment', 'overpayment',
                   'add_funds', 'refund', 'applied', 'returned', 'reversal')),
    description    TEXT NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount <> 0),
    invoice_id     INTEGER REFERENCES invoice (id) ON DELETE SET NULL,
    transaction_id INTEGER REFERENCES txn (id) ON DELETE SET NULL,
    reverses_id    INTEGER UNIQUE REFERENCES credit_entry (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX credit_entry_client ON credit_entry (client_id, date, id);
"""


# Services, addons and domains billed on schedule (issue 4). One table holds
# all three kinds (kind); addons point at their service or domain (parent_id).
# A renewal line on an invoice names the due date it bills (invoice_line.
# due_date): the unique index makes "never invoiced twice for the same due
# date" a rule of the database, even for two writers at once.
_M4_SERVICES = """
CREATE TABLE product (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    type          TEXT NOT NULL DEFAULT 'hosting'
                  CHECK (type IN ('hosting', 'reseller', 'server', 'other', 'addon', 'domain')),
    product_group TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    taxed         INTEGER NOT NULL DEFAULT 0,
    hidden        INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE TABLE product_price (
    product_id INTEGER NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    currency   TEXT NOT NULL,
    cycle      TEXT NOT NULL CHECK (cycle IN ('onetime', 'monthly', 'quarterly', 'semiannually',
                                              'annually', 'biennially', 'triennially')),
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    setup_fee  INTEGER NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
    PRIMARY KEY (product_id, currency, cycle)
) WITHOUT ROWID;

CREATE TABLE service_group (
    id              INTEGER PRIMARY KEY,
    client_id       INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    name            TEXT NOT NULL COLLATE NOCASE,
    description     TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL DEFAULT 0,
    hide_on_invoice INTEGER NOT NULL DEFAULT 0,
    UNIQUE (client_id, name)
);

CREATE TABLE service (
    -- AUTOINCREMENT: an id is never handed out again, so invoice lines that
    -- billed a deleted item never point at (or block) a new one
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('service', 'addon', 'domain')),
    product_id       INTEGER REFERENCES product (id) ON DELETE SET NULL,
    parent_id        INTEGER REFERENCES service (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    label            TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'Pending'
                     CHECK (status IN ('Pending', 'Active', 'Suspended', 'Terminated', 'Cancelled',
                                       'Fraud', 'Pending transfer', 'Expired', 'Transferred away')),
    cycle            TEXT NOT NULL CHECK (cycle IN ('free', 'onetime', 'monthly', 'quarterly',
                                                    'semiannually', 'annually', 'biennially',
                                                    'triennially')),
    amount           INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0),
    first_payment    INTEGER NOT NULL DEFAULT 0 CHECK (first_payment >= 0),
    taxed            INTEGER NOT NULL DEFAULT 0,
    signup_date      TEXT NOT NULL,
    next_due         TEXT,
    due_day          INTEGER NOT NULL DEFAULT 1 CHECK (due_day BETWEEN 1 AND 31),
    expiry_date      TEXT,
    payment_method   TEXT NOT NULL DEFAULT '',
    override_suspend INTEGER NOT NULL DEFAULT 0,
    group_id         INTEGER REFERENCES service_group (id) ON DELETE SET NULL,
    position         INTEGER NOT NULL DEFAULT 0,
    notes            TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX service_client ON service (client_id, kind, id);
CREATE INDEX service_parent ON service (parent_id);
CREATE INDEX service_group_member ON service (group_id, position);
CREATE INDEX service_next_due ON service (next_due, client_id)
    WHERE cycle NOT IN ('free', 'onetime') AND next_due IS NOT NULL;

ALTER TABLE invoice_line ADD COLUMN due_date TEXT;
ALTER TABLE invoice_line ADD COLUMN group_name TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX invoice_line_renewal ON invoice_line (link_id, due_date)
    WHERE due_date IS NOT NULL;
"""

_M5_ORDERS_QUOTES = """
-- S8: promotion codes, percent or fixed, for chosen products and cycles
CREATE TABLE promo_code (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind        TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
    value       TEXT NOT NULL,               -- exact decimal: a percent, or an amount
    cycles      TEXT NOT NULL DEFAULT '',    -- comma-separated billing cycles; '' = all
    recurring   INTEGER NOT NULL DEFAULT 0,  -- off the recurring amount too, not only the first
    start_date  TEXT,
    end_date    TEXT,
    max_uses    INTEGER NOT NULL DEFAULT 0 CHECK (max_uses >= 0),  -- 0: no limit
    uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    notes       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- no rows: the code is for every product
CREATE TABLE promo_product (
    promo_id    INTEGER NOT NULL REFERENCES promo_code (id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    PRIMARY KEY (promo_id, product_id)
) WITHOUT ROWID;

-- S8: orders ("order" is an SQL keyword)
CREATE TABLE client_order (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    number         TEXT NOT NULL UNIQUE,
    date           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'Pending'
                   CHECK (status IN ('Pending', 'Active', 'Cancelled', 'Fraud')),
    promo_id       INTEGER REFERENCES promo_code (id) ON DELETE SET NULL,
    promo_code     TEXT NOT NULL DEFAULT '',
    invoice_id     INTEGER REFERENCES invoice (id) ON DELETE SET NULL,
    currency       TEXT NOT NULL,
    amount         INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0),  -- the first invoice's total
    payment_method TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX client_order_client ON client_order (client_id, id);
ALTER TABLE service ADD COLUMN order_id INTEGER REFERENCES client_order (id) ON DELETE SET NULL;
ALTER TABLE service ADD COLUMN promo_id INTEGER REFERENCES promo_code (id) ON DELETE SET NULL;
CREATE INDEX service_order ON service (order_id) WHERE order_id IS NOT NULL;

-- B4: quotes; taxes fixed when saved, as on an invoice
CREATE TABLE quote (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    subject        TEXT NOT NULL DEFAULT '',
    stage          TEXT NOT NULL DEFAULT 'Draft'
                   CHECK (stage IN ('Draft', 'Delivered', 'On hold', 'Accepted', 'Lost', 'Dead')),
    date           TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    currency       TEXT NOT NULL,
    tax1_name      TEXT NOT NULL DEFAULT '',
    tax1_rate      TEXT NOT NULL DEFAULT '0',
    tax2_name      TEXT NOT NULL DEFAULT '',
    tax2_rate      TEXT NOT NULL DEFAULT '0',
    tax_compound   INTEGER NOT NULL DEFAULT 0,
    tax_inclusive  INTEGER NOT NULL DEFAULT 0,
    subtotal       INTEGER NOT NULL DEFAULT 0,
    tax1           INTEGER NOT NULL DEFAULT 0,
    tax2           INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    proposal       TEXT NOT NULL DEFAULT '',
    customer_notes TEXT NOT NULL DEFAULT '',
    admin_notes    TEXT NOT NULL DEFAULT '',
    invoice_id     INTEGER UNIQUE REFERENCES invoice (id) ON DELETE SET NULL,  -- converted once
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX quote_client ON quote (client_id, valid_until);
CREATE TABLE quote_line (
    id          INTEGER PRIMARY KEY,
    quote_id    INTEGER NOT NULL REFERENCES quote (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity    TEXT NOT NULL DEFAULT '1',  -- exact decimal
    unit_price  INTEGER NOT NULL,
    discount    TEXT NOT NULL DEFAULT '0',  -- percent, exact decimal
    amount      INTEGER NOT NULL,           -- quantity × unit price − discount, rounded half-up
    taxed       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX quote_line_quote ON quote_line (quote_id, position);

-- B3: billable items; invoice lines of type 'Item' link them
CREATE TABLE billable_item (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    hours       TEXT,                       -- exact decimal; amount = hours × rate
    rate        INTEGER,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    taxed       INTEGER NOT NULL DEFAULT 0,
    action      TEXT NOT NULL DEFAULT 'none' CHECK (action IN ('none', 'next', 'due', 'recur')),
    due_date    TEXT,                       -- due / recur: when it is (next) invoiced
    due_day     INTEGER CHECK (due_day IS NULL OR due_day BETWEEN 1 AND 31),  -- kept by months
    every       INTEGER CHECK (every IS NULL OR every > 0),
    unit        TEXT CHECK (unit IS NULL OR unit IN ('day', 'week', 'month', 'year')),
    count       INTEGER CHECK (count IS NULL OR count > 0),  -- recur: how many times in all
    invoiced    INTEGER NOT NULL DEFAULT 0 CHECK (invoiced >= 0),  -- times invoiced so far
    invoice_id  INTEGER REFERENCES invoice (id) ON DELETE SET NULL,  -- the last one
    notes       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX billable_item_client ON billable_item (client_id, id);
CREATE INDEX billable_item_waiting ON billable_item (action, due_date, client_id)
    WHERE action <> 'none';

-- B5: recurring invoices (HostBill): a template issued every N units
CREATE TABLE recurring_invoice (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    every          INTEGER NOT NULL CHECK (every > 0),
    unit           TEXT NOT NULL CHECK (unit IN ('month', 'year')),
    start_date     TEXT NOT NULL,
    next_date      TEXT,                    -- NULL once finished or stopped
    count          INTEGER CHECK (count IS NULL OR count > 0),
    until          TEXT,
    issued         INTEGER NOT NULL DEFAULT 0 CHECK (issued >= 0),
    status         TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Finished', 'Stopped')),
    due_days       INTEGER NOT NULL DEFAULT 0 CHECK (due_days >= 0),  -- due this many days after issue
    payment_method TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX recurring_invoice_client ON recurring_invoice (client_id, id);
CREATE INDEX recurring_invoice_next ON recurring_invoice (next_date) WHERE status = 'Active';
CREATE TABLE recurring_line (
    id           INTEGER PRIMARY KEY,
    recurring_id INTEGER NOT NULL REFERENCES recurring_invoice (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    description  TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    taxed        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recurring_line_template ON recurring_line (recurring_id, position);
ALTER TABLE invoice ADD COLUMN recurring_id INTEGER REFERENCES recurring_invoice (id)
    ON DELETE SET NULL;
ALTER TABLE invoice ADD COLUMN recurring_date TEXT;  -- the date of the template it issues
CREATE UNIQUE INDEX invoice_recurring ON invoice (recurring_id, recurring_date)
    WHERE recurring_id IS NOT NULL;
"""

# Email and the daily automation run (issue 6).
_M6_EMAIL_AUTOMATION = """
-- E1: templates edited by the owner; a template not in this table is the
-- default shipped in resources/email_templates (per language, English fallback)
CREATE TABLE email_template (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL COLLATE NOCASE,   -- 'invoice_created', … or a custom template's name
    language   TEXT NOT NULL DEFAULT 'en',
    kind       TEXT NOT NULL CHECK (kind IN ('welcome', 'invoice_created', 'payment_reminder',
                   'overdue_1', 'overdue_2', 'overdue_3', 'payment_confirmation', 'credit_added',
                   'quote_delivered', 'statement', 'general', 'custom')),
    category   TEXT NOT NULL DEFAULT 'general',  -- contacts with this email category are copied (K1)
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0,      -- a disabled template queues nothing
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (name, language)
);

-- E3/E4: the outbox and the email log are one table. A message is written
-- in the transaction of the event that caused it; event_key makes "queued
-- once per event" a rule of the database (e.g. 'overdue_1:invoice:12').
CREATE TABLE email (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    INTEGER REFERENCES client (id) ON DELETE CASCADE,
    template     TEXT NOT NULL DEFAULT '',       -- the template's name; '' for a new message
    event_key    TEXT UNIQUE,
    message_id   TEXT NOT NULL,                  -- unique by making: it holds the row's id
    to_addr      TEXT NOT NULL,
    cc           TEXT NOT NULL DEFAULT '',       -- comma-separated
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'Queued'
                 CHECK (status IN ('Queued', 'Sending', 'Sent', 'Failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT,                           -- not before this time (back-off)
    error        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    -- 1: queued by a bulk run (the billing run's invoice emails) in the
    -- event's transaction; mail.render_pending writes its text before delivery
    pending      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX email_client ON email (client_id, id);
CREATE INDEX email_pending ON email (id) WHERE pending = 1;
CREATE INDEX email_outbox ON email (next_attempt, id) WHERE status IN ('Queued', 'Sending');
CREATE TABLE email_attachment (
    id        INTEGER PRIMARY KEY,
    email_id  INTEGER NOT NULL REFERENCES email (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL DEFAULT 0,
    filename  TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('invoice', 'quote', 'data')),
    ref_id    INTEGER,   -- invoice / quote: its PDF is drawn when the message is delivered
    content   BLOB       -- data: the bytes themselves (a statement, a client's file)
);
CREATE INDEX email_attachment_email ON email_attachment (email_id, position);

-- A1/A3: the run log, and the days completed
CREATE TABLE automation_run (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    trigger     TEXT NOT NULL DEFAULT '',        -- 'schedule', 'window', 'cli'
    days        TEXT NOT NULL DEFAULT '',        -- comma-separated dates
    status      TEXT NOT NULL DEFAULT 'Running'
                CHECK (status IN ('Running', 'Completed', 'Failed')),
    steps       TEXT NOT NULL DEFAULT '{}',      -- JSON: step name -> count
    errors      TEXT NOT NULL DEFAULT '[]',      -- JSON: list of messages
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE automation_day (
    date        TEXT PRIMARY KEY,
    run_id      INTEGER REFERENCES automation_run (id) ON DELETE SET NULL,
    finished_at TEXT NOT NULL
) WITHOUT ROWID;

-- C6: per-client automation overrides (NULL: the global setting)
ALTER TABLE client ADD COLUMN auto_suspend INTEGER CHECK (auto_suspend IN (0, 1));
ALTER TABLE client ADD COLUMN suspend_days INTEGER CHECK (suspend_days BETWEEN 0 AND 3650);
ALTER TABLE client ADD COLUMN auto_terminate INTEGER CHECK (auto_terminate IN (0, 1));
ALTER TABLE client ADD COLUMN terminate_days INTEGER CHECK (terminate_days BETWEEN 0 AND 3650);
ALTER TABLE client ADD COLUMN payment_reminders INTEGER CHECK (payment_reminders IN (0, 1));
ALTER TABLE client ADD COLUMN auto_status INTEGER CHECK (auto_status IN (0, 1));
-- B6: a group can opt its clients out of late fees
ALTER TABLE client_group ADD COLUMN late_fees INTEGER NOT NULL DEFAULT 1;
-- why the run suspended an item ('Overdue on payment'); cleared when unsuspended
ALTER TABLE service ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT '';
"""

_M7_CLIENT_LIFECYCLE = """
-- C11: an archived client is hidden from the list (unless asked) and read-only
ALTER TABLE client ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
CREATE INDEX client_archived ON client (archived);

-- F1: a client's files; the bytes live under the data folder, named by
-- their SHA-256, so one content stored twice takes the space once
CREATE TABLE client_file (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,                   -- shown and offered when saving; renamable
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    admin_only INTEGER NOT NULL DEFAULT 0 CHECK (admin_only IN (0, 1)),
    added_at   TEXT NOT NULL
);
CREATE INDEX client_file_client ON client_file (client_id, id);
CREATE INDEX client_file_hash ON client_file (sha256);

-- F2: dated notes with a sticky flag (the admin notes stay in client.notes)
CREATE TABLE client_note (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    text       TEXT NOT NULL,
    sticky     INTEGER NOT NULL DEFAULT 0 CHECK (sticky IN (0, 1))
);
CREATE INDEX client_note_client ON client_note (client_id, sticky, created_at);
"""

# A1 steps 6-7: the items billed by the overdue invoices (automation.py's
# _OVERDUE_CTE) read from this index alone, not line by line from the table.
# Only lines that link an item are in it (not late fees or hand-written
# lines), so most line inserts have nothing more to maintain. Index only.
_M8_LINE_LINKS = """
CREATE INDEX invoice_line_links ON invoice_line (invoice_id, link_id, type)
    WHERE link_id IS NOT NULL;
"""

# K2, F3, F4: the card and bank vault, support tickets, affiliates
_M9_VAULT_TICKETS_AFFILIATES = """
-- K2: the vault's one row. A random 256-bit data key, wrapped (AES-GCM) by a
-- key derived from the owner's passphrase with Argon2id; the salt and the
-- parameters are here so the book describes itself. ``verifier`` is derived
-- with the wrapping key (never the key itself) and tells a wrong passphrase
-- apart from a damaged wrapped key. No passphrase, no key is ever stored.
CREATE TABLE vault (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    kdf          TEXT NOT NULL DEFAULT 'argon2id',
    salt         BLOB NOT NULL,
    memory_kib   INTEGER NOT NULL CHECK (memory_kib > 0),
    iterations   INTEGER NOT NULL CHECK (iterations > 0),
    lanes        INTEGER NOT NULL CHECK (lanes > 0),
    verifier     BLOB NOT NULL,
    wrapped_key  BLOB NOT NULL,                 -- 96-bit nonce + AES-GCM(data key)
    created_at   TEXT NOT NULL,
    changed_at   TEXT NOT NULL
);

-- K2: a client's stored pay methods. The full number is only in
-- ``number_enc`` (96-bit nonce + AES-GCM ciphertext under the data key, the
-- row id and column as associated data); a record bound to a remote
-- gateway token has no number. No CVV column, ever.
CREATE TABLE pay_method (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id     INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('card', 'bank')),
    description   TEXT NOT NULL DEFAULT '',
    holder        TEXT NOT NULL,
    brand         TEXT NOT NULL DEFAULT '',     -- card: Visa, Mastercard, ...
    first_six     TEXT NOT NULL DEFAULT '',     -- card: the issuer's prefix
    last_four     TEXT NOT NULL,
    expiry        TEXT NOT NULL DEFAULT '',     -- card: 'YYYY-MM'
    bank_name     TEXT NOT NULL DEFAULT '',     -- bank account
    number_enc    BLOB,
    gateway       TEXT NOT NULL DEFAULT '',
    gateway_token TEXT NOT NULL DEFAULT '',
    is_default    INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (number_enc IS NOT NULL OR gateway_token != '')
);
CREATE INDEX pay_method_client ON pay_method (client_id, is_default DESC, id);
-- one default per client (a merge keeps the kept client's)
CREATE UNIQUE INDEX pay_method_default ON pay_method (client_id) WHERE is_default = 1;

-- F3: support tickets and their messages (the first is the opening one)
CREATE TABLE ticket (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    priority   TEXT NOT NULL DEFAULT 'Medium' CHECK (priority IN ('Low', 'Medium', 'High')),
    status     TEXT NOT NULL DEFAULT 'Open'
               CHECK (status IN ('Open', 'Answered', 'Customer reply', 'Closed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL                    -- the last message or change
);
CREATE INDEX ticket_client ON ticket (client_id, status, updated_at);
CREATE TABLE ticket_reply (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES ticket (id) ON DELETE CASCADE,
    author     TEXT NOT NULL CHECK (author IN ('staff', 'client')),
    name       TEXT NOT NULL DEFAULT '',        -- who wrote it, as shown
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_reply_ticket ON ticket_reply (ticket_id, id);

-- F4: affiliates. One row per client activated, its id the client's id
-- (kept so through a merge: the children follow by ON UPDATE CASCADE);
-- commission is a percent (hundredths) or a fixed amount (minor units of
-- the affiliate's currency).
CREATE TABLE affiliate (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        INTEGER NOT NULL UNIQUE REFERENCES client (id) ON DELETE CASCADE,
    commission_type  TEXT NOT NULL CHECK (commission_type IN ('percent', 'fixed')),
    commission_value INTEGER NOT NULL CHECK (commission_value >= 0),
    status           TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
    activated_at     TEXT NOT NULL
);
-- a client is referred by one affiliate at most
CREATE TABLE affiliate_referral (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    affiliate_id INTEGER NOT NULL REFERENCES affiliate (id) ON DELETE CASCADE ON UPDATE CASCADE,
    client_id    INTEGER NOT NULL UNIQUE REFERENCES client (id) ON DELETE CASCADE,
    referred_at  TEXT NOT NULL
);
CREATE INDEX affiliate_referral_affiliate ON affiliate_referral (affiliate_id, id);
-- one commission per paid invoice of a referred client; pending until
-- ``payable_on``, then payable. The invoice and the referred client may be
-- deleted later: the commission stays, with the invoice's number.
CREATE TABLE affiliate_commission (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    affiliate_id   INTEGER NOT NULL REFERENCES affiliate (id) ON DELETE CASCADE ON UPDATE CASCADE,
    client_id      INTEGER REFERENCES client (id) ON DELETE SET NULL,
    invoice_id     INTEGER UNIQUE REFERENCES invoice (id) ON DELETE SET NULL,
    invoice_number TEXT NOT NULL DEFAULT '',
    amount         INTEGER NOT NULL CHECK (amount >= 0),   -- minor units, affiliate's currency
    earned_on      TEXT NOT NULL,                          -- the day the invoice was paid
    payable_on     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX affiliate_commission_affiliate ON affiliate_commission (affiliate_id, earned_on);
CREATE INDEX affiliate_commission_client ON affiliate_commission (client_id);
CREATE TABLE affiliate_payout (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    affiliate_id INTEGER NOT NULL REFERENCES affiliate (id) ON DELETE CASCADE ON UPDATE CASCADE,
    amount       INTEGER NOT NULL CHECK (amount > 0),      -- minor units, affiliate's currency
    paid_on      TEXT NOT NULL,
    method       TEXT NOT NULL DEFAULT '',
    notes        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX affiliate_payout_affiliate ON affiliate_payout (affiliate_id, paid_on);
"""

# Kept apart so that bulk loads (the demo) can drop them, load, and rebuild.
SEARCH_TRIGGERS = """
CREATE TRIGGER client_search_ai AFTER INSERT ON client BEGIN
    INSERT INTO client_fts (rowid, search_text) VALUES (new.name_rank, new.search_text);
    INSERT INTO client_words (rowid, search_words) VALUES (new.name_rank, new.search_words);
END;
CREATE TRIGGER client_search_ad AFTER DELETE ON client BEGIN
    INSERT INTO client_fts (client_fts, rowid, search_text)
        VALUES ('delete', old.name_rank, old.search_text);
    INSERT INTO client_words (client_words, rowid, search_words)
        VALUES ('delete', old.name_rank, old.search_words);
END;
CREATE TRIGGER client_search_au AFTER UPDATE OF search_text, search_words, name_rank ON client BEGIN
    INSERT INTO client_fts (client_fts, rowid, search_text)
        VALUES ('delete', old.name_rank, old.search_text);
    INSERT INTO client_words (client_words, rowid, search_words)
        VALUES ('delete', old.name_rank, old.search_words);
    INSERT INTO client_fts (rowid, search_text) VALUES (new.name_rank, new.search_text);
    INSERT INTO client_words (rowid, search_words) VALUES (new.name_rank, new.search_words);
END;
"""


def _run_script(script: str) -> Callable[[SqliteDatabase], None]:
    def apply(db: SqliteDatabase) -> None:
        for statement in _split(script):
            db.execute_sql(statement)

    return apply


def _split(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    import sqlite3

    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


# The list only grows: never edit a migration that has shipped.
# E4: the Email log's "Failed" view, newest first, without reading the whole
# log. Only failed messages are in it: queueing and sending maintain nothing.
_M10_FAILED_EMAILS = """
CREATE INDEX email_failed ON email (id) WHERE status = 'Failed';
"""

# What no client's own log can hold (JOURNEYS 6): a client deleted (its log
# goes with it) and the book restored from a backup. Book-wide, as WHMCS's
# activity log; no foreign key, the client is gone.
_M11_ACTIVITY = """
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    client_id   INTEGER,
    client_name TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT ''
);
"""

MIGRATIONS: list[tuple[str, Callable[[SqliteDatabase], None]]] = [
    ("clients, contacts, groups, change log, settings, search", _run_script(_M1_CLIENTS + SEARCH_TRIGGERS)),
    ("invoices, transactions, credit, tax rules, currencies, payment methods", _run_script(_M2_BILLING)),
    ("invoice: when its late fee was added (once per invoice, even if removed later)",
     _run_script("ALTER TABLE invoice ADD COLUMN late_fee_date TEXT;")),
    ("products, services, addons, domains, service groups; renewal lines", _run_script(_M4_SERVICES)),
    ("promo codes, orders, quotes, billable items, recurring invoices",
     _run_script(_M5_ORDERS_QUOTES)),
    ("email templates, outbox, automation runs; per-client automation overrides",
     _run_script(_M6_EMAIL_AUTOMATION)),
    ("client lifecycle: archived flag, client files, dated notes",
     _run_script(_M7_CLIENT_LIFECYCLE)),
    ("invoice lines: an index of the items they bill, for the daily run's overdue items",
     _run_script(_M8_LINE_LINKS)),
    ("card and bank vault, support tickets, affiliates", _run_script(_M9_VAULT_TICKETS_AFFILIATES)),
    ("email log: an index of the failed messages", _run_script(_M10_FAILED_EMAILS)),
    ("the book's activity log: clients deleted, restores", _run_script(_M11_ACTIVITY)),
]


def current_version(db: SqliteDatabase) -> tuple[int, int]:
    value = db.execute_sql("PRAGMA user_version").fetchone()[0]
    return divmod(value, 10000)


def migrate(db: SqliteDatabase) -> int:
    """Apply every migration not yet applied; return how many ran."""
    major, applied = current_version(db)
    if applied == 0 and major == 0:
        major = MAJOR
    if major > MAJOR:
        raise SchemaTooNew(
            "db",
            f"this file was written by a newer billdesk (schema {major}); "
            f"this version reads schema {MAJOR}. Update billdesk to open it.",
        )
    ran = 0
    for number, (title, apply) in enumerate(MIGRATIONS, start=1):
        if number <= applied:
            continue
        log.info("applying migration %d: %s", number, title)
        with db.atomic():
            apply(db)
            db.execute_sql(f"PRAGMA user_version = {MAJOR * 10000 + number}")
        ran += 1
    return ran


SEARCH_TRIGGER_NAMES = ("client_search_ai", "client_search_ad", "client_search_au")


def rebuild_search(db: SqliteDatabase) -> None:
    """Fill both search indexes anew from the client table."""
    for table, column in (("client_fts", "search_text"), ("client_words", "search_words")):
        db.execute_sql(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
        db.execute_sql(f"INSERT INTO {table} (rowid, {column}) "
                       f"SELECT name_rank, {column} FROM client ORDER BY name_rank")


class bulk_client_load:
    """For writing many clients at once (the demo, re-ranking every client),
    inside a transaction: the search triggers are dropped, and on leaving
    both FTS indexes are rebuilt from the client table and the triggers
    restored — several times faster than a trigger per row."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def __enter__(self) -> None:
        for name in SEARCH_TRIGGER_NAMES:
            self.db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            rebuild_search(self.db)
        for statement in _split(SEARCH_TRIGGERS):
            self.db.execute_sql(statement)
