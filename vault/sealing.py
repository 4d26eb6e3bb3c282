"""One home for sealed values: which fields are sealed, and sealing/opening them.

A sealed field `<name>` is stored as the column `<name>_ct`, next to one `key_id`
column per row naming the data key; the record bound into the ciphertext is
"<model name>:<pk>". To seal a new kind of value, add its model here (one line):
rotation and the key check then cover it.
"""
from __future__ import annotations

from django.apps import apps
from django.db import models

from vault import crypto, datakeys, keyring

# "app_label.model" -> sealed field names.
SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    "vault.account": ("password", "notes"),
    "vault.passwordversion": ("password",),
    "accounts.totpdevice": ("key",),
    "audit.auditsealkey": ("key",),
}


def sealed_models() -> list[tuple[type[models.Model], tuple[str, ...]]]:
    return [(apps.get_model(label), fields) for label, fields in SEALED_FIELDS.items()]


def record_of(row: models.Model) -> str:
    return f"{row._meta.model_name}:{row.pk}"


def current_data_key() -> keyring.DataKey:
    """The data key writers seal with now (see vault.datakeys)."""
    return datakeys.current_data_key()


def seal(value: str, *, record: str, field: str,
         key: keyring.DataKey | None = None) -> tuple[str, bytes]:
    """(data key id, ciphertext) of `value`, under `key` or the current data key."""
    key = key or datakeys.current_data_key()
    return key.key_id, crypto.encrypt(value, key=key, record=record, field=field)


def open_value(blob: bytes, *, key_id: str, record: str, field: str) -> str:
    return crypto.decrypt(blob, key=datakeys.data_key(key_id), record=record, field=field)


def seal_row(row: models.Model, values: dict[str, str], *,
             key: keyring.DataKey | None = None) -> None:
    """Set `<field>_ct` for each of `values` and the row's key_id, all under one key."""
    key = key or datakeys.current_data_key()
    for field, value in values.items():
        setattr(row, f"{field}_ct", seal(value, record=record_of(row), field=field, key=key)[1])
    row.key_id = key.key_id


def open_field(row: models.Model, field: str) -> str:
    return open_value(getattr(row, f"{field}_ct"), key_id=row.key_id,
                      record=record_of(row), field=field)
