"""What the project sends about accounts and TLS files to MariaDB (issue 8, items 2,
12 and 16): quoted names, hashed passwords, append-only audit tables, and server TLS
files the server's own user can read."""
import os
import stat
import subprocess
from pathlib import Path

import MySQLdb
import pytest

from django.conf import settings

from ha.replication.dbconnect import admin_client_options
from ha.replication.grants import APPEND_ONLY, READ_WRITE, wanted_table_grants
from ha.replication.sql import native_password_hash, quote_identifier, with_parameters
from ha.replication.tls import write_for_server
from localservices.mariadb import MariaDBServer
from localservices.node import PROFILES
from tests.checkout_copy import copy_checkout, public_directory

THROWAWAY_UID = 54321  # a user that owns nothing else, standing for `mysql`
NASTY = ["it's", "back\\slash", "two''quotes", "`tick`", "x'; DROP DATABASE mysql; --",
         "naïve ünïcode", "%s %% _"]


@pytest.fixture
def server() -> MariaDBServer:
    return PROFILES["test"].mariadb


@pytest.mark.parametrize("name", NASTY)
def test_a_quoted_identifier_names_exactly_that_column(server, name):
    rows = server.query(f"SELECT 1 AS {quote_identifier(name)}")
    assert rows == [(1,)]


@pytest.mark.parametrize("name", NASTY)
def test_an_identifier_sent_with_parameters_keeps_its_percent_signs(server, name):
    statement = with_parameters(f"SELECT 1 AS {quote_identifier(name)}") + ", %s AS v"
    connection = MySQLdb.connect(unix_socket=str(server.socket.resolve()), user="root")
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, ("value",))
            assert cursor.fetchone() == (1, "value")
            assert cursor.description[0][0] == name
    finally:
        connection.close()


def test_the_password_hash_is_the_one_the_server_computes(server):
    password = "correct horse battery staple"
    assert native_password_hash(password) == server.query("SELECT PASSWORD(%s)",
                                                          (password,))[0][0]


def test_every_audit_table_but_the_outbox_and_the_seal_key_is_append_only():
    grants = wanted_table_grants(tables=["audit_auditevent", "audit_auditseal",
                                         "audit_sealedkey", "audit_auditoutbox",
                                         "audit_outboxseal", "audit_auditsealkey",
                                         "vault_account"])
    assert grants["audit_auditevent"] == grants["audit_auditseal"] == APPEND_ONLY
    assert grants["audit_sealedkey"] == APPEND_ONLY  # a new audit table is covered
    assert grants["audit_auditoutbox"] == grants["audit_outboxseal"] == READ_WRITE
    assert grants["audit_auditsealkey"] == READ_WRITE  # rotation re-encrypts it
    assert grants["vault_account"] == READ_WRITE


def _owned_by_throwaway_user(path):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, THROWAWAY_UID, THROWAWAY_UID)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_the_server_key_belongs_to_the_owner_of_the_data_dir_with_mode_0600(tmp_path):
    data_dir = _owned_by_throwaway_user(tmp_path / "data")
    key = tmp_path / "tls" / "server.key"
    write_for_server(key, b"-----BEGIN PRIVATE KEY-----\n", data_dir=data_dir)
    info = key.stat()
    assert (info.st_uid, info.st_gid) == (THROWAWAY_UID, THROWAWAY_UID)
    assert stat.S_IMODE(info.st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_local_servers_bootstrap_tls_belongs_to_the_owner_of_its_data_dir(tmp_path):
    mariadb = MariaDBServer(base_dir=tmp_path / "mariadb", port=1)
    _owned_by_throwaway_user(mariadb.data_dir)
    mariadb._ensure_bootstrap_tls()
    for name in ("server.key", "server.pem", "ca.pem"):
        info = (mariadb.tls_dir / name).stat()
        assert info.st_uid == THROWAWAY_UID, name
        assert stat.S_IMODE(info.st_mode) == 0o600, name


SERVICE_UID = 54322  # standing for the app's service user, `strongroom`


@pytest.mark.skipif(os.geteuid() != 0, reason="running as two other users needs root")
def test_the_service_user_replaces_a_server_file_the_server_can_still_read():
    """Issue 11, item 8: ha_setup (as the app's service user, not root) replaces the
    database server's TLS files; the server (another user) must still read them."""
    # Not under root's private temp dir nor the clone (maybe in /root): the code runs
    # from a copy every user can reach, as from /opt/strongroom.
    with public_directory("strongroom-tls-files-") as base:
        code = copy_checkout(base / "code")
        data_dir = _owned_by_throwaway_user(base / "data")
        tls_dir = base / "tls"
        tls_dir.mkdir()
        os.chown(tls_dir, SERVICE_UID, THROWAWAY_UID)  # the installer's set-gid directory
        tls_dir.chmod(0o2750)
        key = tls_dir / "server.key"
        as_service_user = subprocess.run(
            [code / ".venv" / "bin" / "python", "-c", "import sys; from pathlib import Path; "
             "from ha.replication.tls import write_for_server; write_for_server(Path(sys.argv[1]), "
             "b'KEY', data_dir=Path(sys.argv[2]))", str(key), str(data_dir)],
            cwd=code, user=SERVICE_UID, group=SERVICE_UID, extra_groups=[],
            capture_output=True, text=True)
        assert as_service_user.returncode == 0, as_service_user.stderr
        info = key.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (
            SERVICE_UID, THROWAWAY_UID, 0o640)
        as_server = subprocess.run(["cat", str(key)], user=THROWAWAY_UID, group=THROWAWAY_UID,
                                   extra_groups=[], capture_output=True)
        assert as_server.stdout == b"KEY"


def test_the_admin_clients_read_their_password_from_a_private_file_removed_after_use():
    with admin_client_options() as options:
        assert stat.S_IMODE(Path(options).stat().st_mode) == 0o600
        result = subprocess.run(["mariadb", f"--defaults-file={options}", "--batch",
                                 "--skip-column-names", "-e", "SELECT CURRENT_USER()"],
                                capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{settings.DB_ADMIN_USER}@")
    assert not Path(options).exists()
