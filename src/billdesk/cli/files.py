"""file add|list|remove, note add|list|delete (F1, F2)."""

from __future__ import annotations

import argparse
from typing import Any

from billdesk.cli import parse


def register(commands: Any) -> None:
    """Adds the ``file`` and ``note`` commands."""
    file = commands.add_parser("file", help="a client's files (stored in the data folder)")
    sub = file.add_subparsers(dest="file_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="store a copy of a file for a client")
    add.add_argument("client_id")
    add.add_argument("path", help="the file to copy in")
    add.add_argument("--name", help="the name shown (default: the file's own)")
    add.add_argument("--admin-only", action="store_true", help="flag it admin only")
    add.set_defaults(handler=file_add)

    lst = sub.add_parser("list", help="a client's files, newest first")
    lst.add_argument("client_id")
    lst.add_argument("--no-admin-only", action="store_true",
                     help="leave out the files flagged admin only")
    lst.set_defaults(handler=file_list)

    remove = sub.add_parser("remove", help="remove a file (its stored copy goes when no "
                            "other client has the same file)")
    remove.add_argument("id", help="file id")
    remove.add_argument("--yes", action="store_true", help="don't ask")
    remove.set_defaults(handler=file_remove)

    note = commands.add_parser("note", help="a client's dated notes")
    nsub = note.add_subparsers(dest="note_command", metavar="ACTION", required=True)

    nadd = nsub.add_parser("add", help="add a dated note to a client")
    nadd.add_argument("client_id")
    nadd.add_argument("text")
    nadd.add_argument("--sticky", action="store_true", help="keep it on top")
    nadd.set_defaults(handler=note_add)

    nlst = nsub.add_parser("list", help="a client's notes, sticky first, then newest first")
    nlst.add_argument("client_id")
    nlst.set_defaults(handler=note_list)

    ndel = nsub.add_parser("delete", help="delete a note")
    ndel.add_argument("id", help="note id")
    ndel.add_argument("--yes", action="store_true", help="don't ask")
    ndel.set_defaults(handler=note_delete)


def _file_line(record: Any) -> str:
    flag = "  [admin only]" if record.admin_only else ""
    return (f"#{record.id}  {record.added_at:%Y-%m-%d %H:%M}  {record.size_text:>10}  "
            f"{record.name}{flag}")


def file_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import files

    client_id = parse.record_id(args.client_id, "client_id")
    file_id = files.add_file(client_id, args.path, name=args.name, admin_only=args.admin_only)
    record = files.get_file(file_id)
    out.emit(record.as_json(), lambda: f"Added file {_file_line(record)} to client #{client_id}")


def file_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import files

    client_id = parse.record_id(args.client_id, "client_id")
    records = files.list_files(client_id, include_admin_only=not args.no_admin_only)
    out.emit({"files": [r.as_json() for r in records]},
             lambda: "\n".join(_file_line(r) for r in records) if records
             else f"Client #{client_id} has no files.")


def file_remove(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import files

    record = files.get_file(parse.record_id(args.id, "id"))  # an unknown id before asking
    parse.confirmed(args.yes, f"Remove {record.name} ({record.size_text}) from client "
                         f"#{record.client_id}?")
    files.remove_file(record.id)
    out.emit({"deleted": record.id, "file": record.as_json()},
             f"Removed file #{record.id} {record.name} from client #{record.client_id}")


def _note_line(record: Any) -> str:
    pin = "  [sticky]" if record.sticky else ""
    head = f"#{record.id:<4} {record.created_at:%Y-%m-%d %H:%M}{pin}  "
    return head + record.text.replace("\n", "\n" + " " * len(head))


def note_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import notes

    client_id = parse.record_id(args.client_id, "client_id")
    note_id = notes.add_note(client_id, args.text, sticky=args.sticky)
    record = notes.get_note(note_id)
    out.emit(record.as_json(), lambda: f"Added note {_note_line(record)}")


def note_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import notes

    client_id = parse.record_id(args.client_id, "client_id")
    records = notes.list_notes(client_id)
    out.emit({"notes": [r.as_json() for r in records]},
             lambda: "\n".join(_note_line(r) for r in records) if records
             else f"Client #{client_id} has no notes.")


def note_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import notes

    record = notes.get_note(parse.record_id(args.id, "id"))
    parse.confirmed(args.yes, f"Delete the note of {record.created_at:%Y-%m-%d} "
                         f"“{notes.gist(record.text)}”?")
    notes.delete_note(record.id)
    out.emit({"deleted": record.id, "note": record.as_json()},
             f"Deleted note #{record.id} of client #{record.client_id}")
