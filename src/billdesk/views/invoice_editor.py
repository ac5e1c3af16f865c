"""The invoice editor (B1, B2, P2–P4): lines with totals that follow the
typing, dates, payment method and notes; Publish gives the number; the
money actions (payment, credit, mark paid, cancel, refund, split, PDF)
sit beside the totals. Several editors can be open at once."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, NotFound, Problem, ValidationFailed
from billdesk.money import Money
from billdesk.services import clients, credit, invoicing, payments
from billdesk.services.text import counted
from billdesk.views import fmt
from billdesk.views.errors import line_field, show_error
from billdesk.views.forms import PROBLEM_STYLE, date_edit
from billdesk.views.models import IdRole
from billdesk.views.models.billing_tables import (
    STATUS_COLOURS,
    LineColumn,
    LinesModel,
    TransactionColumn,
    TransactionTableModel,
)
from billdesk.views.money_dialogs import AmountDialog, PaymentDialog, RefundDialog, _typed, method_combo
from billdesk.views.notices import file_saved
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import LiveDelegate, setup_table


def _blank(line: invoicing.LineInput) -> bool:
    """A row added and left empty: no description, no amount, nothing it bills."""
    return (not (line.description or "").strip() and not str(line.amount or "").strip()
            and line.link_id is None)


class InvoiceEditor(QMainWindow):
    saved = Signal(int)  # the invoice id, after each successful write

    def __init__(self, ops: Operations, invoice_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ops = ops
        self.invoice_id = invoice_id
        self.invoice: invoicing.InvoiceRecord = invoicing.get_invoice(invoice_id)
        self.client_id = self.invoice.client_id
        self.dirty = False
        self._loading = False

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.client_label = QLabel()
        self.client_label.setTextFormat(Qt.TextFormat.RichText)  # (its name is escaped)

        # header fields
        self.date = date_edit()
        self.date.setObjectName("date")
        self.due = date_edit()
        self.due.setObjectName("due")
        self.method = method_combo()
        self.method.setObjectName("payment_method")
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        header = QHBoxLayout()
        for label, widget in (("Date", self.date), ("Due", self.due), ("Payment method", self.method)):
            header.addWidget(QLabel(label + ":"))
            header.addWidget(widget)
            header.addSpacing(12)
        header.addStretch(1)

        # lines
        self.lines = LinesModel(self)
        self._sent_rows: list[int] = []  # the rows the last save sent, as lines 0, 1, …
        self.lines_view = QTableView()
        self.lines_view.setObjectName("lines")
        self.lines_view.setModel(self.lines)
        self.lines_view.setItemDelegate(LiveDelegate(self.lines_view))
        setup_table(self.lines_view, LineColumn.DESCRIPTION, editable=True, row_numbers=True)
        triggers = QAbstractItemView.EditTrigger
        self.lines_view.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed
                                        | triggers.AnyKeyPressed | triggers.SelectedClicked)
        head = self.lines_view.horizontalHeader()
        head.resizeSection(LineColumn.AMOUNT, 120)
        head.resizeSection(LineColumn.TAXED, 60)
        head.resizeSection(LineColumn.GROUP, 140)
        self.lines.edited.connect(self._edited)
        self.add_line = QPushButton("Add line")
        self.add_line.setObjectName("addLine")
        self.add_line.clicked.connect(self._add_line)
        self.remove_line = QPushButton("Remove line")
        self.remove_line.clicked.connect(self._remove_line)
        self.split = QPushButton("Split selected lines to a new invoice…")
        self.split.setObjectName("split")
        self.split.clicked.connect(self._split)
        line_buttons = QHBoxLayout()
        for button in (self.add_line, self.remove_line, self.split):
            line_buttons.addWidget(button)
        line_buttons.addStretch(1)

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("notes")
        self.notes.setPlaceholderText("Notes printed on the invoice")
        self.notes.setMaximumHeight(70)
        self.notes.textChanged.connect(self._edited)
        for widget in (self.date, self.due):
            widget.dateChanged.connect(self._edited)
        self.method.currentIndexChanged.connect(self._edited)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(header)
        ll.addWidget(self.lines_view, 1)
        ll.addLayout(line_buttons)
        ll.addWidget(QLabel("Notes:"))
        ll.addWidget(self.notes)

        # totals and actions
        self.figures: dict[str, QLabel] = {}
        totals_box = QGroupBox("Totals")
        grid = QGridLayout(totals_box)
        for row, (key, label) in enumerate((("subtotal", "Subtotal"), ("tax1", "Tax 1"),
                                            ("tax2", "Tax 2"), ("total", "Total"),
                                            ("credit", "Credit applied"), ("paid", "Paid"),
                                            ("refunded", "Refunded"), ("balance", "Balance due"))):
            name = QLabel(label)
            value = QLabel()
            value.setObjectName(f"figure_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            if key in ("total", "balance"):
                for w in (name, value):
                    f = w.font()
                    f.setBold(True)
                    w.setFont(f)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.figures[key] = value
            self.figures[f"{key}_name"] = name
        grid.setColumnStretch(1, 1)
        self.credit_note = QLabel()
        self.credit_note.setWordWrap(True)

        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(self.save)
        self.publish_button = QPushButton("Publish")
        self.publish_button.setObjectName("publish")
        self.publish_button.setToolTip("Give the invoice its number and make it Unpaid")
        self.publish_button.clicked.connect(self._publish)
        self.pay_button = QPushButton("Add payment…")
        self.pay_button.setObjectName("addPayment")
        self.pay_button.clicked.connect(self._add_payment)
        self.mark_paid_button = QPushButton("Mark paid")
        self.mark_paid_button.setObjectName("markPaid")
        self.mark_paid_button.setToolTip("Record a payment of the whole balance due, dated today")
        self.mark_paid_button.clicked.connect(self._mark_paid)
        self.credit_button = QPushButton("Apply credit…")
        self.credit_button.setObjectName("applyCredit")
        self.credit_button.clicked.connect(self._apply_credit)
        self.status = QComboBox()
        self.status.setObjectName("status")
        self.status_row = QWidget()
        sr = QHBoxLayout(self.status_row)
        sr.setContentsMargins(0, 0, 0, 0)
        sr.addWidget(QLabel("Status:"))
        sr.addWidget(self.status, 1)
        self.status.addItems(["Unpaid", "Collections"])
        self.status.setToolTip("Move an unpaid invoice to Collections and back")
        self.status.activated.connect(self._set_status)
        self.cancel_button = QPushButton("Cancel invoice…")
        self.cancel_button.setObjectName("cancelInvoice")
        self.cancel_button.clicked.connect(self._cancel)
        self.delete_button = QPushButton("Delete draft…")
        self.delete_button.clicked.connect(self._delete_draft)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.setObjectName("pdf")
        self.pdf_button.clicked.connect(self._pdf)
        actions = QGroupBox("Actions")
        al = QVBoxLayout(actions)
        for w in (self.save_button, self.publish_button, self.pay_button, self.mark_paid_button,
                  self.credit_button, self.status_row, self.cancel_button, self.delete_button,
                  self.pdf_button):
            al.addWidget(w)
        al.addStretch(1)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(totals_box)
        rl.addWidget(self.credit_note)
        rl.addWidget(actions, 1)
        right.setMinimumWidth(250)
        right.setMaximumWidth(340)

        # payments on this invoice
        self.payments = TransactionTableModel(self)
        self.payments_view = QTableView()
        self.payments_view.setObjectName("payments")
        self.payments_view.setModel(self.payments)
        setup_table(self.payments_view, TransactionColumn.DESCRIPTION)
        self.payments_view.setColumnHidden(TransactionColumn.INVOICE, True)  # it is this one
        self.payments_view.setColumnWidth(TransactionColumn.ID, 60)
        self.refund_button = QPushButton("Refund…")
        self.refund_button.setObjectName("refund")
        self.refund_button.clicked.connect(self._refund)
        payments_box = QGroupBox("Payments and refunds")
        pl = QVBoxLayout(payments_box)
        pl.addWidget(self.payments_view)
        pr = QHBoxLayout()
        pr.addWidget(self.refund_button)
        pr.addStretch(1)
        pl.addLayout(pr)
        self.payments_view.selectionModel().selectionChanged.connect(self._payment_selected)

        top = QWidget()
        tl = QHBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(left, 1)
        tl.addWidget(right)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(payments_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        central = QWidget()
        cl = QVBoxLayout(central)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title)
        title_row.addStretch(1)
        title_row.addWidget(self.client_label)
        cl.addLayout(title_row)
        cl.addWidget(self.problem)
        cl.addWidget(splitter, 1)
        self.setCentralWidget(central)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        self.resize(900, 640)
        geometry = QSettings().value("invoice/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        ops.changed.connect(self._changed)
        self.reload()

    # --- showing

    def reload(self) -> None:
        try:
            self.invoice = invoicing.get_invoice(self.invoice_id)
        except NotFound:  # deleted (a draft) elsewhere
            self.dirty = False
            self.close()
            return
        inv = self.invoice
        self._loading = True
        colour = STATUS_COLOURS.get(inv.status, "#000")
        kind = "Add-funds invoice" if inv.is_add_funds else "Invoice"
        name = inv.number and f"#{inv.number}" or f"draft {inv.id}"
        if inv.number:
            self.title.setText(f"{kind} {html.escape(name)} &nbsp;<span style='color:{colour}'>"
                               f"{inv.status}</span>")
        else:  # (its id is not a number it will have: publishing gives that)
            self.title.setText(f"{kind} &nbsp;<span style='color:{colour}'>Draft</span>"
                               "&nbsp; <span style='color:#777; font-weight:normal'>"
                               "numbered when published</span>")
        record = clients.get_client(self.client_id)
        self.client_name = record.display_name
        self.client_label.setText(f"#{record.id} {html.escape(record.display_name)} · {inv.currency}")
        self.setWindowTitle(f"{kind} {name} — {record.display_name} — billdesk")
        self.date.setDate(self.date.date().fromString(inv.date.isoformat(), "yyyy-MM-dd"))
        self.due.setDate(self.due.date().fromString(inv.due_date.isoformat(), "yyyy-MM-dd"))
        index = self.method.findData(inv.payment_method)
        if index < 0 and inv.payment_method:
            self.method.addItem(inv.payment_method, inv.payment_method)
            index = self.method.count() - 1
        self.method.setCurrentIndex(max(index, 0))
        self.lines.set_lines(inv.lines)
        self.lines_view.setColumnHidden(LineColumn.GROUP, not self.lines.has_groups())
        self.notes.setPlainText(inv.notes)
        self.payments.load_invoice(self.invoice_id)
        self.payments_view.resizeColumnsToContents()
        self.lines_view.setFocus()
        self._loading = False
        self.dirty = False
        self._show_problem(None)
        self._refresh_figures()
        self._enable()

    def _enable(self) -> None:
        inv = self.invoice
        open_ = inv.status in invoicing.OPEN
        owing = inv.status in invoicing.OWING
        editable_lines = open_ and not inv.is_add_funds
        self.lines.read_only = not editable_lines
        for w in (self.add_line, self.remove_line, self.split):
            w.setEnabled(editable_lines)
        for w in (self.date, self.due, self.method, self.notes):
            w.setEnabled(open_)
        self.save_button.setEnabled(open_ and self.dirty)
        self.publish_button.setVisible(inv.status == "Draft")
        self.delete_button.setVisible(inv.status == "Draft")
        self.pay_button.setEnabled(owing)
        self.mark_paid_button.setEnabled(owing and bool(inv.balance))
        has_credit = bool(credit.balance(self.client_id))
        self.credit_button.setEnabled(owing and not inv.is_add_funds and has_credit)
        self.credit_button.setToolTip("Credit is never applied to an add-funds invoice"
                                      if inv.is_add_funds else "")
        self.status_row.setVisible(owing)
        self.status.setCurrentText(inv.status if owing else "Unpaid")
        self.cancel_button.setEnabled(open_ and inv.status != "Draft" and not inv.refunded)
        self._payment_selected()

    def _refresh_figures(self) -> None:
        inv = self.invoice
        currency = inv.currency
        typed = []
        problems = []
        for row, line in enumerate(self.lines.lines()):
            amount = _typed(str(line.amount), currency)
            if amount is None:
                if str(line.amount).strip():
                    problems.append(row)
                continue
            typed.append((amount, line.taxed))
        totals = invoicing.preview(typed, inv.rates, currency)
        f = self.figures
        f["subtotal"].setText(fmt.money(totals.subtotal))
        for level, name, rate, amount in ((1, inv.rates.name1, inv.rates.rate1, totals.tax1),
                                          (2, inv.rates.name2, inv.rates.rate2, totals.tax2)):
            visible = bool(rate)
            f[f"tax{level}_name"].setText(f"{name or f'Tax {level}'} {rate:f} %"
                                          + (" (included)" if inv.rates.inclusive else ""))
            f[f"tax{level}"].setText(fmt.money(amount))
            f[f"tax{level}_name"].setVisible(visible)
            f[f"tax{level}"].setVisible(visible)
        f["total"].setText(fmt.money(totals.total))
        f["credit"].setText(fmt.money(inv.credit))
        f["paid"].setText(fmt.money(inv.paid))
        f["refunded"].setText(fmt.money(inv.refunded))
        for key in ("refunded",):
            f[key].setVisible(bool(inv.refunded))
            f[f"{key}_name"].setVisible(bool(inv.refunded))
        due = invoicing.balance_of(inv.status, totals.total, inv.credit, inv.paid)
        f["balance"].setText(fmt.money(due))
        available = credit.balance(self.client_id)
        self.credit_note.setText(f"Client's credit balance: {fmt.money(available)}" if available else "")
        if problems:
            self.lines.show_problems([(r, LineColumn.AMOUNT, "not an amount") for r in problems])

    def _show_problem(self, text: str | None) -> None:
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    def _edited(self) -> None:
        if self._loading:
            return
        self.dirty = True
        self.save_button.setEnabled(self.invoice.status in invoicing.OPEN)
        self._refresh_figures()

    def _changed(self, changes: Changes) -> None:
        if (changes.billing or changes.settings or changes.clients) and changes.touches(self.client_id):
            if self.dirty:  # keep the typing; refresh what does not belong to it
                self._refresh_figures()
                self._enable()
                return
            self.reload()

    # --- writing

    def _run(self, fn, *, done=None, failed=None) -> None:  # noqa: ANN001
        def ok(result: object) -> None:
            self.saved.emit(self.invoice_id)
            if done:
                done(result)

        self.ops.run(fn, changes=Changes(billing=True, client_id=self.client_id), on_done=ok,
                     on_error=failed or (lambda exc: show_error(self, exc)))

    def save(self, then=None) -> None:  # noqa: ANN001
        if self.invoice.status not in invoicing.OPEN:
            return
        invoice_id = self.invoice_id
        lines = None
        if not self.invoice.is_add_funds:  # rows left empty are not lines (as in WHMCS)
            every = self.lines.lines()
            self._sent_rows = [row for row, line in enumerate(every) if not _blank(line)]
            lines = [every[row] for row in self._sent_rows]
        date = self.date.date().toString("yyyy-MM-dd")
        due = self.due.date().toString("yyyy-MM-dd")
        method = self.method.currentData() or ""
        notes = self.notes.toPlainText()
        self.save_button.setEnabled(False)

        def done(_result: object) -> None:
            self.dirty = False
            self.reload()
            if then:
                then()

        self._run(lambda: invoicing.update_invoice(invoice_id, lines, date=date, due_date=due,
                                                   notes=notes, payment_method=method),
                  done=done, failed=self._refused)

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if not isinstance(exc, BilldeskError):
            show_error(self, exc)
            return
        from billdesk.views.errors import message_for

        problems = exc.problems if isinstance(exc, ValidationFailed) else [
            Problem(exc.field, exc.message)]
        cells, said = [], []
        sent = self._sent_rows
        for p in problems:
            place = line_field(p.field)
            if place is None:
                said.append(message_for(BilldeskError(p.field, p.message)))
                continue
            row, name = place
            row = sent[row] if 0 <= row < len(sent) else row  # (the row on screen)
            column = LineColumn.AMOUNT if name == "amount" else LineColumn.DESCRIPTION
            cells.append((row, column, p.message))
            said.append(f"Line {row + 1}: {name}: {p.message}")
        self.lines.show_problems(cells)
        self._show_problem("\n".join(said))

    def _publish(self) -> None:
        def publish() -> None:
            self._run(lambda: invoicing.publish(self.invoice_id), done=lambda _n: self.reload())

        if self.dirty:
            self.save(then=publish)
        else:
            publish()

    def _add_line(self) -> None:
        row = self.lines.add_line(taxed=bool(self.invoice.rates.any))
        index = self.lines.index(row, LineColumn.DESCRIPTION)
        self.lines_view.setCurrentIndex(index)
        self.lines_view.edit(index)

    def _remove_line(self) -> None:
        rows = sorted({i.row() for i in self.lines_view.selectionModel().selectedIndexes()}, reverse=True)
        if not rows and self.lines_view.currentIndex().isValid():
            rows = [self.lines_view.currentIndex().row()]
        for row in rows:
            self.lines.remove_line(row)

    def _split(self) -> None:
        rows = sorted({i.row() for i in self.lines_view.selectionModel().selectedIndexes()})
        ids = [self.lines.line_id(r) for r in rows]
        if not rows or None in ids or self.dirty:
            QMessageBox.information(self, "Split invoice",
                                    "Save the invoice first, then select the saved lines to move "
                                    "to a new invoice." if self.dirty or None in ids else
                                    "Select the lines to move to a new invoice.")
            return
        answer = QMessageBox.question(self, "Split invoice",
                                      f"Move {counted(len(ids), 'line')} to a new invoice for "
                                      "the same client?")
        if answer != QMessageBox.StandardButton.Yes:
            return

        def opened(new_id: int) -> None:
            self.reload()
            editor = InvoiceEditor(self.ops, new_id, self.parentWidget())
            editor.show()

        self._run(lambda: invoicing.split_invoice(self.invoice_id, ids), done=opened)

    def _add_payment(self) -> None:
        if self.dirty:
            self.save(then=self._add_payment)
            return

        def done(result: payments.PaymentResult) -> None:
            if result.credit_added and not self.invoice.is_add_funds:
                QMessageBox.information(self, "Payment recorded",
                                        f"The invoice is paid. {fmt.money(result.credit_added)} "
                                        "went to the client's credit.")

        PaymentDialog(self.ops, self.invoice, self, on_done=done).open()

    def _mark_paid(self) -> None:
        if self.dirty:
            self.save(then=self._mark_paid)
            return
        method = self.invoice.payment_method
        self._run(lambda: payments.mark_paid(self.invoice_id, method=method or None))

    def _apply_credit(self) -> None:
        if self.dirty:
            self.save(then=self._apply_credit)
            return
        available = credit.balance(self.client_id)
        suggested = min(available, self.invoice.balance)
        invoice_id = self.invoice_id
        AmountDialog(self.ops, self.client_id, "Apply credit",
                     f"Credit balance {fmt.money(available)}; balance due "
                     f"{fmt.money(self.invoice.balance)}.", self.invoice.currency,
                     lambda amount, _d: invoicing.apply_credit(invoice_id, amount),
                     describe=None, amount=str(suggested), save_text="Apply", parent=self).open()

    def _set_status(self) -> None:
        status = self.status.currentText()
        if status == self.invoice.status:
            return
        self._run(lambda: invoicing.set_status(self.invoice_id, status))

    def _cancel(self) -> None:
        inv = self.invoice
        extra = ""
        if inv.credit or (inv.paid and not inv.is_add_funds):
            extra = (f"\n\n{fmt.money(inv.credit + (Money.zero(inv.currency) if inv.is_add_funds else inv.paid))}"
                     " already applied or paid goes to the client's credit.")
        answer = QMessageBox.question(self, "Cancel invoice",
                                      f"Cancel invoice {inv.label}? It stays in the books as "
                                      f"Cancelled and is no longer owed.{extra}")
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: invoicing.cancel_invoice(self.invoice_id))

    def _delete_draft(self) -> None:
        answer = QMessageBox.question(self, "Delete draft", "Delete this draft invoice? It has no "
                                      "number yet, so no gap is left in the numbering.")
        if answer == QMessageBox.StandardButton.Yes:
            self.dirty = False
            self._run(lambda: invoicing.delete_draft(self.invoice_id), done=lambda _r: self.close())

    def _pdf(self) -> None:
        if self.dirty:
            self.save(then=self._pdf)
            return
        name = (self.invoice.number or f"draft-{self.invoice_id}").replace("/", "-")
        folder = QSettings().value("pdf/folder", str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(self, "Save invoice PDF",
                                              str(Path(folder) / f"invoice-{name}.pdf"),
                                              "PDF files (*.pdf)")
        if not path:
            return
        QSettings().setValue("pdf/folder", str(Path(path).parent))
        self.write_pdf(path)

    def write_pdf(self, path: str) -> None:
        from billdesk.services import documents

        invoice_id = self.invoice_id
        self.ops.run(lambda: documents.invoice_pdf(invoice_id, path), changes=None,
                     on_done=lambda _: file_saved(self, path, "The invoice PDF"),
                     on_error=lambda exc: show_error(self, exc))

    def _payment_selected(self) -> None:
        rows = self.payments_view.selectionModel().selectedRows()
        row = self.payments.row(rows[0].row()) if rows else None
        refundable = self.invoice.status == "Paid" or self.invoice.is_add_funds
        self.refund_button.setEnabled(row is not None and row.is_payment and refundable)
        self.refund_button.setToolTip("" if refundable else
                                      "Only payments on paid invoices are refunded; cancel an "
                                      "unpaid invoice to keep what was paid as credit")

    def _refund(self) -> None:
        rows = self.payments_view.selectionModel().selectedRows()
        row = self.payments.row(rows[0].row()) if rows else None
        if row is None or not row.is_payment:
            return
        try:
            RefundDialog(self.ops, self.client_id, row, self).open()
        except BilldeskError as exc:
            show_error(self, exc)

    def closeEvent(self, event) -> None:  # noqa: ANN001
        if self.dirty and self.invoice.status in invoicing.OPEN:
            answer = QMessageBox.question(
                self, "Unsaved changes", f"Save the changes to invoice {self.invoice.label}?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                event.ignore()
                self.save(then=self.close)
                return
        inv = self.invoice
        if inv.status == "Draft" and not inv.lines and not inv.notes:  # opened and left empty
            self.ops.run(lambda: invoicing.delete_draft(inv.id),
                         changes=Changes(billing=True, client_id=self.client_id),
                         on_error=lambda _exc: None)  # already gone: nothing to tidy
        QSettings().setValue("invoice/geometry", self.saveGeometry())
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)


def open_editor(ops: Operations, invoice_id: int, parent: QWidget | None = None) -> InvoiceEditor:
    editor = InvoiceEditor(ops, invoice_id, parent)
    editor.show()
    editor.raise_()
    return editor


def selected_id(view: QTableView) -> int | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].data(IdRole) if rows else None
