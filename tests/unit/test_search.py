"""The client list (C2) through services/clientlist.py: search, filters,
sorting and keyset paging, checked against a brute-force filter in Python.

The brute force follows services/text.py and clientlist.py's documented
rules: the query is normalised with ``text.squash``; a blank query filters
nothing; a query with no letter or digit matches nothing; three or more
characters match any substring of one squashed field ("first last", "last
first", company, email, phone, id); one or two characters match the start
of a word (or of a whole squashed field)."""

from __future__ import annotations

import contextlib
import re
import shutil
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billdesk.models import CLIENT_STATUSES, DISPLAY_FORMATS, close_database, database, init_db
from billdesk.services import clientlist, clients, demo, groups, text
from billdesk.services import settings as book_settings
from billdesk.services.clientlist import NO_GROUP, SORTS, ClientQuery

# --------------------------------------------------------------------------- brute force


@dataclass(frozen=True)
class Row:
    id: int
    first: str
    last: str
    company: str
    email: str
    phone: str
    country: str
    group_id: int | None
    status: str
    created_at: str
    group_name: str


def load_rows(database: Any) -> list[Row]:
    cursor = database.execute_sql(
        "SELECT c.id, first_name, last_name, company, email, phone, country, group_id, status, "
        "created_at, ifnull(g.name, '') FROM client c LEFT JOIN client_group g ON g.id = c.group_id")
    return [Row(*r) for r in cursor.fetchall()]


def word_starts(field: str) -> set[str]:
    """Each word of a field (apostrophes join a word, other punctuation
    splits), and the whole field, squashed."""
    pieces = re.split(r"[^\w'\u2019\u02bc`\u00b4]+|_", text.fold(field))
    return {w for w in (text.squash(p) for p in pieces + [field]) if w}


@lru_cache(maxsize=None)
def _squashed_fields(row: Row) -> tuple[str, ...]:
    fields = (f"{row.first} {row.last}", f"{row.last} {row.first}", row.company, row.email,
              row.phone, str(row.id))
    return tuple(text.squash(f) for f in fields)


@lru_cache(maxsize=None)
def _word_starts(row: Row) -> frozenset[str]:
    starts: set[str] = set()
    for f in (row.first, row.last, row.company, row.email, row.phone, str(row.id)):
        starts |= word_starts(f)
    return frozenset(starts)


def matches(row: Row, search: str) -> bool:
    if not search.strip():
        return True
    exact = clientlist.exact_id(search)
    if exact is not None:  # "#12": that client alone
        return row.id == exact
    q = text.squash(search)
    if len(q) >= 5 and q.startswith("00") and q.isdigit() and search.lstrip().startswith("00"):
        q = q[2:]  # dialled the international way: "0044 20…" looks for "+44 20…"
    if not q:
        return False
    if len(q) >= 3:
        return any(q in f for f in _squashed_fields(row))
    return any(w.startswith(q) for w in _word_starts(row))


@lru_cache(maxsize=None)
def sort_value(row: Row, sort: str, fmt: str) -> Any:
    return {
        "id": lambda: row.id,
        "name": lambda: text.sort_key(clients.display_name(row.first, row.last, row.company, fmt)),
        "company": lambda: text.sort_key(row.company),
        "email": lambda: row.email.strip().casefold(),
        "phone": lambda: text.digits(row.phone),
        "country": lambda: row.country,
        "group": lambda: text.sort_key(row.group_name),  # by the group's name
        "status": lambda: row.status,
        "created": lambda: row.created_at,
    }[sort]()


def expected(rows: list[Row], query: ClientQuery, fmt: str = "first_last") -> list[int]:
    kept = [
        r for r in rows
        if matches(r, query.search)
        and (query.status is None or r.status == query.status)
        and (query.group_id is None
             or (r.group_id is None if query.group_id == NO_GROUP else r.group_id == query.group_id))
    ]
    kept.sort(key=lambda r: (sort_value(r, query.sort, fmt), r.id), reverse=query.descending)
    order = [r.id for r in kept]
    pin = clientlist.pinned_id(query.search)  # a client's id typed: that client first
    if pin in order:
        order.remove(pin)
        order.insert(0, pin)
    return order


