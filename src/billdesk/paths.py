"""Where billdesk keeps its files. ``BILLDESK_HOME`` moves all of them into
one folder (tests and portable installs); otherwise platformdirs decides."""

from __future__ import annotations

import os
from pathlib import Path

from billdesk import APP_NAME


def _home() -> Path | None:
    home = os.environ.get("BILLDESK_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    home = _home()
    if home is not None:
        path = home / "data"
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    home = _home()
    if home is not None:
        path = home / "log"
    else:
        import platformdirs

        path = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    home = _home()
    if home is not None:
        path = home / "config"
    else:
        import platformdirs

        path = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    return log_dir() / "billdesk.log"


def default_db_path() -> Path:
    return data_dir() / "billdesk.sqlite3"
