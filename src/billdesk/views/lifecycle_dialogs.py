"""The client lifecycle dialogs (C7–C11): the confirmation every
destructive action asks first (what will go, from ``lifecycle.impact``,
and that a backup is taken), the Change currency dialog and the Merge
dialog. They read on the GUI thread; the writes go through the window's
database worker."""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError
from billdesk.services import billing_settings, clients, lifecycle, validate
from billdesk.views import fmt
from billdesk.views.client_search import ClientSearch
from billdesk.views.errors import message_for, show_error
from billdesk.views.ops import Changes, Operations

WARNING_STYLE = "color: #c62828;"


def _bullets(lines: list[str]) -> str:
    """The impact as a list; a first line ending in ":" heads it."""
    if not lines:
        return "<i>Nothing else is touched.</i>"
    head = ""
    if len(lines) > 1 and lines[0].endswith(":"):
        head, lines = f"<p>{html.escape(lines[0])}</p>", lines[1:]
    return head + "<ul style='margin-left: -20px'>" + "".join(
        f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def _label(name: str, text: str = "", *, warning: bool = False) -> QLabel:
    """A wrapping label named ``name``; with ``warning`` in the warning colour."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    if warning:
        label.setStyleSheet(WARNING_STYLE)
    return label


def _action_buttons(dialog: QDialog, action_text: str, name: str, on_accept: Callable[[], Any],
                    *, cautious: bool = True) -> tuple[QDialogButtonBox, QPushButton]:
    """The dialog's action button (named ``name``) and Cancel. ``cautious``:
    Cancel is the default, so Enter does not destroy anything."""
    buttons = QDialogButtonBox()
    ok = buttons.addButton(action_text, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setObjectName(name)
    cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    if cautious:
        ok.setAutoDefault(False)  # Enter does not destroy anything, even from here
        cancel.setDefault(True)
    buttons.accepted.connect(on_accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok


def backup_note() -> str:
    """What every destructive action says about the backup it takes first
    (where: File → Backups…, not a long folder path that wraps mid-name)."""
    return ("billdesk takes a backup of the whole book first: File → Backups… lists it "
            "and can put the book back as it was.")


class ConfirmDialog(QDialog):
    """Asks before a destructive action: the question, what will go
    (``Impact.lines``), the backup taken first. ``option`` adds a checkbox
    that changes what will go: (label, the impact when it is ticked)."""

    def __init__(self, title: str, question: str, impact: lifecycle.Impact, action_text: str,
                 parent: QWidget | None = None, *,
                 option: tuple[str, lifecycle.Impact] | None = None,
                 warning: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(title)
        self.impacts = (impact, option[1] if option else impact)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize, None, self)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.question = _label("question", f"<b>{html.escape(question)}</b>")
        self.what = QLabel()
        self.what.setObjectName("impact")
        self.what.setTextFormat(Qt.TextFormat.RichText)
        self.what.setWordWrap(True)
        self.what.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.option: QCheckBox | None = None
        self.backup = _label("backupNote", backup_note())
        text = QVBoxLayout()
        text.addWidget(self.question)
        text.addWidget(QLabel("This will:"))
        text.addWidget(self.what)
        if option is not None:
            self.option = QCheckBox(option[0])
            self.option.setObjectName("option")
            self.option.toggled.connect(self._show_impact)
            text.addWidget(self.option)
        if warning:
            text.addWidget(_label("warning", warning, warning=True))
        text.addSpacing(6)
        text.addWidget(self.backup)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addSpacing(10)
        top.addLayout(text, 1)
        buttons, self.ok = _action_buttons(self, action_text, "confirm", self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
        self._show_impact()

    @property
    def ticked(self) -> bool:
        return self.option is not None and self.option.isChecked()

    def _show_impact(self) -> None:
        self.what.setText(_bullets(self.impacts[1 if self.ticked else 0].lines))


def done_box(parent: QWidget | None, title: str, text: str, details: str = "") -> QMessageBox:
    """A non-blocking note that an action finished (with its backup)."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text,
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("lifecycleDone")
    if details:
        box.setInformativeText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    if parent is None:  # its window is gone: held here until it is closed
        _NOTES.append(box)
        box.finished.connect(lambda _result: _NOTES.remove(box) if box in _NOTES else None)
    box.open()
    return box


_NOTES: list[QMessageBox] = []


def result_lines(result: Any) -> list[str]:
    """What a finished lifecycle action did, in a few lines, with its backup."""
    lines: list[str] = []
    if isinstance(result, lifecycle.MergeResult):
        lines.append(f"Moved: {lifecycle.describe_counts(result.moved)}.")
        if result.credit:
            lines.append(f"Credit moved: {fmt.money(result.credit)}.")
        lines.append("Kept the profile of the merged client." if result.keep == "source"
                     else "Kept this client's profile.")
    elif isinstance(result, lifecycle.CloseResult):
        for items, table, what in (
                (result.invoices_cancelled, "invoice", "cancelled"),
                (result.items_cancelled, "service", "cancelled"),
                (result.recurring_stopped, "recurring_invoice", "stopped"),
                (result.billable_stopped, "billable_item", "no longer invoiced"),
                (result.tickets_closed, "ticket", "closed")):
            if items:
                lines.append(f"{lifecycle.counted(table, len(items))} {what}.")
        if result.credit_returned:
            lines.append(f"{fmt.money(result.credit_returned)} returned to the credit balance.")
        if not lines:
            lines.append("Nothing was open: only the status changed.")
    elif isinstance(result, lifecycle.DeleteResult):
        lines.append(f"Deleted: {lifecycle.describe_counts(result.deleted)}.")
        if result.transactions_kept:
            lines.append(f"{lifecycle.describe_counts({'txn': result.transactions_kept})} kept "
                         f"under the name {result.name}.")
        if result.transactions_deleted:
            lines.append(f"{lifecycle.describe_counts({'txn': result.transactions_deleted})} "
                         "deleted.")
        if result.unlinked:
            lines.append(f"Kept, no longer linked: {lifecycle.describe_counts(result.unlinked)}.")
    elif isinstance(result, lifecycle.AnonymizeResult):
        lines.append(f"Now shown as {result.name}.")
        cleared = {t: n for t, n in result.cleared.items() if n}
        if cleared:
            lines.append(f"Deleted: {lifecycle.describe_counts(cleared)}.")
    path = getattr(result, "backup", None)
    if path:
        lines.append(f"Backup taken first: {Path(path).name} (File → Backups…).")
    if isinstance(result, lifecycle.DeleteResult):
        lines.append("The deletion is in Clients → Activity log.")
    return lines


class CurrencyDialog(QDialog):
    """Change currency (C7): the new code, what converting gives for each
    open amount (invoices, services, recurring invoices, billable items,
    quotes, credit), and the choice: convert at the stored exchange rate
    or change the code only. Either way is logged."""

    changed = Signal(str)  # what was done, for the status bar

    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id = ops, client_id
        record = clients.get_client(client_id)
        self.old = record.values["currency"]
        self.setObjectName("currencyDialog")
        self.setWindowTitle(f"Change currency — #{client_id} {record.display_name}")
        self.preview: lifecycle.CurrencyPreview | None = None

        self.code = QComboBox()
        self.code.setObjectName("newCurrency")
        for code in sorted(billing_settings.currencies()):
            if code != self.old:
                self.code.addItem(code, code)
        # the book's own currency first chosen: the likeliest target
        from billdesk.services import settings

        self.code.setCurrentIndex(max(self.code.findData(settings.default_currency()), 0))
        self.rate = QLabel()
        self.rate.setObjectName("rate")
        form = QFormLayout()
        form.addRow("Current currency:", QLabel(f"<b>{html.escape(self.old)}</b>"))
        form.addRow("New currency:", self.code)
        form.addRow("Exchange rate:", self.rate)

        self.items = QLabel()
        self.items.setObjectName("openAmounts")
        self.items.setTextFormat(Qt.TextFormat.RichText)
        self.items.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.items.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.items)
        scroll.setMinimumHeight(150)
        amounts = QGroupBox("Open amounts")
        QVBoxLayout(amounts).addWidget(scroll)

        self.convert = QRadioButton("Convert the open amounts at the exchange rate")
        self.convert.setObjectName("convert")
        self.code_only = QRadioButton("Change the code only (the amounts keep their figures)")
        self.code_only.setObjectName("codeOnly")
        self.how = QButtonGroup(self)
        self.how.addButton(self.convert)
        self.how.addButton(self.code_only)
        self.convert.setChecked(True)
        self.refused = _label("refused", warning=True)
        note = QLabel("Paid and cancelled invoices keep their currency: they are history. "
                      "The change is in the client's log. Converting takes a backup of the "
                      "whole book first.")
        note.setWordWrap(True)

        buttons, self.ok = _action_buttons(self, "Change currency", "changeCurrency", self.save,
                                           cautious=False)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(amounts, 1)
        layout.addWidget(self.convert)
        layout.addWidget(self.code_only)
        layout.addWidget(self.refused)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(620, 460)
        self.code.currentIndexChanged.connect(self._preview)
        self.how.buttonToggled.connect(lambda *_: self._enable())
        if self.code.count() == 0:
            self.rate.setText("")
            self.items.setText("<i>Add another currency with its rate in Settings → Billing "
                               "first.</i>")
            self._enable()
        else:
            self._preview()

    def _preview(self) -> None:
        code = self.code.currentData()
        if code is None:
            self.preview = None
            self.rate.setText("")
            self.items.setText("")
            self.refused.hide()
            self._enable()
            return
        try:
            self.preview = lifecycle.currency_preview(self.client_id, code)
        except BilldeskError as exc:
            self.preview = None
            self.rate.setText("")
            self.items.setText("")
            self.refused.setText(message_for(exc))
            self.refused.show()
            self.ok.setEnabled(False)
            return
        p = self.preview
        self.rate.setText(f"1 {p.old} = {_rate_text(p.rate)} {p.new} (the stored exchange rates)"
                          if p.rate is not None else f"{p.old} has no exchange rate")
        if p.items:
            rows = "".join(
                f"<tr><td>{html.escape(i.label)}</td>"
                f"<td align='right'>{html.escape(fmt.money(i.before))}</td><td>&nbsp;→&nbsp;</td>"
                f"<td align='right'>{html.escape(fmt.money(i.after))}</td></tr>" for i in p.items)
            self.items.setText(
                f"<table cellspacing='0' cellpadding='3'><tr><th align='left'>Item</th>"
                f"<th align='right'>Now</th><th></th><th align='right'>Converted</th></tr>"
                f"{rows}</table>")
        else:
            self.items.setText("<i>No open amounts: only the currency code changes.</i>")
        self.convert.setEnabled(not p.blocked)
        self.code_only.setEnabled(not p.code_only_blocked)
        if p.blocked and not p.code_only_blocked:
            self.code_only.setChecked(True)
        elif p.code_only_blocked and not p.blocked:
            self.convert.setChecked(True)
        self._enable()

    def _enable(self) -> None:
        p = self.preview
        if p is None:
            self.ok.setEnabled(False)
            return
        refused = p.blocked if self.convert.isChecked() else p.code_only_blocked
        if refused:
            way = "Converting" if self.convert.isChecked() else "Changing the code only"
            self.refused.setText(f"{way} is refused: " + "; ".join(refused) + ".")
        else:
            self.refused.setText("")
        self.refused.setVisible(bool(refused))
        self.ok.setEnabled(not refused)

    def save(self) -> None:
        p = self.preview
        if p is None:
            return
        convert = self.convert.isChecked()
        client_id, code = self.client_id, p.new
        self.ok.setEnabled(False)
        text = (f"Currency changed from {p.old} to {p.new}"
                + (", open amounts converted." if convert else " (code only)."))

        def done(_result: Any) -> None:
            self.changed.emit(text)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.ok.setEnabled(True)
            show_error(self, exc)

        self.ops.run(lambda: lifecycle.change_currency(client_id, code, convert=convert),
                     changes=Changes(clients=True, billing=True, services=True, quotes=True,
                                     billable=True, client_id=client_id),
                     on_done=done, on_error=failed)


