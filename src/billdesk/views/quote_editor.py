"""The quote editor (B4): subject, stage, date and valid-until, lines
(description, quantity, unit price, discount %, taxed) whose amounts and
totals follow the typing, the proposal text, notes for the customer and
notes for the admin. Save writes on the database worker; refused input is
shown beside its field, or in its cell for a line. A converted quote keeps
its lines, dates and stage: only the subject and texts change."""

from __future__ import annotations

import html
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import clients, invoicing, quotes, taxes
from billdesk.services.quotes import QuoteRecord
from billdesk.views import fmt
from billdesk.views.errors import line_field, show_error
from billdesk.views.forms import PROBLEM_STYLE, Form, combo, date_edit, line, save_cancel
from billdesk.views.models.quote_tables import QuoteLineColumn, QuoteLinesModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import LiveDelegate, setup_table

TEXT_FIELDS = ("proposal", "customer_notes", "admin_notes")



def _texts() -> QPlainTextEdit:
    widget = QPlainTextEdit()
    widget.setTabChangesFocus(True)
    return widget


class QuoteEditor(QDialog):
    """A new quote for ``client_id`` (``quote_id`` None) or an existing one."""

    saved = Signal(int)  # the quote id, after a successful save

    def __init__(self, ops: Operations, client_id: int, quote_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quoteEditor")
        self.ops = ops
        self.client_id = client_id
        self.quote: QuoteRecord | None = quotes.get_quote(quote_id) if quote_id else None
        if self.quote is not None and self.quote.client_id != client_id:
            raise ValueError("the quote belongs to another client")
        client = clients.get_client(client_id)
        self.currency: str = self.quote.currency if self.quote else client.values["currency"]
        # a saved quote takes the client's rates of the day; a converted one keeps its own
        self.rates: taxes.TaxRates = (self.quote.rates if self.quote and self.quote.converted
                                      else invoicing.rates_for_client(client_id))
        self.dirty = False
        self._loading = True
        self.last_saved: int | None = None

        name = f"Quote #{self.quote.id}" if self.quote else "New quote"
        self.setWindowTitle(f"{name} — {client.display_name} — billdesk")
        self.title = QLabel(f"<b>{html.escape(name)}</b> &nbsp;for #{client_id} "
                            f"{html.escape(client.display_name)} · {self.currency}")
        self.title.setObjectName("quoteTitle")

        # header fields
        self.form = Form(self)
        left, right = QFormLayout(), QFormLayout()
        self.subject = self.form.add(left, "subject", "Subject", line("What the quote is for"))
        self.stage = self.form.add(left, "stage", "Stage", combo([(s, s) for s in quotes.STAGES]))
        self.date = self.form.add(right, "date", "Date", date_edit())
        self.valid_until = self.form.add(right, "valid_until", "Valid until", date_edit())
        header = QHBoxLayout()
        header.addLayout(left, 3)
        header.addSpacing(16)
        header.addLayout(right, 2)

        # lines
        self.lines = QuoteLinesModel(self.currency, self)
        self._sent_rows: list[int] = []  # the rows the last save sent, as lines 0, 1, …
        self.lines_view = QTableView()
        self.lines_view.setObjectName("quoteLines")
        self.lines_view.setModel(self.lines)
        self.lines_view.setItemDelegate(LiveDelegate(self.lines_view))
        setup_table(self.lines_view, QuoteLineColumn.DESCRIPTION, editable=True, row_numbers=True)
        triggers = QAbstractItemView.EditTrigger
        self.lines_view.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed
                                        | triggers.AnyKeyPressed | triggers.SelectedClicked)
        head = self.lines_view.horizontalHeader()
        for column, width in ((QuoteLineColumn.QUANTITY, 60), (QuoteLineColumn.UNIT_PRICE, 100),
                              (QuoteLineColumn.DISCOUNT, 85), (QuoteLineColumn.AMOUNT, 110),
                              (QuoteLineColumn.TAXED, 55)):
            head.resizeSection(column, width)
        self.lines.edited.connect(self._edited)
        self.add_line_button = QPushButton("Add line")
        self.add_line_button.setObjectName("addLine")
        self.add_line_button.clicked.connect(self.add_line)
        self.remove_line_button = QPushButton("Remove line")
        self.remove_line_button.setObjectName("removeLine")
        self.remove_line_button.clicked.connect(self.remove_line)
        self.lines_problem = QLabel()
        self.lines_problem.setObjectName("lines_problem")
        self.lines_problem.setStyleSheet(PROBLEM_STYLE)
        self.lines_problem.setWordWrap(True)
        self.lines_problem.hide()
        line_buttons = QHBoxLayout()
        line_buttons.addWidget(self.add_line_button)
        line_buttons.addWidget(self.remove_line_button)
        line_buttons.addStretch(1)

        # totals
        totals = QGroupBox("Totals")
        grid = QGridLayout(totals)
        self.figures: dict[str, QLabel] = {}
        for row, key in enumerate(("subtotal", "tax1", "tax2", "total")):
            name_label = QLabel({"subtotal": "Subtotal", "total": "<b>Total</b>"}.get(key, key))
            value = QLabel()
            value.setObjectName(f"figure_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(name_label, row, 0)
            grid.addWidget(value, row, 1)
            self.figures[key] = value
            self.figures[f"{key}_name"] = name_label
        totals.setMinimumWidth(240)

        # texts
        texts = QFormLayout()
        self.proposal = self.form.add(texts, "proposal", "Proposal", _texts())
        self.customer_notes = self.form.add(texts, "customer_notes", "Customer notes", _texts())
        self.admin_notes = self.form.add(texts, "admin_notes", "Admin notes", _texts())
        self.proposal.widget.setPlaceholderText("Printed on the quote, above the lines")
        self.customer_notes.widget.setPlaceholderText("Printed on the quote, below the totals")
        self.admin_notes.widget.setPlaceholderText("For you only: never printed")
        for field in (self.proposal, self.customer_notes, self.admin_notes):
            field.widget.setMaximumHeight(80)

        self.converted_note = QLabel()
        self.converted_note.setObjectName("convertedNote")
        self.converted_note.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons, self.save_button = save_cancel(self)

        middle = QHBoxLayout()
        lines_box = QVBoxLayout()
        lines_box.addWidget(self.lines_view, 1)
        lines_box.addWidget(self.lines_problem)
        lines_box.addLayout(line_buttons)
        middle.addLayout(lines_box, 1)
        middle.addWidget(totals, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.converted_note)
        layout.addLayout(header)
        layout.addLayout(middle, 1)
        layout.addLayout(texts)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(860, 640)
        geometry = QSettings().value("quote/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

        self._fill()
        self.form.edited.connect(self._edited)
        self._loading = False
        self._refresh_figures()

    # --- showing

    def _fill(self) -> None:
        import datetime as dt

        q = self.quote
        if q is None:
            today = dt.date.today()
            self.form.set_values({"subject": "", "stage": "Draft", "date": today,
                                  "valid_until": today + dt.timedelta(days=quotes.VALID_DAYS)})
            self.converted_note.hide()
            return
        self.form.set_values({"subject": q.subject, "stage": q.stage, "date": q.date,
                              "valid_until": q.valid_until, "proposal": q.proposal,
                              "customer_notes": q.customer_notes, "admin_notes": q.admin_notes})
        self.lines.set_lines(q.lines)
        locked = q.converted
        self.lines.read_only = locked
        for widget in (self.add_line_button, self.remove_line_button, self.stage.widget,
                       self.date.widget, self.valid_until.widget):
            widget.setEnabled(not locked)
        if locked:
            label = invoicing.get_invoice(q.invoice_id).label if q.invoice_id else ""
            self.converted_note.setText(f"Converted to invoice {label}: the lines, dates and "
                                        "stage stay as they were invoiced.")
        self.converted_note.setVisible(locked)

    def _refresh_figures(self) -> None:
        typed = [found for found in self.lines.amounts() if found is not None]
        totals = quotes.preview(typed, self.rates, self.currency)
        f = self.figures
        f["subtotal"].setText(fmt.money(totals.subtotal))
        for level, name, rate, amount in ((1, self.rates.name1, self.rates.rate1, totals.tax1),
                                          (2, self.rates.name2, self.rates.rate2, totals.tax2)):
            visible = bool(rate)
            f[f"tax{level}_name"].setText(f"{name or f'Tax {level}'} {quotes._plain(rate)} %"
                                          + (" (included)" if self.rates.inclusive else ""))
            f[f"tax{level}"].setText(fmt.money(amount))
            f[f"tax{level}_name"].setVisible(visible)
            f[f"tax{level}"].setVisible(visible)
        f["total"].setText(f"<b>{html.escape(fmt.money(totals.total))}</b>")
        self.totals = totals

    def _edited(self) -> None:
        if self._loading:
            return
        self.dirty = True
        self._refresh_figures()

    # --- lines

    def add_line(self) -> int:
        row = self.lines.add_line(taxed=bool(self.rates.any))
        index = self.lines.index(row, QuoteLineColumn.DESCRIPTION)
        self.lines_view.setCurrentIndex(index)
        self.lines_view.edit(index)
        return row

    def remove_line(self) -> None:
        rows = sorted({i.row() for i in self.lines_view.selectionModel().selectedIndexes()},
                      reverse=True)
        if not rows and self.lines_view.currentIndex().isValid():
            rows = [self.lines_view.currentIndex().row()]
        for row in rows:
            self.lines.remove_line(row)

    # --- saving

    def save(self) -> None:
        values = self.form.values()
        lines = None
        if not (self.quote and self.quote.converted):  # rows left empty are not lines
            every = self.lines.lines()
            self._sent_rows = [row for row, line in enumerate(every)
                               if (line.description or "").strip()
                               or str(line.unit_price or "").strip()]
            lines = [every[row] for row in self._sent_rows]
        quote = self.quote
        client_id = self.client_id
        self.save_button.setEnabled(False)
        self.form.show_problems([])
        self.lines.show_problems([])
        self._show_problem(None)

        if quote is None:
            def work() -> int:
                return quotes.create_quote(client_id, lines or [], **values)
        elif quote.converted:
            texts = {k: values[k] for k in ("subject", *TEXT_FIELDS)}

            def work() -> int:
                return quotes.update_quote(quote.id, **texts).id
        else:
            def work() -> int:
                return quotes.update_quote(quote.id, lines, **values).id

        self.ops.run(work, changes=Changes(quotes=True, client_id=client_id),
                     on_done=self._saved, on_error=self._refused)

    def _saved(self, quote_id: int) -> None:
        self.dirty = False
        self.last_saved = quote_id
        self.save_button.setEnabled(True)
        self.saved.emit(quote_id)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if not isinstance(exc, BilldeskError):
            show_error(self, exc)
            return
        problems = exc.problems if isinstance(exc, ValidationFailed) else [
            Problem(exc.field, exc.message)]
        cells: list[tuple[int, int, str]] = []
        rest: list[Problem] = []
        line_messages: list[str] = []
        for p in problems:
            place = line_field(p.field)
            if place is not None:
                row, name = place
                sent = self._sent_rows
                row = sent[row] if 0 <= row < len(sent) else row  # (the row on screen)
                column = QuoteLinesModel.column_of(name)
                cells.append((row, column, p.message))
                name = self.lines.HEADERS[column].lower()
                line_messages.append(f"Line {row + 1} {name}: {p.message}")
            elif p.field == "lines":
                line_messages.append(p.message)
            else:
                rest.append(p)
        self.lines.show_problems(cells)
        self.lines_problem.setText("\n".join(line_messages))
        self.lines_problem.setVisible(bool(line_messages))
        orphans = self.form.show_problems(rest)
        self._show_problem("; ".join(f"{p.field}: {p.message}" if p.field else p.message
                                     for p in orphans) or None)

    def _show_problem(self, text: str | None) -> None:
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    def done(self, result: int) -> None:  # noqa: D401 (Qt's name)
        QSettings().setValue("quote/geometry", self.saveGeometry())
        super().done(result)

