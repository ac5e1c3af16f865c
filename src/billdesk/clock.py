"""The one clock every timestamp comes from.

``now()`` is the wall clock, unless a run has frozen it for its thread
(``frozen``: the daily run stamps what it writes with its own injected
clock, so a rerun writes the very same rows), or ``BILLDESK_NOW`` names a
fixed time (ISO 8601) — for reproducing a run from the command line."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Clock = Callable[[], dt.datetime]

_local = threading.local()


def system_now() -> dt.datetime:
    """The wall clock (or ``BILLDESK_NOW``), to the second."""
    fixed = os.environ.get("BILLDESK_NOW")
    if fixed:
        return dt.datetime.fromisoformat(fixed).replace(microsecond=0, tzinfo=None)
    return dt.datetime.now().replace(microsecond=0)


def now() -> dt.datetime:
    clock = getattr(_local, "clock", None)
    return (clock or system_now)().replace(microsecond=0)


def today() -> dt.date:
    return now().date()


@contextmanager
def frozen(clock: Clock | dt.datetime) -> Iterator[None]:
    """Within the block, on this thread, ``now()`` reads ``clock``."""
    if isinstance(clock, dt.datetime):
        value = clock

        def clock() -> dt.datetime:
            return value
    before = getattr(_local, "clock", None)
    _local.clock = clock
    try:
        yield
    finally:
        _local.clock = before
