"""Settings → Automation (D6 "automation days"): when the daily run runs
and what it does — reminders, overdue notices, suspension, termination,
automatic client status, the credit-added email. How early invoices are
made and the late-fee rules live on "Taxes & numbering" (shown here with
a link, not repeated). Also the per-client overrides (C6) that the
client's Profile tab shows in its "Settings & automation" group."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import automation
from billdesk.services.automation import AutomationSettings
from billdesk.views import forms
from billdesk.views.billing_settings_tab import SpinField, hint

NOTICE_NAMES = ("overdue_1", "overdue_2", "overdue_3")
SWITCHES = ("enabled", "suspend", "terminate", "auto_status", "credit_added_email")
SPINS = ("hour", "reminder_days", *NOTICE_NAMES, "suspend_days", "terminate_days")


class DaysSpin(QSpinBox):
    """A number of days, worded: "1 day overdue", "7 days overdue"; the
    lowest value shows ``special`` (e.g. "Off")."""

    def __init__(self, after: str = "", special: str = "", low: int = 0,
                 high: int = 3650) -> None:
        super().__init__()
        self.after = f" {after}" if after else ""
        self.setRange(low, high)
        if special:
            self.setSpecialValueText(special)
        widest = max(self.textFromValue(high), special, key=self.fontMetrics().horizontalAdvance)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(widest) + 44)
        self.setMaximumWidth(max(self.minimumWidth(), 240))

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt)
        return f"{value} day{'s' if value != 1 else ''}{self.after}"

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt)
        digits = "".join(ch for ch in text if ch.isdigit())
        return int(digits) if digits else self.minimum()

    def validate(self, text: str, pos: int) -> object:  # noqa: D102
        from PySide6.QtGui import QValidator

        digits = "".join(ch for ch in text if ch.isdigit())
        if not digits:
            return QValidator.State.Intermediate
        state = (QValidator.State.Acceptable if self.minimum() <= int(digits) <= self.maximum()
                 else QValidator.State.Invalid)
        return state


class HourSpin(QSpinBox):
    """An hour of the day, shown 03:00."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(0, 23)

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt)
        return f"{value:02d}:00"

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt)
        digits = text.partition(":")[0].strip()
        return int(digits) if digits.isdigit() else 0

    def validate(self, text: str, pos: int) -> object:  # noqa: D102
        from PySide6.QtGui import QValidator

        hours = text.partition(":")[0].strip()
        if not hours:
            return QValidator.State.Intermediate
        if hours.isdigit() and 0 <= int(hours) <= 23:
            return QValidator.State.Acceptable
        return QValidator.State.Invalid


def add_field(form: forms.Form, layout: QFormLayout, field: forms.Field, label: str,
              row: QWidget | None = None) -> forms.Field:
    """A row whose problem shows under it (like forms.Form.add, for fields
    forms.Field cannot read by itself)."""
    form.fields[field.name] = field
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(row or field.widget)
    box.addWidget(field.problem)
    layout.addRow(label, holder)
    widget = field.widget
    if isinstance(widget, QSpinBox):
        widget.valueChanged.connect(form.edited)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(form.edited)
    return field


def beside(*widgets: QWidget | str) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(QLabel(widget) if isinstance(widget, str) else widget)
    layout.addStretch(1)
    return row


