"""The pack reader on its own: every kind of damage is a PackError, never a crash."""
import io
import os
import zipfile
from datetime import timedelta

import pytest

from ha.pack import PackError, read_pack, write_pack
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
