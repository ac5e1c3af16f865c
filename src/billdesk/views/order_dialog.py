"""Place an order for one client (S8), like WHMCS's "Add New Order".

The client is fixed. The product comes from the whole catalogue, hidden
products included (marked so); the billing cycle offers the cycles the
product has a price for in the client's currency (and Free); a custom
price replaces the recurring price; the promotion code is checked as it
is typed and what it does (or why it is refused) shows beside it; the
label is the service's domain, or the domain's name for a domain product;
an addon product asks which service or domain it goes on.

Below, the first invoice as placing the order would write it: its lines,
subtotal, tax and total, with the recurring amount and next due date.
The preview is ``orders.quote_order`` (a read, nothing written); Place
order runs ``orders.place_order`` on the database worker, and a refusal is
shown beside its field with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError, Problem, ValidationFailed
from billdesk.services import catalog, clients, cycles, orders, subscriptions
from billdesk.services.cycles import CYCLE_LABELS
from billdesk.views import fmt, forms
from billdesk.views.billing_settings_tab import hint
from billdesk.views.models.order_tables import QuoteColumn, QuoteLineModel
from billdesk.views.money_dialogs import method_combo
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table

OK_STYLE = "color: #2e7d32;"
BAD_STYLE = forms.PROBLEM_STYLE
# the service's field names, as this form names them
_FIELD_OF = {"name": "domain", "label": "domain", "parent": "parent_id"}


class OrderDialog(QDialog):
    """Place an order for ``client_id``; ``order_placed`` carries its id."""

    order_placed = Signal(int)

    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id = ops, client_id
        client = clients.get_client(client_id)
        self.currency = client.values["currency"]
        self.quote: orders.OrderQuote | None = None
        self.setWindowTitle(f"Place order — {client.display_name}")
        self.form = forms.Form(self)
        self.products = {p.id: p for p in catalog.list_products(include_hidden=True)}
        add = self.form.add

        item = QFormLayout()
        self.product = add(item, "product", "Product *", forms.combo(
            [((f"{p.product_group} › {p.name}" if p.product_group else p.name)
              + (" (hidden)" if p.hidden else ""), p.id) for p in self.products.values()])).widget
        self.product.setMaxVisibleItems(20)
        # start on something sold on its own: an addon needs a service first
        standalone = [i for i, p in enumerate(self.products.values()) if p.type != "addon"]
        if standalone:
            self.product.setCurrentIndex(standalone[0])
        self.cycle = add(item, "cycle", "Billing cycle *", forms.combo([])).widget
        self.domain = add(item, "domain", "Domain / label",
                          forms.line("example.com", subscriptions.LIMITS["label"])).widget
        parents = subscriptions.list_services(client_id, ("service", "domain"))
        self.parent_combo = forms.combo(
            [(f"{p.name}{' – ' + p.label if p.label else ''} (#{p.id})", p.id) for p in parents])
        self.parent_row = add(item, "parent_id", "Addon to *", self.parent_combo)
        self.price = add(item, "price", "Custom price",
                         forms.line("the product's price", 24)).widget
        self.price.setToolTip("The recurring amount, instead of the product's price")
        self.price_hint = hint("")
        self.price_hint.setObjectName("priceHint")
        item.addRow("", self.price_hint)

        billing = QFormLayout()
        promo_row = QWidget()
        row = QHBoxLayout(promo_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.promo = forms.line("a promotion code", 50)
        self.promo.setMinimumWidth(self.promo.fontMetrics().horizontalAdvance("WELCOME2026X") + 24)
        self.promo_status = QLabel()
        self.promo_status.setObjectName("promoStatus")
        self.promo_status.setWordWrap(True)
        row.addWidget(self.promo, 1)
        row.addWidget(self.promo_status, 2)
        add(billing, "promo", "Promotion code", promo_row, self.promo)
        add(billing, "payment_method", "Payment method",
            method_combo(client.values.get("payment_method") or ""))
        self.date = add(billing, "date", "Order date", forms.date_edit()).widget
        self.summary = hint("")
        self.summary.setObjectName("orderSummary")
        billing.addRow("", self.summary)

        self.lines = QuoteLineModel(self)
        self.lines_view = QTableView()
        self.lines_view.setObjectName("quoteLines")
        self.lines_view.setModel(self.lines)
        setup_table(self.lines_view, QuoteColumn.DESCRIPTION)
        self.lines_view.setColumnWidth(QuoteColumn.AMOUNT, 110)
        self.lines_view.setColumnWidth(QuoteColumn.TAXED, 60)
        self.totals: dict[str, QLabel] = {}
        sums = QGridLayout()
        for n, (key, text) in enumerate((("subtotal", "Subtotal"), ("tax", "Tax"),
                                         ("total", "Total"))):
            sums.addWidget(QLabel(text), n, 0)
            label = QLabel("—")
            label.setObjectName(f"quote_{key}")
            sums.addWidget(label, n, 1)
            self.totals[key] = label
        sums.setColumnStretch(0, 1)
        invoice_box = QGroupBox(f"First invoice ({self.currency}), due on the order date")
        invoice_layout = QVBoxLayout(invoice_box)
        invoice_layout.addWidget(self.lines_view, 1)
        invoice_layout.addLayout(sums)

        item_box = QGroupBox("Item")
        item_box.setLayout(item)
        billing_box = QGroupBox("Order")
        billing_box.setLayout(billing)
        columns = QHBoxLayout()
        columns.addWidget(item_box, 1)
        columns.addWidget(billing_box, 1)
        buttons, self.place_button = forms.save_cancel(self, "Place order")
        self.place_button.setObjectName("placeOrderNow")
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(invoice_box, 1)
        layout.addWidget(buttons)
        self.setMinimumSize(860, 560)

        self._item_layout = item
        self.product.currentIndexChanged.connect(lambda _i: self._product_changed())
        self.form.edited.connect(self.refresh)
        self._product_changed()

    # --- following the product
    def chosen_product(self) -> catalog.ProductRecord | None:
        return self.products.get(self.product.currentData())

    def _product_changed(self) -> None:
        product = self.chosen_product()
        kind = orders.KIND_OF_TYPE[product.type] if product else "service"
        self.cycle.blockSignals(True)
        previous = self.cycle.currentData()
        self.cycle.clear()
        allowed = subscriptions.DOMAIN_CYCLES if kind == "domain" else CYCLE_LABELS
        for cycle in CYCLE_LABELS:
            if cycle not in allowed:
                continue
            price = product.price(self.currency, cycle) if product else None
            if price is None and cycle != "free":
                continue
            label = CYCLE_LABELS[cycle]
            self.cycle.addItem(f"{label} — {fmt.money(price[0])}" if price else label, cycle)
        if self.cycle.count() == 0:  # no price in this currency: any cycle, price typed
            for cycle in allowed:
                self.cycle.addItem(CYCLE_LABELS[cycle], cycle)
        index = self.cycle.findData(previous)
        if index < 0:
            index = self.cycle.findData("monthly" if kind != "domain" else "annually")
        self.cycle.setCurrentIndex(max(index, 0))
        self.cycle.blockSignals(False)
        self._item_layout.setRowVisible(self.parent_combo.parentWidget(), kind == "addon")
        self.domain.setPlaceholderText("example.com (required)" if kind == "domain"
                                       else "example.com")
        self.refresh()

    # --- the preview
    def values(self) -> dict[str, Any]:
        """What place_order / quote_order take, as typed."""
        v = self.form.values()
        product = self.chosen_product()
        kind = orders.KIND_OF_TYPE[product.type] if product else "service"
        return {"client_id": self.client_id, "product": v["product"], "cycle": v["cycle"],
                "promo": v["promo"].strip() or None, "price": v["price"].strip() or None,
                "label": v["domain"].strip(),
                "parent_id": v["parent_id"] if kind == "addon" else None,
                "date": v["date"], "payment_method": v["payment_method"] or None}

    def refresh(self) -> None:
        """Quote the order as it stands; show the lines, or what is wrong."""
        v = self.values()
        problems: list[Problem] = []
        quote = None
        if v["product"] is None:
            problems.append(Problem("product", "the catalogue is empty: add a product first"))
        else:
            try:
                quote = orders.quote_order(v["client_id"], v["product"], v["cycle"] or "",
                                           promo=v["promo"], price=v["price"], label=v["label"],
                                           parent_id=v["parent_id"], date=v["date"])
            except BilldeskError as exc:
                found = exc.problems if isinstance(exc, ValidationFailed) else [
                    Problem(exc.field, exc.message)]
                problems += [Problem(_FIELD_OF.get(p.field, p.field), p.message) for p in found]
        self.quote = quote
        self._show_promo(quote, problems)
        self.form.show_problems([p for p in problems if p.field != "promo"])
        self.lines.set_rows(list(quote.lines) if quote else [])
        for key in self.totals:
            self.totals[key].setText(fmt.money(getattr(quote.totals, key)) if quote else "—")
        self._show_summary(quote)
        self.place_button.setEnabled(quote is not None)

    def _show_promo(self, quote: orders.OrderQuote | None, problems: list[Problem]) -> None:
        refusal = next((p.message for p in problems if p.field == "promo"), None)
        self.form.fields["promo"].widget.setProperty("invalid", bool(refusal))
        if refusal:
            self.promo_status.setStyleSheet(BAD_STYLE)
            self.promo_status.setText(refusal)
        elif quote is not None and quote.promo is not None:
            self.promo_status.setStyleSheet(OK_STYLE)
            kind = "every payment" if quote.promo.recurring else "the first payment"
            self.promo_status.setText(f"✓ {quote.promo.value_text} off {kind}: "
                                      f"{fmt.money(quote.discount)} now")
        else:
            self.promo_status.setText("")
        self.promo_status.setToolTip(self.promo_status.text())

    def _show_summary(self, quote: orders.OrderQuote | None) -> None:
        product = self.chosen_product()
        if quote is None:
            self.price_hint.setText("")
            self.summary.setText("")
            return
        self.price_hint.setText(
            f"{product.name}: {fmt.money(quote.price)} "
            f"{CYCLE_LABELS[quote.cycle].lower()}"
            + (f", setup fee {fmt.money(quote.setup_fee)}" if quote.setup_fee else "")
            + (" — hidden from order forms" if product and product.hidden else ""))
        if cycles.is_recurring(quote.cycle):
            text = (f"Then {fmt.money(quote.recurring_amount)} "
                    f"{CYCLE_LABELS[quote.cycle].lower()}, next due "
                    f"{fmt.date(quote.next_due)}.")
        else:
            text = f"{CYCLE_LABELS[quote.cycle]}: nothing recurs."
        self.summary.setText(text + " Placed as Pending; accept the order to activate it.")

    # --- placing
    def save(self) -> None:
        self.refresh()
        if self.quote is None:
            return
        v = self.values()
        client_id = v.pop("client_id")

        def work() -> int:
            return orders.place_order(client_id, v["product"], v["cycle"], promo=v["promo"],
                                      price=v["price"], label=v["label"],
                                      parent_id=v["parent_id"],
                                      payment_method=v["payment_method"], date=v["date"])

        def done(order_id: int) -> None:
            self.order_placed.emit(order_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.place_button.setEnabled(True)
            if isinstance(exc, BilldeskError) and exc.field == "promo":
                self._show_promo(None, [Problem("promo", exc.message)])
                return
            if isinstance(exc, BilldeskError) and not isinstance(exc, ValidationFailed):
                exc = ValidationFailed([Problem(_FIELD_OF.get(exc.field, exc.field),
                                                exc.message)])
            self.form.show_error(self, exc)

        self.place_button.setEnabled(False)
        self.ops.run(work, changes=Changes(orders=True, services=True, billing=True,
                                           client_id=self.client_id),
                     on_done=done, on_error=failed)

    def set_date(self, value: dt.date) -> None:
        self.date.setDate(QDate(value.year, value.month, value.day))

