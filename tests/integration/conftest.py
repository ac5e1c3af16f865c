from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One BILLDESK_HOME per test module for the commands run as a user would."""
    return tmp_path_factory.mktemp("billdesk-home")
