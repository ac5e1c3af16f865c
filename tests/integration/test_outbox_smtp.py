"""Delivery of the outbox (SPEC.md E3) through a real SMTP server started
here on 127.0.0.1 (aiosmtpd; tests/smtp_helpers.py): what arrives (envelope
and headers, body, the invoice PDF read back with pypdf), STARTTLS/TLS and
login, the server going down and coming back (back-off, sent exactly once),
permanent refusals and resend, a crash between sending and marking sent
(at most one resend, same Message-ID), and where the password is kept."""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import logging
import os
import stat
import subprocess
import sys
import textwrap

import pytest
from pypdf import PdfReader

from billdesk.errors import Conflict, InvalidInput, ValidationFailed
from billdesk.models import Email, EmailAttachment
from billdesk.services import clients, invoicing, outbox
from billdesk.services.outbox import MailSettings

from smtp_helpers import PASSWORD, SmtpServer, no_keyring

T0 = dt.datetime(2020, 3, 2, 9, 0, 0)  # before any message written at the real time
SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})


@pytest.fixture
def book(db):  # noqa: ANN001, ANN201
    return db


@pytest.fixture
def server(smtp_server, book):  # noqa: ANN001, ANN201
    """The test server (STARTTLS + login), with billdesk's mail settings
    pointing at it."""
    smtp_server.configure()
    return smtp_server


@pytest.fixture
def client_id(book) -> int:  # noqa: ANN001
    return clients.add_client({"first_name": "Grace", "last_name": "Hopper",
                               "email": "grace@example.com", "currency": "GBP", "country": "GB"})


_ids = iter(range(1, 10_000))


def queue(client_id: int | None = None, *, to: str = "Grace Hopper <grace@example.com>",
          cc: str = "", subject: str = "Hello", body: str = "Hello Grace",
          attachments: tuple[tuple[str, str, int | None, bytes | None], ...] = (),
          created_at: dt.datetime = T0, status: str = "Queued") -> int:
    """An outbox row, as services/mail.py writes them."""
    n = next(_ids)
    email_id = Email.insert(
        client=client_id, template="general", message_id=f"<billdesk.{n}.{created_at:%Y%m%d%H%M%S}"
        "@billdesk.example>", to_addr=to, cc=cc, subject=subject, body=body, status=status,
        created_at=created_at, next_attempt=created_at).execute()
    for position, (filename, kind, ref_id, content) in enumerate(attachments):
        EmailAttachment.insert(email=email_id, position=position, filename=filename, kind=kind,
                               ref_id=ref_id, content=content).execute()
    return email_id


def row(email_id: int) -> Email:
    return Email.get_by_id(email_id)


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).translate(
        SPACES)


# --- what arrives -----------------------------------------------------------------

