"""A client's services, addons and domains in the client window (S2–S6,
B2, C4): the Services and Domains tabs, and the compact lists and counts
at the bottom of the Summary tab.

Each list has a check box per row; the bulk actions (Invoice selected,
Mass update, Delete selected) act on the checked items, or on the
highlighted rows when nothing is checked. The status filter is kept by
``subscriptions`` for the life of the process, for every client's lists.
Writes run on the database worker and report with ``Changes(services=…)``;
the client window reloads its lists when they come back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError
from billdesk.models import SERVICE_KINDS
from billdesk.services import billing_run, invoicing, subscriptions
from billdesk.services.subscriptions import STATUSES, MassUpdateResult, ServiceRecord
from billdesk.services.text import counted
from billdesk.views.errors import show_error
from billdesk.views.models import IdRole, SortRole
from billdesk.views.models.service_tables import ServiceColumn, ServiceTableModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table

SERVICES = ("service", "addon")
DOMAINS = ("domain",)
FILTER_ON_STYLE = ("QPushButton { background: #2e7d32; color: white; border: 1px solid #1b5e20; "
                   "border-radius: 3px; padding: 3px 10px; }")
MOST_OPENED = 5  # invoices opened at once after a run


class Owner(Protocol):
    """What a list needs from the window it sits in."""

    client_id: int
    ops: Operations

    def open_invoice(self, invoice_id: int) -> None: ...


def _invoice_labels(ids: Iterable[int]) -> list[str]:
    return [invoicing.get_invoice(i).label for i in ids]


class StatusFilterDialog(QDialog):
    """Which statuses the lists show: a check box per status."""

    def __init__(self, statuses: Iterable[str], chosen: frozenset[str] | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Status filter")
        self.boxes: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        intro = QLabel("Show items in these statuses. The filter applies to every client's "
                       "lists until billdesk closes.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        for status in statuses:
            box = QCheckBox(status)
            box.setObjectName(f"status_{status}")
            box.setChecked(chosen is None or status in chosen)
            box.toggled.connect(self._enable)
            self.boxes[status] = box
            layout.addWidget(box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        show_all = self.buttons.addButton("Show all", QDialogButtonBox.ButtonRole.ResetRole)
        show_all.setObjectName("showAll")
        show_all.clicked.connect(lambda: [b.setChecked(True) for b in self.boxes.values()])
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(340)
        self._enable()

    def _enable(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            any(b.isChecked() for b in self.boxes.values()))

    def chosen(self) -> frozenset[str] | None:
        """The statuses ticked; None when every one is (no filter)."""
        ticked = frozenset(s for s, b in self.boxes.items() if b.isChecked())
        return None if len(ticked) == len(self.boxes) else ticked


class ServiceList(QWidget):
    """The items of one kind set (services and addons, or domains) of the
    owner's client, with their actions. ``compact`` is the Summary tab's
    version: fewer columns, the bulk actions and the filter only."""

    def __init__(self, owner: Owner, kinds: tuple[str, ...], *, compact: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owner, self.kinds, self.compact = owner, kinds, compact
        self.domains = kinds == DOMAINS
        self.statuses = STATUSES[kinds[0]]
        name = "domains" if self.domains else "services"
        self.setObjectName(f"{name}{'Compact' if compact else ''}List")
        self.editor: QDialog | None = None  # the last dialog opened
        self.last_report = ""  # what the last invoicing action said
        self._pending: list[ServiceRecord] | None = None  # items to show once visible

        self.model = ServiceTableModel(kinds, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = QTableView()
        self.view.setObjectName(f"{name}Table")
        self.view.setModel(self.proxy)  # before the header's modes: they are per column
        stretch = ServiceColumn.NAME if self.domains else ServiceColumn.LABEL
        setup_table(self.view, stretch)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(ServiceColumn.ID, Qt.SortOrder.AscendingOrder)
        hidden = {ServiceColumn.LABEL, ServiceColumn.GROUP} if self.domains else {ServiceColumn.EXPIRY}
        if compact:
            hidden |= {ServiceColumn.SIGNUP} if not self.domains else set()
        for column in hidden:
            self.view.setColumnHidden(column, True)
        widths = {ServiceColumn.ID: 64, ServiceColumn.NAME: 220, ServiceColumn.CYCLE: 105,
                  ServiceColumn.AMOUNT: 100, ServiceColumn.SIGNUP: 95,
                  ServiceColumn.NEXT_DUE: 95, ServiceColumn.EXPIRY: 95,
                  ServiceColumn.STATUS: 110, ServiceColumn.GROUP: 130}
        for column, width in widths.items():
            if column != stretch:
                self.view.setColumnWidth(column, width)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())

        self.buttons: dict[str, QPushButton] = {}
        self.check_all = QCheckBox("Check all")
        self.check_all.setObjectName("checkAll")
        self.check_all.clicked.connect(self._check_all_clicked)
        self.checked_label = QLabel()
        self.count = QLabel()
        self.count.setObjectName("serviceCount")
        self.filter_button = self._button("statusFilter", "Status filter…", self.choose_filter)
        self.filter_button.setToolTip("Show only items in chosen statuses")

        bulk = QHBoxLayout()
        bulk.addWidget(self.check_all)
        bulk.addWidget(self.checked_label)
        bulk.addSpacing(8)
        for key, text, slot in (("invoiceSelected", "Invoice selected", self.invoice_selected),
                                ("massUpdate", "Mass update…", self.mass_update),
                                ("deleteSelected", "Delete selected", self.delete_selected)):
            bulk.addWidget(self._button(key, text, slot))
        bulk.addStretch(1)
        layout = QVBoxLayout(self)
        if compact:  # the actions above the rows: in view however far the tab scrolls down
            layout.setContentsMargins(4, 4, 4, 4)
            bulk.addWidget(self.count)
            bulk.addWidget(self.filter_button)
            layout.addLayout(bulk)
            layout.addWidget(self.view, 1)
        else:
            top = QHBoxLayout()
            for kind in kinds:
                top.addWidget(self._button(f"add_{kind}", f"Add {kind}…",
                                           lambda _c=False, k=kind: self.add(k)))
            top.addWidget(self._button("edit", "Edit…", self.edit_selected))
            if not self.domains:
                top.addWidget(self._button("serviceGroups", "Service groups…",
                                           self.service_groups))
            top.addStretch(1)
            top.addWidget(self.count)
            top.addWidget(self.filter_button)
            bulk.addWidget(self._button("generateDue", "Generate due invoices", self.generate_due))
            layout.addLayout(top)
            layout.addWidget(self.view, 1)
            layout.addLayout(bulk)
        self.model.checked_changed.connect(self._enable)
        self.model.modelReset.connect(self._enable)
        self.view.selectionModel().selectionChanged.connect(self._enable)
        self._enable()

    def _button(self, name: str, text: str, slot: Callable[..., Any]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons[name] = button
        return button

    # --- showing
    def load(self) -> None:
        self.show_items(subscriptions.list_services(self.owner.client_id, SERVICE_KINDS))

    def show_items(self, everything: list[ServiceRecord]) -> None:
        """Show this list's part of all the client's items; a hidden list
        keeps them until it is shown."""
        if self.isVisible():
            self._pending = None
            self.model.show_items(everything)
            self._show_filter()
        else:
            self._pending = everything

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._pending is not None:
            self.show_items(self._pending)

    def _show_filter(self) -> None:
        chosen = subscriptions.status_filter(self.kinds[0])
        on = chosen is not None
        self.filter_button.setProperty("filtered", on)
        self.filter_button.setStyleSheet(FILTER_ON_STYLE if on else "")
        self.filter_button.setText(f"Status filter: {len(chosen)} of {len(self.statuses)}…"
                                   if on else "Status filter…")
        self.filter_button.setToolTip(f"Showing {', '.join(s for s in self.statuses if s in chosen)}"
                                      if on else "Show only items in chosen statuses")
        shown, total = self.model.rowCount(), self.model.total
        if self.domains:
            text = counted(shown, "domain")
        else:
            kinds = [r.kind for r in self.model.records()]
            text = (f"{counted(kinds.count('service'), 'service')}, "
                    f"{counted(kinds.count('addon'), 'addon')}")
        if shown != total:
            text += f" ({total - shown} hidden by the filter)"
        self.count.setText(text)

    def _highlighted(self) -> list[ServiceRecord]:
        ids = {index.data(IdRole) for index in self.view.selectionModel().selectedRows()}
        return [r for r in self.model.records() if r.id in ids]

    def targets(self) -> list[ServiceRecord]:
        """What the bulk actions act on: the checked items, else the
        highlighted rows."""
        return self.model.checked() or self._highlighted()

    def _enable(self) -> None:
        checked = self.model.checked()
        targets = checked or self._highlighted()
        for key in ("invoiceSelected", "massUpdate", "deleteSelected"):
            self.buttons[key].setEnabled(bool(targets))
        if "edit" in self.buttons:
            self.buttons["edit"].setEnabled(len(self._highlighted() or checked) == 1)
        rows = self.model.rowCount()
        self.check_all.setEnabled(rows > 0)
        self.check_all.setCheckState(
            Qt.CheckState.Unchecked if not checked else
            Qt.CheckState.Checked if len(checked) == rows else Qt.CheckState.PartiallyChecked)
        self.checked_label.setText(f"{len(checked)} checked" if checked else "")

    def _check_all_clicked(self) -> None:
        self.model.set_all_checked(len(self.model.checked()) < self.model.rowCount())

    # --- the actions
    def _run(self, fn: Callable[[], Any], *, billing: bool = False,
             on_done: Callable[[Any], None] | None = None) -> None:
        self.owner.ops.run(fn, changes=Changes(services=True, billing=billing,
                                               client_id=self.owner.client_id),
                           on_done=on_done, on_error=lambda exc: show_error(self, exc))

    def _open(self, dialog: QDialog) -> None:
        self.editor = dialog
        dialog.open()

    def add(self, kind: str) -> None:
        from billdesk.views.service_editor import ServiceDialog

        client_id = self.owner.client_id
        parent_id = None
        if kind == "addon":
            if not subscriptions.list_services(client_id, ("service", "domain")):
                QMessageBox.information(self, "Add addon", "An addon goes on a service or a "
                                        "domain: add one of those first.")
                return
            highlighted = [r for r in self._highlighted() if r.kind != "addon"]
            parent_id = highlighted[0].id if highlighted else None
        try:
            self._open(ServiceDialog(self.owner.ops, client_id, kind, None, self,
                                     parent_id=parent_id))
        except BilldeskError as exc:
            show_error(self, exc)

    def edit_selected(self) -> None:
        from billdesk.views.service_editor import ServiceDialog

        rows = self._highlighted() or self.model.checked()
        if len(rows) != 1:
            return
        try:
            record = subscriptions.get_service(rows[0].id)  # as stored now
            self._open(ServiceDialog(self.owner.ops, self.owner.client_id, record.kind, record,
                                     self))
        except BilldeskError as exc:
            show_error(self, exc)

    def invoice_selected(self) -> None:
        """B2: invoice the items for their next due date now — those billed
        in their status (a cancelled or terminated one that Check all
        ticked is left out, and the question says so), after asking."""
        targets = self.targets()
        if not targets:
            return
        billed = [r for r in targets if billing_run.invoiceable(r.kind, r.status)]
        left = len(targets) - len(billed)
        left_text = (f"{counted(left, 'item')} left out: only active or suspended services "
                     "and addons, and active domains, are invoiced." if left else "")
        if not billed:
            QMessageBox.information(self, "Invoice selected items",
                                    f"Nothing to invoice. {left_text}")
            return
        names = "\n".join(f"• {r.title}" for r in billed[:10])
        if len(billed) > 10:
            names += f"\n• and {len(billed) - 10} more"
        question = (f"Invoice {counted(len(billed), 'item')} now, for their next due dates?"
                    f"\n\n{names}" + (f"\n\n{left_text}" if left_text else ""))
        if QMessageBox.question(self, "Invoice selected items", question,
                                QMessageBox.StandardButton.Yes
                                | QMessageBox.StandardButton.Cancel,
                                QMessageBox.StandardButton.Yes) != QMessageBox.StandardButton.Yes:
            return
        ids = [r.id for r in billed]

        def work() -> tuple[list[int], list[str]]:
            result = billing_run.invoice_selected(ids)
            return result.invoice_ids, _invoice_labels(result.invoice_ids)

        self._run(work, billing=True, on_done=lambda found: self._report_later(
            "Invoice selected items", *found))

    def generate_due(self) -> None:
        """Invoice whatever of this client's is due within the lead days."""
        client_id = self.owner.client_id

        def work() -> tuple[list[int], list[str], str]:
            result = billing_run.generate_due(client_id=client_id)
            notes = []
            if result.advanced:
                notes.append(f"{counted(len(result.advanced), 'item')} costing nothing moved "
                             "on to the next due date.")
            if not result.invoice_ids:  # why not, and when it will
                until = billing_run.horizon()
                notes.append(f"Items are invoiced once they fall due by {until.isoformat()} "
                             "(Settings → Taxes & numbering: Generate invoices … days before "
                             "the due date).")
                upcoming = billing_run.next_billed(client_id, until)
                if upcoming is not None:
                    notes.append(f"Next: {upcoming[1]}, due {upcoming[0].isoformat()}.")
            return result.invoice_ids, _invoice_labels(result.invoice_ids), " ".join(notes)

        self._run(work, billing=True,
                  on_done=lambda found: self._report_later("Generate due invoices", *found))

    def _report_later(self, title: str, *found: Any) -> None:
        """The report once the write's changes have reached the window (the
        Summary's figures count the new invoices behind the question)."""
        QTimer.singleShot(0, lambda: self.report(title, *found))

    def report(self, title: str, invoice_ids: list[int], labels: list[str],
               note: str = "") -> None:
        """Say which invoices were made and offer to open them."""
        if not invoice_ids:
            self.last_report = " ".join(filter(None, ("No invoice made: nothing is due.", note)))
            QMessageBox.information(self, title, self.last_report)
            return
        if len(invoice_ids) == 1:
            made, ask = f"Invoice {labels[0]} made.", "Open it in the invoice editor?"
        else:
            made = f"{len(invoice_ids)} invoices made: {', '.join(labels)}."
            ask = ("Open them in the invoice editor?" if len(invoice_ids) <= MOST_OPENED
                   else f"Open the first {MOST_OPENED} in the invoice editor?")
        self.last_report = " ".join(filter(None, (made, note)))
        answer = QMessageBox.question(
            self, title, f"{self.last_report}\n\n{ask}",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close,
            QMessageBox.StandardButton.Open)
        if answer == QMessageBox.StandardButton.Open:
            for invoice_id in invoice_ids[:MOST_OPENED]:
                self.owner.open_invoice(invoice_id)

    def mass_update(self) -> None:
        from billdesk.views.mass_update_dialog import MassUpdateDialog

        records = self.targets()
        if not records:
            return
        dialog = MassUpdateDialog(self.owner.ops, self.owner.client_id, records, self)
        dialog.updated.connect(self._mass_updated)
        self._open(dialog)

    def _mass_updated(self, result: MassUpdateResult, label: str, prorata: bool) -> None:
        if result.invoice_id is not None:
            self.report("Mass update", [result.invoice_id], [label],
                        f"{counted(len(result.updated), 'item')} updated; the prorata invoice "
                        "bills the days between the old and the new due dates.")
            return
        if not result.updated:
            self.last_report = "Nothing changed: the items already had these values."
        elif prorata:
            self.last_report = (f"{counted(len(result.updated), 'item')} updated. No prorata "
                                "invoice: the days between the dates come to nothing due.")
        else:
            return  # the lists show the change
        QMessageBox.information(self, "Mass update", self.last_report)

    def delete_selected(self) -> None:
        """Delete the records (never anything on a server; invoices keep
        their lines), after a confirmation naming how many go."""
        records = self.targets()
        if not records:
            return
        chosen = {r.id for r in records}
        parents = chosen - {r.id for r in records if r.kind == "addon"}
        going_too = [a for a in subscriptions.list_services(self.owner.client_id, ("addon",))
                     if a.parent_id in parents and a.id not in chosen]
        total = len(records) + len(going_too)
        names = ", ".join(r.title for r in records[:6]) + (" …" if len(records) > 6 else "")
        text = f"Delete {counted(total, 'record')}?\n\n{names}"
        if going_too:
            text += (f"\n\n{'Its' if len(parents) == 1 else 'Their'} "
                     f"{counted(len(going_too), 'addon')} "
                     f"{'goes' if len(going_too) == 1 else 'go'} with "
                     f"{'it' if len(parents) == 1 else 'them'}: "
                     + ", ".join(a.title for a in going_too[:6]))
        text += ("\n\nOnly the records are deleted: invoices keep their lines. This cannot be "
                 "undone.")
        answer = QMessageBox.question(self, "Delete selected items", text,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        ids = [r.id for r in records]
        self._run(lambda: subscriptions.delete_services(ids))

    def service_groups(self) -> None:
        try:
            from billdesk.views.service_groups_dialog import ServiceGroupsDialog
        except ModuleNotFoundError as exc:
            if exc.name != "billdesk.views.service_groups_dialog":
                raise
            QMessageBox.information(self, "Service groups", "Service groups cannot be edited in "
                                    "this version yet.")
            return
        dialog = ServiceGroupsDialog(self.owner.client_id, self.owner.ops, self)
        dialog.finished.connect(lambda _result: self.load())
        self._open(dialog)

    def choose_filter(self) -> None:
        dialog = StatusFilterDialog(self.statuses, subscriptions.status_filter(self.kinds[0]),
                                    self)
        dialog.accepted.connect(lambda: self.set_filter(dialog.chosen()))
        self._open(dialog)

    def set_filter(self, statuses: frozenset[str] | None) -> None:
        """Remember the filter for this kind set (every client's lists
        reload: the filter is not one client's)."""
        kinds = self.kinds

        def remember() -> None:
            for kind in kinds:
                subscriptions.set_status_filter(kind, statuses)

        self.owner.ops.run(remember, changes=Changes(services=True),
                           on_error=lambda exc: show_error(self, exc))


class ServiceCounts(QGroupBox):
    """Products/Services on the Summary tab (C4): active and total per kind
    (and the support tickets, active being not closed, F3)."""

    ROWS = (("service", "Services"), ("addon", "Addons"), ("domain", "Domains"),
            ("order", "Orders"), ("quote", "Quotes (current)"), ("ticket", "Tickets"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Products / services", parent)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        for column, text in ((1, "Active"), (2, "Total")):
            header = QLabel(f"<i>{text}</i>")
            header.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(header, 0, column)
        for row, (kind, text) in enumerate(self.ROWS, start=1):
            grid.addWidget(QLabel(text), row, 0)
            for column, key in ((1, "active"), (2, "total")):
                value = QLabel()
                value.setObjectName(f"count_{kind}_{key}")
                value.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(value, row, column)
                self.values[f"{kind}_{key}"] = value
        grid.setColumnStretch(0, 1)

    def load(self, client_id: int) -> None:
        self._show(subscriptions.counts(client_id))

    def show_items(self, everything: list[ServiceRecord]) -> None:
        """The counts of the client's items already read (as ``counts``)."""
        found = {kind: {"active": 0, "total": 0} for kind in SERVICE_KINDS}
        for r in everything:
            found[r.kind]["total"] += 1
            found[r.kind]["active"] += r.status == "Active"
        self._show(found)

    def show_others(self, orders: dict[str, int], current_quotes: int, quotes: int) -> None:
        """Orders (active of all) and quotes (current of all) below the items."""
        self._show({"order": {"active": orders.get("Active", 0), "total": sum(orders.values())},
                    "quote": {"active": current_quotes, "total": quotes}})

    def show_tickets(self, counts: dict[str, int]) -> None:
        """Support tickets: active (not closed) of all, from the ticket
        service's ``counts``."""
        total = counts.get("total", sum(v for k, v in counts.items() if k[:1].isupper()))
        active = counts.get("active", total - counts.get("Closed", 0))
        self._show({"ticket": {"active": active, "total": total}})

    def _show(self, figures: dict[str, dict[str, int]]) -> None:
        for kind, numbers in figures.items():
            for key in ("active", "total"):
                label = self.values[f"{kind}_{key}"]
                label.setText(str(numbers[key]))
                label.setStyleSheet("" if numbers[key] else "color: palette(mid);")


class SummaryLists(QTabWidget):
    """The bottom of the Summary tab: the compact services-and-addons and
    domains lists, each with its filter and bulk actions."""

    def __init__(self, owner: Owner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryLists")
        self.setDocumentMode(True)
        self.services = ServiceList(owner, SERVICES, compact=True)
        self.domains = ServiceList(owner, DOMAINS, compact=True)
        self.addTab(self.services, "Products / services")
        self.addTab(self.domains, "Domains")

    def load(self, client_id: int) -> None:
        self.show_items(subscriptions.list_services(client_id, SERVICE_KINDS))

    def show_items(self, everything: list[ServiceRecord]) -> None:
        for i, (lst, text) in enumerate(((self.services, "Products / services"),
                                         (self.domains, "Domains"))):
            lst.show_items(everything)
            total = sum(1 for r in everything if r.kind in lst.kinds)
            self.setTabText(i, f"{text} ({total})" if total else text)

    def all_lists(self) -> list[ServiceList]:
        return [self.services, self.domains]

