"""The card and bank vault (K2): envelope encryption of stored numbers.

A random 256-bit *data key* encrypts each number with AES-GCM (a random
96-bit nonce per value; the table, row id and column are the associated
data, so a ciphertext copied to another row or column no longer decrypts).
The data key itself is stored only *wrapped*: encrypted with AES-GCM under a
key-encryption key derived from the owner's passphrase with Argon2id. The
salt and the Argon2id parameters are in the ``vault`` row, so each book
describes itself. Changing the passphrase re-wraps the same data key (the
numbers are never re-encrypted).

The passphrase, the derived keys and the data key are never written
anywhere — not to the database, the settings, nor the log. A ``Key`` lives
in memory only; the window keeps the one it unlocked in a process-wide
holder (``remember`` / ``unlocked`` / ``forget``) so the owner types the
passphrase once per session.

Argon2id costs ``KdfParams()`` (64 MiB, 3 passes, 4 lanes: about 0.15 s on
the development machine), above OWASP's minimum ``MINIMUM`` (19 MiB, 2
passes). Only an explicit ``params=`` argument chooses other parameters —
the tests pass cheap ones (e.g. ``KdfParams(1024, 1, 1)``) to stay fast;
there is deliberately no setting or environment variable for it.

Two failures are told apart: ``InvalidInput("passphrase", "wrong
passphrase")`` when the passphrase does not match the stored verifier, and
``VaultDamaged`` (field "vault", or the table of a number) when the stored
key material or a number's ciphertext does not decrypt."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from peewee import IntegrityError

from billdesk.errors import BilldeskError, Conflict, InvalidInput
from billdesk.models import database, now
from billdesk.models.tables import Vault
from billdesk.services.text import counted

KDF = "argon2id"
PASSPHRASE_MIN = 8
PASSPHRASE_MAX = 1024
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
TAG_BYTES = 16
_WRAP_AAD = b"billdesk vault data key"
_MEMORY_LIMIT_KIB = 4 * 1024 * 1024  # 4 GiB: above it the stored parameters are damaged


class VaultDamaged(BilldeskError):
    """Stored key material or a stored number does not decrypt: the data is
    damaged (or was moved between rows) — not a wrong passphrase."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: memory in KiB, passes, lanes."""

    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4

    def check(self) -> None:
        if not (isinstance(self.memory_kib, int) and isinstance(self.iterations, int)
                and isinstance(self.lanes, int)):
            raise InvalidInput("params", "memory, passes and lanes must be whole numbers")
        if self.lanes < 1 or self.iterations < 1 or self.memory_kib < 8 * self.lanes:
            raise InvalidInput("params", "needs at least 1 lane, 1 pass and 8 KiB of memory a lane")
        if self.memory_kib > _MEMORY_LIMIT_KIB:
            raise InvalidInput("params", "more than 4 GiB of memory")


MINIMUM = KdfParams(19456, 2, 1)  # OWASP's minimum for Argon2id
DEFAULT = KdfParams()


class Key:
    """The book's data key, in memory only: never shown by ``repr``, never
    pickled or copied to disk. ``book`` tells which vault state it was
    opened from (see ``_book_id``)."""

    __slots__ = ("_aead", "_book", "__weakref__")

    def __init__(self, data_key: bytes, book: str) -> None:
        if len(data_key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self._aead = AESGCM(bytes(data_key))
        self._book = book

    @property
    def book(self) -> str:
        """Which vault this key opens (not a secret)."""
        return self._book

    def __repr__(self) -> str:
        return "<billdesk vault key>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a vault key cannot be pickled or copied")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a vault key cannot be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("a vault key cannot be copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("a vault key cannot be copied")


@dataclass(frozen=True, slots=True)
class VaultStatus:
    """What may be shown about the vault: never a secret."""

    kdf: str
    params: KdfParams
    created_at: datetime
    changed_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": 1, "set": True, "kdf": self.kdf, "memory_kib": self.params.memory_kib,
                "iterations": self.params.iterations, "lanes": self.params.lanes,
                "created_at": self.created_at.isoformat(sep=" "),
                "changed_at": self.changed_at.isoformat(sep=" ")}