def test_a_queued_message_arrives_with_recipients_headers_body_and_invoice_pdf(server, client_id):
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Web hosting", "120.00"),
                                                      invoicing.LineInput("Domain", "9.99")])
    inv = invoicing.get_invoice(invoice_id)
    body = f"Dear Grace,\n\ninvoice {inv.number} for {inv.total.format('en')} is ready.\nGrüße\n"
    email_id = queue(client_id, cc="Accounts Dept <billing@example.com>, boss@example.com",
                     subject=f"Invoice {inv.number} — {inv.total.format('en')}", body=body,
                     attachments=((f"invoice-{inv.number}.pdf", "invoice", invoice_id, None),
                                  ("terms.txt", "data", None, "Pay within 14 days.\n".encode())))

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed, result.reason) == (1, 0, "")
    [got] = server.wait_for(1)
    stored = row(email_id)
    # the envelope: To and every Cc; from the configured sender; over TLS, logged in
    assert got.rcpt_tos == ["grace@example.com", "billing@example.com", "boss@example.com"]
    assert got.mail_from == "accounts@billdesk.example"
    assert got.tls and got.login == "billdesk"
    msg = got.message
    assert msg["Message-ID"] == stored.message_id
    assert msg["From"] == "Billdesk Accounts <accounts@billdesk.example>"
    assert msg["To"] == "Grace Hopper <grace@example.com>"
    assert msg["Cc"] == "Accounts Dept <billing@example.com>, boss@example.com"
    assert msg["Subject"] == f"Invoice {inv.number} — {inv.total.format('en')}"
    assert email.utils.parsedate_to_datetime(msg["Date"]) == T0.astimezone()
    assert got.body == body
    # the invoice PDF, drawn at delivery, reads back with its number and total
    [(pdf_name, pdf_type, pdf), (txt_name, txt_type, txt)] = got.attachments()
    assert (pdf_name, pdf_type) == (f"invoice-{inv.number}.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert inv.number in text and inv.total.format("en").translate(SPACES) in text
    assert "Web hosting" in text
    assert (txt_name, txt_type, txt) == ("terms.txt", "text/plain", b"Pay within 14 days.\n")
    # marked sent, when it went
    assert (stored.status, stored.attempts, stored.error) == ("Sent", 1, "")
    assert stored.sent_at is not None and stored.next_attempt is None


def test_bcc_addresses_get_a_copy_on_the_envelope_only(smtp_server, book, client_id):  # noqa: ANN001
    """WHMCS's "BCC Messages": every client email is copied to the Bcc
    addresses of Settings → Mail — on the envelope, never in a header the
    client sees; an address already a recipient is not sent to twice."""
    smtp_server.configure(bcc="archive@example.com; Boss@example.com, archive@example.com")
    assert outbox.mail_settings().bcc == "archive@example.com, Boss@example.com"
    email_id = queue(client_id, cc="boss@example.com")
    assert outbox.deliver(now=T0).sent == 1
    client_copy, owner_copy = smtp_server.wait_for(2)
    assert client_copy.rcpt_tos == ["grace@example.com", "boss@example.com"]
    assert owner_copy.rcpt_tos == ["archive@example.com"]  # (a transaction of its own)
    for got in (client_copy, owner_copy):
        assert got.message["Bcc"] is None and "archive" not in got.message.as_string()
        assert (got.message["To"], got.message["Cc"]) == ("Grace Hopper <grace@example.com>",
                                                          "boss@example.com")
    assert row(email_id).status == "Sent"


def test_whether_an_email_went_is_judged_on_the_clients_addresses_not_the_bcc(
        smtp_server, book, client_id):  # noqa: ANN001
    """The client's address refused, the owner's copy taken: Failed, as
    without a Bcc; the owner's address refused: Sent, and the client's
    record never names the Bcc address."""
    smtp_server.configure(bcc="archive@owner.example")
    smtp_server.refuse = {"grace@example.com"}
    refused = queue(client_id)
    assert outbox.deliver(now=T0).failed == 1
    assert row(refused).status == "Failed" and "grace@example.com" in row(refused).error
    assert smtp_server.messages == []  # (no copy for the owner of a message that did not go)
    smtp_server.refuse = {"archive@owner.example"}
    sent = queue(client_id)
    assert outbox.deliver(now=T0).sent == 1
    assert (row(sent).status, row(sent).error) == ("Sent", "")
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ["grace@example.com"]
    assert "owner.example" not in row(sent).error + row(refused).error


def test_holding_back_the_waiting_emails_stops_at_those_asked_about(book, client_id):  # noqa: ANN001
    """Mail set up, No: what waited when the question was asked is held
    back; what a run queued meanwhile is not."""
    old = queue(client_id, subject="Old")
    asked = outbox.backlog()
    assert (asked.count, asked.newest_id) == (1, old)
    newer = queue(client_id, subject="Queued meanwhile")
    assert outbox.hold_back_waiting(asked.newest_id) == 1
    assert (row(old).status, row(old).error) == ("Failed", "Not sent: it waited for mail to "
                                                           "be set up")
    assert row(newer).status == "Queued"


def test_bcc_is_checked_address_by_address(book):  # noqa: ANN001
    settings = outbox.MailSettings(host="mail.example.com", from_address="a@example.com",
                                   bcc="ok@example.com, not-an-address")
    assert [(p.field, p.message) for p in settings.problems()] == [
        ("bcc", "'not-an-address' is not a valid email address")]
    with pytest.raises(ValidationFailed) as refused:
        outbox.save_mail_settings(settings)
    assert refused.value.problems[0].field == "bcc" and not outbox.is_configured()


def test_an_invoice_email_queued_by_publishing_arrives_rendered_with_cc_by_category(server,
                                                                                      client_id):
    """End to end: publishing an invoice queues invoice_created (services/
    mail.py) in its transaction; delivery brings it to the server with the
    contacts whose categories include 'invoice' copied, and the PDF."""
    from billdesk.services import contacts

    contacts.add_contact(client_id, {"first_name": "Ivy", "last_name": "Invoices",
                                     "email": "ivy@example.com", "categories": ["invoice"]})
    contacts.add_contact(client_id, {"first_name": "Sam", "last_name": "Support",
                                     "email": "sam@example.com", "categories": ["support"]})
    invoice_id = invoicing.create_invoice(client_id, [invoicing.LineInput("Consulting", "250.00")])
    inv = invoicing.get_invoice(invoice_id)
    [queued] = Email.select().where(Email.event_key == f"invoice_created:invoice:{invoice_id}")

    result = outbox.deliver()

    assert result.sent == 1
    [got] = server.wait_for(1)
    assert got.rcpt_tos == ["grace@example.com", "ivy@example.com"]
    assert got.message["Message-ID"] == queued.message_id
    assert got.message["Subject"] == queued.subject and f"#{inv.number}" in queued.subject
    assert got.body == queued.body.replace("\r\n", "\n")
    assert "Dear Grace" in got.body and "Consulting" in got.body
    [(name, kind, pdf)] = got.attachments()
    assert kind == "application/pdf" and inv.number in name
    text = pdf_text(pdf)
    assert inv.number in text and inv.total.format("en").translate(SPACES) in text
    assert row(queued.id).status == "Sent"


def test_one_connection_carries_every_due_message_oldest_first(server, client_id):
    ids = [queue(client_id, subject=f"Message {n}") for n in range(3)]
    later = queue(client_id, subject="Not yet", created_at=T0 + dt.timedelta(hours=1))
    opened = []

    def factory(settings, password):  # noqa: ANN001, ANN202
        opened.append(settings.host)
        return outbox.connect(settings, password)

    result = outbox.deliver(now=T0, smtp_factory=factory)

    assert (result.sent, result.waiting) == (3, 1) and len(opened) == 1
    assert [m.message["Subject"] for m in server.wait_for(3)] == [
        "Message 0", "Message 1", "Message 2"]
    assert all(row(i).status == "Sent" for i in ids) and row(later).status == "Queued"
    # limit: at most so many
    assert outbox.deliver(now=T0 + dt.timedelta(hours=2), limit=0).sent == 0
    assert outbox.deliver(now=T0 + dt.timedelta(hours=2), limit=1).sent == 1


@pytest.mark.parametrize("mode", ["tls", "none"])
def test_tls_from_the_start_and_no_encryption(mode, tmp_path, book, client_id, monkeypatch):
    with SmtpServer(tmp_path / mode, mode=mode, user=None if mode == "none" else "billdesk") as srv:
        monkeypatch.setenv("SSL_CERT_FILE", str(srv.ca_file))
        no_keyring(monkeypatch)
        srv.configure()
        queue(client_id)

        assert outbox.deliver(now=T0).sent == 1
        [got] = srv.wait_for(1)
        assert got.tls == (mode == "tls")
        assert got.login == ("billdesk" if mode == "tls" else None)


# --- the server away --------------------------------------------------------------

def test_server_down_message_waits_with_back_off_and_is_sent_once_when_it_is_back(server,
                                                                                    client_id):
    email_id = queue(client_id, subject="Your invoice")
    server.stop()

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed, result.deferred, result.waiting) == (0, 0, 1, 1)
    assert "refused the connection" in result.reason
    stored = row(email_id)
    assert (stored.status, stored.attempts) == ("Queued", 1)
    assert "refused the connection" in stored.error
    assert stored.next_attempt == T0 + dt.timedelta(minutes=1)
    # down again at the next try: 5 minutes more
    result = outbox.deliver(now=T0 + dt.timedelta(minutes=1))
    stored = row(email_id)
    assert (stored.status, stored.attempts) == ("Queued", 2)
    assert stored.next_attempt == T0 + dt.timedelta(minutes=6)

    server.start()
    # back, but the message's time has not come: nothing is sent
    early = outbox.deliver(now=T0 + dt.timedelta(minutes=5))
    assert (early.sent, early.waiting, early.reason) == (0, 1, "")
    assert server.messages == [] and row(email_id).status == "Queued"
    # its time: sent, exactly once
    assert outbox.deliver(now=T0 + dt.timedelta(minutes=6)).sent == 1
    assert outbox.deliver(now=T0 + dt.timedelta(days=1)).sent == 0
    [got] = server.wait_for(1)
    assert got.message["Subject"] == "Your invoice"
    stored = row(email_id)
    assert (stored.status, stored.attempts, stored.error) == ("Sent", 3, "")


