"""R-H1..R-H5, R-A2: a real primary and secondary with TLS replication."""
import json

import MySQLdb
import pytest

from tests.ha.support import WebClient
from tests.support import wait_until
from tests.ha.nodefiles import (audit_shipper_password, client_certificate, replication_password,
                                snapshot_password)

pytestmark = pytest.mark.ha


def schema_fingerprint(node) -> list:
    """Every table of the replicated schema with its checksum: any write shows.
    Left out: what the primary's beat writes on its own (heartbeat, audit seals), the
    audit rows of reads (a login on the secondary is shipped to the primary) and of the
    nodes' own HA events (an alert sent on a status change)."""
    tables = [row[0] for row in node.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='strongroom' "
        "AND table_name NOT IN ('ha_heartbeat', 'audit_auditseal', 'audit_auditevent') "
        "ORDER BY table_name")]
    changes = node.sql("SELECT COUNT(*) FROM strongroom.audit_auditevent WHERE action NOT IN "
                       "('login', 'logout', 'login_failed', 'password_reveal', 'ha_event')")
    return node.sql("CHECKSUM TABLE " + ", ".join(f"strongroom.{t}" for t in tables)), changes


def test_setup_reports_the_pack_and_replication_runs_over_tls(pair):
    assert "HA pack ready" in pair.setup_output and "no master key inside" in pair.setup_output
    assert "replicating from 127.0.0.1" in pair.setup_output
    rows = dict(pair.primary.sql(
        "SELECT s.VARIABLE_NAME, s.VARIABLE_VALUE FROM performance_schema.threads t "
        "JOIN performance_schema.status_by_thread s USING (THREAD_ID) "
        "WHERE t.PROCESSLIST_COMMAND LIKE 'Binlog Dump%%' "
        "AND s.VARIABLE_NAME IN ('Ssl_cipher', 'Ssl_version')"))
    assert rows["Ssl_version"] == "TLSv1.3"  # what the README promises
    assert rows["Ssl_cipher"]
    replica = _slave_status(pair.secondary)
    assert replica["Master_SSL_Allowed"] == "Yes"
    assert replica["Master_SSL_Verify_Server_Cert"] == "Yes"


def test_an_account_created_on_the_primary_is_revealed_on_the_secondary(pair, shared_account):
    admin = WebClient(pair.secondary.url)
    admin.login("admin", pair.primary.admin_password())
    status, body, headers = admin.post(f"/accounts/{shared_account['account_id']}/reveal/",
                                       {"reason": "primary is down"})
    assert status == 200 and "Sw1tch-secret!" in body
    assert 'id="read-only-banner"' in body and "secondary.strongroom.test" in body


def test_every_write_path_on_the_secondary_is_refused(pair, shared_account):
    admin = WebClient(pair.secondary.url)
    admin.login("admin", pair.primary.admin_password())
    before = (schema_fingerprint(pair.primary), schema_fingerprint(pair.secondary))
    resource, account = shared_account["resource_id"], shared_account["account_id"]
    writes = [
        ("/resources/new/", {"name": "nope", "resource_type": "server"}),
        (f"/resources/{resource}/edit/", {"name": "renamed", "resource_type": "network"}),
        (f"/resources/{resource}/delete/", {}),
        (f"/resources/{resource}/accounts/new/", {"login_name": "x", "password": "y-password"}),
        (f"/accounts/{account}/password/", {"password": "changed-on-secondary"}),
        (f"/accounts/{account}/edit/", {"login_name": "enable", "notes": "n"}),
        (f"/accounts/{account}/delete/", {}),
        ("/accounts/users/new/", {"username": "eve", "role": "Auditor",
                                  "password": "Long-enough-pw-42"}),
        ("/accounts/tokens/new/", {"name": "script"}),
        ("/accounts/teams/new/", {"name": "ops"}),
    ]
    for path, data in writes:
        status, body, _ = admin.post(path, data)
        assert status == 503, f"{path} answered {status}"
        assert "read-only" in body and "changes can only be made on the primary" in body
    status, _, _ = admin.get("/accounts/two-factor/")
    assert status == 503
    # Whatever the secondary audited has been shipped and replicated before we compare:
    # a refused change must not leave an audit row that claims it happened.
    wait_until(lambda: pair.pending_outbox() == 0, what="the outbox to drain")
    pair.wait_replicated()
    assert (schema_fingerprint(pair.primary), schema_fingerprint(pair.secondary)) == before


