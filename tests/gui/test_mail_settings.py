"""The Mail page of the Settings window (D6, E3): typed as a user would,
saved with the Settings window's Save, a bad port refused beside its field,
where the password is kept shown, and "Send test email" delivered to a
real SMTP server on 127.0.0.1 (tests/smtp_helpers.py)."""

from __future__ import annotations

import stat

import pytest

from PySide6.QtWidgets import QMessageBox

from billdesk.services import outbox
from billdesk.services.outbox import MailSettings

from gui_helpers import click, type_into
from smtp_helpers import PASSWORD


@pytest.fixture
def dialog(smtp_server, settings_dialog, answers):  # noqa: ANN001, ANN201
    """The Settings window on its Mail page (the test server already up;
    the demo book's waiting emails asked about, and sent: Yes)."""
    settings_dialog.tabs.setCurrentWidget(settings_dialog.mail)
    return settings_dialog


def fill(qtbot, page, server, *, password: str = PASSWORD, port: str | None = None) -> None:  # noqa: ANN001
    fields = page.form.fields
    type_into(qtbot, fields["host"].widget, server.host)
    fields["security"].set_value("starttls")
    type_into(qtbot, fields["port"].widget, port or str(server.port))
    type_into(qtbot, fields["username"].widget, server.user)
    fields["password"].widget.setText(password)  # (QTest types ASCII only; the password is not)
    type_into(qtbot, fields["from_name"].widget, "Acme Accounts")
    type_into(qtbot, fields["from_address"].widget, "accounts@acme.example")


def test_mail_settings_are_saved_with_the_settings_window(qtbot, dialog, smtp_server):  # noqa: ANN001
    page = dialog.mail
    store = page.findChild(type(page.store_label), "password_store")
    assert store.isVisible() and "only your user account can read" in store.text()
    assert str(outbox.password_file()) in store.text()
    fill(qtbot, page, smtp_server)

    click(qtbot, dialog.save_button)

    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert outbox.mail_settings() == MailSettings(
        host=smtp_server.host, port=smtp_server.port, security="starttls", username="billdesk",
        from_address="accounts@acme.example", from_name="Acme Accounts", timeout=30)
    assert outbox.get_password() == PASSWORD
    assert stat.S_IMODE(outbox.password_file().stat().st_mode) == 0o600


def test_mail_set_up_with_emails_waiting_asks_whether_to_send_them(
        qtbot, dialog, smtp_server, answers) -> None:  # noqa: ANN001
    """The demo book has emails waiting (queued with no server to send
    them through): setting mail up asks first. Cancel saves nothing; No
    keeps them in the Email log as not sent; nothing goes to the server."""
    from billdesk.models import Email

    waiting = outbox.waiting_count()
    assert waiting > 0
    fill(qtbot, dialog.mail, smtp_server)
    answers.replies = [QMessageBox.StandardButton.Cancel]
    click(qtbot, dialog.save_button)
    assert answers.said[0].startswith(f"{waiting} emails are waiting in the outbox, the oldest "
                                      f"from {outbox.backlog().oldest:%Y-%m-%d}: billdesk had no "
                                      "mail server to send them through.")
    assert dialog.isVisible() and not outbox.is_configured()
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert outbox.is_configured() and outbox.waiting_count() == 0
    held = Email.select().where(Email.error == "Not sent: it waited for mail to be set up")
    assert held.count() == waiting and {e.status for e in held} == {"Failed"}
    assert smtp_server.messages == [] and len(answers.said) == 2


def test_yes_leaves_the_waiting_emails_to_be_sent(qtbot, dialog, smtp_server, answers) -> None:  # noqa: ANN001
    waiting = outbox.waiting_count()
    fill(qtbot, dialog.mail, smtp_server)
    click(qtbot, dialog.save_button)  # (answered Yes)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert len(answers.said) == 1 and outbox.waiting_count() == waiting
    assert outbox.is_configured()


def test_bcc_addresses_are_saved_and_a_bad_one_refused_beside_the_field(
        qtbot, dialog, smtp_server) -> None:  # noqa: ANN001
    page = dialog.mail
    fill(qtbot, page, smtp_server)
    type_into(qtbot, page.form.fields["bcc"].widget, "archive@example.com, nope")
    click(qtbot, dialog.save_button)
    assert dialog.isVisible() and not outbox.is_configured()
    assert page.form.fields["bcc"].problem.text() == "'nope' is not a valid email address"
    page.form.fields["bcc"].widget.setText("archive@example.com;  boss@example.com")
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert outbox.mail_settings().bcc == "archive@example.com, boss@example.com"


def test_a_bad_port_is_refused_beside_the_field(qtbot, dialog, smtp_server):  # noqa: ANN001
    page = dialog.mail
    fill(qtbot, page, smtp_server, port="70000")
    port = page.form.fields["port"]

    assert port.problem.isVisible() and "1 to 65535" in port.problem.text()
    dialog.tabs.setCurrentIndex(0)
    click(qtbot, dialog.save_button)

    assert dialog.isVisible() and dialog.tabs.currentWidget() is page
    assert outbox.mail_settings() == MailSettings() and outbox.get_password() is None
    # corrected: the problem goes, and Save writes
    type_into(qtbot, port.widget, "2525")
    assert not port.problem.isVisible()
    click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert outbox.mail_settings().port == 2525


def test_changing_security_moves_a_default_port(qtbot, dialog):  # noqa: ANN001
    fields = dialog.mail.form.fields
    assert fields["port"].value() == "587"
    fields["security"].set_value("tls")
    assert fields["port"].value() == "465"
    type_into(qtbot, fields["port"].widget, "2465")
    fields["security"].set_value("none")
    assert fields["port"].value() == "2465"  # typed by hand: kept


def test_send_test_email_delivers_to_the_server(qtbot, dialog, smtp_server):  # noqa: ANN001
    page = dialog.mail
    fill(qtbot, page, smtp_server)
    type_into(qtbot, page.test_to, "me@example.com")

    with qtbot.waitSignal(page.test_finished, timeout=10_000) as finished:
        click(qtbot, page.test_button)

    assert finished.args[0] is True
    assert page.test_result.text().startswith("Test email sent to me@example.com")
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ["me@example.com"] and got.login == "billdesk" and got.tls
    assert got.message["From"] == "Acme Accounts <accounts@acme.example>"
    # (nothing saved by a test)
    assert outbox.mail_settings() == MailSettings()


def test_a_refused_login_is_shown_beside_the_password(qtbot, dialog, smtp_server):  # noqa: ANN001
    page = dialog.mail
    fill(qtbot, page, smtp_server, password="wrong")

    with qtbot.waitSignal(page.test_finished, timeout=10_000) as finished:
        click(qtbot, page.test_button)

    assert finished.args[0] is False and "refused the login" in page.test_result.text()
    problem = page.form.fields["password"].problem
    assert problem.isVisible() and "535" in problem.text()
    assert smtp_server.messages == []


def test_the_three_groups_fields_start_in_one_column(qtbot, dialog):  # noqa: ANN001
    page = dialog.mail
    dialog.tabs.setCurrentWidget(page)
    dialog.show()
    qtbot.waitExposed(dialog)
    lefts = {name: field.mapTo(page, field.rect().topLeft()).x()
             for name, field in (("host", page.form.fields["host"].widget),
                                 ("from_name", page.form.fields["from_name"].widget),
                                 ("test_to", page.test_to))}
    assert len(set(lefts.values())) == 1, lefts
