"""The HA pack: a zip that turns a fresh node into the primary's secondary.

It holds a consistent snapshot with its replication position, the replication and
audit-shipping credentials, the TLS material and the secondary's settings, plus a
manifest with each file's SHA-256 and an HMAC keyed from the vault's master key.
Every file is compressed, then encrypted (AES-256-GCM, its name bound as associated
data) with another key derived from the master key: a copied pack gives away no
credential, private key or TOTP seed. The master key itself is never in it: a node
with a different key (a foreign pack) or a pack that was altered fails the HMAC
before anything is touched.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import pwd
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.keyring import MasterKey

PACK_FORMAT = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1024 * 1024
# What a pack may unpack to in all: a vault's snapshot is small; this bounds memory.
MAX_PACK_BYTES = 2 * 1024 ** 3


class PackError(Exception):
    """The pack cannot be installed; the message says why. Nothing was changed."""


def _derived_key(master_key: MasterKey, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"strongroom ha pack v1 " + purpose).derive(master_key.material)


def _mac_key(master_key: MasterKey) -> bytes:
    return _derived_key(master_key, b"mac")


def _seal_file(master_key: MasterKey, name: str, data: bytes) -> bytes:
    nonce = os.urandom(12)
    cipher = AESGCM(_derived_key(master_key, b"encryption"))
    return nonce + cipher.encrypt(nonce, zlib.compress(data, 6), name.encode())


def _open_file(master_key: MasterKey, name: str, blob: bytes, *, unpacked_size: int) -> bytes:
    cipher = AESGCM(_derived_key(master_key, b"encryption"))
    try:
        compressed = cipher.decrypt(blob[:12], blob[12:], name.encode())
        inflater = zlib.decompressobj()
        # Never inflate past the size the signed manifest declares.
        data = inflater.decompress(compressed, unpacked_size + 1)
    except (InvalidTag, zlib.error):
        raise PackError(f"{name} in the pack does not decrypt (altered or foreign)") from None
    if len(data) != unpacked_size or not inflater.eof or inflater.unconsumed_tail:
        raise PackError(f"{name} in the pack does not match its declared size")
    return data


def _canonical(manifest: dict) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def write_pack(path: Path, *, files: dict[str, bytes], metadata: dict,
               master_key: MasterKey) -> dict:
    """Write the zip (mode 0600, via a temporary name so a half-written pack never
    carries the final name)."""
    sealed = {name: _seal_file(master_key, name, data) for name, data in files.items()}
    manifest = {"format": PACK_FORMAT, **metadata,
                "created_at": datetime.now(timezone.utc).isoformat(),
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sealed.items()},
                # Sizes are signed too, so a reader checks them before reading a byte.
                "sizes": {name: len(data) for name, data in sealed.items()},
                "unpacked_sizes": {name: len(data) for name, data in files.items()}}
    manifest["mac"] = hmac.new(_mac_key(master_key), _canonical(manifest), "sha256").hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        for name, data in sealed.items():
            archive.writestr(name, data)
    partial.chmod(0o600)
    partial.replace(path)
    return manifest


@dataclass
class Pack:
    manifest: dict
    files: dict[str, bytes]

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])


def read_pack(path: Path, *, master_key: MasterKey, node_name: str, max_age: timedelta,
              force_host: bool = False) -> Pack:
    """Open and verify a pack completely; raise PackError on the first problem. The
    manifest is verified first; members are checked against its signed names and sizes
    before any is read, and nothing is ever inflated past a declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _verified_manifest(archive, path, master_key)
            members = _checked_members(archive, manifest)
            files = {info.filename: _read_member(archive, info) for info in members}
    except FileNotFoundError:
        raise PackError(f"{path} does not exist") from None
    except PermissionError:
        # Not the pack's fault: say whose it is (manage.py runs as the service user).
        raise PackError(f"{path} cannot be read by {pwd.getpwuid(os.geteuid()).pw_name}, "
                        f"the user this command runs as (permission denied): give it a "
                        f"copy it can read; `strongroom-node manage` hands one over") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as exc:
        raise PackError(f"{path} is damaged or truncated (not a readable zip: {exc})") from None
    for name, digest in manifest["files"].items():
        if hashlib.sha256(files[name]).hexdigest() != digest:
            raise PackError(f"{name} in the pack fails its checksum (damaged or altered)")
    unpacked = manifest["unpacked_sizes"]
    pack = Pack(manifest=manifest, files={
        name: _open_file(master_key, name, blob, unpacked_size=unpacked[name])
        for name, blob in files.items()})
    try:
        built_for, age = manifest["secondary_fqdn"], datetime.now(timezone.utc) - pack.created_at
    except (KeyError, TypeError, ValueError):
        raise PackError(f"{path} has an incomplete manifest") from None
    if not force_host and built_for != node_name:
        raise PackError(f"the pack was built for {built_for}, but this node "
                        f"is {node_name} (use --force to install it anyway)")
    if age > max_age:
        raise PackError(f"the pack is stale: built {age.total_seconds() / 3600:.1f} h ago, "
                        f"more than the allowed {max_age.total_seconds() / 3600:.1f} h; "
                        f"run ha_setup on the primary again")
    return pack


