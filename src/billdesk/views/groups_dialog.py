"""Client groups (C6): name, colour, discount percent, separate invoices."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import groups, validate
from billdesk.views import forms
from billdesk.views.models.simple_tables import GroupTableModel
from billdesk.views.ops import Changes, Operations

class GroupEditor(QDialog):
    def __init__(self, ops: Operations, group: groups.Group | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.group = group
        self.setWindowTitle("Edit group" if group else "New group")
        self.form = forms.Form(self)
        layout = QFormLayout()
        self.form.add(layout, "name", "Name *", forms.line("e.g. VIP, Resellers"))
        self.colour_button = QPushButton()
        self.colour_button.clicked.connect(self._pick_colour)
        colour_row = QWidget()
        colour_layout = QHBoxLayout(colour_row)
        colour_layout.setContentsMargins(0, 0, 0, 0)
        self.colour_edit = forms.line("#5b8def", 7)
        colour_layout.addWidget(self.colour_edit, 1)
        colour_layout.addWidget(self.colour_button)
        self.form.add(layout, "colour", "Colour", colour_row, self.colour_edit)
        self.form.add(layout, "discount", "Discount %", forms.line("0", 6))
        self.form.add(layout, "separate_invoices", "Separate invoices by default", QCheckBox())
        late = self.form.add(layout, "late_fees", "Charge late fees to this group's clients",
                             QCheckBox()).widget
        late.setToolTip("Off: no client of the group pays late fees (the rules are in "
                        "Settings → Taxes & numbering)")
        self.form.set_values({"name": group.name if group else "",
                              "colour": group.colour if group else "#5b8def",
                              "discount": str(group.discount) if group else "0",
                              "separate_invoices": group.separate_invoices if group else False,
                              "late_fees": group.late_fees if group else True})
        self.form.edited.connect(self._show_colour)
        self.form.edited.connect(self.check)
        self.setMinimumWidth(460)
        buttons, _save = forms.save_cancel(self)
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(buttons)
        self._show_colour()

    def _show_colour(self) -> None:
        colour = self.form.fields["colour"].value()
        self.colour_button.setText("Pick…")
        if validate.colour_problems(colour) == []:
            swatch = QPixmap(14, 14)
            swatch.fill(QColor(colour))
            self.colour_button.setIcon(QIcon(swatch))

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self.form.fields["colour"].value()), self)
        if colour.isValid():
            self.form.set_values({"colour": colour.name()})
            self._show_colour()

    def check(self) -> bool:
        v = self.form.values()
        problems = groups.problems(v["name"], v["colour"], self.group.id if self.group else None,
                                   v["discount"])
        self.form.show_problems(problems)
        return not problems

    def save(self) -> None:
        if not self.check():
            return
        v = self.form.values()
        group = self.group

        def work() -> None:
            if group is None:
                groups.add_group(v["name"], v["colour"], v["discount"], v["separate_invoices"],
                                 late_fees=v["late_fees"])
            else:
                groups.update_group(group.id, v["name"], v["colour"], v["discount"],
                                    v["separate_invoices"], late_fees=v["late_fees"])

        self.ops.run(work, changes=Changes(groups=True), on_done=lambda _r: self.accept(),
                     on_error=lambda exc: self.form.show_error(self, exc))


class GroupsDialog(QDialog):
    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setWindowTitle("Client groups")
        self.model = GroupTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(self._edit)
        add = QPushButton("Add group")
        add.clicked.connect(lambda: GroupEditor(self.ops, None, self).open())
        edit = QPushButton("Edit…")
        edit.clicked.connect(self._edit)
        delete = QPushButton("Delete")
        delete.clicked.connect(self._delete)
        buttons = QHBoxLayout()
        for button in (add, edit, delete):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        layout.addWidget(close)
        self.resize(600, 360)
        self.model.load()
        self.view.setColumnWidth(0, 200)
        self.view.setColumnWidth(1, 90)
        self.view.setColumnWidth(2, 130)
        ops.changed.connect(self._changed)

    def _changed(self, changes: Changes) -> None:
        if changes.groups:
            self.model.load()

    def _selected(self) -> groups.Group | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.group(rows[0].row()) if rows else None

    def _edit(self, *_: object) -> None:
        group = self._selected()
        if group is not None:
            GroupEditor(self.ops, group, self).open()

    def _delete(self) -> None:
        group = self._selected()
        if group is None:
            return
        answer = QMessageBox.question(self, "Delete group", f"Delete the group {group.name}? "
                                      "Its clients stay, in no group.")
        if answer == QMessageBox.StandardButton.Yes:
            self.ops.run(lambda: groups.delete_group(group.id), changes=Changes(groups=True,
                                                                                clients=True))

    def done(self, result: int) -> None:  # noqa: D401 (QDialog.done)
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        super().done(result)