def test_send_now_tries_a_message_waiting_out_its_back_off(server, client_id):
    email_id = queue(client_id, subject="Your invoice")
    server.stop()
    outbox.deliver(now=T0)
    server.start()
    later = T0 + dt.timedelta(seconds=30)  # back, before the message's next try
    assert outbox.deliver(now=later).sent == 0
    assert outbox.deliver(now=later, retry_now=True).sent == 1
    [got] = server.wait_for(1)
    assert got.message["Subject"] == "Your invoice" and row(email_id).status == "Sent"


def test_back_off_schedule():
    assert [outbox.backoff(n) for n in range(1, 8)] == [
        dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 240, 240, 240)]


def test_a_4xx_reply_keeps_it_queued(server, client_id):
    email_id = queue(client_id)
    server.data_reply = "451 4.3.0 Mailbox busy, try later"

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed, result.deferred) == (0, 0, 1)
    stored = row(email_id)
    assert (stored.status, stored.attempts) == ("Queued", 1)
    assert "451" in stored.error and stored.next_attempt == T0 + dt.timedelta(minutes=1)


def test_a_wrong_password_or_untrusted_certificate_keeps_messages_waiting(server, client_id,
                                                                          monkeypatch, caplog):
    email_id = queue(client_id)
    outbox.set_password("not the password")
    caplog.set_level(logging.DEBUG, logger="billdesk")

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed, result.deferred) == (0, 0, 1)
    assert "refused the login" in result.reason and "535" in row(email_id).error
    assert row(email_id).status == "Queued"
    assert server.logins and not any(ok for _user, ok in server.logins)
    assert "not the password" not in caplog.text

    outbox.set_password(PASSWORD)
    monkeypatch.delenv("SSL_CERT_FILE")  # the test authority no longer trusted
    result = outbox.deliver(now=T0 + dt.timedelta(hours=1))
    assert result.sent == 0 and "certificate is not trusted" in result.reason
    assert server.messages == []


