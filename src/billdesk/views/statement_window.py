"""Account statement on screen (P5): pick a date range, see the rows with
their running balance, the opening and closing balance, and save it as
a PDF or email it (E2). A statement from the first record checks itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import clients, statements
from billdesk.views import fmt
from billdesk.views.errors import show_error
from billdesk.views.forms import date_edit
from billdesk.views.models.billing_tables import StatementColumn, StatementModel
from billdesk.views.notices import file_saved
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table, text_width


class StatementWindow(QMainWindow):
    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ops = ops
        self.client_id = client_id
        self.statement: statements.Statement | None = None
        record = clients.get_client(client_id)
        self.setWindowTitle(f"Account statement — #{client_id} {record.display_name} — billdesk")
        today = dt.date.today()
        first = statements.first_date(client_id) or today.replace(month=1, day=1)
        self.start = date_edit(min(first, today))
        self.start.setObjectName("from")
        self.end = date_edit(today)
        self.end.setObjectName("to")
        self.show_button = QPushButton("Show")
        self.show_button.setObjectName("show")
        self.show_button.clicked.connect(self.refresh)
        self.all_button = QPushButton("All time")
        self.all_button.clicked.connect(self._all_time)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.setObjectName("pdf")
        self.pdf_button.clicked.connect(self._pdf)
        self.email_button = QPushButton("Email statement…")
        self.email_button.setObjectName("emailStatement")
        self.email_button.setToolTip("Send the statement for these dates to the client, as a PDF")
        self.email_button.clicked.connect(self.email_statement)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.start)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.end)
        bar.addWidget(self.show_button)
        bar.addWidget(self.all_button)
        bar.addStretch(1)
        bar.addWidget(self.pdf_button)
        bar.addWidget(self.email_button)

        self.opening = QLabel()
        self.opening.setObjectName("opening")
        self.closing = QLabel()
        self.closing.setObjectName("closing")
        self.check = QLabel()
        self.check.setObjectName("check")
        self.check.setWordWrap(True)
        for label in (self.opening, self.closing):
            font = label.font()
            font.setBold(True)
            label.setFont(font)

        self.model = StatementModel(self)
        self.view = QTableView()
        self.view.setObjectName("statement")
        self.view.setModel(self.model)
        setup_table(self.view, StatementColumn.DESCRIPTION)
        header = self.view.horizontalHeader()
        types = ("Invoice", "Payment", "Refund", "Refund paid out", "Credit entry deleted",
                 "Credit added", "Credit removed")
        for column, width in ((StatementColumn.DATE, 95),
                              (StatementColumn.TYPE, max(120, text_width(self.view, types))),
                              (StatementColumn.DEBIT, 110), (StatementColumn.CREDIT, 110),
                              (StatementColumn.BALANCE, 120)):
            header.resizeSection(column, width)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(self.opening)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.check, 1)
        bottom.addWidget(self.closing)
        layout.addLayout(bottom)
        explain = QLabel("Debit: what the client was charged. Credit: what they paid or were "
                         "credited. A positive balance is what the client owes; a negative one is "
                         "in their favour.")
        explain.setWordWrap(True)
        explain.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # (as the hints in Settings)
        layout.addWidget(explain)
        self.setCentralWidget(central)
        self.resize(1040, 600)
        ops.changed.connect(self._changed)
        self.refresh()

    def refresh(self) -> None:
        start = self.start.date().toString("yyyy-MM-dd")
        end = self.end.date().toString("yyyy-MM-dd")
        try:
            found = statements.statement(self.client_id, start, end)
        except Exception as exc:  # a refused range: say so; the dates go back to the shown
            show_error(self, exc)
            if self.statement is not None:
                for edit, day in ((self.start, self.statement.start), (self.end, self.statement.end)):
                    edit.blockSignals(True)
                    edit.setDate(QDate(day.year, day.month, day.day))
                    edit.blockSignals(False)
            return
        self.statement = found
        self.model.set_rows(found.rows)
        self.opening.setText(f"Opening balance on {fmt.date(found.start)}: {fmt.money(found.opening)}")
        self.closing.setText(f"Closing balance on {fmt.date(found.end)}: {fmt.money(found.closing)}")
        if found.checked_ok is None:
            self.check.setText(f"{len(found.rows)} rows. Debits {fmt.money(found.total_debit)}, "
                               f"credits {fmt.money(found.total_credit)}.")
            self.check.setStyleSheet("")
        elif found.checked_ok:
            self.check.setText(f"{len(found.rows)} rows, all time. Checked: the closing balance "
                               "equals the unpaid invoices minus the credit balance.")
            self.check.setStyleSheet("color: #2e7d32;")
        else:
            self.check.setText(f"Check failed: unpaid invoices minus credit give "
                               f"{fmt.money(found.expected)}. Please report this (see the log file).")
            self.check.setStyleSheet("color: #c62828;")

    def _all_time(self) -> None:
        today = dt.date.today()
        first = statements.first_date(self.client_id) or today
        self.start.setDate(QDate(first.year, first.month, first.day))
        self.end.setDate(QDate(today.year, today.month, today.day))
        self.refresh()

    def _changed(self, changes: Changes) -> None:
        if changes.billing and changes.touches(self.client_id):
            self.refresh()

    def _pdf(self) -> None:
        if self.statement is None:
            return
        folder = QSettings().value("pdf/folder", str(Path.home()))
        name = f"statement-{self.client_id}-{self.statement.start}-{self.statement.end}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Save statement PDF", str(Path(folder) / name),
                                              "PDF files (*.pdf)")
        if path:
            QSettings().setValue("pdf/folder", str(Path(path).parent))
            self.write_pdf(path)

    def email_statement(self) -> None:
        """The Send email dialog with the statement template and this
        statement's PDF attached (E2)."""
        from billdesk.views.email_dialog import EmailDialog

        if self.statement is None:
            return
        try:
            dialog = EmailDialog(self.ops, self.client_id, self, template="statement",
                                 statement=(self.statement.start, self.statement.end))
        except Exception as exc:  # noqa: BLE001 - shown, the window stays
            show_error(self, exc)
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def write_pdf(self, path: str) -> None:
        from billdesk.services import documents

        statement = self.statement
        self.ops.run(lambda: documents.statement_pdf(statement, path), changes=None,
                     on_done=lambda _: file_saved(self, path, "The statement PDF"),
                     on_error=lambda exc: show_error(self, exc))

    def closeEvent(self, event) -> None:  # noqa: ANN001
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)
