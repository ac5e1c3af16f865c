"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, on a free
port, keeping every message it accepts.

    server = SmtpServer(tmp_path)            # STARTTLS + login (billdesk / the PASSWORD)
    server.start()
    server.configure()                        # billdesk's mail settings point at it
    ...
    server.messages[0].message["Subject"]     # what arrived (email.message.EmailMessage)
    server.messages[0].rcpt_tos               # the envelope's recipients (To and Cc)
    server.stop(); server.start()             # down and back up, on the same port

Modes: ``"starttls"`` (plain connection, STARTTLS offered and required for
login), ``"tls"`` (TLS from the first byte, like port 465) and ``"none"``.
The certificate is made here, signed by a throw-away authority whose
certificate is at ``server.ca_file``; point ``SSL_CERT_FILE`` at it (the
``smtp_server`` fixture in tests/conftest.py does) and billdesk's own
certificate check trusts the test server and nothing else changes.

Misbehaviour on demand: ``server.refuse`` (addresses answered 550 at RCPT),
``server.data_reply`` (e.g. ``"554 5.7.1 Rejected"`` or
``"451 4.3.0 Try later"`` instead of accepting the message).
Import as ``from smtp_helpers import SmtpServer`` (tests/ is on pytest's
path), or ``from tests.smtp_helpers import …`` under ``python -m pytest``;
or take the ``smtp_server`` fixture (tests/conftest.py): a started
STARTTLS + login server, trusted, with no real keyring touched."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

USER = "billdesk"
PASSWORD = "pa55 wörd!"  # a space and a non-ASCII letter, on purpose
HOST = "127.0.0.1"


@dataclass
class Received:
    """One accepted message: the envelope and the message as parsed."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None
    tls: bool
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        self.message = email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def body(self) -> str:
        """The plain-text body, with the wire's CRLF line ends back to "\\n"."""
        part = self.message.get_body(("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(filename, content type, bytes) of each attachment."""
        return [(part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True))
                for part in self.message.iter_attachments()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away authority and a server certificate it signed, for
    localhost and 127.0.0.1: (ca.pem, server.pem, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "billdesk test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


class _Handler:
    """aiosmtpd handler: keeps what it accepts; refuses on demand."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in {a.lower() for a in self.server.refuse}:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.server.data_reply:
            return self.server.data_reply
        login = session.auth_data if session.authenticated else None
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        tls = self.server.mode == "tls" or session.ssl is not None
        self.server.messages.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                             or envelope.content),
            login if login else None, tls))
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's Controller on 127.0.0.1; see the module's notes."""

    def __init__(self, folder: Path, *, mode: str = "starttls", user: str | None = USER,
                 password: str = PASSWORD, port: int | None = None) -> None:
        if mode not in ("starttls", "tls", "none"):
            raise ValueError(mode)
        self.folder = folder
        self.mode = mode
        self.user = user  # None: no login offered
        self.password = password
        self.host = HOST
        self.port = port or free_port()
        self.messages: list[Received] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        self.refuse: set[str] = set()
        self.data_reply: str | None = None
        self.ca_file, self._cert, self._key = make_certificates(folder / "certs")
        self._controller: Any = None

    # --- life -------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._cert, self._key)
        return context

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = login == self.user and auth_data.password.decode("utf-8", "replace") == self.password
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        # aiosmtpd itself logs "Session.login_data is deprecated" at every login
        logging.getLogger("mail.log").setLevel(logging.ERROR)

        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port,
                                  "server_hostname": "localhost", "ready_timeout": 10}
        if self.mode == "starttls":
            kwargs.update(tls_context=self._context(), require_starttls=False)
        elif self.mode == "tls":
            kwargs.update(ssl_context=self._context())
        if self.user is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.mode == "starttls",
                          auth_required=False)  # (TLS mode: encrypted from the start)
        deadline = time.monotonic() + 5
        while True:  # the port may linger a moment after a stop
            try:
                controller = Controller(_Handler(self), **kwargs)
                controller.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._controller = controller
        return self

    def stop(self) -> None:
        """Take the server down: connections are refused until ``start``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- billdesk's side ---------------------------------------------------------
    def mail_settings(self, **overrides: Any) -> Any:
        """billdesk MailSettings pointing at this server."""
        from billdesk.services.outbox import MailSettings

        values: dict[str, Any] = {
            "host": self.host, "port": self.port, "security": self.mode,
            "username": self.user or "", "from_address": "accounts@billdesk.example",
            "from_name": "Billdesk Accounts", "timeout": 5}
        values.update(overrides)
        return MailSettings(**values)

    def configure(self, **overrides: Any) -> Any:
        """Save billdesk's mail settings (and password) for this server
        (needs the book open)."""
        from billdesk.services import outbox

        return outbox.save_mail_settings(self.mail_settings(**overrides),
                                         self.password if self.user else "")

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The messages, once at least ``count`` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} message(s) arrived, "
                                     f"expected {count}")
            time.sleep(0.02)
        return self.messages


def no_keyring(monkeypatch: Any) -> None:
    """Keep the password in the file store, whatever keyring the machine
    has: tests never write to a real keyring."""
    from billdesk.services import outbox

    monkeypatch.setattr(outbox, "_keyring", lambda: None)


def smtp_server_fixture(tmp_path: Path, monkeypatch: Any, mode: str = "starttls"):  # noqa: ANN201
    """The body of the ``smtp_server`` fixture: a started server, trusted
    through SSL_CERT_FILE, no real keyring; stopped afterwards."""
    server = SmtpServer(tmp_path / "smtp", mode=mode)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    no_keyring(monkeypatch)
    server.start()
    try:
        yield server
    finally:
        server.stop()
