"""The daily run's scheduler (A1): one QObject, driven by a QTimer, with an
injectable clock (Vorta's ``scheduler.py``, Electrum's ``_get_cur_time``).

Every minute it asks what is due: the day whose configured hour has come
(today once the clock passes ``AutomationSettings.hour``, else yesterday)
and every earlier day that has not run (``automation.pending_days``). The
scheduled day runs by itself; days missed while billdesk was closed (or
the machine slept) are first shown — ``catch_up_pending(days)`` — and run
only once the window confirms them (``confirm_catch_up``). The work runs
on the single database worker (``Operations``); its progress crosses to
the GUI thread by a queued signal, at most ten times a second.

It also carries the mail (E3): once started, each minute — and a moment
after any write that may have queued a message (a payment, a quote
delivered…) — it sends what waits in the outbox whose time has come
(``outbox.due``), ``COURIER_BATCH`` messages at a time: claimed and
marked on the worker, handed to the server beside it (``views/mailer.py``),
so a slow server never holds the worker. A server that cannot be reached puts them back with their back-off,
and the courier itself then waits as long before it tries again (1, 5, 15
and 60 minutes, then every 4 hours), new mail or not. The invoice emails
a run queues without their text (``automation.run(write=False)``) are
written first, a batch at a time, mail set up or not."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from billdesk import clock as clocks
from billdesk.errors import BilldeskError
from billdesk.views import mailer
from billdesk.views.ops import Changes, Operations

log = logging.getLogger("billdesk.scheduler")

CHECK_INTERVAL_MS = 60_000
COURIER_DELAY_MS = 2_000  # after a write, before delivering what it queued
COURIER_BATCH = 50  # messages per delivery on the worker (then the next batch)
WRITE_BATCH = 500  # queued emails written per job on the worker, mail not set up (~50 ms)
PROGRESS_INTERVAL = 0.1  # seconds between two progress signals (the last one always goes)

# What a run may touch: every open window refreshes its part.
RUN_CHANGES = Changes(clients=True, billing=True, services=True, quotes=True, billable=True,
                      emails=True)


def _automation():  # noqa: ANN202 (a module)
    from billdesk.services import automation

    return automation


def throttled(emit: Callable[[int, int, str], None],
              interval: float = PROGRESS_INTERVAL) -> Callable[[int, int, str], None]:
    """A progress callback for the worker: passes on the first call, the
    last (done == total) and at most one call per ``interval`` between."""
    last = [float("-inf")]

    def progress(done: int, total: int, text: str = "") -> None:
        moment = time.monotonic()
        if done < total and moment - last[0] < interval:
            return
        last[0] = moment
        emit(int(done), int(total), str(text))

    return progress


@contextmanager
def no_collection_pauses() -> Iterator[None]:
    """No cyclic garbage collection while the run goes. A collection walks
    its objects holding the GIL — a full one walks the whole process, tens
    to hundreds of ms — and the GUI thread stalls meanwhile. What the run
    allocated and still holds is then moved, unwalked, to the oldest
    generation (``freeze`` + ``unfreeze``), to be looked at by the next
    full collection rather than all at once by the first young one."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if collecting:
            gc.enable()


