"""Email from the windows (E1, E2, E4, C1, C4, K1): Send email… from a
client's window with a template and the invoice PDF, previewed, arrives at
a real SMTP server (aiosmtpd on 127.0.0.1) with the rendered subject and
body, the contact whose categories match on Cc, and the PDF; the Emails
tab and the Summary's recent emails then show it as Sent. A new message
saved as a template shows on the templates page; a template reaching for
Python internals is refused there, beside the body, and nothing is saved;
the new-client form's welcome option queues a welcome email; Resend puts a
failed message back in the outbox."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QMessageBox, QPushButton

from billdesk.services import contacts, invoicing
from billdesk.services.invoicing import LineInput

from gui_helpers import click, shown, type_into, visible, wait_for


@pytest.fixture
def client_book(client_book: int) -> int:
    """Grace Hopper with two contacts — one copied on invoices, one on
    general mail only — and one published invoice."""
    contacts.add_contact(client_book, {"first_name": "Ivy", "last_name": "Ledger",
                                       "email": "ivy@example.com", "categories": ["invoice"]})
    contacts.add_contact(client_book, {"first_name": "Gene", "last_name": "Ral",
                                       "email": "gene@example.com", "categories": ["general"]})
    invoicing.create_invoice(client_book, [LineInput("Web hosting", "10.00")])
    return client_book


def the_invoice(client_id: int):  # noqa: ANN201
    return invoicing.page(client_id)[0]


def open_email_dialog(qtbot, window):  # noqa: ANN001, ANN201
    from billdesk.views.email_dialog import EmailDialog

    button = window.summary.billing.findChild(QPushButton, "sendEmail")
    assert button is not None and button.text() == "Send email…"
    click(qtbot, button)
    return wait_for(qtbot, lambda: visible(window, EmailDialog))


def closed(dialog) -> bool:  # noqa: ANN001
    """Closed (the dialog deletes itself once closed)."""
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def email_rows(window) -> list:  # noqa: ANN001
    model = window.emails.model
    return [model.row(n) for n in range(model.rowCount())]


def test_send_with_a_template_and_the_invoice_pdf_to_a_real_smtp_server(
        qtbot, window, smtp_server) -> None:  # noqa: ANN001
    from billdesk.services import mail
    from billdesk.views.email_dialog import PreviewDialog

    smtp_server.configure()
    invoice = the_invoice(window.client_id)
    dialog = open_email_dialog(qtbot, window)
    assert "Grace Hopper" in dialog.windowTitle()

    dialog.template.setCurrentIndex(dialog.template.findData("invoice_created"))
    # the invoice template brings the latest unpaid invoice along
    assert [p.ref_id for p in dialog.attached] == [invoice.id]
    click(qtbot, dialog.latest_button)  # once only, however often it is asked for
    assert dialog.attachment_list.count() == 1
    assert dialog.category.currentData() == "invoice"
    assert "ivy@example.com" in dialog.recipients.text()
    assert "gene@example.com" not in dialog.recipients.text()
    subject = dialog.subject.text()
    body = dialog.body.toPlainText()
    assert invoice.number in subject and "{{" not in subject
    assert "Dear Grace," in body and "Web hosting" in body and "{%" not in body

    click(qtbot, dialog.preview_button)
    preview = wait_for(qtbot, lambda: visible(dialog, PreviewDialog))
    assert preview.subject == subject
    previewed = preview.body.toPlainText()  # exactly what will go
    assert previewed.rstrip("\n") == body.rstrip("\n")
    preview.reject()

    with qtbot.waitSignal(dialog.email_queued, timeout=5000) as queued:
        click(qtbot, dialog.send_button)
    (email_id,) = queued.args
    message_id = mail.get_email(email_id).message_id
    assert window.statusBar().currentMessage() == (
        "Email to grace@example.com queued: it goes out in a moment (Automation → Email log).")

    def arrived():  # noqa: ANN202 (publishing may have queued its own invoice email too)
        return [m for m in smtp_server.messages if m.message["Message-ID"] == message_id]

    (message,) = wait_for(qtbot, arrived, timeout=10000)
    assert message.message["Subject"] == subject
    assert message.message["To"] == "grace@example.com"
    assert message.message["Cc"] == "ivy@example.com"
    assert sorted(message.rcpt_tos) == ["grace@example.com", "ivy@example.com"]
    assert message.body.replace("\r\n", "\n").rstrip("\n") == previewed.rstrip("\n")
    assert "Dear Grace," in message.body and invoice.number in message.body
    (filename, kind, data), = message.attachments()
    assert filename == f"invoice-{invoice.number}.pdf" and kind == "application/pdf"
    assert data.startswith(b"%PDF")

    # the Emails tab lists it as Sent; the Summary's recent emails show it
    def sent_row():  # noqa: ANN202
        return next((r for r in email_rows(window) if r.id == email_id and r.status == "Sent"),
                    None)

    row = wait_for(qtbot, sent_row, timeout=5000)
    assert window.tabs.tabText(window.tabs.indexOf(window.emails)) == "Emails"
    assert window.tabs.indexOf(window.emails) == window.tabs.indexOf(window.transactions) + 1
    assert window.tabs.indexOf(window.tickets) == window.tabs.indexOf(window.emails) + 1
    assert window.tabs.indexOf(window.files) == window.tabs.indexOf(window.tickets) + 1
    assert window.tabs.indexOf(window.log) == window.tabs.indexOf(window.notes) + 1
    recent = window.summary.recent
    wait_for(qtbot, lambda: any(r.id == row.id and r.status == "Sent" for r in recent.rows))
    assert subject.replace("&", "&amp;") in recent.list.text()
    # each on two lines, so that the Summary's narrow column (~190 px on a
    # laptop) cuts neither: the subject, then its date and status beneath
    shown_text = QTextDocument()
    shown_text.setHtml(recent.list.text())
    lines = shown_text.toPlainText().splitlines()
    assert lines[0] == subject and lines[1].split() == [f"{row.created_at:%Y-%m-%d}", "Sent"]

    # a click on it in the Summary opens the message on the Emails tab
    window.summary.recent.list.linkActivated.emit(str(row.id))
    assert window.tabs.currentWidget() is window.emails
    assert window.emails.selected_id() == row.id
    assert window.emails.body.toPlainText().rstrip("\n") == body.rstrip("\n")
    assert window.emails.fields["cc"].text() == "ivy@example.com"
    assert window.emails.attachments.count() == 1


def test_a_new_message_saved_as_a_template_shows_on_the_templates_page(
        qtbot, window, answers) -> None:  # noqa: ANN001
    from billdesk.services import mail, templates
    from billdesk.views.templates_tab import TemplatesPage

    dialog = open_email_dialog(qtbot, window)
    assert dialog.template.currentData() == ""  # New message
    assert dialog.save_holder.isVisible()
    type_into(qtbot, dialog.subject, "Maintenance on Saturday")
    dialog.body.setPlainText("Dear {{ client.first_name }},\n\nour servers rest on Saturday.\n")
    # choosing a template asks before replacing what was typed
    answers.replies = [QMessageBox.StandardButton.No]
    dialog.template.setCurrentIndex(dialog.template.findData("general"))
    assert answers.said and "Replace what you wrote" in answers.said[-1]
    assert dialog.template.currentData() == ""
    assert dialog.subject.text() == "Maintenance on Saturday"
    dialog.save_as.setChecked(True)
    click(qtbot, dialog.send_button)  # no name yet: said beside the field, nothing sent
    assert dialog.form.fields["name"].problem.isVisible()
    assert dialog.isVisible()
    type_into(qtbot, dialog.template_name, "General")  # a built-in's name is not taken over
    click(qtbot, dialog.send_button)
    assert "built-in" in dialog.form.fields["name"].problem.text()
    type_into(qtbot, dialog.template_name, "Maintenance notice")
    assert not dialog.form.fields["name"].problem.isVisible()  # gone once the name changes
    click(qtbot, dialog.send_button)
    qtbot.waitUntil(lambda: closed(dialog), timeout=5000)

    info = templates.get_template("Maintenance notice")
    assert info.kind == "custom" and info.subject == "Maintenance on Saturday"
    assert "{{ client.first_name }}" in info.body
    sent = mail.emails(window.client_id)
    assert sent[0].subject == "Maintenance on Saturday"
    assert sent[0].body.startswith("Dear Grace,")
    assert sent[0].status == "Queued"  # no mail server set up: it waits in the outbox

    page = shown(qtbot, TemplatesPage(window.ops))
    row = page.model.find("Maintenance notice", "en")
    assert row >= 0
    page.view.selectRow(row)
    assert page.subject.text() == "Maintenance on Saturday"
    assert page.delete_button.isEnabled() and not page.reset_button.isVisible()
    # and the next Send email offers it
    again = open_email_dialog(qtbot, window)
    assert again.template.findData("Maintenance notice") >= 0
    again.reject()


def test_a_template_reaching_for_python_internals_is_refused_beside_the_body(
        qtbot, client_ops, client_book) -> None:  # noqa: ANN001
    from billdesk.services import templates
    from billdesk.views.templates_tab import TemplatesPage

    page = shown(qtbot, TemplatesPage(client_ops))
    assert page.placeholders.topLevelItemCount() > 3
    page.view.selectRow(page.model.find("general", "en"))
    assert page.name.isReadOnly()
    before = templates.get_template("general")
    page.body.setPlainText("Hello {{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert page.save_button.isEnabled()
    click(qtbot, page.save_button)
    problem = page.form.fields["body"].problem
    wait_for(qtbot, problem.isVisible)
    assert "__class__" in problem.text() or "internals" in problem.text()
    after = templates.get_template("general")
    assert after == before and not after.customised  # nothing saved

    # a good change saves, is marked customised, and resets to the default
    page.body.setPlainText("Hello {{ client.first_name }}\n")
    click(qtbot, page.save_button)
    wait_for(qtbot, lambda: templates.get_template("general").customised)
    wait_for(qtbot, page.reset_button.isEnabled)
    assert not page.form.fields["body"].problem.isVisible()


def test_the_welcome_option_of_a_new_client_queues_a_welcome_email(qtbot, client_ops) -> None:  # noqa: ANN001
    from billdesk.services import mail
    from billdesk.views.client_form import NewClientDialog

    dialog = shown(qtbot, NewClientDialog(client_ops))
    fields = dialog.form.form.fields
    type_into(qtbot, fields["first_name"].widget, "Ada")
    type_into(qtbot, fields["last_name"].widget, "Lovelace")
    type_into(qtbot, fields["email"].widget, "ada@example.com")
    dialog.welcome.setChecked(True)
    with qtbot.waitSignal(dialog.client_added, timeout=5000) as added:
        click(qtbot, dialog.save_button)
    (client_id,) = added.args
    (welcome,) = mail.emails(client_id)
    assert welcome.template == "welcome" and welcome.to_addr == "ada@example.com"
    assert "Ada" in welcome.body


def test_resend_puts_a_failed_message_back_in_the_outbox(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.models import Email
    from billdesk.services import mail

    email_id = mail.queue_message(window.client_id, subject="Hello", body="Hi {{ client.first_name }}")
    Email.update(status="Failed", error="550 5.1.1 No such user here",
                 attempts=1).where(Email.id == email_id).execute()
    window.reload_emails()
    tab = window.emails
    window.tabs.setCurrentWidget(tab)
    assert tab.select(email_id)
    assert "550 5.1.1 No such user here" in tab.fields["status"].text()
    status = [r for r in email_rows(window) if r.id == email_id][0]
    assert status.status == "Failed"
    assert "Failed: 550" in tab.model.index(0, 4).data()
    assert tab.resend.isEnabled()
    click(qtbot, tab.resend)
    wait_for(qtbot, lambda: mail.get_email(email_id).status == "Queued")
    wait_for(qtbot, lambda: tab.model.row(0).status == "Queued")
    assert tab.selected_id() == email_id
    assert not tab.resend.isEnabled()


def test_email_statement_opens_the_dialog_with_the_statement_attached(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.views.email_dialog import EmailDialog
    from billdesk.views.statement_window import StatementWindow

    statement = shown(qtbot, StatementWindow(window.ops, window.client_id, window))
    click(qtbot, statement.email_button)
    dialog = wait_for(qtbot, lambda: visible(statement, EmailDialog))
    assert dialog.template.currentData() == "statement"
    assert [p.kind for p in dialog.attached] == ["statement"]
    assert "statement" in dialog.subject.text().lower()
    assert "{{" not in dialog.body.toPlainText()
    assert "£10.00" in dialog.body.toPlainText()  # the closing balance, in the client's currency
    with qtbot.waitSignal(dialog.email_queued, timeout=10000) as queued:
        click(qtbot, dialog.send_button)
    from billdesk.services import mail

    email = mail.get_email(queued.args[0])
    assert email.template == "statement" and email.cc == "ivy@example.com"
    (attachment,) = email.attachments
    assert attachment.kind == "data" and attachment.filename.startswith("statement-")
    assert attachment.content.startswith(b"%PDF")
    # the window it was sent from says so, and that it waits for Settings → Mail
    said = statement.statusBar().currentMessage()
    assert said.startswith(f"Email to {email.to_addr} queued.") and "Settings → Mail" in said


def test_a_refused_placeholder_shows_beside_the_body_and_a_file_can_be_attached(
        qtbot, window, tmp_path) -> None:  # noqa: ANN001
    from billdesk.services import mail
    from billdesk.views.email_dialog import PreviewDialog

    dialog = open_email_dialog(qtbot, window)
    type_into(qtbot, dialog.subject, "Hello")
    dialog.body.setPlainText("{{ ''.__class__.__mro__ }}")
    click(qtbot, dialog.preview_button)
    problem = dialog.form.fields["body"].problem
    assert problem.isVisible() and "__" in problem.text()
    assert visible(dialog, PreviewDialog) is None
    click(qtbot, dialog.send_button)  # refused, nothing queued
    assert problem.isVisible() and dialog.isVisible()
    assert all(e.subject != "Hello" for e in mail.emails(window.client_id))

    dialog.body.setPlainText("Your notes are attached, {{ client.first_name }}.")
    assert not problem.isVisible()  # typing clears it
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\n")
    dialog.attach_file(notes)
    dialog.attach_file(tmp_path / "missing.pdf")
    assert dialog.attachment_problem.isVisible() and "missing.pdf" in dialog.attachment_problem.text()
    assert [p.filename for p in dialog.attached] == ["notes.txt"]
    with qtbot.waitSignal(dialog.email_queued, timeout=5000) as queued:
        click(qtbot, dialog.send_button)
    email = mail.get_email(queued.args[0])
    assert email.body == "Your notes are attached, Grace."
    assert email.cc == "gene@example.com"  # a general message: the general contact is copied
    assert [(a.filename, a.kind, a.content) for a in email.attachments] == [
        ("notes.txt", "data", b"meeting notes\n")]


def test_the_reading_pane_says_why_a_message_has_no_text_yet(qtbot) -> None:  # noqa: ANN001
    """A message queued by a run that stopped before writing its text
    (pending): the pane says its text comes before it is sent, rather than
    asking to select the message that is selected."""
    import datetime as dt

    from billdesk.services.mail import EmailRow
    from billdesk.views.emails_tab import EmailView

    view = EmailView()
    qtbot.addWidget(view)
    row = EmailRow(1, 1, "invoice_created", "invoice_created:invoice:1", "<m@x>", "", "",
                   "(Invoice created: written before it is sent)", "", "Queued", 0, None, "",
                   dt.datetime(2026, 1, 1, 3, 0), None, [], True)
    view.show_email(row)
    assert view.body.placeholderText() == ("Its text is written from the template before it "
                                           "is sent.")
    view.show_email(None)
    assert view.body.placeholderText() == "Select a message to read it."


def test_a_template_about_a_quote_with_none_to_fill_it_from_is_refused(
        qtbot, window, answers) -> None:  # noqa: ANN001
    """"Quote delivered" chosen in Send email, with no quote: it would go out
    reading "Quote #" — refused, naming what is missing; nothing queued.
    Preview says the same."""
    from billdesk.models import Email

    before = Email.select().count()  # (the invoice's own email)
    dialog = open_email_dialog(qtbot, window)
    dialog.template.setCurrentIndex(dialog.template.findData("quote_delivered"))
    problem = dialog.form.fields["body"].problem
    wait_for(qtbot, problem.isVisible)
    assert problem.text().startswith("This template is about a quote, and there is none to "
                                     "fill it from: it is sent when a quote is set to Delivered")
    assert dialog.subject.text() == "" and dialog.body.toPlainText() == ""
    assert dialog.preview() is None
    assert answers.said and answers.said[-1].startswith("Quote: the message is about a quote")
    click(qtbot, dialog.send_button)
    assert len(answers.said) == 2 and "sent when a quote is set to Delivered" in answers.said[-1]
    assert dialog.isVisible() and Email.select().count() == before
    # an invoice template has the unpaid invoice to fill it from: it goes
    dialog.template.setCurrentIndex(dialog.template.findData("invoice_created"))
    click(qtbot, dialog.send_button)
    wait_for(qtbot, lambda: Email.select().count() == before + 1)
    newest = Email.select().order_by(Email.id.desc()).get()
    assert newest.subject.startswith(f"Invoice #{the_invoice(window.client_id).number}")


def test_a_message_billdesk_held_back_is_resent_only_when_asked_to(
        qtbot, window, answers) -> None:  # noqa: ANN001
    """"Not sent: invoice X was cancelled": Resend asks first (No leaves it
    held back); a sent message sent again leaves the first in the log."""
    from PySide6.QtWidgets import QMessageBox

    from billdesk.models import Email
    from billdesk.services import mail

    email_id = mail.queue_message(window.client_id, subject="Hello", body="Hi")
    Email.update(status="Failed", error="Not sent: invoice #7 was cancelled").where(
        Email.id == email_id).execute()
    window.reload_emails()
    tab = window.emails
    window.tabs.setCurrentWidget(tab)
    assert tab.select(email_id)
    answers.replies = [QMessageBox.StandardButton.No]
    click(qtbot, tab.resend)
    assert answers.said[-1] == ("“Hello” was held back: invoice #7 was cancelled. "
                                "Send it anyway?")
    assert mail.get_email(email_id).status == "Failed"
    before = Email.select().count()
    click(qtbot, tab.resend)  # (Yes): sent as a copy, which is not held back again
    wait_for(qtbot, lambda: Email.select().count() == before + 1)
    assert mail.get_email(email_id).status == "Failed"
    assert Email.select().order_by(Email.id.desc()).get().status == "Queued"

    Email.update(status="Sent", sent_at="2026-11-30 07:35:00", error="").where(
        Email.id == email_id).execute()
    window.reload_emails()
    wait_for(qtbot, lambda: tab.select(email_id))
    before = Email.select().count()
    click(qtbot, tab.resend)
    assert "the log keeps the first as sent" in answers.said[-1]
    wait_for(qtbot, lambda: Email.select().count() == before + 1)
    copy = Email.select().order_by(Email.id.desc()).get()
    assert (copy.subject, copy.status) == ("Hello", "Queued") and copy.id != email_id
    first = mail.get_email(email_id)
    assert first.status == "Sent" and first.sent_at.strftime("%H:%M") == "07:35"


def test_closing_with_a_message_written_asks_first(qtbot, window, answers) -> None:  # noqa: ANN001
    """Esc on a typed message asks (Cancel keeps it open, Discard closes);
    a message still as its template filled it closes at once."""
    from PySide6.QtWidgets import QMessageBox

    dialog = open_email_dialog(qtbot, window)
    dialog.subject.setText("About your site")
    dialog.body.setPlainText("Hello, a word about …")
    answers.replies = [QMessageBox.StandardButton.Cancel]
    dialog.reject()
    assert answers.said[-1] == "Close without sending? What you wrote is not kept."
    assert dialog.isVisible() and dialog.subject.text() == "About your site"
    answers.replies = [QMessageBox.StandardButton.Discard]
    dialog.reject()
    wait_for(qtbot, lambda: closed(dialog))
    said = len(answers.said)
    dialog = open_email_dialog(qtbot, window)
    dialog.template.setCurrentIndex(dialog.template.findData("general"))
    dialog.reject()
    wait_for(qtbot, lambda: closed(dialog))
    assert len(answers.said) == said  # not asked


def test_the_invoice_menu_shows_amounts_with_their_currency(qtbot, window) -> None:  # noqa: ANN001
    from billdesk.views import fmt

    dialog = open_email_dialog(qtbot, window)
    dialog._fill_invoice_menu()
    (action,) = dialog.invoice_menu.actions()
    invoice = the_invoice(window.client_id)
    assert action.text() == (f"{invoice.number}   {invoice.date.isoformat()}   "
                             f"{fmt.money(invoice.total)}   {invoice.status}")
    assert fmt.money(invoice.total).startswith("£")  # (a GBP client: not a bare "10.00")
