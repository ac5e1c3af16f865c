"""Queueing email (E1, E2, E4; K1 copies): recipients, one email per
event (event_key), disabled templates, each event's email written in the
event's own transaction, deterministic Message-IDs, and the bulk path of
the billing run giving exactly what the single path gives."""

from __future__ import annotations

import datetime as dt

import pytest

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput
from billdesk.models import Email, EmailAttachment, EmailTemplate, Invoice, database
from billdesk.services import (
    billing_run,
    clients,
    contacts,
    credit,
    invoicing,
    mail,
    outbox,
    payments,
    quotes,
    settings,
    subscriptions,
    templates,
)
from billdesk.services.invoicing import LineInput

from billing_helpers import check_invariants, dump, new_client

NOW = dt.datetime(2026, 1, 20, 9, 30, 0)


@pytest.fixture
def company(db) -> settings.Company:  # noqa: ANN001
    return settings.save_company(settings.Company(
        name="Harbour Light Studio", address1="12 Quay Street", city="Bristol", postcode="BS1 4RN",
        country="GB", email="accounts@harbourlight.example", currency="GBP"))


@pytest.fixture
def client(company: settings.Company) -> int:
    client_id = new_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    contacts.add_contact(client_id, {"first_name": "Ivy", "last_name": "Invoice",
                                     "email": "ivy@example.com", "categories": "invoice,support"})
    contacts.add_contact(client_id, {"first_name": "Gus", "last_name": "General",
                                     "email": "gus@example.com", "categories": "general"})
    contacts.add_contact(client_id, {"first_name": "Ned", "last_name": "None",
                                     "email": "ned@example.com", "categories": ""})
    return client_id


def emails() -> list[Email]:
    return list(Email.select().order_by(Email.id))


def invoice_for(client_id: int, amount: str = "100.00", **extra) -> int:
    return invoicing.create_invoice(client_id, [LineInput("Consulting", amount, True)],
                                    date="2026-01-05", due_date="2026-01-19", **extra)


# --- recipients, dedupe, disabled ----------------------------------------------

def test_queue_template_addresses_client_and_copies_contacts_by_category(client: int) -> None:
    with mail.suppressed():
        invoice = invoice_for(client)
    email_id = mail.queue_template("invoice_created", client, invoice_id=invoice)
    row = mail.get_email(email_id)
    assert row.to_addr == "ada@example.com"
    assert row.cc == "ivy@example.com"  # invoice category only: not Gus (general), not Ned
    assert row.status == "Queued" and row.attempts == 0 and row.error == ""
    assert row.template == "invoice_created" and row.client_id == client
    assert row.next_attempt == row.created_at
    number = invoicing.get_invoice(invoice).number
    assert row.subject == f"Invoice #{number} from Harbour Light Studio"
    assert "Dear Ada," in row.body and "Consulting" in row.body
    assert [(a.kind, a.ref_id, a.filename) for a in row.attachments] == [
        ("invoice", invoice, f"invoice-{number}.pdf")]
    welcome = mail.get_email(mail.queue_template("welcome", client))
    assert welcome.cc == "gus@example.com" and welcome.attachments == []


def test_event_key_queues_once(client: int) -> None:
    first = mail.queue_template("welcome", client, event_key="welcome:client:1")
    assert first is not None
    assert mail.queue_template("welcome", client, event_key="welcome:client:1") is None
    assert Email.select().count() == 1


def test_a_disabled_template_queues_nothing(client: int) -> None:
    templates.set_disabled("invoice_created", "en", True)
    invoice_for(client)
    assert mail.queue_template("invoice_created", client) is None
    assert Email.select().count() == 0


def test_message_id_is_deterministic(client: int) -> None:
    with clock.frozen(NOW):
        email_id = mail.queue_template("welcome", client)
    row = mail.get_email(email_id)
    assert row.message_id == f"<billdesk.{email_id}.20260120093000@harbourlight.example>"
    assert row.created_at == NOW
    settings.save_company(settings.Company(name="No Mail Ltd", country="GB", currency="GBP"))
    with clock.frozen(NOW):
        other = mail.queue_template("general", client)
    assert mail.get_email(other).message_id == f"<billdesk.{other}.20260120093000@billdesk.invalid>"


