"""Add or edit a recurring invoice (B5): the template's lines, how often
(every N months or years), the start date, and when it ends (never, after
a count of invoices, or after a date), the days until each invoice is due
and its payment method.

Typing is checked as it goes by the service's own pure check
(``recurring.check``), each problem beside its field (line problems under
the lines); the service checks again on Save, on the database worker."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import clients, recurring
from billdesk.services.recurring import RecurringRecord
from billdesk.services.text import counted
from billdesk.views import fmt, forms
from billdesk.views.errors import line_field
from billdesk.views.money_dialogs import method_combo
from billdesk.views.ops import Changes, Operations

ENDS = (("Never (until stopped)", "never"), ("After a number of invoices", "count"),
        ("After a date", "until"))


class LineRow(QWidget):
    """One template line: description, amount, taxed, remove."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.description = forms.line("Description", 1000)
        self.description.setObjectName("line_description")
        self.amount = forms.line("Amount", 30)
        self.amount.setObjectName("line_amount")
        self.amount.setMaximumWidth(140)
        self.taxed = QCheckBox("Taxed")
        self.remove = QPushButton("Remove")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.description, 1)
        row.addWidget(self.amount)
        row.addWidget(self.taxed)
        row.addWidget(self.remove)

    def value(self) -> tuple[str, str, bool]:
        return self.description.text(), self.amount.text(), self.taxed.isChecked()


