import pytest

from vault import crypto
from vault.models import Account
from vault.services import account_password

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_value_round_trips(master_key):
    blob = crypto.encrypt("hunter2", key=master_key, record="account:1", field="password")
    assert crypto.decrypt(blob, key=master_key, record="account:1", field="password") == "hunter2"


def test_each_value_gets_its_own_nonce(master_key):
    first = crypto.encrypt("same", key=master_key, record="r", field="f")
    second = crypto.encrypt("same", key=master_key, record="r", field="f")
    assert first[:12] != second[:12] and first != second


def test_a_flipped_ciphertext_byte_fails_loudly(master_key):
    blob = bytearray(crypto.encrypt("hunter2", key=master_key, record="r", field="f"))
    blob[-1] ^= 0x01
    with pytest.raises(crypto.DecryptionError, match="integrity check"):
        crypto.decrypt(bytes(blob), key=master_key, record="r", field="f")


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(master_key):
    blob = crypto.encrypt("hunter2", key=master_key, record="account:1", field="password")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key=master_key, record="account:2", field="password")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key=master_key, record="account:1", field="notes")


def test_the_database_holds_no_plaintext(root_account):
    stored = Account.objects.values_list("password_ct", "notes_ct").get(pk=root_account.pk)
    assert b"s3cr3t-Root-pw!" not in bytes(stored[0])
    assert b"rack 4" not in bytes(stored[1])
    assert account_password(Account.objects.get(pk=root_account.pk)) == "s3cr3t-Root-pw!"


def test_a_tampered_row_in_the_database_fails_loudly(root_account):
    blob = bytearray(root_account.password_ct)
    blob[20] ^= 0xFF
    Account.objects.filter(pk=root_account.pk).update(password_ct=bytes(blob))
    with pytest.raises(crypto.DecryptionError):
        account_password(Account.objects.get(pk=root_account.pk))
