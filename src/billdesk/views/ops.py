"""Writes run off the UI thread, one at a time, on a single database
worker, and report back by signal with what changed; each open window
refreshes what it shows when its part changed (no global reset)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("billdesk.ops")

APART_WAIT = 5.0  # seconds shutdown gives work run apart (a mail batch) to finish


@dataclass(frozen=True, slots=True)
class Changes:
    """What a write touched. ``client_id`` narrows it to one client."""

    clients: bool = False
    contacts: bool = False
    groups: bool = False
    settings: bool = False
    billing: bool = False  # invoices, payments, refunds, credit
    services: bool = False  # services, addons, domains, service groups
    products: bool = False  # the catalogue and promotion codes
    orders: bool = False  # orders (they also touch services and billing)
    quotes: bool = False
    billable: bool = False  # billable items and recurring invoices
    emails: bool = False  # the outbox / email log and the email templates
    pay_methods: bool = False  # stored cards and bank accounts, the vault (K2)
    tickets: bool = False  # support tickets and replies (F3)
    affiliates: bool = False  # affiliates, referrals, commissions, payouts (F4)
    client_id: int | None = None

    def touches(self, client_id: int) -> bool:
        return self.client_id is None or self.client_id == client_id


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, its slots run here
    (a queued connection, because the relay belongs to the GUI thread)."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[[], Any] | None = None,
                 on_done: Callable[[Any], None] | None = None,
                 on_failed: Callable[[BaseException], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Holds the call (and what it closes over) on the GUI thread, so the
        # worker never drops the last reference to a Qt object.
        self.fn = fn
        self._on_done = on_done
        self._on_failed = on_failed
        self.done.connect(self._done)
        self.failed.connect(self._failed)

    @Slot(object)
    def _done(self, result: Any) -> None:
        if self._on_done is not None:
            self._on_done(result)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        if self._on_failed is not None:
            self._on_failed(exc)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        fn, self.fn = self.fn, None
        _call(fn, self.relay)


def _call(fn: Callable[[], Any], relay: _Relay) -> None:
    try:
        result = fn()
    except BaseException as exc:  # reported to the GUI thread, never lost
        relay.failed.emit(exc)
    else:
        relay.done.emit(result)


class Operations(QObject):
    """Runs service calls on one worker thread. ``changed`` is emitted on the
    GUI thread after each successful write."""

    changed = Signal(object)  # Changes
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the thread: its DB connection lives there
        self._pending = 0
        # set by shutdown: work run apart stops at its next step (see run_apart)
        self.stopping = threading.Event()
        self._apart: list[tuple[threading.Thread, Callable[[], Any] | None]] = []

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: Callable[[], Any], *, changes: Changes | None,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
        relay: _Relay

        def finished() -> None:
            # Deleted once its slot has returned; until then its parent owns it.
            relay.deleteLater()
            self._pending -= 1
            if self._pending == 0:
                self.busy_changed.emit(False)

        def done(result: Any) -> None:
            finished()
            if on_done is not None:
                on_done(result)
            if changes is not None:
                self.changed.emit(changes)

        def failed(exc: BaseException) -> None:
            finished()
            if on_error is not None:
                on_error(exc)
            else:
                from billdesk.views.errors import show_error

                show_error(None, exc)

        relay = _Relay(fn, done, failed, parent=self)
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._pool.start(_Job(fn, relay))

    def run_apart(self, fn: Callable[[], Any], *, on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[BaseException], None] | None = None,
                  on_stop: Callable[[], Any] | None = None) -> None:
        """Run ``fn`` on a thread of its own, beside the database worker:
        for waiting on the network (handing mail to the server), which
        must never hold the worker. ``fn`` touches no database, and stops
        at its next step once ``stopping`` is set. What it reports comes
        back on the GUI thread, as ``run``'s does. ``on_stop`` runs on the
        worker if billdesk closes before ``fn`` has finished (see
        ``shutdown``). Raises if the thread cannot be started."""
        relay = _Relay(fn, parent=self)

        def done(result: Any) -> None:
            relay.deleteLater()
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            relay.deleteLater()
            if on_error is not None:
                on_error(exc)
            else:
                log.error("background work failed: %s", exc)

        relay._on_done, relay._on_failed = done, failed
        thread = threading.Thread(target=_call, args=(fn, relay), name="billdesk-network",
                                  daemon=True)
        try:
            thread.start()
        except BaseException:
            relay.deleteLater()
            raise
        self._apart = [(t, stop) for t, stop in self._apart if t.is_alive()]
        self._apart.append((thread, on_stop))

    def shutdown(self, apart_wait: float = APART_WAIT) -> None:
        """Finish queued writes and close the worker's database connection.
        Work run apart is told to stop and given ``apart_wait`` seconds:
        what it reports in that time is handled first (a mail batch handed
        to the server is marked sent rather than sent again next time)."""
        from PySide6.QtCore import QCoreApplication

        from billdesk.models import database

        self.stopping.set()
        deadline = time.monotonic() + apart_wait
        if self._apart:
            for thread, _stop in self._apart:
                thread.join(max(deadline - time.monotonic(), 0))
            QCoreApplication.processEvents()  # their reports: the writes they ask for queue
            for thread, stop in self._apart:  # still at it: what it did so far is written
                if thread.is_alive() and stop is not None:
                    self._pool.start(_Job(stop, _Relay(stop, parent=self)))

        def close() -> None:
            if database.obj is not None and not database.obj.is_closed():
                database.obj.close()

        self._pool.start(_Job(close, _Relay(close, parent=self)))
        self._pool.waitForDone()
