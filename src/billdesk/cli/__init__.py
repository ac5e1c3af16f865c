"""The command line (SPEC.md D5): the same services as the windows.

``--db`` and ``--json`` are accepted anywhere on the line. Exit codes: 0 done;
2 unknown command or option or a missing argument (argparse); 1 refused
input, with one line ``error: <field>: <what is wrong>`` on stderr and
nothing written; 3 an unexpected internal error, with where the log is.
No subcommand opens the window."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any

from billdesk import __version__
from billdesk.errors import BilldeskError, ValidationFailed

log = logging.getLogger("billdesk.cli")

Handler = Callable[[argparse.Namespace], Any]


class Output:
    """Where a command's result goes: one JSON document, or text."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, document: dict[str, Any], text: str | Callable[[], str]) -> None:
        if self.as_json:
            json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write((text() if callable(text) else text).rstrip("\n") + "\n")


def _common() -> argparse.ArgumentParser:
    """--db and --json, accepted at every level. SUPPRESS keeps a
    subparser from overwriting what an earlier level already parsed."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH_OR_URL",
                        help="database file or sqlite:/// URL (default: BILLDESK_DB, "
                             "else billdesk.sqlite3 in your data folder)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document")
    return common


class _Parser(argparse.ArgumentParser):
    """argparse with --db/--json on every subparser."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parents", [_common()])
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    from billdesk.cli import (
        affiliates,
        automation,
        billable,
        billing,
        clients,
        demo,
        files,
        orders,
        paymethods,
        products,
        quotes,
        services,
        tickets,
    )

    parser = _Parser(prog="billdesk", description="Offline billing for small businesses. "
                     "With no command, opens the window.")
    parser.add_argument("--version", action="version", version=f"billdesk {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open the main window, wait until the list has painted, exit 0")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo.register(commands)
    clients.register(commands)
    billing.register(commands)
    products.register(commands)
    services.register(commands)
    orders.register(commands)
    quotes.register(commands)
    billable.register(commands)
    automation.register(commands)
    files.register(commands)
    affiliates.register(commands)
    paymethods.register(commands)
    tickets.register(commands)
    return parser


def _report(exc: BilldeskError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse: usage errors are 2, --help/--version 0
        return int(exc.code or 0)
    if args.command is None:
        from billdesk import app

        return app.main(db=getattr(args, "db", None), smoke_test=args.smoke_test)

    from billdesk import logs
    from billdesk.models import close_database, init_db

    logs.setup_logging()
    out = Output(bool(getattr(args, "json", False)))
    try:
        init_db(getattr(args, "db", None))
        try:
            code = args.handler(args, out)  # (a handler may say it failed: exit 1)
        finally:
            close_database()
    except BilldeskError as exc:
        print(f"error: {_report(exc)}", file=sys.stderr)
        return 1
    except UnicodeEncodeError as exc:  # an argument that is not valid text (stray bytes)
        if "surrogates" not in str(exc):
            raise
        print("error: input: an argument is not valid text (check the characters typed)",
              file=sys.stderr)
        return 1
    except (sqlite3.OperationalError, _peewee_operational()) as exc:  # another program writes
        if "locked" not in str(exc) and "busy" not in str(exc):
            return _internal(exc, args_list)
        print("error: db: the book is busy: another program is writing to it; try again "
              "when it has finished", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: one line and where the details are
        return _internal(exc, args_list)
    return int(code or 0)


def _peewee_operational() -> type[Exception]:
    from peewee import OperationalError  # (what peewee raises for sqlite3's)

    return OperationalError


def _internal(exc: BaseException, args_list: list[str]) -> int:
    """A bug: one line and where the details are (exit 3)."""
    from billdesk import paths
    from billdesk.cli.paymethods import redact  # never a card or account number in the log

    log.exception("unexpected error in %s", redact(args_list))
    print(f"error: internal error ({type(exc).__name__}: {exc}); details in {paths.log_file()}",
          file=sys.stderr)
    return 3
