"""The paymethod and vault commands from outside (SPEC.md D5, K2): JSON
shapes, the passphrase from BILLDESK_PASSPHRASE or nowhere (exit 1), wrong
passphrase vs damaged data, no security code option, refusals that change
nothing — and no full number in the book, its WAL, its backups or the log
after the commands ran.

Most tests set the vault in-process with cheap Argon2id parameters (the
book stores them, and the command unlocks with what the book says); the
commands that set or change the passphrase use the real default cost."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from billdesk.models import close_database, init_db
from billdesk.services import backup, vault
from billdesk.services.vault import KdfParams

from cli_helpers import cmd, ok, query, refused, run
from leak_helpers import book_files, leaks

CHEAP = KdfParams(1024, 1, 1)
PHRASE = "correct horse battery"
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
IBAN = "GB82WEST12345698765432"
ACCOUNT = "31926819"
RECORD_KEYS = {"id", "client_id", "kind", "brand", "holder", "first_six", "last_four", "expiry",
               "bank_name", "description", "is_default", "gateway", "masked", "expired",
               "has_number", "label"}
SECURITY_CODE = "error: cvv: billdesk never stores a card's security code"


@pytest.fixture(scope="module")
def base_book(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    path = tmp_path_factory.mktemp("base") / "book.sqlite3"
    assert ok(home, path, "client", "add", "--first", "Ann", "--last", "Lee", "--email",
              "ann@example.com")["id"] == 1
    return path


def in_process(path: Path, action):
    init_db(path)
    try:
        return action()
    finally:
        close_database()


@pytest.fixture
def vault_book(book: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The book with a cheap vault; the commands get the passphrase from
    BILLDESK_PASSPHRASE."""
    in_process(book, lambda: vault.set_passphrase(PHRASE, params=CHEAP))
    monkeypatch.setenv("BILLDESK_PASSPHRASE", PHRASE)
    return book


def add_card(home: Path, book: Path, number: str = VISA, *extra: str) -> dict:
    return ok(home, book, "paymethod", "add", "1", "--card", number, "--expiry", "12/39",
              "--holder", "Ann Lee", *extra)


def test_add_needs_a_vault_and_a_passphrase(home, book, monkeypatch):
    monkeypatch.delenv("BILLDESK_PASSPHRASE", raising=False)
    card = ("paymethod", "add", "1", "--card", VISA, "--expiry", "12/39", "--holder", "Ann Lee")
    assert refused(home, book, *card) == (
        "error: passphrase: no vault passphrase is set yet: run billdesk vault passphrase set")
    assert refused(home, book, "paymethod", "reveal", "1").startswith("error: pay_method: ")
    in_process(book, lambda: vault.set_passphrase(PHRASE, params=CHEAP))
    assert refused(home, book, *card) == (
        "error: passphrase: set BILLDESK_PASSPHRASE or run in a terminal")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", "correct horse batterY")
    assert refused(home, book, *card) == "error: passphrase: wrong passphrase"
    monkeypatch.setenv("BILLDESK_PASSPHRASE", PHRASE)
    assert add_card(home, book)["id"] == 1


