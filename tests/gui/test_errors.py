"""Something went wrong (JOURNEYS.md 7): a refused input says what and where;
an unexpected error shows what happened and where the log is."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QMessageBox

from billdesk import paths
from billdesk.errors import InvalidInput, Problem, ValidationFailed
from billdesk.views import errors


def test_crash_dialog_names_the_error_and_the_log_file(qtbot, monkeypatch):  # noqa: ANN001
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    errors.install_excepthook()
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert len(shown) == 1
    box = shown[0]
    assert "RuntimeError: disk on fire" in box.informativeText()
    assert str(paths.log_file()) in box.informativeText()
    assert "Nothing you saved is lost" in box.text()
    assert "try it once more" in box.informativeText()  # what to do next (JOURNEYS 7)
    assert "restart billdesk" in box.informativeText()
    assert "disk on fire" in box.detailedText()


def test_refused_input_message_names_the_field(qtbot, monkeypatch):  # noqa: ANN001
    seen: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: seen.append(text))
    errors.show_error(None, InvalidInput("email", "'x' is not a valid email address"))
    errors.show_error(None, ValidationFailed([Problem("first_name", "is required"),
                                              Problem("email", "is required")]))
    assert seen[0] == "Email: 'x' is not a valid email address"
    assert seen[1] == "First name: is required\nEmail: is required"
