from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from gui_helpers import shown


@pytest.fixture
def book(db_path: Path) -> Iterator[Path]:
    """A small demo book, open for the windows."""
    from billdesk.models import close_database, init_db
    from billdesk.services import demo

    init_db(db_path)
    demo.create_demo(40, seed=7)
    yield db_path
    close_database()


def _worker():  # noqa: ANN202
    """One database worker (on the book already open), shut down after."""
    from billdesk.app import _configure_qsettings
    from billdesk.views.ops import Operations

    _configure_qsettings()
    operations = Operations()
    yield operations
    operations.shutdown()


@pytest.fixture
def ops(qtbot, book: Path):  # noqa: ANN001, ANN201
    """The database worker on ``book`` (a module may define its own ``book``)."""
    yield from _worker()


@pytest.fixture
def main_window(qtbot, ops, book: Path):  # noqa: ANN001, ANN201
    from billdesk.views.main_window import MainWindow

    window = MainWindow(ops, book)
    window.show()
    qtbot.waitExposed(window)
    yield window
    # (closed here, not by qtbot.addWidget: pytest-qt closes its widgets
    # before fixtures end, and a window with typing left would ask)
    for client_window in list(window.client_windows.values()):
        client_window.profile.set_clean()
        client_window.summary.save_notes.setEnabled(False)
    window.close()
    window.deleteLater()


@pytest.fixture
def settings_dialog(qtbot, ops):  # noqa: ANN001, ANN201
    from billdesk.views.settings_dialog import SettingsDialog

    return shown(qtbot, SettingsDialog(ops))


@pytest.fixture
def client_fields() -> dict:
    """More fields for ``client_book``'s client (a module overrides this)."""
    return {}


@pytest.fixture
def client_book(db_path: Path, client_fields: dict) -> Iterator[int]:
    """A new, empty book with one client, Grace Hopper (GBP, GB): her id.
    A module needing more (a tax rule, products) builds on this fixture."""
    from billdesk.models import close_database, init_db
    from billdesk.services import clients

    init_db(db_path)
    client_id = clients.add_client({"first_name": "Grace", "last_name": "Hopper",
                                    "email": "grace@example.com", "currency": "GBP",
                                    "country": "GB", **client_fields})
    yield client_id
    close_database()


@pytest.fixture
def client_ops(qtbot, client_book: int):  # noqa: ANN001, ANN201
    """The database worker on ``client_book``."""
    yield from _worker()


@pytest.fixture
def open_window(qtbot, client_ops, client_book: int):  # noqa: ANN001, ANN201
    """Opens client windows on ``client_book``'s client, on one database
    worker; closes what is left (editors' unsaved typing dropped)."""
    import shiboken6

    from billdesk.views.client_window import ClientWindow
    from billdesk.views.invoice_editor import InvoiceEditor

    opened: list[ClientWindow] = []

    def open_one() -> ClientWindow:
        win = ClientWindow(client_book, client_ops)
        win.show()
        qtbot.waitExposed(win)
        opened.append(win)
        return win

    yield open_one
    for win in opened:
        if shiboken6.isValid(win):
            for editor in win.findChildren(InvoiceEditor):
                editor.dirty = False
            win.close()


@pytest.fixture
def window(open_window):  # noqa: ANN001, ANN201
    """A client window on ``client_book``'s client."""
    return open_window()


@pytest.fixture
def answers(monkeypatch):  # noqa: ANN001, ANN201
    """Message boxes answered without showing: ``said`` keeps each text;
    questions get the next of ``replies`` (else Yes / Open)."""

    class Answers:
        said: list[str] = []
        replies: list[QMessageBox.StandardButton] = []

    def question(parent, title, text, buttons=None, default=None):  # noqa: ANN001, ANN202
        Answers.said.append(text)
        if Answers.replies:
            return Answers.replies.pop(0)
        if buttons is not None and buttons & QMessageBox.StandardButton.Open:
            return QMessageBox.StandardButton.Open
        return QMessageBox.StandardButton.Yes

    def tell(parent, title, text, *args):  # noqa: ANN001, ANN202
        Answers.said.append(text)
        return QMessageBox.StandardButton.Ok

    Answers.said = []
    Answers.replies = []
    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "information", tell)
    monkeypatch.setattr(QMessageBox, "warning", tell)
    return Answers