# --- refused for good -------------------------------------------------------------

def test_a_5xx_reply_fails_the_message_and_resend_sends_it(server, client_id):
    email_id = queue(client_id, subject="Overdue notice")
    message_id = row(email_id).message_id
    server.data_reply = "554 5.7.1 Message rejected as spam"

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed, result.waiting) == (0, 1, 0)
    stored = row(email_id)
    assert stored.status == "Failed" and "554 5.7.1 Message rejected as spam" in stored.error
    assert outbox.deliver(now=T0 + dt.timedelta(days=1)).sent == 0  # failed stays failed

    server.data_reply = None
    outbox.resend(email_id)
    stored = row(email_id)
    assert (stored.status, stored.error, stored.message_id) == ("Queued", "", message_id)
    assert outbox.deliver().sent == 1
    [got] = server.wait_for(1)
    assert got.message["Message-ID"] == message_id and row(email_id).status == "Sent"
    # a sent message can be sent again: it goes out as a new message, and the
    # first stays in the log as sent when it was
    sent_at = row(email_id).sent_at
    again = outbox.resend(email_id)
    assert again != email_id
    assert (row(email_id).status, row(email_id).sent_at) == ("Sent", sent_at)
    assert outbox.deliver().sent == 1
    second = server.wait_for(2)[1].message["Message-ID"]
    assert second != message_id and second == row(again).message_id
    assert row(again).status == "Sent" and row(again).subject == row(email_id).subject


def test_resend_refuses_what_is_not_failed_or_sent(server, client_id):
    email_id = queue(client_id)
    with pytest.raises(Conflict):
        outbox.resend(email_id)
    with pytest.raises(Exception, match="no email"):
        outbox.resend(999_999)


