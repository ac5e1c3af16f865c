"""Settings (D6, C14, S1): company details and logo, billing
(billing_settings_tab), the product catalogue (products_tab), display
format. The same company form is the first-run dialog of a new, empty book."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.models import DISPLAY_FORMATS
from billdesk.services import billing_settings, settings
from billdesk.services.text import counted
from billdesk.views import forms
from billdesk.views.automation_settings_tab import AutomationSettingsPage
from billdesk.views.billing_settings_tab import BillingSettingsEditor
from billdesk.views.errors import show_error
from billdesk.views.mail_settings_tab import MailSettingsPage
from billdesk.views.ops import Changes, Operations
from billdesk.views.products_tab import ProductsPage
from billdesk.views.promos_tab import PromosPage
from billdesk.views.templates_tab import TemplatesPage

MAX_LOGO_BYTES = 2_000_000


class CompanyForm(QWidget):
    """Business name, address, email, tax id, default currency and logo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = forms.Form(self)
        self.form.edited.connect(self.check)
        details = QGroupBox("Your business")
        dl = QFormLayout(details)
        self.form.add(dl, "name", "Business name *", forms.line("Your business name"))
        self.form.add(dl, "email", "Email", forms.line("accounts@example.com", 254))
        self.form.add(dl, "phone", "Phone", forms.line("", 40))
        self.form.add(dl, "tax_id", "Tax ID", forms.line("VAT or tax number", 60))
        self.form.add(dl, "currency", "Default currency", forms.currency_combo())
        address = QGroupBox("Address")
        forms.add_address(self.form, QFormLayout(address))

        logo_box = QGroupBox("Logo (on invoices and statements)")
        self.logo_preview = QLabel("No logo")
        self.logo_preview.setObjectName("logoPreview")
        self.logo_preview.setMinimumSize(160, 60)
        self.logo_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_logo)
        self.clear = QPushButton("Remove")
        self.clear.clicked.connect(self._clear_logo)
        logo_box.setMaximumHeight(130)
        ll = QHBoxLayout(logo_box)
        ll.addWidget(self.logo_preview, 1)
        ll.addWidget(choose)
        ll.addWidget(self.clear)

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(details, 1)
        row.addWidget(address, 1)
        layout.addLayout(row)
        layout.addWidget(logo_box)
        layout.addStretch(1)

        self.logo: bytes | None = settings.company_logo()
        self.logo_changed = False
        company = settings.company()
        values = {k: getattr(company, k) for k in self.form.fields}
        self.form.set_values(values)
        self._show_logo()

    def company(self) -> settings.Company:
        values = self.form.values()
        return settings.Company(**{k: (v or "") for k, v in values.items()})

    def check(self) -> bool:
        problems = self.company().problems()
        self.form.show_problems(problems)
        return not problems

    def set_logo(self, data: bytes) -> None:
        pixmap = QPixmap()
        if len(data) > MAX_LOGO_BYTES or not pixmap.loadFromData(QByteArray(data)):
            raise ValidationFailed([Problem("logo", "is not a PNG or JPEG image under 2 MB")])
        self.logo = data
        self.logo_changed = True
        self._show_logo()

    def _choose_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a logo", "",
                                              "Images (*.png *.jpg *.jpeg)")
        if path:
            try:
                with open(path, "rb") as handle:
                    self.set_logo(handle.read())
            except (OSError, BilldeskError) as exc:
                show_error(self, exc if isinstance(exc, BilldeskError)
                           else ValidationFailed([Problem("logo", str(exc))]))

    def _clear_logo(self) -> None:
        self.logo = None
        self.logo_changed = True
        self._show_logo()

    def _show_logo(self) -> None:
        self.clear.setEnabled(self.logo is not None)
        if self.logo is None:
            self.logo_preview.setPixmap(QPixmap())
            self.logo_preview.setText("No logo")
            return
        pixmap = QPixmap()
        pixmap.loadFromData(QByteArray(self.logo))
        self.logo_preview.setPixmap(pixmap.scaled(200, 70, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.SmoothTransformation))

    def save(self) -> None:
        """Write (on the calling thread; used by the first-run dialog)."""
        settings.save_company(self.company(), self.logo if self.logo_changed else None,
                              clear_logo=self.logo_changed and self.logo is None)


