"""Running the `billdesk` console command as a user would, for the CLI
tests: a subprocess with its own BILLDESK_HOME, offscreen Qt and no
terminal; plus reading the book back with plain sqlite3."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BILLDESK = Path(sys.executable).parent / "billdesk"


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str


def run(home: Path, *args: str, stdin: str | None = None) -> Done:
    """The command, with ``stdin`` as its standard input (else none)."""
    env = {k: v for k, v in os.environ.items() if k not in ("BILLDESK_DB", "BILLDESK_HOME")}
    env["BILLDESK_HOME"] = str(home)
    env["QT_QPA_PLATFORM"] = "offscreen"
    feed = {"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin}
    done = subprocess.run([str(BILLDESK), *args], capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=60, **feed)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return Done(done.returncode, done.stdout, done.stderr)


def ok(home: Path, db: Path, *args: str) -> Any:
    """--db and --json *after* the command; exit 0 and exactly one JSON
    document (the whole of stdout)."""
    done = run(home, *args, "--db", str(db), "--json")
    assert done.code == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def cmd(home: Path, db: Path, *args: str) -> Any:
    """--db and --json *before* the command."""
    done = run(home, "--db", str(db), "--json", *args)
    assert done.code == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def refused(home: Path, db: Path, *args: str, code: int = 1) -> str:
    """Run a command (``--db`` after it) that must be refused: exit
    ``code``, nothing on stdout, the book unchanged, and for exit 1 exactly
    one ``error: …`` line on stderr. That stderr, stripped."""
    before = dump(db)
    done = run(home, *args, "--db", str(db))
    assert done.code == code, (done.stdout, done.stderr)
    assert done.stdout == ""
    if code == 1:
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert dump(db) == before
    return done.stderr.strip()


def dump(db: Path) -> list[str]:
    """The whole book as SQL text, to show that a refusal wrote nothing."""
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