@pytest.mark.slow
def test_add_list_reveal_delete(home, vault_book):
    book = vault_book
    card = add_card(home, book, "4111 1111 1111 1111", "--description", "Company card")
    assert set(card) == RECORD_KEYS
    assert {k: card[k] for k in ("id", "client_id", "kind", "brand", "holder", "first_six",
                                 "last_four", "expiry", "is_default", "masked", "description")} == {
        "id": 1, "client_id": 1, "kind": "card", "brand": "Visa", "holder": "Ann Lee",
        "first_six": "411111", "last_four": "1111", "expiry": "2039-12", "is_default": True,
        "masked": "411111******1111", "description": "Company card"}
    bank = cmd(home, book, "paymethod", "add", "1", "--bank", "GB82 WEST 1234 5698 7654 32",
               "--bank-name", "Barclays", "--holder", "Ann Lee", "--default")
    assert [bank[k] for k in ("kind", "bank_name", "last_four", "masked", "is_default")] == [
        "bank", "Barclays", "5432", "****5432", True]
    token = ok(home, book, "paymethod", "add", "1", "--token", "pm_123", "--gateway", "Stripe",
               "--last-four", "4242", "--brand", "Visa", "--expiry", "01/38", "--holder", "Ann")
    assert (token["has_number"], token["gateway"], token["label"]) == (
        False, "Stripe", "Visa ending 4242, expires 01/38 (token at Stripe)")

    listed = ok(home, book, "paymethod", "list", "1")
    assert list(listed) == ["pay_methods"]
    assert [p["id"] for p in listed["pay_methods"]] == [bank["id"], card["id"], token["id"]]
    text = run(home, "paymethod", "list", "1", "--db", str(book))
    assert text.code == 0 and "411111******1111" in text.stdout and VISA not in text.stdout

    revealed = ok(home, book, "paymethod", "reveal", str(card["id"]))
    assert revealed["number"] == VISA and revealed["id"] == card["id"]
    assert revealed["masked"] == "411111******1111"
    plain = run(home, "paymethod", "reveal", str(bank["id"]), "--db", str(book))
    assert (plain.code, plain.stdout) == (0, IBAN + "\n")
    assert refused(home, book, "paymethod", "reveal", str(token["id"])) == (
        f"error: pay_method: #{token['id']} is a gateway token: the number is held by Stripe")
    assert refused(home, book, "paymethod", "reveal", "99") == (
        "error: pay_method: no pay method with id 99")
    assert refused(home, book, "paymethod", "reveal", "x").startswith("error: id: ")

    assert refused(home, book, "paymethod", "delete", str(token["id"])) == (
        f"error: pay_method: #{token['id']} is stored at Stripe as a token: billdesk cannot "
        "remove it there; force-delete removes only this record")
    gone = ok(home, book, "paymethod", "delete", str(token["id"]), "--force")
    assert (gone["id"], gone["deleted"]) == (token["id"], True)
    gone = ok(home, book, "paymethod", "delete", str(bank["id"]))  # no --yes needed
    assert (gone["id"], gone["deleted"]) == (bank["id"], True)
    assert [(p["id"], p["is_default"]) for p in ok(home, book, "paymethod", "list",
                                                    "1")["pay_methods"]] == [(card["id"], True)]
    log = [m for (m,) in query(book, "SELECT message FROM client_log WHERE client_id = 1")]
    assert "Card Visa ending 1111 (expires 12/39) added as the default" in log
    assert not [m for m in log if VISA in m or IBAN in m]


@pytest.mark.parametrize("option", [("--cvv", "123"), ("--cvc=123",), ("--cvv",),
                                    ("--cvv2", "123"), ("--csc", "1234"),
                                    ("--security-code", "123")])
def test_a_security_code_option_is_refused(home, vault_book, option):
    assert refused(home, vault_book, "paymethod", "add", "1", "--card", VISA, "--expiry", "12/39",
                   "--holder", "Ann Lee", *option) == SECURITY_CODE


@pytest.mark.parametrize("args, start", [
    (("--card", "4111111111111112", "--expiry", "12/39", "--holder", "A"), "error: card: "),
    (("--card", VISA, "--expiry", "01/20", "--holder", "A"), "error: expiry: the card expired"),
    (("--card", VISA, "--expiry", "12/39"), "error: holder: is required"),
    (("--card", VISA, "--holder", "A"), "error: expiry: is required"),
    (("--bank", "GB82WEST12345698765433", "--bank-name", "B", "--holder", "A"), "error: bank: "),
    (("--bank", ACCOUNT, "--holder", "A"), "error: bank_name: is required"),
    (("--token", "pm_1", "--holder", "A", "--last-four", "4242"), "error: gateway: is required"),
    (("--card", VISA, "--expiry", "12/39", "--holder", "A", "--gateway", "Stripe"),
     "error: gateway: --gateway goes with --token, not --card"),
    (("--bank", ACCOUNT, "--bank-name", "B", "--holder", "A", "--expiry", "12/39"),
     "error: expiry: --expiry goes with --card or --token, not --bank"),
])
def test_bad_input_is_refused_and_not_echoed(home, vault_book, args, start):
    message = refused(home, vault_book, "paymethod", "add", "1", *args)
    assert message.startswith(start), message
    assert args[1] not in message or args[0] == "--token"


