"""The Email log window (E3, E4 for every client): the status bar counts
the messages waiting in the outbox and opens the log; the log lists every
client's messages newest first — by default those waiting — shows the
selected one whole, sends the outbox to a real SMTP server (aiosmtpd on
127.0.0.1) with Send now, puts a failed one back with Resend, opens the
client on the message, and reads a long log a page at a time — a refresh
keeping the rows read, the scroll and the selection. Any write that queues
mail shows in it at once; it closes with the main window."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdesk.services import clients, mail
from billdesk.views.ops import Changes

from gui_helpers import click, wait_for


@pytest.fixture
def two_clients(client_book: int) -> tuple[int, int]:
    """Grace Hopper and Alan Turing, each with a message waiting."""
    alan = clients.add_client({"first_name": "Alan", "last_name": "Turing",
                               "email": "alan@example.com", "currency": "GBP", "country": "GB"})
    mail.queue_message(client_book, subject="Hello Grace", body="Dear {{ client.first_name }},")
    mail.queue_message(alan, subject="Hello Alan", body="Dear {{ client.first_name }},")
    return client_book, alan


@pytest.fixture
def main_window(qtbot, client_ops, db_path: Path, two_clients):  # noqa: ANN001, ANN201
    from billdesk.views.main_window import MainWindow

    window = MainWindow(client_ops, db_path)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def subjects(log) -> list[str]:  # noqa: ANN001
    return [log.model.row(n).subject for n in range(log.model.rowCount())]


def test_the_status_bar_counts_the_outbox_and_opens_the_log(qtbot, main_window) -> None:  # noqa: ANN001
    label = main_window.outbox_label
    assert label.isVisible()
    assert "2 emails waiting (mail is not set up)" in label.text()
    main_window.outbox_label.linkActivated.emit("log")
    log = main_window.email_log_window
    assert log is not None and log.isVisible()
    assert log.show_key == "waiting"
    assert subjects(log) == ["Hello Alan", "Hello Grace"]  # newest first
    assert [log.model.client_name(log.model.row(n)) for n in range(2)] == ["Alan Turing",
                                                                            "Grace Hopper"]
    # the newest is selected and shown whole
    assert log.detail.fields["subject"].text() == "Hello Alan"
    assert log.detail.body.toPlainText().startswith("Dear Alan,")
    assert "mail is not set up" in log.state.text() and "Settings → Mail" in log.state.text()
    assert not log.send_now.isEnabled()  # nowhere to send it yet
    assert not log.resend_button.isEnabled()  # (it has not been sent nor failed)
    # the same window again from the Automation menu
    main_window.email_log_action.trigger()
    assert main_window.email_log_window is log


def test_send_now_delivers_the_outbox_to_a_real_smtp_server(
        qtbot, main_window, smtp_server) -> None:  # noqa: ANN001
    smtp_server.configure()
    log = main_window.open_email_log()
    log.reload()  # (the settings were saved outside the windows)
    assert log.state.text() == "2 emails waiting"
    assert log.send_now.isEnabled()
    click(qtbot, log.send_now)
    wait_for(qtbot, lambda: len(smtp_server.messages) == 2)  # (the window's loop turning)
    received = smtp_server.messages
    assert sorted(m.message["Subject"] for m in received) == ["Hello Alan", "Hello Grace"]
    wait_for(qtbot, lambda: log.model.rowCount() == 0)
    assert log.view.placeholder.startswith("Nothing waits in the outbox")
    assert log.state.text() == "The outbox is empty."
    wait_for(qtbot, lambda: not main_window.outbox_label.isVisible())
    log.set_show("sent")
    assert subjects(log) == ["Hello Alan", "Hello Grace"]
    assert log.detail.fields["status"].text().find("Sent") >= 0
    assert log.resend_button.isEnabled()


def test_a_failed_message_shows_its_error_and_resend_puts_it_back(
        qtbot, main_window, two_clients) -> None:  # noqa: ANN001
    from billdesk.models import Email

    grace, _alan = two_clients
    failed = mail.queue_message(grace, subject="Bounced", body="Hi")
    Email.update(status="Failed", error="550 5.1.1 No such user here",
                 attempts=1).where(Email.id == failed).execute()
    log = main_window.open_email_log()
    log.set_show("failed")
    assert subjects(log) == ["Bounced"]
    assert "Failed: 550 5.1.1 No such user here" in log.model.index(0, 4).data()
    assert "550 5.1.1" in log.detail.fields["status"].text()
    assert log.resend_button.isEnabled()
    click(qtbot, log.resend_button)
    wait_for(qtbot, lambda: mail.get_email(failed).status == "Queued")
    wait_for(qtbot, lambda: log.model.rowCount() == 0)  # no longer among the failed
    log.set_show("waiting")
    assert "Bounced" in subjects(log)
    wait_for(qtbot, lambda: "3 emails waiting" in main_window.outbox_label.text())


def test_open_client_shows_the_message_in_the_clients_emails_tab(
        qtbot, main_window, two_clients) -> None:  # noqa: ANN001
    _grace, alan = two_clients
    log = main_window.open_email_log()
    assert log.selected().client_id == alan
    click(qtbot, log.client_button)
    window = wait_for(qtbot, lambda: main_window.client_windows.get(alan))
    assert window.tabs.currentWidget() is window.emails
    assert window.emails.selected_id() == log.selected_id()
    window.close()


def test_a_long_log_is_read_a_page_at_a_time(qtbot, main_window, two_clients,
                                             monkeypatch) -> None:  # noqa: ANN001
    from billdesk.views.models.email_tables import EmailLogModel

    grace, _alan = two_clients
    for n in range(5):
        mail.queue_message(grace, subject=f"Note {n}", body="Hi")
    monkeypatch.setattr(EmailLogModel, "PAGE", 3)
    log = main_window.open_email_log()
    log.set_show("all")
    model = log.model
    while model.canFetchMore():
        model.fetchMore()
    assert subjects(log) == ["Note 4", "Note 3", "Note 2", "Note 1", "Note 0", "Hello Alan",
                             "Hello Grace"]
    assert not model.canFetchMore()


def test_a_write_that_queues_mail_shows_in_the_open_log(qtbot, main_window,
                                                       two_clients) -> None:  # noqa: ANN001
    grace, _alan = two_clients
    log = main_window.open_email_log()
    assert log.model.rowCount() == 2
    done = []
    main_window.ops.run(lambda: mail.queue_message(grace, subject="Receipt", body="Thanks"),
                        changes=Changes(billing=True, client_id=grace), on_done=done.append)
    wait_for(qtbot, lambda: done)
    assert subjects(log)[0] == "Receipt"
    assert log.state.text().startswith("3 emails waiting")
    assert "3 emails waiting" in main_window.outbox_label.text()
    # the status bar's link opens it on what waits, whatever it showed
    log.set_show("sent")
    main_window.outbox_label.linkActivated.emit("log")
    assert log.show_key == "waiting" and log.model.rowCount() == 3


def test_a_refresh_keeps_the_rows_read_and_the_selection(qtbot, main_window, two_clients,
                                                         monkeypatch) -> None:  # noqa: ANN001
    from billdesk.views.models.email_tables import EmailLogModel

    grace, _alan = two_clients
    for n in range(7):
        mail.queue_message(grace, subject=f"Note {n}", body="Hi")
    monkeypatch.setattr(EmailLogModel, "PAGE", 3)
    log = main_window.open_email_log()
    log.reload()
    model = log.model
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 9
    log.view.selectRow(8)  # the oldest, on the last page read
    oldest = log.selected_id()
    assert log.detail.fields["subject"].text() == "Hello Grace"
    log.ops.changed.emit(Changes(emails=True))  # any write: the list is read again
    assert model.rowCount() == 9 and log.selected_id() == oldest
    assert log.detail.fields["subject"].text() == "Hello Grace"
    # the selected one leaves the view: the one now in its place is selected
    from billdesk.models import Email

    Email.update(status="Sent").where(Email.id == oldest).execute()
    log.reload()
    assert model.rowCount() == 8 and log.selected_id() == model.row(7).id


def test_the_log_closes_with_the_main_window(qtbot, main_window) -> None:  # noqa: ANN001
    log = main_window.open_email_log()
    assert log.isVisible()
    main_window.close()
    assert not log.isVisible()


def test_status_words_say_what_happened_to_each_message() -> None:
    """Delivered but refused by some recipients is not plain "Sent"; held
    back by billdesk says "Not sent" once; a retry's error is not bracketed
    inside brackets."""
    from types import SimpleNamespace as Row

    from billdesk.views.models.email_tables import STATUS_COLOURS, status_colour, status_text

    partial = Row(status="Sent", error="some recipients were refused: b@x.example: 550 No")
    assert status_text(partial) == "Sent — some recipients were refused: b@x.example: 550 No"
    assert status_colour(partial).name() == STATUS_COLOURS["Queued"]
    assert status_colour(Row(status="Sent", error="")).name() == STATUS_COLOURS["Sent"]
    held = Row(status="Failed", error="Not sent: invoice #7 was paid")
    assert status_text(held) == "Not sent: invoice #7 was paid"
    assert status_text(Row(status="Failed", error="550 No")) == "Failed: 550 No"
    retry = Row(status="Queued", error="127.0.0.1:8025 refused the connection (is it running?)")
    assert status_text(retry) == ("Queued — retrying: 127.0.0.1:8025 refused the connection "
                                  "(is it running?)")


def test_copied_addresses_are_listed_with_a_space_after_each_comma() -> None:
    from billdesk.views.models.email_tables import cc_text

    assert cc_text("ngozi@mail.example,mateo@mail.example") == (
        "ngozi@mail.example, mateo@mail.example")
    assert cc_text("") == ""
