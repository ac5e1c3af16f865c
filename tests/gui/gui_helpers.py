"""Helpers for the GUI tests: wait for a widget, find the one shown, click
and type as a user would. Fixtures are in conftest.py."""

from __future__ import annotations

from PySide6.QtCore import Qt


def wait_for(qtbot, find, timeout: int = 5000):  # noqa: ANN001, ANN201
    """Wait until ``find()`` returns something true, and return it."""
    found: list = []

    def check() -> None:
        value = find()
        assert value
        found.append(value)

    qtbot.waitUntil(check, timeout=timeout)
    return found[-1]


def visible(parent, kind):  # noqa: ANN001, ANN201
    """The one visible child of ``parent`` of that kind; None if none or several."""
    found = [w for w in parent.findChildren(kind) if w.isVisible()]
    return found[0] if len(found) == 1 else None


def click(qtbot, widget) -> None:  # noqa: ANN001
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot, widget, text: str) -> None:  # noqa: ANN001
    widget.clear()
    qtbot.keyClicks(widget, text)


def shown(qtbot, widget):  # noqa: ANN001, ANN201
    """Show a widget qtbot closes at the end of the test; wait until it is on screen."""
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tree(dialog) -> list[tuple[str, list[str]]]:  # noqa: ANN001
    """What a service groups dialog's tree shows: each top row's title and
    its items' names."""
    model = dialog.model
    out = []
    for row in range(model.rowCount()):
        top = model.index(row, 0)
        out.append((top.data(), [model.index(n, 0, top).data() for n in range(model.rowCount(top))]))
    return out
