"""The keys a process holds in memory; no Django here, no database.

The master key is read once from its file at process start. Values are not sealed
with it directly: they are sealed with data keys (DEKs), which the database stores
wrapped (AES-GCM) by one or more master keys. A process unwraps the data keys its
master key opens and keeps them here. A key is known by its id (safe to store);
every sealed row records the id of the data key it was sealed with.

The key file holds one line, `strongroom-key-v1:<base64url of 32 bytes>`.
"""
from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE_PREFIX = "strongroom-key-v1:"
NONCE_BYTES = 12


class MasterKeyError(Exception):
    """The key cannot be used; the message names the problem and never the key."""


@dataclass(frozen=True, repr=False)
class MasterKey:
    material: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"strongroom key id\x00" + self.material).hexdigest()[:16]

    def __repr__(self) -> str:  # never print the material, even in a traceback
        return f"MasterKey(key_id={self.key_id})"


@dataclass(frozen=True, repr=False)
class DataKey:
    """A key values are sealed with. A legacy value sealed directly under a master
    key opens with a DataKey whose id is that master key's id."""

    key_id: str
    material: bytes

    @classmethod
    def new(cls) -> DataKey:
        return cls(key_id=os.urandom(8).hex(), material=os.urandom(32))

    @classmethod
    def of_master(cls, master: MasterKey) -> DataKey:
        return cls(key_id=master.key_id, material=master.material)

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id})"


_master: MasterKey | None = None
_data_keys: dict[str, DataKey] = {}


def new_key_file(path: Path) -> MasterKey:
    """Write a new random 256-bit key to `path` (mode 0400); refuse to overwrite."""
    key = MasterKey(os.urandom(32))
    encoded = base64.urlsafe_b64encode(key.material).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    except FileExistsError:
        raise MasterKeyError(f"{path} already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise MasterKeyError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as key_file:
        key_file.write(KEY_FILE_PREFIX + encoded + "\n")
    return key


def read_key_file(path: Path) -> MasterKey:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise MasterKeyError(f"master key file {path} does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"master key file {path} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(
            f"master key file {path} is accessible to group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 0400 {path}")
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise MasterKeyError(f"master key file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        text = ""
    if not text.startswith(KEY_FILE_PREFIX):
        raise MasterKeyError(f"{path} is not a Strongroom master key file")
    try:
        material = base64.urlsafe_b64decode(text[len(KEY_FILE_PREFIX):])
    except ValueError:
        material = b""
    if len(material) != 32:
        raise MasterKeyError(f"{path} is damaged: it does not hold a 256-bit key")
    return MasterKey(material)


# --- Wrapping data keys --------------------------------------------------------------

def _wrap_aad(data_key_id: str, master_key_id: str) -> bytes:
    return f"strongroom|datakey|{data_key_id}|{master_key_id}".encode()


def wrap(data_key: DataKey, *, master: MasterKey) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = _wrap_aad(data_key.key_id, master.key_id)
    return nonce + AESGCM(master.material).encrypt(nonce, data_key.material, aad)


def unwrap(wrapped: bytes, *, data_key_id: str, master: MasterKey) -> DataKey:
    wrapped = bytes(wrapped)
    try:
        material = AESGCM(master.material).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(data_key_id, master.key_id))
    except (InvalidTag, ValueError):
        raise MasterKeyError(f"the master key (id {master.key_id}) failed to open data key "
                             f"{data_key_id}: the stored wrap is damaged") from None
    return DataKey(key_id=data_key_id, material=material)


# --- What this process holds -----------------------------------------------------------

def install(master: MasterKey) -> None:
    """Hold `master` as this process's master key (data keys come from the database)."""
    global _master
    if _master is not None and _master.key_id != master.key_id:
        _data_keys.clear()
    _master = master


def master_key() -> MasterKey:
    if _master is None:
        raise MasterKeyError("the master key is not loaded in this process")
    return _master


def remember(data_key: DataKey) -> None:
    _data_keys[data_key.key_id] = data_key


def held(key_id: str) -> DataKey | None:
    return _data_keys.get(key_id)


def forget_all() -> None:
    """A fresh process: no master key, no data keys."""
    global _master
    _master = None
    _data_keys.clear()
