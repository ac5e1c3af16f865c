"""Mass update (S5): the same changes to the checked services, addons and
domains of one client, in one transaction. A field left at "no change"
(or blank) stays as it is. With a new next due date, "Create prorata
invoice" bills the days between each item's old and new due date in one
invoice (none when the total is not an amount due)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QVBoxLayout, QWidget

from billdesk.errors import Problem
from billdesk.models import BILLING_CYCLES
from billdesk.services import billing_settings, invoicing, subscriptions
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.services.subscriptions import DOMAIN_CYCLES, STATUSES, MassUpdateResult, ServiceRecord
from billdesk.views import forms
from billdesk.views.forms import PROBLEM_STYLE
from billdesk.views.ops import Changes, Operations
from billdesk.views.service_editor import OptionalDate, typed_amount_problem

NO_CHANGE = "— no change —"


def _names(records: list[ServiceRecord], most: int = 4) -> str:
    shown = ", ".join(r.title for r in records[:most])
    return shown + (f" and {len(records) - most} more" if len(records) > most else "")


class MassUpdateDialog(QDialog):
    """``updated`` carries (MassUpdateResult, the prorata invoice's label or
    "", whether a prorata invoice was asked for) once the worker has written."""

    updated = Signal(object, str, bool)

    def __init__(self, ops: Operations, client_id: int, records: list[ServiceRecord],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not records:
            raise ValueError("nothing to update")
        self.ops, self.client_id, self.records = ops, client_id, records
        self.currency = records[0].currency
        kinds = {r.kind for r in records}
        count = len(records)
        self.setWindowTitle(f"Mass update — {count} item{'s' if count != 1 else ''}")
        self.form = forms.Form(self)
        layout = QFormLayout()
        statuses = [s for s in dict.fromkeys(s for k in sorted(kinds) for s in STATUSES[k])
                    if all(s in STATUSES[k] for k in kinds)]  # a status every kind has
        self.form.add(layout, "status", "Status",
                      forms.combo([(NO_CHANGE, None)] + [(s, s) for s in statuses]))
        self.form.add(layout, "payment_method", "Payment method", forms.combo(
            [(NO_CHANGE, None), ("(none)", "")]
            + [(m, m) for m in billing_settings.payment_methods()]))
        self.form.add(layout, "override_suspend", "Override auto-suspend", forms.combo(
            [(NO_CHANGE, None), ("Yes", True), ("No", False)]))
        self.form.add(layout, "amount", f"Recurring amount ({self.currency})",
                      forms.line("no change", 24))
        cycles = DOMAIN_CYCLES if "domain" in kinds else BILLING_CYCLES
        self.form.add(layout, "cycle", "Billing cycle",
                      forms.combo([(NO_CHANGE, None)] + [(CYCLE_LABELS[c], c) for c in cycles]))
        self.next_due = OptionalDate("Move to")
        self.form.add(layout, "next_due", "Next due date", self.next_due, self.next_due.date)
        self.prorata = QCheckBox()
        self.form.add(layout, "prorata", "Create prorata invoice for the days between the "
                                         "old and the new due date", self.prorata)
        self.prorata.setEnabled(False)
        self.next_due.toggled.connect(self._due_toggled)
        self.next_due.toggled.connect(self.form.edited)
        self.form.edited.connect(self.check)

        intro = QLabel(f"Changes to {_names(records)}. Fields left at “no change” or blank "
                       "stay as they are.")
        intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("massUpdateProblem")
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons, self.save_button = forms.save_cancel(self, "Apply")
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addLayout(layout)
        box.addWidget(self.problem)
        box.addWidget(buttons)
        self.setMinimumWidth(520)

    def _due_toggled(self, on: bool) -> None:
        self.prorata.setEnabled(on)
        if not on:
            self.prorata.setChecked(False)

    def values(self) -> dict[str, Any]:
        """The changes asked for, as ``subscriptions.mass_update`` takes them."""
        v = self.form.values(("status", "payment_method", "override_suspend", "amount", "cycle"))
        found = {k: val for k, val in v.items() if val is not None}
        if not found.get("amount", "").strip():
            found.pop("amount", None)
        due = self.next_due.value()
        if due is not None:
            found["next_due"] = due
            found["prorata"] = self.prorata.isChecked()
        return found

    def problems(self) -> list[Problem]:
        found = []
        problem = typed_amount_problem(self.form.fields["amount"].widget.text(), self.currency,
                                       "amount")
        if problem:
            found.append(problem)
        return found

    def check(self) -> bool:
        problems = self.problems()
        self._show_orphans(self.form.show_problems(problems))
        return not problems

    def _show_orphans(self, problems: list[Problem]) -> None:
        text = "\n".join(p.message for p in problems)
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def save(self) -> None:
        if not self.check():
            return
        values = self.values()
        if not values:
            self._show_orphans([Problem("", "Nothing to change: choose a new value for at least "
                                            "one field.")])
            return
        ids = [r.id for r in self.records]

        def work() -> tuple[MassUpdateResult, str]:
            result = subscriptions.mass_update(ids, **values)
            label = invoicing.get_invoice(result.invoice_id).label if result.invoice_id else ""
            return result, label

        def done(found: tuple[MassUpdateResult, str]) -> None:
            self.updated.emit(*found, bool(values.get("prorata")))
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.problem.hide()
        self.ops.run(work, changes=Changes(services=True, billing=bool(values.get("prorata")),
                                           client_id=self.client_id),
                     on_done=done, on_error=failed)
