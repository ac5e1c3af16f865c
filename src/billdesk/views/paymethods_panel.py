"""The Summary tab's Pay methods panel (K2, C4) and its dialogs.

Like WHMCS's: the client's cards and bank accounts, the default first and
marked ★, each shown masked (first six / last four) with its expiry, red
when expired, and "token" for a record bound to a payment gateway. A click
on one offers Show full number…, Make default and Delete… (Force delete…
when a gateway-token record cannot be deleted: nothing is run on the
gateway). Add card… and Add bank account… store the full number encrypted.

The full numbers are encrypted with a key derived from the owner's
passphrase (the vault); the passphrase is asked once per session
(``PassphraseDialog``: the first time it sets one) and kept in memory until
Forget passphrase. Deriving the key takes a moment, so it runs on the
database worker like every write. No security code (CVV) is asked for or
stored anywhere.

Writes run on the window's worker and report ``Changes(pay_methods=True,
client_id=…)``; the panel reloads itself when its client's pay methods (or
the vault) change."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Conflict, InvalidInput, NotFound, Problem
from billdesk.services import clients, paymethods, vault
from billdesk.services.paymethods import PayMethodRecord
from billdesk.views.errors import show_error
from billdesk.views.forms import Form, line, save_cancel
from billdesk.views.ops import Changes, Operations
from billdesk.views.record_tab import confirmed, link_list

DEFAULT_MARK = "★"
DEFAULT_COLOUR = "#b8860b"
EXPIRED_COLOUR = "#c62828"
MUTED = "color: palette(mid);"  # a widget's quieter text
MUTED_HTML = "color:#8a8a8a"  # the same in a panel's rich text
MIN_PASSPHRASE = vault.PASSPHRASE_MIN  # characters, for a new passphrase


def _password(max_length: int = 1024) -> QLineEdit:
    widget = line("", max_length)
    widget.setEchoMode(QLineEdit.EchoMode.Password)
    return widget


def _intro(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class PassphraseDialog(QDialog):
    """Unlock the vault with the passphrase; a wrong one is said beside the
    field and the dialog stays. When no vault is set yet it sets one (new
    and confirm); ``change=True`` changes it (current, new, confirm). The
    key is derived on the worker (Argon2 takes a moment); on success it is
    remembered for the session and ``unlocked`` carries it."""

    unlocked = Signal(object)  # the vault key

    def __init__(self, ops: Operations, parent: QWidget | None = None, *, reason: str = "",
                 change: bool = False, params: vault.KdfParams | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setObjectName("passphraseDialog")
        self.ops = ops
        self.params = params  # KdfParams for a new key (None: the service's)
        self.key: vault.Key | None = None
        is_set = vault.is_set()
        self.mode = ("change" if change and is_set else "unlock" if is_set else "set")
        self.form = Form(self)
        layout = QFormLayout()
        if self.mode == "unlock":
            self.setWindowTitle("Vault passphrase")
            intro = ((reason[0].upper() + reason[1:] + ": enter" if reason else "Enter")
                     + " the vault passphrase. It is kept in memory for this session, "
                     "until you choose Forget passphrase.")
            self.form.add(layout, "passphrase", "Passphrase", _password())
            action = "Unlock"
        elif self.mode == "set":
            self.setWindowTitle("Set the vault passphrase")
            intro = ("Card and bank numbers are stored encrypted with a key made from a "
                     "passphrase that only you know: set one now, of at least "
                     f"{MIN_PASSPHRASE} characters.\n\nIt is never stored and cannot be "
                     "recovered: without it the stored numbers cannot be read again "
                     "(the masked numbers stay).")
            self.form.add(layout, "passphrase", "New passphrase", _password())
            self.form.add(layout, "confirm", "Confirm", _password())
            action = "Set passphrase"
        else:
            self.setWindowTitle("Change the vault passphrase")
            intro = ("The stored numbers stay as they are; only the key that opens them is "
                     f"wrapped again. The new passphrase needs at least {MIN_PASSPHRASE} "
                     "characters; it is never stored and cannot be recovered.")
            self.form.add(layout, "old", "Current passphrase", _password())
            self.form.add(layout, "passphrase", "New passphrase", _password())
            self.form.add(layout, "confirm", "Confirm", _password())
            action = "Change passphrase"
        self.intro = _intro(intro)
        self.intro.setObjectName("passphraseIntro")
        self.status = QLabel()
        self.status.setObjectName("passphraseStatus")
        self.status.setStyleSheet(MUTED)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setObjectName("save")
        self.save_button.setText(action)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.intro)
        box.addLayout(layout)
        box.addWidget(self.status)
        box.addWidget(buttons)
        self.setMinimumWidth(420)
        self.finished.connect(lambda _result: self._clear())

    def field(self, name: str) -> QLineEdit:
        return self.form.fields[name].widget

    def problems(self, values: dict[str, str]) -> list[Problem]:
        """What is wrong before asking the vault: an empty passphrase, a new
        one too short or not the same twice."""
        found = []
        if self.mode == "change" and not values["old"]:
            found.append(Problem("old", "enter the current passphrase"))
        if self.mode == "unlock":
            if not values["passphrase"]:
                found.append(Problem("passphrase", "enter the passphrase"))
        else:
            if len(values["passphrase"]) < MIN_PASSPHRASE:
                found.append(Problem("passphrase", f"at least {MIN_PASSPHRASE} characters"))
            elif values["confirm"] != values["passphrase"]:
                found.append(Problem("confirm", "not the same passphrase"))
        return found

    def save(self) -> None:
        values = self.form.values()
        problems = self.problems(values)
        self.form.show_problems(problems)
        if problems:
            self.field(problems[0].field).setFocus()
            return
        params = self.params
        passphrase = values["passphrase"]
        if self.mode == "unlock":
            def work() -> vault.Key:
                return vault.unlock(passphrase)
            self.status.setText("Checking the passphrase…")
        elif self.mode == "set":
            def work() -> vault.Key:
                return vault.set_passphrase(passphrase, params=params)
            self.status.setText("Setting up the vault…")
        else:
            old = values["old"]

            def work() -> vault.Key:
                return vault.change_passphrase(old, passphrase, params=params)
            self.status.setText("Changing the passphrase…")
        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(pay_methods=True), on_done=self._done,
                     on_error=self._failed)

    def _done(self, key: vault.Key) -> None:
        vault.remember(key)  # (even if the dialog went meanwhile: the key is right)
        if not shiboken6.isValid(self):
            return
        self.key = key
        self.accept()
        self.unlocked.emit(key)

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self.save_button.setEnabled(True)
        self.status.setText("")
        if isinstance(exc, InvalidInput) and exc.field in ("passphrase", "new_passphrase"):
            # (changing, "passphrase" is the current one the service checked)
            field = "passphrase"
            if self.mode == "change" and exc.field == "passphrase":
                field = "old"
            self.form.show_problems([Problem(field, exc.message)])
            widget = self.field(field)
            widget.selectAll()
            widget.setFocus()
            return
        self.form.show_error(self, exc)

    def _clear(self) -> None:
        for field in self.form.fields.values():
            field.widget.clear()


class _MethodDialog(QDialog):
    """What adding a card and a bank account share: the form, Make default,
    the save on the worker with the vault key, the refusals beside their
    field. Subclasses add their fields and say what to call."""

    saved = Signal(object)  # the new pay method (a PayMethodRecord)
    TITLE = ""
    ACTION = "Add"
    NUMBER = "card"  # the field of the full number (named as the service names it)
    NOTE = ""

    def __init__(self, ops: Operations, client_id: int, key: vault.Key, holder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.ops, self.client_id, self.key = ops, client_id, key
        self.setWindowTitle(self.TITLE)
        self.form = Form(self)
        self.layout_ = QFormLayout()
        self.fields()
        self.form.fields["holder"].widget.setText(holder)
        self.form.edited.connect(self._recheck)
        self.form.add(self.layout_, "description", "Description",
                      line("what it is for (optional)", 200))
        self.make_default = QCheckBox()
        self.form.add(self.layout_, "make_default", "Make it the default pay method",
                      self.make_default)
        self.note = _intro(self.NOTE)
        self.note.setObjectName("storageNote")
        self.note.setStyleSheet(MUTED)
        buttons, self.save_button = save_cancel(self, self.ACTION)
        box = QVBoxLayout(self)
        box.addLayout(self.layout_)
        box.addWidget(self.note)
        box.addWidget(buttons)
        self.setMinimumWidth(440)
        self.finished.connect(lambda _result: self.form.fields[self.NUMBER].widget.clear())
        self._tried = False  # problems are shown as typed once a save was refused

    def fields(self) -> None:
        raise NotImplementedError

    def problems(self, values: dict[str, Any]) -> list[Problem]:
        raise NotImplementedError

    def call(self, values: dict[str, Any]) -> Callable[[], PayMethodRecord]:
        raise NotImplementedError

    def _recheck(self) -> None:
        if self._tried:
            self.form.show_problems(self.problems(self.form.values()))

    def save(self) -> None:
        values = self.form.values()
        problems = self.problems(values)
        self.form.show_problems(problems)
        if problems:  # every problem beside its field at once (the service checks again)
            self._tried = True
            self.form.fields[problems[0].field].widget.setFocus()
            return
        work = self.call(values)
        self.save_button.setEnabled(False)

        def done(record: PayMethodRecord) -> None:
            if not shiboken6.isValid(self):
                return
            self.accept()
            self.saved.emit(record)

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                return
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(work, changes=Changes(pay_methods=True, client_id=self.client_id),
                     on_done=done, on_error=failed)


class CardDialog(_MethodDialog):
    """Add a card: number, expiry (MM/YY), holder, description, Make
    default. The number is stored encrypted, first six and last four
    beside it for the masked view; no security code is asked for."""

    TITLE = "Add card"
    ACTION = "Add card"
    NOTE = ("The full number is stored encrypted; the list shows only its first six and "
            "last four digits. The security code on the back is never asked for or stored.")

    def fields(self) -> None:
        number = line("1234 5678 9012 3456", 23)
        number.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.form.add(self.layout_, "card", "Card number", number)
        expiry = line("MM/YY", 7)
        expiry.setMaximumWidth(90)
        self.form.add(self.layout_, "expiry", "Expiry (MM/YY)", expiry)
        self.form.add(self.layout_, "holder", "Cardholder", line("name on the card", 200))

    def problems(self, values: dict[str, Any]) -> list[Problem]:
        found = paymethods.card_problems(values["card"], values["expiry"], values["holder"])
        return [p for p in found if p.field in self.form.fields]

    def call(self, values: dict[str, Any]) -> Callable[[], PayMethodRecord]:
        client_id, key = self.client_id, self.key
        return lambda: paymethods.add_card(
            client_id, number=values["card"], expiry=values["expiry"], holder=values["holder"],
            key=key, description=values["description"], make_default=values["make_default"])


class BankDialog(_MethodDialog):
    """Add a bank account: account number or IBAN, bank name, holder,
    description, Make default. The account number is stored encrypted."""

    TITLE = "Add bank account"
    ACTION = "Add bank account"
    NUMBER = "bank"
    NOTE = ("The full account number is stored encrypted; the list shows only its last "
            "four characters.")

    def fields(self) -> None:
        self.form.add(self.layout_, "bank", "Account number / IBAN",
                      line("GB29 NWBK 6016 1331 9268 19", 64))
        self.form.add(self.layout_, "bank_name", "Bank", line("bank name", 200))
        self.form.add(self.layout_, "holder", "Account holder", line("name on the account", 200))

    def problems(self, values: dict[str, Any]) -> list[Problem]:
        found = paymethods.bank_problems(values["bank"], values["bank_name"], values["holder"])
        return [p for p in found if p.field in self.form.fields]

    def call(self, values: dict[str, Any]) -> Callable[[], PayMethodRecord]:
        client_id, key = self.client_id, self.key
        return lambda: paymethods.add_bank(
            client_id, account=values["bank"], bank_name=values["bank_name"],
            holder=values["holder"], key=key, description=values["description"],
            make_default=values["make_default"])


class RevealDialog(QDialog):
    """The full number of one pay method, selectable, with Copy."""

    def __init__(self, record: PayMethodRecord, number: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setObjectName("revealDialog")
        self.setWindowTitle("Full number")
        self.raw = number  # what Copy copies; shown in groups of four to read it out
        self.number = QLineEdit(" ".join(number[i:i + 4] for i in range(0, len(number), 4)))
        self.number.setObjectName("fullNumber")
        self.number.setReadOnly(True)
        self.number.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.number.setMinimumWidth(
            self.number.fontMetrics().horizontalAdvance(self.number.text()) + 24)
        self.setMinimumWidth(340)
        what = html.escape(record.label)
        about = QLabel(f"<b>{what}</b>" + (f"<br>{html.escape(record.holder)}"
                                            if record.holder else ""))
        about.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy.setObjectName("copyNumber")
        self.copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(about)
        box.addWidget(self.number)
        box.addWidget(buttons)
        self.finished.connect(lambda _result: self._clear())

    def _clear(self) -> None:
        self.number.clear()
        self.raw = ""

    def _copy(self) -> None:
        QApplication.clipboard().setText(self.raw)
        self.copy.setText("Copied")


class PayMethodsPanel(QGroupBox):
    """The client's pay methods on the Summary tab (K2, C4): the default
    first and marked, masked, with expiry; a click on one offers its
    actions. The window loads it with the Summary; it follows its client's
    pay-method changes itself."""

    def __init__(self, window: Any) -> None:  # (ClientWindow)
        super().__init__("Pay methods", window)
        self.window_ = window
        self.setObjectName("payMethods")
        self.client_id: int | None = None
        self.records: list[PayMethodRecord] = []
        # the Argon2 cost of a new vault key: None is the service's (tests set cheap ones)
        self.kdf_params: vault.KdfParams | None = None
        self.dialog: QDialog | None = None  # the last dialog opened (tests look in)
        self.menu: QMenu | None = None
        self.list = link_list("payMethodList", self._open)
        self.add_card_button = QPushButton("Add card…")
        self.add_card_button.setObjectName("addCard")
        self.add_card_button.setToolTip("Store a card, its number encrypted (no security code)")
        self.add_card_button.clicked.connect(lambda: self.add_card())
        self.add_bank_button = QPushButton("Add bank account…")
        self.add_bank_button.setObjectName("addBankAccount")
        self.add_bank_button.setToolTip("Store a bank account, its number encrypted")
        self.add_bank_button.clicked.connect(lambda: self.add_bank())
        # whether the full numbers are unlocked for this session; a click
        # offers Forget passphrase and Change vault passphrase…
        self.vault_status = QLabel()
        self.vault_status.setObjectName("vaultStatus")
        self.vault_status.setTextFormat(Qt.TextFormat.RichText)
        self.vault_status.linkActivated.connect(self._vault_link)
        self.vault_menu: QMenu | None = None
        # one button a row (the Summary's left column is narrow), the vault's
        # state beside the first
        buttons = QGridLayout()
        buttons.addWidget(self.add_card_button, 0, 0)
        buttons.addWidget(self.vault_status, 0, 2, Qt.AlignmentFlag.AlignRight)
        buttons.addWidget(self.add_bank_button, 1, 0)
        buttons.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.list.setText("<i>No pay methods yet.</i>")
        window.ops.changed.connect(self._changed)

    # --- showing

    def load(self, client_id: int) -> None:
        self.client_id = client_id
        try:
            self.records = list(paymethods.list_pay_methods(client_id))
        except NotFound:  # deleted elsewhere: the window's own reload closes it
            return
        self._render()
        self._show_vault()

    def record(self, pay_method_id: int) -> PayMethodRecord | None:
        return next((r for r in self.records if r.id == pay_method_id), None)

    def _render(self) -> None:
        if not self.records:
            self.list.setText("<i>No pay methods yet.</i>")
            self.list.setToolTip("")
            return
        lines = []
        for record in self.records:
            mark = (f"<td style='color:{DEFAULT_COLOUR}; padding-right:4px' "
                    f"title='Default'>{DEFAULT_MARK}</td>"
                    if record.is_default else "<td style='padding-right:4px'></td>")
            # a card: its brand and first six / last four; an account: its last four
            name = html.escape(f"{record.brand or 'Card'} {record.masked}"
                               if record.kind == "card" else f"Account {record.masked}")
            hint = f" <span style='{MUTED_HTML}'>token</span>" if record.is_token else ""
            # the expiry (or the bank) under the number: the panel sits in
            # the Summary's narrow left column
            if record.kind == "card":
                when = f"expires {record.expiry_short}" if record.expiry_short else ""
                if record.expired:
                    when = (f"<span style='color:{EXPIRED_COLOUR}'>Expired"
                            + (f" {record.expiry_short}" if record.expiry_short else "")
                            + "</span>")
            else:
                when = html.escape(record.bank_name)
            when = f"<br><span style='{MUTED_HTML}'>{when}</span>" if when else ""
            lines.append(f"<tr>{mark}<td style='padding-bottom:3px'>"
                         f"<a href='{record.id}'>{name}</a>{hint}{when}</td></tr>")
        self.list.setText("<table>" + "".join(lines) + "</table>")
        self.list.setToolTip("\n".join(self._tip(r) for r in self.records)
                             + "\n\nClick one to show its full number, make it the default "
                               "or delete it.")

    def _tip(self, record: PayMethodRecord) -> str:
        parts = [record.label]
        if record.holder:
            parts.append(record.holder)
        if record.description:
            parts.append(record.description)
        return (f"{DEFAULT_MARK} " if record.is_default else "") + " — ".join(parts)

    def _show_vault(self) -> None:
        if not vault.is_set():
            self.vault_status.setText("")
            self.vault_status.setToolTip("")
            self.vault_status.hide()
            return
        if vault.unlocked() is not None:
            text = "Unlocked"
            tip = ("The vault is unlocked for this session: full numbers are shown without "
                   "asking, until you forget the passphrase (or quit). Click for Forget "
                   "passphrase or Change vault passphrase…")
        else:
            text = "Locked"
            tip = ("The vault is locked: showing or adding a full number asks for its "
                   "passphrase. Click for Change vault passphrase…")
        self.vault_status.setText(f"<a href='menu'>{text}</a>")
        self.vault_status.setToolTip(tip)
        self.vault_status.show()

    def _changed(self, changes: Changes) -> None:
        if not shiboken6.isValid(self):
            return
        if self.client_id is not None and changes.pay_methods \
                and changes.touches(self.client_id):
            self.load(self.client_id)
            if changes.client_id == self.client_id:  # a write of this client's: logged
                log = getattr(self.window_, "log", None)
                if log is not None:
                    log.load()

    # --- one pay method: a click offers its actions

    def _open(self, link: str) -> None:
        menu = self.menu_for(int(link))
        if menu is not None:
            menu.popup(QCursor.pos())

    def menu_for(self, pay_method_id: int) -> QMenu | None:
        """Show full number…, Make default, Delete… for one pay method
        (what changes it is off while the client is archived)."""
        record = self.record(pay_method_id)
        if record is None:
            return None
        if self.menu is not None and shiboken6.isValid(self.menu):
            self.menu.deleteLater()
        archived = bool(getattr(self.window_, "archived", False))
        menu = QMenu(self)
        menu.setObjectName("payMethodMenu")
        menu.setToolTipsVisible(True)
        title = menu.addAction(record.label)
        title.setEnabled(False)
        menu.addSeparator()
        reveal = menu.addAction("Show full number…")
        reveal.setObjectName("revealAction")
        if not record.has_number:
            reveal.setEnabled(False)
            reveal.setToolTip(f"Kept by {record.gateway} as a token: the full number is not "
                              "stored here" if record.is_token else
                              "The number was erased when the vault was reset")
        reveal.triggered.connect(lambda: self.reveal(pay_method_id))
        default = menu.addAction("Make default")
        default.setObjectName("makeDefaultAction")
        default.setEnabled(not record.is_default and not archived)
        default.triggered.connect(lambda: self.make_default(pay_method_id))
        menu.addSeparator()
        delete = menu.addAction("Delete…")
        delete.setObjectName("deleteAction")
        delete.setEnabled(not archived)
        delete.triggered.connect(lambda: self.delete(pay_method_id))
        self.menu = menu
        return menu

    # --- the vault key

    def with_key(self, reason: str, then: Callable[[vault.Key], None]) -> None:
        """``then(key)`` at once when the vault is unlocked for this
        session; else after the passphrase (or a new one) is entered."""
        try:
            key = vault.unlocked()
        except BilldeskError as exc:
            show_error(self, exc)
            return
        if key is not None:
            then(key)
            return
        dialog = PassphraseDialog(self.window_.ops, self.window_, reason=reason,
                                  params=self.kdf_params)
        dialog.unlocked.connect(then)
        self._show(dialog)

    def change_passphrase(self) -> None:
        self._show(PassphraseDialog(self.window_.ops, self.window_, change=True,
                                    params=self.kdf_params))

    def forget_passphrase(self) -> None:
        """Drop the key from memory: the next full number asks again
        (every window's panel shows it locked)."""
        self.window_.ops.run(vault.forget, changes=Changes(pay_methods=True),
                             on_error=lambda exc: show_error(self, exc))

    def vault_actions(self) -> QMenu:
        """Forget passphrase (when unlocked), Change vault passphrase…"""
        if self.vault_menu is not None and shiboken6.isValid(self.vault_menu):
            self.vault_menu.deleteLater()
        menu = QMenu(self)
        menu.setObjectName("vaultMenu")
        forget = menu.addAction("Forget passphrase")
        forget.setObjectName("forgetPassphrase")
        forget.setEnabled(vault.unlocked() is not None)
        forget.triggered.connect(lambda: self.forget_passphrase())
        change = menu.addAction("Change vault passphrase…")
        change.setObjectName("changePassphrase")
        change.triggered.connect(lambda: self.change_passphrase())
        self.vault_menu = menu
        return menu

    def _vault_link(self, link: str) -> None:
        if link == "forget":
            self.forget_passphrase()
        elif link == "change":
            self.change_passphrase()
        else:
            self.vault_actions().popup(QCursor.pos())

    def _show(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.open()

    # --- adding

    def _holder(self) -> str:
        try:
            values = clients.get_client(self.window_.client_id).values
        except BilldeskError:
            return ""
        return f"{values['first_name']} {values['last_name']}".strip()

    def add_card(self) -> None:
        if self.window_.refuse_archived():
            return
        self.with_key("to store the card's number encrypted",
                      lambda key: self._show(CardDialog(self.window_.ops, self.window_.client_id,
                                                        key, self._holder(), self.window_)))

    def add_bank(self) -> None:
        if self.window_.refuse_archived():
            return
        self.with_key("to store the account number encrypted",
                      lambda key: self._show(BankDialog(self.window_.ops, self.window_.client_id,
                                                        key, self._holder(), self.window_)))

    # --- one pay method's actions

    def reveal(self, pay_method_id: int) -> None:
        """The full number, after the passphrase (once per session)."""
        record = self.record(pay_method_id)
        if record is None:
            return
        if not record.has_number:
            QMessageBox.information(self, "Full number", (
                f"{record.label}: the full number is kept by {record.gateway}, not stored here."
                if record.is_token else
                f"{record.label}: the number was erased when the vault was reset."))
            return

        def show(key: vault.Key) -> None:
            self.window_.ops.run(lambda: paymethods.reveal(pay_method_id, key), changes=None,
                                 on_done=lambda number: self._show(
                                     RevealDialog(record, number, self.window_)),
                                 on_error=lambda exc: show_error(self, exc))

        self.with_key("to show the full number", show)

    def make_default(self, pay_method_id: int) -> None:
        if self.window_.refuse_archived():
            return
        self.window_.ops.run(lambda: paymethods.set_default(pay_method_id),
                             changes=Changes(pay_methods=True, client_id=self.window_.client_id),
                             on_error=lambda exc: show_error(self, exc))

    def delete(self, pay_method_id: int) -> None:
        """Delete (asks first); a gateway-token record the service will not
        delete is offered Force delete, which runs nothing on the gateway."""
        record = self.record(pay_method_id)
        if record is None or self.window_.refuse_archived():
            return
        if not confirmed(self, "Delete pay method",
                         f"Delete {record.label}"
                         + (f" ({record.holder})" if record.holder else "")
                         + "? The stored details are removed for good."):
            return
        changes = Changes(pay_methods=True, client_id=self.window_.client_id)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Conflict) and exc.field == "pay_method" and record.is_token:
                self.force_delete(record, exc.message)
            else:
                show_error(self, exc)

        self.window_.ops.run(lambda: paymethods.delete(pay_method_id), changes=changes,
                             on_error=failed)

    def force_delete(self, record: PayMethodRecord, why: str = "") -> None:
        """Remove a gateway-token record here only, after asking."""
        gateway = record.gateway or "the payment gateway"
        if not confirmed(self, "Force delete pay method",
                         (f"{why}\n\n" if why else "")
                         + f"Force delete removes {record.label} from billdesk only: "
                         f"nothing is run on {gateway}. If the token should go there too, "
                         f"remove it in your {gateway} account yourself.\n\nForce delete it?"):
            return
        pay_method_id = record.id
        self.window_.ops.run(lambda: paymethods.delete(pay_method_id, force=True),
                             changes=Changes(pay_methods=True, client_id=self.window_.client_id),
                             on_error=lambda exc: show_error(self, exc))
