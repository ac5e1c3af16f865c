"""A client's service groups (S7): the groups in their order with their
services, addons and domains beneath; new, edit, delete and reorder
groups; move items into a group, out of any group, and up or down within
their group. On the invoice a group heads its items unless it is marked
"don't show on invoice"; the order here is the order there.

Every write runs through ``Operations`` (off the UI thread) and the tree
reloads, keeping the selection, when the client's records change."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from billdesk.errors import BilldeskError
from billdesk.models import SERVICE_KINDS
from billdesk.services import clients, cycles, service_groups, subscriptions
from billdesk.services.service_groups import ServiceGroupRecord
from billdesk.services.subscriptions import ServiceRecord
from billdesk.services.text import counted
from billdesk.views import fmt, forms
from billdesk.views.errors import show_error
from billdesk.views.forms import PROBLEM_STYLE
from billdesk.views.models import IdRole
from billdesk.views.ops import Changes, Operations

Index = QModelIndex | QPersistentModelIndex
UNGROUPED = "Not in a group"
_TOP = 0  # internalId of a group row; a service row holds its group's row + 1


class ServiceGroupColumn(IntEnum):
    NAME = 0
    DETAILS = 1
    STATUS = 2
    NEXT_DUE = 3


@dataclass(slots=True)
class _Node:
    """A group (``group`` None: the items in no group) and its items in order."""

    group: ServiceGroupRecord | None
    items: list[ServiceRecord] = field(default_factory=list)


def _item_name(item: ServiceRecord) -> str:
    return f"{item.name} — {item.label}" if item.label else item.name


def _item_details(item: ServiceRecord) -> str:
    kind = subscriptions.KIND_LABELS[item.kind]
    cycle = cycles.CYCLE_LABELS[item.cycle]
    if item.cycle == "free":
        return f"{kind} · {cycle}"
    return f"{kind} · {cycle} · {fmt.money(item.amount)}"


def _group_details(group: ServiceGroupRecord) -> str:
    parts = [group.description.splitlines()[0] if group.description else ""]
    if group.hide_on_invoice:
        parts.append("not shown on invoice")
    return " · ".join(p for p in parts if p)


class ServiceGroupTreeModel(QAbstractItemModel):
    """Two levels: the client's groups in order (then the items in no
    group), each with its services, addons and domains. ``IdRole`` is the
    group's id on a group row (None for "Not in a group") and the item's
    id on an item row."""

    HEADERS = {ServiceGroupColumn.NAME: "Name", ServiceGroupColumn.DETAILS: "Details",
               ServiceGroupColumn.STATUS: "Status", ServiceGroupColumn.NEXT_DUE: "Next due"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._nodes: list[_Node] = []

    def load(self, client_id: int) -> None:
        """The client's groups and items, read afresh."""
        groups = service_groups.list_groups(client_id)
        items = subscriptions.list_services(client_id, SERVICE_KINDS)
        nodes = {g.id: _Node(g) for g in groups}
        loose = _Node(None)
        for item in items:
            nodes.get(item.group_id, loose).items.append(item)
        for node in nodes.values():
            node.items.sort(key=lambda i: (i.position, i.id))
        loose.items.sort(key=lambda i: (SERVICE_KINDS.index(i.kind), i.id))
        self.beginResetModel()
        self._nodes = [nodes[g.id] for g in groups] + [loose]
        self.endResetModel()

    # --- what a row is

    def group_at(self, index: Index) -> ServiceGroupRecord | None:
        """The group of a group row (None for any other row)."""
        if index.isValid() and index.internalId() == _TOP:
            return self._nodes[index.row()].group
        return None

    def item_at(self, index: Index) -> ServiceRecord | None:
        """The service, addon or domain of an item row (None for a group row)."""
        if index.isValid() and index.internalId() != _TOP:
            return self._nodes[index.internalId() - 1].items[index.row()]
        return None

    def groups(self) -> list[ServiceGroupRecord]:
        return [n.group for n in self._nodes if n.group is not None]

    def members(self, group_id: int | None) -> list[ServiceRecord]:
        for node in self._nodes:
            if (node.group.id if node.group else None) == group_id:
                return list(node.items)
        return []

    def group_index(self, group_id: int | None) -> QModelIndex:
        for row, node in enumerate(self._nodes):
            if (node.group.id if node.group else None) == group_id:
                return self.index(row, 0)
        return QModelIndex()

    def item_index(self, item_id: int) -> QModelIndex:
        for row, node in enumerate(self._nodes):
            for n, item in enumerate(node.items):
                if item.id == item_id:
                    return self.index(n, 0, self.index(row, 0))
        return QModelIndex()

    # --- the tree

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: Index | None = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent(), not the tree's
            return QObject.parent(self)
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _TOP)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._nodes)
        if parent.column() == 0 and parent.internalId() == _TOP:
            return len(self._nodes[parent.row()].items)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return list(self.HEADERS.values())[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = index.column()
        if index.internalId() == _TOP:
            node = self._nodes[index.row()]
            group = node.group
            if role == Qt.ItemDataRole.DisplayRole:
                if column == ServiceGroupColumn.NAME:
                    name = group.name if group else UNGROUPED
                    return f"{name} ({len(node.items)})"
                if column == ServiceGroupColumn.DETAILS and group is not None:
                    return _group_details(group)
                return None
            if role == Qt.ItemDataRole.FontRole and column == ServiceGroupColumn.NAME:
                font = QFont()
                font.setBold(group is not None)
                font.setItalic(group is None)
                return font
            if role == Qt.ItemDataRole.ToolTipRole and group is not None and group.description:
                return group.description
            if role == IdRole:
                return group.id if group else None
            return None
        item = self._nodes[index.internalId() - 1].items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ServiceGroupColumn.NAME:
                return _item_name(item)
            if column == ServiceGroupColumn.DETAILS:
                return _item_details(item)
            if column == ServiceGroupColumn.STATUS:
                return item.status
            if column == ServiceGroupColumn.NEXT_DUE:
                return fmt.date(item.next_due) if item.next_due else "—"
            return None
        if role == IdRole:
            return item.id
        return None


class ServiceGroupEditor(QDialog):
    """New group, or edit one: name, description, "don't show on invoice".
    Refusals show beside their field."""

    def __init__(self, ops: Operations, client_id: int, group: ServiceGroupRecord | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.client_id = client_id
        self.group = group
        self.created: int | None = None
        self.setWindowTitle(f"Edit service group {group.name}" if group else "New service group")
        self.form = forms.Form(self)
        layout = QFormLayout()
        self.form.add(layout, "name", "Name *",
                      forms.line("e.g. Shop project, Office", service_groups.NAME_LIMIT))
        description = QPlainTextEdit()
        description.setPlaceholderText("Seen only here, never by the client")
        description.setMaximumHeight(80)
        self.form.add(layout, "description", "Description", description)
        self.form.add(layout, "hide_on_invoice", "Don't show on invoice", QCheckBox())
        self.form.set_values({"name": group.name if group else "",
                              "description": group.description if group else "",
                              "hide_on_invoice": group.hide_on_invoice if group else False})
        hint = QLabel("On an invoice the group's name heads its items, unless it is not shown; "
                      "then they are listed on their own.")
        hint.setWordWrap(True)
        buttons, self.save_button = forms.save_cancel(self, "Create group" if group is None else "")
        box = QVBoxLayout(self)
        box.addLayout(layout)
        box.addWidget(hint)
        box.addWidget(buttons)
        self.setMinimumWidth(440)

    def save(self) -> None:
        v = self.form.values()
        self.form.show_problems([])
        client_id, group = self.client_id, self.group

        def work() -> int:
            if group is None:
                return service_groups.create_group(client_id, v["name"], v["description"],
                                                   v["hide_on_invoice"])
            service_groups.update_group(group.id, name=v["name"], description=v["description"],
                                        hide_on_invoice=v["hide_on_invoice"])
            return group.id

        def done(group_id: int) -> None:
            self.created = group_id
            self.accept()

        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.form.show_error(self, exc)

        self.ops.run(work, changes=Changes(services=True, client_id=client_id), on_done=done,
                     on_error=failed)


class ServiceGroupsDialog(QDialog):
    """Manage a client's service groups (S7)."""

    def __init__(self, client_id: int, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client_id = client_id
        self.ops = ops
        record = clients.get_client(client_id)
        self.setWindowTitle(f"Service groups — #{client_id} {record.display_name}")

        self.model = ServiceGroupTreeModel(self)
        self.view = QTreeView()
        self.view.setObjectName("serviceGroups")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.doubleClicked.connect(self._double_clicked)

        def button(text: str, name: str, slot: Any, tip: str = "") -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.clicked.connect(slot)
            if tip:
                b.setToolTip(tip)
            return b

        self.new_button = button("New group…", "newGroup", self._new)
        self.edit_button = button("Edit…", "editGroup", self._edit, "Rename the group, change "
                                  "its description or whether it shows on invoices")
        self.delete_button = button("Delete", "deleteGroup", self._delete,
                                    "Delete the group; its items stay, in no group")
        self.up_button = button("Move up", "moveUp", lambda: self._move(-1),
                                "Move the selected group, or the selected items within their "
                                "group, up")
        self.down_button = button("Move down", "moveDown", lambda: self._move(1),
                                  "Move the selected group, or the selected items within their "
                                  "group, down")
        self.target = QComboBox()
        self.target.setObjectName("moveTarget")
        self.target.setMinimumContentsLength(16)
        self.move_button = button("Move selected items", "moveItems", self._move_to,
                                  "Put the selected services, addons and domains in this group "
                                  "(at its end), or in no group")

        group_buttons = QHBoxLayout()
        for b in (self.new_button, self.edit_button, self.delete_button, self.up_button,
                  self.down_button):
            group_buttons.addWidget(b)
        group_buttons.addStretch(1)
        move_row = QHBoxLayout()
        move_row.addWidget(QLabel("Move selected items to:"))
        move_row.addWidget(self.target)
        move_row.addWidget(self.move_button)
        move_row.addStretch(1)

        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        intro = QLabel("Each item belongs to at most one group. On invoices the items of a "
                       "group follow its name, in this order.")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(group_buttons)
        layout.addWidget(self.view, 1)
        layout.addLayout(move_row)
        layout.addWidget(self.problem)
        layout.addWidget(close)
        self.resize(760, 520)

        self.view.selectionModel().selectionChanged.connect(self._selection)
        ops.changed.connect(self._changed)
        self.finished.connect(self._disconnect)
        self.reload()
        self.view.header().resizeSection(ServiceGroupColumn.NAME, 280)
        self.view.header().resizeSection(ServiceGroupColumn.DETAILS, 240)

    # --- showing

    def reload(self) -> None:
        """Read the groups and items again, keeping what was selected and
        which groups were collapsed."""
        chosen_groups, chosen_items = self._chosen()
        collapsed = {self.model.group_at(self.model.index(r, 0)).id  # type: ignore[union-attr]
                     for r in range(self.model.rowCount())
                     if self.model.group_at(self.model.index(r, 0)) is not None
                     and not self.view.isExpanded(self.model.index(r, 0))}
        self.model.load(self.client_id)
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            group = self.model.group_at(index)
            self.view.setExpanded(index, group is None or group.id not in collapsed)
        self._select(chosen_groups, chosen_items)
        self._fill_targets()
        self._selection()

    def _fill_targets(self) -> None:
        current = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for group in self.model.groups():
            self.target.addItem(group.name, group.id)
        self.target.addItem("(no group)", None)
        index = self.target.findData(current)
        self.target.setCurrentIndex(index if current is not None and index >= 0 else 0)
        self.target.blockSignals(False)

    def _chosen(self) -> tuple[list[int | None], list[int]]:
        """The selected group rows (group ids; None: "Not in a group") and
        item ids, in tree order."""
        groups: list[int | None] = []
        items: list[int] = []
        for index in self._selected_rows():
            item = self.model.item_at(index)
            if item is not None:
                items.append(item.id)
            else:
                group = self.model.group_at(index)
                groups.append(group.id if group else None)
        return groups, items

    def _selected_rows(self) -> list[QModelIndex]:
        rows = self.view.selectionModel().selectedRows()

        def order(index: QModelIndex) -> tuple[int, int]:
            parent = index.parent()
            return (parent.row(), index.row()) if parent.isValid() else (index.row(), -1)

        return sorted(rows, key=order)

    def _select(self, groups: list[int | None], items: list[int]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = (selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        first: QModelIndex | None = None
        for index in ([self.model.group_index(g) for g in groups]
                      + [self.model.item_index(i) for i in items]):
            if index.isValid():
                selection.select(index, flags)
                first = first or index
        if first is not None:
            selection.setCurrentIndex(first, selection.SelectionFlag.NoUpdate)
            self.view.scrollTo(first)

    def _selection(self, *_: object) -> None:
        groups, items = self._chosen()
        one_group = len(groups) == 1 and not items and groups[0] is not None
        self.edit_button.setEnabled(one_group)
        self.delete_button.setEnabled(one_group)
        self.move_button.setEnabled(bool(items) and not groups)
        self.up_button.setEnabled(self._can_move(-1))
        self.down_button.setEnabled(self._can_move(1))

    def _can_move(self, step: int) -> bool:
        groups, items = self._chosen()
        if groups and not items and len(groups) == 1 and groups[0] is not None:
            ids = [g.id for g in self.model.groups()]
            at = ids.index(groups[0]) + step
            return 0 <= at < len(ids)
        if items and not groups:
            home = self._home(items)
            if home is None:
                return False
            members = [m.id for m in self.model.members(home)]
            places = [members.index(i) for i in items]
            return (min(places) > 0) if step < 0 else (max(places) < len(members) - 1)
        return False

    def _home(self, items: list[int]) -> int | None:
        """The one group all these items are in (None: not all in one group)."""
        homes = {self.model.item_at(self.model.item_index(i)).group_id  # type: ignore[union-attr]
                 for i in items}
        return homes.pop() if len(homes) == 1 else None

    def _changed(self, changes: Changes) -> None:
        if changes.touches(self.client_id):
            self.reload()

    def _disconnect(self) -> None:
        try:
            self.ops.changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass

    def _show_problem(self, text: str | None) -> None:
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    # --- writing

    def _run(self, work: Any, *, select: tuple[list[int | None], list[int]] | None = None) -> None:
        """One write for this client; the tree reloads (and selects
        ``select``) when it is done, problems show under the tree."""
        self._show_problem(None)

        def done(_result: Any) -> None:
            self.reload()
            if select is not None:
                self._select(*select)
                self._selection()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, BilldeskError):
                self._show_problem(exc.message)
                self.reload()
            else:
                show_error(self, exc)

        self.ops.run(work, changes=Changes(services=True, client_id=self.client_id),
                     on_done=done, on_error=failed)

    def _new(self) -> None:
        editor = ServiceGroupEditor(self.ops, self.client_id, None, self)

        def created() -> None:
            self.reload()
            self._select([editor.created], [])
            self._selection()

        editor.accepted.connect(created)
        editor.open()

    def _edit(self) -> None:
        groups, items = self._chosen()
        if len(groups) != 1 or items or groups[0] is None:
            return
        group = self.model.group_at(self.model.group_index(groups[0]))
        ServiceGroupEditor(self.ops, self.client_id, group, self).open()

    def _double_clicked(self, index: QModelIndex) -> None:
        if self.model.group_at(index) is not None:
            self._edit()

    def _delete(self) -> None:
        groups, items = self._chosen()
        if len(groups) != 1 or items or groups[0] is None:
            return
        group = self.model.group_at(self.model.group_index(groups[0]))
        assert group is not None
        held = (f" Its {counted(group.services, 'item stays', 'items stay')}, in no group." if group.services
                else "")
        answer = QMessageBox.question(self, "Delete service group",
                                      f"Delete the service group {group.name}?{held}")
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: service_groups.delete_group(group.id))

    def _move(self, step: int) -> None:
        if not self._can_move(step):
            return
        groups, items = self._chosen()
        if groups:
            ids = [g.id for g in self.model.groups()]
            at = ids.index(groups[0])
            ids[at], ids[at + step] = ids[at + step], ids[at]
            client_id = self.client_id
            self._run(lambda: service_groups.reorder_groups(client_id, ids), select=(groups, []))
            return
        home = self._home(items)
        members = [m.id for m in self.model.members(home)]
        chosen = [m for m in members if m in set(items)]  # in their order in the group
        if step < 0:
            position = members.index(chosen[0]) - 1
        else:  # after the first other member below the last chosen one
            position = members.index(chosen[-1]) + 1 - len(chosen) + 1
        self._run(lambda: service_groups.move_services(chosen, home, position),
                  select=([], chosen))

    def _move_to(self) -> None:
        groups, items = self._chosen()
        if not items or groups:
            return
        target = self.target.currentData()
        self._run(lambda: service_groups.move_services(items, target), select=([], items))