def test_refused_recipients(server, client_id):
    everyone = queue(client_id, to="ghost@example.com", cc="phantom@example.com")
    some = queue(client_id, to="grace@example.com", cc="ghost@example.com")
    server.refuse = {"ghost@example.com", "phantom@example.com"}

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed) == (1, 1)
    failed = row(everyone)
    assert failed.status == "Failed" and "ghost@example.com: 550" in failed.error
    partly = row(some)
    assert partly.status == "Sent" and "ghost@example.com" in partly.error
    [got] = server.wait_for(1)
    assert got.rcpt_tos == ["grace@example.com"]


def test_a_message_whose_invoice_is_gone_fails_without_stopping_the_others(server, client_id):
    broken = queue(client_id, attachments=(("invoice.pdf", "invoice", 424242, None),))
    fine = queue(client_id)

    result = outbox.deliver(now=T0)

    assert (result.sent, result.failed) == (1, 1)
    assert row(broken).status == "Failed" and "invoice.pdf" in row(broken).error
    assert row(fine).status == "Sent"


# --- a crash between sending and marking sent -------------------------------------

class Crash(BaseException):
    """The process dying right after the server took the message."""


def test_a_message_left_sending_by_a_crash_is_sent_again_once_with_the_same_message_id(
        server, client_id, monkeypatch):
    email_id = queue(client_id, subject="Receipt")
    untried = queue(client_id, subject="Next in line")
    message_id = row(email_id).message_id

    def crash(email_id, refused):  # noqa: ANN001, ANN202
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_mark_sent", crash)
        with pytest.raises(Crash):
            outbox.deliver(now=T0)
    assert row(email_id).status == "Sending"
    assert (row(untried).status, row(untried).attempts) == ("Queued", 0)  # not tried: waits
    assert len(server.wait_for(1)) == 1

    result = outbox.deliver(now=T0)

    assert result.sent == 2
    first, again, other = server.wait_for(3)
    assert first.message["Message-ID"] == again.message["Message-ID"] == message_id
    assert other.message["Subject"] == "Next in line"
    assert row(email_id).status == row(untried).status == "Sent"
    assert outbox.deliver(now=T0 + dt.timedelta(days=1)).sent == 0
    assert len(server.messages) == 3  # at most one resend


def test_kill_9_between_sending_and_marking_leads_to_one_resend(server, client_id, db_path):
    """A real crash: a separate process is killed (SIGKILL) the moment the
    server has the message; the delivery lock it held dies with it."""
    email_id = queue(client_id, subject="Killed")
    script = textwrap.dedent(f"""
        import os, signal
        from billdesk.models import init_db
        from billdesk.services import outbox
        outbox._keyring = lambda: None
        def die(email_id, refused):
            os.kill(os.getpid(), signal.SIGKILL)
        outbox._mark_sent = die
        init_db({str(db_path)!r})
        outbox.deliver()
    """)
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    assert row(email_id).status == "Sending" and len(server.wait_for(1)) == 1

    assert outbox.deliver().sent == 1
    assert row(email_id).status == "Sent"
    assert outbox.deliver().sent == 0
    assert [m.message["Message-ID"] for m in server.messages] == [row(email_id).message_id] * 2


def test_only_one_delivery_at_a_time(server, client_id):
    queue(client_id)
    with outbox._delivery_lock() as held:
        assert held
        result = outbox.deliver(now=T0)
    assert (result.sent, result.reason) == (0, outbox.BUSY)
    assert outbox.deliver(now=T0).sent == 1


# --- settings and the password ----------------------------------------------------

def test_not_set_up_sends_nothing_and_says_so(book, client_id):
    email_id = queue(client_id)

    result = outbox.deliver(now=T0)

    assert (result.sent, result.waiting, result.reason) == (0, 1, outbox.NOT_CONFIGURED)
    stored = row(email_id)
    assert (stored.status, stored.attempts, stored.error) == ("Queued", 0, "")


def test_settings_are_checked_field_by_field(book):
    with pytest.raises(ValidationFailed) as refused:
        outbox.save_mail_settings(MailSettings(host="smtp://mail.example.com", port=70000,
                                               security="ssl", from_address="accounts@",
                                               timeout=0))
    assert {p.field for p in refused.value.problems} == {
        "host", "port", "security", "from_address", "timeout"}
    with pytest.raises(ValidationFailed) as refused:
        outbox.save_mail_settings(MailSettings(host="mail.example.com", port="abc"))
    assert {p.field for p in refused.value.problems} == {"port", "from_address"}
    assert outbox.mail_settings() == MailSettings()  # nothing written

    saved = outbox.save_mail_settings(MailSettings(
        host=" mail.example.com ", port="465", security="tls", username="me",
        from_address="me@example.com", from_name="Me"))
    assert outbox.mail_settings() == saved == MailSettings(
        host="mail.example.com", port=465, security="tls", username="me",
        from_address="me@example.com", from_name="Me", timeout=30)
    assert outbox.save_mail_settings(MailSettings()) == MailSettings()  # blank: mail off


