"""The key of the seals' HMAC: 32 random bytes in the replicated schema, sealed by
the master key (AES-256-GCM, like TOTP seeds), so both nodes can verify and only a
holder of the master key can forge a seal. Each trail gets its own derived key."""
from __future__ import annotations

import hashlib
import hmac
import os

from django.db import IntegrityError, router, transaction

from audit.models import AuditSealKey
from vault import crypto, keyring

KEY_ROW_ID = 1


def _open(row: AuditSealKey) -> bytes:
    """The only place this module touches the master key's helpers."""
    return bytes.fromhex(crypto.decrypt(bytes(row.key_ct), key=keyring.key_by_id(row.key_id),
                                        record=f"auditsealkey:{row.pk}", field="key"))


def _create() -> None:
    key = keyring.current_key()
    ciphertext = crypto.encrypt(os.urandom(32).hex(), key=key,
                                record=f"auditsealkey:{KEY_ROW_ID}", field="key")
    try:
        with transaction.atomic(using=router.db_for_write(AuditSealKey)):
            AuditSealKey.objects.create(id=KEY_ROW_ID, key_ct=ciphertext, key_id=key.key_id)
    except IntegrityError:
        pass  # another sealer created it first: use theirs


def seal_key(*, trail: str, create: bool = False) -> bytes | None:
    """The HMAC key of one trail ("trail" or "outbox"); None if no key exists yet
    and `create` is false (a secondary waits for the primary's key to replicate)."""
    row = AuditSealKey.objects.filter(id=KEY_ROW_ID).first()
    if row is None and create:
        _create()
        row = AuditSealKey.objects.get(id=KEY_ROW_ID)
    if row is None:
        return None
    return hmac.new(_open(row), f"strongroom audit seal: {trail}".encode(),
                    hashlib.sha256).digest()


def master_key_loaded() -> None:
    """Commands run outside the web and worker processes, which load the key at start."""
    try:
        keyring.current_key()
    except keyring.MasterKeyError:
        keyring.start_up()


def seal_key_ensure() -> None:
    """Create the key now (ha_setup: so the snapshot carries it to the new secondary)."""
    master_key_loaded()
    seal_key(trail="trail", create=True)