class AutomationSettingsPage(QWidget):
    """The page; ``value()`` is what Save writes, ``check()`` shows every
    problem beside its field."""

    show_billing_page = Signal()  # the "Taxes & numbering" link

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("automation_page")
        self.form = forms.Form(self)
        f = self.form

        run = QGroupBox("The daily run")
        rl = QFormLayout(run)
        f.add(rl, "enabled", "Run automatically every day while billdesk is open", QCheckBox())
        hour = HourSpin()
        hour.setMaximumWidth(110)
        add_field(f, rl, SpinField("hour", "Run at", hour), "Run at")
        self.lead_label = QLabel()
        self.lead_label.setObjectName("lead_days")
        self.lead_label.setWordWrap(True)
        self.lead_label.setTextFormat(Qt.TextFormat.RichText)
        self.lead_label.linkActivated.connect(lambda _link: self.show_billing_page.emit())
        rl.addRow("Invoices", self.lead_label)
        rl.addRow(hint("Days missed while billdesk was closed are listed at start and run once "
                       "you confirm. Without the window: billdesk automation run (e.g. from "
                       "cron)."))

        mail = QGroupBox("Reminders and overdue notices")
        ml = QFormLayout(mail)
        add_field(f, ml, SpinField("reminder_days", "Payment reminder", DaysSpin(
            "before the due date", "No payment reminders")), "Payment reminder")
        for n, name in enumerate(NOTICE_NAMES, 1):
            label = ("First", "Second", "Third")[n - 1] + " overdue notice"
            add_field(f, ml, SpinField(name, label, DaysSpin("after the due date", "Off")), label)
        f.add(ml, "credit_added_email", "Email the client when credit is added by hand",
              QCheckBox())
        ml.addRow(hint("Clients with “Send overdue reminders” off get no overdue notices; a "
                       "client's Profile can turn payment reminders off."))

        services = QGroupBox("Suspension, termination and client status")
        sl = QFormLayout(services)
        f.add(sl, "suspend", "Suspend overdue services and addons", QCheckBox())
        add_field(f, sl, SpinField("suspend_days", "Suspend after", DaysSpin(
            "overdue", low=1)), "Suspend after")
        f.add(sl, "terminate", "Terminate overdue services and addons", QCheckBox())
        add_field(f, sl, SpinField("terminate_days", "Terminate after", DaysSpin(
            "overdue", low=1)), "Terminate after")
        f.add(sl, "auto_status", "Automatic client status", QCheckBox())
        sl.addRow(hint("Automatic status: a client with no active service, addon or domain "
                       "becomes Inactive, and Active again when one is."))
        sl.addRow(hint("Days count from the invoice's due date. Each client's Profile tab can "
                       "override these; a service marked “override auto-suspend” is left "
                       "alone. Late fees are set on Taxes & numbering."))

        left = QVBoxLayout()
        left.addWidget(run)
        left.addWidget(mail)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(services)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

        self._stored = automation.automation_settings()
        self.load(self._stored)
        for name in ("enabled", "suspend", "terminate"):
            f.fields[name].widget.toggled.connect(self._enable)
        f.edited.connect(self.check)
        self.set_lead_days(None)
        self._enable()

    # --- values --------------------------------------------------------------
    def load(self, value: AutomationSettings) -> None:
        days = list(value.overdue_days) + [0, 0, 0]
        values: dict[str, Any] = {name: getattr(value, name) for name in SWITCHES}
        values.update(hour=value.hour, reminder_days=value.reminder_days,
                      suspend_days=value.suspend_days, terminate_days=value.terminate_days,
                      **dict(zip(NOTICE_NAMES, days[:3])))
        self.form.set_values(values)

    def value(self) -> AutomationSettings:
        v = self.form.values()
        return AutomationSettings(
            enabled=v["enabled"], hour=v["hour"], reminder_days=v["reminder_days"],
            overdue_days=[v[name] for name in NOTICE_NAMES], suspend=v["suspend"],
            suspend_days=v["suspend_days"], terminate=v["terminate"],
            terminate_days=v["terminate_days"], auto_status=v["auto_status"],
            credit_added_email=v["credit_added_email"])

    def changed(self) -> AutomationSettings | None:
        """What Save writes: None when nothing changed."""
        value = self.value()
        return None if value == self._stored else value

    def set_lead_days(self, days: int | None) -> None:
        """Shown from the billing page's working copy (its spin box)."""
        if days is None:
            from billdesk.services import billing_settings

            days = billing_settings.billing().invoice_lead_days
        when = "on the due date" if days == 0 else f"{days} day{'s' if days != 1 else ''} " \
                                                   "before the due date"
        self.lead_label.setText(f"Due invoices are made {when} (set on "
                                "<a href='billing'>Taxes &amp; numbering</a>).")

    # --- checking ------------------------------------------------------------
    def check(self) -> bool:
        problems = self.value().problems()
        self.show_problems(problems)
        return not problems

    def show_problems(self, problems: list[Problem]) -> list[Problem]:
        """Each problem beside its field (overdue_days[2] → the second
        notice); returns those that belong to no field here."""
        mapped = []
        for problem in problems:
            name = problem.field
            if name.startswith("overdue_days["):
                name = f"overdue_{name[len('overdue_days['):].rstrip(']')}"
            elif name == "overdue_days":
                name = "overdue_1"
            mapped.append(Problem(name, problem.message))
        return self.form.show_problems(mapped)

    def show_refusal(self, exc: BaseException) -> bool:
        """A refused Save: True when every problem was shown beside a field."""
        if not isinstance(exc, BilldeskError):
            return False
        problems = exc.problems if isinstance(exc, ValidationFailed) else [
            Problem(exc.field, exc.message)]
        mine = set(self.form.fields) | {"overdue_days"}
        if any(p.field.partition("[")[0] not in mine for p in problems):
            return False
        self.show_problems(problems)
        return True

    def _enable(self) -> None:
        fields = self.form.fields
        fields["hour"].widget.setEnabled(fields["enabled"].value())
        fields["suspend_days"].widget.setEnabled(fields["suspend"].value())
        fields["terminate_days"].widget.setEnabled(fields["terminate"].value())


