"""Issue 12: the password change writes its history row and its conditional UPDATE with
statements built once (strongroom.rows), not compiled by the ORM on every change. They
store what save() and filter().update() store, and the UPDATE matches only a row whose
columns are still as read."""
import datetime

import pytest
from django.utils import timezone

from strongroom import rows
from vault.models import Account, PasswordVersion

pytestmark = pytest.mark.django_db(databases="__all__")
FIELDS = ("password_ct", "key_id", "set_at", "replaced_at", "account_id", "replaced_by_id")


def _version(account, user, **values) -> PasswordVersion:
    now = timezone.now()
    return PasswordVersion(account=account, set_at=now - datetime.timedelta(days=3),
                           replaced_at=now, replaced_by=user, key_id="k1",
                           password_ct=b"\x00sealed\xff", **values)


def test_an_inserted_row_is_what_save_stores(alice, root_account):
    by_hand, by_orm = _version(root_account, alice), _version(root_account, None)
    rows.insert(by_hand)
    by_orm.save(force_insert=True)
    assert not by_hand._state.adding and by_hand._state.db == "default"
    for made in (by_hand, by_orm):
        stored = PasswordVersion.objects.values(*FIELDS).get(pk=made.pk)
        assert {name: bytes(stored[name]) if name == "password_ct" else stored[name]
                for name in FIELDS} == {name: getattr(made, name) for name in FIELDS}


def test_the_update_matches_only_a_row_still_as_read(root_account):
    account = Account.objects.get(pk=root_account.pk)
    was = {"key_id": account.key_id, "password_ct": account.password_ct,
           "password_changed_at": account.password_changed_at}
    changed_at = account.password_changed_at + datetime.timedelta(seconds=1)
    account.password_ct, account.password_changed_at = b"new-sealed", changed_at
    assert rows.update_unchanged(account, fields=("password_ct", "password_changed_at"),
                                 was=was)
    stored = Account.objects.get(pk=account.pk)
    assert bytes(stored.password_ct) == b"new-sealed"
    assert stored.password_changed_at == changed_at
    # A second writer that read the old values matches nothing and changes nothing.
    account.password_ct = b"stale-writer"
    assert not rows.update_unchanged(account, fields=("password_ct",), was=was)
    assert bytes(Account.objects.get(pk=account.pk).password_ct) == b"new-sealed"
