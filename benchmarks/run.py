"""billdesk benchmarks (make bench): each figure beside its target and
beside raw SQLite doing the same work, as a ratio.

On a generated book of 100,000 clients (built once, kept in
benchmarks/.cache/):
  - process start → main window painted with the list
  - search query time, median and p99 over many different strings, beside
    Python's sqlite3 module running the same SQL on the same file
  - keystroke → repainted list, median
the billing figures of benchmarks/billing.py on their own book, and
generating due invoices for 10,000 clients (benchmarks/schedule.py) and
the whole daily automation run on that book (benchmarks/automation.py).
BENCH_ONLY=clients, billing, schedule or automation runs one part.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CACHE = HERE / ".cache"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100000"))
BIN = Path(sys.executable).parent

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BILLDESK_HOME", tempfile.mkdtemp(prefix="billdesk-bench-"))

RESULTS: list[tuple[str, str, str, str, str]] = []


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def report(name: str, value: float, target: float | None, raw: float | None) -> None:
    ok = "" if target is None else ("PASS" if value < target else "FAIL")
    RESULTS.append((name, ms(value), f"< {ms(target)}" if target else "—",
                    f"{ms(raw)} ({value / raw:.2f}x)" if raw else "—", ok))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def book() -> Path:
    from billdesk.models.migrations import MAJOR, MIGRATIONS

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"book-{CLIENTS}-v{MAJOR}.{len(MIGRATIONS)}.sqlite3"
    if not path.exists():
        print(f"building a book of {CLIENTS:,} clients in {path} …", flush=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        for leftover in CACHE.glob(tmp.name + "*"):
            leftover.unlink()
        subprocess.run([str(BIN / "billdesk"), "demo", "--clients", str(CLIENTS), "--db", str(tmp)],
                       check=True, stdout=subprocess.DEVNULL)
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        tmp.rename(path)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def bench_startup(path: Path) -> None:
    runs = []
    for _ in range(5):
        started = time.time()
        out = subprocess.run([str(BIN / "billdesk"), "--smoke-test", "--db", str(path)],
                             check=True, capture_output=True, text=True).stdout
        painted = float(out.rsplit("painted at ", 1)[1].split(")")[0])
        runs.append(painted - started)
    raw_runs = []
    code = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM client').fetchone(); "
            "c.execute('SELECT id, first_name, last_name, company, email FROM client "
            "ORDER BY sort_name, id LIMIT 200').fetchall()")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
        raw_runs.append(time.perf_counter() - started)
    report("start → main window painted (median of 5)", statistics.median(runs), 0.6,
           statistics.median(raw_runs))


def sample_queries(path: Path, n: int, rng: random.Random) -> list[str]:
    con = sqlite3.connect(path)
    rows = con.execute("SELECT first_name, last_name, company, email, phone FROM client "
                       "ORDER BY random() LIMIT ?", (n,)).fetchall()
    con.close()
    queries = []
    for first, last, company, email, phone in rows:
        kind = rng.choice(["first", "last", "name", "company", "email", "phone"])
        if kind == "first":
            text = first
        elif kind == "last":
            text = last
        elif kind == "name":
            text = f"{first} {last[:rng.randint(1, len(last))]}"
        elif kind == "company":
            text = company or last
        elif kind == "email":
            text = email.split("@")[0]
        else:
            text = phone.split(" ", 1)[1]
        length = rng.randint(3, max(3, min(10, len(text))))
        start = rng.randint(0, max(0, len(text) - length))
        queries.append(text[start:start + length])
    return queries


def _timed(fn, items) -> list[float]:  # noqa: ANN001
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - started)
    return times


def bench_search(path: Path) -> None:
    from billdesk.models import close_database, init_db
    from billdesk.services import clientlist
    from billdesk.views.models.client_table import ClientTableModel

    rng = random.Random(7)
    queries = [q for q in sample_queries(path, 600, rng) if len(clientlist.text.squash(q)) >= 3]
    init_db(path)
    raw = sqlite3.connect(path)
    total = clientlist.total()
    cap = clientlist.dense_cap(total)
    ours, theirs = [], []
    first = ClientTableModel.FIRST_PAGE
    for q in queries * 2:  # second round: warm caches for both
        # What a keystroke runs: the first page of matches in name order.
        query = clientlist.ClientQuery(search=q)
        started = time.perf_counter()
        clientlist.page(query, limit=first)
        ours.append(time.perf_counter() - started)
        page_sql, page_params = clientlist.page_sql(query, limit=first)
        started = time.perf_counter()
        raw.execute(page_sql, page_params).fetchall()
        theirs.append(time.perf_counter() - started)
    ours, theirs = ours[len(queries):], theirs[len(queries):]
    report(f"search query, median ({len(queries)} strings)", statistics.median(ours), None,
           statistics.median(theirs))
    report("search query, p99", percentile(ours, 99), 0.002, percentile(theirs, 99))
    ratio = percentile(ours, 99) / percentile(theirs, 99)
    RESULTS.append(("search p99 vs raw sqlite3", f"{ratio:.2f}x", "< 2.00x", "—",
                    "PASS" if ratio < 2 else "FAIL"))
    short = ["a", "z", "o", "7", "an", "jo", "mu", "44", "zo", "12"]
    times = []
    for q in short * 3:
        query = clientlist.ClientQuery(search=q)
        started = time.perf_counter()
        clientlist.page(query, limit=first)
        times.append(time.perf_counter() - started)
    report("search 1–2 characters (word prefix), median", statistics.median(times), None, None)
    counts = []
    for q in queries[:200]:
        started = time.perf_counter()
        clientlist.count(clientlist.ClientQuery(search=q))
        counts.append(time.perf_counter() - started)
    report("exact match count (after the paint), median", statistics.median(counts), None, None)
    report("search sorted by email (capped count + page), median",
           statistics.median(_timed(lambda q: clientlist.page(
               clientlist.ClientQuery(search=q, sort="email"), limit=first,
               matches=clientlist.count(clientlist.ClientQuery(search=q, sort="email"), cap=cap)),
               queries[:200])), None, None)
    raw.close()
    close_database()


def bench_keystroke(path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from billdesk.models import close_database, init_db
    from billdesk.views.main_window import MainWindow
    from billdesk.views.ops import Operations

    app = QApplication.instance() or QApplication([])
    init_db(path)
    ops = Operations()
    window = MainWindow(ops, path)
    window.show()
    app.processEvents()
    rng = random.Random(11)
    words = [q.lower() for q in sample_queries(path, 60, rng) if q.isascii() and q.strip()]
    times = []
    for word in words:
        window.search.clear()
        app.processEvents()
        for char in word:
            started = time.perf_counter()
            QTest.keyClick(window.search, char)
            window.table.viewport().repaint()
            times.append(time.perf_counter() - started)
            app.processEvents()  # the deferred exact count, as in real use
    QTest.keyClick(window.search, Qt.Key.Key_Escape)
    report(f"keystroke → repainted list, median ({len(times)} keys)", statistics.median(times),
           0.016, None)
    report("keystroke → repainted list, p90", percentile(times, 90), None, None)
    window.close()
    ops.shutdown()
    close_database()


def cached_book(name: str, what: str, build) -> Path:  # noqa: ANN001
    """A book built once by ``build(path)`` and kept in benchmarks/.cache/
    (its name carries the schema version, so a new migration rebuilds it)."""
    from billdesk.models.migrations import MAJOR, MIGRATIONS

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}-v{MAJOR}.{len(MIGRATIONS)}.sqlite3"
    if not path.exists():
        print(f"building {what} in {path} …", flush=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        for leftover in CACHE.glob(tmp.name + "*"):
            leftover.unlink()
        build(tmp)
        tmp.rename(path)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def main() -> int:
    only = os.environ.get("BENCH_ONLY", "")
    if only in ("", "clients"):
        path = book()
        bench_startup(path)
        bench_search(path)
        bench_keystroke(path)
    if only in ("", "billing"):
        import billing

        billing.run(cached_book(f"billing-{billing.BIG}", "the billing book", billing.build), report)
    if only in ("", "schedule"):
        import schedule

        schedule.run(cached_book(f"schedule-{schedule.CLIENTS}", "the scheduled-billing book",
                                 schedule.build), report)
    if only in ("", "automation"):
        import automation

        automation.run(cached_book(f"automation-{automation.CLIENTS}", "the automation book",
                                   automation.build), report)
    widths = [max(len(r[i]) for r in RESULTS + [("figure", "value", "target", "raw sqlite3 (ratio)", "")])
              for i in range(5)]
    header = ("figure", "value", "target", "raw sqlite3 (ratio)", "")
    print()
    for row in [header] + RESULTS:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    failed = [r for r in RESULTS if r[4] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
