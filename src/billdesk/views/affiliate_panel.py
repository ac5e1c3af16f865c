"""The affiliate panel of the Summary tab (F4), like WHMCS's "Activate as
Affiliate" / "View Affiliate Details": for an affiliate its commission,
sign-ups, pending, payable balance and paid out, with Refer a client…,
Record payout… and Details…; for anyone else Activate as affiliate…; in
both cases who referred the client, with a way to assign one. It reads
on the GUI thread and writes through the window's database worker, and
follows the changes itself (a payment of a referred client changes an
affiliate's figures, in another window)."""

from __future__ import annotations

import html
from enum import IntEnum
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import NotFound
from billdesk.services import affiliates, clients
from billdesk.views import fmt
from billdesk.views.client_search import ClientSearch
from billdesk.views.errors import show_error
from billdesk.views.forms import Form, date_edit, line, save_cancel
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.simple_tables import RIGHT, Index, _ListModel
from billdesk.views.ops import Changes
from billdesk.views.tables import record_view

MUTED = "color: palette(mid);"


class AffiliatePanel(QGroupBox):
    """The Summary's "Affiliate" box for ``window``'s client."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__("Affiliate", parent)
        self.setObjectName("affiliatePanel")
        self.window_ = window
        self.client_id: int = window.client_id
        self.record: affiliates.AffiliateRecord | None = None
        self.figures: affiliates.AffiliateSummary | None = None
        self.menu_action: QAction | None = None
        self.read_only = False  # an archived client: see set_read_only

        # compact: the figures two to a row, the actions on one row
        self.values: dict[str, QLabel] = {}
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(3)
        self.rows: list[QWidget] = []
        for key, text, row, column in (("commission", "Commission", 0, 0),
                                       ("signups", "Sign-ups", 0, 2),
                                       ("pending", "Pending", 1, 0), ("paid_out", "Paid out", 1, 2),
                                       ("balance", "Balance", 2, 0)):
            name = QLabel(text)
            value = QLabel()
            value.setObjectName(f"affiliate_{key}")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            if key == "balance":
                font = value.font()
                font.setBold(True)
                value.setFont(font)
                name.setToolTip("Commissions payable (past their pending days) less payouts")
                value.setToolTip(name.toolTip())
            self.grid.addWidget(name, row, column)
            self.grid.addWidget(value, row, column + 1)
            self.values[key] = value
            self.rows += [name, value]
        # WHMCS's "View Affiliate Details" link, beside the balance
        self.details_link = QLabel('<a href="details">Details…</a>')
        self.details_link.setObjectName("affiliateDetails")
        self.details_link.setTextFormat(Qt.TextFormat.RichText)
        self.details_link.setToolTip("Referred clients, commissions and payouts")
        self.details_link.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.details_link.linkActivated.connect(lambda _link: self.show_details())
        self.grid.addWidget(self.details_link, 2, 2, 1, 2)
        self.rows.append(self.details_link)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(3, 1)

        self.refer_button = self._button("referClient", "Refer a client…", self.refer_client,
                                         "Record a client this affiliate referred")
        self.payout_button = self._button("recordPayout", "Record payout…", self.record_payout,
                                          "Record money paid to the affiliate")
        self.activate_button = self._button("activateAffiliate", "Activate as affiliate…",
                                            self.activate, "Commissions on the paid invoices "
                                            "of the clients it refers")
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.activate_button, self.refer_button, self.payout_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.referred = QLabel()
        self.referred.setObjectName("referredBy")
        self.referred.setTextFormat(Qt.TextFormat.RichText)
        self.referred.setWordWrap(True)
        self.referred.linkActivated.connect(self._referred_link)

        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addLayout(self.grid)
        layout.addLayout(buttons)
        layout.addWidget(self.referred)

        # a burst of changes (a billing run) reloads once
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.load)
        window.ops.changed.connect(self._changed)
        self.load()

    def _button(self, name: str, text: str, slot: Any, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # --- showing

    def load(self) -> None:
        self._soon.stop()
        try:
            self.record = affiliates.for_client(self.client_id)
            self.figures = affiliates.summary(self.record.id) if self.record else None
            referrer = affiliates.referred_by(self.client_id)
        except NotFound:  # deleted elsewhere: the window closes itself
            return
        is_affiliate = self.record is not None
        for widget in self.rows:
            widget.setVisible(is_affiliate)
        self.refer_button.setVisible(is_affiliate)
        self.payout_button.setVisible(is_affiliate)
        self.activate_button.setVisible(not is_affiliate)
        if self.record is not None and self.figures is not None:
            s, r = self.figures, self.record
            commission = r.commission_text.replace(" per paid invoice", " each")
            if r.status != "Active":
                commission += " (inactive)"
            v = self.values
            v["commission"].setText(commission)
            v["signups"].setText(str(s.signups))
            v["pending"].setText(fmt.money(s.pending))
            v["balance"].setText(fmt.money(s.balance))
            v["paid_out"].setText(fmt.money(s.paid_out))
            for key, amount in (("pending", s.pending), ("paid_out", s.paid_out)):
                v[key].setStyleSheet("" if amount else MUTED)
            self.payout_button.setEnabled(bool(s.balance.amount > 0))
            self.payout_button.setToolTip("Record money paid to the affiliate"
                                          if s.balance.amount > 0 else "Nothing is payable yet")
        # an archived client (read-only) offers no way to change who referred it
        change = "" if self.read_only else ' (<a href="assign">{}</a>)'
        if referrer is None:
            self.referred.setText("Referred by: —" + change.format("assign"))
        else:
            self.referred.setText(
                f'Referred by: <a href="open:{referrer[0]}">#{referrer[0]} '
                f'{html.escape(referrer[1])}</a>' + change.format("change"))
        if self.menu_action is not None:
            self.menu_action.setText("Affiliate details…" if is_affiliate
                                     else "Activate as affiliate…")
            self.menu_action.setEnabled(is_affiliate or not self.read_only)

    def set_read_only(self, read_only: bool) -> None:
        """An archived client's (C11): nothing here changes it; the details
        of an affiliate can still be read."""
        self.read_only = read_only
        self.load()

    def add_menu_action(self, menu: QMenu) -> QAction:
        """"Activate as affiliate…" (or "Affiliate details…") in the Client menu."""
        self.menu_action = QAction("Activate as affiliate…", menu)
        self.menu_action.setObjectName("affiliateAction")
        self.menu_action.setToolTip("The client as an affiliate: commissions on the clients it "
                                    "referred (F4)")
        self.menu_action.triggered.connect(
            lambda _checked=False: self.show_details() if self.record else self.activate())
        menu.addAction(self.menu_action)
        if self.record is not None:
            self.menu_action.setText("Affiliate details…")
        return self.menu_action

    def _changed(self, changes: Changes) -> None:
        if not shiboken6.isValid(self):  # closed with its window
            return
        # a referred client's payment (another client's window) changes an
        # affiliate's figures; a name shown here may be another client's
        if changes.affiliates or changes.settings or changes.clients or (
                changes.billing and self.record is not None):
            self._soon.start()

    # --- actions

    def _refused(self) -> bool:
        refuse = getattr(self.window_, "refuse_archived", None)
        return bool(refuse and refuse())

    def _run(self, fn: Any, changes: Changes, on_done: Any = None, on_error: Any = None) -> None:
        self.window_.ops.run(fn, changes=changes, on_done=on_done,
                             on_error=on_error or (lambda exc: show_error(self, exc)))

    def activate(self) -> None:
        if self.record is not None or self._refused():
            return
        dialog = ActivateDialog(self.window_.ops, self.client_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def refer_client(self) -> None:
        if self.record is None or self._refused():
            return
        picker = ClientPicker(f"Refer a client — affiliate #{self.record.id} {self.record.name}",
                              "Find the client this affiliate referred: its paid invoices earn "
                              "the affiliate's commission from now on.", exclude=self.client_id,
                              parent=self)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        picker.chosen.connect(self._refer)
        picker.open()

    def _refer(self, client_id: int) -> None:
        affiliate_id = self.record.id if self.record else None
        if affiliate_id is None:
            return
        self.refer(affiliate_id, client_id)

    def refer(self, affiliate_id: int, client_id: int) -> None:
        """``affiliate_id`` referred ``client_id``; asks before moving a
        client another affiliate referred."""
        current = affiliates.referred_by(client_id)
        reassign = False
        if current is not None and current[0] != affiliate_id:
            answer = QMessageBox.question(
                self, "Referred already",
                f"Client #{client_id} is referred by affiliate #{current[0]} {current[1]}. "
                f"Move it to affiliate #{affiliate_id}?")
            if answer != QMessageBox.StandardButton.Yes:
                return
            reassign = True
        self._run(lambda: affiliates.refer(affiliate_id, client_id, reassign=reassign),
                  Changes(affiliates=True))

    def record_payout(self) -> None:
        if self.record is None or self._refused():
            return
        dialog = PayoutDialog(self.window_.ops, self.record.id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def show_details(self) -> None:
        if self.record is None:
            return
        dialog = DetailsDialog(self.window_, self.record.id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()

    def _referred_link(self, link: str) -> None:
        if link.startswith("open:"):
            open_client(int(link.removeprefix("open:")))
            return
        self.assign_referrer()

    def assign_referrer(self) -> None:
        if self._refused():
            return
        dialog = ReferrerDialog(self, self.client_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()


def open_client(client_id: int) -> bool:
    """Open (or raise) the client's window through the main window, when
    there is one. Returns whether it did."""
    for widget in QApplication.topLevelWidgets():
        opener = getattr(widget, "open_client", None)
        if opener is not None and hasattr(widget, "client_windows"):
            opener(client_id)
            return True
    return False


# --------------------------------------------------------------------------- dialogs

class ActivateDialog(QDialog):
    """Activate as affiliate: a percent of each paid invoice's subtotal, or a
    fixed amount per paid invoice in the client's currency."""

    def __init__(self, ops: Any, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id = ops, client_id
        self.setObjectName("activateAffiliateDialog")
        self.currency = clients.client_currency(client_id)
        self.setWindowTitle(f"Activate as affiliate — client #{client_id}")
        self.kind = QComboBox()
        self.kind.setObjectName("commissionType")
        self.kind.addItem("Percent of each paid invoice (before tax)", "percent")
        self.kind.addItem(f"Fixed amount per paid invoice ({self.currency})", "fixed")
        self.form = Form(self)
        layout = QFormLayout()
        layout.addRow("Commission", self.kind)
        self.percent = self.form.add(layout, "percent", "Percent", line("e.g. 10 or 12.5", 10))
        self.fixed = self.form.add(layout, "fixed", f"Amount ({self.currency})", line("0.00", 20))
        self.kind.currentIndexChanged.connect(self._kind)
        days = affiliates.delay_days()
        note = QLabel(f"Commissions accrue when a referred client's invoice is paid and are "
                      f"payable {days} day{'s' if days != 1 else ''} later. Add-funds invoices "
                      "earn nothing.")
        note.setWordWrap(True)
        buttons, self.save_button = save_cancel(self, "Activate")
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(note)
        box.addWidget(buttons)
        self.layout_ = layout
        self.setMinimumWidth(420)
        self._kind()

    def _kind(self) -> None:
        percent = self.kind.currentData() == "percent"
        self.layout_.setRowVisible(1, percent)
        self.layout_.setRowVisible(2, not percent)
        (self.percent if percent else self.fixed).widget.setFocus()

    def save(self) -> None:
        client_id = self.client_id
        kind = self.kind.currentData()
        value = self.form.values()[kind]
        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(lambda: affiliates.activate(client_id, **{kind: value}),
                     changes=Changes(affiliates=True, client_id=client_id),
                     on_done=lambda _r: self.accept(), on_error=failed)


class PayoutDialog(QDialog):
    """Record payout: amount (the balance to start with), date, method, notes."""

    def __init__(self, ops: Any, affiliate_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.affiliate_id = ops, affiliate_id
        self.setObjectName("payoutDialog")
        record = affiliates.get(affiliate_id)
        left = affiliates.balance(affiliate_id)
        self.setWindowTitle(f"Record payout — affiliate #{affiliate_id} {record.name}")
        self.form = Form(self)
        layout = QFormLayout()
        self.amount = self.form.add(layout, "amount", f"Amount ({record.currency})",
                                    line("0.00", 20)).widget
        self.form.add(layout, "date", "Date", date_edit())
        self.form.add(layout, "method", "Method", line("e.g. Bank transfer", 100))
        self.form.add(layout, "notes", "Notes", line("", 2000))
        self.amount.setText(str(left))
        buttons, self.save_button = save_cancel(self, "Record payout")
        box = QVBoxLayout(self)
        box.addWidget(QLabel(f"Balance: <b>{fmt.money(left)}</b>"))
        box.addLayout(layout)
        box.addWidget(buttons)
        self.setMinimumWidth(400)
        self.amount.selectAll()

    def save(self) -> None:
        v = self.form.values()
        affiliate_id = self.affiliate_id
        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(lambda: affiliates.record_payout(affiliate_id, amount=v["amount"],
                                                      paid_on=v["date"], method=v["method"],
                                                      notes=v["notes"]),
                     changes=Changes(affiliates=True, client_id=affiliate_id),
                     on_done=lambda _r: self.accept(), on_error=failed)


class ClientPicker(QDialog):
    """Find a client by name, company, email or id; ``chosen`` its id."""

    chosen = Signal(int)

    def __init__(self, title: str, intro: str, *, exclude: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clientPicker")
        self.setWindowTitle(title)
        self.exclude = exclude
        text = QLabel(intro)
        text.setWordWrap(True)
        self.finder = ClientSearch(self, name="picker", exclude=exclude, select_single=True,
                                   placeholder="Name, company, email or id",
                                   empty="No client matches “{text}”.")
        self.search, self.results = self.finder.search, self.finder.results
        self.results.itemDoubleClicked.connect(lambda _item: self._accept())
        self.results.currentItemChanged.connect(
            lambda item, _old: self.ok.setEnabled(ClientSearch.picked(item) is not None))
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton("Choose", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("choose")
        self.ok.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        layout.addWidget(self.buttons)
        self.resize(480, 360)

    def _accept(self) -> None:
        picked = ClientSearch.picked(self.results.currentItem())
        if picked is None:
            return
        self.accept()
        self.chosen.emit(int(picked))


class ReferrerDialog(QDialog):
    """Who referred the client: one of the affiliates, or no one."""

    def __init__(self, panel: AffiliatePanel, client_id: int) -> None:
        super().__init__(panel)
        self.panel, self.client_id = panel, client_id
        self.setObjectName("referrerDialog")
        self.setWindowTitle(f"Referred by — client #{client_id}")
        self.choice = QComboBox()
        self.choice.setObjectName("referrer")
        self.choice.addItem("— no one —", None)
        for affiliate_id, name in affiliates.list_affiliates():
            if affiliate_id != client_id:
                self.choice.addItem(f"#{affiliate_id} {name}", affiliate_id)
        current = affiliates.referred_by(client_id)
        self.before = current[0] if current else None
        self.choice.setCurrentIndex(max(self.choice.findData(self.before), 0))
        text = QLabel("The affiliate who referred this client earns its commission on the "
                      "client's invoices paid from now on.")
        text.setWordWrap(True)
        buttons, self.save_button = save_cancel(self, "Save")
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.choice)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    def save(self) -> None:
        chosen = self.choice.currentData()
        client_id = self.client_id
        if chosen == self.before:
            self.accept()
            return
        self.accept()
        if chosen is None:
            self.panel._run(lambda: affiliates.unrefer(client_id), Changes(affiliates=True))
        else:
            self.panel._run(lambda: affiliates.refer(chosen, client_id, reassign=True),
                            Changes(affiliates=True))


# --------------------------------------------------------------------------- details

class _Model(_ListModel):
    """A small whole list: rows of records, columns by an IntEnum, each
    cell's text and sort value from ``cell``."""

    def cell(self, record: Any, column: int) -> tuple[str, Any]:
        raise NotImplementedError

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == IdRole:
            return record.id
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            text, raw = self.cell(record, index.column())
            return text if role == Qt.ItemDataRole.DisplayRole else raw
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.MONEY_COLUMNS:
            return RIGHT
        return None


class ReferralColumn(IntEnum):
    CLIENT = 0
    REFERRED = 1
    PAID = 2


class ReferralTableModel(_Model):
    HEADERS = {ReferralColumn.CLIENT: "Client", ReferralColumn.REFERRED: "Referred",
               ReferralColumn.PAID: "Paid invoices"}
    MONEY_COLUMNS = frozenset({ReferralColumn.PAID})

    def cell(self, r: affiliates.ReferralRecord, column: int) -> tuple[str, Any]:
        if column == ReferralColumn.CLIENT:
            return f"#{r.client_id} {r.name}", r.name.casefold()
        if column == ReferralColumn.REFERRED:
            return f"{r.referred_at:%Y-%m-%d}", r.referred_at
        return str(r.paid_invoices), r.paid_invoices


class CommissionColumn(IntEnum):
    EARNED = 0
    INVOICE = 1
    CLIENT = 2
    AMOUNT = 3
    PAYABLE = 4
    STATE = 5


class CommissionTableModel(_Model):
    HEADERS = {CommissionColumn.EARNED: "Earned", CommissionColumn.INVOICE: "Invoice",
               CommissionColumn.CLIENT: "Client", CommissionColumn.AMOUNT: "Amount",
               CommissionColumn.PAYABLE: "Payable from", CommissionColumn.STATE: "State"}
    MONEY_COLUMNS = frozenset({CommissionColumn.AMOUNT})

    def cell(self, c: affiliates.CommissionRecord, column: int) -> tuple[str, Any]:
        if column == CommissionColumn.EARNED:
            return fmt.date(c.earned_on), c.earned_on
        if column == CommissionColumn.INVOICE:
            text = f"#{c.invoice_number}" if c.invoice_number else (
                f"draft {c.invoice_id}" if c.invoice_id else "—")
            return text, c.invoice_number
        if column == CommissionColumn.CLIENT:
            return (f"#{c.client_id}" if c.client_id else "—"), c.client_id or 0
        if column == CommissionColumn.AMOUNT:
            return fmt.money(c.amount), c.amount.amount
        if column == CommissionColumn.PAYABLE:
            return fmt.date(c.payable_on), c.payable_on
        return c.state.capitalize(), c.state


class PayoutColumn(IntEnum):
    DATE = 0
    AMOUNT = 1
    METHOD = 2
    NOTES = 3


class PayoutTableModel(_Model):
    HEADERS = {PayoutColumn.DATE: "Paid on", PayoutColumn.AMOUNT: "Amount",
               PayoutColumn.METHOD: "Method", PayoutColumn.NOTES: "Notes"}
    MONEY_COLUMNS = frozenset({PayoutColumn.AMOUNT})

    def cell(self, p: affiliates.PayoutRecord, column: int) -> tuple[str, Any]:
        if column == PayoutColumn.DATE:
            return fmt.date(p.paid_on), p.paid_on
        if column == PayoutColumn.AMOUNT:
            return fmt.money(p.amount), p.amount.amount
        if column == PayoutColumn.METHOD:
            return p.method, p.method.casefold()
        return p.notes, p.notes.casefold()


class DetailsDialog(QDialog):
    """View Affiliate Details: the figures, the referred clients, the
    commissions with their payable dates and state, and the payouts (a
    payout recorded by mistake can be deleted). Follows the changes."""

    def __init__(self, window: Any, affiliate_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_, self.affiliate_id = window, affiliate_id
        self.setObjectName("affiliateDetails")
        self.header = QLabel()
        self.header.setObjectName("affiliateHeader")
        self.header.setWordWrap(True)
        self.referrals = ReferralTableModel(self)
        self.commissions = CommissionTableModel(self)
        self.payouts = PayoutTableModel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(record_view(self.referrals, "referralsView", ReferralColumn.CLIENT),
                         "Referred clients")
        self.tabs.addTab(record_view(self.commissions, "commissionsView", CommissionColumn.CLIENT),
                         "Commissions")
        payouts = QWidget()
        self.payouts_view = record_view(self.payouts, "payoutsView", None)
        self.delete_payout = QPushButton("Delete payout…")
        self.delete_payout.setObjectName("deletePayout")
        self.delete_payout.setEnabled(False)
        self.delete_payout.clicked.connect(lambda _c=False: self._delete_payout())
        self.payouts_view.selectionModel().selectionChanged.connect(
            lambda *_: self.delete_payout.setEnabled(self._payout() is not None))
        pl = QVBoxLayout(payouts)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.payouts_view)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.delete_payout)
        pl.addLayout(row)
        self.tabs.addTab(payouts, "Payouts")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close)
        self.resize(720, 460)
        window.ops.changed.connect(self._changed)
        self.load()

    def load(self) -> None:
        try:
            s = affiliates.summary(self.affiliate_id)
        except NotFound:
            self.reject()
            return
        a = s.affiliate
        self.setWindowTitle(f"Affiliate #{a.id} {a.name}")
        self.header.setText(
            f"<b>#{a.id} {html.escape(a.name)}</b> — commission {html.escape(a.commission_text)}, "
            f"{a.status}, since {a.activated_at:%Y-%m-%d}<br>Sign-ups {s.signups} · pending "
            f"{fmt.money(s.pending)} · payable {fmt.money(s.payable)} · paid out "
            f"{fmt.money(s.paid_out)} · <b>balance {fmt.money(s.balance)}</b><br>"
            f"<i>Commissions are payable {s.delay_days} days after the invoice is paid.</i>")
        self.referrals.set_rows(s.referrals)
        self.commissions.set_rows(s.commissions)
        self.payouts.set_rows(s.payouts)
        self.tabs.setTabText(0, f"Referred clients ({s.signups})")
        self.tabs.setTabText(1, f"Commissions ({len(s.commissions)})")
        self.tabs.setTabText(2, f"Payouts ({len(s.payouts)})")
        self.delete_payout.setEnabled(self._payout() is not None)

    def _changed(self, changes: Changes) -> None:
        if shiboken6.isValid(self) and (changes.affiliates or changes.billing
                                        or changes.settings or changes.clients):
            self.load()

    def _payout(self) -> affiliates.PayoutRecord | None:
        rows = self.payouts_view.selectionModel().selectedRows()
        return self.payouts.row(rows[0].row()) if rows else None

    def _delete_payout(self) -> None:
        payout = self._payout()
        if payout is None:
            return
        answer = QMessageBox.question(
            self, "Delete payout", f"Delete the payout of {fmt.money(payout.amount)} on "
            f"{payout.paid_on:%Y-%m-%d}? Its amount is owed to the affiliate again.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        payout_id = payout.id
        self.window_.ops.run(lambda: affiliates.delete_payout(payout_id),
                             changes=Changes(affiliates=True, client_id=self.affiliate_id),
                             on_error=lambda exc: show_error(self, exc))
