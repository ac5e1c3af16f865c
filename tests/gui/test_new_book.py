"""A new, empty book (the first-run dialog's): its daily run has missed
nothing, so the scheduler does not greet it with the catch-up question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from gui_helpers import wait_for

DAY = dt.date(2027, 3, 10)


@pytest.fixture
def book(db_path: Path) -> Iterator[Path]:
    """A book just made: no clients, no run."""
    from billdesk.models import close_database, init_db

    init_db(db_path)
    yield db_path
    close_database()


def test_a_new_book_runs_its_first_day_unasked(qtbot, ops):  # noqa: ANN001
    from billdesk.services import automation, clients
    from billdesk.views.scheduler import Scheduler

    assert automation.last_completed() is None and clients.count() == 0
    at = dt.datetime.combine(DAY, dt.time(9))
    scheduler = Scheduler(ops, lambda: at, interval_ms=20)
    asked, finished = [], []
    scheduler.catch_up_pending.connect(asked.append)
    scheduler.run_finished.connect(finished.append)
    scheduler.start()
    wait_for(qtbot, lambda: finished, timeout=15_000)
    assert asked == [] and finished[0].days == [DAY]
    scheduler.stop()
