"""Domain logic never imports Qt (SPEC ground rules): the services, the
models and the command line load, and the CLI runs, without PySide6."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

CHECK = textwrap.dedent("""
    import importlib, json, pkgutil, sys

    import billdesk.cli, billdesk.models, billdesk.services

    imported = []
    for package in (billdesk.services, billdesk.models, billdesk.cli):
        imported.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
    for name in ("billdesk.money", "billdesk.errors", "billdesk.paths", "billdesk.logs"):
        importlib.import_module(name)
        imported.append(name)

    if len(sys.argv) > 1:  # also run commands, which import more lazily
        from billdesk.cli import main
        for command in json.loads(sys.argv[1]):
            code = main(command)
            if code != 0:
                raise SystemExit(f"{command} exited {code}")

    print(json.dumps({
        "imported": imported,
        "qt": sorted(m for m in sys.modules if m.startswith("PySide6")),
    }))
""")


def run_check(tmp_path: Path, *commands: list[str]) -> dict:
    env_home = tmp_path / "home"
    env_home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "BILLDESK_DB"}
    env["BILLDESK_HOME"] = str(env_home)
    argv = [sys.executable, "-c", CHECK]
    if commands:
        argv.append(json.dumps(list(commands)))
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_services_models_and_cli_import_without_qt(tmp_path):
    result = run_check(tmp_path)
    imported = set(result["imported"])
    # discovery really found the modules
    assert {"billdesk.services.clients", "billdesk.services.clientlist", "billdesk.services.demo",
            "billdesk.models.migrations", "billdesk.models.db", "billdesk.cli.clients",
            "billdesk.cli.parse", "billdesk.logs"} <= imported
    assert result["qt"] == []


def test_running_cli_commands_imports_no_qt(tmp_path):
    db = str(tmp_path / "book.sqlite3")
    result = run_check(
        tmp_path,
        ["--db", db, "demo", "--clients", "20", "--json"],
        ["--db", db, "client", "list", "--search", "zo", "--json"],
        ["--db", db, "client", "show", "1"],
        ["--db", db, "client", "edit", "1", "--city", "Leeds", "--reason", "moved"],
        ["--db", db, "contact", "list", "1", "--json"],
        ["--db", db, "group", "list"],
    )
    assert result["qt"] == []
