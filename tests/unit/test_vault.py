"""The vault (K2): Argon2id-wrapped data key, AES-GCM numbers bound to their
row and column, a wrong passphrase told apart from damaged data, changing
the passphrase re-wraps the same key, and no secret reaches the disk.

Cheap Argon2id parameters are passed explicitly (``params=CHEAP``) except
where the default itself is the subject."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billdesk.errors import Conflict, InvalidInput
from billdesk.models import close_database, database, init_db
from billdesk.services import vault
from billdesk.services.vault import KdfParams, VaultDamaged

from billing_helpers import dump

CHEAP = KdfParams(1024, 1, 1)
PHRASE = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_remembered_key():
    vault.forget()
    yield
    vault.forget()


def _row() -> tuple:
    return database.execute_sql("SELECT kdf, salt, memory_kib, iterations, lanes, verifier, "
                                "wrapped_key FROM vault WHERE id = 1").fetchone()


def test_set_then_unlock_opens_the_same_key(db):
    assert not vault.is_set() and vault.status() is None
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    assert vault.is_set()
    blob = vault.encrypt(key, "4111111111111111", table="pay_method", row_id=1, column="number_enc")
    again = vault.unlock(PHRASE)
    assert vault.decrypt(again, blob, table="pay_method", row_id=1,
                         column="number_enc") == "4111111111111111"
    kdf, salt, memory, iterations, lanes, verifier, wrapped = _row()
    assert (kdf, memory, iterations, lanes) == ("argon2id", 1024, 1, 1)
    assert len(salt) == 16 and len(verifier) == 32
    assert len(wrapped) == 12 + 32 + 16  # nonce + wrapped 256-bit key + tag
    status = vault.status()
    assert status.params == CHEAP and status.as_json()["memory_kib"] == 1024
    assert "salt" not in status.as_json() and "verifier" not in status.as_json()


def test_the_default_parameters_are_above_owasps_minimum():
    default, minimum = KdfParams(), vault.MINIMUM
    assert (default.memory_kib, default.iterations, default.lanes) == (65536, 3, 4)
    assert (minimum.memory_kib, minimum.iterations) == (19456, 2)
    assert default.memory_kib >= minimum.memory_kib and default.iterations >= minimum.iterations


def test_set_passphrase_without_params_uses_the_default(db):
    vault.set_passphrase(PHRASE)
    assert vault.status().params == KdfParams()
    assert vault.unlock(PHRASE).book


def test_set_twice_is_refused_and_a_short_passphrase_too(db):
    before = dump()
    with pytest.raises(InvalidInput) as info:
        vault.set_passphrase("short", params=CHEAP)
    assert info.value.field == "passphrase" and "at least 8" in info.value.message
    with pytest.raises(InvalidInput) as info:
        vault.set_passphrase("        ", params=CHEAP)
    assert info.value.field == "passphrase"
    assert dump() == before
    vault.set_passphrase(PHRASE, params=CHEAP)
    after = dump()
    with pytest.raises(Conflict) as conflict:
        vault.set_passphrase("another passphrase", params=CHEAP)
    assert (conflict.value.field, conflict.value.message) == (
        "passphrase", "a passphrase is already set: change it instead")
    assert dump() == after


def test_unlock_without_a_vault_is_refused(db):
    with pytest.raises(InvalidInput) as info:
        vault.unlock(PHRASE)
    assert info.value.field == "passphrase" and "no vault passphrase" in info.value.message


def test_a_wrong_passphrase_is_told_apart_from_a_damaged_key(db):
    vault.set_passphrase(PHRASE, params=CHEAP)
    before = dump()
    with pytest.raises(InvalidInput) as wrong:
        vault.unlock("correct horse batterY")
    assert not isinstance(wrong.value, VaultDamaged)
    assert (wrong.value.field, wrong.value.message) == ("passphrase", "wrong passphrase")
    with pytest.raises(InvalidInput):
        vault.unlock("")
    assert dump() == before

    wrapped = bytearray(_row()[6])
    wrapped[20] ^= 0x01
    database.execute_sql("UPDATE vault SET wrapped_key = ? WHERE id = 1", (bytes(wrapped),))
    with pytest.raises(VaultDamaged) as damaged:
        vault.unlock(PHRASE)
    assert damaged.value.field == "vault"
    assert "damaged" in damaged.value.message and "wrong passphrase" not in damaged.value.message
    # the wrong passphrase is still told as such
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        vault.unlock("not the passphrase")

    database.execute_sql("UPDATE vault SET wrapped_key = ? WHERE id = 1", (bytes(wrapped[:30]),))
    with pytest.raises(VaultDamaged, match="damaged"):
        vault.unlock(PHRASE)


def test_damaged_parameters_are_reported_as_damage(db):
    vault.set_passphrase(PHRASE, params=CHEAP)
    database.execute_sql("UPDATE vault SET lanes = 1000 WHERE id = 1")  # memory < 8 KiB a lane
    with pytest.raises(VaultDamaged) as info:
        vault.unlock(PHRASE)
    assert info.value.field == "vault"


def test_the_key_never_shows_and_cannot_be_pickled_or_copied(db):
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    assert repr(key) == str(key) == "<billdesk vault key>"
    for attempt in (lambda: pickle.dumps(key), lambda: copy.copy(key), lambda: copy.deepcopy(key)):
        with pytest.raises(TypeError):
            attempt()
    assert not hasattr(key, "__dict__")


def test_change_passphrase_rewraps_the_same_key(db):
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    blobs = {n: vault.encrypt(key, f"number {n}", table="pay_method", row_id=n, column="number_enc")
             for n in range(1, 6)}
    old_row = _row()
    before = dump()
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        vault.change_passphrase("not it at all", "brand new phrase", params=CHEAP)
    with pytest.raises(InvalidInput) as short:
        vault.change_passphrase(PHRASE, "tiny", params=CHEAP)
    assert short.value.field == "new_passphrase"
    assert dump() == before

    vault.change_passphrase(PHRASE, "brand new phrase", params=CHEAP)
    new_row = _row()
    assert new_row[1] != old_row[1] and new_row[6] != old_row[6]  # new salt, new wrapping
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        vault.unlock(PHRASE)
    reopened = vault.unlock("brand new phrase")
    for n, blob in blobs.items():
        assert vault.decrypt(reopened, blob, table="pay_method", row_id=n,
                             column="number_enc") == f"number {n}"
    # a key opened before the change is no longer taken (the passphrase is
    # asked again), though the data key is the same
    with pytest.raises(InvalidInput, match="passphrase was changed"):
        vault.check_key(key)


def test_the_remembered_key_follows_a_change_of_passphrase(db):
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    blob = vault.encrypt(key, "5105105105105100", table="pay_method", row_id=3,
                         column="number_enc")
    vault.remember(key)
    new_key = vault.change_passphrase(PHRASE, "brand new phrase", params=CHEAP)
    assert vault.unlocked() is new_key
    assert vault.decrypt(vault.unlocked(), blob, table="pay_method", row_id=3,
                         column="number_enc") == "5105105105105100"


def test_change_passphrase_upgrades_to_the_default_parameters(db):
    vault.set_passphrase(PHRASE, params=CHEAP)
    vault.change_passphrase(PHRASE, "a stronger one")
    assert vault.status().params == KdfParams()
    assert vault.unlock("a stronger one")


def test_ciphertext_is_bound_to_its_table_row_and_column(db):
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    blob = vault.encrypt(key, "6011000990139424", table="pay_method", row_id=7, column="number_enc")
    assert b"6011000990139424" not in blob
    for other in ({"table": "pay_method", "row_id": 8, "column": "number_enc"},
                  {"table": "pay_method", "row_id": 7, "column": "holder"},
                  {"table": "client", "row_id": 7, "column": "number_enc"}):
        with pytest.raises(VaultDamaged) as info:
            vault.decrypt(key, blob, **other)
        assert info.value.field == other["table"]
        assert f"#{other['row_id']}" in info.value.message and "moved" in info.value.message
    flipped = bytearray(blob)
    flipped[-1] ^= 0x80
    for bad in (bytes(flipped), blob[:20], b"", None):
        with pytest.raises(VaultDamaged):
            vault.decrypt(key, bad, table="pay_method", row_id=7, column="number_enc")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80), row_id=st.integers(min_value=1, max_value=2**62))
def test_encrypt_decrypt_round_trip(db, text, row_id):
    key = _cheap_key()
    one = vault.encrypt(key, text, table="pay_method", row_id=row_id, column="number_enc")
    two = vault.encrypt(key, text, table="pay_method", row_id=row_id, column="number_enc")
    assert one != two  # a fresh nonce each time
    assert len(one) == 12 + len(text.encode()) + 16
    assert vault.decrypt(key, one, table="pay_method", row_id=row_id, column="number_enc") == text


def _cheap_key() -> vault.Key:
    if not vault.is_set():
        return vault.set_passphrase(PHRASE, params=CHEAP)
    return vault.unlock(PHRASE)


def test_the_session_holder_remembers_until_forget(db):
    assert vault.unlocked() is None
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    vault.remember(key)
    assert vault.unlocked() is key
    vault.forget()
    assert vault.unlocked() is None
    with pytest.raises(TypeError):
        vault.remember(b"\x00" * 32)


def test_a_key_of_another_book_is_not_used(tmp_path: Path):
    init_db(tmp_path / "first.sqlite3")
    try:
        first = vault.set_passphrase(PHRASE, params=CHEAP)
        vault.remember(first)
    finally:
        close_database()
    init_db(tmp_path / "second.sqlite3")
    try:
        assert vault.unlocked() is None  # no vault in this book
        vault.set_passphrase(PHRASE, params=CHEAP)
        assert vault.unlocked() is None
        with pytest.raises(InvalidInput) as info:
            vault.check_key(first)
        assert info.value.field == "passphrase" and "another book" in info.value.message
        vault.check_key(vault.unlock(PHRASE))
    finally:
        close_database()


def test_no_secret_reaches_the_database_file(db, db_path):
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    vault.change_passphrase(PHRASE, "second secret phrase", params=CHEAP)
    vault.remember(key)
    vault.encrypt(key, "x", table="pay_method", row_id=1, column="number_enc")
    close_database()
    raw = db_path.read_bytes() + (Path(f"{db_path}-wal").read_bytes()
                                  if Path(f"{db_path}-wal").exists() else b"")
    for secret in (PHRASE, "second secret phrase"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert secret.encode(encoding) not in raw
    init_db(db_path)  # the fixture closes it again


def test_reset_erases_the_numbers_and_the_vault_after_a_backup(db, db_path, billdesk_home):
    from billdesk.models import PayMethod
    from billdesk.services import backup, changelog, paymethods

    from billing_helpers import new_client

    client = new_client()
    key = vault.set_passphrase(PHRASE, params=CHEAP)
    card = paymethods.add_card(client, number="4111 1111 1111 1111", expiry="12/39",
                               holder="Ann Lee", key=key)
    token = paymethods.add_token(client, gateway="Stripe", token="pm_1", holder="Ann Lee",
                                 last_four="4242")
    with pytest.raises(InvalidInput):
        vault.reset(confirm=False)
    assert vault.is_set()
    vault.remember(key)
    assert vault.reset(confirm=True) == 1
    assert not vault.is_set() and vault.unlocked() is None
    assert [b.reason for b in backup.backups()] == ["vault-reset"]
    assert PayMethod.get_by_id(card.id).number_enc == b""
    assert PayMethod.get_by_id(token.id).number_enc is None
    record = paymethods.get(card.id)
    assert (record.masked, record.has_number) == ("411111******1111", False)
    with pytest.raises(InvalidInput, match="erased"):
        paymethods.revealable(card.id)
    assert "Vault reset" in changelog.entries(client)[0].message
    # a new passphrase can be set and new cards stored
    new_key = vault.set_passphrase("a fresh passphrase", params=CHEAP)
    again = paymethods.add_card(client, number="5555 5555 5555 4444", expiry="01/40",
                                holder="Ann Lee", key=new_key)
    assert paymethods.reveal(again.id, new_key) == "5555555555554444"
    with pytest.raises(InvalidInput, match="another book"):
        paymethods.add_card(client, number="4111111111111111", expiry="12/39", holder="Ann",
                            key=key)