def test_unknown_or_archived_client(home, vault_book):
    assert refused(home, vault_book, "paymethod", "add", "7", "--card", VISA, "--expiry", "12/39",
                   "--holder", "A").startswith("error: ")
    assert refused(home, vault_book, "paymethod", "list", "7").startswith("error: ")
    add_card(home, vault_book)

    def archive():
        from billdesk.services import lifecycle

        lifecycle.archive_client(1)

    in_process(vault_book, archive)
    archived = "error: client: #1 is archived: unarchive it to change it"
    assert refused(home, vault_book, "paymethod", "add", "1", "--card", MASTERCARD, "--expiry",
                   "12/39", "--holder", "A") == archived
    assert refused(home, vault_book, "paymethod", "delete", "1") == archived
    assert ok(home, vault_book, "paymethod", "reveal", "1")["number"] == VISA


@pytest.mark.parametrize("args", [
    ("paymethod",), ("paymethod", "add", "1"),
    ("paymethod", "add", "1", "--card", VISA, "--bank", ACCOUNT),
    ("paymethod", "add", "--card", VISA), ("paymethod", "delete"), ("vault",),
    ("vault", "passphrase"), ("vault", "passphrase", "forget"),
])
def test_usage_errors_exit_2(home, book, args):
    done = run(home, *args, "--db", str(book))
    assert done.code == 2 and done.stdout == "", done


def test_damaged_key_and_moved_ciphertext_are_told_apart(home, vault_book):
    book = vault_book
    a = add_card(home, book)["id"]
    b = add_card(home, book, MASTERCARD)["id"]
    with sqlite3.connect(book) as con:
        con.execute("UPDATE pay_method SET number_enc = (SELECT number_enc FROM pay_method "
                    "WHERE id = ?) WHERE id = ?", (a, b))
    con.close()
    moved = refused(home, book, "paymethod", "reveal", str(b))
    assert moved.startswith(f"error: pay_method: #{b}: ") and "moved from another record" in moved
    assert ok(home, book, "paymethod", "reveal", str(a))["number"] == VISA

    [(wrapped,)] = query(book, "SELECT wrapped_key FROM vault")
    damaged = bytearray(wrapped)
    damaged[-3] ^= 0x10
    with sqlite3.connect(book) as con:
        con.execute("UPDATE vault SET wrapped_key = ?", (bytes(damaged),))
    con.close()
    broken = refused(home, book, "paymethod", "reveal", str(a))
    assert broken.startswith("error: vault: the stored key is damaged")
    assert "wrong passphrase" not in broken


@pytest.mark.slow
def test_vault_passphrase_set_change_status_and_reset(home, book, monkeypatch, tmp_path):
    monkeypatch.delenv("BILLDESK_PASSPHRASE", raising=False)
    monkeypatch.delenv("BILLDESK_NEW_PASSPHRASE", raising=False)
    assert ok(home, book, "vault", "status") == {"set": False}
    assert refused(home, book, "vault", "passphrase", "set").startswith("error: passphrase: set ")
    assert refused(home, book, "vault", "passphrase", "change") == (
        "error: passphrase: no vault passphrase is set yet: run billdesk vault passphrase set")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", "short")
    assert refused(home, book, "vault", "passphrase", "set").startswith(
        "error: passphrase: is too short")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", PHRASE)
    status = ok(home, book, "vault", "passphrase", "set")  # the real Argon2id cost
    assert (status["id"], status["set"], status["kdf"], status["memory_kib"], status["iterations"],
            status["lanes"]) == (1, True, "argon2id", 65536, 3, 4)
    assert not {"salt", "verifier", "wrapped_key", "key"} & set(status)
    assert refused(home, book, "vault", "passphrase", "set").startswith(
        "error: passphrase: a passphrase is already set")
    card = add_card(home, book)["id"]

    assert refused(home, book, "vault", "passphrase", "change").startswith(
        "error: passphrase: set BILLDESK_NEW_PASSPHRASE")
    monkeypatch.setenv("BILLDESK_NEW_PASSPHRASE", "a brand new passphrase")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", "not the passphrase")
    assert refused(home, book, "vault", "passphrase", "change") == (
        "error: passphrase: wrong passphrase")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", PHRASE)
    changed = ok(home, book, "vault", "passphrase", "change")
    assert changed["changed_at"] >= changed["created_at"]
    assert refused(home, book, "paymethod", "reveal", str(card)) == (
        "error: passphrase: wrong passphrase")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", "a brand new passphrase")
    assert ok(home, book, "paymethod", "reveal", str(card))["number"] == VISA

    assert refused(home, book, "vault", "reset").startswith("error: confirmation: ")
    reset = ok(home, book, "vault", "reset", "--yes")
    assert reset == {"reset": True, "numbers_erased": 1}
    assert ok(home, book, "vault", "status") == {"set": False}
    [listed] = ok(home, book, "paymethod", "list", "1")["pay_methods"]
    assert (listed["masked"], listed["has_number"]) == ("411111******1111", False)
    assert refused(home, book, "paymethod", "reveal", str(card)).startswith(
        f"error: pay_method: #{card}: its number was erased")


