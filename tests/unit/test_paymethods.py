"""Stored pay methods (K2): cards and bank accounts validated (Luhn, IBAN,
expiry), stored with the number encrypted under the vault, shown masked with
the default first; no security code ever; gateway-token records deleted
only by force; archived clients read-only; and no full number anywhere on
disk — database, WAL, backups, log — after every kind of use."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billdesk import clock
from billdesk.errors import Conflict, InvalidInput, NotFound
from billdesk.models import PayMethod, close_database, database, init_db
from billdesk.services import backup, changelog, lifecycle, paymethods, vault
from billdesk.services.vault import KdfParams, VaultDamaged

from billing_helpers import dump, new_client
from leak_helpers import book_files, leaks

CHEAP = KdfParams(1024, 1, 1)
PHRASE = "correct horse battery"
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
IBAN = "GB82WEST12345698765432"
NOW = dt.datetime(2026, 5, 15, 10, 0, 0)


def with_check_digit(payload: str) -> str:
    """``payload`` plus the Luhn check digit that makes it valid."""
    for digit in "0123456789":
        if paymethods.luhn_ok(payload + digit):
            return payload + digit
    raise AssertionError("no check digit")


@pytest.fixture
def key(db) -> vault.Key:
    return vault.set_passphrase(PHRASE, params=CHEAP)


@pytest.fixture
def client(db) -> int:
    return new_client(first_name="Ann", last_name="Lee")


@pytest.fixture(autouse=True)
def _fixed_today():
    with clock.frozen(NOW):
        yield


def add_visa(client: int, key: vault.Key, **kwargs) -> paymethods.PayMethodRecord:
    values = {"number": "4111 1111 1111 1111", "expiry": "12/27", "holder": "Ann Lee"}
    values.update(kwargs)
    return paymethods.add_card(client, key=key, **values)


# -- validation --------------------------------------------------------------------


@pytest.mark.parametrize("payload, brand", [
    ("411111111111111", "Visa"), ("555555555555444", "Mastercard"),
    ("222300312200322", "Mastercard"), ("272099999999999", "Mastercard"),
    ("37828224631000", "American Express"), ("34000000000000", "American Express"),
    ("601111111111111", "Discover"), ("644000000000000", "Discover"),
    ("650000000000000", "Discover"), ("3056930902590", "Diners Club"),
    ("3852000002323", "Diners Club"), ("353011133330000", "JCB"),
    ("620000000000000", "UnionPay"), ("675964982643845", "Maestro"),
    ("501800000000000", "Maestro"), ("900000000000000", "Card"), ("272100000000000", "Card"),
])
def test_the_brand_comes_from_the_issuer_prefix(payload, brand):
    number = with_check_digit(payload)
    assert paymethods.card_number_problem(number) == ""
    assert paymethods.card_brand(number) == brand


@settings(max_examples=200)
@given(payload=st.text(alphabet="0123456789", min_size=11, max_size=18),
       position=st.integers(min_value=0), change=st.integers(min_value=1, max_value=9))
def test_luhn_accepts_the_check_digit_and_catches_one_wrong_digit(payload, position, change):
    number = with_check_digit(payload)
    assert paymethods.luhn_ok(number)
    assert paymethods.card_number_problem(" ".join([number[:4], number[4:]])) == ""
    at = position % len(number)
    typo = number[:at] + str((int(number[at]) + change) % 10) + number[at + 1:]
    assert not paymethods.luhn_ok(typo)  # Luhn catches every single-digit error
    assert "Luhn" in paymethods.card_number_problem(typo)


@pytest.mark.parametrize("number, problem", [
    ("", "is required"), ("4111 1111 1111 111x", "only digits"),
    ("41111111111", "12 to 19 digits, not 11"), ("4" * 20, "12 to 19 digits, not 20"),
    ("4111111111111112", "Luhn"),
])
def test_bad_card_numbers_are_explained_without_echoing_them(number, problem):
    message = paymethods.card_number_problem(number)
    assert problem in message
    assert not number or number.replace(" ", "") not in message


@pytest.mark.parametrize("text, expected", [
    ("12/27", "2027-12"), ("1/30", "2030-01"), ("05/2026", "2026-05"), ("2031-02", "2031-02"),
    (dt.date(2028, 3, 1), "2028-03"), ("06 / 29", "2029-06"),
])
def test_expiry_forms(text, expected):
    assert paymethods.check_expiry(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("04/26", "expired at the end of 04/2026"), ("13/27", "01 to 12"), ("00/27", "01 to 12"),
    ("december", "MM/YY"), ("", "required"), ("12/99", "too far ahead"),
])
def test_bad_expiries(text, problem):
    with pytest.raises(InvalidInput) as info:
        paymethods.check_expiry(text)
    assert info.value.field == "expiry" and problem in info.value.message


def test_a_card_is_valid_to_the_end_of_its_expiry_month():
    assert paymethods.check_expiry("05/26") == "2026-05"  # today is 15 May 2026
    with clock.frozen(dt.datetime(2026, 5, 31, 23, 59)):
        assert paymethods.check_expiry("05/26") == "2026-05"
    with clock.frozen(dt.datetime(2026, 6, 1, 0, 0)), pytest.raises(InvalidInput):
        paymethods.check_expiry("05/26")


@pytest.mark.parametrize("account", [IBAN, "gb82 west 1234 5698 7654 32", "DE89370400440532013000",
                                     "12345678", "20-00-00 1234 5678", "0012"])
def test_good_accounts(account):
    assert paymethods.bank_problems(account, "Barclays", "Ann Lee") == []


@pytest.mark.parametrize("account, problem", [
    ("GB82WEST12345698765433", "IBAN"), ("GB00WEST12345698765432", "IBAN"),
    ("123", "4 to 34"), ("ABCDEFGH", "digits"), ("1234/5678", "only letters"), ("", "required"),
])
def test_bad_accounts(account, problem):
    [first, *_] = paymethods.bank_problems(account, "Barclays", "Ann Lee")
    assert first.field == "bank" and problem in first.message


# -- adding -------------------------------------------------------------------------


def test_add_card_stores_only_the_shown_parts_in_clear(client, key):
    record = add_visa(client, key, description="Company card")
    assert (record.kind, record.brand, record.holder, record.first_six, record.last_four,
            record.expiry, record.description) == (
        "card", "Visa", "Ann Lee", "411111", "1111", "2027-12", "Company card")
    assert record.is_default and record.has_number and not record.expired
    assert record.masked == "411111******1111"
    assert record.label == "Visa ending 1111, expires 12/27"
    stored = PayMethod.get_by_id(record.id)
    assert stored.number_enc and VISA.encode() not in bytes(stored.number_enc)
    assert paymethods.reveal(record.id, key) == VISA
    document = record.as_json()
    assert set(document) == {"id", "client_id", "kind", "brand", "holder", "first_six",
                             "last_four", "expiry", "bank_name", "description", "is_default",
                             "gateway", "masked", "expired", "has_number", "label"}
    assert VISA not in str(document)
    [entry] = [e for e in changelog.entries(client) if "Card" in e.message]
    assert entry.message == "Card Visa ending 1111 (expires 12/27) added as the default"


def test_short_numbers_keep_at_least_five_digits_out_of_the_clear(client, key):
    number = with_check_digit("30569309025")  # 12 digits
    record = paymethods.add_card(client, number=number, expiry="01/28", holder="Ann", key=key)
    assert (record.first_six, record.last_four) == (number[:3], number[-4:])
    assert paymethods.reveal(record.id, key) == number


def test_add_bank_account(client, key):
    record = paymethods.add_bank(client, account="gb82 west 1234 5698 7654 32",
                                 bank_name="Barclays", holder="Ann Lee", key=key)
    assert (record.kind, record.bank_name, record.last_four, record.first_six, record.brand,
            record.expiry) == ("bank", "Barclays", "5432", "", "", "")
    assert record.masked == "****5432"
    assert record.label == "Barclays account ending 5432"
    assert paymethods.reveal(record.id, key) == IBAN
    assert changelog.entries(client)[0].message == (
        "Bank account Barclays ending 5432 added as the default")


def test_the_first_is_the_default_and_the_default_is_listed_first(client, key):
    first = add_visa(client, key)
    second = paymethods.add_bank(client, account=IBAN, bank_name="Barclays", holder="Ann", key=key)
    third = add_visa(client, key, number=MASTERCARD, make_default=True)
    listed = paymethods.list_pay_methods(client)
    assert [r.id for r in listed] == [third.id, first.id, second.id]
    assert [r.is_default for r in listed] == [True, False, False]
    assert paymethods.set_default(second.id).is_default
    assert [r.id for r in paymethods.list_pay_methods(client)] == [second.id, first.id, third.id]
    assert PayMethod.select().where(PayMethod.is_default == True).count() == 1  # noqa: E712
    assert "made the default" in changelog.entries(client)[0].message
    other = new_client()
    assert paymethods.list_pay_methods(other) == []
    with pytest.raises(NotFound):
        paymethods.list_pay_methods(9999)


@pytest.mark.parametrize("field", ["cvv", "cvc", "cvv2", "csc", "security_code", "CVC2",
                                   "card_code", "cid"])
def test_a_security_code_is_refused_and_nothing_written(client, key, field):
    before = dump()
    with pytest.raises(InvalidInput) as info:
        add_visa(client, key, **{field: "123"})
    assert info.value.field == field
    assert info.value.message == "billdesk never stores a card's security code"
    with pytest.raises(InvalidInput) as bank:
        paymethods.add_bank(client, account=IBAN, bank_name="B", holder="Ann", key=key,
                            **{field: "123"})
    assert bank.value.message == "billdesk never stores a card's security code"
    assert dump() == before


def test_an_unknown_field_is_refused(client, key):
    with pytest.raises(InvalidInput) as info:
        add_visa(client, key, colour="blue")
    assert info.value.field == "colour" and "not a field" in info.value.message


@pytest.mark.parametrize("values, field", [
    ({"number": "4111111111111112"}, "card"), ({"number": "4111"}, "card"),
    ({"expiry": "04/26"}, "expiry"), ({"expiry": "99/99"}, "expiry"), ({"holder": " "}, "holder"),
    ({"description": "x" * 201}, "description"),
])
def test_bad_card_input_is_refused_naming_the_field_and_nothing_written(client, key, values, field):
    before = dump()
    with pytest.raises(InvalidInput) as info:
        add_visa(client, key, **values)
    assert info.value.field == field
    assert dump() == before


def test_every_problem_of_a_card_at_once(client, key):
    with pytest.raises(InvalidInput) as info:
        paymethods.add_card(client, number="4111111111111112", expiry="01/20", holder="", key=key)
    assert [p.field for p in info.value.problems] == ["card", "expiry", "holder"]


def test_an_unknown_client_is_refused(db, key):
    before = dump()
    with pytest.raises(NotFound) as info:
        add_visa(424242, key)
    assert info.value.field == "client_id"
    with pytest.raises(NotFound):
        paymethods.add_token(424242, gateway="Stripe", token="pm_1", holder="A", last_four="4242")
    assert dump() == before


def test_a_key_from_another_book_is_refused(tmp_path):
    init_db(tmp_path / "other.sqlite3")
    try:
        foreign = vault.set_passphrase(PHRASE, params=CHEAP)
    finally:
        close_database()
    init_db(tmp_path / "mine.sqlite3")
    try:
        client = new_client()
        vault.set_passphrase(PHRASE, params=CHEAP)
        before = dump()
        with pytest.raises(InvalidInput) as info:
            add_visa(client, foreign)
        assert info.value.field == "passphrase"
        assert dump() == before
    finally:
        close_database()


def test_add_without_a_vault_is_refused(client):
    fake_book = vault.Key(b"\x01" * 32, "not this book")
    with pytest.raises(InvalidInput) as info:
        add_visa(client, fake_book)
    assert info.value.field == "passphrase" and "no vault passphrase" in info.value.message
    assert PayMethod.select().count() == 0


# -- tokens, revealing, deleting ---------------------------------------------------------


def test_token_records(client, key):
    card = add_visa(client, key)
    token = paymethods.add_token(client, gateway="Stripe", token="pm_123", holder="Ann Lee",
                                 brand="Visa", last_four="4242", expiry="01/31")
    assert (token.has_number, token.is_token, token.is_default) == (False, True, False)
    assert token.masked == "****4242"
    assert token.label == "Visa ending 4242, expires 01/31 (token at Stripe)"
    assert "pm_123" not in str(token.as_json())
    with pytest.raises(InvalidInput) as info:
        paymethods.reveal(token.id, key)
    assert info.value.message == f"#{token.id} is a gateway token: the number is held by Stripe"
    before = dump()
    with pytest.raises(Conflict) as refused:
        paymethods.delete(token.id)
    assert refused.value.field == "pay_method"
    assert refused.value.message == (
        f"#{token.id} is stored at Stripe as a token: billdesk cannot remove it there; "
        "force-delete removes only this record")
    assert dump() == before
    assert paymethods.delete(token.id, force=True).id == token.id
    assert [r.id for r in paymethods.list_pay_methods(client)] == [card.id]
    assert changelog.entries(client)[0].message.endswith(
        "force-deleted (the token at Stripe is not touched)")
    bank_token = paymethods.add_token(client, gateway="GoCardless", token="MD000", holder="Ann",
                                      last_four="AB12", kind="bank")
    assert (bank_token.kind, bank_token.brand, bank_token.label) == (
        "bank", "", "Bank account ending AB12 (token at GoCardless)")


@pytest.mark.parametrize("values, field", [
    ({"gateway": ""}, "gateway"), ({"token": ""}, "token"), ({"token": "a b"}, "token"),
    ({"last_four": "42"}, "last_four"), ({"holder": ""}, "holder"), ({"expiry": "01/20"}, "expiry"),
    ({"kind": "cash"}, "kind"),
])
def test_bad_token_input(client, values, field):
    arguments = {"gateway": "Stripe", "token": "pm_1", "holder": "Ann", "last_four": "4242"}
    arguments.update(values)
    before = dump()
    with pytest.raises(InvalidInput) as info:
        paymethods.add_token(client, **arguments)
    assert info.value.field == field
    assert dump() == before


def test_deleting_the_default_makes_the_lowest_id_the_default(client, key):
    first = add_visa(client, key)
    second = add_visa(client, key, number=MASTERCARD)
    third = paymethods.add_bank(client, account=IBAN, bank_name="Barclays", holder="Ann", key=key)
    paymethods.set_default(third.id)
    deleted = paymethods.delete(third.id)
    assert deleted.id == third.id and deleted.is_default
    assert [(r.id, r.is_default) for r in paymethods.list_pay_methods(client)] == [
        (first.id, True), (second.id, False)]
    paymethods.delete(second.id)
    assert paymethods.get(first.id).is_default
    paymethods.delete(first.id)
    assert paymethods.list_pay_methods(client) == []
    with pytest.raises(NotFound) as info:
        paymethods.get(first.id)
    assert info.value.field == "pay_method"
    with pytest.raises(NotFound):
        paymethods.delete(first.id)
    assert "Visa ending 1111, expires 12/27: deleted" in [e.message for e in
                                                           changelog.entries(client)]


def test_ciphertext_moved_to_another_row_does_not_decrypt(client, key):
    a = add_visa(client, key)
    b = add_visa(client, key, number=MASTERCARD)
    database.execute_sql("UPDATE pay_method SET number_enc = (SELECT number_enc FROM pay_method "
                         "WHERE id = ?) WHERE id = ?", (a.id, b.id))
    with pytest.raises(VaultDamaged) as info:
        paymethods.reveal(b.id, key)
    assert info.value.field == "pay_method"
    assert info.value.message.startswith(f"#{b.id}: ") and "moved from another record" in str(
        info.value)
    assert paymethods.reveal(a.id, key) == VISA


def test_a_damaged_number_is_told_apart_from_a_wrong_passphrase(client, key):
    a = add_visa(client, key)
    blob = bytearray(PayMethod.get_by_id(a.id).number_enc)
    blob[15] ^= 0x04
    PayMethod.update(number_enc=bytes(blob)).where(PayMethod.id == a.id).execute()
    with pytest.raises(VaultDamaged) as damaged:
        paymethods.reveal(a.id, vault.unlock(PHRASE))
    assert "damaged" in damaged.value.message
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        vault.unlock("something else entirely")


def test_an_expired_card_shows_as_expired(client, key):
    record = add_visa(client, key, expiry="06/26")
    with clock.frozen(dt.datetime(2026, 7, 1, 9, 0)):
        [listed] = paymethods.list_pay_methods(client)
        assert listed.expired and listed.label == "Visa ending 1111, expired 06/26"
        assert listed.as_json()["expired"] is True
    assert not paymethods.get(record.id).expired


def test_changing_the_passphrase_keeps_every_number_readable(client, key):
    numbers = [VISA, MASTERCARD, with_check_digit("37828224631000")]
    ids = [add_visa(client, key, number=n).id for n in numbers]
    bank = paymethods.add_bank(client, account=IBAN, bank_name="B", holder="Ann", key=key).id
    vault.change_passphrase(PHRASE, "a whole new one", params=CHEAP)
    new_key = vault.unlock("a whole new one")
    assert [paymethods.reveal(i, new_key) for i in ids] == numbers
    assert paymethods.reveal(bank, new_key) == IBAN


# -- archived clients ----------------------------------------------------------------


def test_an_archived_clients_pay_methods_are_read_only(client, key):
    card = add_visa(client, key)
    token = paymethods.add_token(client, gateway="Stripe", token="pm_1", holder="Ann",
                                 last_four="4242")
    lifecycle.archive_client(client)
    before = dump()
    writes = [
        lambda: add_visa(client, key, number=MASTERCARD),
        lambda: paymethods.add_bank(client, account=IBAN, bank_name="B", holder="A", key=key),
        lambda: paymethods.add_token(client, gateway="Stripe", token="pm_2", holder="Ann",
                                     last_four="1234"),
        lambda: paymethods.set_default(token.id),
        lambda: paymethods.delete(card.id),
        lambda: paymethods.delete(token.id, force=True),
    ]
    for write in writes:
        with pytest.raises(Conflict) as info:
            write()
        assert info.value.field == "client"
        assert info.value.message == f"#{client} is archived: unarchive it to change it"
    assert dump() == before
    assert paymethods.reveal(card.id, key) == VISA  # reading stays possible
    lifecycle.unarchive_client(client)
    paymethods.delete(card.id)


# -- nothing in clear on disk --------------------------------------------------------------


def test_no_full_number_on_disk(db, db_path, billdesk_home, client, key, tmp_path):
    log_file = tmp_path / "home" / "logs" / "everything.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # peewee's queries and all: nothing may carry a number
    try:
        cards = [VISA, MASTERCARD, with_check_digit("37828224631000"),
                 with_check_digit("601111111111111"), with_check_digit("353011133330000")]
        accounts = [IBAN, "DE89370400440532013000", "98765432109876"]
        for number in cards:
            spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
            add_visa(client, key, number=spaced)
        for account in accounts:
            paymethods.add_bank(client, account=account, bank_name="Bank", holder="Ann", key=key)
        for record in paymethods.list_pay_methods(client):
            assert paymethods.reveal(record.id, key).replace(" ", "") in cards + accounts
        vault.change_passphrase(PHRASE, "another long passphrase", params=CHEAP)
        key = vault.unlock("another long passphrase")
        for record in paymethods.list_pay_methods(client)[:2]:
            paymethods.delete(record.id)
        paymethods.set_default(paymethods.list_pay_methods(client)[-1].id)
        backup.backup(reason="test", automatic=False)
        with pytest.raises(InvalidInput):
            add_visa(client, key, number="4111111111111112")  # refused: not echoed anywhere
        with pytest.raises(InvalidInput):
            add_visa(client, key, cvv="737")
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
    assert log_file.stat().st_size > 0  # the queries were logged
    secrets = cards + accounts + ["4111111111111112", PHRASE, "another long passphrase"]
    files = book_files(db_path, billdesk_home)
    assert any(p.name.endswith(".manual.sqlite3") for p in files)
    assert Path(f"{db_path}-wal").exists()
    assert leaks(files, secrets) == []
    # the search does read what is stored: the first six are kept in clear
    control = leaks(files, ["Ann Lee", "601111"])
    assert any(".manual.sqlite3" in hit for hit in control), control
    assert any("book.sqlite3" in hit for hit in control), control
    # and after a checkpoint folds the WAL into the file
    close_database()
    assert leaks(book_files(db_path, billdesk_home), secrets) == []
    init_db(db_path)


def test_remove_all_deletes_every_record_of_the_client(client, key):
    add_visa(client, key)
    paymethods.add_token(client, gateway="Stripe", token="pm_1", holder="Ann", last_four="4242")
    other = new_client()
    kept = add_visa(other, key)
    lifecycle.archive_client(client)  # the caller (anonymize) decides
    assert paymethods.remove_all(client) == 2
    assert paymethods.list_pay_methods(client) == []
    assert [r.id for r in paymethods.list_pay_methods(other)] == [kept.id]
    assert changelog.entries(client)[0].message == "All stored pay methods deleted (2)"
    assert paymethods.remove_all(client) == 0


def test_a_missing_key_asks_for_the_passphrase(client, key):
    card = add_visa(client, key)
    with pytest.raises(InvalidInput) as info:
        paymethods.reveal(card.id, None)
    assert (info.value.field, info.value.message) == (
        "passphrase", "enter the vault passphrase first")
