"""The Products page of the Settings window (S1): the catalogue as a table,
with Add, Edit and Delete. A product is edited in its own dialog: name,
type, group, description, taxed and hidden, and a price grid with one row
per billing cycle (price and setup fee) in a chosen currency; a blank price
means the cycle is not offered.

Products are written when their dialog saves (on the database worker, in
one transaction), not by the Settings window's Save: the catalogue is data,
not a setting. A refusal is shown beside its field and writes nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.services import billing_settings, catalog, settings
from billdesk.services.catalog import PRICED_CYCLES, ProductRecord
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.views import forms
from billdesk.views.billing_settings_tab import button, button_column, hint
from billdesk.views.models.product_table import ProductColumn, ProductTableModel
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table

FIELDS = ("name", "type", "group", "description", "taxed", "hidden")


def _holder(widget: QWidget, field: forms.Field) -> QWidget:
    """The widget with its problem under it."""
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(widget)
    box.addWidget(field.problem)
    return holder


class ProductDialog(QDialog):
    """One product; checks as you type, each problem beside its field."""

    product_saved = Signal(int)  # the product's id, after the worker wrote it

    def __init__(self, ops: Operations, product: ProductRecord | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.product = product
        self.setWindowTitle(f"Edit {product.name}" if product else "New product")
        self.form = forms.Form(self)
        self.default_currency = settings.default_currency()

        details = QFormLayout()
        self.form.add(details, "name", "Name *", forms.line("e.g. Web hosting S",
                                                            catalog.NAME_LIMIT))
        self.form.add(details, "type", "Type", forms.combo(
            [(label, value) for value, label in catalog.TYPE_LABELS.items()]))
        groups = sorted({p.product_group for p in catalog.list_products() if p.product_group},
                        key=str.casefold)
        group = forms.combo([("", "")] + [(g, g) for g in groups], editable=True)
        group.lineEdit().setPlaceholderText("e.g. Shared hosting (optional)")
        group.lineEdit().setMaxLength(catalog.GROUP_LIMIT)
        self.form.add(details, "group", "Group", group)
        description = QPlainTextEdit()
        description.setPlaceholderText("Shown on order forms")
        description.setFixedHeight(description.fontMetrics().height() * 4 + 12)
        self.form.add(details, "description", "Description", description)
        self.form.add(details, "taxed", "Charge tax on it", QCheckBox())
        self.form.add(details, "hidden", "Hidden (left out of order forms)", QCheckBox())

        self._grid: dict[str, dict[str, tuple[str, str]]] = {}  # currency → cycle → texts
        for (code, cycle), (amount, fee) in (product.prices.items() if product else ()):
            self._grid.setdefault(code, {})[cycle] = (str(amount), str(fee) if fee else "")
        self.shown_currency = (self.default_currency if product is None or not product.prices
                               or self.default_currency in self._grid else product.currencies()[0])
        prices = self._price_box(sorted(set(billing_settings.currencies()) | set(self._grid)))

        self.form.set_values({
            "name": product.name if product else "", "type": product.type if product else "hosting",
            "group": product.product_group if product else "",
            "description": product.description if product else "",
            "taxed": product.taxed if product else False,
            "hidden": product.hidden if product else False})
        self._show_grid()
        self.form.edited.connect(self.check)

        buttons, self.save_button = forms.save_cancel(self)
        left = QVBoxLayout()
        left.addLayout(details)
        left.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addWidget(prices, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(buttons)
        self.setMinimumWidth(820)

    # --- the price grid
    def _price_box(self, currencies: list[str]) -> QGroupBox:
        box = QGroupBox("Prices")
        top = QFormLayout()
        self.currency_combo = forms.combo([(code, code) for code in currencies])
        currency = forms.Field("currency", "Currency", self.currency_combo)
        self.form.fields["currency"] = currency
        self.currency_combo.setCurrentIndex(max(self.currency_combo.findData(self.shown_currency), 0))
        self.currency_combo.currentIndexChanged.connect(self._switch_currency)
        top.addRow("Currency", _holder(self.currency_combo, currency))

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.addWidget(QLabel("<b>Cycle</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Price</b>"), 0, 1)
        grid.addWidget(QLabel("<b>Setup fee</b>"), 0, 2)
        self.amount_edits: dict[str, QLineEdit] = {}
        self.fee_edits: dict[str, QLineEdit] = {}
        for row, cycle in enumerate(PRICED_CYCLES, start=1):
            grid.addWidget(QLabel(CYCLE_LABELS[cycle]), row, 0)
            for column, name, edits, placeholder in (
                    (1, cycle, self.amount_edits, "not offered"),
                    (2, f"{cycle}_setup_fee", self.fee_edits, "0")):
                edit = forms.line(placeholder, 24)
                field = forms.Field(name, f"{CYCLE_LABELS[cycle]} {'price' if column == 1 else 'setup fee'}",
                                    edit)
                self.form.fields[name] = field
                edit.textChanged.connect(self.form.edited)
                edits[cycle] = edit
                grid.addWidget(_holder(edit, field), row, column)
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(hint("Leave a price blank when the cycle is not offered. The setup fee "
                              "is charged once, with the first invoice. Each currency has its own "
                              "prices: choose another currency to set them."))
        layout.addStretch(1)
        return box

    def _shown_texts(self) -> dict[str, tuple[str, str]]:
        return {cycle: (self.amount_edits[cycle].text().strip(), self.fee_edits[cycle].text().strip())
                for cycle in PRICED_CYCLES}

    def _show_grid(self) -> None:
        shown = self._grid.get(self.shown_currency, {})
        for cycle in PRICED_CYCLES:
            amount, fee = shown.get(cycle, ("", ""))
            for edit, text in ((self.amount_edits[cycle], amount), (self.fee_edits[cycle], fee)):
                edit.blockSignals(True)
                edit.setText(text)
                edit.blockSignals(False)

    def _switch_currency(self) -> None:
        """Keep the prices typed for the currency shown and show another's.
        Refused while the prices shown have a problem (fix them first)."""
        code = self.currency_combo.currentData()
        if code == self.shown_currency:
            return
        if self._price_problems():
            self.currency_combo.blockSignals(True)
            self.currency_combo.setCurrentIndex(self.currency_combo.findData(self.shown_currency))
            self.currency_combo.blockSignals(False)
            self.form.fields["currency"].show_problem(
                f"Fix the {self.shown_currency} prices before choosing another currency")
            return
        self._grid[self.shown_currency] = self._shown_texts()
        self.shown_currency = code
        self._show_grid()
        self.check()

    @staticmethod
    def _prices(texts: dict[str, tuple[str, str]]) -> dict[str, tuple[str | None, str | None]]:
        """What the service reads: a blank price is a cycle not offered."""
        return {cycle: (amount or None, fee or None) for cycle, (amount, fee) in texts.items()}

    def price_table(self) -> dict[str, dict[str, tuple[str | None, str | None]]]:
        """Every currency's prices as typed; each replaces that currency's
        stored prices."""
        texts = {**self._grid, self.shown_currency: self._shown_texts()}
        return {code: self._prices(cycles) for code, cycles in texts.items()}

    # --- checking and saving
    def _values(self) -> dict[str, Any]:
        return self.form.values(FIELDS)

    def _problems(self) -> list[Any]:
        v = self._values()
        return catalog.product_problems(
            v["name"], v["type"], v["group"], v["description"],
            product_id=self.product.id if self.product else None,
            prices=self._prices(self._shown_texts()), currency=self.shown_currency)

    def _price_problems(self) -> list[Any]:
        names = {"currency", "prices", "setup_fee"} | set(PRICED_CYCLES) | {
            f"{c}_setup_fee" for c in PRICED_CYCLES}
        return [p for p in self._problems() if p.field in names]

    def check(self) -> bool:
        problems = self._problems()
        self.form.show_problems(problems)
        return not problems

    def save(self) -> None:
        if not self.check():
            return
        v = self._values()
        table = self.price_table()
        product = self.product
        fields = {"name": v["name"], "type": v["type"], "group": v["group"],
                  "description": v["description"], "taxed": v["taxed"], "hidden": v["hidden"]}

        def work() -> int:
            if product is None:
                return catalog.add_product(price_table=table, **fields)
            catalog.update_product(product.id, price_table=table, **fields)
            return product.id

        def done(product_id: int) -> None:
            self.product_saved.emit(product_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.save_button.setEnabled(False)
        self.ops.run(work, changes=Changes(), on_done=done, on_error=failed)


class ProductsPage(QWidget):
    """The catalogue: a table of products with Add, Edit and Delete."""

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("products_page")
        self.ops = ops
        self.model = ProductTableModel(self)
        self.view = QTableView()
        self.view.setObjectName("products")
        self.view.setModel(self.model)
        setup_table(self.view, ProductColumn.NAME)
        header = self.view.horizontalHeader()  # (a catalogue is short: fitting is cheap)
        for column in (ProductColumn.TYPE, ProductColumn.GROUP, ProductColumn.OTHER):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.view.doubleClicked.connect(self.edit_product)
        self.add_button = button("Add product…", "add_product")
        self.add_button.clicked.connect(self.add_product)
        self.edit_button = button("Edit…", "edit_product")
        self.edit_button.clicked.connect(self.edit_product)
        self.delete_button = button("Delete", "delete_product")
        self.delete_button.clicked.connect(self.delete_product)
        self.editor: ProductDialog | None = None  # the last one opened

        row = QHBoxLayout()
        row.addWidget(self.view, 1)
        row.addLayout(button_column(self.add_button, self.edit_button, self.delete_button))
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(hint("What you sell, with a price per billing cycle and currency. "
                              "Products are saved as soon as their dialog saves; the Settings "
                              "window's Cancel does not undo them. Hidden products are left out "
                              "of order forms."))
        self.view.selectionModel().selectionChanged.connect(self._enable_buttons)
        self.reload()
        for column, width in ((ProductColumn.NAME, 160), (ProductColumn.TYPE, 90),
                              (ProductColumn.GROUP, 110), (ProductColumn.MONTHLY, 100),
                              (ProductColumn.ANNUALLY, 100), (ProductColumn.HIDDEN, 55)):
            self.view.setColumnWidth(column, width)

    def reload(self, select: int | None = None) -> None:
        self.model.load(settings.default_currency())
        row = self.model.row_of(select) if select is not None else None
        if row is not None:
            self.view.selectRow(row)
        self._enable_buttons()

    def selected(self) -> ProductRecord | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.product(rows[0].row()) if rows else None

    def _enable_buttons(self) -> None:
        chosen = self.selected() is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _open(self, product: ProductRecord | None) -> None:
        dialog = ProductDialog(self.ops, product, self)
        dialog.product_saved.connect(self.reload)
        dialog.open()
        self.editor = dialog

    def add_product(self) -> None:
        self._open(None)

    def edit_product(self, *_: object) -> None:
        product = self.selected()
        if product is not None:
            self._open(catalog.get_product(product.id))

    def delete_product(self) -> None:
        product = self.selected()
        if product is None:
            return
        answer = QMessageBox.question(
            self, "Delete product", f"Delete the product {product.name} and its prices? Services "
            "already sold keep their name and amounts.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ops.run(lambda: catalog.delete_product(product.id), changes=Changes(),
                     on_done=lambda _n: self.reload())
