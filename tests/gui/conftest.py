from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def book(db_path: Path) -> Iterator[Path]:
    """A small demo book, open for the windows."""
    from billdesk.models import close_database, init_db
    from billdesk.services import demo

    init_db(db_path)
    demo.create_demo(40, seed=7)
    yield db_path
    close_database()


@pytest.fixture
def ops(qtbot, book: Path):  # noqa: ANN001, ANN201
    from billdesk.app import _configure_qsettings
    from billdesk.views.ops import Operations

    _configure_qsettings()
    operations = Operations()
    yield operations
    operations.shutdown()


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
