"""AES-256-GCM for values at rest: random 96-bit nonce per value, the record's
identity (model, primary key, field, key id) bound as associated data, so a
ciphertext copied to another row or field fails to decrypt. Pure functions: the
key comes from the caller (vault.sealing picks it)."""
from __future__ import annotations

import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SealingKey(Protocol):
    key_id: str
    material: bytes


class DecryptionError(Exception):
    """A ciphertext failed authentication: tampered, moved, or the wrong key."""


def associated_data(*, record: str, field: str, key_id: str) -> bytes:
    return f"strongroom|{record}|{field}|{key_id}".encode()


def encrypt(plaintext: str, *, key: SealingKey, record: str, field: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(record=record, field=field, key_id=key.key_id)
    return nonce + AESGCM(key.material).encrypt(nonce, plaintext.encode(), aad)


def decrypt(blob: bytes, *, key: SealingKey, record: str, field: str) -> str:
    aad = associated_data(record=record, field=field, key_id=key.key_id)
    nonce, ciphertext = bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:])
    try:
        return AESGCM(key.material).decrypt(nonce, ciphertext, aad).decode()
    except (InvalidTag, ValueError):
        raise DecryptionError(
            f"stored value {record}.{field} failed its integrity check "
            f"(tampered, moved, or sealed with another key)") from None
