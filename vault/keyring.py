"""The master key: read once from its file at process start, then kept only in memory.

The key file holds one line, `strongroom-key-v1:<base64url of 32 bytes>`. A key is
known by its id (a hash of the key, safe to store); every encrypted row records the
id of the key it was sealed with, which is what makes rotation resumable.
"""
from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

KEY_FILE_PREFIX = "strongroom-key-v1:"


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


_keys: dict[str, MasterKey] = {}
_current_id: str | None = None


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


def install(key: MasterKey, *, current: bool = True) -> None:
    global _current_id
    _keys[key.key_id] = key
    if current:
        _current_id = key.key_id


def current_key() -> MasterKey:
    if _current_id is None:
        raise MasterKeyError("the master key is not loaded in this process")
    return _keys[_current_id]


def key_by_id(key_id: str) -> MasterKey:
    try:
        return _keys[key_id]
    except KeyError:
        raise MasterKeyError(f"no master key with id {key_id} is loaded") from None


def start_up(path: Path | None = None, *, rotating: bool = False) -> MasterKey:
    """Load the configured key and prove it is this database's key."""
    from vault.services import key_check_verify_or_enrol

    key = read_key_file(Path(path or settings.MASTER_KEY_FILE))
    key_check_verify_or_enrol(key=key, rotating=rotating)
    install(key)
    return key


def start_up_or_exit() -> None:
    from django.db import DatabaseError

    try:
        start_up()
    except MasterKeyError as exc:
        sys.exit(f"strongroom: refusing to start: {exc}")
    except DatabaseError as exc:
        sys.exit(f"strongroom: refusing to start: cannot check the master key "
                 f"against the database ({exc.__class__.__name__}: {exc.args[-1]})")
