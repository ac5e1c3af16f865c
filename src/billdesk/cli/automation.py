"""automation run|log (SPEC.md D5, A1–A3): the daily run headless, for
cron, and its log."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from billdesk.cli import parse
from billdesk.services.text import counted


def register(commands: Any) -> None:
    automation = commands.add_parser("automation", help="the daily run: bill, remind, suspend")
    sub = automation.add_subparsers(dest="automation_command", metavar="ACTION", required=True)

    run = sub.add_parser("run", help="run every day after the last completed run up to DATE, "
                                     "then deliver the outbox")
    run.add_argument("--date", metavar="YYYY-MM-DD", help="the last day to run (default today)")
    run.add_argument("--no-deliver", action="store_true",
                     help="leave the queued emails in the outbox")
    run.set_defaults(handler=automation_run)

    log = sub.add_parser("log", help="the runs so far, newest first")
    log.add_argument("--limit", default="50", metavar="N", help="how many runs (default 50)")
    log.set_defaults(handler=automation_log)


def automation_run(args: argparse.Namespace, out: Any) -> int:
    from billdesk.services import automation
    from billdesk.services.amounts import date_input

    until = date_input(args.date, "date") if args.date not in (None, "") else None
    report = automation.run(until, trigger="cli", deliver=not args.no_deliver, write=True)

    def text() -> str:
        from billdesk.services import outbox

        waiting = outbox.waiting_count()
        if not waiting:
            return report.text()
        why = ("mail is not set up (billdesk → Settings → Mail)" if not outbox.is_configured()
               else "left for delivery (--no-deliver)" if args.no_deliver
               else "they are tried again later (billdesk → Automation → Email log)")
        return (f"{report.text()}\n{counted(waiting, 'email')} "
                f"{'waits' if waiting == 1 else 'wait'} in the outbox: {why}")

    if report.status != "Completed":  # days not run: cron must see it (exit 1, as D5 says)
        more = len(report.errors) - 1
        first = report.errors[0] if report.errors else "the run did not complete"
        print(f"error: run: {first}" + (f" (and {more} more)" if more > 0 else "")
              + "; see billdesk automation log", file=sys.stderr)
        return 1
    out.emit(report.as_json(), text)  # (errors of a completed run, e.g. emails, in it)
    return 0


def automation_log(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import automation

    limit = parse.integer(args.limit, "limit", minimum=1)
    rows = automation.runs(limit)

    def text() -> str:
        if not rows:
            return "The daily run has not run yet."
        lines = []
        for row in rows:
            steps = ", ".join(f"{automation.STEP_TITLES[key]} {row.steps[key]}"
                              for key in automation.STEP_KEYS if row.steps.get(key))
            trigger = automation.TRIGGER_LABELS.get(row.trigger, row.trigger)
            lines.append(f"#{row.id:<5} {row.started_at:%Y-%m-%d %H:%M:%S}  {trigger:<12} "
                         f"{row.status:<9} {automation.describe_days(row.days)}  "
                         f"{row.duration_ms / 1000:.1f} s" + (f"\n       {steps}" if steps else "")
                         + "".join(f"\n       error: {e}" for e in row.errors))
        return "\n".join(lines)

    out.emit({"runs": [row.as_json() for row in rows]}, text)