def test_the_client_language_picks_template_and_formats(company: settings.Company) -> None:
    de = new_client(currency="EUR", country="DE", language="de", email="jurgen@example.de")
    invoice = invoicing.create_invoice(de, [LineInput("Hosting", "1019.99")],
                                       date="2026-01-05", due_date="2026-01-19")
    row = Email.get(Email.event_key == f"invoice_created:invoice:{invoice}")
    assert row.subject.startswith("Rechnung Nr.")
    assert "1.019,99\xa0€" in row.body and "19.01.2026" in row.body


# --- each event queues its email in its own transaction -------------------------------------

def test_welcome_only_when_asked(company: settings.Company) -> None:
    quiet = new_client()
    assert Email.select().count() == 0
    loud = clients.add_client({"first_name": "Wendy", "last_name": "Welcome",
                               "email": "wendy@example.com", "currency": "GBP", "country": "GB"},
                              welcome=True)
    [row] = emails()
    assert (row.client_id, row.template, row.event_key) == (
        loud, "welcome", f"welcome:client:{loud}")
    assert "Dear Wendy," in row.body
    assert quiet != loud


def test_a_refused_client_queues_no_welcome(company: settings.Company) -> None:
    with pytest.raises(InvalidInput):
        clients.add_client({"first_name": "", "last_name": "X", "email": "x@example.com"},
                           welcome=True)
    assert Email.select().count() == 0


def test_invoice_created_for_published_standard_invoices_only(client: int) -> None:
    published = invoice_for(client)
    draft = invoice_for(client, draft=True)
    invoicing.create_add_funds(client, "50.00")
    invoice_for(client, amount="0.00")  # nothing to pay: Paid at once
    assert [(e.template, e.event_key) for e in emails()] == [
        ("invoice_created", f"invoice_created:invoice:{published}")]
    invoicing.publish(draft)
    assert [e.event_key for e in emails()][-1] == f"invoice_created:invoice:{draft}"
    assert Email.select().count() == 2
    [attachment] = EmailAttachment.select().where(EmailAttachment.email == emails()[0].id)
    assert (attachment.kind, attachment.ref_id) == ("invoice", published)


def test_the_email_is_part_of_the_event_transaction(client: int) -> None:
    with pytest.raises(RuntimeError), database.atomic():
        invoice_for(client)
        assert Email.select().count() == 1  # written inside the transaction…
        raise RuntimeError("the event fails after the email was queued")
    assert Email.select().count() == 0  # …and gone with it
    assert Invoice.select().count() == 0


def test_payment_confirmation_per_payment(client: int) -> None:
    invoice = invoice_for(client, amount="100.00")  # no tax rule: £100.00
    before = Email.select().count()
    first = payments.add_payment(invoice, "40.00", date="2026-01-10", method="Bank transfer",
                                 reference="REF-1")
    second = payments.mark_paid(invoice, date="2026-01-12")
    rows = emails()[before:]
    assert [r.event_key for r in rows] == [f"payment_confirmation:txn:{first.transaction_id}",
                                           f"payment_confirmation:txn:{second.transaction_id}"]
    assert "Amount paid:  £40.00" in rows[0].body and "REF-1" in rows[0].body
    assert "Invoice status:            Unpaid" in rows[0].body
    assert "Invoice status:            Paid" in rows[1].body
    assert rows[0].cc == "ivy@example.com"
    files = EmailAttachment.select().where(EmailAttachment.email == rows[0].id)
    assert [a.kind for a in files] == ["invoice"]
    check_invariants(client)


def test_a_refused_payment_queues_nothing(client: int) -> None:
    invoice = invoice_for(client)
    before = dump()
    with pytest.raises(Conflict):
        payments.add_payment(invoice, "10.00", fee="20.00")  # a fee above the payment
    assert dump() == before
    payments.mark_paid(invoice)
    count = Email.select().count()
    with pytest.raises(Conflict):
        payments.add_payment(invoice, "10.00")  # Paid: takes no payments
    assert Email.select().count() == count