@pytest.mark.slow
def test_no_full_number_on_disk_after_the_commands(tmp_path, monkeypatch):
    """Acceptance 1 through the command line: cards and accounts added,
    revealed, the passphrase changed, a backup taken — then the raw bytes of
    the book, its WAL, the backups and the log files."""
    home = tmp_path / "clihome"
    home.mkdir()
    book = tmp_path / "leak.sqlite3"
    assert ok(home, book, "client", "add", "--first", "Bo", "--last", "Ng", "--email",
              "bo@example.com")["id"] == 1
    monkeypatch.setenv("BILLDESK_PASSPHRASE", PHRASE)
    ok(home, book, "vault", "passphrase", "set")
    cards = [VISA, MASTERCARD, AMEX]
    accounts = [IBAN, ACCOUNT]
    for number in cards:
        add_card(home, book, "-".join(number[i:i + 4] for i in range(0, len(number), 4)))
    for account in accounts:
        ok(home, book, "paymethod", "add", "1", "--bank", account, "--bank-name", "Barclays",
           "--holder", "Bo Ng")
    refused(home, book, "paymethod", "add", "1", "--card", "4111111111111112", "--expiry",
            "12/39", "--holder", "Bo")
    refused(home, book, "paymethod", "add", "1", "--card", "4000056655665556", "--cvv", "737",
            "--expiry", "12/39", "--holder", "Bo")
    for pay_method_id, number in ((3, AMEX), (4, IBAN)):
        assert ok(home, book, "paymethod", "reveal", str(pay_method_id))["number"] == number
    monkeypatch.setenv("BILLDESK_NEW_PASSPHRASE", "another long passphrase")
    ok(home, book, "vault", "passphrase", "change")
    monkeypatch.setenv("BILLDESK_PASSPHRASE", "another long passphrase")
    assert ok(home, book, "paymethod", "reveal", "1")["number"] == VISA
    ok(home, book, "paymethod", "delete", "2")

    with monkeypatch.context() as inner:
        inner.setenv("BILLDESK_HOME", str(home))  # the backup beside the CLI's data
        in_process(book, lambda: backup.backup(reason="leak-test", automatic=False))
    files = book_files(book, home)
    names = {p.name for p in files}
    assert any(n.endswith(".manual.sqlite3") for n in names) and "billdesk.log" in names
    secrets = cards + accounts + ["4111111111111112", "4000056655665556", PHRASE,
                                  "another long passphrase"]
    assert leaks(files, secrets) == []
    control = leaks(files, ["411111", "Bo Ng"])  # what is kept in clear is found
    assert any("manual" in hit for hit in control) and any("leak.sqlite3" in hit for hit in control)


