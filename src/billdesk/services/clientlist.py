"""The client list (C2) as queries: filter, search, sort in SQL and page
with keyset queries on (sort key, id). Nothing here loads all rows.

Search goes through two FTS5 indexes over text normalised in Python
(services/text.py): a trigram index for queries of three or more
characters (any substring), and a word index with prefix tables for
shorter ones (word starts: "zo" finds Zoë, "44" finds +44 …).

Both indexes are keyed by the client's ``name_rank`` (its place in name
order, kept by services/clients.py), not by its id. FTS5 yields hits in
rowid order and stops at LIMIT, so a search shown in name order — the
default — reads one page of hits however many clients match. Other sorts
take the hits and sort them when there are few, or walk that column's
index testing each row when there are many.

Archived clients (C11) are left out unless the query asks for them
(``archived=True``). Pages test ``+c.archived = 0`` on each row as they
walk their index (the unary + keeps SQLite off the two-valued
``client_archived`` index); counts count as before and take away the
archived matches, found through that index (few rows), so neither the
list nor its count reads more than it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from billdesk.models import database
from billdesk.services import text

# sort name → SQL expression; each has an index on (expression, id)
SORTS: dict[str, str] = {
    "id": "c.id",
    "name": "c.name_rank",
    "company": "c.company_key",
    "email": "c.email_key",
    "phone": "c.phone_key",
    "country": "c.country",
    "group": "c.group_key",
    "status": "c.status",
    "created": "c.created_at",
}
UNIQUE_SORTS = ("id", "name")  # a single-column keyset: the key alone orders them
NO_GROUP = -1  # group filter value meaning "clients in no group"
PAGE = 200

_ROW_SQL = ("c.id, c.first_name, c.last_name, c.company, c.email, c.phone, c.country, "
            "g.name, g.colour, c.status, c.created_at, c.currency, c.language, c.archived")


@dataclass(frozen=True, slots=True)
class ClientQuery:
    search: str = ""
    status: str | None = None
    group_id: int | None = None
    sort: str = "name"
    descending: bool = False
    archived: bool = False  # True: archived clients too (C11); False: hidden


    def with_(self, **changes: Any) -> ClientQuery:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: int
    first_name: str
    last_name: str
    company: str
    email: str
    phone: str
    country: str
    group: str
    group_colour: str
    status: str
    created_at: datetime
    currency: str
    language: str
    archived: bool = False
    key: Any = field(default=None, compare=False)  # the sort value, for keyset paging

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "first_name": self.first_name, "last_name": self.last_name,
            "company": self.company, "email": self.email, "phone": self.phone,
            "country": self.country, "currency": self.currency, "group": self.group or None,
            "status": self.status, "language": self.language,
            "created": self.created_at.date().isoformat(), "archived": self.archived,
        }


def pinned_id(search: str) -> int | None:
    """The client id a search of digits is ("12"), else None. That client
    comes first in every page and sort (when it passes the filters), then
    the others holding those digits (phones, ids): WHMCS's search goes
    straight to a client by id, and in name order the client could be
    thousands of rows down."""
    digits = search.strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 18 and digits == str(int(digits)):
        return int(digits)
    return None


def exact_id(search: str) -> int | None:
    """The client id a search names with a hash ("#12"), else None: that
    client alone."""
    text = search.strip()
    if not text.startswith("#"):
        return None
    digits = text[1:].strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits)
    return None


def archived_id(query: ClientQuery) -> int | None:
    """The client a search names by id ("12", "#12") when archived clients
    are hidden and that client is archived: the list cannot show it."""
    client_id = pinned_id(query.search) or exact_id(query.search)
    if client_id is None or query.archived:
        return None
    found = database.obj.execute_sql("SELECT archived FROM client WHERE id = ?",
                                     (client_id,)).fetchone()
    return client_id if found and found[0] else None


# The sort key of the pinned row: the page after it starts from the top.
_PINNED = ("pinned",)


def _normalised(search: str) -> str | None:
    """The query as the index holds text, or None when there is no search.
    A phone number dialled the international way ("0044 20 7946…") is
    looked for as it is written after a + ("+44 20 7946…" is held as
    "442079 46…"): the leading 00 is dropped once three digits follow."""
    if not search.strip():
        return None
    found = text.squash(search)
    if len(found) >= 5 and found.startswith("00") and found.isdigit() \
            and search.lstrip().startswith("00"):
        return found[2:]
    return found


def _search_clause(search: str, *, scan: bool = False) -> tuple[str, list[Any]] | None:
    """SQL restricting c.id to the matches, or None for no search. A search
    with no letter or digit in it (a lone % or _) matches nothing.

    ``scan`` gives the same matches as a test on each row, for walking the
    sort index when the matches are dense (see ``page``)."""
    q = _normalised(search)
    if q is None:
        return None
    exact = exact_id(search)
    if exact is not None:  # "#12": that client alone, through the primary key
        return "c.id = ?", [exact]
    if not q:
        return "0", []
    if scan:
        if len(q) >= 3:
            return "instr(c.search_text, ?) > 0", [q]
        return "instr(' ' || c.search_words, ?) > 0", [f" {q}"]
    hits, params = _fts_hits(search)
    return f"c.name_rank IN ({hits})", params


def _fts(search: str) -> tuple[str, str] | None:
    """(FTS table, MATCH argument) for a search, or None when it matches
    nothing or names a client by id ("#12")."""
    q = _normalised(search)
    if not q or exact_id(search) is not None:
        return None
    return ("client_fts", f'"{q}"') if len(q) >= 3 else ("client_words", f"{q}*")


def _fts_hits(search: str) -> tuple[str, list[Any]]:
    """SELECT of the name ranks a (non-empty) search hits."""
    table, match = _fts(search)  # type: ignore[misc]
    return f"SELECT rowid FROM {table} WHERE {table} MATCH ?", [match]


def _where(query: ClientQuery, *, for_sort: bool, scan: bool = False,
           search: bool = True, archived: bool = True) -> tuple[list[str], list[Any]]:
    """The WHERE clauses; ``archived=False`` leaves out the archived test
    (the counts take the archived matches away separately)."""
    clauses: list[str] = []
    params: list[Any] = []
    found = _search_clause(query.search, scan=scan) if search else None
    if found is not None:
        clauses.append(found[0])
        params += found[1]
    if archived and not query.archived:
        clauses.append("+c.archived = 0")  # tested on each row, never through its index
    # With a sort, a unary + keeps SQLite on the sort index and filters as
    # it walks it (stops after one page) instead of sorting every match.
    plus = "+" if for_sort else ""
    if query.status:
        clauses.append(f"{plus}c.status = ?")
        params.append(query.status)
    if query.group_id == NO_GROUP:
        clauses.append(f"{plus}c.group_id IS NULL")
    elif query.group_id is not None:
        clauses.append(f"{plus}c.group_id = ?")
        params.append(query.group_id)
    return clauses, params


# Dense searches walk the sort index and test each row; sparse ones take
# the FTS hits and sort them. The switch is where both cost about the same:
# a page of 200 at 1-in-50 density means walking some 10,000 index rows.
DENSE = 50


def use_scan(query: ClientQuery, matches: int, total: int) -> bool:
    """For sorts other than name: walk the sort index (dense) or sort the hits."""
    return bool(query.search.strip()) and query.sort != "name" and matches * DENSE > total


def dense_cap(total: int) -> int:
    """Counting up to this many matches is enough to choose the plan: at
    the cap, ``use_scan`` says dense. (The list shows the first page with
    this cheap count and finishes the exact count after painting.)"""
    return total // DENSE + 1


def page_sql(query: ClientQuery, after: tuple[Any, int] | None = None,
             limit: int = PAGE, *, scan: bool = False) -> tuple[str, list[Any]]:
    """The SQL of one page (exposed so benchmarks can run it raw)."""
    key = SORTS.get(query.sort)
    if key is None:
        raise ValueError(f"unknown sort {query.sort!r}")
    op, order = ("<", "DESC") if query.descending else (">", "ASC")
    fts = _fts(query.search) if query.search.strip() else None
    if query.sort == "name" and fts is not None:
        # The hits come out of the index in name order: read one page of them.
        table, match = fts
        clauses, params = _where(query, for_sort=True, search=False)
        clauses.insert(0, f"{table} MATCH ?")
        params.insert(0, match)
        pin = pinned_id(query.search)
        if pin is not None:  # (first on the first page: see page)
            clauses.append("c.id <> ?")
            params.append(pin)
        if after is not None:
            clauses.append(f"f.rowid {op} ?")
            params.append(after[0])
        where = " AND ".join(f"({c})" for c in clauses)
        sql = (f"SELECT {_ROW_SQL}, c.name_rank FROM {table} f "
               f"JOIN client c ON c.name_rank = f.rowid "
               f"LEFT JOIN client_group g ON g.id = c.group_id "
               f"WHERE {where} ORDER BY f.rowid {order} LIMIT ?")
        return sql, params + [limit]
    clauses, params = _where(query, for_sort=query.sort != "id", scan=scan)
    pin = pinned_id(query.search)
    if pin is not None:  # (first on the first page: see page)
        clauses.append("c.id <> ?")
        params.append(pin)
    if after is not None:
        if query.sort in UNIQUE_SORTS:
            clauses.append(f"{key} {op} ?")
            params.append(after[0])
        else:
            clauses.append(f"({key}, c.id) {op} (?, ?)")
            params += [after[0], after[1]]
    where = f"WHERE {' AND '.join(f'({c})' for c in clauses)}" if clauses else ""
    order_by = f"{key} {order}" if query.sort in UNIQUE_SORTS else f"{key} {order}, c.id {order}"
    sql = (f"SELECT {_ROW_SQL}, {key} FROM client c LEFT JOIN client_group g ON g.id = c.group_id "
           f"{where} ORDER BY {order_by} LIMIT ?")
    return sql, params + [limit]


def page(query: ClientQuery, after: tuple[Any, int] | None = None, limit: int = PAGE, *,
         matches: int | None = None) -> list[ClientRow]:
    """One page of rows in the query's order, after the (key, id) given.
    ``matches`` (the query's count, when the caller has it) picks the plan
    for sorts other than name. A search that is a client's id (``pinned_id``)
    has that client first on the first page, and on no other."""
    first: list[ClientRow] = []
    pin = pinned_id(query.search)
    if pin is not None and after is None:
        first = _pinned_row(query, pin)
        limit -= len(first)
    elif pin is not None and after[0] == _PINNED:
        after = None  # the page after the pinned row: the rest from the top
    if limit <= 0:
        return first
    scan = False
    if query.search.strip() and query.sort != "name":
        book = total()
        if matches is None:
            matches = count(query, cap=dense_cap(book))
        scan = use_scan(query, matches, book)
    sql, params = page_sql(query, after, limit, scan=scan)
    return first + [_client_row(r, r[14]) for r in database.obj.execute_sql(sql, params)]


def _client_row(r: tuple, key: Any) -> ClientRow:
    return ClientRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", r[8] or "", r[9],
                     _dt(r[10]), r[11], r[12], bool(r[13]), key)


def _pinned_row(query: ClientQuery, client_id: int) -> list[ClientRow]:
    """The client of that id, if it passes the query's filters (its id is
    in its search text, so the search itself always finds it)."""
    clauses, params = _where(query, for_sort=False, search=False)
    where = " AND ".join(["c.id = ?", *(f"({c})" for c in clauses)])
    found = database.obj.execute_sql(
        f"SELECT {_ROW_SQL} FROM client c LEFT JOIN client_group g ON g.id = c.group_id "
        f"WHERE {where}", [client_id, *params]).fetchone()
    return [_client_row(found, _PINNED)] if found else []


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def count_sql(query: ClientQuery, cap: int | None = None) -> tuple[str, list[Any]]:
    """SQL counting the matches; with ``cap``, counting stops there (a
    search matching half the book need not be counted to the last row).
    Archived clients left out of the list are counted apart, through the
    ``client_archived`` index, and taken away."""
    everyone, params = _count_all_sql(query, cap)
    if query.archived:
        return everyone, params
    archived, more = _count_archived_sql(query)
    return f"SELECT max(({everyone}) - ({archived}), 0)", params + more


def _count_all_sql(query: ClientQuery, cap: int | None) -> tuple[str, list[Any]]:
    """The count, archived clients included."""
    limit = f" LIMIT {int(cap)}" if cap else ""
    if _fts(query.search) and query.status is None and query.group_id is None:
        # Count the index hits alone: no join to the client table needed.
        hits, params = _fts_hits(query.search)
        return f"SELECT count(*) FROM ({hits}{limit})", params
    clauses, params = _where(query, for_sort=False, archived=False)
    where = f"WHERE {' AND '.join(f'({c})' for c in clauses)}" if clauses else ""
    if cap:
        return f"SELECT count(*) FROM (SELECT 1 FROM client c {where}{limit})", params
    return f"SELECT count(*) FROM client c {where}", params


def _count_archived_sql(query: ClientQuery) -> tuple[str, list[Any]]:
    """How many archived clients match: read through ``client_archived``
    (every other test on the row, the search as ``instr``)."""
    clauses, params = _where(query, for_sort=True, scan=True, archived=False)
    where = " AND ".join(["c.archived = 1", *(f"({c})" for c in clauses)])
    return f"SELECT count(*) FROM client c WHERE {where}", params


def count(query: ClientQuery, cap: int | None = None) -> int:
    """How many clients match; at most ``cap`` when given."""
    sql, params = count_sql(query, cap)
    return database.obj.execute_sql(sql, params).fetchone()[0]


def total() -> int:
    return database.obj.execute_sql("SELECT count(*) FROM client").fetchone()[0]


def after_key(row: ClientRow) -> tuple[Any, int]:
    return (row.key, row.id)
