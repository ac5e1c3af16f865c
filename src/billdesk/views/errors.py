"""The one place the GUI turns errors into what the user sees."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from billdesk import paths
from billdesk.errors import BilldeskError, ValidationFailed

log = logging.getLogger("billdesk.views")


def message_for(exc: BilldeskError) -> str:
    if isinstance(exc, ValidationFailed):
        return "\n".join(f"{p.field.replace('_', ' ').capitalize()}: {p.message}" for p in exc.problems)
    field = exc.field.replace("_", " ").capitalize()
    return f"{field}: {exc.message}" if field else exc.message


def line_field(field: str) -> tuple[int, str] | None:
    """A refused line's place, as services name it: "lines[2].amount" →
    (1, "amount") (the row from 0); None for any other field."""
    if not field.startswith("lines[") or "]" not in field:
        return None
    number, _, rest = field[len("lines["):].partition("]")
    return int(number) - 1, rest.lstrip(".")


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """A refused input says what and where; anything else is a bug."""
    if isinstance(exc, BilldeskError):
        QMessageBox.warning(parent, "billdesk", message_for(exc))
        return
    show_crash(parent, type(exc), exc, exc.__traceback__)


def show_crash(parent: QWidget | None, kind: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> None:
    details = "".join(traceback.format_exception(kind, exc, tb))
    log.error("unexpected error\n%s", details)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("billdesk — something went wrong")
    box.setText("billdesk hit an unexpected error. Nothing you saved is lost: every change "
                "is written whole or not at all, so a change that failed left the book as it "
                "was before it.")
    box.setInformativeText(
        f"What happened: {kind.__name__}: {exc}\n\n"
        "What to do: check that what you were doing is as you expect (open the window "
        "again if it looks wrong) and try it once more. If it fails again, restart billdesk; "
        "if it still fails, keep the log file — it says what went wrong, for whoever "
        f"looks into it:\n{paths.log_file()}")
    box.setDetailedText(details)
    box.exec()


def install_excepthook() -> None:
    """Uncaught exceptions in Qt slots end up here instead of killing the app."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        try:
            show_crash(None, kind, exc, tb)
        except Exception:  # the dialog itself failed: at least log it
            log.exception("could not show the error dialog")

    sys.excepthook = hook
