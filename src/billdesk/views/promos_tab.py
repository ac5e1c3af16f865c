"""Promotion codes (S8): the Promotions page of the Settings window, a
table of codes with Add, Edit and Delete, and the dialog for one code.

A code is a percent or a fixed amount off, for chosen products and billing
cycles (none chosen: all), on the first payment only or on every renewal,
between optional start and end dates, at most N times (0: no limit).
Typing is checked as it goes (``promos.promo_problems``), each problem
beside its field; saving runs on the database worker and reports
``Changes(products=True)``. Like products, codes are saved when their
dialog saves (the Settings window's Cancel does not undo them)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import catalog, promos
from billdesk.services.catalog import PRICED_CYCLES
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.services.promos import PromoRecord
from billdesk.views import forms
from billdesk.views.billing_settings_tab import button, button_column, hint
from billdesk.views.errors import show_error
from billdesk.views.models import SortRole
from billdesk.views.models.order_tables import PromoColumn, PromoTableModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.service_editor import OptionalDate
from billdesk.views.tables import setup_table

# the service's field names, as this form names them
_FIELD_OF = {"percent": "value", "fixed": "value", "start": "start_date", "until": "end_date",
             "max-uses": "max_uses"}


class PromoDialog(QDialog):
    """Add (``promo`` None) or edit one promotion code."""

    promo_saved = Signal(int)

    def __init__(self, ops: Operations, promo: PromoRecord | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.promo = ops, promo
        self.setWindowTitle("Add promotion code" if promo is None else f"Edit {promo.code}")
        self.form = forms.Form(self)
        add = self.form.add
        layout = QFormLayout()
        self.code = add(layout, "code", "Code *", forms.line("e.g. SPRING26",
                                                              promos.CODE_LIMIT)).widget
        self.kind = add(layout, "kind", "Type", forms.combo([("Percent off", "percent"),
                                                             ("Fixed amount off", "fixed")])).widget
        self.value = add(layout, "value", "Value *", forms.line("10", 24)).widget
        self.value_hint = hint("")
        layout.addRow("", self.value_hint)
        self.recurring = add(layout, "recurring", "Recurring: off every renewal too, not only "
                                                  "the first payment", QCheckBox()).widget
        cycles_row = QWidget()
        grid = QGridLayout(cycles_row)
        grid.setContentsMargins(0, 0, 0, 0)
        self.cycle_boxes: dict[str, QCheckBox] = {}
        for n, cycle in enumerate(PRICED_CYCLES):
            box = QCheckBox(CYCLE_LABELS[cycle])
            box.setObjectName(f"cycle_{cycle}")
            box.toggled.connect(self.form.edited)
            grid.addWidget(box, n // 4, n % 4)
            self.cycle_boxes[cycle] = box
        layout.addRow("Cycles (none: all)", cycles_row)
        self.product_list = QListWidget()
        self.product_list.setObjectName("products")
        self.product_list.setMinimumHeight(110)
        for product in catalog.list_products(include_hidden=True):
            item = QListWidgetItem(product.name + (" (hidden)" if product.hidden else ""))
            item.setData(Qt.ItemDataRole.UserRole, product.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.product_list.addItem(item)
        self.product_list.itemChanged.connect(lambda _item: self.form.edited.emit())
        layout.addRow("Products (none: all)", self.product_list)
        self.start = OptionalDate("Starts on")
        self.start.setObjectName("start")
        add(layout, "start_date", "Start date", self.start, self.start.date)
        self.start.toggled.connect(self.form.edited)
        self.end = OptionalDate("Ends on")
        self.end.setObjectName("end")
        add(layout, "end_date", "End date", self.end, self.end.date)
        self.end.toggled.connect(self.form.edited)
        self.max_uses = add(layout, "max_uses", "Maximum uses",
                            forms.line("0: no limit", 9)).widget
        self.uses_hint = hint("")
        layout.addRow("", self.uses_hint)
        self.notes = add(layout, "notes", "Notes", forms.line("only you see these", 500)).widget
        buttons, self.save_button = forms.save_cancel(
            self, "Add code" if promo is None else "Save")
        outer = QVBoxLayout(self)
        outer.addLayout(layout)
        outer.addWidget(buttons)
        self.setMinimumWidth(560)
        if promo is not None:
            self._show(promo)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.form.edited.connect(self.check)
        self._kind_changed()

    def _show(self, p: PromoRecord) -> None:
        self.form.set_values({"code": p.code, "kind": p.kind, "value": f"{p.value:f}",
                              "recurring": p.recurring, "max_uses": str(p.max_uses or ""),
                              "notes": p.notes})
        for cycle, box in self.cycle_boxes.items():
            box.setChecked(cycle in p.cycles)
        for row in range(self.product_list.count()):
            item = self.product_list.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                               in p.product_ids else Qt.CheckState.Unchecked)
        self.start.set_value(p.start_date)
        self.end.set_value(p.end_date)
        self.uses_hint.setText(f"Used {p.uses} time{'' if p.uses == 1 else 's'} so far.")

    def _kind_changed(self) -> None:
        percent = self.kind.currentData() == "percent"
        self.value.setPlaceholderText("10" if percent else "5.00")
        self.value_hint.setText("Percent of the first payment (and of each renewal when "
                                "recurring)." if percent else
                                "An amount in the ordering client's currency; never more "
                                "than what it applies to.")

    def chosen_products(self) -> list[int]:
        return [self.product_list.item(row).data(Qt.ItemDataRole.UserRole)
                for row in range(self.product_list.count())
                if self.product_list.item(row).checkState() == Qt.CheckState.Checked]

    def values(self) -> dict[str, Any]:
        v = self.form.values()
        return {"code": v["code"], "kind": v["kind"], "value": v["value"],
                "recurring": v["recurring"], "products": self.chosen_products(),
                "cycles": [c for c, box in self.cycle_boxes.items() if box.isChecked()],
                "start_date": self.start.value(), "end_date": self.end.value(),
                "max_uses": v["max_uses"].strip() or "0", "notes": v["notes"]}

    def problems(self) -> list[Problem]:
        v = self.values()
        if self.promo is not None:
            v["promo_id"] = self.promo.id
        return [Problem(_FIELD_OF.get(p.field, p.field), p.message)
                for p in promos.promo_problems(**v)]

    def check(self) -> bool:
        problems = self.problems()
        self.form.show_problems(problems)
        return not problems

    def save(self) -> None:
        if not self.check():
            return
        v = self.values()
        kind, value = v.pop("kind"), v.pop("value")
        v[kind] = value
        promo_id = self.promo.id if self.promo is not None else None

        def work() -> int:
            if promo_id is None:
                return promos.add_promo(v.pop("code"), **v)
            return promos.update_promo(promo_id, **v).id

        def done(saved: int) -> None:
            self.promo_saved.emit(saved)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            if isinstance(exc, BilldeskError):
                found = exc.problems if isinstance(exc, ValidationFailed) else [
                    Problem(exc.field, exc.message)]
                exc = ValidationFailed([Problem(_FIELD_OF.get(p.field, p.field), p.message)
                                        for p in found])
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(products=True), on_done=done, on_error=failed)


class PromosPage(QWidget):
    """Every promotion code with Add, Edit and Delete (a Settings page)."""

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promos_page")
        self.ops = ops
        self.model = PromoTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = QTableView()
        self.view.setObjectName("promos")
        self.view.setModel(self.proxy)
        setup_table(self.view, PromoColumn.PRODUCTS)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(PromoColumn.CODE, Qt.SortOrder.AscendingOrder)
        for column, width in ((PromoColumn.CODE, 120), (PromoColumn.VALUE, 90),
                              (PromoColumn.RECURRING, 110), (PromoColumn.CYCLES, 120),
                              (PromoColumn.START, 90), (PromoColumn.END, 90),
                              (PromoColumn.USES, 70)):
            self.view.setColumnWidth(column, width)
        self.view.doubleClicked.connect(lambda _index: self.edit_promo())
        self.add_button = button("Add code…", "add_promo")
        self.add_button.clicked.connect(self.add_promo)
        self.edit_button = button("Edit…", "edit_promo")
        self.edit_button.clicked.connect(self.edit_promo)
        self.delete_button = button("Delete", "delete_promo")
        self.delete_button.clicked.connect(self.delete_promo)
        self.editor: PromoDialog | None = None  # the last one opened
        row = QHBoxLayout()
        row.addWidget(self.view, 1)
        row.addLayout(button_column(self.add_button, self.edit_button, self.delete_button))
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(hint("Codes given when placing an order: a percent or an amount off, "
                              "for chosen products and cycles, between dates, a number of "
                              "times. Expired and used-up codes are greyed. A code is saved as "
                              "soon as its dialog saves."))
        self.view.selectionModel().selectionChanged.connect(self._enable_buttons)
        self.reload()

    def reload(self, select: int | None = None) -> None:
        self.model.load()
        row = self.model.row_of(select) if select is not None else None
        if row is not None:
            self.view.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())
        self._enable_buttons()

    def selected(self) -> PromoRecord | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(self.proxy.mapToSource(rows[0]).row()) if rows else None

    def _enable_buttons(self) -> None:
        chosen = self.selected() is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _open(self, promo: PromoRecord | None) -> None:
        dialog = PromoDialog(self.ops, promo, self)
        dialog.promo_saved.connect(self.reload)
        dialog.open()
        self.editor = dialog

    def add_promo(self) -> None:
        self._open(None)

    def edit_promo(self) -> None:
        promo = self.selected()
        if promo is None:
            return
        try:
            self._open(promos.get_promo(promo.id))  # as stored now
        except BilldeskError as exc:
            show_error(self, exc)

    def delete_promo(self) -> None:
        promo = self.selected()
        if promo is None:
            return
        answer = QMessageBox.question(
            self, "Delete promotion code", f"Delete the promotion code {promo.code}? Orders "
            "placed with it keep their discount and the code's text.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        promo_id = promo.id
        self.ops.run(lambda: promos.delete_promo(promo_id), changes=Changes(products=True),
                     on_done=lambda _n: self.reload(), on_error=lambda exc: show_error(self, exc))