class Scheduler(QObject):
    """Runs the daily automation at the configured hour, catches up missed
    days after confirmation, and runs it on demand (``run_now``)."""

    catch_up_pending = Signal(list)  # the days (dt.date) it will run once confirmed
    run_started = Signal(list)  # the days asked for (may be empty: nothing pending)
    emails_unwritten = Signal(str)  # a run's emails its template could not write (the error)
    progress = Signal(int, int, str)  # done, total, what it is doing
    run_finished = Signal(object)  # automation.RunReport
    run_failed = Signal(object)  # the exception
    next_run_changed = Signal(object)  # dt.datetime | None (None: automation off)

    _worker_progress = Signal(int, int, str)  # emitted on the worker, delivered here

    def __init__(self, ops: Operations, clock: clocks.Clock | None = None,
                 parent: QObject | None = None, *, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.ops = ops
        self.clock: clocks.Clock = clock or clocks.system_now
        self.timer = QTimer(self)
        self.timer.setObjectName("automationTimer")
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.running = False
        self.started = False  # the first check (at start) asks before catching up
        self.waiting: list[dt.date] = []  # shown, not confirmed yet
        # The scheduled runs leave days up to this one alone: the user said
        # Later to them, or a run of them failed (no retry every minute;
        # the next day's run, a restart or Run now tries again).
        self._held_until: dt.date | None = None
        self._next_run: dt.datetime | None = None
        self._worker_progress.connect(self._relay_progress)
        self.delivering = False
        # After a delivery that could not reach the server, the courier
        # waits as a message's back-off does (1, 5, 15, 60 min, then 4 h),
        # however much new mail is queued meanwhile: trying at each write
        # would hold the worker, and every save behind it, for the
        # connection's time-out each time.
        self._mail_failures = 0
        self._mail_held_until: dt.datetime | None = None
        self.courier = QTimer(self)
        self.courier.setObjectName("courierTimer")
        self.courier.setSingleShot(True)
        self.courier.setInterval(COURIER_DELAY_MS)
        self.courier.timeout.connect(self.deliver_due)
        ops.changed.connect(self._written)

    # --- the clock and the settings -------------------------------------------
    def now(self) -> dt.datetime:
        return self.clock().replace(microsecond=0)

    @staticmethod
    def settings() -> Any:
        return _automation().automation_settings()

    def due_day(self, now: dt.datetime | None = None, hour: int | None = None) -> dt.date:
        """The latest day whose run time has come."""
        now = now or self.now()
        hour = self.settings().hour if hour is None else hour
        today = now.date()
        return today if now.hour >= hour else today - dt.timedelta(days=1)

    def next_run(self) -> dt.datetime | None:
        """When the next scheduled run starts (now, when one is due); None
        when automation is off."""
        value = self.settings()
        if not value.enabled:
            return None
        now = self.now()
        due = self.due_day(now, value.hour)
        held = self._held_until is not None and due <= self._held_until
        if not held and _automation().pending_days(due):
            return now
        return self._after(due, value.hour)

    @staticmethod
    def _after(day: dt.date, hour: int) -> dt.datetime:
        """When the scheduled run after ``day`` starts: at the hour of the
        first later day not run yet (Run now may have run today before its
        hour: then today's hour has nothing to do)."""
        after = day + dt.timedelta(days=1)
        last = _automation().last_completed()
        if last is not None and last >= after:
            after = last + dt.timedelta(days=1)
        return dt.datetime.combine(after, dt.time(hour))

    # --- starting and checking ------------------------------------------------
    def start(self) -> None:
        """Check now (catching up what was missed) and then every minute."""
        self.started = False
        self.timer.start()
        self.check()

    def stop(self) -> None:
        self.timer.stop()
        self.courier.stop()

    @Slot()
    def check(self) -> None:
        """The timer's slot: run what is due (ask first for missed days),
        and deliver the mail whose time has come."""
        self._check_run()
        self.deliver_due()

    def _check_run(self) -> None:
        if self.running or self.waiting:
            return
        at_start = not self.started
        self.started = True
        try:
            value = self.settings()
            if not value.enabled:
                self._set_next(None)
                return
            now = self.now()
            due = self.due_day(now, value.hour)
            days = list(_automation().pending_days(due))
        except Exception:  # never let a timer slot raise: log it, try again next minute
            log.exception("automation check failed")
            return
        if not days:
            self._set_next(self._after(due, value.hour))
            return
        if self._held_until is not None and due <= self._held_until:
            self._set_next(self._after(due, value.hour))
            return
        if days != [due] or (at_start and self._first_run_of_a_full_book()):
            # missed days: show them, run once confirmed (and a book that holds
            # clients but never ran: its first run may suspend, charge and mail)
            self.waiting = days
            self.catch_up_pending.emit(list(days))
            return
        # today's run alone — billdesk was closed at the hour, or it is the
        # hour now — runs as any scheduled day does, unasked (JOURNEYS 5:
        # every day, without thinking); so does a new, empty book's first
        self._run(due, "scheduler", days)

    @staticmethod
    def _first_run_of_a_full_book() -> bool:
        """Never ran, and clients in it already (an imported or demo book)."""
        from billdesk.services import clients

        try:
            return _automation().last_completed() is None and clients.count() > 0
        except Exception:  # a book without the tables yet
            return False

    def confirm_catch_up(self, accepted: bool) -> None:
        """The answer to ``catch_up_pending``: run those days now, or leave
        them until the next scheduled run (or Run now)."""
        days, self.waiting = self.waiting, []
        if not days:
            return
        if accepted:
            self._run(days[-1], "catch-up", days)
        else:
            self._held_until = days[-1]
            value = self.settings()
            self._set_next(self._after(days[-1], value.hour) if value.enabled else None)

    def hold(self) -> None:
        """After a restore: the days the restored book has not run are not
        run by the next minute's check — Run now runs them, and the next
        day's run lists them first."""
        self.waiting = []
        self._held_until = self.due_day()
        self._refresh_next()

    def held_days(self) -> list[dt.date]:
        """The days left for Run now (after Later on the catch-up question,
        or a restore): not run, and not run on their own either."""
        if self._held_until is None:
            return []
        try:
            return list(_automation().pending_days(self._held_until))
        except Exception:  # a book without the tables yet: none
            return []

    def pending_days(self, until: dt.date | None = None) -> list[dt.date]:
        """The days a run up to ``until`` (default: today) would run."""
        return list(_automation().pending_days(until or self.now().date()))

    def run_now(self, until: dt.date | None = None) -> bool:
        """Run every pending day up to ``until`` (default: today). False
        when a run is already going."""
        if self.running:
            return False
        self.waiting = []
        until = until or self.now().date()
        try:
            days = self.pending_days(until)
        except Exception:
            log.exception("could not read the pending days")
            days = [until]
        self._run(until, "manual", days)
        return True

    # --- the run ----------------------------------------------------------------
    def _run(self, until: dt.date, trigger: str, days: Sequence[dt.date]) -> None:
        self.running = True
        automation = _automation()
        clock = self.clock
        progress = throttled(self._worker_progress.emit)

        def work() -> Any:  # on the worker thread: touches no widget
            with no_collection_pauses():
                # (the mail it queues is written and goes out with the courier,
                # a batch at a time, a moment after the run's writes: not at the
                # run's end in one piece on the worker, as from cron)
                return automation.run(until, trigger=trigger, clock=clock, progress=progress,
                                      deliver=False, write=False)

        def done(report: Any) -> None:
            self.running = False
            self._held_until = None if getattr(report, "status", "Completed") == "Completed" \
                else until
            log.info("automation run (%s) up to %s finished", trigger, until)
            self.run_finished.emit(report)
            self._refresh_next()

        def failed(exc: BaseException) -> None:
            self.running = False
            self._held_until = until
            log.warning("automation run (%s) up to %s failed: %s", trigger, until, exc,
                        exc_info=None if isinstance(exc, BilldeskError) else exc)
            self.run_failed.emit(exc)
            self._refresh_next()

        self.run_started.emit(list(days))
        self.ops.run(work, changes=RUN_CHANGES, on_done=done, on_error=failed)

    # --- the mail ---------------------------------------------------------------
    @Slot()
    def deliver_due(self) -> bool:
        """Send the outbox's messages whose time has come, on the worker,
        when the scheduler is started, mail is set up and neither a run nor
        another delivery is going — first writing the text of those a run
        queued without it (``_write_emails``). Returns whether it asked the
        worker."""
        from billdesk.services import mail, outbox

        if (not self.timer.isActive() or self.running or self.delivering
                or self.ops.stopping.is_set()):
            return False
        try:
            if mail.pending_count():  # (mail set up or not, the server's back-off or not)
                return self._write_emails()
        except Exception:
            log.exception("could not read the outbox")
            return False
        now = self.now()
        if self._mail_held_until is not None and now < self._mail_held_until:
            return False
        try:
            if not outbox.is_configured() or not outbox.due(now):
                return False
        except Exception:  # never let a timer slot raise: try again next minute
            log.exception("could not read the outbox")
            return False
        self.delivering = True

        def done(result: Any) -> None:
            self.delivering = False
            if getattr(result, "reason", "") == outbox.BUSY:
                return  # another process delivers (cron): not the server failing
            if getattr(result, "reason", ""):
                log.info("delivery: %s", result.reason)
                self._mail_failures += 1
                self._mail_held_until = now + outbox.backoff(self._mail_failures)
                return
            self._mail_failures, self._mail_held_until = 0, None
            if getattr(result, "sent", 0) + getattr(result, "failed", 0) >= COURIER_BATCH:
                self.courier.start(0)  # more may wait: the next batch, after what queued

        def failed(exc: BaseException) -> None:
            self.delivering = False
            log.warning("delivery did not run: %s", exc)

        mailer.deliver(self.ops, now=now, limit=COURIER_BATCH, on_done=done, on_error=failed)
        return True

    def _write_emails(self) -> bool:
        """The text of the emails a run queued without it (its last day's
        invoices'), written from their templates ``WRITE_BATCH`` at a time
        on the worker (a save in the window waits for one batch at most),
        all of them before any is sent and whether mail is set up or not:
        the Email log shows what will go. A template that fails on some data
        is an error of the run (its log) and said (``emails_unwritten``)."""
        self.delivering = True

        def done(written: int) -> None:
            self.delivering = False
            if written:  # the next batch, or delivery, after what else waits (none written:
                self.courier.start(0)  # it failed, logged — tried again next minute)

        def failed(exc: BaseException) -> None:
            self.delivering = False
            log.warning("could not write the queued emails: %s", exc)

        def work() -> int:  # on the worker (no collection pauses: as the run)
            errors: list[str] = []
            with no_collection_pauses():
                written = _automation().write_emails(errors, WRITE_BATCH)
            if errors and not written:  # (the writing itself failed: not the run's error)
                log.warning("could not write the queued emails: %s", errors[0])
            elif errors:  # a template that fails on some data: an error of the run
                _automation().note_errors(errors)
                self.emails_unwritten.emit(errors[0])
            return written

        self.ops.run(work, changes=Changes(emails=True), on_done=done, on_error=failed)
        return True

    def _written(self, changes: Changes) -> None:
        """A write may have queued mail: deliver it in a moment (a
        delivery's own report, emails alone, does not count)."""
        if not self.timer.isActive():
            return
        if changes.settings:  # (the mail settings, maybe: the old ones' failures are forgotten)
            self._mail_failures, self._mail_held_until = 0, None
        if any(getattr(changes, name) for name in ("clients", "billing", "services", "orders",
                                                   "quotes", "billable", "tickets",
                                                   "affiliates", "settings")):
            self.courier.start(COURIER_DELAY_MS)

    @Slot(int, int, str)
    def _relay_progress(self, done: int, total: int, text: str) -> None:
        self.progress.emit(done, total, text)

    def _refresh_next(self) -> None:
        try:
            self._set_next(self.next_run())
        except Exception:
            log.exception("could not work out the next run")

    def _set_next(self, when: dt.datetime | None) -> None:
        if when != self._next_run:
            self._next_run = when
            self.next_run_changed.emit(when)

    @property
    def next_run_at(self) -> dt.datetime | None:
        return self._next_run
