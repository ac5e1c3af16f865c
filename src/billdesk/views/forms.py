"""A small form kit: each field is a widget with its problem shown beside
it, in red, as soon as the value is wrong (every problem at once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QDate, QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPushButton,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed

PROBLEM_STYLE = "color: #c62828;"


class ProblemLabel(QLabel):
    """A problem's words, wrapped, below its field: it asks for the height
    its lines need at its width, so a dialog grows to show a message of
    two lines whole (a form layout would give it one line and cut the
    second in half)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setStyleSheet(PROBLEM_STYLE)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        need = self.heightForWidth(self.width()) if self.width() > 0 else -1
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)


class Field:
    """A widget, how to read and write it, and its problem label."""

    def __init__(self, name: str, label: str, widget: QWidget) -> None:
        self.name = name
        self.label = label
        self.widget = widget
        self.widget.setObjectName(name)
        self.problem = ProblemLabel(f"{name}_problem")
        self.problem.hide()

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QLineEdit):
            return w.text()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QDateEdit):
            return w.date().toString("yyyy-MM-dd")
        if isinstance(w, QComboBox):
            if w.isEditable():
                data = w.currentData()
                text = w.currentText().strip()
                return data if data is not None and w.itemText(w.currentIndex()) == w.currentText() else text
            return w.currentData()
        raise TypeError(type(w))

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QLineEdit):
            w.setText("" if value is None else str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText("" if value is None else str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QDateEdit):
            w.setDate(QDate.fromString(str(value), "yyyy-MM-dd") if isinstance(value, str)
                      else QDate(value.year, value.month, value.day))
        elif isinstance(w, QComboBox):
            index = w.findData(value)
            if index < 0 and w.isEditable():
                w.setEditText("" if value is None else str(value))
            else:
                w.setCurrentIndex(max(index, 0))

    def show_problem(self, message: str | None) -> None:
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))
        self.widget.setProperty("invalid", bool(message))
        self.widget.setToolTip(message or "")


class Form(QObject):
    """Fields laid out in one or more QFormLayouts; ``edited`` on any change."""

    edited = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, Field] = {}

    def add(self, layout: QFormLayout, name: str, label: str, widget: QWidget,
            value_widget: QWidget | None = None) -> Field:
        """Add a row. ``value_widget`` is where the value lives when ``widget``
        is a row of several (a line edit beside a button)."""
        field = Field(name, label, value_widget or widget)
        self.fields[name] = field
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        box.addWidget(field.problem)
        if isinstance(widget, QCheckBox):
            widget.setText(label)
            layout.addRow(holder)
        else:
            layout.addRow(label, holder)
        # a problem is about the value it was found in: changed, it goes
        # (a form checked as one types shows it again at once, on ``edited``)
        self._watch(field.widget, lambda *_: field.show_problem(None))
        self._watch(field.widget, self.edited)
        return field

    @staticmethod
    def _watch(widget: QWidget, slot: Any) -> None:
        if isinstance(widget, QLineEdit):
            widget.textChanged.connect(slot)
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(slot)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(slot)
        elif isinstance(widget, QDateEdit):
            widget.dateChanged.connect(slot)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(slot)
            if widget.isEditable():
                widget.editTextChanged.connect(slot)

    def values(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        return {n: self.fields[n].value() for n in (names or self.fields)}

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in self.fields:
                field = self.fields[name]
                field.widget.blockSignals(True)
                field.set_value(value)
                field.widget.blockSignals(False)

    def show_error(self, parent: QWidget, exc: BaseException) -> None:
        """A refused save: each problem beside its field; what belongs to no
        field (or is a bug) in a dialog."""
        from billdesk.views.errors import show_error

        if isinstance(exc, BilldeskError):
            problems = exc.problems if isinstance(exc, ValidationFailed) else [
                Problem(exc.field, exc.message)]
            if not self.show_problems(problems):
                return
        show_error(parent, exc)

    def show_problems(self, problems: list[Problem]) -> list[Problem]:
        """Show each problem beside its field; return those with no field."""
        by_field: dict[str, list[str]] = {}
        orphans = []
        for problem in problems:
            if problem.field in self.fields:
                by_field.setdefault(problem.field, []).append(problem.message)
            else:
                orphans.append(problem)
        for name, field in self.fields.items():
            messages = by_field.get(name)
            field.show_problem("; ".join(messages) if messages else None)
        return orphans


ADDRESS = (("address1", "Address 1"), ("address2", "Address 2"), ("city", "City"),
           ("state", "State/Region"), ("postcode", "Postcode"))


def add_address(form: Form, layout: QFormLayout) -> None:
    """Address lines and country, as every address in billdesk has them."""
    for name, label in ADDRESS:
        form.add(layout, name, label, line("", 20 if name == "postcode" else 200))
    form.add(layout, "country", "Country", country_combo())


def align_labels(*layouts: QFormLayout) -> None:
    """Forms stacked one above another (in group boxes) with their labels
    one width, so that their fields start in one column."""
    labels = [item.widget() for layout in layouts for row in range(layout.rowCount())
              if (item := layout.itemAt(row, QFormLayout.ItemRole.LabelRole)) is not None
              and item.widget() is not None and item.widget().text()]
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)


def save_cancel(dialog: QDialog, save_text: str = "") -> tuple[QDialogButtonBox, QPushButton]:
    """Save and Cancel for a dialog whose ``save()`` checks and writes."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                               | QDialogButtonBox.StandardButton.Cancel)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setObjectName("save")
    if save_text:
        save.setText(save_text)
    buttons.accepted.connect(dialog.save)
    buttons.rejected.connect(dialog.reject)
    return buttons, save


def line(placeholder: str = "", max_length: int = 200) -> QLineEdit:
    widget = QLineEdit()
    widget.setPlaceholderText(placeholder)
    widget.setMaxLength(max_length)
    return widget


def date_edit(value: Any = None) -> QDateEdit:
    """A date with a calendar, written YYYY-MM-DD like everywhere in billdesk."""
    widget = QDateEdit()
    widget.setCalendarPopup(True)
    widget.setDisplayFormat("yyyy-MM-dd")
    widget.setDate(QDate.currentDate() if value is None else QDate(value.year, value.month, value.day))
    return widget


def combo(items: Iterable[tuple[str, Any]], editable: bool = False) -> QComboBox:
    widget = QComboBox()
    widget.setEditable(editable)
    for label, data in items:
        widget.addItem(label, data)
    if editable:
        widget.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    return widget


def country_combo() -> QComboBox:
    from billdesk.services.validate import countries

    widget = combo([("—", "")] + [(f"{name} ({code})", code) for code, name in countries().items()])
    widget.setMaxVisibleItems(20)
    return widget


def currency_combo() -> QComboBox:
    from billdesk.money import known_currencies

    common = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK"]
    rest = sorted(known_currencies() - set(common))
    widget = combo([(c, c) for c in common + rest])
    widget.setMaxVisibleItems(20)
    return widget


def language_combo() -> QComboBox:
    from billdesk.services.validate import languages

    return combo([(f"{name} ({code})", code) for code, name in languages().items()])