def walk(query: ClientQuery, size: int, *, matches_hint: int | None = None) -> list[int]:
    """Every page of the query, following after_key from page to page."""
    ids: list[int] = []
    after = None
    for _ in range(100_000):
        rows = clientlist.page(query, after, limit=size, matches=matches_hint)
        assert len(rows) <= size
        ids += [r.id for r in rows]
        if len(rows) < size:
            break
        after = clientlist.after_key(rows[-1])
    assert len(ids) == len(set(ids)), "a row came back twice"
    return ids


# ``matches`` hints that make page() pick each plan (for sorts other than name)
SPARSE_HINT, DENSE_HINT = 0, 10**9


def ids(search: str, **kw: Any) -> set[int]:
    query = ClientQuery(search=search, **kw)
    found = {r.id for r in clientlist.page(query, limit=10_000)}
    assert clientlist.count(query) == len(found)
    return found


# --------------------------------------------------------------------------- a small hand-made book

PEOPLE = [
    # first, last, company, email, phone
    ("Zoë", "Ødegaard", "Fjord Hosting", "zoe@fjord.example", "+47 22 33 44 55"),
    ("Zoe", "Smith", "", "john.smith@example.com", "+44 20 7946 0958"),
    ("Seán", "O'Brien", "Brightwater Ltd", "sean@bright.example", "(01) 555-0199"),
    ("Anna", "Berg", "Zephyr & Co.", "anna@zephyr.example", ""),
    ("Björn", "Åberg", "", "bjorn@mail.example", "+46 8 123 456"),
    ("Chloé", "D'Angelo", "Crème Café", "chloe@creme.example", "+33 1 23 45 67 89"),
    ("Mei", "Chen", "Pixel Studio", "mei.chen@pixel.example", "+81 3 1234 5678"),
    ("Liam", "McDonald", "Orchid Design", "liam@orchid.example", "+1 212 555 0100"),
    ("Paweł", "Wiśniewski", "Straße GmbH", "pawel@strasse.example", "+48 22 987 6543"),
    ("Íñigo", "Núñez", "", "inigo@nunez.example", "+34 91 000 1111"),
    ("Olivia", "Brown", "Kettle Bakery", "olivia@kettle.example", "+44 117 496 0123"),
    ("Noah", "Taylor", "", "noah.taylor@post.example", "+61 2 9999 0000"),
]


PEOPLE_IDS = {last: number for number, (_, last, *_) in enumerate(PEOPLE, start=1)}


@pytest.fixture(scope="module")
def people_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("people") / "people.sqlite3"
    init_db(path)
    try:
        for first, last, company, email, phone in PEOPLE:
            new_id = clients.add_client({"first_name": first, "last_name": last, "company": company,
                                         "email": email, "phone": phone})
            assert new_id == PEOPLE_IDS[last]
    finally:
        close_database()
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def people(people_file: Path, db_path: Path) -> Iterator[dict[str, int]]:
    """A copy of the book above, open; maps each last name to the client id."""
    shutil.copy(people_file, db_path)
    init_db(db_path)
    try:
        yield PEOPLE_IDS
    finally:
        close_database()


def test_search_ignores_case(people):
    for q in ("smith", "SMITH", "sMiTh", "Smith"):
        assert ids(q) == {people["Smith"]}


@pytest.mark.parametrize("q", ["zoe", "ZOE", "Zoë", "ZOË", "zoë", "zOë"])
def test_search_ignores_accents_both_ways(people, q):
    assert ids(q) == {people["Ødegaard"], people["Smith"]}


def test_search_folds_letters_without_decomposition(people):
    assert ids("odegaard") == {people["Ødegaard"]}
    assert ids("ØDEGAARD") == {people["Ødegaard"]}
    assert ids("strasse") == {people["Wiśniewski"]}
    assert ids("wisniewski") == {people["Wiśniewski"]}
    assert ids("pawel") == {people["Wiśniewski"]}
    assert ids("nunez") == {people["Núñez"]}


@pytest.mark.parametrize("q", ["o'br", "obr", "O’Br", "OBRIEN", "O'Brien", "bri", "ob"])
def test_search_ignores_apostrophes(people, q):
    assert ids(q) == {people["O'Brien"]}


@pytest.mark.parametrize("q", ["2079", "20 79", "+44 20 7946", "7946-0958", "(20) 7946", "0958",
                               "442079460958"])
def test_search_ignores_phone_punctuation(people, q):
    assert ids(q) == {people["Smith"]}