def test_credit_added_only_when_notifying(client: int) -> None:
    credit.add_credit(client, "10.00", "Quiet credit")
    assert Email.select().count() == 0
    entry = credit.add_credit(client, "25.00", "Goodwill credit", notify=True)
    [row] = emails()
    assert row.event_key == f"credit_added:credit:{entry}"
    assert "£25.00" in row.body and "Goodwill credit" in row.body and "£35.00" in row.body
    with pytest.raises(InvalidInput):
        credit.add_credit(client, "-5", "bad", notify=True)
    assert Email.select().count() == 1


def test_quote_delivered_whenever_the_stage_becomes_delivered(client: int) -> None:
    lines = [quotes.LineInput("Website redesign", "900.00")]
    draft = quotes.create_quote(client, lines, subject="New website")
    assert Email.select().count() == 0
    quotes.set_stage(draft, "Delivered")
    quotes.set_stage(draft, "Delivered")  # no change: nothing new
    quotes.set_stage(draft, "On hold")
    quotes.update_quote(draft, stage="Delivered")
    delivered = quotes.create_quote(client, lines, stage="Delivered")
    rows = emails()
    assert [r.event_key for r in rows] == [f"quote_delivered:quote:{draft}:1",
                                           f"quote_delivered:quote:{draft}:2",
                                           f"quote_delivered:quote:{delivered}:1"]
    assert rows[0].subject == f"Quote #{draft}: New website"
    assert "Website redesign" in rows[0].body and "£900.00" in rows[0].body
    files = EmailAttachment.select().where(EmailAttachment.email == rows[0].id)
    assert [(f.kind, f.ref_id, f.filename) for f in files] == [
        ("quote", draft, f"quote-{draft}.pdf")]


def test_generated_invoices_queue_their_emails_in_bulk(client: int) -> None:
    paid_by_credit = new_client(email="credit@example.com")
    credit.add_credit(paid_by_credit, "500.00", "Prepaid")
    for owner in (client, paid_by_credit):
        subscriptions.add_service(owner, name="Web Hosting", cycle="monthly", amount="10.00",
                                  next_due="2026-01-31", signup_date="2026-01-01")
    made = billing_run.generate_due(today="2026-01-20")
    assert len(made) == 2
    rows = emails()
    unpaid = [i for i in made.invoice_ids if invoicing.get_invoice(i).status == "Unpaid"]
    assert len(unpaid) == 1
    assert [r.event_key for r in rows] == [f"invoice_created:invoice:{unpaid[0]}"]
    assert rows[0].cc == "ivy@example.com" and "Web Hosting" in rows[0].body
    assert billing_run.generate_due(today="2026-01-20").invoice_ids == []
    assert Email.select().count() == 1


@pytest.mark.parametrize("name", ["invoice_created", "payment_reminder", "overdue_2"])
def test_bulk_path_equals_single_path(client: int, name: str) -> None:
    contacts.add_contact(client, {"first_name": "Bill", "last_name": "Ing",
                                  "email": "b@example.com", "categories": "invoice"}, billing=True)
    with mail.suppressed():
        invoice = invoicing.create_invoice(client, [LineInput("Hosting", "10.00", True),
                                                    LineInput("Domain", "12.99", False)],
                                           date="2026-01-05", due_date="2026-01-12")
        payments.add_payment(invoice, "5.00")
    assert Email.select().count() == 0
    key = f"{name}:invoice:{invoice}"
    with clock.frozen(NOW):
        single_id = mail.queue_template(name, client, invoice_id=invoice, event_key=key)
    single = mail.get_email(single_id)
    Email.delete().execute()
    with clock.frozen(NOW):
        assert mail.queue_invoice_emails_many(name, [invoice]) == 1
        assert mail.queue_invoice_emails_many(name, [invoice]) == 0  # once per event
    bulk = mail.get_email(emails()[0].id)

    def shape(row: mail.EmailRow) -> tuple:
        return (row.client_id, row.template, row.event_key, row.to_addr, row.cc, row.subject,
                row.body, row.status, row.created_at, row.next_attempt,
                [(a.position, a.filename, a.kind, a.ref_id) for a in row.attachments])

    assert shape(bulk) == shape(single)
    assert bulk.event_key == key and bulk.cc == "ivy@example.com,b@example.com"
    assert bulk.message_id == f"<billdesk.{bulk.id}.20260120093000@harbourlight.example>"
    assert [a.kind for a in bulk.attachments] == ["invoice"]
    if name == "invoice_created":
        assert "Credit:" in bulk.body and "Paid:         £5.00" in bulk.body
    if name == "overdue_2":
        assert "8 days overdue" in bulk.body  # 12 → 20 January, by the frozen clock


