"""ha_setup refuses bad names before touching anything, and names what the primary
lacks for replication, each with its fix."""
import os
import pwd
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import MySQLdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ha.replication.dbconnect import admin_cursor
from ha.replication.setup import HaSetupError, prerequisites, validate_fqdn
from localservices.mariadb import MariaDBServer
from localservices.process import free_port

NOBODY = 65534


@pytest.mark.parametrize("name", ["vault-b.example.com", "VAULT-A.Example.COM.", "a.b.cd"])
def test_fully_qualified_names_are_accepted(name):
    assert validate_fqdn(name) == name.lower().rstrip(".")


@pytest.mark.parametrize("name", ["localhost", "vault_b.example.com", "-x.example.com",
                                  "10.0.0.1", "vault b.example.com", "", "a..b.com"])
def test_anything_else_is_refused_with_an_example(name):
    with pytest.raises(HaSetupError, match="not a fully qualified domain name"):
        validate_fqdn(name)


def test_ha_setup_refuses_a_bad_name_and_the_same_name_twice(tmp_path):
    with pytest.raises(CommandError, match="not a fully qualified"):
        call_command("ha_setup", "primary", "vault-b.example.com",
                     "--output", str(tmp_path / "p.zip"), stdout=StringIO())
    with pytest.raises(CommandError, match="need different names"):
        call_command("ha_setup", "vault-a.example.com", "vault-a.example.com",
                     "--output", str(tmp_path / "p.zip"), stdout=StringIO())
    assert not (tmp_path / "p.zip").exists()


@pytest.fixture(scope="module")
def fresh_server() -> MariaDBServer:
    """A new MariaDB server as a host's own install may leave it: with the anonymous
    accounts mariadb-install-db makes unless told not to. Its directory is open to
    every user, as /etc/mysql is (pytest's own temporary directories are not)."""
    base_dir = Path(tempfile.mkdtemp(prefix="strongroom-fresh-mariadb-"))
    base_dir.chmod(0o755)
    server = MariaDBServer(base_dir=base_dir, port=free_port(), server_id=7)
    try:
        server.ensure_started()
        server.execute_unlogged([("CREATE USER ''@'localhost'", None),
                                 ("CREATE USER ''@'127.0.0.1'", None)])
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir)


@pytest.fixture
def fresh_cursor(fresh_server):
    connection = MySQLdb.connect(unix_socket=str(fresh_server.socket.resolve()),
                                 user="root", autocommit=True)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def test_the_test_node_meets_every_prerequisite():
    with admin_cursor() as cursor:
        assert prerequisites(cursor) == []


def test_prerequisites_name_the_anonymous_accounts_and_how_to_drop_them(fresh_cursor):
    [problem] = prerequisites(fresh_cursor)
    assert "''@'localhost'" in problem and "''@'127.0.0.1'" in problem
    assert "SET sql_log_bin=0; DROP USER ''@'127.0.0.1', ''@'localhost';" in problem


def test_prerequisites_name_a_secondary(settings):
    settings.NODE_ROLE = "secondary"
    with admin_cursor() as cursor:
        [problem] = prerequisites(cursor)
    assert "this node is a secondary" in problem and "on the primary" in problem


def test_prerequisites_name_static_files_never_collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    with admin_cursor() as cursor:
        [problem] = prerequisites(cursor)
    assert "manage.py collectstatic" in problem


def test_prerequisites_name_tls_files_the_servers_user_cannot_read(fresh_server,
                                                                   fresh_cursor):
    """A packaged server runs as the owner of its data dir (`mysql`), here `nobody`;
    its key and certificates are root's, mode 0600."""
    data_dir = fresh_server.data_dir
    owner = data_dir.stat()
    os.chown(data_dir, NOBODY, NOBODY)
    try:
        problems = prerequisites(fresh_cursor)
    finally:
        os.chown(data_dir, owner.st_uid, owner.st_gid)
    key = (fresh_server.tls_dir / "server.key").resolve()
    unreadable = [problem for problem in problems if "cannot read" in problem]
    assert len(unreadable) == 3
    name = pwd.getpwuid(NOBODY).pw_name
    assert any(f"ssl_key ({key})" in problem and f"chown {name} {key}" in problem
               for problem in unreadable), unreadable
