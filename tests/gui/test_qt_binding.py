"""PySide6 6.12.0 drops one reference to every Python slot's return value,
which kills the process (None/True/False deallocated). pyproject.toml
excludes it; this test fails loudly if such a build comes back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QLineEdit


class _Emitter(QObject):
    fired = Signal()


def _refs() -> int:
    return sys.getrefcount(None) + sys.getrefcount(True) + sys.getrefcount(False)


def test_slots_do_not_leak_or_steal_references(qtbot):  # noqa: ANN001
    line, box, emitter = QLineEdit(), QCheckBox(), _Emitter()
    qtbot.addWidget(line)
    qtbot.addWidget(box)
    line.textChanged.connect(lambda text: None)
    box.toggled.connect(lambda on: None)
    emitter.fired.connect(lambda: None)
    before = _refs()
    for i in range(200):
        line.setText(str(i))
        box.setChecked(i % 2 == 0)
        emitter.fired.emit()
    assert abs(_refs() - before) < 50