@pytest.mark.parametrize("q", ["0044 20 7946", "00442079460958", "0044 20 7946 0958"])
def test_a_phone_number_dialled_with_00_finds_the_one_written_with_a_plus(people, q):
    assert ids(q) == {people["Smith"]}


def test_search_by_email_fragment(people):
    assert ids("smith@exa") == {people["Smith"]}
    assert ids("john.smith@example.com") == {people["Smith"]}
    assert ids("JOHN.SMITH@EXAMPLE") == {people["Smith"]}
    assert ids("smith@example.org") == set()


def test_search_by_company_and_full_name(people):
    assert ids("crème café") == {people["D'Angelo"]}
    assert ids("CREMECAFE") == {people["D'Angelo"]}
    assert ids("zoe smith") == {people["Smith"]}
    assert ids("smith zoe") == {people["Smith"]}
    assert ids("mcdon") == {people["McDonald"]}


@pytest.mark.parametrize("q", ["'; DROP TABLE client; --", '" OR 1=1', "' OR '1'='1",
                               "zoe\" OR \"1", "smith*", "NEAR(zoe smith)", "search_text:zoe",
                               "zoe AND smith", "zoe OR smith", "^zo", "a\\", "\x00"])
def test_sql_and_fts_syntax_finds_only_what_the_text_says(people, q):
    before = clientlist.total()
    found = ids(q)
    assert found == set(expected(load_rows(database), ClientQuery(search=q)))
    assert clientlist.total() == before == len(PEOPLE)
    assert database.execute_sql("SELECT count(*) FROM client_fts").fetchone()[0] == len(PEOPLE)


def test_sql_looking_text_finds_nothing(people):
    for q in ("'; DROP TABLE client; --", '" OR 1=1'):
        assert ids(q) == set()
        for sort in SORTS:
            assert walk(ClientQuery(search=q, sort=sort), 3) == []
    assert clientlist.total() == len(PEOPLE)


@pytest.mark.parametrize("q", ["%", "_", "%%", "__", "%_%", "'", "-", "*", '"', "@", ".", "+ ()"])
def test_punctuation_alone_matches_nothing(people, q):
    assert clientlist.total() == len(PEOPLE)
    assert ids(q) == set()
    for sort in SORTS:
        assert clientlist.page(ClientQuery(search=q, sort=sort)) == []


def test_blank_search_filters_nothing(people):
    assert ids("   ") == set(people.values())
    assert ids("") == set(people.values())


def test_short_queries_use_the_word_prefix_index(people):
    for q in ("z", "zo", "Z", "ZÖ", "o'", "4"):
        sql, _ = clientlist.page_sql(ClientQuery(search=q))
        assert "client_words" in sql and "client_fts" not in sql
        count_sql, _ = clientlist.count_sql(ClientQuery(search=q))
        assert "client_words" in count_sql
    for q in ("zoe", "o'br", "2079"):
        sql, _ = clientlist.page_sql(ClientQuery(search=q))
        assert "client_fts" in sql and "client_words" not in sql


def test_short_queries_find_word_starts_only(people):
    # "z": Zoë, Zoe, and the company Zephyr & Co. (a word start)
    assert ids("z") == {people["Ødegaard"], people["Smith"], people["Berg"]}
    assert ids("zo") == {people["Ødegaard"], people["Smith"]}
    assert ids("ZÖ") == {people["Ødegaard"], people["Smith"]}
    assert ids("ob") == {people["O'Brien"]}  # O'Brien is one word
    assert ids("br") == {people["O'Brien"], people["Brown"]}  # Brightwater, Brown
    assert ids("oe") == set()  # inside Zoë / Chloé, not at a word start
    assert ids("ie") == set()
    assert ids("ri") == set()  # inside O'Brien
    # three characters switch to substrings
    assert ids("rie") == {people["O'Brien"]}
    assert ids("ber") == {people["Berg"], people["Åberg"]}


def test_search_by_id(people):
    rows = load_rows(database)
    smith = people["Smith"]
    assert smith in ids(str(smith))
    # a one-digit id prefix is a word start of the id
    one = ids("1")
    assert {1, 10, 11, 12} <= one
    assert one == set(expected(rows, ClientQuery(search="1")))
    assert 2 not in one and 3 not in one
    assert ids("12") == set(expected(rows, ClientQuery(search="12")))
    assert 12 in ids("12")