# -- the passphrase and the keys -----------------------------------------------


def _passphrase_bytes(passphrase: str, field: str = "passphrase") -> bytes:
    """NFC-normalised UTF-8, so the same passphrase typed on another system
    (composed or decomposed accents) opens the book."""
    if not isinstance(passphrase, str) or passphrase == "":
        raise InvalidInput(field, "is empty")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def check_new_passphrase(passphrase: str, field: str = "passphrase") -> None:
    """A new passphrase: at least 8 characters, at most 1024, not blank."""
    if not isinstance(passphrase, str) or not passphrase.strip():
        raise InvalidInput(field, "is empty")
    length = len(unicodedata.normalize("NFC", passphrase))
    if length < PASSPHRASE_MIN:
        raise InvalidInput(field, f"is too short: use at least {PASSPHRASE_MIN} characters")
    if length > PASSPHRASE_MAX:
        raise InvalidInput(field, f"is too long: at most {PASSPHRASE_MAX} characters")


def _derive(passphrase: bytes, salt: bytes, params: KdfParams) -> tuple[bytes, bytes]:
    """Argon2id → 64 bytes: the first 32 are the key-encryption key, the
    last 32 the verifier stored in the vault row. The verifier lets a wrong
    passphrase be told apart from a damaged wrapped key; it reveals nothing
    of the key-encryption key (independent output bytes) and makes guessing
    no cheaper than trying to unwrap the key (each guess costs Argon2id)."""
    out = Argon2id(salt=salt, length=2 * KEY_BYTES, iterations=params.iterations,
                   lanes=params.lanes, memory_cost=params.memory_kib).derive(passphrase)
    return out[:KEY_BYTES], out[KEY_BYTES:]


def _wrap(kek: bytes, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, _WRAP_AAD)


def _unwrap(kek: bytes, wrapped: bytes) -> bytes:
    if len(wrapped) != NONCE_BYTES + KEY_BYTES + TAG_BYTES:
        _damaged("the wrapped data key has the wrong length")
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAP_AAD)
    except InvalidTag:
        _damaged("the passphrase is right but the wrapped data key does not decrypt")


def _damaged(what: str) -> NoReturn:
    raise VaultDamaged("vault", f"the stored key is damaged ({what}); restore a backup "
                                "from before the damage to read the stored numbers")


def _book_id(salt: bytes, wrapped_key: bytes) -> str:
    """Which vault state a key was opened from: a hash of the row's salt and
    wrapped key (public values; new with every passphrase change or reset).
    A key kept from another book, or from before another process changed
    the passphrase, is then not used: the passphrase is asked again."""
    digest = hashlib.sha256(b"billdesk vault id\0" + bytes(salt) + bytes(wrapped_key))
    return digest.hexdigest()[:32]


def _row_id(row: Vault) -> str:
    return _book_id(row.salt, row.wrapped_key)


def _row() -> Vault | None:
    return Vault.get_or_none(Vault.id == 1)


def is_set() -> bool:
    """Whether this book has a vault passphrase."""
    return Vault.select().where(Vault.id == 1).exists()


