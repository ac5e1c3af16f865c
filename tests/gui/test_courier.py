"""The window carries the mail while billdesk is open (E3, JOURNEYS 5): a
message queued by a write (a payment's receipt…) goes out a moment later
through a real SMTP server (aiosmtpd on 127.0.0.1), a long outbox in
batches; while the server is down the message waits with its back-off and
the courier with it (new mail does not make it try again before its
time), and both go once the server is back and the time has come;
nothing is tried while mail is not set up, or before the scheduler is
started."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk import clock
from billdesk.services import mail, outbox
from billdesk.views import scheduler as scheduler_module
from billdesk.views.ops import Changes
from billdesk.views.scheduler import Scheduler

from gui_helpers import wait_for

# The scheduler's clock, a little after the one that stamps the messages
# (models.now: the system clock), so that what is queued is due.
NOW = clock.now().replace(microsecond=0) + dt.timedelta(minutes=5)


class FakeClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def deliveries(monkeypatch) -> list:  # noqa: ANN001
    """Each batch the courier takes from the outbox (as it was asked)."""
    calls = []
    real = outbox.take

    def take(**kwargs):  # noqa: ANN003, ANN202
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(outbox, "take", take)
    return calls


@pytest.fixture
def courier(qtbot, client_ops, monkeypatch, deliveries):  # noqa: ANN001, ANN201
    monkeypatch.setattr(scheduler_module, "COURIER_DELAY_MS", 50)
    fake = FakeClock(NOW)
    scheduler = Scheduler(client_ops, fake)
    scheduler.clock_ = fake
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


def test_a_long_outbox_goes_in_batches_each_message_once(
        qtbot, courier, client_book, smtp_server, monkeypatch, deliveries) -> None:  # noqa: ANN001
    monkeypatch.setattr(scheduler_module, "COURIER_BATCH", 2)
    smtp_server.configure()
    for n in range(5):
        mail.queue_message(client_book, subject=f"Message {n}", body="Hi")
    courier.start()
    wait_for(qtbot, lambda: len(smtp_server.messages) == 5)
    wait_for(qtbot, lambda: not courier.delivering)
    qtbot.wait(200)
    assert sorted(m.message["Subject"] for m in smtp_server.messages) == [
        f"Message {n}" for n in range(5)]
    assert [call["limit"] for call in deliveries] == [2, 2, 2]  # 2 + 2 + 1, then nothing due


def test_while_the_server_is_down_the_message_waits_its_back_off_then_goes(
        qtbot, courier, client_ops, client_book, smtp_server, deliveries) -> None:  # noqa: ANN001
    smtp_server.configure()
    smtp_server.stop()
    email_id = mail.queue_message(client_book, subject="Your invoice", body="Hi")
    courier.start()  # checks at once: the server does not answer
    wait_for(qtbot, lambda: mail.get_email(email_id).attempts == 1)
    wait_for(qtbot, lambda: not courier.delivering)
    row = mail.get_email(email_id)
    assert row.status == "Queued" and row.error
    assert row.next_attempt == NOW + dt.timedelta(minutes=1)  # the first back-off
    # new mail meanwhile, and the next minute's check before the time: no try
    later = queue_by_a_write(qtbot, client_ops, client_book, "Payment received")
    courier.clock_.at = NOW + dt.timedelta(seconds=30)
    courier.check()
    qtbot.wait(200)
    assert len(deliveries) == 1
    assert mail.get_email(email_id).attempts == 1 and mail.get_email(later).attempts == 0
    # the server is back and the time has come: both go
    smtp_server.start()
    courier.clock_.at = NOW + dt.timedelta(minutes=1)
    courier.check()
    wait_for(qtbot, lambda: len(smtp_server.messages) == 2)
    assert sorted(m.message["Subject"] for m in smtp_server.messages) == ["Payment received",
                                                                          "Your invoice"]
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sent")


def test_nothing_is_tried_before_start_or_without_mail_set_up(
        qtbot, courier, client_ops, client_book, deliveries) -> None:  # noqa: ANN001
    email_id = queue_by_a_write(qtbot, client_ops, client_book, "Hello")
    qtbot.wait(200)  # (the write's moment passes: not started, nothing armed)
    assert not courier.deliver_due()
    courier.start()
    queue_by_a_write(qtbot, client_ops, client_book, "Hello again")
    qtbot.wait(300)  # the write's moment passes: mail is not set up
    assert not courier.deliver_due()
    assert deliveries == []
    row = mail.get_email(email_id)
    assert row.status == "Queued" and row.attempts == 0 and not row.error


def test_a_silent_server_never_holds_the_database_worker(
        qtbot, courier, client_ops, client_book, smtp_server) -> None:  # noqa: ANN001
    """A server that takes the connection and never answers (a firewall
    that swallows it): the courier waits for it beside the worker, so a
    save in the window goes through at once, and after the timeout the
    message waits its back-off with the reason."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # (the kernel completes the handshake; nobody ever answers)
    try:
        smtp_server.configure(port=silent.getsockname()[1], timeout=3)
        email_id = mail.queue_message(client_book, subject="Your invoice", body="Hi")
        courier.start()
        wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sending")
        assert courier.delivering
        started = time.monotonic()
        saved = []
        client_ops.run(lambda: mail.queue_message(client_book, subject="Note", body="Hi"),
                       changes=None, on_done=saved.append)
        wait_for(qtbot, lambda: saved)
        assert time.monotonic() - started < 1.5  # not the 3 s the server is waited for
        assert courier.delivering  # (still waiting for the server)
        wait_for(qtbot, lambda: not courier.delivering, timeout=10_000)
        row = mail.get_email(email_id)
        assert row.status == "Queued" and row.attempts == 1
        assert "within 3 s" in row.error
    finally:
        silent.close()