def _verified_manifest(archive: zipfile.ZipFile, path: Path, master_key: MasterKey) -> dict:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise PackError(f"{path} is not an HA pack: it has no {MANIFEST}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise PackError(f"{path} has an oversized manifest")
    with archive.open(info) as member:
        raw = member.read(MAX_MANIFEST_BYTES + 1)
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PackError(f"{path} has an unreadable manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise PackError(f"{path} is not a format-{PACK_FORMAT} Strongroom HA pack")
    mac = manifest.get("mac")
    expected = hmac.new(_mac_key(master_key), _canonical(manifest), "sha256").hexdigest()
    # compare_digest takes only ASCII str: anything else is simply not our signature.
    if not (isinstance(mac, str) and mac.isascii() and hmac.compare_digest(expected, mac)):
        raise PackError("the pack's signature does not match: it was altered, or it was "
                        "built by a vault with a different master key (a foreign pack)")
    listed = manifest.get("files")
    sizes, unpacked = manifest.get("sizes"), manifest.get("unpacked_sizes")
    if not (isinstance(listed, dict) and isinstance(sizes, dict) and isinstance(unpacked, dict)
            and set(listed) == set(sizes) == set(unpacked)
            and all(isinstance(n, int) and n >= 0 for n in (*sizes.values(),
                                                             *unpacked.values()))):
        raise PackError(f"{path} has no file sizes in its manifest: it was built by an older "
                        f"version; run ha_setup on the primary again")
    if sum(unpacked.values()) > MAX_PACK_BYTES:
        raise PackError(f"the pack would unpack to more than {MAX_PACK_BYTES} bytes")
    return manifest


def _checked_members(archive: zipfile.ZipFile, manifest: dict) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if info.filename != MANIFEST]
    names = [info.filename for info in members]
    if len(names) != len(set(names)) or set(names) != set(manifest["files"]):
        raise PackError("the pack's files differ from its manifest (damaged or altered)")
    for info in members:
        # Packs are written ZIP_STORED (each file is compressed before it is sealed):
        # a zip-compressed member is not ours, and is never inflated.
        if info.compress_type != zipfile.ZIP_STORED:
            raise PackError(f"{info.filename} in the pack is zip-compressed: not a pack member")
        if info.file_size != manifest["sizes"][info.filename] or \
                info.compress_size != info.file_size:
            raise PackError(f"{info.filename} in the pack does not have its declared size "
                            f"(damaged or altered)")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise PackError(f"{info.filename} in the pack does not have its declared size "
                        f"(damaged or altered)")
    return data
