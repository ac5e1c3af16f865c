"""The window's mail delivery (E3): the outbox in batches, in three parts
(``outbox.take``, ``send``, ``record``), so that a mail server slow to
answer, or silent until the timeout, never holds the database worker —
every save in the window waits at most for a batch to be claimed or
marked, not for the server. Used by the scheduler's courier and by Send
now / Resend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from billdesk.services import outbox
from billdesk.views.ops import Changes, Operations

BATCH = outbox.CLAIM_BATCH  # messages claimed, sent and marked at a time


def deliver(ops: Operations, *, now: dt.datetime | None = None, limit: int | None = None,
            retry_now: bool = False, on_done: Callable[[outbox.DeliveryResult], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
    """Send what is due, at most ``limit`` messages (None: until nothing
    is due), ``BATCH`` at a time; ``on_done`` gets the batches' result
    summed (``waiting`` and ``reason`` as the last one left them)."""
    total = outbox.DeliveryResult()

    def finish(result: outbox.DeliveryResult) -> None:
        summed = dataclasses.replace(
            result, sent=total.sent + result.sent, failed=total.failed + result.failed,
            deferred=total.deferred + result.deferred)
        if on_done is not None:
            on_done(summed)

    def next_batch(left: int | None, first: bool) -> None:
        size = BATCH if left is None else min(BATCH, left)
        ops.run(lambda: outbox.take(now=now, limit=size, retry_now=retry_now and first),
                changes=Changes(emails=True),
                on_done=lambda taken: taken_(taken, left, size), on_error=on_error)

    def taken_(taken: Any, left: int | None, size: int) -> None:
        if isinstance(taken, outbox.DeliveryResult):  # nothing (more) to send
            finish(taken)
            return
        full = len(taken) + taken.failed >= size  # (a full batch: more may be due)
        ops.run_apart(lambda: outbox.send(taken, stop=ops.stopping),
                      on_done=lambda outcomes: sent_(taken, outcomes, left, full),
                      on_error=lambda exc: sent_(taken, [], left, full, exc))

    def sent_(taken: outbox.Outgoing, outcomes: list[outbox.Outcome], left: int | None,
              full: bool, exc: BaseException | None = None) -> None:
        # (no outcomes: send never ran, and record puts the batch back)
        ops.run(lambda: outbox.record(taken, outcomes), changes=Changes(emails=True),
                on_done=lambda result: recorded(result, left, full, exc), on_error=on_error)

    def recorded(result: outbox.DeliveryResult, left: int | None, full: bool,
                 exc: BaseException | None) -> None:
        nonlocal total
        if exc is not None:
            if on_error is not None:
                on_error(exc)
            return
        left = None if left is None else left - BATCH
        if (result.reason or not full or (left is not None and left <= 0)
                or ops.stopping.is_set()):
            finish(result)
            return
        total = dataclasses.replace(total, sent=total.sent + result.sent,
                                    failed=total.failed + result.failed,
                                    deferred=total.deferred + result.deferred)
        next_batch(left, False)

    next_batch(limit, True)
