"""paymethod add|list|reveal|delete, vault passphrase set|change, vault
status|reset (K2).

A passphrase comes from ``BILLDESK_PASSPHRASE`` or a terminal prompt (a new
one is asked twice); with neither: exit 1, ``error: passphrase: …``.
``vault passphrase change`` takes the new one from
``BILLDESK_NEW_PASSPHRASE`` or the prompt. No option takes a security code:
``--cvv``/``--cvc`` (and their spellings) are refused with exit 1, and
nothing here prints or logs a full number except ``paymethod reveal``'s
own output."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from typing import Any

from billdesk.cli import parse
from billdesk.errors import InvalidInput
from billdesk.services.text import counted

PASSPHRASE_ENV = "BILLDESK_PASSPHRASE"
NEW_PASSPHRASE_ENV = "BILLDESK_NEW_PASSPHRASE"
SECURITY_CODE_OPTIONS = ("--cvv", "--cvc", "--cvv2", "--cvc2", "--csc", "--cid",
                         "--security-code", "--card-code")
NOT_SET = "no vault passphrase is set yet: run billdesk vault passphrase set"


def register(commands: Any) -> None:
    """Adds the ``paymethod`` and ``vault`` commands."""
    pay = commands.add_parser("paymethod", help="a client's stored cards and bank accounts (K2)")
    sub = pay.add_subparsers(dest="paymethod_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="store a card, a bank account or a gateway token",
                         description="The number is stored encrypted under the vault "
                                     f"passphrase ({PASSPHRASE_ENV} or a prompt). No security "
                                     "code (CVV) is ever stored.")
    add.add_argument("client_id")
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--card", metavar="NUMBER",
                      help="card number (spaces or dashes allowed); - reads it from standard "
                           "input, or asks without showing it on a terminal, so that it is not "
                           "in the process list")
    what.add_argument("--bank", metavar="ACCOUNT",
                      help="account number or IBAN; - reads it as --card - does")
    what.add_argument("--token", metavar="TOKEN",
                      help="a token held by a payment gateway (no number stored here)")
    add.add_argument("--expiry", metavar="MM/YY", help="card expiry")
    add.add_argument("--holder", metavar="NAME", help="name on the card or account")
    add.add_argument("--bank-name", metavar="NAME", help="the bank (bank accounts; with --token: "
                                                         "a token for a bank account)")
    add.add_argument("--gateway", metavar="NAME", help="the gateway holding --token")
    add.add_argument("--last-four", metavar="NNNN", help="last four digits (with --token)")
    add.add_argument("--brand", metavar="BRAND", help="card brand (with --token)")
    add.add_argument("--description", default="", help="a note shown with it")
    add.add_argument("--default", action="store_true", help="make it the client's default")
    for option in SECURITY_CODE_OPTIONS:  # accepted by the parser only to be refused clearly
        add.add_argument(option, dest="security_code", nargs="?", const="",
                         default=None, help=argparse.SUPPRESS)
    add.set_defaults(handler=paymethod_add)

    lst = sub.add_parser("list", help="a client's pay methods, masked, the default first")
    lst.add_argument("client_id")
    lst.set_defaults(handler=paymethod_list)

    reveal = sub.add_parser("reveal", help="print the full number (asks for the passphrase)")
    reveal.add_argument("id", help="pay method id")
    reveal.set_defaults(handler=paymethod_reveal)

    delete = sub.add_parser("delete", help="delete a pay method")
    delete.add_argument("id", help="pay method id")
    delete.add_argument("--force", action="store_true",
                        help="also a gateway-token record (nothing is run at the gateway)")
    delete.set_defaults(handler=paymethod_delete)

    vault_cmd = commands.add_parser("vault", help="the passphrase that encrypts stored numbers")
    vsub = vault_cmd.add_subparsers(dest="vault_command", metavar="ACTION", required=True)
    phrase = vsub.add_parser("passphrase", help="set or change the vault passphrase")
    psub = phrase.add_subparsers(dest="passphrase_command", metavar="set|change", required=True)
    pset = psub.add_parser("set", help=f"set the first passphrase ({PASSPHRASE_ENV} or asked "
                                       "twice)")
    pset.set_defaults(handler=vault_set)
    pchange = psub.add_parser("change", help=f"change it (old: {PASSPHRASE_ENV} or asked; new: "
                                             f"{NEW_PASSPHRASE_ENV} or asked twice)")
    pchange.set_defaults(handler=vault_change)
    vstatus = vsub.add_parser("status", help="whether a passphrase is set, and its cost")
    vstatus.set_defaults(handler=vault_status)
    vreset = vsub.add_parser("reset", help="forgot the passphrase: erase every stored number "
                                           "(records stay, masked) after a backup")
    vreset.add_argument("--yes", action="store_true", help="do it without asking")
    vreset.set_defaults(handler=vault_reset)


# -- keeping numbers out of the log -----------------------------------------------------

_SECRET_OPTIONS = ("--card", "--bank", "--token") + SECURITY_CODE_OPTIONS
_LONG_DIGITS = re.compile(r"(?:\d[\s\-]?){8,}\d")


def redact(argv: list[str]) -> list[str]:
    """The command line as it may be logged: the values of --card, --bank,
    --token and of any security-code option, and every run of nine or more
    digits, replaced by "[hidden]" (cli/__init__.py logs the command line
    of an unexpected error)."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("--"):
            out.append("[hidden]")
            hide_next = False
            continue
        hide_next = False
        name, sep, _ = arg.partition("=")
        if name in _SECRET_OPTIONS:
            out.append(f"{name}=[hidden]" if sep else name)
            hide_next = not sep
            continue
        out.append(_LONG_DIGITS.sub("[hidden]", arg))
    return out


