"""Telling the user that something finished where they cannot see it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def file_saved(parent: QWidget | None, path: str | Path, what: str) -> QMessageBox:
    """A non-blocking note that ``what`` was saved to ``path``, with a
    button that opens the file in the desktop's viewer."""
    path = Path(path)
    box = QMessageBox(QMessageBox.Icon.Information, "billdesk", f"{what} saved.",
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("file_saved")
    box.setInformativeText(str(path))
    opener = box.addButton("Open", QMessageBox.ButtonRole.ActionRole)
    opener.setObjectName("open_file")
    opener.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()
    return box
