"""Settings → Email templates (E1): every template by name and language,
the ones changed from the shipped default marked "customised"; an editor
for subject, body, category and disabled; Save, Reset to default, New
custom template, Delete; and the placeholders a template may use.

A template is checked before it is saved (``templates.save_template``
refuses syntax errors, unknown placeholders and anything reaching for
Python internals); a refusal shows beside its field and saves nothing.
Like products, templates are saved by their own Save button: the Settings
window's Cancel does not undo them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billdesk.models import EMAIL_CATEGORIES
from billdesk.views import forms
from billdesk.views.errors import show_error
from billdesk.views.models.email_tables import TemplateColumn, TemplateTableModel, template_label
from billdesk.views.ops import Changes, Operations
from billdesk.views.tables import setup_table


def _placeholder_items(group: str, names: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """What a group of placeholders inserts, and each of its names':
    ``client`` → ``{{ client.first_name }}``…; a list (``invoice.lines``)
    → a loop, and ``{{ line.description }}`` inside it; a single value
    (``days_overdue``) → ``{{ days_overdue }}``."""
    if not names:
        return "{{ " + group + " }}", []
    if "." in group:  # a list: its items' fields are used inside a loop
        item = "line" if group.endswith("lines") else "item"
        loop = "{% for " + item + " in " + group + " %}\n{{ " + item + "." + names[0] + " }}\n{% endfor %}\n"
        return loop, [("{{ " + f"{item}.{n}" + " }}", f"{item}.{n}") for n in names]
    return "", [("{{ " + f"{group}.{n}" + " }}", n) for n in names]


class TemplatesPage(QWidget):
    template_saved = Signal(str, str)  # name, language

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("email_templates_page")
        self.ops = ops
        self.current: Any = None  # the TemplateInfo shown; None for a new custom template
        self.dirty = False
        self._loading = False

        # the list
        self.model = TemplateTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, TemplateColumn.NAME)
        self.view.setObjectName("templates")
        header = self.view.horizontalHeader()
        header.resizeSection(TemplateColumn.LANGUAGE, 40)
        header.resizeSection(TemplateColumn.STATE, 80)
        self.view.setColumnHidden(TemplateColumn.CATEGORY, True)  # the editor shows it
        self.view.setMinimumWidth(260)
        self.new_button = QPushButton("New custom template")
        self.new_button.setObjectName("newTemplate")
        self.new_button.clicked.connect(self.new_template)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteTemplate")
        self.delete_button.setToolTip("Delete this custom template")
        self.delete_button.clicked.connect(self.delete_template)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.view, 1)
        lb = QHBoxLayout()
        lb.addWidget(self.new_button)
        lb.addWidget(self.delete_button)
        lb.addStretch(1)
        ll.addLayout(lb)
        mark = QLabel("Bold: changed from the shipped default (Reset to default brings it back).")
        mark.setWordWrap(True)
        mark.setStyleSheet("color: palette(placeholder-text);")
        ll.addWidget(mark)

        # the editor
        self.form = forms.Form(self)
        editor = QGroupBox("Template")
        self.editor_box = editor
        el = QFormLayout(editor)
        self.name = self.form.add(el, "name", "Name", forms.line("e.g. Maintenance notice", 100)).widget
        self.language = self.form.add(el, "language", "Language", forms.language_combo()).widget
        self.language.setToolTip("Save in another language to add a translation; clients whose "
                                 "language has none get the default one")
        self.category = self.form.add(el, "category", "Copy contacts on", forms.combo(
            [(c.capitalize(), c) for c in EMAIL_CATEGORIES])).widget
        self.category.setToolTip("Contacts who get emails about this are copied on it")
        self.subject = self.form.add(el, "subject", "Subject", forms.line("", 500)).widget
        self.body = QPlainTextEdit()
        self.body.setMinimumHeight(200)
        self.form.add(el, "body", "Body", self.body)
        self.disabled = self.form.add(el, "disabled", "Disabled (never sent)", QCheckBox()).widget

        self.save_button = QPushButton("Save template")
        self.save_button.setObjectName("saveTemplate")
        self.save_button.clicked.connect(self.save)
        self.reset_button = QPushButton("Reset to default")
        self.reset_button.setObjectName("resetTemplate")
        self.reset_button.clicked.connect(self.reset)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Show the stored template again")
        self.revert_button.clicked.connect(lambda: self._show(self.current))
        self.saved_note = QLabel()
        self.saved_note.setObjectName("templateSaved")
        self.saved_note.setStyleSheet("color: #2e7d32;")
        eb = QHBoxLayout()
        eb.addWidget(self.saved_note, 1)
        eb.addWidget(self.revert_button)
        eb.addWidget(self.reset_button)
        eb.addWidget(self.save_button)
        el.addRow(eb)

        # the placeholders
        self.placeholders = QTreeWidget()
        self.placeholders.setObjectName("placeholders")
        self.placeholders.setHeaderHidden(True)
        self.placeholders.setIndentation(14)
        self.placeholders.setMinimumWidth(150)
        self.placeholders.setToolTip("Double-click to insert into the body")
        self.placeholders.itemDoubleClicked.connect(self._insert_placeholder)
        self._fill_placeholders()
        help_box = QGroupBox("Placeholders")
        hl = QVBoxLayout(help_box)
        hl.addWidget(self.placeholders, 1)
        tip = QLabel("Double-click one to put it in the body. A list (invoice lines) "
                     "inserts a loop; {% if … %} works too.")
        tip.setWordWrap(True)
        tip.setStyleSheet("color: palette(placeholder-text);")
        hl.addWidget(tip)

        right = QSplitter(Qt.Orientation.Horizontal)
        right.setChildrenCollapsible(False)
        right.addWidget(editor)
        right.addWidget(help_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([470, 190])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setSizes([280, 660])
        note = QLabel("Templates are saved with their own Save button.")
        note.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(note)

        self.form.edited.connect(self._edited)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        ops.changed.connect(self._changed)
        self.load()
        if self.model.rowCount():
            self.view.selectRow(0)
        else:
            self._show(None)

    # --- the list

    def load(self, select: tuple[str, str] | None = None) -> None:
        keep = select or ((self.current.name, self.current.language) if self.current else None)
        self._loading = True
        try:
            self.model.load()
        finally:
            self._loading = False
        if keep is not None:
            self.select(*keep)

    def select(self, name: str, language: str) -> bool:
        row = self.model.find(name, language)
        if row < 0:
            return False
        self._loading = True
        try:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        finally:
            self._loading = False
        self.view.scrollTo(self.model.index(row, 0))
        if not self.dirty:
            self._show(self.model.row(row))
        return True

    def _changed(self, changes: Changes) -> None:
        if changes.emails or changes.settings:
            self.load()

    def _row_changed(self, current: Any, previous: Any) -> None:
        if self._loading or not current.isValid():
            return
        info = self.model.row(current.row())
        if self.current is not None and info is not None and (
                info.name, info.language) == (self.current.name, self.current.language):
            return
        if self.dirty and not self._may_discard():
            self._loading = True
            try:
                if previous.isValid():
                    self.view.selectionModel().setCurrentIndex(
                        previous, QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows)
                else:
                    self.view.clearSelection()
            finally:
                self._loading = False
            return
        self._show(info)

    def _may_discard(self) -> bool:
        what = template_label(self.current.name) if self.current else "the new template"
        answer = QMessageBox.question(self, "Unsaved template",
                                      f"Discard your changes to {what}?",
                                      QMessageBox.StandardButton.Discard
                                      | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    # --- the editor

    def _show(self, info: Any) -> None:
        """Show a stored template, or an empty custom one (``info`` None)."""
        same = (info is not None and self.current is not None
                and (info.name, info.language) == (self.current.name, self.current.language))
        if not same:
            self.saved_note.clear()
        self.current = info
        if info is None:
            self.editor_box.setTitle("New custom template")
            values = {"name": "", "language": "en", "category": "general", "subject": "",
                      "body": "", "disabled": False}
        else:
            kind = "custom template" if info.kind == "custom" else "built-in template"
            title = f"{template_label(info.name)} — {kind}"
            if info.customised and info.kind != "custom":
                title += " (customised)"
            self.editor_box.setTitle(title)
            values = {"name": info.name, "language": info.language, "category": info.category,
                      "subject": info.subject, "body": info.body, "disabled": info.disabled}
        self.form.set_values(values)
        self.subject.setCursorPosition(0)
        self.form.show_problems([])
        builtin = info is not None and info.kind != "custom"
        self.name.setReadOnly(builtin)
        self.name.setToolTip("Built-in templates keep their name" if builtin else "")
        self.dirty = False
        self._buttons()

    def _buttons(self) -> None:
        info = self.current
        builtin = info is not None and info.kind != "custom"
        self.save_button.setEnabled(self.dirty)
        self.revert_button.setEnabled(self.dirty and info is not None)
        self.reset_button.setEnabled(builtin and info.customised)
        self.reset_button.setVisible(info is None or builtin)
        self.delete_button.setEnabled(info is not None and info.kind == "custom")

    def _edited(self) -> None:
        self.dirty = True
        self.saved_note.clear()
        for name in ("subject", "body", "name"):
            self.form.fields[name].show_problem(None)
        self._buttons()

    def new_template(self) -> None:
        if self.dirty and not self._may_discard():
            return
        self._loading = True
        self.view.clearSelection()
        self._loading = False
        self._show(None)
        self.name.setFocus()

    def _fill_placeholders(self) -> None:
        from billdesk.services import templates

        self.placeholders.clear()
        for group, names in templates.placeholders().items():
            insert, children = _placeholder_items(group, names)
            top = QTreeWidgetItem([group + (" (list)" if insert and names else "")])
            top.setData(0, Qt.ItemDataRole.UserRole, insert)
            top.setToolTip(0, insert or f"{group}: expand to see its fields")
            for text, shown in children:
                child = QTreeWidgetItem([shown])
                child.setData(0, Qt.ItemDataRole.UserRole, text)
                child.setToolTip(0, text + ("  (inside the loop)" if insert else ""))
                top.addChild(child)
            self.placeholders.addTopLevelItem(top)
            top.setExpanded(group in ("client", "invoice"))

    def _insert_placeholder(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        text = item.data(0, Qt.ItemDataRole.UserRole)
        if not text:
            return
        cursor = self.body.textCursor()
        cursor.insertText(text)
        self.body.setTextCursor(cursor)
        self.body.moveCursor(QTextCursor.MoveOperation.NoMove)
        self.body.setFocus()

    # --- writing

    def save(self) -> None:
        from billdesk.services import templates

        v = self.form.values()
        info = self.current
        name = v["name"].strip()
        if not name:
            self.form.fields["name"].show_problem("give the template a name")
            return
        kind = info.kind if info is not None and info.kind != "custom" else "custom"
        language, subject, body = v["language"], v["subject"], v["body"]
        category, disabled = v["category"], v["disabled"]
        self.save_button.setEnabled(False)

        def done(saved: Any) -> None:
            self.dirty = False
            self.load(select=(saved.name, saved.language) if saved is not None
                      else (name, language))
            self._show(self.model.row(self.model.find(name, language)) or self.current)
            self.saved_note.setText("Saved.")
            self.template_saved.emit(name, language)

        def failed(exc: BaseException) -> None:
            self._buttons()
            self.form.show_error(self, exc)

        self.ops.run(lambda: templates.save_template(
            name, language=language, subject=subject, body=body, kind=kind, category=category,
            disabled=disabled), changes=Changes(emails=True), on_done=done, on_error=failed)

    def reset(self) -> None:
        from billdesk.services import templates

        info = self.current
        if info is None or info.kind == "custom":
            return
        answer = QMessageBox.question(
            self, "Reset template",
            f"Put {template_label(info.name)} ({info.language}) back to the text billdesk ships "
            "with? Your changes to it are lost.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        key = (info.name, info.language)

        def done(_r: Any) -> None:
            self.dirty = False
            self.current = None
            self.load(select=key)
            if self.current is None or (self.current.name, self.current.language) != key:
                # a translation removed: the default language's takes over
                self.load(select=(key[0], "en"))
            self.saved_note.setText("Reset to the default.")

        self.ops.run(lambda: templates.reset_template(*key), changes=Changes(emails=True),
                     on_done=done, on_error=lambda exc: show_error(self, exc))

    def delete_template(self) -> None:
        from billdesk.services import templates

        info = self.current
        if info is None or info.kind != "custom":
            return
        answer = QMessageBox.question(self, "Delete template",
                                      f"Delete the template {info.name} ({info.language})?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        key = (info.name, info.language)

        def done(_r: Any) -> None:
            self.dirty = False
            self.current = None
            self.load()
            if self.model.rowCount():
                self.view.selectRow(0)
            else:
                self._show(None)

        self.ops.run(lambda: templates.delete_template(*key), changes=Changes(emails=True),
                     on_done=done, on_error=lambda exc: show_error(self, exc))

    def closeEvent(self, event) -> None:  # noqa: ANN001
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)

