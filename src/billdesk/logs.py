"""A rotating log file in the user's log folder, set up once per process."""

from __future__ import annotations

import logging
import logging.handlers

from billdesk import paths

_configured = False


def setup_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    handler = logging.handlers.RotatingFileHandler(
        paths.log_file(), maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("billdesk")
    root.addHandler(handler)
    root.setLevel(level)
    _configured = True