@pytest.mark.parametrize("typed", ["12", " 12 "])
def test_a_clients_id_comes_first_in_every_sort(people, typed):
    """12 typed is client #12 first, then the others holding "12" in their
    order, page after page, each once."""
    rows = load_rows(database)
    others = set(expected(rows, ClientQuery(search="12"))) - {12}
    assert others  # (phones and ids with 12 in them)
    for sort in SORTS:
        for descending in (False, True):
            query = ClientQuery(search=typed, sort=sort, descending=descending)
            for size in (1, 2, 5, 200):
                for hint in (None, SPARSE_HINT, DENSE_HINT):
                    found = walk(query, size, matches_hint=hint)
                    assert found[0] == 12 and set(found[1:]) == others, (sort, size, hint)
                    assert found == expected(rows, query)
            assert clientlist.count(query) == len(others) + 1


def test_a_pinned_id_keeps_to_the_filters(people):
    clients.update_client(12, {"status": "Inactive"})
    assert 12 not in [r.id for r in clientlist.page(ClientQuery(search="12", status="Active"))]
    assert [r.id for r in clientlist.page(ClientQuery(search="12", status="Inactive"))] == [12]
    assert [r.id for r in clientlist.page(ClientQuery(search="12"))][0] == 12
    # not an id: a leading zero, more than digits, or a number no client has
    assert clientlist.pinned_id("012") is None and clientlist.pinned_id("12a") is None
    assert clientlist.pinned_id("１２") is None  # (full-width digits)
    assert walk(ClientQuery(search="9999"), 3) == expected(load_rows(database),
                                                          ClientQuery(search="9999"))


@pytest.mark.parametrize("typed", ["#12", " # 12 ", "#012"])
def test_a_hash_and_an_id_is_that_client_alone(people, typed):
    for sort in SORTS:
        query = ClientQuery(search=typed, sort=sort)
        assert walk(query, 1) == [12] and clientlist.count(query) == 1
    assert clientlist.page(ClientQuery(search="#12", status="Closed")) == []
    assert clientlist.page(ClientQuery(search="#999")) == []
    assert clientlist.count(ClientQuery(search="#999")) == 0
    assert clientlist.exact_id("#12a") is None and clientlist.exact_id("12") is None


def test_an_archived_client_named_by_id_is_told_apart(people):
    from billdesk.services import lifecycle

    lifecycle.archive_client(12)
    assert clientlist.archived_id(ClientQuery(search="#12")) == 12
    assert clientlist.archived_id(ClientQuery(search="12")) == 12
    assert clientlist.archived_id(ClientQuery(search="12", archived=True)) is None
    assert clientlist.archived_id(ClientQuery(search="11")) is None
    assert clientlist.page(ClientQuery(search="#12")) == []
    assert [r.id for r in clientlist.page(ClientQuery(search="#12", archived=True))] == [12]


def test_search_follows_edits(people):
    sean = people["O'Brien"]
    clients.update_client(sean, {"last_name": "Ó Súilleabháin", "phone": "+353 21 555 0000"})
    assert ids("obrien") == set()
    assert ids("suilleabhain") == {sean}
    assert ids("su") == {sean}
    assert ids("353") == {sean}
    assert ids("0199") == set()


def test_status_and_group_filters(people):
    gold = groups.add_group("Gold")
    silver = groups.add_group("Silver")
    clients.update_client(people["Smith"], {"group_id": gold, "status": "Inactive"})
    clients.update_client(people["Ødegaard"], {"group_id": silver})
    clients.update_client(people["Brown"], {"group_id": gold, "status": "Closed"})
    rows = load_rows(database)
    assert ids("", group_id=gold) == {people["Smith"], people["Brown"]}
    assert ids("zoe", group_id=gold) == {people["Smith"]}
    assert ids("zoe", group_id=NO_GROUP) == set()
    assert ids("", group_id=NO_GROUP) == set(people.values()) - {people["Smith"], people["Brown"],
                                                                   people["Ødegaard"]}
    assert ids("", status="Inactive") == {people["Smith"]}
    assert ids("", status="Closed", group_id=gold) == {people["Brown"]}
    assert ids("zo", status="Active") == {people["Ødegaard"]}
    for status in (None, *CLIENT_STATUSES):
        for group_id in (None, gold, silver, NO_GROUP, 999):
            for q in ("", "o", "zo", "example", "44"):
                query = ClientQuery(search=q, status=status, group_id=group_id)
                want = expected(rows, query)
                assert ids(q, status=status, group_id=group_id) == set(want)
                assert walk(query.with_(sort="name"), 2) == expected(rows, query.with_(sort="name"))


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_pages_in_python_order(people, sort, descending):
    gold = groups.add_group("Gold")
    clients.update_client(people["Chen"], {"group_id": gold, "country": "JP", "status": "Closed"})
    clients.update_client(people["Berg"], {"country": "SE", "status": "Inactive"})
    rows = load_rows(database)
    for q in ("", "e", "ex", "example"):
        query = ClientQuery(search=q, sort=sort, descending=descending)
        want = expected(rows, query)
        for size in (1, 2, 5, 100):
            assert walk(query, size) == want