# --- per-client overrides (C6), on the client's Profile tab -----------------------

CHOICES = (("default", None), ("on", True), ("off", False))


class TriStateField(forms.Field):
    """Default / On / Off in a combo box: None, True or False."""

    def value(self) -> Any:
        return dict(CHOICES)[self.widget.currentData()]

    def set_value(self, value: Any) -> None:
        key = "default" if value is None else ("on" if value else "off")
        self.widget.setCurrentIndex(max(self.widget.findData(key), 0))


class DaysField(forms.Field):
    """A number of days, or the global setting (shown at 0)."""

    def value(self) -> Any:
        return self.widget.value() or None

    def set_value(self, value: Any) -> None:
        self.widget.setValue(int(value or 0))


def tri_state(default_on: bool) -> QComboBox:
    widget = QComboBox()
    widget.addItem(f"Default ({'on' if default_on else 'off'})", "default")
    widget.addItem("On", "on")
    widget.addItem("Off", "off")
    return widget


def add_client_overrides(form: forms.Form) -> QGroupBox:
    """The "Settings & automation" group of a client's Profile: tri-state
    choices that win over the global automation settings; their fields go
    into ``form`` (the client's), so they save, check and log with it."""
    value = automation.automation_settings()
    box = QGroupBox("Settings && automation")
    box.setObjectName("client_automation")
    layout = QFormLayout(box)

    def watch(field: forms.Field) -> forms.Field:
        form.fields[field.name] = field
        widget = field.widget
        if isinstance(widget, QSpinBox):
            widget.valueChanged.connect(form.edited)
        else:
            widget.currentIndexChanged.connect(form.edited)
        return field

    def row(label: str, name: str, default_on: bool, days: str | None = None,
            default_days: int = 0) -> None:
        choice = watch(TriStateField(name, label, tri_state(default_on)))
        choice.widget.setMinimumWidth(150)
        parts: list[QWidget | str] = [choice.widget]
        problems = [choice.problem]
        if days is not None:
            spin_field = watch(DaysField(days, f"{label} after", DaysSpin(
                "overdue", f"Default ({default_days} days)")))
            spin_field.widget.setMinimumWidth(170)
            parts += ["after", spin_field.widget]
            problems.append(spin_field.problem)
            spin = spin_field.widget

            def follow(_index: int = 0, combo: QComboBox = choice.widget) -> None:
                # the days count only while it is on (as on the global page)
                key = combo.currentData()
                spin.setEnabled(key == "on" or (key == "default" and default_on))

            choice.widget.currentIndexChanged.connect(follow)
            follow()
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(beside(*parts))
        for problem in problems:
            column.addWidget(problem)
        layout.addRow(label, holder)

    row("Suspend overdue services", "auto_suspend", value.suspend, "suspend_days",
        value.suspend_days)
    row("Terminate overdue services", "auto_terminate", value.terminate, "terminate_days",
        value.terminate_days)
    row("Payment reminders", "payment_reminders", value.reminder_days > 0)
    if value.reminder_days <= 0:  # no days to send them on: "On" could do nothing
        reminders = form.fields["payment_reminders"].widget
        item = reminders.model().item(reminders.findData("on"))
        item.setEnabled(False)
        item.setToolTip("Settings → Automation sends no payment reminders: set how many "
                        "days before the due date there first")
        reminders.setToolTip(item.toolTip())
    row("Automatic client status", "auto_status", value.auto_status)
    layout.addRow(hint("“Default” follows Settings → Automation; “On” or “Off” wins over "
                       "it for this client."))
    return box
