"""The Mail page of the Settings window (D6, E3): the owner's SMTP server,
security and login, the sender, and where the password is kept.

Typing is checked as it goes (``MailSettings.problems``), each problem
beside its field. The page is saved by the Settings window's Save, with the
rest of the settings (``changes()``, written by ``outbox.save_mail_settings``
on the database worker);
Cancel leaves everything as it was. "Send test email" sends a short message
with the settings as typed (saved or not), off the GUI thread, and says
what happened under the button."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import outbox
from billdesk.services.outbox import MailSettings
from billdesk.views import forms
from billdesk.views.billing_settings_tab import add_spin, hint, with_unit

FIELDS = ("host", "security", "port", "username", "password", "from_name", "from_address",
          "bcc", "timeout")
OK_STYLE = "color: #2e7d32;"


@dataclass(frozen=True, slots=True)
class MailChanges:
    """What the page will save: the settings, and the password (None: keep
    the stored one; '': forget it)."""

    settings: MailSettings
    password: str | None


def password_store_text() -> str:
    """Where the password is kept, in words for the owner."""
    if outbox.password_store() == "keyring":
        name = outbox.keyring_name()
        return (f"The password is kept in your system keyring ({name}), never in the book."
                if name else "The password is kept in your system keyring, never in the book.")
    return ("No system keyring is available here, so the password is kept in a file that only "
            f"your user account can read: {outbox.password_file()}. It is never stored in "
            "the book.")


class _Relay(QObject):
    """Carries a background call's outcome back to the GUI thread."""

    done = Signal(object)
    failed = Signal(object)


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        fn, self.fn = self.fn, None
        try:
            result = fn()
        except BaseException as exc:  # reported on the GUI thread, never lost
            outcome, signal = exc, "failed"
        else:
            outcome, signal = result, "done"
        try:
            getattr(self.relay, signal).emit(outcome)
        except RuntimeError:  # the page was closed meanwhile
            pass