def test_password_file_is_private_and_never_in_the_database(server, client_id, db_path,
                                                            billdesk_home):
    assert outbox.password_store() == "file"
    path = outbox.password_file()
    assert path.is_relative_to(billdesk_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert outbox.get_password() == PASSWORD
    queue(client_id)
    assert outbox.deliver(now=T0).sent == 1  # (logged in with it)

    secret = PASSWORD.encode("utf-8")
    for file in db_path.parent.glob(db_path.name + "*"):
        assert secret not in file.read_bytes(), file
    # forgetting it removes the file
    outbox.set_password("")
    assert not path.exists() and outbox.get_password() is None


def test_the_system_keyring_is_used_where_there_is_one(book, monkeypatch):
    import keyring
    from keyring.backends import fail, null

    class MemoryKeyring:  # (not a KeyringBackend subclass: those register themselves)
        priority = 1
        name = "Memory"

        def __init__(self) -> None:
            self.store: dict = {}

        def get_password(self, service, username):  # noqa: ANN001, ANN201
            return self.store.get((service, username))

        def set_password(self, service, username, password):  # noqa: ANN001, ANN201
            self.store[(service, username)] = password

        def delete_password(self, service, username):  # noqa: ANN001, ANN201
            self.store.pop((service, username), None)

    for unusable in (fail.Keyring(), null.Keyring()):
        monkeypatch.setattr(keyring, "get_keyring", lambda unusable=unusable: unusable)
        assert outbox.password_store() == "file" and outbox.keyring_name() == ""
    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: memory)
    outbox.set_password("left from before")
    assert outbox.password_store() == "keyring" and outbox.keyring_name() == "Memory"
    assert outbox.set_password("kept in the keyring") == "keyring"
    assert list(memory.store.values()) == ["kept in the keyring"]
    assert not outbox.password_file().exists()
    assert outbox.get_password() == "kept in the keyring"
    # a keyring that refuses: the file, readable by the user only
    monkeypatch.setattr(memory, "set_password", lambda *a: (_ for _ in ()).throw(OSError("locked")))
    assert outbox.set_password("in a file") == "file"
    assert outbox.get_password() == "in a file"
    assert stat.S_IMODE(outbox.password_file().stat().st_mode) == 0o600
    outbox.set_password("")
    assert memory.store == {} and not outbox.password_file().exists()


def test_test_connection_names_the_field_at_fault(server):
    outbox.test_connection(outbox.mail_settings(), PASSWORD)
    with pytest.raises(InvalidInput) as refused:
        outbox.test_connection(outbox.mail_settings(), "wrong")
    assert refused.value.field == "password" and "535" in refused.value.message
    server.stop()
    with pytest.raises(InvalidInput) as refused:
        outbox.test_connection(outbox.mail_settings())
    assert refused.value.field == "host" and "refused the connection" in refused.value.message


def test_send_test_email_goes_straight_to_the_server(server):
    assert outbox.send_test_email(outbox.mail_settings(), to="me@example.com") == "me@example.com"
    [got] = server.wait_for(1)
    assert got.rcpt_tos == ["me@example.com"] and got.message["Subject"] == "billdesk test email"


# --- the window's delivery in three parts (take on the worker, send beside it, record) -------

