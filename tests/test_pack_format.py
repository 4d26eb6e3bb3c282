"""The pack reader on its own: every kind of damage is a PackError, never a crash."""
import io
import os
import zipfile
from datetime import timedelta

import pytest

from ha.replication.pack import PackError, read_pack, write_pack
from vault.keyring import MasterKey

KEY = MasterKey(os.urandom(32))
FILES = {"snapshot.sql": os.urandom(50_000).hex().encode(), "tls/ca.pem": b"-----BEGIN-----"}
METADATA = {"secondary_fqdn": "vault-b.example.com", "primary_fqdn": "vault-a.example.com"}


def read(path):
    return read_pack(path, master_key=KEY, node_name="vault-b.example.com",
                     max_age=timedelta(hours=1))


def test_a_good_pack_round_trips(tmp_path):
    path = tmp_path / "HAPack.zip"
    write_pack(path, files=FILES, metadata=METADATA, master_key=KEY)
    assert read(path).files == FILES


@pytest.mark.parametrize("seed", range(40))
def test_random_damage_anywhere_is_refused_as_a_pack_error(tmp_path, seed):
    path = tmp_path / "HAPack.zip"
    write_pack(path, files=FILES, metadata=METADATA, master_key=KEY)
    data = bytearray(path.read_bytes())
    rng = __import__("random").Random(seed)
    start = rng.randrange(len(data) - 64)
    data[start:start + rng.randrange(1, 64)] = os.urandom(64)[: rng.randrange(1, 64)]
    path.write_bytes(bytes(data))
    with pytest.raises(PackError):
        read(path)


def test_a_zip_without_a_manifest_is_not_a_pack(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    path = tmp_path / "other.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(PackError, match="not an HA pack"):
        read(path)


def _signed_manifest(files: dict[str, bytes], **extra) -> dict:
    """A manifest as write_pack would sign it with KEY (the attacker's best case: a
    pack built by someone who holds the key, or a bug that lets a member through)."""
    import hashlib
    import hmac
    from datetime import datetime, timezone

    from ha.replication.pack import _canonical, _mac_key

    manifest = {"format": 1, **METADATA, "created_at": datetime.now(timezone.utc).isoformat(),
                "files": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}, **extra}
    manifest["mac"] = hmac.new(_mac_key(KEY), _canonical(manifest), "sha256").hexdigest()
    return manifest


def _zip_bomb(path, *, signed: bool, megabytes: int = 300) -> None:
    """A few hundred kilobytes that inflate to `megabytes` of zeros."""
    import json

    info = zipfile.ZipInfo("snapshot.sql")
    info.compress_type = zipfile.ZIP_DEFLATED
    size = megabytes * 1024 * 1024
    manifest = (_signed_manifest({"snapshot.sql": b""}, sizes={"snapshot.sql": size},
                                 unpacked_sizes={"snapshot.sql": size})
                if signed else {"format": 1, "mac": "0"})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        with archive.open(info, "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)


@pytest.mark.parametrize("signed", [False, True])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, signed):
    import tracemalloc

    path = tmp_path / "bomb.zip"
    _zip_bomb(path, signed=signed)
    assert path.stat().st_size < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(PackError, match="zip-compressed" if signed else "signature"):
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held while refusing"


def test_a_member_larger_than_the_manifest_says_is_refused_unread(tmp_path):
    import json

    path = tmp_path / "HAPack.zip"
    write_pack(path, files=FILES, metadata=METADATA, master_key=KEY)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        members = {n: archive.read(n) for n in archive.namelist() if n != "manifest.json"}
    grown = tmp_path / "grown.zip"
    with zipfile.ZipFile(grown, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data + (bytes(4096) if name == "tls/ca.pem" else b""))
    with pytest.raises(PackError, match="tls/ca.pem.*size"):
        read(grown)


@pytest.mark.parametrize("mac", ["é" * 64, "\udc80", 12, None])
def test_a_manifest_with_a_strange_mac_is_a_refusal_not_a_crash(tmp_path, mac):
    import json

    path = tmp_path / "HAPack.zip"
    write_pack(path, files=FILES, metadata=METADATA, master_key=KEY)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        members = {n: archive.read(n) for n in archive.namelist() if n != "manifest.json"}
    manifest["mac"] = mac
    odd = tmp_path / "odd.zip"
    with zipfile.ZipFile(odd, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(PackError, match="signature"):
        read(odd)