# -- passphrases -----------------------------------------------------------------------


def _ask(prompt: str, field: str = "passphrase") -> str:
    """Asked on the terminal, not echoed."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise InvalidInput(field, "none given") from None


def passphrase(prompt: str = "Vault passphrase: ") -> str:
    """The current passphrase: BILLDESK_PASSPHRASE, else asked on a terminal."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not parse.terminal():
        raise InvalidInput("passphrase", f"set {PASSPHRASE_ENV} or run in a terminal")
    return _ask(prompt)


def new_passphrase(env: str) -> str:
    """A new passphrase: ``env``, else asked twice on a terminal."""
    value = os.environ.get(env)
    if value:
        return value
    if not parse.terminal():
        raise InvalidInput("passphrase", f"set {env} to the new passphrase or run in a terminal")
    first = _ask("New vault passphrase: ")
    from billdesk.services import vault

    vault.check_new_passphrase(first)
    if _ask("Again, to be sure: ") != first:
        raise InvalidInput("passphrase", "the two entries differ; nothing changed")
    return first


def _unlock() -> Any:
    from billdesk.services import vault

    if not vault.is_set():
        raise InvalidInput("passphrase", NOT_SET)
    return vault.unlock(passphrase())


# -- paymethod -------------------------------------------------------------------------


def _line(record: Any) -> str:
    flags = "  [default]" if record.is_default else ""
    if record.expired:
        flags += "  [expired]"
    desc = f"  — {record.description}" if record.description else ""
    return f"#{record.id:<4} {record.masked:<18} {record.label}  {record.holder}{flags}{desc}"


_FOR = {"bank_name": ("bank", "token"), "gateway": ("token",), "last_four": ("token",),
        "brand": ("token",), "expiry": ("card", "token")}


def _check_options(args: argparse.Namespace) -> None:
    """An option that does not go with --card / --bank / --token is refused
    rather than silently ignored."""
    kind = "card" if args.card is not None else "bank" if args.bank is not None else "token"
    for dest, kinds in _FOR.items():
        if getattr(args, dest) is not None and kind not in kinds:
            option = "--" + dest.replace("_", "-")
            allowed = " or ".join(f"--{k}" for k in kinds)
            raise InvalidInput(dest, f"{option} goes with {allowed}, not --{kind}")


def _number_from_input(field: str, prompt: str) -> str:
    """``--card -`` / ``--bank -``: the number asked without echo on a
    terminal, else the first line of standard input (a pipe, a file)."""
    if parse.terminal():
        return _ask(prompt, field)
    line = sys.stdin.readline() if sys.stdin else ""
    if not line.strip():
        raise InvalidInput(field, "none given on standard input")
    return line.strip()