def test_take_send_record_deliver_and_hold_the_lock_between(server, client_id):
    first = queue(client_id, subject="One")
    second = queue(client_id, subject="Two")
    taken = outbox.take(now=T0, limit=5)
    assert isinstance(taken, outbox.Outgoing) and len(taken) == 2
    assert {row(first).status, row(second).status} == {"Sending"}
    # another delivery meanwhile (the CLI's daily run, another window) leaves them alone
    assert outbox.deliver(now=T0).reason == outbox.BUSY
    assert outbox.take(now=T0).reason == outbox.BUSY
    outcomes = outbox.send(taken)  # (no database: the window runs it on its own thread)
    assert [o.what for o in outcomes] == ["sent", "sent"]
    assert server.wait_for(2) and row(first).status == "Sending"  # marked by record alone
    result = outbox.record(taken, outcomes)
    assert (result.sent, result.failed, result.waiting) == (2, 0, 0)
    assert row(first).status == row(second).status == "Sent"
    assert [m.message["Message-ID"] for m in server.messages] == [row(first).message_id,
                                                                  row(second).message_id]
    assert outbox.take(now=T0) == outbox.DeliveryResult()  # the lock is free, nothing due


def test_record_without_outcomes_puts_the_batch_back_and_unknown_is_sent_once_more(
        server, client_id):
    first = queue(client_id, subject="One")
    second = queue(client_id, subject="Two")
    taken = outbox.take(now=T0)
    result = outbox.record(taken, [])  # send never ran (the thread failed to start)
    assert (result.sent, result.deferred, result.waiting) == (0, 0, 2)
    assert row(first).status == row(second).status == "Queued" and row(first).attempts == 0
    taken = outbox.take(now=T0)
    # the first may have gone out (sending stopped on a bug), the second was never tried
    outbox.record(taken, [outbox.Outcome(first, "unknown"), outbox.Outcome(second, "untried")])
    assert (row(first).status, row(second).status) == ("Sending", "Queued")
    assert outbox.deliver(now=T0).sent == 2  # the crash rule: sent again, same Message-ID
    assert sorted(m.message["Subject"] for m in server.wait_for(2)) == ["One", "Two"]


def test_send_to_a_server_that_is_down_defers_the_batch_with_the_reason(
        server, client_id):
    email_id = queue(client_id)
    taken = outbox.take(now=T0)
    server.stop()
    outcomes = outbox.send(taken)
    assert [o.what for o in outcomes] == ["lost"] and "refused the connection" in outcomes[0].error
    result = outbox.record(taken, outcomes)
    assert result.deferred == 1 and "refused the connection" in result.reason
    stored = row(email_id)
    assert stored.status == "Queued" and stored.attempts == 1
    assert stored.next_attempt == T0 + dt.timedelta(minutes=1)


def test_take_lets_go_of_the_lock_when_putting_the_batch_back_fails(
        db_path, server, client_id, monkeypatch):  # noqa: ANN001
    """A message that cannot be put together while another process holds
    the book (cron's run): take fails, and the outbox is free afterwards."""
    import sqlite3

    queue(client_id)
    other = sqlite3.connect(db_path, timeout=0.1, isolation_level=None)

    def build(email_id, settings=None):  # noqa: ANN001, ANN202
        other.execute("BEGIN IMMEDIATE")  # (the book's write lock, taken elsewhere)
        raise ValueError("a broken message")

    real_build = outbox.build_message
    monkeypatch.setattr(outbox, "build_message", build)
    outbox.database.execute_sql("PRAGMA busy_timeout = 100")
    with pytest.raises(Exception, match="locked"):
        outbox.take(now=T0)
    other.execute("ROLLBACK")
    other.close()
    assert not outbox._thread_lock.locked()
    monkeypatch.setattr(outbox, "build_message", real_build)
    # the message could not be put back: left 'Sending', it goes with the next delivery
    taken = outbox.take(now=T0)
    assert isinstance(taken, outbox.Outgoing)
    assert outbox.record(taken, outbox.send(taken)).sent == 1


def test_record_marks_as_it_goes_then_once_at_the_end(server, client_id):
    first, second = queue(client_id, subject="One"), queue(client_id, subject="Two")
    taken = outbox.take(now=T0)
    outcomes = outbox.send(taken)
    partial = outbox.record(taken, outcomes[:1], final=False)
    assert (row(first).status, row(second).status) == ("Sent", "Sending")
    assert partial.sent == 1 and outbox.take(now=T0).reason == outbox.BUSY  # (still held)
    result = outbox.record(taken, outcomes)  # the first is not marked twice
    assert (result.sent, result.failed, result.waiting) == (2, 0, 0)
    assert row(first).attempts == 1 and row(second).status == "Sent"
    assert outbox.record(taken, outcomes, final=False).sent == 0  # after the end: nothing
    assert row(first).attempts == 1 and not outbox._thread_lock.locked()
