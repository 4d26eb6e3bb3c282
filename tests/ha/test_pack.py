"""R-H5: the HA pack never carries the master key; a damaged, truncated, foreign,
stale or misaddressed pack is refused with a clear error and changes nothing."""
import hashlib
import json
import os
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from ha.replication.pack import read_pack, write_pack
from localservices.installer import pack_file
from tests.ha.support import key_material
from tests.support import run_manage, wait_until
from vault.keyring import MasterKey, read_key_file

pytestmark = pytest.mark.ha
WRITTEN_BY_WRITE_PACK = {"format", "created_at", "files", "sizes", "unpacked_sizes", "mac"}


def install(pair, path: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_manage("ha_install_pack", str(path), *extra, node=pair.secondary.profile)


def node_state(pair) -> tuple:
    """What an installation would change on the secondary: its files (HA directory,
    secrets, settings) byte for byte, its replica channel, grants, and the contents of
    every table (CHECKSUM TABLE), not just how many there are."""
    profile = pair.secondary.profile
    files = sorted((str(p), hashlib.sha256(p.read_bytes()).hexdigest())
                   for directory in (profile.ha_dir, profile.secrets_dir)
                   for p in directory.rglob("*") if p.is_file())
    files.append((str(profile.env_file), hashlib.sha256(profile.env_file.read_bytes())
                  .hexdigest()))
    # The position moves every second (the primary's heartbeat); the channel must not.
    replica = pair.secondary.sql("SELECT @@read_only"), replica_channel(pair)
    return files, replica, local_contents(pair), replica_matches_primary(pair), \
        pair.secondary.sql("SHOW GRANTS FOR 'strongroom'@'127.0.0.1'")


# Rows that change every few seconds by themselves: the primary's heartbeat and seals
# (replicated), this node's seals, witness, sessions and HA status checks (local).
MOVING_TABLES = {"ha_heartbeat", "audit_auditseal", "django_session", "audit_outboxseal",
                 "audit_sealwitness", "ha_nodestatus", "ha_transition"}


def _tables(pair, schema: str) -> list[str]:
    return [f"{schema}.{name}" for (name,) in pair.secondary.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "ORDER BY table_name", (schema,)) if name not in MOVING_TABLES]


def local_contents(pair) -> tuple:
    """The local schema's contents; the outbox by its rows' ids, since shipping may
    mark them delivered meanwhile."""
    tables = [table for table in _tables(pair, "strongroom_local")
              if table != "strongroom_local.audit_auditoutbox"]
    outbox = pair.secondary.sql("SELECT uuid FROM strongroom_local.audit_auditoutbox "
                                "ORDER BY uuid")
    return pair.secondary.sql("CHECKSUM TABLE " + ", ".join(tables)), outbox


def replica_matches_primary(pair) -> bool:
    """The replicated schema still holds exactly the primary's data. It keeps changing
    (replication stays on, shipped audit rows come back), so compare the two sides at
    one settled moment rather than the replica before and after."""
    statement = "CHECKSUM TABLE " + ", ".join(_tables(pair, "strongroom"))

    def same() -> bool:
        pair.wait_replicated()
        return pair.primary.sql(statement) == pair.secondary.sql(statement)

    return wait_until(same, timeout=30, what="the replica to hold the primary's data")


def replica_channel(pair) -> tuple:
    import MySQLdb

    connection = MySQLdb.connect(unix_socket=str(pair.secondary.profile.mariadb.socket.resolve()),
                                 user="root")
    try:
        with connection.cursor(MySQLdb.cursors.DictCursor) as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            row = cursor.fetchone()
    finally:
        connection.close()
    return tuple(row[name] for name in ("Master_Host", "Master_Port", "Master_User",
                                        "Master_SSL_Cert", "Slave_SQL_Running", "Using_Gtid"))


def rebuilt_pack(pair, tmp_path: Path, *, key: MasterKey | None = None, **changes) -> Path:
    """The real pack's content, re-sealed (with `key`, or the vault's) after changes."""
    vault_key = read_key_file(pair.primary.profile.master_key_file)
    pack = read_pack(pack_file(pair.primary.profile), master_key=vault_key,
                     node_name=pair.secondary.profile.node_name, max_age=timedelta(days=1))
    metadata = {k: v for k, v in pack.manifest.items()
                if k not in WRITTEN_BY_WRITE_PACK}
    metadata.update(changes)
    path = tmp_path / "rebuilt.zip"
    write_pack(path, files=pack.files, metadata=metadata, master_key=key or vault_key)
    return path


