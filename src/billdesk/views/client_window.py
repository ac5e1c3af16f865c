"""One client's window (C3): Summary, Profile, Contacts, Services,
Domains, Invoices, Transactions, Emails, Files, Notes and Log tabs, and the
Client menu of the lifecycle actions (C7–C12; also as Other actions on the
Summary tab). Several can be open at once; each refreshes when its client
changes. An archived client's window is read-only under a banner."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabBar,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from billdesk import clock
from billdesk.errors import BilldeskError, NotFound
from billdesk.models import INVOICE_STATUSES, SERVICE_KINDS
from billdesk.services import (
    clients,
    contacts,
    credit,
    invoicing,
    orders,
    payments,
    quotes,
    subscriptions,
)
from billdesk.services.clients import ClientRecord
from billdesk.services.validate import countries, languages
from billdesk.views.affiliate_panel import AffiliatePanel
from billdesk.views.automation_settings_tab import add_client_overrides
from billdesk.views.client_form import ClientForm
from billdesk.views.contact_dialog import ContactDialog
from billdesk.views.emails_tab import EmailsTab, RecentEmails
from billdesk.views.errors import show_error
from billdesk.views.files_tab import FilesTab, SummaryFiles
from billdesk.views.notes_tab import NotesTab, StickyNotes
from billdesk.views import fmt
from billdesk.views.models import IdRole
from billdesk.views.models.billing_tables import (
    InvoiceColumn,
    InvoiceTableModel,
    TransactionColumn,
    TransactionTableModel,
)
from billdesk.views.models.simple_tables import (
    ContactColumn,
    ContactTableModel,
    LogColumn,
    LogTableModel,
)
from billdesk.views.money_dialogs import AmountDialog, RefundDialog
from billdesk.views.ops import Changes, Operations
from billdesk.views.orders_tab import OrdersTab
from billdesk.views.paymethods_panel import PayMethodsPanel
from billdesk.views.queued_items import QueuedItems
from billdesk.views.quotes_tab import CurrentQuotes, QuoteList
from billdesk.views.services_tab import DOMAINS, SERVICES, ServiceCounts, ServiceList, SummaryLists
from billdesk.views.tickets_tab import TicketsTab
from billdesk.views.tables import PlaceholderTable, setup_table

TOGGLES = (
    ("tax_exempt", "Tax exempt"),
    ("auto_cc", "Auto card processing"),
    ("overdue_notices", "Send overdue reminders"),
    ("late_fees", "Apply late fees"),
)


def _age(since: datetime, now: datetime | None = None) -> str:
    """How long someone has been a client (WHMCS's "Client For"):
    "4 years, 4 months", "12 days", "less than a day"."""
    days = ((now or clock.now()) - since).days
    if days < 1:
        return "less than a day"
    years, rest = divmod(days, 365)
    months = rest // 30
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years > 1 else ''}")
    if months:
        parts.append(f"{months} month{'s' if months > 1 else ''}")
    if not parts:
        parts.append(f"{days} day{'s' if days > 1 else ''}")
    return ", ".join(parts)


def _table(model: object) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class FittedLabel(QLabel):
    """Lines of plain text that wrap at spaces; a word wider than the label
    (a long email address or company name) is shortened with "…" — in
    its middle when it is an address — instead of being cut or widening
    the window. The whole text is in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._lines: list[str] = []

    def set_lines(self, lines: list[str]) -> None:
        self._lines = list(lines)
        self.setToolTip("\n".join(self._lines))
        self._fit()

    def full_text(self) -> str:
        return "\n".join(self._lines)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        metrics = self.fontMetrics()

        def fitted(word: str) -> str:
            if width <= 0 or metrics.horizontalAdvance(word) <= width:
                return word
            mode = Qt.TextElideMode.ElideMiddle if "@" in word else Qt.TextElideMode.ElideRight
            return metrics.elidedText(word, mode, width)

        text = "\n".join(" ".join(fitted(w) for w in line.split(" ")) for line in self._lines)
        if text != self.text():
            self.setText(text)


class _Panels(QWidget):
    """The Summary's panels in columns, each column a stack of boxes: at
    least as tall as the tallest stack needs at the width its boxes have
    (a narrow column wraps an email or a date), so the splitter never cuts
    a panel's last lines."""

    def __init__(self, stacks: list[tuple[int, list[tuple[QWidget, int]]]]) -> None:
        super().__init__()
        self.stacks = [[box for box, _stretch in stack] for _width, stack in stacks]
        columns = QHBoxLayout(self)
        columns.setContentsMargins(0, 0, 0, 0)
        for width, stack in stacks:
            column = QVBoxLayout()
            for box, stretch in stack:
                column.addWidget(box, stretch)
            columns.addLayout(column, width)

    def minimumSizeHint(self):  # noqa: ANN201, N802
        hint = super().minimumSizeHint()
        if not self.isVisible():  # (until shown the widths are not the window's)
            return hint
        spacing = max(self.layout().spacing(), 0)
        needed = 0
        for stack in self.stacks:
            height = spacing * (len(stack) - 1)
            for box in stack:
                wrapped = box.heightForWidth(box.width()) if box.hasHeightForWidth() else -1
                height += max(box.minimumSizeHint().height(), wrapped)
            needed = max(needed, height)
        hint.setHeight(max(hint.height(), needed))
        return hint

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the splitter asks again


class SummaryTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title_row = QHBoxLayout()  # the window puts its Other actions button at the end
        self.title_row.addWidget(self.title, 1)
        self.sticky = StickyNotes(window)  # the sticky dated notes, across the top (F2)

        self.toggles: dict[str, QCheckBox] = {}
        toggles = QHBoxLayout()
        for field, label in TOGGLES:
            box = QCheckBox(label)
            box.setObjectName(f"toggle_{field}")
            box.setToolTip("Saves at once")
            box.toggled.connect(lambda on, f=field: self._toggle(f, on))
            self.toggles[field] = box
            toggles.addWidget(box)
        toggles.addStretch(1)

        self.info = FittedLabel()
        self.info.setObjectName("clientInformation")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.info.setMinimumWidth(200)
        info_box = QGroupBox("Client information")
        QVBoxLayout(info_box).addWidget(self.info)

        self.contact_list = QLabel()
        self.contact_list.setObjectName("contactList")
        self.contact_list.setTextFormat(Qt.TextFormat.RichText)
        self.contact_list.setWordWrap(True)
        self.contact_list.linkActivated.connect(self._edit_contact)
        add_contact = QPushButton("Add contact")
        add_contact.clicked.connect(lambda: self.window_.add_contact())
        contacts_box = QGroupBox("Contacts")
        self.contact_list.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        cl = QVBoxLayout(contacts_box)
        cl.addWidget(self.contact_list)
        cl.addStretch(1)
        cl.addWidget(add_contact, 0, Qt.AlignmentFlag.AlignLeft)

        self.other = QFormLayout()
        self.other_labels: dict[str, QLabel] = {}
        for key, label in (("status", "Status"), ("group", "Group"), ("signup", "Signed up"),
                           ("client_for", "Client for"), ("activity", "Last activity"),
                           ("currency", "Currency"), ("language", "Language"),
                           ("account_type", "Account type"), ("billing", "Billing contact")):
            value = QLabel()
            value.setObjectName(f"other_{key}")
            value.setTextFormat(Qt.TextFormat.RichText)
            # names wrap in the narrow column; dates and the rest stay on one line
            value.setWordWrap(key in ("group", "billing"))
            self.other_labels[key] = value
            self.other.addRow(label + ":", value)
        other_box = QGroupBox("Other information")
        other_box.setLayout(self.other)

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("adminNotes")
        self.notes.setPlaceholderText("Notes only you see")
        self.save_notes = QPushButton("Save notes")
        self.save_notes.setObjectName("saveNotes")
        self.save_notes.setEnabled(False)
        self.notes.textChanged.connect(lambda: self.save_notes.setEnabled(
            self.notes.toPlainText().rstrip() != self._notes))
        self.save_notes.clicked.connect(self._save_notes)
        self.recent = RecentEmails(window)  # the last five emails (C4, E4)
        self.files_panel = SummaryFiles(window)  # the newest files, Add file… (C4, F1)
        self.pay_methods = PayMethodsPanel(window)  # masked, the default first (C4, K2)
        notes_box = QGroupBox("Admin notes")
        nl = QVBoxLayout(notes_box)
        nl.addWidget(self.notes)
        nl.addWidget(self.save_notes, 0, Qt.AlignmentFlag.AlignRight)
        self._notes = ""

        self.billing = BillingPanel(window)
        self.counts = ServiceCounts()  # Products/Services (C4)
        self.affiliate = AffiliatePanel(window)  # F4: loads and follows the changes itself
        self.lists = SummaryLists(window)  # services, addons, domains with bulk actions (S4–S6)
        self.current_quotes = CurrentQuotes()  # valid until today or later (B4)
        self.current_quotes.setFlat(True)  # its tab names it
        self.current_quotes.counted.connect(lambda n: self.lists.setTabText(
            self.lists.indexOf(self.current_quotes),
            f"Current quotes ({n})" if n else "Current quotes"))
        self.lists.addTab(self.current_quotes, "Current quotes")
        self.current_quotes.follow(window)
        self.queued = QueuedItems(window.ops)  # billable items and recurring invoices (B3, B5)
        self.lists.addTab(self.queued, "Queued invoice items")
        self.queued.load(window.client_id)  # then it follows the changes itself
        # four columns, as WHMCS's, each stacked on its own (no shared rows):
        # no taller than the billing panel, so the lists below keep their
        # room; the widths by what each holds (the billing panel takes what
        # its buttons need, the emails and files a little more than the rest)
        panels = _Panels([(5, [(info_box, 0), (contacts_box, 1), (self.pay_methods, 0)]),
                          (5, [(self.billing, 1)]),
                          (5, [(other_box, 1), (self.counts, 0)]),
                          (7, [(self.recent, 0), (self.affiliate, 0), (self.files_panel, 0),
                               (notes_box, 1)])])
        self.notes.setMinimumHeight(self.notes.fontMetrics().height() * 3 + 12)
        # the panels above at their natural height, the lists below take the rest
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("summarySplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(panels)
        self.splitter.addWidget(self.lists)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.splitterMoved.connect(lambda _pos, _index: QSettings().setValue(
            "client/summarySplitter", self.splitter.saveState()))
        self._split = False

        # The tab scrolls as a whole on a screen shorter than its panels and
        # a few rows of the lists (a 768-pixel laptop), rather than making
        # the window taller than the screen; elsewhere it just fills it.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.sticky)
        layout.addLayout(self.title_row)
        layout.addLayout(toggles)
        layout.addWidget(self.splitter, 1)
        scroll = QScrollArea()
        scroll.setObjectName("summaryScroll")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._split:
            return
        self._split = True
        state = QSettings().value("client/summarySplitter")
        if state is None or not self.splitter.restoreState(state):
            panels = self.splitter.widget(0).minimumSizeHint().height()
            self.splitter.setSizes([panels, max(self.splitter.height() - panels, 200)])

    def show_record(self, record: ClientRecord, people: list[contacts.ContactRecord]) -> None:
        v = record.values
        chip = ""
        if record.group_name:
            chip = (f' <span style="background:{record.group_colour}; color:white; '
                    f'font-size:small;">&nbsp;{html.escape(record.group_name)}&nbsp;</span>')
        self.title.setText(f"#{record.id}&nbsp;&nbsp;{html.escape(record.display_name)}{chip}")
        for field, box in self.toggles.items():
            box.blockSignals(True)
            box.setChecked(bool(v[field]))
            box.blockSignals(False)

        lines = [f"{v['first_name']} {v['last_name']}"]
        if v["company"]:
            lines.append(v["company"])
        lines += [x for x in (v["address1"], v["address2"]) if x]
        city = " ".join(x for x in (v["postcode"], v["city"]) if x)
        if v["state"]:
            city = f"{city}, {v['state']}" if city else v["state"]
        if city:
            lines.append(city)
        if v["country"]:
            lines.append(countries().get(v["country"], v["country"]))
        lines.append("")
        lines.append(f"Email: {v['email']}")
        if v["phone"]:
            lines.append(f"Phone: {v['phone']}")
        if v["tax_id"]:
            lines.append(f"Tax ID: {v['tax_id']}")
        self.info.set_lines(lines)

        if people:
            items = []
            for person in people:
                mark = " <i>(billing)</i>" if person.is_billing else ""
                items.append(f'<a href="{person.id}">{html.escape(person.name)}</a> — '
                             f"{html.escape(person.values['email'])}{mark}")
            self.contact_list.setText("<br>".join(items))
        else:
            self.contact_list.setText("<i>No contacts yet.</i>")

        billing = next((p.name for p in people if p.is_billing), "the client")
        status_colour = {"Active": "#2e7d32", "Inactive": "#9a6b00", "Closed": "#8a8a8a"}[v["status"]]
        o = self.other_labels
        o["status"].setText(f'<b style="color:{status_colour}">{v["status"]}</b>')
        o["group"].setText(html.escape(record.group_name) or "—")
        o["signup"].setText(f"{record.created_at:%Y-%m-%d}")
        o["client_for"].setText(_age(record.created_at))
        self.show_activity(record)
        o["currency"].setText(v["currency"])
        o["language"].setText(languages().get(v["language"], v["language"]))
        o["account_type"].setText(v["account_type"].capitalize())
        o["billing"].setText(html.escape(billing))

        self._notes = v["notes"]
        if not self.save_notes.isEnabled():  # don't overwrite unsaved typing
            self.notes.blockSignals(True)
            self.notes.setPlainText(v["notes"])
            self.notes.blockSignals(False)

    def show_activity(self, record: ClientRecord) -> None:
        """Last activity: the newest of the client's log and its own edits."""
        latest = max(filter(None, (record.last_activity, record.updated_at)))
        self.other_labels["activity"].setText(f"{latest:%Y-%m-%d %H:%M}")

    def _toggle(self, field: str, on: bool) -> None:
        self.window_.save_fields({field: on})

    def _save_notes(self) -> None:
        self.save_notes.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_notes.setEnabled(True)  # the typed notes stay to try again
            show_error(self, exc)

        self.window_.save_fields({"notes": self.notes.toPlainText()}, on_failed=failed)

    def _edit_contact(self, link: str) -> None:
        self.window_.edit_contact(int(link))


class ProfileTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.form = ClientForm(window.client_id, self)
        # C6: the client's automation overrides, saved and logged with the profile
        self.automation = add_client_overrides(self.form.form)
        self.form.edited.connect(self._edited)
        self.form.change_currency.clicked.connect(lambda: self.window_.change_currency())
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("Reason for the change (optional, goes in the log)")
        self.save = QPushButton("Save changes")
        self.save.setObjectName("saveProfile")
        self.save.setEnabled(False)
        self.save.clicked.connect(self._save)
        self.revert = QPushButton("Revert")
        self.revert.setEnabled(False)
        self.revert.clicked.connect(lambda: self.window_.reload())
        buttons = QHBoxLayout()
        buttons.addWidget(self.reason, 1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        inner = QWidget()
        il = QVBoxLayout(inner)
        il.addWidget(self.form)
        il.addWidget(self.automation)
        il.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.dirty = False

    def show_record(self, record: ClientRecord) -> None:
        self.form.reload_choices()
        self.form.set_values(record.values)
        # C7: fixed by the client's invoices, it changes through the dialog only
        self.form.fix_currency(clients.has_billing(record.id))

    def set_read_only(self, read_only: bool) -> None:
        """An archived client (C11): the form shows, nothing can be changed."""
        for widget in (self.form, self.automation, self.reason):
            widget.setEnabled(not read_only)
        if read_only:
            self.save.setEnabled(False)
            self.revert.setEnabled(False)

    def set_clean(self) -> None:
        self.dirty = False
        self.save.setEnabled(False)
        self.revert.setEnabled(False)

    def _edited(self) -> None:
        self.dirty = True
        self.save.setEnabled(self.form.check())  # a problem beside a field: fix it first
        self.revert.setEnabled(True)

    def _save(self) -> None:
        if not self.form.check():
            return
        self.save.setEnabled(False)

        def done() -> None:
            self.set_clean()
            self.reason.clear()

        def failed(exc: BaseException) -> None:
            self.save.setEnabled(True)
            self.form.show_error(exc)

        self.window_.save_fields(self.form.values(), reason=self.reason.text(), on_done=done,
                            on_failed=failed)


class ContactsTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.model = ContactTableModel(self)
        self.view = PlaceholderTable()
        self.view.setModel(self.model)
        setup_table(self.view, ContactColumn.CATEGORIES)
        for column, width in ((ContactColumn.NAME, 170), (ContactColumn.EMAIL, 240),
                              (ContactColumn.PHONE, 140), (ContactColumn.BILLING, 110)):
            self.view.setColumnWidth(column, width)
        self.view.placeholder = (
            "No contacts yet. Add contact adds someone who works with this client: a copy of "
            "the emails about what they look after (invoices, support…), or the billing "
            "contact, whom invoices are addressed to.")
        self.view.setObjectName("contactsTable")
        self.view.doubleClicked.connect(lambda index: self.window_.edit_contact(
            self.model.row(index.row()).id))
        add = QPushButton("Add contact")
        add.setObjectName("addContact")
        add.clicked.connect(lambda: self.window_.add_contact())
        self.edit = QPushButton("Edit…")
        self.edit.clicked.connect(self._edit)
        self.billing = QPushButton("Make billing contact")
        self.billing.setObjectName("makeBilling")
        self.billing.clicked.connect(self._make_billing)
        self.delete = QPushButton("Delete")
        self.delete.clicked.connect(self._delete)
        buttons = QHBoxLayout()
        for button in (add, self.edit, self.billing, self.delete):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.model.modelReset.connect(self._selection)
        self._selection()

    def selected(self) -> contacts.ContactRecord | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selection(self) -> None:
        record = self.selected()
        for button in (self.edit, self.delete, self.billing):
            button.setEnabled(record is not None)
        if record is not None:
            self.billing.setText("Stop being billing contact" if record.is_billing
                                 else "Make billing contact")

    def load(self) -> None:
        self.model.load(self.window_.client_id)

    def _edit(self) -> None:
        record = self.selected()
        if record:
            self.window_.edit_contact(record.id)

    def _make_billing(self) -> None:
        record = self.selected()
        if record is None:
            return
        client_id = self.window_.client_id
        target = None if record.is_billing else record.id
        self.window_.ops.run(lambda: contacts.set_billing_contact(client_id, target),
                             changes=Changes(clients=True, contacts=True, client_id=client_id))

    def _delete(self) -> None:
        record = self.selected()
        if record is None:
            return
        answer = QMessageBox.question(
            self, "Delete contact",
            f"Delete the contact {record.name} <{record.values['email']}>?"
            + ("\nThey are the billing contact: invoices go back to the client's own address."
               if record.is_billing else ""))
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.window_.ops.run(lambda: contacts.delete_contact(record.id),
                             changes=Changes(clients=True, contacts=True,
                                             client_id=self.window_.client_id))


class LogTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.model = LogTableModel(self)
        self.view = _table(self.model)
        self.view.setObjectName("logTable")
        self.view.setWordWrap(False)
        # "What" takes the free width (the messages are the long part); the
        # values and the reason, often empty, keep theirs
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(LogColumn.WHAT, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every change to this client, newest first."))
        layout.addWidget(self.view, 1)

    def load(self) -> None:
        self.model.load(self.window_.client_id)
        header = self.view.horizontalHeader()
        for column, width in ((LogColumn.WHEN, 130), (LogColumn.WHO, 110), (LogColumn.OLD, 130),
                              (LogColumn.NEW, 130), (LogColumn.REASON, 160)):
            header.resizeSection(column, width)


class BillingPanel(QGroupBox):
    """Invoices/Billing on the Summary tab (C4): count and total per
    status, income, credit balance, and the billing actions."""

    def __init__(self, window: ClientWindow) -> None:
        super().__init__("Invoices / Billing", window)
        self.window_ = window
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        row = 0
        for status in INVOICE_STATUSES:
            name = QLabel(status)
            count = QLabel()
            count.setAlignment(Qt.AlignmentFlag.AlignRight)
            total = QLabel()
            total.setAlignment(Qt.AlignmentFlag.AlignRight)
            count.setObjectName(f"count_{status}")
            total.setObjectName(f"total_{status}")
            grid.addWidget(name, row, 0)
            grid.addWidget(count, row, 1)
            grid.addWidget(total, row, 2)
            self.values[f"count_{status}"] = count
            self.values[f"total_{status}"] = total
            row += 1
        income = QLabel("<b>Income</b>")
        grid.addWidget(income, row, 0, 1, 3)
        row += 1
        for key, label in (("gross", "Gross revenue"), ("expenses", "Client expenses"),
                           ("net", "Net income"), ("credit", "Credit balance")):
            name = QLabel(label)
            value = QLabel()
            value.setObjectName(f"income_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            if key in ("net", "credit"):
                font = value.font()
                font.setBold(True)
                value.setFont(font)
            grid.addWidget(name, row, 0, 1, 2)
            grid.addWidget(value, row, 2)
            self.values[key] = value
            row += 1
        grid.setColumnStretch(2, 1)

        actions = QGridLayout()
        for i, (name, text, slot) in enumerate((
                ("createInvoice", "Create invoice", window.create_invoice),
                ("createAddFunds", "Add-funds invoice…", window.create_add_funds),
                ("generateDue", "Generate due invoices", window.generate_due),
                ("addBillable", "Add billable item…", lambda: window.summary.queued.add_item()),
                ("manageCredits", "Manage credits", window.manage_credits),
                ("viewStatement", "Account statement", window.open_statement),
                ("placeOrder", "Place order…", lambda: window.orders.place_order()),
                ("newQuote", "New quote…", lambda: window.quotes.new_quote()),
                ("sendEmail", "Send email…", lambda: window.send_email()))):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            actions.addWidget(button, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addSpacing(12)
        layout.addLayout(actions)
        layout.addStretch(1)

    def load(self, client_id: int) -> None:
        figures = invoicing.summary(client_id)
        for status, figure in figures.items():
            self.values[f"count_{status}"].setText(str(figure.count))
            self.values[f"total_{status}"].setText(fmt.money(figure.total))
            muted = "" if figure.count else "color: palette(mid);"
            self.values[f"count_{status}"].setStyleSheet(muted)
            self.values[f"total_{status}"].setStyleSheet(muted)
        income = payments.income(client_id)
        self.values["gross"].setText(fmt.money(income.gross))
        self.values["expenses"].setText(fmt.money(income.expenses))
        self.values["net"].setText(fmt.money(income.net))
        self.values["credit"].setText(fmt.money(credit.balance(client_id)))


class InvoicesTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.model = InvoiceTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)  # before the header's modes: they are per column
        setup_table(self.view, InvoiceColumn.STATUS)
        self.view.setObjectName("invoicesTable")
        self.view.doubleClicked.connect(lambda index: self.open_selected())
        self.view.activated.connect(lambda index: self.open_selected())
        create = QPushButton("Create invoice")
        create.setObjectName("createInvoice")
        create.clicked.connect(window.create_invoice)
        add_funds = QPushButton("Add-funds invoice…")
        add_funds.clicked.connect(window.create_add_funds)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openInvoice")
        self.open_button.clicked.connect(self.open_selected)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem("All statuses", None)
        for status in INVOICE_STATUSES:
            self.status.addItem(status, status)
        self.status.currentIndexChanged.connect(lambda _i: self.load())
        self.count = QLabel()
        self.count.setObjectName("invoiceCount")
        bar = QHBoxLayout()
        for w in (create, add_funds, self.open_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.model.modelReset.connect(self._selection)
        self._sized = False

    def load(self) -> None:
        client_id = self.window_.client_id
        status = self.status.currentData()
        self.model.load(client_id, status, self.window_.currency)
        total = invoicing.count(client_id, status)
        self.count.setText(f"{total} invoice{'s' if total != 1 else ''}")
        if not self._sized:
            header = self.view.horizontalHeader()
            for column, width in enumerate((190, 95, 95, 95, 110, 110, 130, 90)):
                header.resizeSection(column, width)
            self._sized = True

    def _selection(self) -> None:
        self.open_button.setEnabled(bool(self.view.selectionModel().selectedRows()))

    def open_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if rows:
            self.window_.open_invoice(rows[0].data(IdRole))


class TransactionsTab(QWidget):
    def __init__(self, window: ClientWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.model = TransactionTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)  # before the header's modes: they are per column
        setup_table(self.view, TransactionColumn.DESCRIPTION)
        self.view.setObjectName("transactionsTable")
        self.totals = QLabel()
        self.totals.setObjectName("transactionTotals")
        self.refund = QPushButton("Refund…")
        self.refund.setObjectName("refund")
        self.refund.clicked.connect(self._refund)
        self.open_invoice = QPushButton("Open invoice")
        self.open_invoice.clicked.connect(self._open_invoice)
        self.view.doubleClicked.connect(lambda _i: self._open_invoice())
        bar = QHBoxLayout()
        bar.addWidget(self.refund)
        bar.addWidget(self.open_invoice)
        bar.addStretch(1)
        bar.addWidget(self.totals)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.model.modelReset.connect(self._selection)
        self._sized = False

    def load(self) -> None:
        client_id = self.window_.client_id
        self.model.load(client_id, self.window_.currency)
        money_in, fees, money_out = payments.totals(client_id)
        self.totals.setText(f"In <b>{fmt.money(money_in)}</b> &nbsp; Fees <b>{fmt.money(fees)}</b>"
                            f" &nbsp; Out <b>{fmt.money(money_out)}</b>")
        if not self._sized:
            header = self.view.horizontalHeader()
            for column, width in enumerate((60, 95, 110, 260, 140, 120, 100, 80, 100)):
                if column != TransactionColumn.DESCRIPTION:
                    header.resizeSection(column, width)
            self._sized = True

    def selected(self) -> payments.TransactionRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selection(self) -> None:
        row = self.selected()
        self.refund.setEnabled(row is not None and row.is_payment)
        self.open_invoice.setEnabled(row is not None and row.invoice_id is not None)

    def _refund(self) -> None:
        row = self.selected()
        if row is None or not row.is_payment:
            return
        try:
            RefundDialog(self.window_.ops, self.window_.client_id, row, self).open()
        except BilldeskError as exc:
            show_error(self, exc)

    def _open_invoice(self) -> None:
        row = self.selected()
        if row is not None and row.invoice_id is not None:
            self.window_.open_invoice(row.invoice_id)


def close_client_windows(client_id: int) -> None:
    """Close, without asking, and destroy at once every window of a client
    that no longer exists: before the change is announced, so nothing in
    them reloads a client that is gone. (Call it from a worker's callback,
    not from a slot of the window itself.)"""
    for widget in QApplication.topLevelWidgets():
        if (isinstance(widget, ClientWindow) and shiboken6.isValid(widget)
                and widget.client_id == client_id and widget.gone()):
            shiboken6.delete(widget)


class ArchivedBanner(QFrame):
    """Across the top of an archived client's window (C11)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("archivedBanner")
        self.setStyleSheet("#archivedBanner { background: #eceff1; border-bottom: 1px solid #b0bec5; }"
                           "#archivedBanner QLabel { color: #37474f; }")
        self.text = QLabel("<b>Archived — read-only.</b> The client is hidden from the client "
                           "list; unarchive to change anything.")
        self.text.setObjectName("archivedText")
        self.text.setWordWrap(True)
        self.unarchive = QPushButton("Unarchive")
        self.unarchive.setObjectName("unarchive")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.unarchive)
        self.hide()


# Buttons that only show or read: they stay usable on an archived client
BROWSE_BUTTONS = {"openInvoice", "viewStatement", "quotePdf", "checkAll", "statusFilter",
                  "otherActions", "unarchive"}
BROWSE_TEXTS = {"Open", "Open invoice"}  # (buttons without a name)
# what the confirmation of deleting or anonymizing a client warns
IRREVERSIBLE = "This cannot be undone (except by restoring the backup)."


class ClientWindow(QMainWindow):
    closed = Signal(int)  # the client id, when the window closes

    def __init__(self, client_id: int, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.client_id = client_id
        self.ops = ops
        self.tabs = QTabWidget(self)
        self.summary = SummaryTab(self)
        self.profile = ProfileTab(self)
        self.contacts = ContactsTab(self)
        self.services = ServiceList(self, SERVICES)
        self.domains = ServiceList(self, DOMAINS)
        self.orders = OrdersTab(self)
        self.invoices = InvoicesTab(self)
        self.quotes = QuoteList(self)
        self.transactions = TransactionsTab(self)
        self.emails = EmailsTab(self)
        self.tickets = TicketsTab(self)
        self.files = FilesTab(self)
        self.notes = NotesTab(self)
        self.log = LogTab(self)
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.profile, "Profile")
        self.tabs.addTab(self.contacts, "Contacts")
        self.tabs.addTab(self.services, "Services")
        self.tabs.addTab(self.domains, "Domains")
        self.tabs.addTab(self.orders, "Orders")
        self.tabs.addTab(self.invoices, "Invoices")
        self.tabs.addTab(self.quotes, "Quotes")
        self.tabs.addTab(self.transactions, "Transactions")
        self.tabs.addTab(self.emails, "Emails")
        self.tabs.addTab(self.tickets, "Tickets")
        self.tabs.addTab(self.files, "Files")
        self.tabs.addTab(self.notes, "Notes")
        self.tabs.addTab(self.log, "Log")
        self.banner = ArchivedBanner(self)
        self.banner.unarchive.clicked.connect(lambda: self.unarchive())
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.currency = ""
        self.display_name = ""
        self.archived = False
        self._locks: dict[QAbstractButton, QWidget] = {}  # editing button → its disabled holder
        self._make_actions()
        self._services_soon = QTimer(self)  # reloads the services after billing changes
        self._services_soon.setSingleShot(True)
        self._services_soon.setInterval(0)
        self._services_soon.timeout.connect(self.reload_services)
        # tall enough for the Summary's panels and a few rows of the lists
        # below them where the screen has the room (the tab scrolls where not)
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        self.resize(1120, 840 if screen is None else max(480, min(840, screen.height() - 40)))
        geometry = QSettings().value("client/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        ops.changed.connect(self._changed)
        self.reload()

    def reload(self, *, keep_edits: bool = False) -> None:
        """Show the client as stored. ``keep_edits`` leaves the Profile
        form alone while the user is changing it."""
        try:
            record = clients.get_client(self.client_id)
        except NotFound:  # deleted or merged away (here or elsewhere)
            self.gone()
            return
        people = contacts.list_contacts(self.client_id)
        self.currency = record.values["currency"]
        self.display_name = record.display_name
        self.setWindowTitle(f"#{record.id} {record.display_name} — billdesk")
        self.summary.show_record(record, people)
        if keep_edits and self.profile.dirty:
            self.profile.form.reload_choices()
        else:
            self.profile.set_clean()
            self.profile.show_record(record)
        self.contacts.load()
        self.reload_billing()
        self.reload_services()
        self.reload_counts()
        self.reload_emails()
        self.files.load()
        self.notes.load()
        self.tickets.load()
        self.summary.files_panel.show_files(self.files.records())  # the newest few (C4, F1)
        self.summary.pay_methods.load(self.client_id)  # (it follows its own changes: K2)
        self.summary.sticky.show_notes(self.notes.records())  # across the top (F2)
        self.show_archived(record.archived)

    def reload_emails(self) -> None:
        """The Emails tab and the Summary's recent emails (E4, C4)."""
        self.emails.load()
        self.summary.recent.load(self.client_id)

    def reload_counts(self) -> None:
        """The Summary's order and quote counts (C4)."""
        try:
            self.summary.counts.show_others(orders.counts(self.client_id),
                                            quotes.count_current(self.client_id),
                                            quotes.count(self.client_id))
            self.summary.counts.show_tickets(self.tickets.counts())  # active of all (F3)
        except NotFound:  # deleted elsewhere: the client's own reload closes the window
            return

    def reload_billing(self) -> None:
        """What money events change: the Summary figures, the Invoices and
        Transactions tabs; the services and the log soon after (paying a
        renewal moves its due date), once for a burst of changes."""
        self.summary.billing.load(self.client_id)
        self.invoices.load()
        self.transactions.load()
        self._services_soon.start()

    def reload_services(self) -> None:
        """The services, addons and domains: their tabs, the Summary's
        counts and lists, and the log."""
        self._services_soon.stop()
        try:
            everything = subscriptions.list_services(self.client_id, SERVICE_KINDS)  # one query
        except NotFound:  # deleted elsewhere: the client's own reload closes the window
            return
        for lists in (self.summary.counts, self.summary.lists, self.services, self.domains):
            lists.show_items(everything)  # a hidden list shows them once shown
        self.log.load()
        try:
            self.summary.show_activity(clients.get_client(self.client_id))  # (a new log entry)
        except NotFound:
            return

    def _changed(self, changes: Changes) -> None:
        if changes.settings or changes.groups or (
                (changes.clients or changes.contacts) and changes.touches(self.client_id)):
            self.reload(keep_edits=True)
        elif changes.billing and changes.touches(self.client_id):
            self.reload_billing()
        elif changes.services and changes.touches(self.client_id):
            self.reload_services()
        if (changes.orders or changes.quotes) and changes.touches(self.client_id):
            self.reload_counts()
        if changes.tickets and changes.touches(self.client_id):  # F3: the tab, counts, log
            self.tickets.load()
            self.reload_counts()
            self.log.load()
        # mail is queued by its events too (an invoice published, a payment, a quote delivered)
        if (changes.emails or changes.billing or changes.quotes) and changes.touches(self.client_id):
            self.reload_emails()

    # --- billing actions (the Summary panel and the Invoices tab)

    def create_invoice(self) -> None:
        """An empty draft, opened in the editor (like WHMCS: add lines, then publish)."""
        if self.refuse_archived():
            return
        client_id = self.client_id
        self.ops.run(lambda: invoicing.create_invoice(client_id, [], draft=True),
                     changes=Changes(billing=True, client_id=client_id),
                     on_done=self.open_invoice, on_error=lambda exc: show_error(self, exc))

    def create_add_funds(self) -> None:
        if self.refuse_archived():
            return
        client_id = self.client_id
        created: list[int] = []

        def create(amount: str, _description: str) -> int:
            invoice_id = invoicing.create_add_funds(client_id, amount)
            created.append(invoice_id)
            return invoice_id

        dialog = AmountDialog(self.ops, client_id, "Create add-funds invoice",
                              "An invoice for the client to deposit funds: paying it adds its "
                              "amount to their credit. Credit is never applied to it.",
                              self.currency, create, describe=None, save_text="Create invoice",
                              parent=self)
        dialog.accepted.connect(lambda: created and self.open_invoice(created[0]))
        dialog.open()

    def generate_due(self) -> None:
        if self.refuse_archived():
            return
        self.services.generate_due()

    def open_invoice(self, invoice_id: int) -> None:
        from billdesk.views.invoice_editor import InvoiceEditor

        for child in self.findChildren(InvoiceEditor):
            if child.invoice_id == invoice_id and child.isVisible():
                child.raise_()
                child.activateWindow()
                return
        editor = InvoiceEditor(self.ops, invoice_id, self)
        editor.show()

    def manage_credits(self) -> None:
        if self.refuse_archived():
            return
        from billdesk.views.credit_dialog import open_credits

        open_credits(self.ops, self.client_id, self)

    def send_email(self, template: str | None = None, **attach: Any) -> None:
        """The Send email dialog (E2); ``attach``: ``invoice_id`` or
        ``statement`` (start, end) to attach at once."""
        if self.refuse_archived():
            return
        from billdesk.views.email_dialog import EmailDialog

        try:
            dialog = EmailDialog(self.ops, self.client_id, self, template=template, **attach)
        except BilldeskError as exc:
            show_error(self, exc)
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def show_email(self, email_id: int) -> None:
        """The Emails tab with that message selected."""
        self.tabs.setCurrentWidget(self.emails)
        self.emails.select(email_id)

    def open_statement(self) -> None:
        from billdesk.views.statement_window import StatementWindow

        StatementWindow(self.ops, self.client_id, self).show()

    # --- the client's lifecycle (C7–C12): the Client menu and Other actions

    def _make_actions(self) -> None:
        def action(name: str, text: str, slot: Callable[[], None], tip: str) -> QAction:
            made = QAction(text, self)
            made.setObjectName(name)
            made.setToolTip(tip)
            made.setStatusTip(tip)
            made.triggered.connect(lambda _checked=False: slot())
            return made

        self.currency_action = action(
            "changeCurrencyAction", "Change currency…", self.change_currency,
            "Change the client's currency: convert the open amounts or change the code only (C7)")
        self.merge_action = action(
            "mergeAction", "Merge with another client…", self.merge,
            "Move everything of another client to this one and remove the other (C8)")
        self.close_action = action(
            "closeAction", "Close account…", self.close_account,
            "Status Closed, unpaid invoices and services cancelled; nothing deleted (C9)")
        self.archive_action = action(
            "archiveAction", "Archive…", self.toggle_archive,
            "Hide the client from the list and make it read-only, until unarchived (C11)")
        self.anonymize_action = action(
            "anonymizeAction", "Anonymize…", self.anonymize,
            "Replace the personal data; billing records stay and still add up (C11)")
        self.delete_action = action(
            "deleteAction", "Delete client…", self.delete_client,
            "Remove the client and everything of theirs except transactions (C10)")
        self.gdpr_action = action(
            "gdprAction", "GDPR data report…", self.gdpr_report,
            "One PDF of everything stored about the client (C12)")
        self.client_menu = QMenu("&Client", self)
        self.client_menu.setObjectName("clientMenu")
        self.client_menu.setToolTipsVisible(True)
        for item in (self.currency_action, self.merge_action, None, self.close_action,
                     self.archive_action, self.anonymize_action, self.delete_action, None,
                     self.gdpr_action):
            if item is None:
                self.client_menu.addSeparator()
            else:
                self.client_menu.addAction(item)
        self.open_ticket_action = action(  # F3
            "openTicketAction", "Open ticket…", lambda: self.tickets.open_ticket(),
            "Open a support ticket for the client, to keep the conversation on record (F3)")
        self.client_menu.addSeparator()
        self.client_menu.addAction(self.open_ticket_action)
        self.summary.affiliate.add_menu_action(self.client_menu)  # F4
        self.menuBar().addMenu(self.client_menu)
        # and on the Summary tab, like WHMCS's Other Actions box
        self.other_actions = QToolButton(self.summary)
        self.other_actions.setObjectName("otherActions")
        self.other_actions.setText("Other actions")
        self.other_actions.setMenu(self.client_menu)
        self.other_actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.other_actions.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # the menu's arrow beside the words, not drawn over their last letter
        self.other_actions.setStyleSheet(
            "QToolButton#otherActions { padding: 3px 18px 3px 8px; }"
            "QToolButton#otherActions::menu-indicator { subcontrol-origin: padding;"
            " subcontrol-position: center right; right: 5px; }")
        self.summary.title_row.addWidget(self.other_actions, 0, Qt.AlignmentFlag.AlignVCenter)

    def show_archived(self, archived: bool) -> None:
        """The banner and the read-only state of an archived client (C11):
        the tabs and tables stay browsable, what changes the client is off."""
        self.archived = archived
        self.banner.setVisible(archived)
        self.archive_action.setText("Unarchive" if archived else "Archive…")
        for item in (self.currency_action, self.merge_action, self.close_action):
            item.setEnabled(not archived)
        self.profile.set_read_only(archived)
        self.summary.notes.setReadOnly(archived)
        if archived:
            self.summary.save_notes.setEnabled(False)
        for tab in (self.files, self.notes, self.tickets, self.summary.affiliate):
            # (their own editing, when they say how)
            set_read_only = getattr(tab, "set_read_only", None)
            if callable(set_read_only):
                set_read_only(archived)
        if archived:
            for button in self._editing_buttons():
                self._lock(button)
            self._guard_double_clicks()
        for holder in self._locks.values():
            holder.setEnabled(not archived)

    def _editing_buttons(self) -> list[QAbstractButton]:
        """The buttons of the tabs that write, by exclusion: not those that
        only show (``BROWSE_BUTTONS``), nor a tab bar's or a table's own."""
        found = []
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            if tab is self.profile or (tab in (self.files, self.notes, self.tickets)
                                       and hasattr(tab, "set_read_only")):
                continue
            for button in tab.findChildren(QAbstractButton):
                if (button.objectName() in BROWSE_BUTTONS or button.text() in BROWSE_TEXTS
                        or button in self._locks):
                    continue
                parent = button.parentWidget()
                while parent is not None and parent is not tab:
                    if isinstance(parent, (QTabBar, QAbstractItemView)):
                        break
                    parent = parent.parentWidget()
                else:
                    found.append(button)
        return found

    def _guard_double_clicks(self) -> None:
        """A double-click that edits (a service, a quote, a billable item)
        is refused while archived; the lists that only open what they show
        (invoices, transactions, orders, emails, files, notes, log) keep it."""
        browse = (self.invoices, self.transactions, self.orders, self.emails, self.files,
                  self.notes, self.tickets, self.log)
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            if tab in browse:
                continue
            for view in tab.findChildren(QAbstractItemView):
                viewport = view.viewport()
                if not viewport.property("archivedGuard"):
                    viewport.setProperty("archivedGuard", True)
                    viewport.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (self.archived and event.type() == QEvent.Type.MouseButtonDblClick
                and watched.property("archivedGuard")):
            self.refuse_archived()
            return True
        return super().eventFilter(watched, event)

    def _lock(self, button: QAbstractButton) -> None:
        """Put ``button`` in a holder that the archived state disables: the
        tab keeps enabling its buttons by selection, the holder overrides it
        (a widget is enabled only when its parents are)."""
        parent = button.parentWidget()
        layout = parent.layout() if parent is not None else None
        if layout is None:
            return
        holder = QWidget(parent)
        holder.setObjectName(f"lock_{button.objectName()}")
        if layout.replaceWidget(button, holder) is None:
            holder.deleteLater()
            return
        holder.setSizePolicy(button.sizePolicy())
        inner = QHBoxLayout(holder)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(button)
        holder.setVisible(not button.isHidden())
        holder.setToolTip("Archived: unarchive the client to change it")
        self._locks[button] = holder

    def refuse_archived(self) -> bool:
        """True (after saying so) when the client is archived."""
        if self.archived:
            QMessageBox.information(self, "Archived client",
                                    f"{self._name()} is archived and read-only: unarchive it "
                                    "first (Client → Unarchive).")
        return self.archived

    def _name(self) -> str:
        return f"#{self.client_id} {self.display_name}"

    def _run_lifecycle(self, fn: Callable[[], Any], changes: Changes,
                       on_done: Callable[[Any], None]) -> None:
        """A lifecycle write on the worker; the actions stay off meanwhile."""
        self.client_menu.setEnabled(False)
        self.other_actions.setEnabled(False)

        def settled() -> None:
            try:
                self.client_menu.setEnabled(True)
                self.other_actions.setEnabled(True)
            except RuntimeError:  # the window went with the client
                pass

        def done(result: Any) -> None:
            settled()
            on_done(result)

        def failed(exc: BaseException) -> None:
            settled()
            show_error(self, exc)

        self.ops.run(fn, changes=changes, on_done=done, on_error=failed)

    def _confirm(self, action: str, title: str, question: str, action_text: str, *,
                 option: tuple[str, str] | None = None, warning: str = ""):  # noqa: ANN202
        """The confirmation dialog naming what ``action`` will do (None when
        the impact cannot be read: the error is shown instead)."""
        from billdesk.services import lifecycle
        from billdesk.views.lifecycle_dialogs import ConfirmDialog

        try:
            impact = lifecycle.impact(self.client_id, action)
            other = (option[0], lifecycle.impact(self.client_id, option[1])) if option else None
        except BilldeskError as exc:
            show_error(self, exc)
            return None
        dialog = ConfirmDialog(title, question, impact, action_text, self, option=other,
                               warning=warning)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        return dialog

    def _confirm_and_run(self, action: str, title: str, question: str, action_text: str,
                         work: Callable[[bool], Any], changes: Changes,
                         on_done: Callable[[Any], None], *, unsaved: str = "",
                         option: tuple[str, str] | None = None, warning: str = "") -> None:
        """Ask first (``_confirm``); once accepted, ``work(ticked)`` runs as a
        lifecycle write (``ticked``: the dialog's option). With ``unsaved``
        (what the action is, "deleting the client") typing not saved yet is
        asked about before it goes."""
        dialog = self._confirm(action, title, question, action_text, option=option,
                               warning=warning)
        if dialog is None:
            return

        def go() -> None:
            ticked = dialog.ticked
            if not unsaved or self._ask_unsaved(unsaved):
                self._run_lifecycle(lambda: work(ticked), changes, on_done)

        dialog.accepted.connect(go)
        dialog.open()

    def _ask_unsaved(self, what: str) -> bool:
        """Typing not saved yet: it cannot survive ``what``. True to go on."""
        unsaved = self.unsaved()
        if not unsaved:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes",
            f"{' and '.join(unsaved).capitalize()} are not saved: {what} drops them. Go on?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def change_currency(self) -> None:
        """C7: the dialog previews the open amounts; converting or changing
        the code only is logged."""
        from billdesk.views.lifecycle_dialogs import CurrencyDialog

        if self.refuse_archived():
            return
        if self.profile.dirty and not self._ask_unsaved("changing the currency"):
            return
        try:
            dialog = CurrencyDialog(self.ops, self.client_id, self)
        except BilldeskError as exc:
            show_error(self, exc)
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.changed.connect(lambda text: self.statusBar().showMessage(text, 30_000))
        dialog.open()

    def merge(self) -> None:
        """C8: the Merge dialog; the other client moves into this one."""
        from billdesk.views.lifecycle_dialogs import MergeDialog

        if self.refuse_archived():
            return
        dialog = MergeDialog(self.ops, self.client_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.merged.connect(self._merged)
        dialog.open()

    def _merged(self, result: Any) -> None:
        from billdesk.views.lifecycle_dialogs import done_box, result_lines

        close_client_windows(result.merged)  # the client merged away
        done_box(self, "Clients merged", f"Client #{result.merged} was merged into #{result.id}.",
                 "\n".join(result_lines(result)))

    def close_account(self) -> None:
        """C9: status Closed, unpaid invoices and services cancelled."""
        from billdesk.services import lifecycle
        from billdesk.views.lifecycle_dialogs import done_box, result_lines

        if self.refuse_archived():
            return
        client_id = self.client_id

        def done(result: Any) -> None:
            done_box(self, "Account closed", f"The account of {self._name()} is closed.",
                     "\n".join(result_lines(result)))

        self._confirm_and_run(
            "close", "Close account", f"Close the account of {self._name()}?", "Close account",
            lambda _ticked: lifecycle.close_client(client_id),
            Changes(clients=True, billing=True, services=True, billable=True, quotes=True,
                    orders=True, client_id=client_id), done)

    def toggle_archive(self) -> None:
        if self.archived:
            self.unarchive()
        else:
            self.archive()

    def archive(self) -> None:
        """C11: hidden from the list and read-only until unarchived. As each
        tidying-up action (JOURNEYS 6): refused at once, naming why, while
        anything is open; else asked, with what it does, and backed up
        first."""
        from billdesk.services import lifecycle

        client_id = self.client_id
        name = self._name()
        try:
            still = lifecycle.open_items(client_id)
        except BilldeskError as exc:
            show_error(self, exc)
            return
        if still:
            box = QMessageBox(QMessageBox.Icon.Information, "Not archived",
                              f"{name} cannot be archived while they have:", parent=self)
            box.setObjectName("notArchived")
            box.setInformativeText("\n".join(f"• {line}" for line in still)
                                   + "\n\nClose the account (Client → Close account…) "
                                     "or settle them first.")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            box.open()
            return

        def done(result: Any) -> None:
            self.profile.set_clean()
            self.summary.save_notes.setEnabled(False)
            self.statusBar().showMessage(
                f"{name} archived: hidden from the client list and read-only until unarchived "
                f"(backup {result.backup.name}, File → Backups…).", 30_000)

        self._confirm_and_run(
            "archive", "Archive client", f"Archive {name}?", "Archive",
            lambda _ticked: lifecycle.archive_client(client_id),
            Changes(clients=True, client_id=client_id), done, unsaved="archiving")

    def unarchive(self) -> None:
        from billdesk.services import lifecycle

        client_id = self.client_id
        self._run_lifecycle(lambda: lifecycle.unarchive_client(client_id),
                            Changes(clients=True, client_id=client_id),
                            lambda _result: self.statusBar().showMessage(
                                f"{self._name()} unarchived.", 30_000))

    def anonymize(self) -> None:
        """C11 (GDPR): personal data replaced, billing records kept."""
        from billdesk.services import lifecycle
        from billdesk.views.lifecycle_dialogs import done_box, result_lines

        client_id = self.client_id
        name = self._name()

        def done(result: Any) -> None:
            self.profile.set_clean()
            self.summary.save_notes.setEnabled(False)
            done_box(self, "Client anonymized", f"{name} is anonymized.",
                     "\n".join(result_lines(result)))

        self._confirm_and_run(
            "anonymize", "Anonymize client", f"Anonymize {name}?", "Anonymize",
            lambda _ticked: lifecycle.anonymize_client(client_id),
            Changes(clients=True, contacts=True, billing=True, services=True, quotes=True,
                    orders=True, emails=True, client_id=client_id), done,
            unsaved="anonymizing", warning=IRREVERSIBLE)

    def delete_client(self) -> None:
        """C10: the client and everything of theirs go, except transactions
        (kept with the client's name) unless asked to delete them first."""
        from billdesk.services import lifecycle
        from billdesk.views.lifecycle_dialogs import done_box, result_lines

        client_id = self.client_id
        name = self._name()

        def done(result: Any) -> None:
            done_box(None, "Client deleted", f"{name} is deleted.",
                     "\n".join(result_lines(result)))
            close_client_windows(client_id)  # this one and any other

        self._confirm_and_run(
            "delete", "Delete client", f"Delete {name}?", "Delete client",
            lambda ticked: lifecycle.delete_client(client_id, with_transactions=ticked),
            Changes(clients=True, contacts=True, billing=True, services=True, quotes=True,
                    orders=True, billable=True, emails=True, client_id=client_id), done,
            unsaved="deleting the client",
            option=("Delete the client's transactions first", "delete_with_transactions"),
            warning=IRREVERSIBLE)

    def gdpr_report(self) -> None:
        """C12: asks where, then writes the PDF on the worker."""
        folder = QSettings().value("pdf/folder", str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(
            self, "GDPR data report", str(Path(folder) / f"client-{self.client_id}-gdpr.pdf"),
            "PDF files (*.pdf)")
        if path:
            QSettings().setValue("pdf/folder", str(Path(path).parent))
            self.write_gdpr_report(path)

    def write_gdpr_report(self, path: str | Path) -> None:
        from billdesk.views.notices import file_saved

        client_id = self.client_id

        def write() -> Path:
            from billdesk.services import gdpr

            return gdpr.write_report(client_id, path)

        self.ops.run(write, changes=None,
                     on_done=lambda written: file_saved(self, written or path,
                                                        "The GDPR data report"),
                     on_error=lambda exc: show_error(self, exc))

    def gone(self) -> bool:
        """The client no longer exists (deleted, merged away): nothing here
        can be saved, the window closes without asking. True once closed."""
        from billdesk.views.invoice_editor import InvoiceEditor

        self.profile.set_clean()
        self.summary.save_notes.setEnabled(False)
        for editor in self.findChildren(InvoiceEditor):
            editor.dirty = False
        return self.close()

    def save_fields(self, changes: dict, *, reason: str = "",
                    on_done: Callable[[], None] | None = None,
                    on_failed: Callable[[BaseException], None] | None = None) -> None:
        """Save fields of this client on the worker; the log gets each change.
        A refusal goes to ``on_failed``, else to a dialog (and the window
        shows the stored values again)."""
        client_id = self.client_id

        def failed(exc: BaseException) -> None:
            if on_failed is not None:
                on_failed(exc)
            else:
                show_error(self, exc)
                self.reload()

        self.ops.run(lambda: clients.update_client(client_id, changes, reason=reason),
                     changes=Changes(clients=True, client_id=client_id),
                     on_done=(lambda _result: on_done()) if on_done else None, on_error=failed)

    def _save_then_close(self) -> None:
        changes: dict = {}
        if self.profile.dirty:
            if not self.profile.form.check():
                self.tabs.setCurrentWidget(self.profile)
                return
            changes.update(self.profile.form.values())
        if self.summary.save_notes.isEnabled():
            changes["notes"] = self.summary.notes.toPlainText()

        def done() -> None:
            self.profile.set_clean()
            self.summary.save_notes.setEnabled(False)
            self.close()

        def failed(exc: BaseException) -> None:
            self.tabs.setCurrentWidget(self.profile)
            self.profile.form.show_error(exc)

        self.save_fields(changes, reason=self.profile.reason.text(), on_done=done,
                         on_failed=failed)

    def add_contact(self) -> None:
        if self.refuse_archived():
            return
        ContactDialog(self.ops, self.client_id, None, self).open()

    def edit_contact(self, contact_id: int) -> None:
        if self.refuse_archived():
            return
        ContactDialog(self.ops, self.client_id, contact_id, self).open()

    def unsaved(self) -> list[str]:
        """What the user typed and has not saved."""
        found = []
        if self.profile.dirty:
            found.append("changes on the Profile tab")
        if self.summary.save_notes.isEnabled():
            found.append("the admin notes")
        if self.tickets.unsaved():
            found.append("a ticket reply")
        return found

    def closeEvent(self, event) -> None:  # noqa: ANN001
        from billdesk.views.invoice_editor import InvoiceEditor

        for editor in self.findChildren(InvoiceEditor):  # each asks about its own typing
            if editor.isVisible() and not editor.close():
                event.ignore()
                return
        unsaved = self.unsaved()
        if unsaved:
            answer = QMessageBox.question(
                self, "Unsaved changes",
                f"{self.windowTitle().removesuffix(' — billdesk')}: save "
                f"{' and '.join(unsaved)} before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                event.ignore()  # close once the save has gone through
                self._save_then_close()
                return
        QSettings().setValue("client/geometry", self.saveGeometry())
        self._services_soon.stop()
        self.closed.emit(self.client_id)
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)