def test_closing_while_a_batch_is_with_the_server_marks_what_went(
        qtbot, client_ops, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """billdesk closing while a batch is being handed to the server: the
    message in hand goes, the rest of the batch is put back, and what went
    is marked Sent before the worker closes (not sent again next time)."""
    import threading

    from billdesk.views import mailer

    smtp_server.configure()
    ids = [mail.queue_message(client_book, subject=f"Message {n}", body="Hi") for n in range(3)]
    in_hand = threading.Event()
    real = outbox._transmit

    def transmit(smtp, settings, ready):  # noqa: ANN001, ANN202
        in_hand.set()
        client_ops.stopping.wait(5)  # (billdesk starts closing while this one is sent)
        return real(smtp, settings, ready)

    monkeypatch.setattr(outbox, "_transmit", transmit)
    results = []
    mailer.deliver(client_ops, on_done=results.append)
    wait_for(qtbot, in_hand.is_set)
    client_ops.shutdown()
    assert [mail.get_email(i).status for i in ids] == ["Sent", "Queued", "Queued"]
    assert [m.message["Subject"] for m in smtp_server.messages] == ["Message 0"]



def test_the_mail_a_run_in_the_window_queues_goes_out_with_the_courier(
        qtbot, courier, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """The run in the window leaves delivery to the courier (beside the
    worker), which follows the run's writes a moment later."""
    from billdesk.services import automation

    smtp_server.configure()
    email_id = mail.queue_message(client_book, subject="Waiting", body="Hi")
    courier.start()
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sent")
    queued = mail.queue_message(client_book, subject="Queued before the run", body="Hi")
    calls = []
    real = automation.run

    def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(kwargs.get("deliver", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(automation, "run", run)
    with qtbot.waitSignal(courier.run_finished, timeout=20_000):
        courier.run_now()
    assert calls == [False]
    wait_for(qtbot, lambda: mail.get_email(queued).status == "Sent")


def test_with_mail_not_set_up_the_courier_writes_the_runs_invoice_emails_in_batches(
        qtbot, courier, client_book, monkeypatch, deliveries) -> None:  # noqa: ANN001
    """The run leaves its invoice emails' text to delivery's first step;
    with no mail server to deliver to, the courier writes them all the same
    (WRITE_BATCH at a time on the worker), so the Email log shows what will
    go — and sends nothing."""
    from billdesk.models import database
    from billdesk.services import clients, subscriptions

    monkeypatch.setattr(scheduler_module, "WRITE_BATCH", 2)
    batches = []
    real = mail.render_pending

    def render_pending(limit=None):  # noqa: ANN001, ANN202
        batches.append(limit)
        return real(limit)

    monkeypatch.setattr(mail, "render_pending", render_pending)
    today = NOW.date()
    for n in range(3):
        cid = clients.add_client({"first_name": f"Client{n}", "last_name": "Written",
                                  "email": f"w{n}@example.com"})
        subscriptions.add_service(cid, name="Hosting", amount="10.00", cycle="monthly",
                                  next_due=today + dt.timedelta(days=3),
                                  signup_date=today - dt.timedelta(days=28))
    courier.start()
    with qtbot.waitSignal(courier.run_finished, timeout=20_000):
        courier.run_now()
    wait_for(qtbot, lambda: mail.pending_count() == 0 and not courier.delivering)
    assert batches == [2, 2]  # two, then the last one (and none left: no third)
    rows = database.execute_sql(
        "SELECT to_addr, subject, status FROM email WHERE template = 'invoice_created'"
        " ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["w0@example.com", "w1@example.com", "w2@example.com"]
    assert all(r[1] and r[2] == "Queued" for r in rows)
    assert deliveries == []  # (nothing taken for the server)


def test_an_email_of_the_run_its_template_cannot_write_is_an_error_of_the_run(
        qtbot, courier, client_book) -> None:  # noqa: ANN001
    """Written by the courier after the run, a message the template fails
    on is Failed (Email log), and the run's log and the status bar say so."""
    from billdesk.services import automation, clients, subscriptions, templates

    templates.save_template("invoice_created", language="en", subject="Invoice",
                            body="{{ 100 // (client.last_name | length - 7) }}")
    cid = clients.add_client({"first_name": "Bad", "last_name": "Written",
                              "email": "bad@example.com"})
    subscriptions.add_service(cid, name="Hosting", amount="10.00", cycle="monthly",
                              next_due=NOW.date() + dt.timedelta(days=3),
                              signup_date=NOW.date() - dt.timedelta(days=28))
    courier.start()
    with qtbot.waitSignal(courier.run_finished, timeout=20_000) as finished:
        courier.run_now()
    assert finished.args[0].errors == []  # (its text not written yet)
    with qtbot.waitSignal(courier.emails_unwritten, timeout=10_000) as said:
        pass
    error = ("1 email could not be written (Automation → Email log, Failed): template "
             "'invoice_created' (en), body: cannot be rendered: integer division or modulo by "
             "zero")
    assert said.args == [error]
    wait_for(qtbot, lambda: not courier.delivering)
    assert automation.runs()[0].errors == [error]


def test_writing_that_fails_is_tried_again_next_minute_not_at_once(
        qtbot, courier, client_book, monkeypatch) -> None:  # noqa: ANN001
    """The writing itself failing (not a template: the book, say) is logged
    and waits for the courier's next minute, rather than trying at once,
    again and again; it is no error of the run."""
    from billdesk.services import automation, billing_run, subscriptions

    subscriptions.add_service(client_book, name="Hosting", amount="10.00", cycle="monthly",
                              next_due=NOW.date() + dt.timedelta(days=3),
                              signup_date=NOW.date() - dt.timedelta(days=28))
    billing_run.generate_due(today=NOW.date(), write_emails=False)
    calls = []

    def broken(limit=None, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(limit)
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(mail, "render_pending", broken)
    courier.start()  # (which looks at the outbox at once)
    wait_for(qtbot, lambda: calls and not courier.delivering)
    qtbot.wait(300)  # (no second try meanwhile)
    assert calls == [scheduler_module.WRITE_BATCH] and mail.pending_count() == 1
    assert automation.runs() == []


# --- the window's deliveries when something goes wrong (a review's cases) ---------------------

def test_a_thread_that_cannot_start_puts_the_batch_back(
        qtbot, client_ops, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    import threading

    from billdesk.views import mailer

    smtp_server.configure()
    email_id = mail.queue_message(client_book, subject="One", body="Hi")
    real_start = threading.Thread.start

    def start(self):  # noqa: ANN001, ANN202
        if self.name == "billdesk-network":
            raise RuntimeError("can't start new thread")
        return real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    errors = []
    mailer.deliver(client_ops, on_error=errors.append)
    wait_for(qtbot, lambda: errors)
    assert "can't start new thread" in str(errors[0])
    assert mail.get_email(email_id).status == "Queued" and not outbox._thread_lock.locked()
    assert not mailer.busy(client_ops)


def test_a_batch_that_makes_no_progress_ends_the_delivery(
        qtbot, client_ops, client_book, smtp_server, monkeypatch, deliveries) -> None:  # noqa: ANN001
    """A fault in sending (not the server's) leaves the message in hand
    'Sending' and the rest back: Send now stops there instead of taking
    the same batch again and again."""
    from billdesk.views import mailer

    smtp_server.configure()
    ids = [mail.queue_message(client_book, subject=f"M{n}", body="Hi")
           for n in range(outbox.CLAIM_BATCH)]

    def transmit(smtp, settings, ready):  # noqa: ANN001, ANN202
        raise RuntimeError("a bug in the first message")

    monkeypatch.setattr(outbox, "_transmit", transmit)
    done = []
    mailer.deliver(client_ops, retry_now=True, on_done=done.append)
    wait_for(qtbot, lambda: done)
    assert len(deliveries) == 1 and done[0].sent == 0
    assert mail.get_email(ids[0]).status == "Sending"  # (sent once more by the next delivery)
    assert {mail.get_email(i).status for i in ids[1:]} == {"Queued"}
    assert not outbox._thread_lock.locked()


def test_many_batches_add_up(qtbot, client_ops, client_book, smtp_server, deliveries) -> None:  # noqa: ANN001
    from billdesk.views import mailer

    smtp_server.configure()
    for n in range(120):
        mail.queue_message(client_book, subject=f"M{n}", body="Hi")
    done = []
    mailer.deliver(client_ops, on_done=done.append)
    wait_for(qtbot, lambda: done, timeout=30_000)
    assert (done[0].sent, done[0].waiting) == (120, 0) and len(smtp_server.messages) == 120
    assert [c["limit"] for c in deliveries] == [50, 50, 50]  # 50 + 50 + 20, then none due
    assert not outbox._thread_lock.locked()


def test_a_second_delivery_waits_its_turn(
        qtbot, client_ops, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """The courier's minute while a Send now is with a slow server: it
    waits for it (not 'another delivery is running', which the courier
    would take for a failing server and hold back for a minute)."""
    import threading
    import time

    from billdesk.views import emails_tab

    smtp_server.configure()
    for n in range(3):
        mail.queue_message(client_book, subject=f"M{n}", body="Hi")
    real = outbox._transmit
    in_hand = threading.Event()

    def transmit(smtp, settings, ready):  # noqa: ANN001, ANN202
        in_hand.set()
        time.sleep(0.3)  # a slowish server
        return real(smtp, settings, ready)

    monkeypatch.setattr(outbox, "_transmit", transmit)
    courier = Scheduler(client_ops, FakeClock(NOW))
    courier.timer.start()  # (started, without the first check's catch-up question)
    sent_now = []
    emails_tab.deliver(client_ops, on_done=sent_now.append)
    wait_for(qtbot, in_hand.is_set)
    late = mail.queue_message(client_book, subject="Queued meanwhile", body="Hi")
    assert courier.deliver_due()
    wait_for(qtbot, lambda: not courier.delivering, timeout=10_000)
    courier.stop()
    assert sent_now and sent_now[0].sent == 3 and not sent_now[0].reason
    assert courier._mail_failures == 0 and courier._mail_held_until is None
    assert mail.get_email(late).status == "Sent"


def test_closing_while_the_server_is_slow_marks_what_went(
        qtbot, client_ops, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """The message in hand outlasts the moment closing waits: what went
    before it is marked Sent, it stays 'Sending' (it may have gone: sent
    once more next time), the rest go back; the outbox is free again."""
    import threading
    import time

    from billdesk.views import mailer

    smtp_server.configure()
    ids = [mail.queue_message(client_book, subject=f"Message {n}", body="Hi") for n in range(3)]
    real = outbox._transmit
    second = threading.Event()

    def transmit(smtp, settings, ready):  # noqa: ANN001, ANN202
        if ready.email_id == ids[1]:
            second.set()
            time.sleep(2)  # longer than closing waits
        return real(smtp, settings, ready)

    monkeypatch.setattr(outbox, "_transmit", transmit)
    mailer.deliver(client_ops)
    wait_for(qtbot, second.is_set)
    client_ops.shutdown(apart_wait=0.5)
    assert [mail.get_email(i).status for i in ids] == ["Sent", "Sending", "Queued"]
    assert not outbox._thread_lock.locked()
    time.sleep(2)  # (the send finishes; its late report changes nothing)
    qtbot.wait(100)
    assert [mail.get_email(i).status for i in ids] == ["Sent", "Sending", "Queued"]


def test_each_message_is_marked_sent_as_it_goes_not_when_the_batch_ends(
        qtbot, client_ops, client_book, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """A message the server took is 'Sent' within a moment, while the rest
    of its batch is still going: a crash then resends next to nothing."""
    import threading

    from billdesk.views import mailer

    smtp_server.configure()
    ids = [mail.queue_message(client_book, subject=f"Message {n}", body="Hi") for n in range(3)]
    real = outbox._transmit
    last = threading.Event()

    def transmit(smtp, settings, ready):  # noqa: ANN001, ANN202
        if ready.email_id == ids[-1]:
            last.wait(10)  # the last one waits until the test has looked
        return real(smtp, settings, ready)

    monkeypatch.setattr(outbox, "_transmit", transmit)
    done = []
    mailer.deliver(client_ops, on_done=done.append)
    wait_for(qtbot, lambda: mail.get_email(ids[1]).status == "Sent")
    assert mail.get_email(ids[0]).status == "Sent" and mail.get_email(ids[2]).status == "Sending"
    assert not done
    last.set()
    wait_for(qtbot, lambda: done)
    assert (done[0].sent, done[0].failed, done[0].deferred) == (3, 0, 0)
    assert [mail.get_email(i).status for i in ids] == ["Sent"] * 3
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Message 0", "Message 1", "Message 2"]  # each once


def test_a_failing_server_is_said_in_the_status_bar_and_new_settings_try_again_at_once(
        qtbot, main_window, smtp_server) -> None:  # noqa: ANN001
    """The server down: the status bar's count says the mail server failed
    and when it is tried again, and the Email log says why. Saving mail
    settings forgets the old ones' back-off: the mail goes at once."""
    from billdesk.models import Email
    from billdesk.views.ops import Changes

    Email.delete().execute()  # (only this test's message)
    courier = main_window.scheduler
    smtp_server.configure()
    smtp_server.stop()
    email_id = mail.queue_message(1, subject="Your invoice", body="Hi")
    courier.timer.start()  # (started, without the first check's catch-up question)
    assert courier.deliver_due()
    wait_for(qtbot, lambda: mail.get_email(email_id).attempts == 1)
    wait_for(qtbot, lambda: "the mail server failed" in main_window.outbox_label.text())
    assert "1 email waiting" in main_window.outbox_label.text()
    assert "next try" in main_window.outbox_label.text()
    assert "refused the connection" in main_window.outbox_label.toolTip()
    assert outbox.trouble().next_try == mail.get_email(email_id).next_attempt
    log = main_window.open_email_log()
    assert "not sent:" in log.state.text() and "refused the connection" in log.state.text()
    # the server back, new settings saved: no waiting out the back-off
    smtp_server.start()
    main_window.ops.run(lambda: smtp_server.configure(), changes=Changes(settings=True))
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Sent", timeout=10_000)
    wait_for(qtbot, lambda: not main_window.outbox_label.isVisible())
    assert log.state.text() == "The outbox is empty."
    courier.stop()
