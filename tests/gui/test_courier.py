"""The window carries the mail while billdesk is open (E3, JOURNEYS 5): a
message queued by a write (a payment's receipt…) goes out a moment later
through a real SMTP server (aiosmtpd on 127.0.0.1); while the server is
down it waits with its back-off, is not tried again before its time, and
goes once the server is back and the time has come; nothing is tried
while mail is not set up, or before the scheduler is started."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk.services import mail
from billdesk.views import scheduler as scheduler_module
from billdesk.views.ops import Changes
from billdesk.views.scheduler import Scheduler

from gui_helpers import wait_for

NOW = dt.datetime(2027, 3, 10, 11, 0)


class FakeClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def courier(qtbot, client_ops, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr(scheduler_module, "COURIER_DELAY_MS", 50)
    clock = FakeClock(NOW)
    scheduler = Scheduler(client_ops, clock)
    scheduler.clock_ = clock
    yield scheduler
    scheduler.stop()
    wait_for(qtbot, lambda: not scheduler.delivering)


def queue_by_a_write(qtbot, ops, client_id: int, subject: str) -> int:  # noqa: ANN001
    """A message queued by a write on the worker (as a payment queues its
    receipt): its id."""
    found = []
    ops.run(lambda: mail.queue_message(client_id, subject=subject, body="Hi"),
            changes=Changes(billing=True, client_id=client_id), on_done=found.append)
    wait_for(qtbot, lambda: found)
    return found[0]


def test_a_message_queued_by_a_write_goes_out_a_moment_later(
        qtbot, courier, client_ops, client_book, smtp_server) -> None:  # noqa: ANN001
    smtp_server.configure()
    courier.start()
    email_id = queue_by_a_write(qtbot, client_ops, client_book, "Payment received")
    wait_for(qtbot, lambda: smtp_server.messages)  # (the window's event loop turning)
    assert smtp_server.messages[0].message["Subject"] == "Payment received"
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sent")


def test_while_the_server_is_down_the_message_waits_its_back_off_then_goes(
        qtbot, courier, client_book, smtp_server) -> None:  # noqa: ANN001
    smtp_server.configure()
    smtp_server.stop()
    email_id = mail.queue_message(client_book, subject="Your invoice", body="Hi")
    courier.start()  # checks at once: the server does not answer
    wait_for(qtbot, lambda: mail.get_email(email_id).attempts == 1)
    wait_for(qtbot, lambda: not courier.delivering)
    row = mail.get_email(email_id)
    assert row.status == "Queued" and row.error
    assert row.next_attempt == NOW + dt.timedelta(minutes=1)  # the first back-off
    # the next minute's check before its time: not tried again
    courier.clock_.at = NOW + dt.timedelta(seconds=30)
    assert not courier.deliver_due()
    assert mail.get_email(email_id).attempts == 1
    # the server is back and the time has come
    smtp_server.start()
    courier.clock_.at = NOW + dt.timedelta(minutes=1)
    courier.check()
    wait_for(qtbot, lambda: smtp_server.messages)
    assert smtp_server.messages[0].message["Subject"] == "Your invoice"
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sent")


def test_nothing_is_tried_before_start_or_without_mail_set_up(
        qtbot, courier, client_ops, client_book) -> None:  # noqa: ANN001
    email_id = queue_by_a_write(qtbot, client_ops, client_book, "Hello")
    assert not courier.deliver_due()  # not started
    courier.start()
    assert not courier.deliver_due()  # mail is not set up
    qtbot.wait(200)  # (the write's moment passes)
    row = mail.get_email(email_id)
    assert row.status == "Queued" and row.attempts == 0 and not row.error