MERGE_FIELDS = (("display_name", "Name"), ("company", "Company"), ("email", "Email"),
                ("phone", "Phone"), ("address", "Address"), ("country", "Country"),
                ("currency", "Currency"), ("group", "Group"), ("status", "Status"),
                ("language", "Language"), ("created", "Signed up"))


def _rate_text(rate: Decimal) -> str:
    """An exchange rate to read (six decimals at most; converting uses it whole)."""
    shown = rate.quantize(Decimal("0.000001")) if rate.as_tuple().exponent < -6 else rate
    text = f"{shown:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _profile_value(profile: dict[str, Any], key: str) -> str:
    if key == "country":
        code = profile.get("country") or ""
        return validate.countries().get(code, code)
    if key == "language":
        code = profile.get("language") or ""
        return validate.languages().get(code, code)
    if key == "address":
        parts = [profile.get("address1"), profile.get("address2"),
                 " ".join(x for x in (profile.get("postcode"), profile.get("city")) if x),
                 profile.get("state")]
        return ", ".join(p for p in parts if p)
    value = profile.get(key)
    return "" if value is None else str(value)


class MergeDialog(QDialog):
    """Merge with another client (C8): find the other one by name, company
    or email, see both profiles side by side, pick the profile kept; the
    other client's records move to this client and the other is removed
    (a backup first). Refused, and said so, when the currencies conflict."""

    merged = Signal(object)  # lifecycle.MergeResult

    def __init__(self, ops: Operations, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.client_id = ops, client_id
        self.setObjectName("mergeDialog")
        record = clients.get_client(client_id)
        self.setWindowTitle(f"Merge with another client — #{client_id} {record.display_name}")
        self.preview: lifecycle.MergePreview | None = None
        self.other_id: int | None = None

        intro = QLabel(f"Find the other client. Everything of theirs (invoices, transactions, "
                       f"credit, services, contacts, files, notes, emails…) moves to "
                       f"<b>#{client_id} {html.escape(record.display_name)}</b>, and the other "
                       "client is removed.")
        intro.setWordWrap(True)
        self.finder = ClientSearch(self, name="merge", exclude=client_id,
                                   placeholder="Name, company or email of the other client",
                                   empty="No other client matches “{text}”.")
        self.search, self.results = self.finder.search, self.finder.results
        self.results.setMaximumHeight(self.results.fontMetrics().height() * 7 + 8)
        self.results.currentItemChanged.connect(lambda item, _old: self._pick(item))

        self.compare = QGroupBox("Profiles")
        self.grid = QGridLayout(self.compare)
        self.grid.setHorizontalSpacing(16)
        self.keep_this = QRadioButton()
        self.keep_this.setObjectName("keepThis")
        self.keep_other = QRadioButton()
        self.keep_other.setObjectName("keepOther")
        self.keep = QButtonGroup(self)
        self.keep.addButton(self.keep_this)
        self.keep.addButton(self.keep_other)
        self.keep_this.setChecked(True)
        self.keep.buttonToggled.connect(lambda *_: self._show(self.preview))
        self.grid.addWidget(QLabel("<b>Keep the profile of</b>"), 0, 0)
        self.grid.addWidget(self.keep_this, 0, 1)
        self.grid.addWidget(self.keep_other, 0, 2)
        self.values: dict[tuple[str, int], QLabel] = {}
        for row, (key, label) in enumerate(MERGE_FIELDS, start=1):
            self.grid.addWidget(QLabel(label + ":"), row, 0)
            for column in (1, 2):
                value = QLabel()
                value.setObjectName(f"{'this' if column == 1 else 'other'}_{key}")
                value.setTextFormat(Qt.TextFormat.RichText)  # (escaped: O'Brien, not O&#x27;Brien)
                value.setWordWrap(True)
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.grid.addWidget(value, row, column)
                self.values[(key, column)] = value
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.moves = _label("moves")
        self.conflict = _label("conflict", warning=True)
        self.conflict.hide()
        note = _label("backupNote", backup_note())

        buttons, self.ok = _action_buttons(self, "Merge", "merge", self.save)
        self.ok.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        layout.addWidget(self.compare)
        layout.addWidget(self.moves)
        layout.addWidget(self.conflict)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(720, 640)
        self.search.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show(None)

    # --- the other client
    def choose(self, other_id: int) -> None:
        """Compare with ``other_id`` (what picking it in the results does)."""
        try:
            self.preview = lifecycle.merge_preview(other_id, self.client_id)
        except BilldeskError as exc:
            self.preview = None
            self.other_id = None
            self._show(None)
            self.conflict.setText(message_for(exc))
            self.conflict.show()
            return
        self.other_id = other_id
        self._show(self.preview)

    def _pick(self, item: QListWidgetItem | None) -> None:
        other = ClientSearch.picked(item)
        if other is not None:
            self.choose(int(other))

    def _show(self, preview: lifecycle.MergePreview | None) -> None:
        self.compare.setEnabled(preview is not None)
        into = preview.into if preview else {}
        source = preview.source if preview else {}
        self.keep_this.setText(f"#{self.client_id} (this client)")
        self.keep_other.setText(f"#{self.other_id} (removed)" if preview else "the other client")
        # the profile that goes is dimmed; the currency and status always stay this client's
        gone = 1 if self.keep_source else 2
        for key, _label in MERGE_FIELDS:
            for column, profile in ((1, into), (2, source)):
                text = _profile_value(profile, key)
                dim = column == gone if key not in ("currency", "status", "created") else column == 2
                colour = "#9e9e9e" if dim or not text else ""
                shown = html.escape(text) or "—"
                self.values[(key, column)].setText(
                    f"<span style='color: {colour}'>{shown}</span>" if colour else shown)
        if preview is None:
            self.moves.setText("")
            self.conflict.hide()
            self.ok.setEnabled(False)
            return
        self.moves.setText(f"<b>Moves to #{self.client_id}:</b> "
                           f"{html.escape(lifecycle.describe_counts(preview.counts))}. "
                           f"Then #{self.other_id} is removed. The currency and status stay "
                           f"those of #{self.client_id}.")
        self.conflict.setText(f"Refused: {preview.currency_conflict}."
                              if preview.currency_conflict else "")
        self.conflict.setVisible(bool(preview.currency_conflict))
        self.ok.setEnabled(not preview.currency_conflict)
        self.ok.setText(f"Merge and remove #{self.other_id}")

    # --- merging
    @property
    def keep_source(self) -> bool:
        return self.keep_other.isChecked()

    def save(self) -> None:
        if self.preview is None or self.other_id is None or self.preview.currency_conflict:
            return
        source_id, into_id = self.other_id, self.client_id
        keep = "source" if self.keep_source else "target"
        self.ok.setEnabled(False)
        self.results.setEnabled(False)
        self.search.setEnabled(False)

        def done(result: lifecycle.MergeResult) -> None:
            self.accept()
            self.merged.emit(result)

        def failed(exc: BaseException) -> None:
            self.ok.setEnabled(True)
            self.results.setEnabled(True)
            self.search.setEnabled(True)
            show_error(self, exc)

        self.ops.run(lambda: lifecycle.merge_clients(source_id, into_id, keep=keep),
                     changes=Changes(clients=True, contacts=True, billing=True, services=True,
                                     orders=True, quotes=True, billable=True, emails=True),
                     on_done=done, on_error=failed)