def status() -> VaultStatus | None:
    """The vault's parameters (None when no passphrase is set)."""
    row = _row()
    if row is None:
        return None
    return VaultStatus(row.kdf, KdfParams(row.memory_kib, row.iterations, row.lanes),
                       _as_datetime(row.created_at), _as_datetime(row.changed_at))


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def set_passphrase(passphrase: str, *, params: KdfParams | None = None) -> Key:
    """Create the vault: a new random data key wrapped under the passphrase.
    Refused when one is set (change it instead). ``params`` is for tests
    and benchmarks only; the default is ``KdfParams()``."""
    chosen = params or DEFAULT
    chosen.check()
    if is_set():
        raise Conflict("passphrase", "a passphrase is already set: change it instead")
    check_new_passphrase(passphrase)
    salt = os.urandom(SALT_BYTES)
    data_key = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
    kek, verifier = _derive(_passphrase_bytes(passphrase), salt, chosen)
    wrapped = _wrap(kek, data_key)
    stamp = now()
    try:
        with database.atomic():
            if is_set():
                raise Conflict("passphrase", "a passphrase is already set: change it instead")
            Vault.insert(id=1, kdf=KDF, salt=salt, memory_kib=chosen.memory_kib,
                         iterations=chosen.iterations, lanes=chosen.lanes, verifier=verifier,
                         wrapped_key=wrapped, created_at=stamp, changed_at=stamp).execute()
    except IntegrityError:
        raise Conflict("passphrase", "a passphrase is already set: change it instead") from None
    return Key(data_key, _book_id(salt, wrapped))


def _data_key(row: Vault, passphrase: str) -> bytes:
    """Unwrap the data key of ``row`` with ``passphrase``."""
    secret = _passphrase_bytes(passphrase)
    if row.kdf != KDF:
        _damaged(f"unknown key derivation {row.kdf!r}")
    params = KdfParams(row.memory_kib, row.iterations, row.lanes)
    salt, verifier, wrapped = bytes(row.salt), bytes(row.verifier), bytes(row.wrapped_key)
    try:
        params.check()
        if len(salt) < 8 or len(verifier) != KEY_BYTES:
            raise ValueError("short salt or verifier")
        kek, candidate = _derive(secret, salt, params)
    except (InvalidInput, ValueError):
        _damaged("its salt or parameters are not valid")
    if not hmac.compare_digest(candidate, verifier):
        raise InvalidInput("passphrase", "wrong passphrase")
    return _unwrap(kek, wrapped)


def unlock(passphrase: str) -> Key:
    """The data key for the passphrase. A wrong passphrase is
    ``InvalidInput("passphrase", "wrong passphrase")``; stored key material
    that does not decrypt with the right one (a damaged wrapped key, or
    parameters Argon2id refuses) is ``VaultDamaged``. A damaged salt or
    verifier cannot be told from a wrong passphrase: both say "wrong
    passphrase"."""
    row = _row()
    if row is None:
        raise InvalidInput("passphrase", "no vault passphrase is set yet: set one first")
    return Key(_data_key(row, passphrase), _row_id(row))


def change_passphrase(old: str, new: str, *, params: KdfParams | None = None) -> Key:
    """Re-wrap the same data key under ``new`` with a new salt (and the
    default parameters unless ``params``), in one transaction; the stored
    numbers are not touched. Refused (nothing written) for a wrong ``old``.
    A key this process remembers follows the change."""
    global _held
    chosen = params or DEFAULT
    chosen.check()
    row = _row()
    if row is None:
        raise InvalidInput("passphrase", "no vault passphrase is set yet: set one first")
    check_new_passphrase(new, "new_passphrase")
    data_key = _data_key(row, old)
    salt = os.urandom(SALT_BYTES)
    kek, verifier = _derive(_passphrase_bytes(new), salt, chosen)
    wrapped = _wrap(kek, data_key)
    with database.atomic():
        changed = (Vault.update(salt=salt, memory_kib=chosen.memory_kib,
                                iterations=chosen.iterations, lanes=chosen.lanes,
                                verifier=verifier, wrapped_key=wrapped, changed_at=now())
                   .where((Vault.id == 1) & (Vault.wrapped_key == row.wrapped_key)).execute())
        if changed != 1:
            raise Conflict("passphrase", "the passphrase was changed meanwhile: try again")
    key = Key(data_key, _book_id(salt, wrapped))
    with _held_lock:
        if _held is not None and _held.book == _row_id(row):
            _held = key
    return key