class MailSettingsPage(QWidget):
    """The Mail page; see the module's notes."""

    test_finished = Signal(bool, str)  # ok, what the page says

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = forms.Form(self)
        self.form.edited.connect(self.check)
        self.forget = False
        self._edited = False
        current = outbox.mail_settings()
        self._saved = current

        server = QGroupBox("Outgoing mail server (SMTP)")
        sl = QFormLayout(server)
        self.form.add(sl, "host", "Server", forms.line("e.g. smtp.example.com", 253))
        security = forms.combo([(label, key) for key, label in outbox.SECURITY_LABELS.items()])
        self.form.add(sl, "security", "Security", security)
        self.form.add(sl, "port", "Port", forms.line("587", 6))
        self.form.add(sl, "username", "User name", forms.line("often your email address", 254))
        password = forms.line("", 500)
        password.setEchoMode(QLineEdit.EchoMode.Password)
        self.forget_button = QPushButton("Forget saved password")
        self.forget_button.setObjectName("forget_password")
        self.forget_button.clicked.connect(self._forget)
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(password, 1)
        rl.addWidget(self.forget_button)
        self.form.add(sl, "password", "Password", row, password)
        self.store_label = hint(password_store_text())
        self.store_label.setObjectName("password_store")
        sl.addRow("", self.store_label)
        spin = QSpinBox()
        spin.setRange(1, 600)
        add_spin(self.form, sl, "timeout", "Wait for the server", spin, with_unit(spin, "seconds"))

        sender = QGroupBox("Sender")
        fl = QFormLayout(sender)
        self.form.add(fl, "from_name", "From name", forms.line("e.g. Acme Hosting Accounts", 100))
        self.form.add(fl, "from_address", "From address",
                      forms.line("e.g. accounts@example.com", 254))
        self.form.add(fl, "bcc", "Bcc every email to",
                      forms.line("optional, e.g. archive@example.com (a comma between several)",
                                 1000))
        fl.addRow("", hint("Clients see this name and address as the sender; replies go "
                           "to the address. The Bcc addresses get a copy of every email to a "
                           "client, unseen by the client."))

        test = QGroupBox("Check the settings")
        tl = QFormLayout(test)
        self.test_to = forms.line("your own address (default: the From address)", 254)
        self.test_to.setObjectName("test_to")
        self.test_button = QPushButton("Send test email")
        self.test_button.setObjectName("send_test")
        self.test_button.clicked.connect(self.send_test)
        trow = QWidget()
        trl = QHBoxLayout(trow)
        trl.setContentsMargins(0, 0, 0, 0)
        trl.addWidget(self.test_to, 1)
        trl.addWidget(self.test_button)
        tl.addRow("Send to", trow)
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.hide()
        tl.addRow("", self.test_result)

        forms.align_labels(sl, fl, tl)
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Emails wait in the outbox until they are delivered through "
                              "this server; while it can't be reached they are retried "
                              "later. Leave the server empty to keep mail in the outbox."))
        layout.addWidget(server)
        layout.addWidget(sender)
        layout.addWidget(test)
        layout.addStretch(1)

        values = {name: getattr(current, name) for name in FIELDS if name != "password"}
        values["port"] = str(current.port)
        self.form.set_values(values)
        self._previous_security = current.security
        security.currentIndexChanged.connect(self._security_changed)
        self._show_password_state()
        self.form.edited.connect(self._mark_edited)

    # --- reading the form ---------------------------------------------------------
    def settings(self) -> MailSettings:
        values = self.form.values()
        values.pop("password")
        return MailSettings(**{k: ("" if v is None else v) for k, v in values.items()})

    def password(self) -> str | None:
        """What to store: the typed password; '' to forget; None: keep."""
        typed = self.form.fields["password"].value()
        if typed:
            return typed
        return "" if self.forget else None

    def problems(self) -> list[Problem]:
        return self.settings().problems()

    def check(self) -> bool:
        problems = self.problems()
        self.form.show_problems(problems)
        return not problems

    def changes(self) -> MailChanges | None:
        """The page's changes, or None when nothing was edited."""
        if not self._edited and not self.forget:
            return None
        return MailChanges(self.settings(), self.password())

    def show_refusal(self, exc: BaseException) -> bool:
        """A refusal of the page's fields shown beside them; False if not ours."""
        if not isinstance(exc, BilldeskError):
            return False
        problems = exc.problems if isinstance(exc, ValidationFailed) else [
            Problem(exc.field, exc.message)]
        if not all(p.field in self.form.fields for p in problems):
            return False
        self.form.show_problems(problems)
        return True

    # --- behaviour ---------------------------------------------------------------
    def _mark_edited(self) -> None:
        self._edited = True

    def _security_changed(self) -> None:
        security = self.form.fields["security"].value()
        port = self.form.fields["port"]
        if port.value().strip() in ("", str(outbox.DEFAULT_PORTS.get(self._previous_security))):
            port.set_value(str(outbox.DEFAULT_PORTS[security]))
        self._previous_security = security

    def _forget(self) -> None:
        self.forget = True
        self.form.fields["password"].set_value("")
        self._edited = True
        self._show_password_state()

    def _show_password_state(self) -> None:
        stored = outbox.has_password() and not self.forget
        widget = self.form.fields["password"].widget
        widget.setPlaceholderText("saved — type a new one to change it" if stored
                                  else "will be forgotten when you save" if self.forget
                                  else "")
        self.forget_button.setEnabled(stored)

    def send_test(self) -> None:
        """Send a test email with the settings as typed, off the GUI thread."""
        settings = self.settings()
        problems = settings.problems()
        if not settings.configured:
            problems.insert(0, Problem("host", "is required to send mail"))
        if problems:
            self.form.show_problems(problems)
            self._say(False, "Fix the settings marked in red first.")
            return
        password = self.password()
        to = self.test_to.text().strip() or None
        self.test_button.setEnabled(False)
        self._say(None, "Sending a test email…")
        relay = _Relay(self)

        def done(address: object) -> None:
            relay.deleteLater()
            self.test_button.setEnabled(True)
            self._say(True, f"Test email sent to {address}. Check that it arrived.")

        def failed(exc: object) -> None:
            relay.deleteLater()
            self.test_button.setEnabled(True)
            if isinstance(exc, BilldeskError):
                if exc.field in self.form.fields and exc.field != "host":
                    self.form.show_problems([Problem(exc.field, exc.message)])
                self._say(False, f"Not sent: {exc.message}")
            else:
                from billdesk.views.errors import show_error

                self._say(False, "Not sent: an unexpected error (see the log).")
                show_error(self, exc if isinstance(exc, BaseException) else RuntimeError(exc))

        relay.done.connect(done)
        relay.failed.connect(failed)
        QThreadPool.globalInstance().start(
            _Call(lambda: outbox.send_test_email(settings, password, to), relay))

    def _say(self, ok: bool | None, text: str) -> None:
        self.test_result.setStyleSheet("" if ok is None else OK_STYLE if ok
                                       else forms.PROBLEM_STYLE)
        self.test_result.setText(text)
        self.test_result.show()
        if ok is not None:
            self.test_finished.emit(ok, text)

    @Slot()
    def refresh_store(self) -> None:
        self.store_label.setText(password_store_text())
        self._show_password_state()
