"""Re-encrypt every stored value under a new master key, in batches.

Resumable: each row records its key id, so a rerun skips what is already done."""
from __future__ import annotations

from typing import Callable

from django.db import transaction

from audit.models import AuditSealKey
from audit.services import Action, audit_record
from accounts.totp import TotpDevice
from vault import crypto, keyring
from vault.models import Account, KeyCheck, PasswordVersion
from vault.services import key_check_value

# model -> encrypted fields; the record label is "<model name>:<pk>".
SEALED_FIELDS = {Account: ("password_ct", "notes_ct"), PasswordVersion: ("password_ct",),
                 TotpDevice: ("key_ct",), AuditSealKey: ("key_ct",)}


def rows_to_rotate(new_key: keyring.MasterKey) -> int:
    return sum(model.objects.exclude(key_id=new_key.key_id).count() for model in SEALED_FIELDS)


def master_key_rotate(*, new_key: keyring.MasterKey, batch_size: int = 500,
                      on_progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    keyring.install(new_key, current=False)
    KeyCheck.objects.get_or_create(key_id=new_key.key_id,
                                   defaults={"check_ct": key_check_value(new_key)})
    total, done = rows_to_rotate(new_key), 0
    for model, fields in SEALED_FIELDS.items():
        while True:
            with transaction.atomic():
                batch = list(model.objects.select_for_update()
                             .exclude(key_id=new_key.key_id).order_by("pk")[:batch_size])
                for row in batch:
                    _reseal(row, fields, new_key)
                model.objects.bulk_update(batch, [*fields, "key_id"])
            if not batch:
                break
            done += len(batch)
            on_progress(done, total)
    with transaction.atomic():
        KeyCheck.objects.exclude(key_id=new_key.key_id).delete()
        audit_record(action=Action.KEY_ROTATE, actor_name="system",
                     detail={"new_key_id": new_key.key_id, "values": done})
    keyring.install(new_key)
    return done


def _reseal(row, fields: tuple[str, ...], new_key: keyring.MasterKey) -> None:
    record = f"{row._meta.model_name}:{row.pk}"
    old_key = keyring.key_by_id(row.key_id)
    for field in fields:
        label = field.removesuffix("_ct")
        plaintext = crypto.decrypt(getattr(row, field), key=old_key, record=record, field=label)
        setattr(row, field, crypto.encrypt(plaintext, key=new_key, record=record, field=label))
    row.key_id = new_key.key_id
