"""Starts Qt: the only module that creates the QApplication. Keep this
cheap: start-up to a painted list is measured by ``make bench``."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("billdesk.app")

SMOKE_TIMEOUT_MS = 30_000


def _configure_qsettings() -> None:
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("billdesk")
    QCoreApplication.setApplicationName("billdesk")
    if os.environ.get("BILLDESK_HOME"):  # tests and portable installs keep it all in one place
        from billdesk import paths

        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                          str(paths.config_dir()))


def _icon():  # noqa: ANN202
    from PySide6.QtGui import QIcon

    path = Path(__file__).parent / "resources" / "billdesk.png"
    return QIcon(str(path)) if path.exists() else QIcon()


def _route_qt_messages() -> None:
    """Qt's own warnings go to the log file, not over the user's terminal."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}
    qt_log = logging.getLogger("billdesk.qt")

    def handler(kind, context, message) -> None:  # noqa: ANN001
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def main(db: str | None = None, smoke_test: bool = False) -> int:
    from billdesk import logs, qtcheck

    logs.setup_logging()
    if smoke_test and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    problem = qtcheck.problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from billdesk.errors import BilldeskError
    from billdesk.models import close_database, open_database, parse_db_url
    from billdesk.views.errors import install_excepthook, message_for

    _configure_qsettings()
    _route_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(_icon())
    app.setApplicationDisplayName("billdesk")
    install_excepthook()

    try:
        target = parse_db_url(db)
        made_now = not target.path.exists()  # (a new book left at once is not kept)
        open_database(target)
    except BilldeskError as exc:
        log.warning("cannot open the book: %s", exc)
        print(f"error: {message_for(exc)}", file=sys.stderr)
        if not smoke_test:
            QMessageBox.critical(None, "billdesk", f"The book cannot be opened.\n\n{message_for(exc)}")
        return 1

    from billdesk.services import clients, settings
    from billdesk.views.main_window import MainWindow
    from billdesk.views.ops import Operations

    if not smoke_test and not settings.has_company() and clients.count() == 0:
        from billdesk.views.settings_dialog import FirstRunDialog

        if FirstRunDialog().exec() != FirstRunDialog.DialogCode.Accepted:
            close_database()
            if made_now:  # cancelled before anything was in it: no empty book left behind
                for leftover in (target.path, Path(f"{target.path}-wal"),
                                 Path(f"{target.path}-shm")):
                    leftover.unlink(missing_ok=True)
            return 0

    ops = Operations(app)
    window = MainWindow(ops, target.path.resolve())
    result: dict[str, float | bool] = {"painted": False}
    if smoke_test:
        def painted() -> None:
            if not result["painted"]:
                result["painted"] = True
                result["at"] = time.time()
                QTimer.singleShot(0, app.quit)

        window.table.painted.connect(painted)
        QTimer.singleShot(SMOKE_TIMEOUT_MS, app.quit)
    window.show()
    if not smoke_test:  # the daily run (A1): checks now, catching up missed days, then every minute
        QTimer.singleShot(0, window.scheduler.start)
    code = app.exec()
    ops.shutdown()
    close_database()
    if smoke_test:
        if not result["painted"]:
            print("smoke test: the client list never painted", file=sys.stderr)
            return 1
        print(f"smoke test: main window painted with {window.model.total} clients "
              f"(painted at {result['at']:.6f})")
    return code