def paymethod_add(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import clients, paymethods

    if args.security_code is not None:
        raise InvalidInput("cvv", paymethods.SECURITY_CODE_REFUSAL)
    client_id = parse.record_id(args.client_id, "client_id")
    _check_options(args)
    if args.card == "-":
        args.card = _number_from_input("card", "Card number: ")
    elif args.bank == "-":
        args.bank = _number_from_input("bank", "Account number or IBAN: ")
    # Everything that can be checked is checked before the passphrase is asked.
    if args.card is not None:
        problems = paymethods.card_problems(args.card, args.expiry or "", args.holder or "")
    elif args.bank is not None:
        problems = paymethods.bank_problems(args.bank, args.bank_name or "", args.holder or "")
    else:
        problems = []
    if problems:
        from billdesk.errors import ValidationFailed

        raise ValidationFailed(problems)
    clients.get_client(client_id)
    clients.check_writable(client_id)
    if args.token is not None:
        record = paymethods.add_token(
            client_id, gateway=args.gateway or "", token=args.token, holder=args.holder or "",
            brand=args.brand or "", last_four=args.last_four or "", expiry=args.expiry or "",
            kind="bank" if args.bank_name else "card", make_default=args.default,
            description=args.description)
    elif args.card is not None:
        record = paymethods.add_card(client_id, number=args.card, expiry=args.expiry or "",
                                     holder=args.holder or "", key=_unlock(),
                                     description=args.description, make_default=args.default)
    else:
        record = paymethods.add_bank(client_id, account=args.bank, bank_name=args.bank_name or "",
                                     holder=args.holder or "", key=_unlock(),
                                     description=args.description, make_default=args.default)
    out.emit(record.as_json(), lambda: f"Added pay method {_line(record)} to client #{client_id}")


def paymethod_list(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import paymethods

    client_id = parse.record_id(args.client_id, "client_id")
    records = paymethods.list_pay_methods(client_id)
    out.emit({"pay_methods": [r.as_json() for r in records]},
             lambda: "\n".join(_line(r) for r in records) if records
             else f"Client #{client_id} has no stored pay methods.")


def paymethod_reveal(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import paymethods

    pay_method_id = parse.record_id(args.id, "id")
    record = paymethods.revealable(pay_method_id)  # refused before the passphrase is asked
    number = paymethods.reveal(pay_method_id, _unlock())
    out.emit(dict(record.as_json(), number=number), number)


def paymethod_delete(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import paymethods

    record = paymethods.delete(parse.record_id(args.id, "id"), force=args.force)
    out.emit({"id": record.id, "deleted": True, "pay_method": record.as_json()},
             f"Deleted pay method #{record.id} ({record.label}) of client #{record.client_id}")


# -- vault -----------------------------------------------------------------------------


def _status_text(status: Any, what: str = "set") -> str:
    p = status.params
    return (f"Vault passphrase {what} ({status.kdf}, {p.memory_kib} KiB, {p.iterations} "
            f"passes, {p.lanes} lanes; set {status.created_at:%Y-%m-%d}, changed "
            f"{status.changed_at:%Y-%m-%d})")


def vault_set(args: argparse.Namespace, out: Any) -> None:
    from billdesk.errors import Conflict
    from billdesk.services import vault

    if vault.is_set():
        raise Conflict("passphrase", "a passphrase is already set: change it instead "
                                     "(billdesk vault passphrase change)")
    vault.set_passphrase(new_passphrase(PASSPHRASE_ENV))
    status = vault.status()
    out.emit(status.as_json(), _status_text(status) + ". Keep it safe: billdesk cannot recover "
             "it, and without it the stored numbers cannot be read.")


def vault_change(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import vault

    if not vault.is_set():
        raise InvalidInput("passphrase", NOT_SET)
    old = passphrase("Current vault passphrase: ")
    vault.unlock(old)  # a wrong one refused before the new one is asked
    vault.change_passphrase(old, new_passphrase(NEW_PASSPHRASE_ENV))
    status = vault.status()
    out.emit(status.as_json(), _status_text(status, "changed"))


def vault_status(args: argparse.Namespace, out: Any) -> None:
    from billdesk.services import vault

    status = vault.status()
    if status is None:
        out.emit({"set": False}, "No vault passphrase is set (billdesk vault passphrase set).")
    else:
        out.emit(status.as_json(), _status_text(status))


def vault_reset(args: argparse.Namespace, out: Any) -> None:
    from billdesk.models import PayMethod
    from billdesk.services import vault

    if not vault.is_set():
        raise InvalidInput("passphrase", "no vault passphrase is set yet: nothing to reset")
    stored = (PayMethod.select().where(PayMethod.number_enc.is_null(False)
                                       & (PayMethod.number_enc != b"")).count())
    parse.confirmed(args.yes,
                    f"Erase the {counted(stored, 'stored number')} and the vault passphrase?",
                    details="The records stay, masked; a backup is taken first.",
                    refused="nothing changed")
    erased = vault.reset(confirm=True)
    out.emit({"reset": True, "numbers_erased": erased},
             f"Vault reset: {counted(erased, 'stored number')} erased; set a new passphrase with "
             "billdesk vault passphrase set")
