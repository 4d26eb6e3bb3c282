"""The key of the seals' HMAC: 32 random bytes in the replicated schema, sealed by
the master key (AES-256-GCM, like TOTP seeds), so both nodes can verify and only a
holder of the master key can forge a seal. Each trail gets its own derived key."""
from __future__ import annotations

import hashlib
import hmac
import os

from django.db import IntegrityError, router, transaction

from audit.models import AuditSealKey
from vault import sealing, startup

KEY_ROW_ID = 1


def _open(row: AuditSealKey) -> bytes:
    return bytes.fromhex(sealing.open_field(row, "key"))


def _create() -> None:
    row = AuditSealKey(id=KEY_ROW_ID)
    try:
        with transaction.atomic(using=router.db_for_write(AuditSealKey)):
            sealing.seal_row(row, {"key": os.urandom(32).hex()})
            row.save(force_insert=True)
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


def seal_key_ensure() -> None:
    """Create the key now (ha_setup: so the snapshot carries it to the new secondary)."""
    startup.master_key_loaded()
    seal_key(trail="trail", create=True)
