"""Delivery of the outbox over SMTP (E3), and the mail settings.

Every message is first written to the ``email`` table (services/mail.py,
in the transaction of the event that caused it); ``deliver()`` then sends
what is due, over one SMTP connection per call:

* each message is marked ``Sending`` in a committed transaction, sent with
  its stored Message-ID, then marked ``Sent`` (``sent_at``);
* the server unreachable (refused, timed out, TLS or login failing, a 4xx
  reply): the message stays ``Queued`` with the error, ``attempts`` + 1 and
  ``next_attempt`` moved on by the back-off (1, 5, 15, 60 minutes, then
  every 4 hours) — nothing is lost, it waits;
* refused for good (a 5xx reply, every recipient refused): ``Failed`` with
  the server's words; ``resend()`` queues it again.

Crash safety: only one delivery runs at a time (a lock file beside the
book, held by the operating system, so a killed process lets go of it).
A message found in ``Sending`` by the delivery that holds the lock was
therefore left there by a crash between sending it and marking it sent;
it is sent again, with the same Message-ID, and marked. So a crash at that
moment leads to **at most one resend** of that message, which the
recipient's mail program can recognise as the same message.

The SMTP password is never written to the database or the log: it goes to
the system keyring (the ``keyring`` package) where a usable one exists,
else to a file in the user's config folder that only the user can read
(mode 0600). ``password_store()`` says which."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.policy
import email.utils
import ipaddress
import logging
import mimetypes
import os
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from peewee import fn

from billdesk import paths
from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import Email, EmailAttachment, database, now as stamp_now
from billdesk.services import settings as base
from billdesk.services import validate

log = logging.getLogger("billdesk.outbox")

SECURITY = ("starttls", "tls", "none")
SECURITY_LABELS = {
    "starttls": "STARTTLS (usually port 587)",
    "tls": "TLS from the start (usually port 465)",
    "none": "None — not encrypted (usually port 25)",
}
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
BACKOFF_MINUTES = (1, 5, 15, 60)  # after the 1st, 2nd, 3rd, 4th failed try
LATER_BACKOFF_MINUTES = 240  # then every 4 hours, for as long as it takes
CLAIM_BATCH = 50  # messages marked 'Sending' per transaction
NOT_CONFIGURED = "Mail is not set up: enter your SMTP server in Settings → Mail."
BUSY = "Another delivery is running; the messages wait for it."

KEYRING_SERVICE = "billdesk"
KEYRING_USER = "smtp"
PASSWORD_FILE = "smtp-password"

_HOST = re.compile(r"^[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff.-]{0,251}[A-Za-z0-9\u00a0-\uffff])?$")


# --- settings -------------------------------------------------------------------

@dataclass(slots=True)
class MailSettings:
    """How to reach the owner's mail server (setting ``mail``). No host:
    mail is not set up, and messages wait in the outbox."""

    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    from_address: str = ""
    from_name: str = ""
    timeout: int = 30  # seconds to wait for the server
    bcc: str = ""  # comma-separated: a copy of every client email (WHMCS's "BCC Messages")

    @property
    def configured(self) -> bool:
        return bool(self.host.strip())

    @property
    def bcc_addresses(self) -> list[str]:
        return recipients((self.bcc or "").replace(";", ","), "")  # (each address once)

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        host = (self.host or "").strip()
        if host:
            found += _host_problems(host)
        port = _whole(self.port)
        if self.port is None or str(self.port).strip() == "":
            found.append(Problem("port", "is required: usually 587 for STARTTLS, 465 for TLS"))
        elif port is None or not 1 <= port <= 65535:
            found.append(Problem("port", f"{self.port!r} is not a port: "
                                         "give a whole number from 1 to 65535"))
        if (self.security or "").strip().lower() not in SECURITY:
            found.append(Problem("security", f"{self.security!r} is not one of "
                                             f"{', '.join(SECURITY)}"))
        if host or (self.from_address or "").strip():
            found += [Problem("from_address", "is required: messages are sent from it")
                      if p.message == "is required" else p
                      for p in validate.email_problems(self.from_address, "from_address")]
        for name, limit in (("username", 254), ("from_name", 100)):
            value = getattr(self, name) or ""
            if "\n" in value or "\r" in value:
                found.append(Problem(name, "must be on one line"))
            found += validate.max_length(value, name, limit)
        for address in self.bcc_addresses:
            found += validate.email_problems(address, "bcc")
        if len(self.bcc_addresses) > 10:
            found.append(Problem("bcc", "give at most 10 addresses"))
        timeout = _whole(self.timeout)
        if timeout is None or not 1 <= timeout <= 600:
            found.append(Problem("timeout", f"{self.timeout!r} is not a number of seconds "
                                            "from 1 to 600"))
        return found

    def cleaned(self) -> MailSettings:
        """Trimmed and typed; call ``problems()`` first (or after: the same)."""
        security = (self.security or "").strip().lower()
        return MailSettings(
            host=(self.host or "").strip(), port=_whole(self.port) or 0, security=security,
            username=(self.username or "").strip(), from_address=(self.from_address or "").strip(),
            from_name=(self.from_name or "").strip(), timeout=_whole(self.timeout) or 0,
            bcc=", ".join(self.bcc_addresses))



def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _host_problems(host: str) -> list[Problem]:
    if "://" in host or "/" in host or "@" in host or any(ch.isspace() for ch in host):
        return [Problem("host", f"{host!r} is not a server name: write only the name, "
                                "e.g. smtp.example.com")]
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host.strip("[]"))
        return []
    if len(host) > 253 or ".." in host or not _HOST.match(host):
        return [Problem("host", f"{host!r} is not a server name, e.g. smtp.example.com")]
    return []


def mail_settings() -> MailSettings:
    stored = base._get("mail", {}) or {}
    known = {f.name for f in fields(MailSettings)}
    value = MailSettings(**{k: v for k, v in stored.items() if k in known})
    return value


def save_mail_settings(value: MailSettings, password: str | None = None) -> MailSettings:
    """Check and store the settings; ``password`` (when not None) is kept
    in the password store ('' forgets it). Refuses with every problem,
    each naming its field, and then changes nothing. Messages waiting out
    a back-off (the old settings failed) are due again at once."""
    problems = value.problems()
    if password is not None and ("\n" in password or "\r" in password):
        problems.append(Problem("password", "must be on one line"))
    if problems:
        raise ValidationFailed(problems)
    value = value.cleaned()
    with database.atomic():
        base._put("mail", asdict(value))
        if value.configured:  # new settings: what waits out a back-off is tried at once
            _retry_now(stamp_now().replace(microsecond=0))
    if password is not None:
        set_password(password)
    return value


def is_configured() -> bool:
    return mail_settings().configured


# --- the password ----------------------------------------------------------------

def _keyring_service() -> str:
    """One entry per user; a portable install (BILLDESK_HOME) has its own."""
    home = os.environ.get("BILLDESK_HOME")
    return f"{KEYRING_SERVICE}:{Path(home).resolve()}" if home else KEYRING_SERVICE


def _keyring() -> Any | None:
    """The system keyring's backend when a usable one exists, else None
    (keyring's ``fail`` and ``null`` backends, or priority below 1)."""
    try:
        import keyring

        backend = keyring.get_keyring()
        priority = float(getattr(backend, "priority", 0))
    except Exception:  # noqa: BLE001 - no keyring at all is an answer, not an error
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")) or priority < 1:
        return None
    return backend


def keyring_name() -> str:
    """The keyring's name as the user knows it ('' when there is none)."""
    backend = _keyring()
    if backend is None:
        return ""
    return str(getattr(backend, "name", "") or type(backend).__name__)


def password_store() -> str:
    """'keyring' where a usable system keyring exists, else 'file'."""
    return "keyring" if _keyring() is not None else "file"


def password_file() -> Path:
    return paths.config_dir() / PASSWORD_FILE


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the user only (0600), atomically."""
    temp = path.with_name(path.name + ".new")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if fd >= 0:
            os.close(fd)
    if os.name == "posix":
        os.chmod(temp, 0o600)  # whatever the umask did
    os.replace(temp, path)


def set_password(password: str) -> str:
    """Keep the SMTP password ('' forgets it). Returns the store used:
    'keyring', or 'file' where no keyring is usable (or it refused)."""
    backend = _keyring()
    target = password_file()
    if not password:
        if backend is not None:
            with contextlib.suppress(Exception):
                backend.delete_password(_keyring_service(), KEYRING_USER)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return password_store()
    if backend is not None:
        try:
            backend.set_password(_keyring_service(), KEYRING_USER, password)
        except Exception as exc:  # noqa: BLE001 - a locked or broken keyring: use the file
            log.warning("the system keyring refused the SMTP password (%s); "
                        "keeping it in %s instead", type(exc).__name__, target)
            with contextlib.suppress(Exception):  # not an older one read back first
                backend.delete_password(_keyring_service(), KEYRING_USER)
        else:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return "keyring"
    try:
        _write_private(target, password)
    except OSError as exc:
        raise InvalidInput("password", f"could not be stored in {target}: {exc.strerror}") from exc
    return "file"


def get_password() -> str | None:
    """The stored SMTP password, or None."""
    backend = _keyring()
    if backend is not None:
        try:
            found = backend.get_password(_keyring_service(), KEYRING_USER)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not read the SMTP password from the keyring (%s)",
                        type(exc).__name__)
            found = None
        if found:
            return found
    try:
        return password_file().read_text(encoding="utf-8") or None
    except FileNotFoundError:
        return None


def has_password() -> bool:
    return get_password() is not None


# --- the connection --------------------------------------------------------------

SmtpFactory = Callable[["MailSettings", "str | None"], smtplib.SMTP]


def connect(settings: MailSettings, password: str | None) -> smtplib.SMTP:
    """An SMTP session to the server, encrypted as set and logged in when
    there is a user name. The certificate is checked against the system's
    trusted authorities (``SSL_CERT_FILE`` adds others)."""
    context = ssl.create_default_context()
    if settings.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                              timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS: choose TLS, or None if you trust "
                    "the network")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            if not smtp.has_extn("auth"):
                raise smtplib.SMTPNotSupportedError(
                    "the server offers no login (AUTH)"
                    + ("; it may need STARTTLS or TLS first" if settings.security == "none" else ""))
            _login(smtp, settings.username, password or "")
    except BaseException:
        with contextlib.suppress(Exception):
            smtp.close()
        raise
    return smtp


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in. smtplib sends only ASCII; a user name or password with
    other letters goes as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError(
            "the password has letters beyond ASCII and the server offers no AUTH PLAIN "
            "to send them")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):  # 503: already logged in
        raise smtplib.SMTPAuthenticationError(code, reply)


def describe(exc: BaseException, settings: MailSettings | None = None) -> str:
    """What went wrong, in words for the owner (never the password)."""
    where = f"{settings.host}:{settings.port}" if settings else "the server"
    if isinstance(exc, socket.gaierror):
        return f"server {settings.host if settings else ''!r} not found ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection (is the server running, is the port right?)"
    if isinstance(exc, (TimeoutError, socket.timeout)) or (
            # (smtplib's words for a reply that never came)
            isinstance(exc, smtplib.SMTPServerDisconnected) and str(exc).endswith("timed out")):
        return f"no answer from {where} within {settings.timeout if settings else '?'} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        hint = ""
        if settings and "WRONG_VERSION_NUMBER" in str(exc).upper():
            hint = (" (does the port expect STARTTLS rather than TLS? "
                    "STARTTLS is usually port 587, TLS port 465)")
        return f"the secure connection to {where} failed: {exc.reason or exc}{hint}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the login: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + "; ".join(
            f"{addr}: {_reply(code, text)}" for addr, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the sender {exc.sender} was refused: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server said: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection ({exc})" if str(exc) else f"{where} closed the connection"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"could not reach {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


def _permanent(exc: BaseException) -> bool:
    """Refused for good (5xx, every recipient refused for good), as
    opposed to "try again later"."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False  # the settings are wrong, not the message: it waits
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return isinstance(exc, (smtplib.SMTPNotSupportedError, UnicodeError, ValueError))


def test_connection(settings: MailSettings, password: str | None = None) -> None:
    """Connect, encrypt and log in as set, then hang up. Raises
    InvalidInput naming the field at fault (host, or password when the
    login is refused) with the reason."""
    problems = settings.problems()
    if not settings.configured:
        problems.insert(0, Problem("host", "is required to send mail"))
    if problems:
        raise ValidationFailed(problems)
    settings = settings.cleaned()
    if password is None:
        password = get_password()
    try:
        smtp = connect(settings, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise InvalidInput("password", describe(exc, settings)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise InvalidInput("host", describe(exc, settings)) from exc
    with contextlib.suppress(Exception):
        smtp.quit()


def send_test_email(settings: MailSettings, password: str | None = None,
                    to: str | None = None) -> str:
    """Send a short message straight to ``to`` (default: the sender
    address) with these settings, not through the outbox. Returns the
    address it went to; raises InvalidInput like ``test_connection``."""
    to = (to or settings.from_address or "").strip()
    problems = settings.problems() + validate.email_problems(to, "to")
    if not settings.configured:
        problems.insert(0, Problem("host", "is required to send mail"))
    if problems:
        raise ValidationFailed(problems)
    settings = settings.cleaned()
    if password is None:
        password = get_password()
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Message-ID"] = email.utils.make_msgid("billdesk.test", _domain(settings.from_address))
    msg["Date"] = email.utils.format_datetime(stamp_now().astimezone())
    msg["From"] = _from_header(settings)
    msg["To"] = to
    msg["Subject"] = "billdesk test email"
    msg.set_content("This is a test email from billdesk.\n\n"
                    f"It was sent through {settings.host}:{settings.port} "
                    f"({SECURITY_LABELS[settings.security].split(' (')[0]}).\n"
                    "Your mail settings work.\n")
    try:
        smtp = connect(settings, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise InvalidInput("password", describe(exc, settings)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise InvalidInput("host", describe(exc, settings)) from exc
    try:
        smtp.send_message(msg, from_addr=settings.from_address, to_addrs=[to])
    except (OSError, smtplib.SMTPException) as exc:
        raise InvalidInput("to" if isinstance(exc, smtplib.SMTPRecipientsRefused) else "host",
                           describe(exc, settings)) from exc
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()
    return to


# --- the messages ----------------------------------------------------------------

def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "billdesk.invalid"


def _from_header(settings: MailSettings) -> Address:
    user, _, domain = settings.from_address.rpartition("@")
    return Address(display_name=settings.from_name, username=user, domain=domain)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def recipients(to_addr: str, cc: str) -> list[str]:
    """The envelope's recipients: To, then Cc, each address once."""
    seen: set[str] = set()
    found: list[str] = []
    for _name, addr in email.utils.getaddresses([to_addr or "", cc or ""]):
        addr = addr.strip()
        if addr and addr.lower() not in seen:
            seen.add(addr.lower())
            found.append(addr)
    return found


def attachment_bytes(kind: str, ref_id: int | None, content: bytes | None) -> bytes:
    """An attachment's bytes: invoice and quote PDFs are drawn now, from
    the document as it is; 'data' is what was stored."""
    if kind == "invoice":
        from billdesk.services import documents

        return documents.invoice_pdf(int(ref_id or 0))
    if kind == "quote":
        from billdesk.services import quote_documents

        return quote_documents.quote_pdf(int(ref_id or 0))
    return bytes(content or b"")


def build_message(email_id: int, settings: MailSettings | None = None) -> EmailMessage:
    """The stored message as it goes out: its Message-ID, From the mail
    settings, To, Cc, Date (when it was written), plain-text body and the
    attachments (invoice/quote PDFs drawn now)."""
    settings = settings or mail_settings()
    row = Email.get_or_none(Email.id == email_id)
    if row is None:
        raise NotFound("email", f"no email with id {email_id}")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Message-ID"] = row.message_id
    created = row.created_at if isinstance(row.created_at, dt.datetime) else stamp_now()
    msg["Date"] = email.utils.format_datetime(created.astimezone())
    msg["From"] = _from_header(settings)
    msg["To"] = row.to_addr
    if (row.cc or "").strip():
        msg["Cc"] = row.cc
    msg["Subject"] = _one_line(row.subject)
    body = row.body or ""
    # quoted-printable for any non-ASCII text: 7-bit clean for every server
    msg.set_content(body, cte=None if body.isascii() else "quoted-printable")
    for att in (EmailAttachment.select().where(EmailAttachment.email == email_id)
                .order_by(EmailAttachment.position, EmailAttachment.id)):
        try:
            data = attachment_bytes(att.kind, att.ref_id, att.content)
        except NotFound as exc:
            raise NotFound("attachment", f"{att.filename}: {exc.message}") from exc
        mime = ("application/pdf" if att.kind in ("invoice", "quote")
                else mimetypes.guess_type(att.filename)[0] or "application/octet-stream")
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg


# --- delivery --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one ``deliver()`` did. ``waiting``: messages still queued
    after it (due later, or put back by this call); ``deferred``: those
    this call tried and put back; ``reason``: why it sent nothing or
    stopped (not set up, the server unreachable, …), '' when all went."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    deferred: int = 0
    reason: str = ""


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after ``attempts`` failed tries (1-based)."""
    minutes = (BACKOFF_MINUTES[attempts - 1] if 1 <= attempts <= len(BACKOFF_MINUTES)
               else LATER_BACKOFF_MINUTES)
    return dt.timedelta(minutes=minutes)


def _due(now: dt.datetime, limit: int | None, below: int | None = None) -> list[int]:
    """Messages to send now, oldest first: those a crash left in 'Sending',
    and queued ones whose time has come (``below``: older than this one)."""
    query = (Email.select(Email.id)
             .where((Email.status == "Sending")
                    | ((Email.status == "Queued") & (Email.pending == False)  # noqa: E712
                       & (Email.next_attempt.is_null() | (Email.next_attempt <= now))))
             .order_by(Email.id))
    if below is not None:
        query = query.where(Email.id < below)
    if limit is not None:
        query = query.limit(max(int(limit), 0))
    return [i for (i,) in query.tuples()]


def due(now: dt.datetime | None = None) -> bool:
    """Whether a message's time has come: queued with no back-off left (or
    one still to be written), or one a crash left 'Sending' — what the
    window's courier asks each minute before it delivers. Read from the
    partial index ``email_outbox`` (statuses written out, see
    ``waiting_count``)."""
    now = (now or stamp_now()).replace(microsecond=0)
    return database.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM email WHERE status IN ('Queued', 'Sending') "
        "AND (status = 'Sending' OR next_attempt IS NULL OR next_attempt <= ?))",
        (now.isoformat(sep=" "),)).fetchone()[0] == 1


# The error of a message billdesk held back on purpose (its invoice was
# cancelled or paid, it went stale) rather than one the server refused.
HELD_BACK = "Not sent: "


def held_back(error: str | None) -> bool:
    return (error or "").startswith(HELD_BACK)


def waiting_count() -> int:
    """Messages in the outbox (queued or being sent). The statuses are
    written out, not bound: then the partial index ``email_outbox``, whose
    WHERE they match, answers the count without reading the whole log."""
    return database.execute_sql(
        "SELECT count(*) FROM email WHERE status IN ('Queued', 'Sending')").fetchone()[0]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox: how many, since when, and the newest's id."""

    count: int
    oldest: dt.datetime | None
    newest_id: int | None


def backlog() -> Backlog:
    count, oldest, newest = database.execute_sql(
        "SELECT count(*), min(created_at), max(id) FROM email "
        "WHERE status IN ('Queued', 'Sending')").fetchone()
    return Backlog(count, None if oldest is None else dt.datetime.fromisoformat(str(oldest)),
                   newest)


WAITED_FOR_MAIL = "it waited for mail to be set up"


def hold_back_waiting(upto: int, why: str = WAITED_FOR_MAIL) -> int:
    """The messages waiting in the outbox (Queued; those 'Sending' are in a
    delivery's hands) up to id ``upto`` — the backlog the user was asked
    about, not what a run queued meanwhile — are not sent: Failed, "Not
    sent: {why}", kept in the Email log, where Resend (asking first) still
    sends one. What the Settings window does when mail is first set up and
    the user does not want the backlog sent. Returns how many."""
    with database.atomic():
        return database.execute_sql(
            "UPDATE email SET status = 'Failed', error = ?, next_attempt = NULL "
            "WHERE status = 'Queued' AND id <= ?", (HELD_BACK + why, upto)).rowcount


@dataclass(frozen=True, slots=True)
class Trouble:
    """Why mail waits: the error the latest try met (the server's words,
    or that it did not answer) and when the first message is due again."""

    error: str
    next_try: dt.datetime | None


def trouble() -> Trouble | None:
    """What went wrong when the waiting mail was last tried, or None when
    nothing waiting has been tried and put back. Read from the outbox's
    partial index, like ``waiting_count``."""
    row = database.execute_sql(
        "SELECT error FROM email WHERE status IN ('Queued', 'Sending') AND attempts > 0 "
        "AND error <> '' ORDER BY next_attempt DESC, id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    first = database.execute_sql(
        "SELECT min(next_attempt) FROM email WHERE status IN ('Queued', 'Sending') "
        "AND attempts > 0 AND error <> ''").fetchone()[0]
    return Trouble(row[0], Email.next_attempt.python_value(first) if first else None)


def _claim(ids: Sequence[int], now: dt.datetime) -> list[int]:
    """Mark these 'Sending' (committed before anything is sent)."""
    with database.atomic():
        stale = [i for (i,) in Email.select(Email.id).where(
            Email.id.in_(ids), Email.status == "Sending").tuples()]
        if stale:
            log.warning("email %s was left in 'Sending' (a crash before it was marked sent); "
                        "sending it again with the same Message-ID", ", ".join(map(str, stale)))
        (Email.update(status="Sending")
         .where(Email.id.in_(ids), Email.status == "Queued",
                Email.next_attempt.is_null() | (Email.next_attempt <= now))
         .execute())
        return [i for (i,) in Email.select(Email.id).where(
            Email.id.in_(ids), Email.status == "Sending").order_by(Email.id).tuples()]


def _defer(ids: Sequence[int], now: dt.datetime, error: str) -> int:
    """Back to 'Queued' with the error; the next try after the back-off."""
    if not ids:
        return 0
    with database.atomic():
        rows = list(Email.select(Email.id, Email.attempts)
                    .where(Email.id.in_(ids), Email.status.in_(("Queued", "Sending"))).tuples())
        by_attempts: dict[int, list[int]] = {}
        for email_id, attempts in rows:
            by_attempts.setdefault(attempts + 1, []).append(email_id)
        for attempts, group in by_attempts.items():
            (Email.update(status="Queued", attempts=attempts, error=error,
                          next_attempt=now + backoff(attempts))
             .where(Email.id.in_(group)).execute())
    return len(rows)


def _release(ids: Sequence[int]) -> None:
    """Claimed but not tried: back to 'Queued' as they were."""
    if ids:
        with database.atomic():
            (Email.update(status="Queued")
             .where(Email.id.in_(list(ids)), Email.status == "Sending").execute())


def _fail(email_id: int, error: str) -> None:
    with database.atomic():
        (Email.update(status="Failed", attempts=Email.attempts + 1, error=error, next_attempt=None)
         .where(Email.id == email_id).execute())


def _mark_sent(email_id: int, refused: dict[str, tuple[int, bytes]]) -> None:
    note = ""
    if refused:
        note = "some recipients were refused: " + "; ".join(
            f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items())
    with database.atomic():
        (Email.update(status="Sent", sent_at=stamp_now(), attempts=Email.attempts + 1,
                      error=note, next_attempt=None)
         .where(Email.id == email_id).execute())


_thread_lock = threading.Lock()


def _lock_path() -> Path:
    name = getattr(database.obj, "database", "") if database.obj is not None else ""
    if name and name != ":memory:" and not str(name).startswith("file:"):
        return Path(f"{name}.outbox-lock")
    return paths.data_dir() / "outbox.lock"


def _open_lock() -> int:
    path = _lock_path()
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # the book's folder is read-only: lock in the data folder
        import hashlib

        digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
        return os.open(paths.data_dir() / f"outbox-{digest}.lock", os.O_RDWR | os.O_CREAT, 0o600)


class _Held:
    """The delivery lock, held: one delivery at a time, across threads and
    processes. The operating system releases it when its process dies
    (even by kill -9), so a delivery holding it knows any 'Sending' row is
    a crash's leftover. It may be let go on another thread than the one
    that took it (``take`` and ``record``)."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def take(cls) -> _Held | None:
        """The lock, or None when another delivery holds it."""
        if not _thread_lock.acquire(blocking=False):
            return None
        try:
            fd = _open_lock()
        except BaseException:
            _thread_lock.release()
            raise
        if not _try_lock(fd):
            os.close(fd)
            _thread_lock.release()
            return None
        return cls(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            try:
                _unlock(fd)
            finally:
                os.close(fd)
        finally:
            _thread_lock.release()


@contextlib.contextmanager
def _delivery_lock() -> Iterator[bool]:
    """Whether this delivery holds the lock (see ``_Held``), for its span."""
    held = _Held.take()
    try:
        yield held is not None
    finally:
        if held is not None:
            held.release()


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def deliver(*, now: dt.datetime | None = None, limit: int | None = None,
            smtp_factory: SmtpFactory | None = None, retry_now: bool = False) -> DeliveryResult:
    """Send what is due (see the module's notes), over one connection.
    ``now``: the time to compare ``next_attempt`` with and to count the
    back-off from (default: ``models.now()``); ``limit``: at most this
    many messages; ``smtp_factory(settings, password)``: opens the session
    (default ``connect``); ``retry_now``: messages waiting out a back-off
    are tried now too (the Emails tab's Send now). Not set up: sends
    nothing and says so."""
    now = (now or stamp_now()).replace(microsecond=0)
    settings = mail_settings()
    if not settings.configured or not settings.from_address:
        return DeliveryResult(waiting=waiting_count(), reason=NOT_CONFIGURED)
    with _delivery_lock() as held:
        if not held:
            return DeliveryResult(waiting=waiting_count(), reason=BUSY)
        if retry_now:
            _retry_now(now)
        return _deliver(settings, now, limit, smtp_factory or connect)


def _retry_now(now: dt.datetime) -> None:
    """Messages waiting out a back-off are due now (Send now)."""
    with database.atomic():
        (Email.update(next_attempt=now)
         .where(Email.status == "Queued", Email.next_attempt > now).execute())


def _deliver(settings: MailSettings, now: dt.datetime, limit: int | None,
             factory: SmtpFactory) -> DeliveryResult:
    from billdesk.services import mail

    mail.render_pending()  # queued by a bulk run: nothing goes out without its text
    mail.withhold_stale(now.date())  # "is due on" a day gone by: not sent
    due = _due(now, limit)
    if not due:
        return DeliveryResult(waiting=waiting_count())
    try:
        smtp = factory(settings, get_password() if settings.username else None)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        error = describe(exc, settings)
        log.warning("mail not sent, will retry: %s", error)
        deferred = _defer(due, now, error)
        return DeliveryResult(waiting=waiting_count(), deferred=deferred, reason=error)
    sent = failed = deferred = 0
    reason = ""
    try:
        remaining = list(due)
        while remaining and not reason:
            batch, remaining = remaining[:CLAIM_BATCH], remaining[CLAIM_BATCH:]
            claimed = _claim(batch, now)
            for index, email_id in enumerate(claimed):
                try:
                    outcome, error = _send_one(smtp, settings, email_id)
                except BaseException:
                    # (a bug, or the process stopping): this one may have gone
                    # out, so it stays 'Sending' (sent again once, next time);
                    # the rest of the batch was not tried and just waits
                    _release(claimed[index + 1:])
                    raise
                if outcome == "sent":
                    sent += 1
                elif outcome == "failed":
                    failed += 1
                elif outcome == "later":
                    deferred += _defer([email_id], now, error)
                elif outcome == "lost":  # the connection is gone: everything left waits
                    reason = error
                    deferred += _defer(claimed[index:] + remaining, now, error)
                    break
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()
    log.info("mail delivered: %d sent, %d failed, %d put back", sent, failed, deferred)
    return DeliveryResult(sent=sent, failed=failed, waiting=waiting_count(), deferred=deferred,
                          reason=reason)


def _send_one(smtp: smtplib.SMTP, settings: MailSettings, email_id: int) -> tuple[str, str]:
    """Send one claimed message: ('sent'|'failed'|'later'|'lost'|'gone', error)."""
    ready = _put_together(email_id, settings)
    if not isinstance(ready, _Ready):
        return ready
    outcome, error, refused = _transmit(smtp, settings, ready)
    if outcome == "sent":
        _mark_sent(email_id, refused)
    elif outcome == "failed":
        _fail(email_id, error)
    return outcome, error


@dataclass(frozen=True, slots=True)
class _Ready:
    """A claimed message put together: what goes to the server."""

    email_id: int
    message: EmailMessage
    to: list[str]
    bcc: tuple[str, ...] = ()  # the owner's copies: a transaction of their own


def _put_together(email_id: int, settings: MailSettings) -> _Ready | tuple[str, str]:
    """The message as it goes out, or ('gone', '') when it was deleted
    meanwhile, or ('failed', error) — marked Failed — when it cannot be
    put together (a broken message must not stop the others)."""
    try:
        msg = build_message(email_id, settings)
    except NotFound as exc:
        if exc.field == "email":  # gone meanwhile (its client deleted)
            return "gone", ""
        _fail(email_id, str(exc.message))
        return "failed", exc.message
    except Exception as exc:  # noqa: BLE001
        log.exception("email %s could not be built", email_id)
        error = f"the message could not be put together: {type(exc).__name__}: {exc}"
        _fail(email_id, error)
        return "failed", error
    to = recipients(msg.get("To", ""), msg.get("Cc", ""))
    if not to:
        _fail(email_id, "the message has no recipient")
        return "failed", "the message has no recipient"
    # the owner's Bcc copies: never in a header, and sent apart (_transmit), so that
    # whether the client's copy went is judged on the client's addresses alone
    taken = {t.lower() for t in to}
    return _Ready(email_id, msg, to, tuple(a for a in settings.bcc_addresses
                                           if a.lower() not in taken))


def _transmit(smtp: smtplib.SMTP, settings: MailSettings, ready: _Ready
              ) -> tuple[str, str, dict[str, tuple[int, bytes]]]:
    """Hand one message to the server; no database here. ('sent', '',
    recipients refused) or ('failed'|'later'|'lost', error, {})."""
    try:
        refused = smtp.send_message(ready.message, from_addr=settings.from_address,
                                    to_addrs=ready.to)
    except (OSError, smtplib.SMTPException) as exc:
        error = describe(exc, settings)
        if _lost(exc):
            log.warning("mail connection lost at email %s, will retry: %s", ready.email_id, error)
            return "lost", error, {}
        if _permanent(exc):
            log.warning("email %s refused: %s", ready.email_id, error)
            return "failed", error, {}
        log.info("email %s not accepted yet, will retry: %s", ready.email_id, error)
        return "later", error, {}
    if ready.bcc:  # the owner's copy: its failure is only logged (never the client's record)
        try:
            smtp.send_message(ready.message, from_addr=settings.from_address,
                              to_addrs=list(ready.bcc))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("the Bcc copy of email %s was not taken: %s", ready.email_id,
                        describe(exc, settings))
    return "sent", "", refused


# --- delivery in three parts, for the window ------------------------------------
#
# The window must not hold its one database worker while a mail server
# answers slowly, or not at all (up to the timeout, once per message). So
# its deliveries come in three parts: ``take`` claims a batch and puts its
# messages together (on the worker), ``send`` hands them to the server (on
# a thread of its own, without the database) and ``record`` marks what
# happened (on the worker again). The delivery lock is held from ``take``
# to ``record``: no other delivery, in this process or another, takes the
# claimed messages for a crash's leftovers meanwhile.

@dataclass(slots=True)
class Outgoing:
    """A batch claimed ('Sending') and put together by ``take``."""

    settings: MailSettings
    password: str | None
    now: dt.datetime
    ready: list[_Ready]
    failed: int  # marked Failed: could not be put together (take), or refused (record)
    lock: _Held
    # what ``send`` has done so far, and the message it is handing over
    # (read by ``record_interrupted`` while it runs)
    outcomes: list[Outcome] = field(default_factory=list)
    in_hand: int | None = None
    # what ``record`` has marked so far, and the batch's counts
    marked: set[int] = field(default_factory=set)
    sent: int = 0
    deferred: int = 0
    reason: str = ""
    recorded: bool = False

    def __len__(self) -> int:
        return len(self.ready)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``send`` did with one message: 'sent', 'failed', 'later',
    'lost' (the connection: tried again after the back-off), 'untried'
    (put back as it was) or 'unknown' (it may have gone: left 'Sending',
    sent once more by the next delivery)."""

    email_id: int
    what: str
    error: str = ""
    refused: dict[str, tuple[int, bytes]] | None = None


def take(*, now: dt.datetime | None = None, limit: int = CLAIM_BATCH,
         retry_now: bool = False) -> Outgoing | DeliveryResult:
    """Claim up to ``limit`` due messages and put them together (on the
    database worker). A DeliveryResult when there is nothing to send: mail
    not set up, another delivery running, nothing due, or none that could
    be put together."""
    now = (now or stamp_now()).replace(microsecond=0)
    settings = mail_settings()
    if not settings.configured or not settings.from_address:
        return DeliveryResult(waiting=waiting_count(), reason=NOT_CONFIGURED)
    lock = _Held.take()
    if lock is None:
        return DeliveryResult(waiting=waiting_count(), reason=BUSY)
    claimed: list[int] = []
    try:
        if retry_now:
            _retry_now(now)
        from billdesk.services import mail

        mail.render_pending(limit)  # the oldest first, as many as go; none sent before them
        due = _due(now, limit, database.execute_sql(
            "SELECT min(id) FROM email WHERE pending = 1").fetchone()[0])
        claimed = _claim(due, now) if due else []
        ready: list[_Ready] = []
        failed = 0
        for email_id in claimed:
            found = _put_together(email_id, settings)
            if isinstance(found, _Ready):
                ready.append(found)
            elif found[0] == "failed":
                failed += 1
        password = get_password() if ready and settings.username else None
    except BaseException:
        try:
            _release(claimed)
        finally:
            lock.release()
        raise
    if not ready:
        lock.release()
        return DeliveryResult(failed=failed, waiting=waiting_count())
    return Outgoing(settings, password, now, ready, failed, lock)


def send(outgoing: Outgoing, smtp_factory: SmtpFactory | None = None, *,
         stop: threading.Event | None = None,
         on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Hand the batch to the server over one connection. Touches no
    database (it runs beside the worker) and never raises: what befell
    each message is in the outcomes, for ``record`` — kept in
    ``outgoing.outcomes`` as they come, with the message in hand, so that
    ``record_interrupted`` can mark what went if billdesk closes meanwhile.
    Once ``stop`` is set the messages not yet handed over are left untried.
    ``on_outcome`` hears of each message as the server takes or refuses it
    (on this thread)."""
    settings = outgoing.settings
    done = outgoing.outcomes

    def rest(index: int, what: str, error: str = "") -> None:
        done.extend(Outcome(r.email_id, what, error) for r in outgoing.ready[index:])

    if stop is not None and stop.is_set():
        rest(0, "untried")
        return done
    try:
        smtp = (smtp_factory or connect)(settings, outgoing.password)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        error = describe(exc, settings)
        log.warning("mail not sent, will retry: %s", error)
        rest(0, "lost", error)
        return done
    except BaseException as exc:  # noqa: BLE001 — a bug: nothing went, all wait
        log.exception("mail connection failed")
        rest(0, "untried", str(exc))
        return done
    try:
        for index, ready in enumerate(outgoing.ready):
            if stop is not None and stop.is_set():
                rest(index, "untried")
                break
            outgoing.in_hand = ready.email_id
            try:
                what, error, refused = _transmit(smtp, settings, ready)
            except BaseException:  # noqa: BLE001 — a bug: this one may have gone
                log.exception("email %s: sending stopped", ready.email_id)
                done.append(Outcome(ready.email_id, "unknown"))
                rest(index + 1, "untried")
                break
            done.append(Outcome(ready.email_id, what, error, refused))
            if on_outcome is not None and what in ("sent", "failed"):
                with contextlib.suppress(Exception):  # (never stops the sending)
                    on_outcome(done[-1])
            if what == "lost":  # the connection is gone: the rest waits with it
                rest(index + 1, "lost", error)
                break
    finally:
        outgoing.in_hand = None
        with contextlib.suppress(Exception):
            smtp.quit()
    return done


def record_interrupted(outgoing: Outgoing) -> DeliveryResult:
    """billdesk closing while ``send`` is still with the server: mark what
    it did so far; the message in hand stays 'Sending' (it may have gone:
    sent once more next time), the rest go back as they were."""
    in_hand = outgoing.in_hand  # (read before the outcomes: see send)
    done = list(outgoing.outcomes)
    if in_hand is not None and in_hand not in {o.email_id for o in done}:
        done.append(Outcome(in_hand, "unknown"))
    return record(outgoing, done)


def record(outgoing: Outgoing, outcomes: Sequence[Outcome], *,
           final: bool = True) -> DeliveryResult:
    """Mark what ``send`` did (on the database worker). The window marks
    the outcomes as they come (``final=False``: a message sent is 'Sent'
    within a moment, so a crash meanwhile resends next to nothing), then
    once more at the end of the batch, which also puts back a message with
    no outcome (``send`` never reached it) and lets go of the delivery
    lock. Each message is marked once; after the final call nothing more
    changes (the send's own report after ``record_interrupted``). The
    result counts the whole batch."""
    if outgoing.recorded:
        return DeliveryResult(waiting=waiting_count())
    try:
        fresh = [o for o in outcomes if o.email_id not in outgoing.marked]
        outgoing.marked.update(o.email_id for o in fresh)
        later: dict[str, list[int]] = {}
        untried: list[int] = []
        for o in fresh:
            if o.what == "sent":
                _mark_sent(o.email_id, o.refused or {})
                outgoing.sent += 1
            elif o.what == "failed":
                _fail(o.email_id, o.error)
                outgoing.failed += 1
            elif o.what in ("later", "lost"):
                later.setdefault(o.error, []).append(o.email_id)
                if o.what == "lost":
                    outgoing.reason = o.error
            elif o.what == "untried":
                untried.append(o.email_id)
        for error, ids in later.items():
            outgoing.deferred += _defer(ids, outgoing.now, error)
        if final:
            untried += [r.email_id for r in outgoing.ready if r.email_id not in outgoing.marked]
        _release(untried)
    finally:
        if final:
            outgoing.recorded = True
            outgoing.lock.release()
    if final:
        log.info("mail delivered: %d sent, %d failed, %d put back", outgoing.sent,
                 outgoing.failed, outgoing.deferred)
    return DeliveryResult(sent=outgoing.sent, failed=outgoing.failed, waiting=waiting_count(),
                          deferred=outgoing.deferred, reason=outgoing.reason)


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code in (-1, 421)
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def resend(email_id: int) -> int:
    """Put a failed message back in the outbox, due now, keeping its
    Message-ID (it never arrived); a sent one — or one billdesk held back
    on purpose ("Not sent: …"), which would be held back again — is sent
    again as a new message (a copy with its attachments and a new Message-ID, so the
    recipient's mail program shows it again), and the first stays in the
    log as sent when it was. Returns the id of the message queued."""
    with database.atomic():
        row = Email.get_or_none(Email.id == email_id)
        if row is None:
            raise NotFound("email", f"no email with id {email_id}")
        if row.status not in ("Failed", "Sent"):
            raise Conflict("status", f"the message is {row.status.lower()} already; "
                                     "only a failed or sent message can be sent again")
        if row.pending:  # held back before its text was written: written now, then sent
            from billdesk.services import mail

            mail.render_pending(only=[email_id])
            row = Email.get_or_none(Email.id == email_id)
            if row is None:
                raise NotFound("email", f"email {email_id} is gone: its template is switched "
                                        "off")
        if row.status == "Failed" and not held_back(row.error):
            (Email.update(status="Queued", next_attempt=stamp_now(), error="", attempts=0,
                          sent_at=None)
             .where(Email.id == email_id).execute())
            return email_id
        when = stamp_now()
        copy = Email.create(client=row.client_id, template=row.template, event_key=None,
                            message_id=_new_message_id(row.message_id), to_addr=row.to_addr,
                            cc=row.cc, subject=row.subject, body=row.body, status="Queued",
                            next_attempt=when, created_at=when)
        for attachment in row.attachments.order_by(EmailAttachment.position):
            EmailAttachment.create(email=copy.id, position=attachment.position,
                                   filename=attachment.filename, kind=attachment.kind,
                                   ref_id=attachment.ref_id, content=attachment.content)
        return copy.id


def _new_message_id(message_id: str) -> str:
    """``<a.b@d>`` → ``<a.b.r2@d>`` (the first free ``.rN``)."""
    inner = message_id.strip().strip("<>")
    local, _, domain = inner.rpartition("@")
    local = re.sub(r"\.r\d+$", "", local)
    n = 2
    while True:
        candidate = f"<{local}.r{n}@{domain}>"
        if not Email.select().where(Email.message_id == candidate).exists():
            return candidate
        n += 1


def outbox_counts() -> dict[str, int]:
    """How many messages are in each state."""
    rows = Email.select(Email.status, fn.COUNT(Email.id)).group_by(Email.status).tuples()
    counts = {status: 0 for status in ("Queued", "Sending", "Sent", "Failed")}
    counts.update(dict(rows))
    return counts