def test_the_api_on_the_secondary_reads_and_refuses_writes_with_json(pair, shared_account):
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    status, body, _ = admin.post("/accounts/tokens/new/", {"name": "ha-test"})
    token = body.split('id="raw-token">')[1].split("<")[0]
    pair.wait_replicated()
    api = WebClient(pair.secondary.url)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/accounts/{shared_account['account_id']}/password/"
    status, body, _ = api.request("GET", path, headers=headers)
    assert status == 200 and json.loads(body)["password"] == "Sw1tch-secret!"
    status, body, _ = api.request("POST", path, headers={**headers,
                                                         "Content-Type": "application/json"},
                                  body=b'{"password": "nope"}')
    assert status == 503 and json.loads(body)["read_only"] is True


def test_a_raw_write_through_the_secondarys_app_account_fails_at_the_database(pair):
    connection = pair.secondary.app_connection()
    try:
        with connection.cursor() as cursor:
            with pytest.raises(MySQLdb.OperationalError) as error:
                cursor.execute("INSERT INTO strongroom.accounts_team (name) VALUES ('raw')")
            assert error.value.args[0] == 1142  # command denied: no write grant
            cursor.execute("SELECT COUNT(*) FROM strongroom.auth_user")  # reads work
            cursor.execute("DELETE FROM strongroom_local.django_session WHERE 1=0")  # local ok
    finally:
        connection.close()


def _login(pair, *, user: str, password: str, certificate: str | None):
    """Log in to the primary's database as `user`, with the secondary's client
    certificate for `certificate` (replica or audit), or without TLS at all."""
    ssl = client_certificate(pair, certificate) if certificate else None
    options = {"ssl": ssl, "ssl_mode": "VERIFY_IDENTITY"} if ssl else {"ssl_mode": "DISABLED"}
    return MySQLdb.connect(host="127.0.0.1", port=pair.primary.profile.mariadb_port,
                           user=user, password=password, connect_timeout=5, **options)


@pytest.mark.parametrize("user, certificate", [("strongroom_repl", "replica"),
                                               ("strongroom_audit", "audit"),
                                               ("strongroom_snapshot", "audit")])
def test_the_primarys_ha_accounts_refuse_their_own_password_without_their_certificate(
        pair, user, certificate):
    password = {"strongroom_repl": replication_password, "strongroom_audit":
                audit_shipper_password, "strongroom_snapshot": snapshot_password}[user](pair)
    with pytest.raises(MySQLdb.OperationalError) as error:
        _login(pair, user=user, password=password, certificate=None)
    assert error.value.args[0] == 1045
    # TLS, but the other account's certificate: the subject does not match.
    with pytest.raises(MySQLdb.OperationalError) as error:
        _login(pair, user=user, password=password,
               certificate="audit" if certificate == "replica" else "replica")
    assert error.value.args[0] == 1045
    _login(pair, user=user, password=password, certificate=certificate).close()


def test_a_replica_configured_without_tls_is_refused_by_the_primary(pair):
    # A second, throw-away channel on the secondary, pointed at the primary without TLS.
    pair.secondary.sql(
        "CHANGE MASTER 'notls' TO MASTER_HOST='127.0.0.1', MASTER_PORT=%s, "
        "MASTER_USER='strongroom_repl', MASTER_PASSWORD='x', MASTER_SSL=0, "
        "MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=no", (pair.primary.profile.mariadb_port,))
    try:
        pair.secondary.sql("START SLAVE 'notls'")
        errno = wait_until(lambda: _io_errno(pair.secondary, "notls"), what="a refusal")
        assert errno == 1045
    finally:
        pair.secondary.sql("STOP SLAVE 'notls'")
        pair.secondary.sql("RESET SLAVE 'notls' ALL")


def _io_errno(node, channel: str) -> int:
    return _slave_status(node, channel)["Last_IO_Errno"]


def _slave_status(node, channel: str = "") -> dict:
    connection = MySQLdb.connect(unix_socket=str(node.profile.mariadb.socket.resolve()),
                                 user="root", autocommit=True)
    try:
        with connection.cursor(MySQLdb.cursors.DictCursor) as cursor:
            cursor.execute(f"SHOW SLAVE '{channel}' STATUS" if channel else "SHOW SLAVE STATUS")
            return cursor.fetchone()
    finally:
        connection.close()