class FirstRunDialog(QDialog):
    """A new, empty book: ask for the company profile before anything else."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to billdesk")
        intro = QLabel("<b>Welcome to billdesk.</b> Tell it about your business: the name "
                       "and address go on invoices and statements, and new clients take the "
                       "default currency. You can change all of it later in Settings.")
        intro.setWordWrap(True)
        self.company_form = CompanyForm(self)
        buttons, _save = forms.save_cancel(self, "Create my book")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.company_form)
        layout.addWidget(buttons)
        self.resize(820, self.sizeHint().height())

    def save(self) -> None:
        if not self.company_form.check():
            return
        try:
            self.company_form.save()
        except BilldeskError as exc:
            self.company_form.form.show_error(self, exc)
            return
        self.accept()


class SettingsDialog(QDialog):
    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setWindowTitle("Settings")
        self.company_form = CompanyForm(self)
        self.billing = BillingSettingsEditor(self)
        self.automation = AutomationSettingsPage()
        self.products = ProductsPage(ops)
        self.promos = PromosPage(ops)
        self.templates = TemplatesPage(ops)
        self.mail = MailSettingsPage()

        display = QWidget()
        dl = QVBoxLayout(display)
        box = QGroupBox("Show client names as")
        bl = QVBoxLayout(box)
        self.formats = QButtonGroup(self)
        current = settings.display_format()
        for i, value in enumerate(DISPLAY_FORMATS):
            button = QRadioButton(settings.DISPLAY_FORMAT_LABELS[value])
            button.setObjectName(f"format_{value}")
            button.setChecked(value == current)
            self.formats.addButton(button, i)
            bl.addWidget(button)
        dl.addWidget(box)
        dl.addStretch(1)

        self.tabs = tabs = QTabWidget()
        tabs.addTab(self.company_form, "Company")
        for page, title in self.billing.pages():
            tabs.addTab(page, title)
        tabs.addTab(self.automation, "Automation")
        self.automation.show_billing_page.connect(
            lambda: tabs.setCurrentWidget(self.billing.taxes_page))
        self.billing.form.fields["invoice_lead_days"].widget.valueChanged.connect(
            self.automation.set_lead_days)
        tabs.addTab(self.products, "Products")
        tabs.addTab(self.promos, "Promotions")
        tabs.addTab(self.templates, "Email templates")
        tabs.addTab(self.mail, "Mail")
        tabs.addTab(display, "Display")
        buttons, self.save_button = forms.save_cancel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self.resize(980, 620)  # every tab title shows

    def display_format(self) -> str:
        return DISPLAY_FORMATS[max(self.formats.checkedId(), 0)]

    def _backlog_answer(self, mail_value: Any) -> int | str | None:
        """Mail set up for the first time with emails waiting (queued while
        there was no server to send them through — some may be weeks old):
        "send" them, hold them back (the newest id asked about: they are
        kept in the Email log as not sent; Resend sends one), or None
        (Cancel: nothing saved)."""
        from billdesk.services import outbox

        if mail_value is None or not mail_value.settings.configured or outbox.is_configured():
            return "send"
        found = outbox.backlog()
        waiting = found.count
        if not waiting or found.newest_id is None:
            return "send"
        since = f", the oldest from {found.oldest:%Y-%m-%d}" if found.oldest else ""
        answer = QMessageBox.question(
            self, "Emails waiting",
            f"{counted(waiting, 'email')} {'is' if waiting == 1 else 'are'} waiting in the "
            f"outbox{since}: billdesk had no mail server to send "
            f"{'it' if waiting == 1 else 'them'} through.\n\nSend "
            f"{'it' if waiting == 1 else 'them'} once these settings are saved?\n\n"
            "No keeps them in the Email log as not sent (Resend sends any of them later); "
            "Cancel saves nothing.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes)
        if answer == QMessageBox.StandardButton.Yes:
            return "send"
        return found.newest_id if answer == QMessageBox.StandardButton.No else None

    def save(self) -> None:
        company_ok, billing_ok = self.company_form.check(), self.billing.check()
        automation_ok = self.automation.check()
        mail_ok = self.mail.check()
        if not (company_ok and billing_ok):
            self.tabs.setCurrentWidget(self.company_form if not company_ok
                                       else self.billing.problem_page() or self.tabs.currentWidget())
            return
        if not automation_ok:
            self.tabs.setCurrentWidget(self.automation)
            return
        if not mail_ok:
            self.tabs.setCurrentWidget(self.mail)
            return
        mail_value = self.mail.changes()
        backlog = self._backlog_answer(mail_value)
        if backlog is None:
            return
        automation_value = self.automation.changed()
        form, fmt = self.company_form, self.display_format()
        billing = self.billing.changes()
        company = form.company()  # read the widgets here: the worker never touches them
        logo = form.logo if form.logo_changed else None
        clear_logo = form.logo_changed and form.logo is None
        self.save_button.setEnabled(False)

        def company_and_display() -> None:
            settings.save_company(company, logo, clear_logo=clear_logo)
            settings.set_display_format(fmt)
            if automation_value is not None:
                from billdesk.services import automation

                automation.save_automation_settings(automation_value)
            if mail_value is not None:
                from billdesk.services import outbox

                outbox.save_mail_settings(mail_value.settings, mail_value.password)
                if isinstance(backlog, int):  # (not what a run queued since it was asked)
                    outbox.hold_back_waiting(backlog)

        def work() -> None:  # one transaction: a refusal anywhere writes nothing
            billing_settings.apply_changes(billing, before=company_and_display)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            page = self.billing.show_refusal(exc)
            if page is not None:
                self.tabs.setCurrentWidget(page)
            elif self.automation.show_refusal(exc):
                self.tabs.setCurrentWidget(self.automation)
            elif self.mail.show_refusal(exc):
                self.tabs.setCurrentWidget(self.mail)
            else:
                form.form.show_error(self, exc)

        self.ops.run(work, changes=Changes(settings=True, clients=True),
                     on_done=lambda _r: self.accept(), on_error=failed)
