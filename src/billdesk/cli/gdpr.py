"""client gdpr ID -o FILE (C12)."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse
from billdesk.errors import NotFound


def register_client(sub: Any) -> None:
    """Adds ``gdpr`` to the ``client`` command's subparsers."""
    gdpr = sub.add_parser("gdpr", help="write one PDF of everything stored about a client (GDPR)")
    gdpr.add_argument("id", help="client id")
    gdpr.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="the PDF file to write (replaced if it exists)")
    gdpr.set_defaults(handler=client_gdpr)


def client_gdpr(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, gdpr

    client_id = parse.record_id(args.id)
    if not clients.exists(client_id):
        raise NotFound("id", f"no client with id {client_id}")
    info = gdpr.export(client_id, parse.output_path(args.output))  # unwritable: error: output: …
    sections = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in info.sections.items()
                         if n)
    out.emit(info.as_json(client_id),
             f"Wrote the GDPR report of client #{client_id} to {info.path} "
             f"({info.pages} page{'s' if info.pages != 1 else ''}"
             + (f"; {sections}" if sections else "") + ")")