def test_the_pack_is_private_and_never_holds_the_master_key(pair):
    path = pack_file(pair.primary.profile)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    material_b64 = key_material(pair.primary.profile)
    raw = read_key_file(pair.primary.profile.master_key_file).material
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            assert material_b64 not in content and raw not in content, name
        assert set(archive.namelist()) >= {"manifest.json", "snapshot.sql", "credentials.json",
                                           "secondary.env", "tls/ca.pem", "tls/replica.pem"}
    # Its secrets are sealed too: no private key, credential or table row in clear.
    password = (pair.secondary.profile.ha_dir / "audit_shipper_password").read_text()
    whole = path.read_bytes()
    for clear in (b"PRIVATE KEY", password.encode(), b"INSERT INTO", b"strongroom_repl"):
        assert clear not in whole, clear
    json.loads(zipfile.ZipFile(path).read("manifest.json"))  # only the manifest is readable


def test_a_damaged_pack_is_refused_and_changes_nothing(pair, tmp_path):
    data = bytearray(pack_file(pair.primary.profile).read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = os.urandom(64)
    bad = tmp_path / "damaged.zip"
    bad.write_bytes(bytes(data))
    before = node_state(pair)
    result = install(pair, bad)
    assert result.returncode != 0 and "pack refused" in result.stderr
    assert node_state(pair) == before


def test_a_truncated_pack_is_refused_and_changes_nothing(pair, tmp_path):
    data = pack_file(pair.primary.profile).read_bytes()
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(data[: len(data) // 3])
    before = node_state(pair)
    result = install(pair, bad)
    assert result.returncode != 0 and "damaged or truncated" in result.stderr
    assert node_state(pair) == before


def test_a_foreign_pack_is_refused_and_changes_nothing(pair, tmp_path):
    bad = rebuilt_pack(pair, tmp_path, key=MasterKey(os.urandom(32)))
    before = node_state(pair)
    result = install(pair, bad)
    assert result.returncode != 0 and "different master key" in result.stderr
    assert node_state(pair) == before


def test_an_altered_file_in_a_signed_pack_is_refused(pair, tmp_path):
    path = pack_file(pair.primary.profile)
    bad = tmp_path / "altered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "secondary.env":  # same size, so only the checksum can tell
                data = data[:-1] + bytes([data[-1] ^ 1])
            target.writestr(name, data)
    before = node_state(pair)
    result = install(pair, bad)
    assert result.returncode != 0 and "fails its checksum" in result.stderr
    assert node_state(pair) == before


def test_a_pack_for_another_host_is_refused_without_force(pair, tmp_path):
    bad = rebuilt_pack(pair, tmp_path, secondary_fqdn="vault-c.example.com")
    before = node_state(pair)
    result = install(pair, bad)
    assert result.returncode != 0 and "built for vault-c.example.com" in result.stderr
    assert "--force" in result.stderr and node_state(pair) == before


def test_a_stale_pack_is_refused_and_changes_nothing(pair):
    before = node_state(pair)
    result = install(pair, pack_file(pair.primary.profile), "--max-age-hours", "0")
    assert result.returncode != 0 and "the pack is stale" in result.stderr
    assert node_state(pair) == before


def test_a_missing_pack_is_refused_clearly(pair, tmp_path):
    result = install(pair, tmp_path / "nowhere.zip")
    assert result.returncode != 0 and "does not exist" in result.stderr


def test_a_failed_install_says_so_and_the_good_pack_rebuilds_the_secondary(pair, tmp_path):
    vault_key = read_key_file(pair.primary.profile.master_key_file)
    good = read_pack(pack_file(pair.primary.profile), master_key=vault_key,
                     node_name=pair.secondary.profile.node_name, max_age=timedelta(days=1))
    broken = tmp_path / "broken-snapshot.zip"
    metadata = {k: v for k, v in good.manifest.items()
                if k not in WRITTEN_BY_WRITE_PACK}
    write_pack(broken, files={**good.files, "snapshot.sql": b"THIS IS NOT SQL;\n"},
               metadata=metadata, master_key=vault_key)
    result = install(pair, broken)
    assert result.returncode != 0 and "installation failed" in result.stderr
    assert "run ha_install_pack again" in result.stderr

    rebuilt = install(pair, pack_file(pair.primary.profile))  # S3: rebuild, no file copying
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "replicating from" in rebuilt.stdout
    pair.wait_replicated()
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_account") == \
        pair.primary.sql("SELECT COUNT(*) FROM strongroom.vault_account")
