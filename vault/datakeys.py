"""The key check: which data keys this process's master key opens.

A master key is this database's key when the database holds a wrap of a data key
under it. Writers seal with the current data key as the database says at write
time, so a process never seals with a key a rotation has already retired.
"""
from __future__ import annotations

from django.db import IntegrityError, connections, router, transaction

from vault import crypto, keyring
from vault.models import DataKey, DataKeyWrap, KeyCheck, RetiredMasterKey

LEGACY_CHECK_PLAINTEXT = "strongroom key check"


def unlock(*, master: keyring.MasterKey, writable: bool) -> None:
    """Hold every data key `master` opens; on a writable node, enrol a fresh
    database (or convert a legacy one). Raise MasterKeyError if `master` is not
    this database's key."""
    if _load_wraps(master):
        return
    retired = RetiredMasterKey.objects.filter(key_id=master.key_id).first()
    if retired is not None:
        raise keyring.MasterKeyError(
            f"the configured master key (id {master.key_id}) was retired by "
            f"`master_key_rotate --finish` on {retired.retired_at:%Y-%m-%d %H:%M} UTC: "
            f"configure the new key file")
    if DataKey.objects.exists():
        raise keyring.MasterKeyError(
            f"the configured master key (id {master.key_id}) is not this database's key")
    legacy = _legacy_check(master)
    if legacy:
        keyring.remember(keyring.DataKey.of_master(master))
    if writable:
        try:
            _enrol(master, legacy=legacy)
        except IntegrityError:
            pass  # another process enrolled at the same moment: use its keys
        if not _load_wraps(master):
            raise keyring.MasterKeyError("the master key could not be enrolled")


def _load_wraps(master: keyring.MasterKey) -> bool:
    wraps = list(DataKeyWrap.objects.filter(master_key_id=master.key_id)
                 .values_list("data_key_id", "wrapped"))
    for data_key_id, wrapped in wraps:
        if keyring.held(data_key_id) is None:
            keyring.remember(keyring.unwrap(wrapped, data_key_id=data_key_id, master=master))
    return bool(wraps)


def _legacy_check(master: keyring.MasterKey) -> bool:
    """True if the database predates data keys and `master` is its key."""
    checks = list(KeyCheck.objects.all())
    if not checks:
        return False
    check = next((c for c in checks if c.key_id == master.key_id), None)
    if check is None:
        raise keyring.MasterKeyError(
            f"the configured master key (id {master.key_id}) is not this database's key")
    try:
        crypto.decrypt(check.check_ct, key=master, record="keycheck", field=master.key_id)
    except crypto.DecryptionError:
        raise keyring.MasterKeyError("the master key failed its check value") from None
    return True


@transaction.atomic
def _enrol(master: keyring.MasterKey, *, legacy: bool) -> None:
    """The first data key, current and wrapped by `master`. A legacy master key
    becomes a retired data key under its own id, so its values still open."""
    if legacy:
        old = keyring.DataKey.of_master(master)
        DataKey.objects.create(id=old.key_id, is_current=None)
        add_wrap(old, master=master)
        KeyCheck.objects.all().delete()
    first = keyring.DataKey.new()
    DataKey.objects.create(id=first.key_id, is_current=True)
    add_wrap(first, master=master)
    keyring.remember(first)


def add_wrap(data_key: keyring.DataKey, *, master: keyring.MasterKey) -> None:
    DataKeyWrap.objects.get_or_create(
        data_key_id=data_key.key_id, master_key_id=master.key_id,
        defaults={"wrapped": keyring.wrap(data_key, master=master)})


def data_key(key_id: str) -> keyring.DataKey:
    """The data key `key_id`: from memory, else from the database's wraps (a
    rotation on another node made a new one since this process started)."""
    found = keyring.held(key_id)
    if found is None:
        _load_wraps(keyring.master_key())
        found = keyring.held(key_id)
    if found is None:
        raise keyring.MasterKeyError(
            f"no data key {key_id} is wrapped by this process's master key "
            f"(id {keyring.master_key().key_id})")
    return found


def _current_id(mode: str) -> str | None:
    alias = router.db_for_write(DataKey)
    table = connections[alias].ops.quote_name(DataKey._meta.db_table)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE is_current {mode}")
        row = cursor.fetchone()
    return row[0] if row else None


def lock_current_for_update() -> None:
    """Make writers wait (see current_data_key) until this transaction ends."""
    _current_id("FOR UPDATE")


def current_data_key() -> keyring.DataKey:
    """The data key to seal with now. Share-locked until the writer's transaction
    ends, so a rotation cannot switch keys between this read and the write."""
    key_id = _current_id("LOCK IN SHARE MODE")
    if key_id is None:  # a database nobody has enrolled yet
        unlock(master=keyring.master_key(), writable=True)
        key_id = _current_id("LOCK IN SHARE MODE")
    if key_id is None:
        raise keyring.MasterKeyError("this database has no current data key")
    return data_key(key_id)
