"""Send email (E2) from a client's window: a template (built-in or custom)
or a new message; subject and body filled from the template rendered in
the client's language, editable; attachments (an invoice PDF, a statement
PDF for a date range, a file from disk); Preview shows the text exactly as
it will go; a new message can be saved as a template.

Send writes the message (and the new template) in one transaction on the
database worker (``mail.queue_message``), then asks the outbox to deliver;
a refused subject, body or template name shows beside its field."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, InvalidInput, Problem
from billdesk.models import EMAIL_CATEGORIES
from billdesk.services import clients, contacts, invoicing, statements
from billdesk.views import fmt, forms
from billdesk.views.models.email_tables import template_label
from billdesk.views.ops import Changes, Operations

MAX_FILE_BYTES = 20 * 1024 * 1024
NEW_MESSAGE = ""  # the template combo's "New message"
OPEN_STATUSES = ("Unpaid", "Collections")


@dataclass(slots=True)
class Pending:
    """An attachment chosen in the dialog; made into a ``mail.Attachment``
    when sending (a statement PDF is drawn then, on the worker)."""

    kind: str  # invoice | statement | file
    label: str
    filename: str
    ref_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    content: bytes | None = None

    def attachment(self, client_id: int) -> Any:
        from billdesk.services import mail

        if self.kind == "invoice":
            return mail.Attachment(self.filename, "invoice", ref_id=self.ref_id)
        if self.kind == "statement":
            from billdesk.services import documents

            found = statements.statement(client_id, self.start, self.end)
            return mail.Attachment(self.filename, "data", content=documents.statement_pdf(found))
        return mail.Attachment(self.filename, "data", content=self.content)


def invoice_attachment(invoice: Any) -> Pending:
    from billdesk.services import mail

    label = f"Invoice {invoice.number or '(draft)'} — {invoice.date} — {invoice.status} (PDF)"
    return Pending("invoice", label, mail.invoice_filename(invoice.number, invoice.id),
                   ref_id=invoice.id)


def statement_attachment(client_id: int, start: dt.date, end: dt.date) -> Pending:
    return Pending("statement", f"Account statement {start} – {end} (PDF)",
                   f"statement-{client_id}-{start}-{end}.pdf", start=start, end=end)


class StatementRangeDialog(QDialog):
    """Which dates the attached statement covers."""

    def __init__(self, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Attach a statement")
        today = dt.date.today()
        first = statements.first_date(client_id) or today.replace(month=1, day=1)
        self.start = forms.date_edit(min(first, today))
        self.start.setObjectName("statementFrom")
        self.end = forms.date_edit(today)
        self.end.setObjectName("statementTo")
        self.problem = QLabel()
        self.problem.setStyleSheet(forms.PROBLEM_STYLE)
        self.problem.hide()
        layout = QFormLayout(self)
        layout.addRow("From", self.start)
        layout.addRow("To", self.end)
        layout.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Attach")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def dates(self) -> tuple[dt.date, dt.date]:
        return self.start.date().toPython(), self.end.date().toPython()

    def _check(self) -> None:
        start, end = self.dates()
        if end < start:
            self.problem.setText("The end is before the start.")
            self.problem.show()
            return
        self.accept()


class PreviewDialog(QDialog):
    """The message exactly as it will go."""

    def __init__(self, to: str, cc: str, subject: str, body: str, attachments: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emailPreview")
        self.setWindowTitle(f"Preview — {subject}")
        head = QLabel()
        head.setObjectName("previewHeader")
        head.setTextFormat(Qt.TextFormat.RichText)
        head.setWordWrap(True)
        head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rows = [("To", to), ("Cc", cc or "—"), ("Subject", subject)]
        if attachments:
            rows.append(("Attached", ", ".join(attachments)))
        head.setText("<table>" + "".join(
            f"<tr><td style='padding-right:10px'><b>{k}:</b></td><td>{html.escape(v)}</td></tr>"
            for k, v in rows) + "</table>")
        self.subject = subject
        self.body = QPlainTextEdit(body)
        self.body.setObjectName("previewBody")
        self.body.setReadOnly(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.body, 1)
        layout.addWidget(close)
        self.resize(640, 520)


class EmailDialog(QDialog):
    """Compose one email to a client. ``template`` preselects a template
    (e.g. 'statement'); ``statement`` attaches a statement PDF for those
    dates; ``invoice_id`` attaches that invoice's PDF."""

    email_queued = Signal(int)  # the email id, once written to the outbox

    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None, *,
                 template: str | None = None, statement: tuple[dt.date, dt.date] | None = None,
                 invoice_id: int | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.client_id = client_id
        record = clients.get_client(client_id)
        self.language = record.values["language"] or "en"
        self.to_address = record.values["email"]
        self.people = contacts.list_contacts(client_id)
        self.setWindowTitle(f"Send email — #{client_id} {record.display_name}")
        self.setObjectName("emailDialog")
        self.attached: list[Pending] = []
        self._rendered: tuple[str, str] | None = None  # what the template filled in
        self.email_id: int | None = None

        self.form = forms.Form(self)
        top = QFormLayout()
        self.template = QComboBox()
        self.template.setObjectName("template")
        self.template.setMinimumContentsLength(28)
        self._fill_templates()
        top.addRow("Template", self.template)
        self.category = forms.combo([(c.capitalize(), c) for c in EMAIL_CATEGORIES])
        self.category.setObjectName("category")
        self.category.setToolTip("Contacts who get emails about this are copied")
        top.addRow("Copy contacts on", self.category)
        self.recipients = QLabel()
        self.recipients.setObjectName("recipients")
        self.recipients.setWordWrap(True)
        self.recipients.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recipients.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addRow("Goes to", self.recipients)
        self.subject = self.form.add(top, "subject", "Subject", forms.line("Subject", 500)).widget
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("Dear {{ client.first_name }}, …")
        self.body.setMinimumHeight(220)
        self.form.add(top, "body", "Message", self.body)

        # attachments
        box = QGroupBox("Attachments")
        self.attachment_list = QListWidget()
        self.attachment_list.setObjectName("attachments")
        self.attachment_list.setMaximumHeight(self.fontMetrics().height() * 4 + 14)
        self.attachment_list.currentRowChanged.connect(lambda _r: self._attachment_buttons())
        self.latest_button = QPushButton("Latest unpaid invoice")
        self.latest_button.setObjectName("attachLatestInvoice")
        self.latest_button.clicked.connect(lambda: self.attach_latest_unpaid())
        self.invoice_button = QPushButton("Invoice…")
        self.invoice_button.setObjectName("attachInvoice")
        self.invoice_menu = QMenu(self.invoice_button)
        self.invoice_button.setMenu(self.invoice_menu)
        self.invoice_menu.aboutToShow.connect(self._fill_invoice_menu)
        self.statement_button = QPushButton("Statement…")
        self.statement_button.setObjectName("attachStatement")
        self.statement_button.clicked.connect(self._choose_statement)
        self.file_button = QPushButton("File…")
        self.file_button.setObjectName("attachFile")
        self.file_button.clicked.connect(self._choose_file)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeAttachment")
        self.remove_button.clicked.connect(self._remove_attachment)
        buttons_row = QHBoxLayout()
        for b in (self.latest_button, self.invoice_button, self.statement_button,
                  self.file_button, self.remove_button):
            b.setAutoDefault(False)  # Enter sends; it never attaches
        for b in (self.latest_button, self.invoice_button, self.statement_button,
                  self.file_button):
            buttons_row.addWidget(b)
        buttons_row.addStretch(1)
        buttons_row.addWidget(self.remove_button)
        self.attachment_problem = QLabel()
        self.attachment_problem.setObjectName("attachments_problem")
        self.attachment_problem.setStyleSheet(forms.PROBLEM_STYLE)
        self.attachment_problem.setWordWrap(True)
        self.attachment_problem.hide()
        al = QVBoxLayout(box)
        al.addWidget(self.attachment_list)
        al.addWidget(self.attachment_problem)
        al.addLayout(buttons_row)

        # save a new message as a template
        self.save_as = QCheckBox("Save as a template named")
        self.save_as.setObjectName("saveAsTemplate")
        self.template_name = forms.line("e.g. Maintenance notice", 100)
        name_field = forms.Field("name", "Template name", self.template_name)
        self.form.fields["name"] = name_field
        self.template_name.setEnabled(False)
        self.save_as.toggled.connect(self.template_name.setEnabled)
        self.save_as.toggled.connect(lambda on: on and self.template_name.setFocus())
        # a refused name's problem goes once the name is changed (or saving is off)
        self.template_name.textEdited.connect(lambda _text: name_field.show_problem(None))
        self.save_as.toggled.connect(lambda _on: name_field.show_problem(None))
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_as)
        save_row.addWidget(self.template_name, 1)
        self.save_holder = QWidget()
        sl = QVBoxLayout(self.save_holder)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(2)
        sl.addLayout(save_row)
        sl.addWidget(name_field.problem)

        hint = QLabel("Placeholders such as {{ client.first_name }} or {{ invoice.total }} "
                      "are filled in for this client; Preview shows the message as it will go.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")

        self.preview_button = QPushButton("Preview…")
        self.preview_button.setObjectName("preview")
        self.preview_button.setToolTip("The message exactly as it will go, placeholders filled in")
        self.preview_button.clicked.connect(self.preview)
        self.buttons = QDialogButtonBox()
        self.send_button = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("send")
        self.send_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(box)
        layout.addWidget(self.save_holder)
        layout.addWidget(hint)
        bottom = QHBoxLayout()
        bottom.addWidget(self.preview_button)
        bottom.addWidget(self.buttons, 1)
        layout.addLayout(bottom)

        self.form.edited.connect(self._edited)
        self.category.currentIndexChanged.connect(lambda _i: self._show_recipients())
        if invoice_id is not None:
            self.attach_invoice(invoice_id)
        if statement is not None:
            self.attach(statement_attachment(client_id, *statement))
        if template:
            self.template.setCurrentIndex(max(self.template.findData(template), 0))
        self._shown_index = self.template.currentIndex()
        self._template_chosen()
        self.template.currentIndexChanged.connect(self._template_changed)
        self._attachment_buttons()
        self.resize(760, 700)
        geometry = QSettings().value("email/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    # --- templates

    def _fill_templates(self) -> None:
        """Built-ins and custom templates, each once: in the client's language
        where there is one, else the default language's."""
        from billdesk.services import templates

        self.template.blockSignals(True)
        current = self.template.currentData()
        self.template.clear()
        self.template.addItem("New message", NEW_MESSAGE)
        self.infos: dict[str, Any] = {}
        languages = {self.language, templates.FALLBACK_LANGUAGE}
        names = dict.fromkeys(templates.BUILT_IN)
        names.update(dict.fromkeys(info.name for info in templates.list_templates()
                                   if info.kind == "custom" and info.language in languages))
        for name in names:
            try:
                info = templates.lookup(name, self.language)  # what this client would get
            except BilldeskError:
                continue
            if not info.disabled:
                self.infos[name] = info
        builtins = [n for n in templates.BUILT_IN if n in self.infos]
        custom = sorted((n for n in self.infos if n not in builtins), key=str.casefold)
        for name in builtins:
            self.template.addItem(template_label(name), name)
        if custom:
            self.template.insertSeparator(self.template.count())
            for name in custom:
                self.template.addItem(name, name)
        index = self.template.findData(current) if current is not None else 0
        self.template.setCurrentIndex(max(index, 0))
        self.template.blockSignals(False)

    def template_name_chosen(self) -> str:
        return self.template.currentData() or NEW_MESSAGE

    def typed(self) -> bool:
        """Text the user wrote (not what a template filled in)."""
        subject, body = self.message()
        return bool(subject.strip() or body.strip()) and not self.untouched()

    def _template_changed(self, index: int) -> None:
        if self.typed():
            answer = QMessageBox.question(
                self, "Replace the message?",
                f"Replace what you wrote with the {self.template.currentText()} template?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.template.blockSignals(True)
                self.template.setCurrentIndex(self._shown_index)
                self.template.blockSignals(False)
                return
        self._shown_index = index
        self._template_chosen()

    def _template_chosen(self) -> None:
        name = self.template_name_chosen()
        new = name == NEW_MESSAGE
        self.save_holder.setVisible(new)
        if not new:
            self.save_as.setChecked(False)
        self.form.show_problems([])
        if new:
            if self.untouched():  # the template's text goes; what was typed stays
                self.form.set_values({"subject": "", "body": ""})
            self._rendered = None
            self._set_category("general")
            return
        info = self.infos[name]
        self._set_category(info.category)
        from billdesk.services import mail

        if name in mail.INVOICE_PDF_KINDS and not any(p.kind == "invoice" for p in self.attached):
            self.attach_latest_unpaid(quiet=True)  # as the template sends it by itself
        self._render_template()

    def _set_category(self, category: str) -> None:
        index = self.category.findData(category)
        self.category.setCurrentIndex(max(index, 0))
        self._show_recipients()

    def _render_template(self) -> None:
        """Fill subject and body from the chosen template, in the client's language."""
        from billdesk.services import templates

        name = self.template_name_chosen()
        if name == NEW_MESSAGE:
            return
        unfilled = self._unfilled()
        if unfilled is not None:  # "Quote #" with no quote: not filled in, and said why
            self.form.set_values({"subject": "", "body": ""})
            self._rendered = ("", "")
            self.form.show_problems([Problem("body", "This template " + unfilled.message
                                             .removeprefix("the message ") + ".")])
            return
        try:
            rendered = templates.render(name, self.context(), language=self.language)
        except BilldeskError as exc:
            self.form.show_problems([Problem("body", f"The template could not be filled in: "
                                                     f"{exc.message if hasattr(exc, 'message') else exc}")])
            return
        if rendered is None:  # disabled meanwhile
            self.form.show_problems([Problem("body", "This template is disabled.")])
            return
        self.form.set_values({"subject": rendered.subject, "body": rendered.body})
        self._rendered = (rendered.subject, rendered.body)

    def _unfilled(self) -> BilldeskError | None:
        """Why the chosen template cannot be filled in for this client (it
        is about a quote, a payment… and there is none), else None."""
        from billdesk.services import mail

        info = self.infos.get(self.template_name_chosen())
        if info is None:
            return None
        try:
            mail.check_filled(info.subject, info.body, self.context())
        except BilldeskError as exc:
            return exc
        return None

    def _edited(self) -> None:
        for name in ("subject", "body"):
            self.form.fields[name].show_problem(None)

    def untouched(self) -> bool:
        """The text is still what the template filled in."""
        return self._rendered is not None and self._rendered == (
            self.subject.text(), self.body.toPlainText())

    # --- context and recipients

    def invoice_for_context(self) -> int | None:
        for pending in self.attached:
            if pending.kind == "invoice":
                return pending.ref_id
        latest = self.latest_unpaid()
        return latest.id if latest is not None else None

    def extra(self) -> dict[str, Any] | None:
        """The statement's period and closing balance, when one is attached."""
        for pending in self.attached:
            if pending.kind == "statement":
                from billdesk.services import mail

                return {"statement": mail.statement_context(self.client_id, pending.start,
                                                            pending.end)}
        return None

    def context(self) -> dict[str, Any]:
        """What the placeholders of this message are filled from: the
        client, contact, company and (when one is attached, or unpaid) invoice."""
        from billdesk.services import mail

        return mail.context(self.client_id, invoice_id=self.invoice_for_context(),
                            extra=self.extra(), template=self.template.currentData() or None)

    def cc_addresses(self) -> list[str]:
        category = self.category.currentData()
        return [p.values["email"] for p in self.people if category in p.values["categories"]]

    def _show_recipients(self) -> None:
        cc = self.cc_addresses()
        text = f"To: {self.to_address}"
        if cc:
            text += f"    Cc: {', '.join(cc)}"
        self.recipients.setText(text)

    # --- attachments

    def invoices(self) -> list[Any]:
        return [row for row in invoicing.page(self.client_id, limit=200) if row.status != "Draft"]

    def latest_unpaid(self) -> Any:
        return next((row for row in self.invoices() if row.status in OPEN_STATUSES), None)

    def attach(self, pending: Pending) -> None:
        for known in self.attached:
            if (known.kind, known.ref_id, known.start, known.end, known.filename) == (
                    pending.kind, pending.ref_id, pending.start, pending.end, pending.filename):
                return
        was_invoice = self.invoice_for_context()
        self.attached.append(pending)
        item = QListWidgetItem(pending.label)
        item.setToolTip(pending.filename)
        self.attachment_list.addItem(item)
        self.attachment_problem.hide()
        self._attachment_buttons()
        if self.untouched() and self.invoice_for_context() != was_invoice:
            self._render_template()  # the template speaks of this invoice now

    def attach_invoice(self, invoice_id: int) -> None:
        row = next((r for r in self.invoices() if r.id == invoice_id), None)
        if row is None:
            row = invoicing.get_invoice(invoice_id)
        self.attach(invoice_attachment(row))

    def attach_latest_unpaid(self, quiet: bool = False) -> None:
        latest = self.latest_unpaid()
        if latest is None:
            if not quiet:
                self.attachment_problem.setText("This client has no unpaid invoice.")
                self.attachment_problem.show()
            return
        self.attach(invoice_attachment(latest))

    def _fill_invoice_menu(self) -> None:
        self.invoice_menu.clear()
        rows = self.invoices()
        if not rows:
            action = self.invoice_menu.addAction("No invoices yet")
            action.setEnabled(False)
            return
        for row in rows[:40]:
            action = self.invoice_menu.addAction(  # (the amount as the windows show money)
                f"{row.number or '(draft)'}   {fmt.date(row.date)}   {fmt.money(row.total)}   "
                f"{row.status}")
            action.triggered.connect(lambda _c=False, r=row: self.attach(invoice_attachment(r)))

    def _choose_statement(self) -> None:
        dialog = StatementRangeDialog(self.client_id, self)
        dialog.accepted.connect(lambda: self.attach(statement_attachment(self.client_id,
                                                                         *dialog.dates())))
        dialog.open()

    def _choose_file(self) -> None:
        folder = QSettings().value("email/attachFolder", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Attach a file", folder)
        if path:
            QSettings().setValue("email/attachFolder", str(Path(path).parent))
            self.attach_file(path)

    def attach_file(self, path: str | Path) -> None:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InvalidInput("attachments", f"{path.name} is larger than 20 MB")
            content = path.read_bytes()
        except (OSError, InvalidInput) as exc:
            message = exc.message if isinstance(exc, InvalidInput) else f"{path.name}: {exc.strerror or exc}"
            self.attachment_problem.setText(message)
            self.attachment_problem.show()
            return
        self.attach(Pending("file", f"{path.name} ({_size(size)})", path.name, content=content))

    def _remove_attachment(self) -> None:
        row = self.attachment_list.currentRow()
        if row < 0:
            return
        was_invoice = self.invoice_for_context()
        self.attachment_list.takeItem(row)
        del self.attached[row]
        self._attachment_buttons()
        if self.untouched() and self.invoice_for_context() != was_invoice:
            self._render_template()

    def _attachment_buttons(self) -> None:
        self.remove_button.setEnabled(self.attachment_list.currentRow() >= 0)

    # --- preview and send

    def message(self) -> tuple[str, str]:
        return self.subject.text(), self.body.toPlainText()

    def _check(self) -> bool:
        problems = []
        subject, body = self.message()
        if not subject.strip():
            problems.append(Problem("subject", "is required"))
        if not body.strip():
            problems.append(Problem("body", "is required"))
        if self.save_as.isChecked():
            problems += self._name_problems(self.template_name.text().strip())
        self.form.show_problems(problems)
        return not problems

    def _name_problems(self, name: str) -> list[Problem]:
        from billdesk.services import templates

        if not name:
            return [Problem("name", "give the template a name")]
        if name.lower() in templates.BUILT_IN:
            return [Problem("name", f"{name!r} is a built-in template: choose another name")]
        taken = any(info.name.casefold() == name.casefold() and info.language == self.language
                    for info in templates.list_templates() if info.kind == "custom")
        if taken:
            return [Problem("name", f"a template named {name!r} exists already: choose another "
                                    "name (or edit it in Settings → Email templates)")]
        return []

    def rendered(self) -> Any:
        """The message as it will go; raises InvalidInput for a refused one
        (the chosen template's own gaps are said before: ``_refuse_unfilled``)."""
        from billdesk.services import mail, templates

        subject, body = self.message()
        context = self.context()
        mail.check_filled(subject, body, context)  # nothing to fill "invoice #" from: say so
        return templates.render_text(subject, body, context)

    def _refuse_unfilled(self) -> bool:
        """Say why the chosen template cannot go (before the empty subject
        it left is complained of); True when it cannot."""
        unfilled = self._unfilled()
        if unfilled is not None:
            self.form.show_error(self, unfilled)
        return unfilled is not None

    def preview(self) -> PreviewDialog | None:
        if self._refuse_unfilled() or not self._check():
            return None
        try:
            rendered = self.rendered()
        except BilldeskError as exc:
            self.form.show_error(self, exc)
            return None
        dialog = PreviewDialog(self.to_address, ", ".join(self.cc_addresses()), rendered.subject,
                               rendered.body, [p.filename for p in self.attached], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    def _say_queued(self, email_id: int) -> None:
        """In the status bar of the window it was sent from: to whom, and
        whether it goes now or waits for Settings → Mail."""
        from billdesk.services import mail, outbox

        window = self.parentWidget().window() if self.parentWidget() else None
        if not email_id or not isinstance(window, QMainWindow):
            return
        try:
            to = mail.get_email(email_id).to_addr
            ready = outbox.is_configured()
        except BilldeskError:
            return
        if ready:
            text = f"Email to {to} queued: it goes out in a moment (Automation → Email log)."
        else:
            text = (f"Email to {to} queued. Mail is not set up yet (Settings → Mail): it waits "
                    "in the outbox until it is.")
        window.statusBar().showMessage(text, 30_000)

    def send(self) -> None:
        if self._refuse_unfilled() or not self._check():
            return
        from billdesk.services import mail, templates

        subject, body = self.message()
        try:
            templates.check(subject, body)  # a refused placeholder: beside its field, now
            mail.check_filled(subject, body, self.context())
        except BilldeskError as exc:
            self.form.show_error(self, exc)
            return
        client_id = self.client_id
        chosen = self.template_name_chosen()
        category = self.category.currentData()
        save_name = self.template_name.text().strip() if self.save_as.isChecked() else ""
        language = self.language
        pending = list(self.attached)
        invoice_id = self.invoice_for_context()
        extra = self.extra()
        self.send_button.setEnabled(False)

        def work() -> int:
            from billdesk.services import mail

            attachments = [p.attachment(client_id) for p in pending]  # PDFs drawn before writing
            return mail.queue_message(client_id, subject=subject, body=body, template=chosen,
                                      cc_category=category, attachments=attachments,
                                      invoice_id=invoice_id, extra=extra, save_as=save_name,
                                      language=language)

        def done(email_id: int) -> None:
            from billdesk.views.emails_tab import deliver

            self.email_id = email_id
            self.email_queued.emit(email_id)
            deliver(self.ops)
            QSettings().setValue("email/geometry", self.saveGeometry())
            self.accept()
            self._say_queued(email_id)

        def failed(exc: BaseException) -> None:
            self.send_button.setEnabled(True)
            if isinstance(exc, BilldeskError) and exc.field.startswith("attachments"):
                self.attachment_problem.setText(exc.message)
                self.attachment_problem.show()
                return
            self.form.show_error(self, exc)

        self.ops.run(work, changes=Changes(emails=True, client_id=client_id),
                     on_done=done, on_error=failed)

    def reject(self) -> None:
        """Cancel, Esc or the window's close: what the user wrote is not
        thrown away without asking (what a template filled in is)."""
        if self.typed() and QMessageBox.question(
                self, "Discard the message?",
                "Close without sending? What you wrote is not kept.",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Discard:
            return
        QSettings().setValue("email/geometry", self.saveGeometry())
        super().reject()


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"