class RecurringDialog(QDialog):
    """Add (``record`` None) or edit a recurring invoice of one client."""

    recurring_saved = Signal(int)  # the template's id, after the worker wrote it

    def __init__(self, ops: Operations, client_id: int, record: RecurringRecord | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id, self.record = ops, client_id, record
        client = clients.get_client(client_id)
        self.currency = client.values["currency"]
        self.adding = record is None
        self.setWindowTitle(f"New recurring invoice — {client.display_name}" if self.adding
                            else f"Edit recurring invoice #{record.id}")
        self.form = forms.Form(self)

        self.rows: list[LineRow] = []
        lines_box = QGroupBox(f"Lines ({self.currency})")
        self._lines_layout = QVBoxLayout(lines_box)
        self.add_line_button = QPushButton("Add line")
        self.add_line_button.setObjectName("add_line")
        self.add_line_button.clicked.connect(lambda: self.add_line())
        self.lines_problem = QLabel()
        self.lines_problem.setObjectName("item_problem")
        self.lines_problem.setStyleSheet(forms.PROBLEM_STYLE)
        self.lines_problem.setWordWrap(True)
        self.lines_problem.hide()
        self.total = QLabel()
        self.total.setObjectName("total")
        footer = QHBoxLayout()
        footer.addWidget(self.add_line_button)
        footer.addStretch(1)
        footer.addWidget(self.total)
        self._rows_box = QVBoxLayout()
        self._lines_layout.addLayout(self._rows_box)
        self._lines_layout.addLayout(footer)
        self._lines_layout.addWidget(self.lines_problem)

        layout = QFormLayout()
        add = self.form.add
        self.every = add(layout, "every", "Every", forms.line("1", 4)).widget
        self.unit = add(layout, "unit", "Unit", forms.combo(
            [("Months", "month"), ("Years", "year")])).widget
        self.start = add(layout, "start", "First invoice on", forms.date_edit()).widget
        self.end = add(layout, "end", "Ends", forms.combo(ENDS)).widget
        self.count = add(layout, "count", "Number of invoices", forms.line("", 6)).widget
        self.until = add(layout, "until", "Last date", forms.date_edit()).widget
        self.due_days = add(layout, "due_days", "Due after (days)", forms.line("0", 5)).widget
        self.method = add(layout, "payment_method", "Payment method",
                          method_combo(record.payment_method if record else "")).widget
        self.notes = add(layout, "notes", "Notes", forms.line("", 20000)).widget
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        layout.addRow(self.summary)
        self._layout = layout

        if record is not None:
            self._show(record)
        else:
            self.add_line()
            self.every.setText("1")
            self.due_days.setText("0")
        self.form.edited.connect(self.check)
        buttons, self.save_button = forms.save_cancel(
            self, "Create recurring invoice" if self.adding else "Save")
        box = QVBoxLayout(self)
        box.addWidget(lines_box)
        box.addLayout(layout)
        box.addWidget(buttons)
        self.setMinimumWidth(640)
        self._follow_end()
        if record is not None:
            self.check()  # clears what was said while its lines were filled in
        self._show_totals()

    def _show(self, record: RecurringRecord) -> None:
        for line in record.lines:
            row = self.add_line()
            row.description.setText(line.description)
            row.amount.setText(str(line.amount.amount))
            row.taxed.setChecked(line.taxed)
        end = "count" if record.count else "until" if record.until else "never"
        self.form.set_values({"every": record.every, "unit": record.unit, "end": end,
                              "count": record.count or "", "due_days": record.due_days,
                              "payment_method": record.payment_method, "notes": record.notes})
        self.form.fields["start"].set_value(record.start_date)
        if record.until:
            self.form.fields["until"].set_value(record.until)
        self.start.setEnabled(record.issued == 0)  # fixed once an invoice was issued

    # --- lines
    def add_line(self) -> LineRow:
        row = LineRow(self)
        self.rows.append(row)
        self._rows_box.addWidget(row)
        row.description.textChanged.connect(self.check)
        row.amount.textChanged.connect(self.check)
        row.taxed.toggled.connect(self.check)
        row.remove.clicked.connect(lambda: self.remove_line(row))
        return row

    def remove_line(self, row: LineRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
            self.check()

    # --- following the typing
    def _follow_end(self) -> None:
        end = self.end.currentData()
        self._layout.setRowVisible(self.count.parentWidget(), end == "count")
        self._layout.setRowVisible(self.until.parentWidget(), end == "until")

    def values(self) -> dict[str, Any]:
        """The typed values, as ``recurring.add_recurring`` takes them."""
        v = self.form.values()
        end = v["end"]
        return {"lines": [row.value() for row in self.rows], "every": v["every"].strip(),
                "unit": v["unit"], "start_date": v["start"],
                "count": v["count"].strip() if end == "count" else None,
                "until": v["until"] if end == "until" else None,
                "due_days": v["due_days"].strip(), "payment_method": v["payment_method"] or "",
                "notes": v["notes"]}

    def problems(self) -> list[Problem]:
        v = self.values()
        found: list[Problem] = []
        if v["count"] == "":
            found.append(Problem("count", "is required: how many invoices in all"))
        try:
            recurring.check(v, self.currency)
        except ValidationFailed as exc:
            found += exc.problems
        except BilldeskError as exc:
            found.append(Problem(exc.field, exc.message))
        return found

    def _show_problems(self, problems: list[Problem]) -> None:
        """Field problems beside their fields; line problems under the lines."""
        orphans = self.form.show_problems(problems)
        lines = [_line_text(p) for p in orphans]
        self.lines_problem.setText("\n".join(lines))
        self.lines_problem.setVisible(bool(lines))

    def _show_totals(self) -> None:
        try:
            clean = recurring.check(self.values(), self.currency)
        except BilldeskError:
            self.total.setText("")
            self.summary.setText("")
            return
        from billdesk.money import Money

        total = sum((amount.amount for _line, amount in clean["lines"]), start=0)
        self.total.setText(f"Total before tax: {fmt.money(Money(total, self.currency))}")
        unit = clean["unit"] + ("s" if clean["every"] != 1 else "")
        end = (f", {clean['count']} invoices in all" if clean["count"]
               else f", the last on or before {clean['until'].isoformat()}" if clean["until"]
               else ", until stopped")
        self.summary.setText(f"An invoice every {clean['every']} {unit} from "
                             f"{clean['start_date'].isoformat()}{end}; each due "
                             f"{counted(clean['due_days'], 'day')} after its date.")

    def check(self) -> bool:
        self._follow_end()
        problems = self.problems()
        self._show_problems(problems)
        self._show_totals()
        return not problems

    # --- saving
    def save(self) -> None:
        if not self.check():
            return
        v, client_id = self.values(), self.client_id
        if self.adding:
            work = lambda: recurring.add_recurring(client_id, **v)  # noqa: E731
        else:
            rid = self.record.id
            if not self.start.isEnabled():
                v.pop("start_date")

            def work() -> int:
                recurring.edit_recurring(rid, **v)
                return rid

        def done(rid: int) -> None:
            self.recurring_saved.emit(rid)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            if isinstance(exc, BilldeskError):
                problems = exc.problems if isinstance(exc, ValidationFailed) else [
                    Problem(exc.field, exc.message)]
                self._show_problems(problems)
                return
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(billable=True, client_id=self.client_id),
                     on_done=done, on_error=failed)


def _line_text(problem: Problem) -> str:
    """"lines[2].amount" → "Line 2 amount: …"; "item" → the message."""
    field = problem.field
    place = line_field(field)
    if place is not None:
        return f"Line {place[0] + 1} {place[1]}: {problem.message}"
    if field == "item":
        return f"Lines: {problem.message}"
    return f"{field}: {problem.message}"
