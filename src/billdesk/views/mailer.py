"""The window's mail delivery (E3): the outbox in batches, in three parts
(``outbox.take``, ``send``, ``record``), so that a mail server slow to
answer, or silent until the timeout, never holds the database worker —
every save in the window waits at most for a batch to be claimed or
marked, not for the server. Used by the scheduler's courier and by Send
now / Resend.

One delivery at a time per window: a second asked for while one is going
(the courier's minute while Send now works through the outbox) waits for
it, then runs — rather than meeting the outbox's lock and being told the
outbox is busy. Each ends by calling ``on_done`` or ``on_error``, then the
next starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from billdesk.services import outbox
from billdesk.views.ops import Changes, Operations

log = logging.getLogger("billdesk.views.mailer")

BATCH = outbox.CLAIM_BATCH  # messages claimed, sent and marked at a time

_queues: weakref.WeakKeyDictionary[Operations, list[_Delivery]] = weakref.WeakKeyDictionary()


def deliver(ops: Operations, *, now: dt.datetime | None = None, limit: int | None = None,
            retry_now: bool = False, on_done: Callable[[outbox.DeliveryResult], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
    """Send what is due, at most ``limit`` messages (None: until nothing
    is due), ``BATCH`` at a time; ``on_done`` gets the batches' result
    summed (``waiting`` and ``reason`` as the last one left them)."""
    queue = _queues.setdefault(ops, [])
    queue.append(_Delivery(ops, now, limit, retry_now, on_done, on_error))
    if len(queue) == 1:
        queue[0].start()


def busy(ops: Operations) -> bool:
    """Whether a delivery is going (or waiting its turn) for this window."""
    return bool(_queues.get(ops))


class _Marker(QObject):
    """Marks a batch's messages as the server takes them, a moment apart
    (``outbox.record(final=False)``, on the worker): a message that went is
    'Sent' within a moment, not when the batch ends — so a crash or a kill
    meanwhile sends next to nothing twice, and the Email log shows them go.
    ``heard`` is emitted on the sending thread; the slot runs here."""

    heard = Signal(object)  # outbox.Outcome
    FLUSH_MS = 200

    def __init__(self, ops: Operations, taken: outbox.Outgoing) -> None:
        super().__init__(ops)
        self.ops, self.taken = ops, taken
        self.waiting: list[outbox.Outcome] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.FLUSH_MS)
        self.timer.timeout.connect(self.flush)
        self.heard.connect(self._heard)

    @Slot(object)
    def _heard(self, outcome: outbox.Outcome) -> None:
        self.waiting.append(outcome)
        if not self.timer.isActive():
            self.timer.start()

    @Slot()
    def flush(self) -> None:
        outcomes, self.waiting = self.waiting, []
        taken = self.taken
        if outcomes and not taken.recorded:  # (the batch's end marks whatever is left)
            self.ops.run(lambda: outbox.record(taken, outcomes, final=False),
                         changes=Changes(emails=True), on_error=lambda _exc: None)


class _Delivery:
    def __init__(self, ops: Operations, now: dt.datetime | None, limit: int | None,
                 retry_now: bool, on_done: Callable[[outbox.DeliveryResult], None] | None,
                 on_error: Callable[[BaseException], None] | None) -> None:
        self.ops, self.now, self.left, self.retry_now = ops, now, limit, retry_now
        self.on_done, self.on_error = on_done, on_error
        self.total = outbox.DeliveryResult()
        self.first = True

    # --- the chain: take (worker) → send (apart) → record (worker) → again
    def start(self) -> None:
        if self.ops.stopping.is_set():  # billdesk is closing: nothing more is claimed
            self._end(result=self.total)
            return
        size = BATCH if self.left is None else min(BATCH, self.left)
        retry_now, self.first = self.retry_now and self.first, False
        now = self.now
        self.ops.run(lambda: outbox.take(now=now, limit=size, retry_now=retry_now),
                     changes=Changes(emails=True),
                     on_done=lambda taken: self._taken(taken, size), on_error=self._failed)

    def _taken(self, taken: Any, size: int) -> None:
        if isinstance(taken, outbox.DeliveryResult):  # nothing (more) to send
            self._end(result=taken)
            return
        full = len(taken) + taken.failed >= size  # (a full batch: more may be due)
        if self.ops.stopping.is_set():  # closing: the batch goes back untried
            self._record(taken, [], full, None)
            return
        marker = _Marker(self.ops, taken)
        try:
            self.ops.run_apart(
                lambda: outbox.send(taken, stop=self.ops.stopping, on_outcome=marker.heard.emit),
                on_done=lambda outcomes: self._record(taken, outcomes, full, None, marker),
                on_error=lambda exc: self._record(taken, [], full, exc, marker),
                on_stop=lambda: outbox.record_interrupted(taken))
        except BaseException as exc:  # (no thread to be had): the batch goes back
            self._record(taken, [], full, exc, marker)

    def _record(self, taken: outbox.Outgoing, outcomes: list[outbox.Outcome], full: bool,
                exc: BaseException | None, marker: _Marker | None = None) -> None:
        if marker is not None:  # (the batch's end marks what it had not yet)
            marker.timer.stop()
            marker.deleteLater()
        self.ops.run(lambda: outbox.record(taken, outcomes), changes=Changes(emails=True),
                     on_done=lambda result: self._recorded(result, full, exc),
                     on_error=self._failed)

    def _recorded(self, result: outbox.DeliveryResult, full: bool,
                  exc: BaseException | None) -> None:
        if exc is not None:
            self._end(exc=exc)
            return
        progress = result.sent + result.failed + result.deferred
        if self.left is not None:
            self.left -= BATCH
        if (result.reason or not full or not progress or self.ops.stopping.is_set()
                or (self.left is not None and self.left <= 0)):
            # (no progress: a message left 'Sending' by a fault would be
            # taken again and again; it waits for the next delivery)
            self._end(result=result)
            return
        self._add(result)
        self.start()

    def _failed(self, exc: BaseException) -> None:
        self._end(exc=exc)

    # --- the end: report, then the next delivery of this window
    def _add(self, result: outbox.DeliveryResult) -> None:
        self.total = dataclasses.replace(
            result, sent=self.total.sent + result.sent, failed=self.total.failed + result.failed,
            deferred=self.total.deferred + result.deferred)

    def _end(self, *, result: outbox.DeliveryResult | None = None,
             exc: BaseException | None = None) -> None:
        try:
            if exc is not None:
                if self.on_error is not None:
                    self.on_error(exc)
                else:
                    log.warning("delivery did not run: %s", exc)
            elif self.on_done is not None:
                assert result is not None
                if result is not self.total:
                    self._add(result)
                self.on_done(self.total)
        finally:
            queue = _queues.get(self.ops, [])
            if queue and queue[0] is self:
                queue.pop(0)
            if queue:
                queue[0].start()