def test_bulk_path_handles_many_clients_languages_and_disabled(company: settings.Company) -> None:
    english = [new_client() for _ in range(3)]
    german = new_client(currency="EUR", country="DE", language="de")
    with mail.suppressed():
        ids = [invoice_for(c) for c in english + [german]]
    assert mail.queue_invoice_created_many(ids + ids) == 4
    rows = emails()
    assert [r.event_key for r in rows] == [f"invoice_created:invoice:{i}" for i in ids]
    assert rows[-1].subject.startswith("Rechnung")
    Email.delete().execute()
    templates.save_template("invoice_created", language="de", subject="Neu", body="x",
                            disabled=True)
    assert mail.queue_invoice_created_many(ids) == 3  # the German client's is off


def test_a_template_failing_at_send_time_fails_its_email_not_the_event(client: int) -> None:
    stamp = dt.datetime(2026, 1, 1)
    EmailTemplate.insert(name="payment_confirmation", language="en", kind="payment_confirmation",
                         category="invoice", subject="Receipt", body="{{ 1 / 0 }}",
                         created_at=stamp, updated_at=stamp).execute()
    invoice = invoice_for(client)
    result = payments.add_payment(invoice, "10.00")
    row = Email.get(Email.event_key == f"payment_confirmation:txn:{result.transaction_id}")
    assert row.status == "Failed" and "division by zero" in row.error and row.body == ""
    assert row.next_attempt is None  # the outbox does not try to send it


# --- messages typed by hand (E2) and the log (E4) ----------------------------------------

def test_queue_message_renders_placeholders_and_copies_by_category(client: int) -> None:
    email_id = mail.queue_message(client, subject="Hello {{ client.first_name }}",
                                  body="Your balance: {{ client.credit_balance }}",
                                  cc_category="support", template="",
                                  attachments=[mail.Attachment("notes.txt", "data",
                                                               content=b"hi")])
    row = mail.get_email(email_id)
    assert (row.subject, row.body, row.cc) == ("Hello Ada", "Your balance: £0.00",
                                               "ivy@example.com")
    assert [(a.filename, a.kind, a.content, a.size) for a in row.attachments] == [
        ("notes.txt", "data", b"hi", 2)]


@pytest.mark.parametrize("body", ["{{ ''.__class__ }}", "{{ client.nope }}", "{% if %}"])
def test_queue_message_refuses_bad_templates(client: int, body: str) -> None:
    before = dump()
    with pytest.raises(InvalidInput) as caught:
        mail.queue_message(client, subject="Hi", body=body)
    assert caught.value.field == "body"
    assert dump() == before