def _on_a_terminal(home: Path, args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its terminal, typing each
    answer when a prompt (ending in ':') shows."""
    import os
    import pty
    import select

    from cli_helpers import BILLDESK

    env = {k: v for k, v in os.environ.items()
           if k not in ("BILLDESK_DB", "BILLDESK_PASSPHRASE", "BILLDESK_NEW_PASSPHRASE")}
    env.update(BILLDESK_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, never back into pytest
        try:
            os.execve(str(BILLDESK), [str(BILLDESK), *args], env)
        finally:
            os._exit(127)
    output, pending, since = b"", list(answers), 0
    try:
        while select.select([fd], [], [], 30)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if pending and output[since:].rstrip().endswith(b":"):  # a new prompt
                os.write(fd, (pending.pop(0) + "\n").encode())
                output += b"\n"
                since = len(output)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs a POSIX terminal")
def test_the_passphrase_is_asked_on_a_terminal_and_never_echoed(home, book):
    db = ["--db", str(book)]
    code, text = _on_a_terminal(home, ["vault", "passphrase", "set", *db],
                                ["correct horse", "correct horsE"])
    assert code == 1 and "error: passphrase: the two entries differ" in text, text
    code, text = _on_a_terminal(home, ["vault", "passphrase", "set", *db],
                                ["correct horse", "correct horse"])
    assert code == 0 and "New vault passphrase:" in text and "Again, to be sure:" in text, text
    assert "correct horse" not in text  # typed without echo
    code, text = _on_a_terminal(home, ["paymethod", "add", "1", "--card", VISA, "--expiry",
                                       "12/39", "--holder", "Ann", *db], ["correct horse"])
    assert code == 0 and "Vault passphrase:" in text and "411111******1111" in text
    code, text = _on_a_terminal(home, ["paymethod", "reveal", "1", *db], ["correct horsE"])
    assert code == 1 and "error: passphrase: wrong passphrase" in text
    code, text = _on_a_terminal(home, ["paymethod", "reveal", "1", *db], ["correct horse"])
    assert code == 0 and VISA in text


def test_a_number_given_as_dash_is_read_from_standard_input(home, vault_book):
    """``--card -`` / ``--bank -`` keep the number out of the command line
    (and so out of the process list): read from a pipe, or asked without
    echo on a terminal; nothing given is refused naming the field."""
    book = vault_book
    done = run(home, "paymethod", "add", "1", "--card", "-", "--expiry", "12/39", "--holder",
               "Ann Lee", "--db", str(book), "--json", stdin="4111 1111 1111 1111\n")
    assert done.code == 0, done.stderr
    card = json.loads(done.stdout)
    assert (card["masked"], card["brand"]) == ("411111******1111", "Visa")
    assert ok(home, book, "paymethod", "reveal", str(card["id"]))["number"] == VISA
    done = run(home, "paymethod", "add", "1", "--bank", "-", "--bank-name", "Barclays",
               "--holder", "Ann Lee", "--db", str(book), "--json", stdin=IBAN + "\n")
    assert done.code == 0 and json.loads(done.stdout)["masked"] == "****5432", done.stderr
    assert refused(home, book, "paymethod", "add", "1", "--card", "-", "--expiry", "12/39",
                   "--holder", "Ann") == "error: card: none given on standard input"
    bad = run(home, "paymethod", "add", "1", "--card", "-", "--expiry", "12/39", "--holder",
              "Ann", "--db", str(book), stdin="4111 1111 1111 1112\n")
    assert bad.code == 1 and bad.stderr.startswith("error: card") and "1112" not in bad.stderr


def test_a_number_given_as_dash_is_asked_without_echo_on_a_terminal(home, book):
    in_process(book, lambda: vault.set_passphrase(PHRASE, params=CHEAP))
    code, text = _on_a_terminal(home, ["paymethod", "add", "1", "--card", "-", "--expiry",
                                       "12/39", "--holder", "Ann", "--db", str(book)],
                                [MASTERCARD, PHRASE])
    assert code == 0 and "Card number:" in text and "Vault passphrase:" in text, text
    assert "555555******4444" in text and MASTERCARD not in text  # typed without echo


def test_the_command_line_is_redacted_for_the_log():
    from billdesk.cli.paymethods import redact

    assert redact(["paymethod", "add", "1", "--card", "4111 1111 1111 1111", "--expiry", "12/30",
                   "--cvv", "123", "--holder", "Ann", "--db", "b.sqlite3"]) == [
        "paymethod", "add", "1", "--card", "[hidden]", "--expiry", "12/30", "--cvv", "[hidden]",
        "--holder", "Ann", "--db", "b.sqlite3"]
    assert redact(["paymethod", "add", "1", "--bank=GB82WEST12345698765432", "--token",
                   "pm_1", "--car", "4111-1111-1111-1111"]) == [
        "paymethod", "add", "1", "--bank=[hidden]", "--token", "[hidden]", "--car", "[hidden]"]
    assert redact(["paymethod", "add", "--card"]) == ["paymethod", "add", "--card"]
