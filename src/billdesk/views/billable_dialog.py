"""Add or edit one billable item (B3): a description, an amount or hours ×
rate, and what to do about invoicing it (don't invoice, the next run, its
due date, or recur every N days/weeks/months/years for K times).

Typing is checked as it goes by the same pure check the service runs
(``billable.check``), each problem beside its field; the service checks
again on Save, on the database worker, and writes nothing when it
refuses."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QVBoxLayout, QWidget

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import billable, clients
from billdesk.services.billable import ACTION_LABELS, ACTIONS, UNITS, BillableRecord
from billdesk.views import fmt, forms
from billdesk.views.ops import Changes, Operations


class BillableDialog(QDialog):
    """Add (``record`` None) or edit a billable item of one client."""

    item_saved = Signal(int)  # the item's id, after the worker wrote it

    def __init__(self, ops: Operations, client_id: int, record: BillableRecord | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id, self.record = ops, client_id, record
        client = clients.get_client(client_id)
        self.currency = record.amount.currency if record else client.values["currency"]
        self.adding = record is None
        self.setWindowTitle(f"Add billable item — {client.display_name}" if self.adding
                            else f"Edit billable item {record.title}")
        self.form = forms.Form(self)
        layout = QFormLayout()
        add = self.form.add
        self.description = add(layout, "description", "Description *",
                               forms.line("What was done", 1000)).widget
        self.hours = add(layout, "hours", "Hours", forms.line("e.g. 2.5", 20)).widget
        self.rate = add(layout, "rate", f"Rate per hour ({self.currency})",
                        forms.line("", 30)).widget
        self.amount = add(layout, "amount", f"Amount ({self.currency}) *",
                          forms.line("", 30)).widget
        self.taxed = QCheckBox()
        add(layout, "taxed", "Charge tax", self.taxed)
        self.action = add(layout, "action", "Invoice action", forms.combo(
            [(ACTION_LABELS[a], a) for a in ACTIONS])).widget
        self.due = add(layout, "due", "Due date", forms.date_edit()).widget
        self.every = add(layout, "every", "Recur every", forms.line("1", 6)).widget
        self.unit = add(layout, "unit", "Unit", forms.combo(
            [(f"{unit.title()}s", unit) for unit in UNITS])).widget
        self.count = add(layout, "count", "For how many times", forms.line("", 6)).widget
        self.notes = add(layout, "notes", "Notes", forms.line("", 20000)).widget
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        layout.addRow(self.summary)
        if record is not None:
            self._show(record)
        else:
            self.unit.setCurrentIndex(self.unit.findData("month"))
        self.form.edited.connect(self.check)
        buttons, self.save_button = forms.save_cancel(
            self, "Add billable item" if self.adding else "Save")
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(buttons)
        self.setMinimumWidth(520)
        self._layout = layout
        self._follow_action()
        self.summary.setText(self._describe())

    def _show(self, record: BillableRecord) -> None:
        self.form.set_values({
            "description": record.description,
            "hours": f"{record.hours:f}" if record.hours is not None else "",
            "rate": str(record.rate.amount) if record.rate is not None else "",
            "amount": "" if record.hours is not None else str(record.amount.amount),
            "taxed": record.taxed, "action": record.action,
            "every": record.every or "", "unit": record.unit or "month",
            "count": record.count or "", "notes": record.notes})
        if record.due_date is not None:
            self.form.fields["due"].set_value(record.due_date)

    # --- following the typing
    def _follow_action(self) -> None:
        action = self.action.currentData()
        for widget, shown in ((self.due, action in ("due", "recur")),
                              (self.every, action == "recur"), (self.unit, action == "recur"),
                              (self.count, action == "recur")):
            self._layout.setRowVisible(widget.parentWidget(), shown)

    def values(self) -> dict[str, Any]:
        """The typed values, as ``billable.add_item`` takes them."""
        v = self.form.values()
        action = v["action"]
        recur = action == "recur"
        return {"description": v["description"], "amount": v["amount"].strip() or None,
                "hours": v["hours"].strip() or None, "rate": v["rate"].strip() or None,
                "taxed": v["taxed"], "action": action,
                "due_date": v["due"] if action in ("due", "recur") else None,
                "every": (v["every"].strip() or None) if recur else None,
                "unit": v["unit"] if recur else None,
                "count": (v["count"].strip() or None) if recur else None,
                "notes": v["notes"]}

    def problems(self) -> list[Problem]:
        try:
            billable.check(self.values(), self.currency)
        except ValidationFailed as exc:
            return [Problem("due" if p.field == "due_date" else p.field, p.message)
                    for p in exc.problems]
        except BilldeskError as exc:
            return [Problem(exc.field, exc.message)]
        return []

    def _describe(self) -> str:
        v = self.values()
        try:
            clean = billable.check(v, self.currency)
        except BilldeskError:
            return ""
        from billdesk.money import Money

        amount = fmt.money(Money.from_minor(clean["amount"], self.currency))
        if clean["action"] == "none":
            return f"{amount}, not invoiced by itself."
        if clean["action"] == "next":
            return f"{amount} goes on the invoice the next generation makes."
        if clean["action"] == "due":
            return (f"{amount} is invoiced for {clean['due_date'].isoformat()}, within the "
                    "invoice lead days.")
        unit = clean["unit"] + ("s" if clean["every"] != 1 else "")
        return (f"{amount} is invoiced {clean['count']} times, every {clean['every']} {unit}, "
                f"from {clean['due_date'].isoformat()}.")

    def check(self) -> bool:
        self._follow_action()
        hours_rate = bool(self.hours.text().strip() and self.rate.text().strip())
        self.amount.setPlaceholderText("hours × rate" if hours_rate else "")
        problems = self.problems()
        self.form.show_problems(problems)
        self.summary.setText(self._describe())
        return not problems

    # --- saving
    def save(self) -> None:
        if not self.check():
            return
        v, client_id = self.values(), self.client_id
        if self.adding:
            work = lambda: billable.add_item(client_id, **v)  # noqa: E731
        else:
            item_id = self.record.id

            def work() -> int:
                billable.edit_item(item_id, **v)
                return item_id

        def done(item_id: int) -> None:
            self.item_saved.emit(item_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            if isinstance(exc, ValidationFailed):
                exc = ValidationFailed([Problem("due" if p.field == "due_date" else p.field,
                                                p.message) for p in exc.problems])
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(billable=True, client_id=self.client_id),
                     on_done=done, on_error=failed)