def test_attachments_are_checked(client: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        mail.queue_message(client, subject="s", body="b",
                           attachments=[mail.Attachment("x.pdf", "invoice")])
    assert caught.value.field == "attachments[1].ref_id"
    with pytest.raises(InvalidInput):
        mail.queue_message(client, subject="s", body="b", attachments=[mail.Attachment("", "data",
                                                                                      content=b"")])
    assert Email.select().count() == 0


def test_log_newest_first_and_recent_five(client: int) -> None:
    ids = [mail.queue_message(client, subject=f"Message {n}", body="b") for n in range(7)]
    assert [r.id for r in mail.emails(client)] == ids[::-1]
    assert [r.subject for r in mail.recent(client)] == [f"Message {n}" for n in (6, 5, 4, 3, 2)]
    assert mail.count(client) == 7
    assert mail.emails(client)[0].as_json()["to"] == "ada@example.com"


def test_every_clients_log_by_status_a_page_at_a_time(client: int) -> None:
    other = new_client(first_name="Bo", last_name="Brown", company="Brown Ltd",
                       email="bo@example.com")
    ids = [mail.queue_message(c, subject=f"Message {n}", body="b")
           for n, c in enumerate([client, other] * 3)]
    Email.update(status="Sent").where(Email.id == ids[0]).execute()
    Email.update(status="Failed", error="550 no such user").where(Email.id == ids[1]).execute()
    newest_first = ids[::-1]
    assert [r.id for r in mail.log()] == newest_first
    assert [r.id for r in mail.log(show="waiting")] == newest_first[:4]
    assert [r.id for r in mail.log(show="failed")] == [ids[1]]
    assert [r.id for r in mail.log(show="sent")] == [ids[0]]
    # pages: each starts below the last id of the one before
    first = mail.log(limit=4)
    assert [r.id for r in first + mail.log(before=first[-1].id, limit=4)] == newest_first
    waiting = mail.log(show="waiting", limit=3)
    assert [r.id for r in waiting + mail.log(show="waiting", before=waiting[-1].id)] == (
        newest_first[:4])
    assert mail.log(before=ids[0]) == []
    # the list needs no bodies; get_email reads one whole
    assert {r.body for r in mail.log()} == {""} and mail.get_email(ids[0]).body == "b"
    with pytest.raises(InvalidInput) as refused:
        mail.log(show="queued")
    assert refused.value.field == "show"
    # names as the client list shows them (C14)
    assert mail.client_names([client, other, None]) == {client: "Ada Lovelace",
                                                        other: "Bo Brown"}
    settings.set_display_format("company_or_name")
    assert mail.client_names([other])[other] == "Brown Ltd"


def test_suppressed_queues_nothing(client: int) -> None:
    with mail.suppressed():
        invoice_for(client)
        assert mail.queue_template("welcome", client) is None
    assert Email.select().count() == 0


@pytest.mark.parametrize("name", ["invoice_created", "overdue_1"])
def test_pending_then_rendered_equals_single_path(client: int, name: str) -> None:
    """The billing run queues its emails pending (in the invoice's
    transaction) and writes their text afterwards: the end is the message
    queue_template gives, written as of the render's clock."""
    with mail.suppressed():
        invoice = invoice_for(client)
    key = f"{name}:invoice:{invoice}"
    with clock.frozen(NOW):
        single = mail.get_email(mail.queue_template(name, client, invoice_id=invoice,
                                                    event_key=key))
    Email.delete().execute()
    with clock.frozen(NOW):
        number = invoicing.get_invoice(invoice).number
        assert mail.queue_invoice_emails_pending(name, [(invoice, client, number)]) == 1
        assert mail.queue_invoice_emails_pending(name, [(invoice, client, number)]) == 0
    waiting = mail.get_email(emails()[0].id)
    assert waiting.subject.endswith("written before it is sent)") and waiting.body == ""
    assert mail.pending_count() == 1
    with clock.frozen(NOW):
        assert mail.render_pending() == 1
    assert mail.pending_count() == 0 and mail.render_pending() == 0
    done = mail.get_email(emails()[0].id)
    assert (done.to_addr, done.cc, done.subject, done.body, done.status, done.created_at,
            done.next_attempt, [(a.filename, a.kind, a.ref_id) for a in done.attachments]) == (
        single.to_addr, single.cc, single.subject, single.body, single.status, single.created_at,
        single.next_attempt, [(a.filename, a.kind, a.ref_id) for a in single.attachments])


def test_an_email_held_back_before_its_text_is_written_gets_it_and_stays_held(
        client: int) -> None:
    """The invoice is cancelled while its email waits for its text (the
    window's courier writes a run's last day's a batch at a time): the
    message is held back ("Not sent"), and still gets its text — the Email
    log shows what was not sent, and Resend sends a copy with it."""
    subscriptions.add_service(client, name="Web Hosting", cycle="monthly", amount="10.00",
                              next_due="2026-01-31", signup_date="2026-01-01")
    (invoice,) = billing_run.generate_due(today="2026-01-20", write_emails=False).invoice_ids
    invoicing.cancel_invoice(invoice)
    (held,) = emails()
    assert (held.status, held.pending) == ("Failed", True)
    assert held.error == f"{outbox.HELD_BACK}invoice #{Invoice.get_by_id(invoice).number} " \
                         "was cancelled"
    copy = outbox.resend(held.id)  # (written first, then copied)
    held, again = mail.get_email(held.id), mail.get_email(copy)
    assert (held.status, held.pending, held.error.startswith(outbox.HELD_BACK)) == (
        "Failed", False, True)
    assert held.to_addr and "10.00" in held.body and held.attachments
    assert (again.status, again.to_addr, again.subject, again.body) == (
        "Queued", held.to_addr, held.subject, held.body)
    assert [a.kind for a in again.attachments] == ["invoice"]


def test_delivery_sends_none_before_an_older_email_still_without_its_text(
        client: int) -> None:
    """outbox.take writes as many as it may send, the oldest first; a newer
    message waits behind an older one still without its text."""
    subscriptions.add_service(client, name="Web Hosting", cycle="monthly", amount="10.00",
                              next_due="2026-01-31", signup_date="2026-01-01")
    billing_run.generate_due(today="2026-01-20", write_emails=False)
    newer = mail.queue_message(client, subject="Newer", body="Hi")
    pending = [e.id for e in emails() if e.pending]
    assert outbox._due(clock.now() + dt.timedelta(hours=1), 10, pending[0]) == []
    assert newer in outbox._due(clock.now() + dt.timedelta(hours=1), 10)


def test_the_daily_runs_generation_leaves_its_emails_pending_until_written(client: int) -> None:
    subscriptions.add_service(client, name="Web Hosting", cycle="monthly", amount="10.00",
                              next_due="2026-01-31", signup_date="2026-01-01")
    made = billing_run.generate_due(today="2026-01-20", write_emails=False)
    assert len(made) == 1 and mail.pending_count() == 1
    templates.save_template("invoice_created", language="en", subject="Invoice", body="x",
                            disabled=True)
    assert mail.render_pending() == 1  # disabled meanwhile: the message goes
    assert Email.select().count() == 0


def test_a_message_saved_as_a_template_is_both_or_neither(client: int) -> None:
    email_id = mail.queue_message(client, subject="Maintenance", body="Dear {{ client.first_name }}",
                                  save_as="Maintenance notice", language="en")
    assert mail.get_email(email_id).template == "Maintenance notice"
    assert templates.get_template("Maintenance notice").body == "Dear {{ client.first_name }}"
    before = dump()
    with pytest.raises(InvalidInput) as refused:
        mail.queue_message(client, subject="Again", body="x", save_as="Second notice",
                           attachments=[mail.Attachment("a.pdf", "data")])  # no bytes
    assert refused.value.field.startswith("attachments")
    assert dump() == before  # neither the template nor the message


def test_writing_an_email_does_not_load_reportlab() -> None:
    """Amounts, dates and addresses come from services/addresses.py: the
    daily run writes thousands of emails without importing the PDF code."""
    import subprocess
    import sys

    code = ("import sys, datetime\n"
            "from billdesk.services import automation, billing_run, mail\n"
            "fmt = mail._format('EUR', 'de')\n"
            "assert fmt.money(123456) == '1.234,56\\xa0€', fmt.money(123456)\n"
            "assert fmt.date('2026-03-01') == '01.03.2026', fmt.date('2026-03-01')\n"
            "assert mail._address_text('Hauptstr. 1', None, 'Berlin', None, '10115', 'DE', "
            "fmt.locale) == ('Hauptstr. 1\\n10115 Berlin\\nDeutschland', 'Deutschland')\n"
            "assert 'reportlab' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_cancelled_invoices_waiting_emails_are_not_sent(client: int) -> None:
    """Cancelling an invoice (by hand, or by closing the account) keeps
    its messages still waiting from going out — 'pay invoice X' about an
    invoice nobody owes — as Failed, saying why, so Resend can still send
    one. Those of other invoices, and those sent already, are left alone."""
    from billdesk.services import lifecycle, outbox

    first, second, kept = invoice_for(client), invoice_for(client), invoice_for(client)
    mail.queue_template("payment_reminder", client, invoice_id=first,
                        event_key=f"payment_reminder:invoice:{first}")
    sent = Email.get(Email.event_key == f"invoice_created:invoice:{second}")
    Email.update(status="Sent").where(Email.id == sent.id).execute()
    invoicing.cancel_invoice(first)
    withheld = {e.event_key: (e.status, e.error) for e in emails()
                if e.event_key and e.event_key.endswith(f":invoice:{first}")}
    label = invoicing.get_invoice(first).label
    assert withheld == {
        f"invoice_created:invoice:{first}": ("Failed", f"Not sent: invoice {label} was cancelled"),
        f"payment_reminder:invoice:{first}": ("Failed",
                                              f"Not sent: invoice {label} was cancelled")}
    assert Email.get(Email.event_key == f"invoice_created:invoice:{kept}").status == "Queued"
    # the close asks first, and says so (one email of one unpaid invoice still waits)
    assert "1 waiting email about those invoices not sent" in lifecycle.impact(
        client, "close").text()
    lifecycle.close_client(client)  # the others: cancelled with the account
    statuses = {e.event_key: e.status for e in emails() if e.event_key}
    assert statuses[f"invoice_created:invoice:{kept}"] == "Failed"
    assert statuses[f"invoice_created:invoice:{second}"] == "Sent"  # (gone already)
    assert outbox.waiting_count() == 0


def test_dates_and_amounts_follow_the_language_the_email_is_written_in(company) -> None:
    """A Spanish client gets the English template (none is written in
    Spanish): its dates and amounts read English too, not '7 dic 2026'. A
    German client gets the German template, with German dates."""
    from babel.dates import format_date

    due = dt.date(2026, 12, 7)
    written = {}
    for language in ("es", "de"):
        client_id = new_client(first_name="Ana", last_name=language.upper(),
                               email=f"ana.{language}@example.com", language=language)
        invoice_id = invoicing.create_invoice(client_id, [LineInput("Hosting", "56.95", True)],
                                              date="2026-11-30", due_date=due.isoformat())
        email_id = mail.queue_template("payment_reminder", client_id, invoice_id=invoice_id,
                                       event_key=f"payment_reminder:invoice:{invoice_id}")
        written[language] = mail.get_email(email_id).subject + "\n" + mail.get_email(
            email_id).body
    english = format_date(due, format="medium", locale="en")
    assert english in written["es"] and format_date(due, format="medium", locale="es") not in (
        written["es"])
    assert format_date(due, format="medium", locale="de") in written["de"]


def test_formats_follow_the_language_of_the_template_that_is_sent(company) -> None:
    """A custom template written in English only, sent to a German client:
    English text, so English dates and amounts ("Dec 7, 2026", not
    "07.12.2026"); the shipped German ones keep German formats."""
    from babel.dates import format_date

    due = dt.date(2026, 12, 7)
    client_id = new_client(first_name="Jürgen", last_name="Klein", email="j@example.com",
                           language="de", currency="EUR", country="DE")
    invoice_id = invoicing.create_invoice(client_id, [LineInput("Hosting", "1019.99")],
                                          date="2026-11-30", due_date=due.isoformat())
    templates.save_template("Maintenance", language="en", kind="custom",
                            subject="Due {{ invoice.due_date }}", body="{{ invoice.total }}")
    custom = mail.get_email(mail.queue_template("Maintenance", client_id, invoice_id=invoice_id))
    assert custom.subject == f"Due {format_date(due, format='medium', locale='en')}"
    assert custom.body == "€1,019.99"
    german = mail.get_email(mail.queue_template("payment_reminder", client_id,
                                                invoice_id=invoice_id))
    assert german.subject.startswith("Zahlungshinweis")
    assert "07.12.2026" in german.subject and "1.019,99\xa0€" in german.body


def test_a_paid_invoice_is_chased_no_more(client: int) -> None:
    """Paid (by a payment, or by credit in bulk), an invoice's reminders and
    overdue notices still waiting are not sent — its 'invoice created'
    email, and another invoice's reminder, still are."""
    first, second = invoice_for(client), invoice_for(client)
    for invoice_id in (first, second):
        for name in ("payment_reminder", "overdue_1"):
            mail.queue_template(name, client, invoice_id=invoice_id,
                                event_key=f"{name}:invoice:{invoice_id}")
    payments.add_payment(first, "120.00")
    assert invoicing.get_invoice(first).status == "Paid"
    label = invoicing.get_invoice(first).label
    statuses = {e.event_key: (e.status, e.error) for e in emails() if e.event_key}
    for name in ("payment_reminder", "overdue_1"):
        assert statuses[f"{name}:invoice:{first}"] == ("Failed",
                                                       f"Not sent: invoice {label} was paid")
        assert statuses[f"{name}:invoice:{second}"][0] == "Queued"
    assert statuses[f"invoice_created:invoice:{first}"][0] == "Queued"
    third = invoice_for(client)
    mail.queue_template("overdue_2", client, invoice_id=third,
                        event_key=f"overdue_2:invoice:{third}")
    with database.atomic():  # the run's bulk path (credit pays many at once), as well
        invoicing.set_paid_many([(second, dt.date(2026, 1, 21)), (third, dt.date(2026, 1, 21))])
    assert Email.get(Email.event_key == f"overdue_1:invoice:{second}").status == "Failed"
    assert Email.get(Email.event_key == f"overdue_2:invoice:{third}").status == "Failed"


def test_a_message_about_an_invoice_with_none_to_fill_it_from_is_refused(client: int) -> None:
    """Sent by hand (E2): a text using invoice, quote, payment, credit or
    statement placeholders with nothing to fill them from is refused,
    naming the part, and nothing is queued."""
    from billdesk.errors import InvalidInput

    invoice_text = templates.default_text("invoice_created", "en")
    for name, field in (("invoice_created", "invoice"), ("quote_delivered", "quote"),
                        ("payment_confirmation", "invoice"), ("credit_added", "credit"),
                        ("statement", "statement")):
        subject, body = templates.default_text(name, "en")
        with pytest.raises(InvalidInput) as refused:
            mail.queue_message(client, subject=subject, body=body, template=name)
        assert refused.value.field == field, name
    assert Email.select().count() == 0
    invoice_id = invoice_for(client)
    with pytest.raises(InvalidInput) as refused:  # an invoice, but no payment
        mail.queue_message(client, subject="Paid", body="{{ invoice.number }} {{ payment.amount }}",
                           invoice_id=invoice_id)
    assert refused.value.field == "payment"
    email_id = mail.queue_message(client, subject=invoice_text[0], body=invoice_text[1],
                                  invoice_id=invoice_id)
    number = invoicing.get_invoice(invoice_id).number
    assert mail.get_email(email_id).subject.startswith(f"Invoice #{number} from ")


def test_sending_a_sent_message_again_copies_it_with_its_attachments(client: int) -> None:
    """The first stays Sent when it was sent; the copy has its own
    Message-ID, no event key (the event was the first's) and the same
    attachments (the invoice PDF, drawn when sent)."""
    from billdesk.services import outbox

    invoice_id = invoice_for(client)  # (its "invoice created" email queued with it)
    email_id = Email.get(Email.event_key == f"invoice_created:invoice:{invoice_id}").id
    Email.update(status="Sent", sent_at="2026-11-30 07:35:00").where(Email.id == email_id).execute()
    again = outbox.resend(email_id)
    first, copy = Email.get_by_id(email_id), Email.get_by_id(again)
    assert first.status == "Sent" and str(first.sent_at).startswith("2026-11-30 07:35")
    assert (copy.status, copy.event_key, copy.subject, copy.to_addr) == (
        "Queued", None, first.subject, first.to_addr)
    assert copy.message_id != first.message_id
    attached = [(a.filename, a.kind, a.ref_id) for a in EmailAttachment.select().where(
        EmailAttachment.email == again)]
    assert attached == [(a.filename, a.kind, a.ref_id) for a in EmailAttachment.select().where(
        EmailAttachment.email == email_id)] and attached[0][1:] == ("invoice", invoice_id)