# --------------------------------------------------------------------------- a demo book: both plans

TODAY = datetime(2025, 6, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLDESK_HOME", str(path.parent / "home"))
        init_db(path)
        try:
            demo.create_demo(1500, seed=11, today=TODAY)
        finally:
            close_database()
    return path


@pytest.fixture
def demo_rows(demo_file: Path) -> Iterator[list[Row]]:
    database = init_db(demo_file)
    try:
        yield load_rows(database)
    finally:
        close_database()


# (search, other filters, the plan the real thresholds pick)
PLANS = [
    ("zoe", {}, False),
    ("ob", {}, False),
    ("123", {}, False),
    ("o'brien", {"status": "Active"}, False),
    ("example", {}, True),
    ("e", {}, True),
    ("44", {}, True),
    ("mail", {"status": "Active"}, True),
    ("a", {"group_id": NO_GROUP}, True),
]


@pytest.mark.parametrize(("search", "filters", "dense"), PLANS)
def test_dense_and_sparse_plans_return_every_match_once_in_order(demo_rows, search, filters, dense):
    total = clientlist.total()
    assert total == len(demo_rows) == 1500
    base = ClientQuery(search=search, **filters)
    n = clientlist.count(base)
    want_all = expected(demo_rows, base)
    assert n == len(want_all) > 0
    # the name sort always reads the FTS hits in name order; the others choose
    assert clientlist.use_scan(base.with_(sort="name"), n, total) is False
    assert clientlist.use_scan(base.with_(sort="email"), n, total) is dense, \
        "the book no longer exercises this plan"
    assert (clientlist.count(base, cap=clientlist.dense_cap(total)) == clientlist.dense_cap(total)) is dense
    size = max(2, n // 6)  # about six pages
    for sort in SORTS:
        for descending in (False, True):
            query = base.with_(sort=sort, descending=descending)
            want = expected(demo_rows, query)
            assert walk(query, size) == want  # page() counts and picks the plan itself
            assert walk(query, size, matches_hint=n) == want
            # the other plan gives the very same pages
            other = SPARSE_HINT if dense else DENSE_HINT
            assert clientlist.use_scan(query, other, total) is (not dense and sort != "name")
            assert walk(query, size, matches_hint=other) == want


def test_plans_differ_in_sql(demo_rows):
    query = ClientQuery(search="example", sort="email")
    dense_sql, _ = clientlist.page_sql(query, scan=True)
    sparse_sql, _ = clientlist.page_sql(query, scan=False)
    assert "instr(" in dense_sql and "MATCH" not in dense_sql
    assert "MATCH" in sparse_sql and "instr(" not in sparse_sql
    short_dense, _ = clientlist.page_sql(query.with_(search="ex"), scan=True)
    assert "instr(" in short_dense and "search_words" in short_dense
    # in name order the hits are read from the index in its (name_rank) order
    for scan in (False, True):
        by_name, _ = clientlist.page_sql(query.with_(sort="name"), scan=scan)
        assert "MATCH" in by_name and "ORDER BY f.rowid" in by_name


def test_count_with_a_cap(demo_rows):
    query = ClientQuery(search="example")
    n = clientlist.count(query)
    assert n > 100
    assert clientlist.count(query, cap=100) == 100
    assert clientlist.count(query, cap=n + 5) == n
    filtered = query.with_(status="Active")
    assert clientlist.count(filtered, cap=10) == 10
    assert clientlist.count(ClientQuery(status="Closed"), cap=10**6) == \
        sum(r.status == "Closed" for r in demo_rows)


@pytest.mark.parametrize("sort", list(SORTS))
def test_whole_book_sorted_in_both_directions(demo_rows, sort):
    for descending in (False, True):
        query = ClientQuery(sort=sort, descending=descending)
        assert walk(query, 250) == expected(demo_rows, query)


def test_demo_book_filters_and_search_by_id(demo_rows):
    by_id = {r.id: r for r in demo_rows}
    assert 123 in {r.id for r in clientlist.page(ClientQuery(search="123"), limit=1000)}
    assert 7 in {r.id for r in clientlist.page(ClientQuery(search="7", sort="id"), limit=2000)}
    for group in groups.list_groups():
        query = ClientQuery(group_id=group.id, sort="id")
        assert [r.id for r in clientlist.page(query, limit=2000)] == expected(demo_rows, query)
        assert all(by_id[i].group_id == group.id for i in expected(demo_rows, query))
    for status in CLIENT_STATUSES:
        query = ClientQuery(status=status, sort="created", descending=True)
        assert walk(query, 97) == expected(demo_rows, query)
        assert clientlist.count(query) == sum(r.status == status for r in demo_rows)
    query = ClientQuery(group_id=NO_GROUP, search="zo")
    assert walk(query, 2) == expected(demo_rows, query)


# --------------------------------------------------------------------------- name order

def name_order_is_consistent(fmt: str = "first_last") -> list[int]:
    rows = load_rows(database)
    want = expected(rows, ClientQuery(sort="name"), fmt)
    assert walk(ClientQuery(sort="name"), 7) == want
    assert walk(ClientQuery(sort="name", descending=True), 5) == want[::-1]
    for q in ("amy", "am", "bob", "zed", "a", "example"):
        query = ClientQuery(search=q, sort="name")
        assert walk(query, 4) == expected(rows, query, fmt), q
        assert clientlist.count(query) == len(expected(rows, query, fmt))
    return want


def spy_on_rerank(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each time every client is ranked anew."""
    calls: list[int] = []
    real = clients.rerank_all

    def rerank_all() -> None:
        calls.append(clients.count())
        real()

    monkeypatch.setattr(clients, "rerank_all", rerank_all)
    return calls


def add(first: str, last: str, n: int) -> int:
    return clients.add_client({"first_name": first, "last_name": last,
                               "email": f"{first}.{last}.{n}@example.com".lower()})


def test_name_order_survives_running_out_of_gaps_on_add(db, monkeypatch):
    reranks = spy_on_rerank(monkeypatch)
    add("Bob", "Stone", 0)
    add("Zed", "Stone", 1)
    # each new Amy sorts after the Amys before it (higher id) and before Bob:
    # the gap below Bob halves every time until every client is ranked anew
    for n in range(2, 50):
        add("Amy", "Stone", n)
        if n % 8 == 0:
            name_order_is_consistent()
    assert reranks
    order = name_order_is_consistent()
    assert order[:48] == list(range(3, 51)) and order[48:] == [1, 2]
    ranks = [r[0] for r in db.execute_sql("SELECT name_rank FROM client ORDER BY name_rank")]
    assert len(set(ranks)) == 50


def test_name_order_survives_running_out_of_gaps_on_rename(db, monkeypatch):
    for n in range(12):
        add("Cat", "Moss", n)
    low, high = add("Amy", "Moss", 90), add("Bob", "Moss", 91)
    reranks = spy_on_rerank(monkeypatch)
    # rename the Cats one by one to sort just above Amy: each lands between
    # Amy and the one renamed before it, halving the gap every time
    for k in range(40):
        cat = 1 + k % 12
        name = f"Amy{chr(0x7a - k // 26)}{chr(0x7a - k % 26)}"  # "Amyzz", "Amyzy", … falling
        clients.update_client(cat, {"first_name": name})
        if k % 10 == 9:
            order = name_order_is_consistent()
            assert order[0] == low
    order = name_order_is_consistent()
    assert order[0] == low and high in order
    assert reranks


def test_display_format_change_reorders_search_hits(db):
    add("Amy", "Zed", 0)
    clients.update_client(1, {"company": "Zulu"})
    add("Zoe", "Amber", 1)
    clients.update_client(2, {"company": "Alpha"})
    assert walk(ClientQuery(search="z", sort="name"), 1) == [1, 2]
    book_settings.set_display_format("company_or_name")
    assert walk(ClientQuery(search="z", sort="name"), 1) == [2, 1]
    assert walk(ClientQuery(search="z", sort="name", descending=True), 1) == [1, 2]
    name_order_is_consistent("company_or_name")


# --------------------------------------------------------------------------- random books

ALPHABET = string.ascii_letters + "éëèÉËöÖøØüÜßłŁñÑçÇåÅæÆœıİ'’-. "
QUERY_ALPHABET = ALPHABET + string.digits + "%_\"*:()@+"

names = st.text(ALPHABET, min_size=1, max_size=10).filter(lambda s: s.strip())
phones = st.one_of(
    st.sampled_from(["", "+44 20 7946 0958", "(030) 1234-567", "+1 212 555 0100", "0049 89 12 34"]),
    st.text("0123456789 +-", max_size=14).map(lambda p: p if sum(c.isdigit() for c in p) >= 3 else ""),
)
client_values = st.fixed_dictionaries({
    "first_name": names,
    "last_name": names,
    "company": st.one_of(st.just(""), names),
    "phone": phones,
    "local": st.from_regex(r"[a-z]{1,5}(\.[a-z]{1,5})?", fullmatch=True),
    "domain": st.sampled_from(["example.com", "mail.example", "exa.co.uk"]),
    "status": st.sampled_from(CLIENT_STATUSES),
    "country": st.sampled_from(["", "GB", "DE", "FR", "US"]),
    "group": st.sampled_from([None, 0, 1]),
})


@contextlib.contextmanager
def fresh_book() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as folder:
        database = init_db(Path(folder) / "book.sqlite3")
        try:
            yield database
        finally:
            close_database()


def draw_query(data: st.DataObject, rows: list[Row]) -> str:
    if data.draw(st.booleans()):
        row = data.draw(st.sampled_from(rows))
        field = data.draw(st.sampled_from([row.first, row.last, row.company, row.email, row.phone,
                                           str(row.id), f"{row.first} {row.last}"]))
        start = data.draw(st.integers(0, len(field)))
        end = data.draw(st.integers(start, min(len(field), start + 6)))
        piece = field[start:end]
        return data.draw(st.sampled_from([piece, piece.upper(), piece.lower()]))
    return data.draw(st.text(QUERY_ALPHABET, min_size=1, max_size=5))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(book=st.lists(client_values, min_size=1, max_size=10), data=st.data())
def test_paged_search_equals_brute_force(book, data):
    with fresh_book() as database:
        group_ids = [groups.add_group("Gold"), groups.add_group("Silver")]
        for i, v in enumerate(book):
            clients.add_client({
                "first_name": v["first_name"], "last_name": v["last_name"], "company": v["company"],
                "email": f"{v['local']}{i}@{v['domain']}", "phone": v["phone"],
                "status": v["status"], "country": v["country"],
                "group_id": None if v["group"] is None else group_ids[v["group"]],
            })
        fmt = data.draw(st.sampled_from(DISPLAY_FORMATS))
        book_settings.set_display_format(fmt)
        # renames move clients in name order
        for _ in range(data.draw(st.integers(0, 3))):
            clients.update_client(data.draw(st.integers(1, len(book))), {
                "first_name": data.draw(names), "company": data.draw(st.one_of(st.just(""), names))})
        rows = load_rows(database)
        assert len(rows) == len(book)
        by_name = ClientQuery(sort="name")
        assert walk(by_name, 3) == expected(rows, by_name, fmt)
        for _ in range(3):
            q = draw_query(data, rows)
            query = ClientQuery(
                search=q,
                sort=data.draw(st.sampled_from(list(SORTS))),
                descending=data.draw(st.booleans()),
                status=data.draw(st.sampled_from([None, None, *CLIENT_STATUSES])),
                group_id=data.draw(st.sampled_from([None, None, NO_GROUP, *group_ids])),
            )
            want = expected(rows, query, fmt)
            assert clientlist.count(query) == len(want)
            size = data.draw(st.integers(1, 4))
            assert walk(query, size) == want, q
            for hint in (SPARSE_HINT, DENSE_HINT):
                assert walk(query, size, matches_hint=hint) == want, (q, hint)