def check_key(key: Key | None) -> None:
    """Refuse a key that does not open this book's vault (a key kept from
    another book, or from before a reset)."""
    row = _row()
    if row is None:
        raise InvalidInput("passphrase", "no vault passphrase is set yet: set one first")
    if key is None:
        raise InvalidInput("passphrase", "enter the vault passphrase first")
    if not isinstance(key, Key) or key.book != _row_id(row):
        raise InvalidInput("passphrase", "this key opens another book's vault, or the "
                                         "passphrase was changed since: enter the passphrase")


# -- the session holder --------------------------------------------------------

_held: Key | None = None
_held_lock = threading.Lock()


def remember(key: Key) -> None:
    """Keep ``key`` in this process's memory (never on disk) until
    ``forget``, so the window asks for the passphrase once per session."""
    global _held
    if not isinstance(key, Key):
        raise TypeError("remember() takes a vault Key")
    with _held_lock:
        _held = key


def forget() -> None:
    """Drop the remembered key: the passphrase is asked for again."""
    global _held
    with _held_lock:
        _held = None


def unlocked() -> Key | None:
    """The remembered key if it opens the book that is open now, else None."""
    with _held_lock:
        key = _held
    if key is None:
        return None
    try:
        check_key(key)
    except InvalidInput:
        return None
    return key


# -- numbers --------------------------------------------------------------------


def _aad(table: str, row_id: int, column: str) -> bytes:
    return f"billdesk:{table}:{int(row_id)}:{column}".encode()


def encrypt(key: Key, plaintext: str, *, table: str, row_id: int, column: str) -> bytes:
    """12-byte random nonce + AES-GCM(plaintext) bound to table, row and column."""
    if not isinstance(key, Key):
        raise TypeError("encrypt() takes a vault Key")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + key._aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(table, row_id, column))


def decrypt(key: Key, blob: bytes, *, table: str, row_id: int, column: str) -> str:
    """The plaintext of ``encrypt``; a damaged value, one moved from another
    row or column, or one written under another key is ``VaultDamaged``
    naming the row (field ``table``)."""
    if not isinstance(key, Key):
        raise TypeError("decrypt() takes a vault Key")
    data = bytes(blob or b"")
    problem = f"#{row_id}: the stored number does not decrypt: it is damaged or was moved " \
              "from another record"
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise VaultDamaged(table, problem)
    try:
        plain = key._aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:],
                                  _aad(table, row_id, column))
    except InvalidTag:
        raise VaultDamaged(table, problem) from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise VaultDamaged(table, problem) from None


# -- a forgotten passphrase -------------------------------------------------------


def reset(*, confirm: bool) -> int:
    """For an owner who forgot the passphrase: after a backup, erase every
    stored number (the records stay, masked; a number record keeps an empty
    ``number_enc``) and the vault row, in one transaction, so a new
    passphrase can be set. Returns how many numbers were erased."""
    from billdesk.models.tables import PayMethod
    from billdesk.services import backup, changelog

    if not confirm:
        raise InvalidInput("confirmation", "resetting the vault erases every stored number: "
                                           "confirm it")
    if not is_set():
        raise InvalidInput("passphrase", "no vault passphrase is set yet: nothing to reset")
    backup.backup(reason="vault-reset", automatic=False)
    with database.atomic():
        stored = ((PayMethod.number_enc.is_null(False)) & (PayMethod.number_enc != b""))
        counts: dict[int, int] = {}
        for (client_id,) in PayMethod.select(PayMethod.client).where(stored).tuples():
            counts[client_id] = counts.get(client_id, 0) + 1
        stamp = now()
        erased = PayMethod.update(number_enc=b"", updated_at=stamp).where(stored).execute()
        Vault.delete().where(Vault.id == 1).execute()
        changelog.record_many([
            {"client": client_id, "at": stamp,
             "message": f"Vault reset: {counted(count, 'stored number')} erased "
                        "(records kept, masked)"}
            for client_id, count in sorted(counts.items())])
    forget()
    return erased
