"""S3: replication broke on a conflicting row; `ha_resync` on the secondary rebuilds it
from the primary over the network (a fresh snapshot, no pack copied by hand), keeping
the audit rows the primary has not received yet. On the suite's shared pair: the
rebuild drops the secondary's replicated schema and reloads it from the primary, so
the modules after this one find the pair as healthy as before (the last test waits
for it)."""
import re
import uuid
from contextlib import contextmanager

import MySQLdb
import pytest

from audit.shipping import SHIP_LOCK
from tests.ha.nodefiles import client_certificate, snapshot_password
from tests.ha.support import (Node, Pair, WebClient, conflicting_row_write,
                              wait_for_statuses, wait_healthy)
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha

COMMAND_DENIED = 1142
ACCESS_DENIED = 1045


@pytest.fixture(scope="module")
def resync_pair(pair) -> Pair:
    wait_healthy(pair)
    return pair


@contextmanager
def shipping_held(node: Node):
    """The node's audit shipper finds its lock taken (audit/shipping.py) and ships
    nothing meanwhile: its outbox rows stay undelivered, whatever the link does."""
    connection = node.app_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 30)", (SHIP_LOCK,))
            assert cursor.fetchone()[0] == 1
        yield
    finally:
        connection.close()  # releases the lock


def snapshot_connection(pair: Pair, *, with_certificate: bool = True):
    password = snapshot_password(pair)
    files = client_certificate(pair, "audit")
    tls = files if with_certificate else {"ca": files["ca"]}
    return MySQLdb.connect(host="127.0.0.1", port=pair.link.port, user="strongroom_snapshot",
                           password=password, ssl=tls, ssl_mode="VERIFY_IDENTITY",
                           connect_timeout=5, autocommit=True)


def replica_threads(node: Node) -> tuple[str, str]:
    with node.app_connection().cursor(MySQLdb.cursors.DictCursor) as cursor:
        cursor.execute("SHOW SLAVE STATUS")
        row = cursor.fetchone()
        return row["Slave_IO_Running"], row["Slave_SQL_Running"]


def trail_count(node: Node, event_uuid: str) -> int:
    return node.sql("SELECT COUNT(*) FROM strongroom.audit_auditevent WHERE uuid = %s",
                    (event_uuid,))[0][0]


def test_ha_resync_is_refused_on_the_primary(resync_pair):
    refused = run_manage("ha_resync", node=resync_pair.primary.profile)
    assert refused.returncode != 0
    assert "not resynced, nothing was changed: this node is primary" in refused.stderr
    assert "run it on the secondary" in refused.stderr


def test_ha_resync_is_refused_on_a_secondary_whose_pack_has_no_snapshot_account(resync_pair):
    refused = run_manage("ha_resync", node=resync_pair.secondary.profile,
                         env={"SNAPSHOT_USER": ""})
    assert refused.returncode != 0
    assert "build a new pack with ha_setup" in refused.stderr


def test_ha_resync_refuses_a_primary_whose_certificate_does_not_name_it(resync_pair):
    secondary = resync_pair.secondary
    before = secondary.sql("SELECT COUNT(*) FROM strongroom.accounts_team")
    # The primary's certificate names 127.0.0.1 and its FQDN, not "localhost".
    refused = run_manage("ha_resync", node=secondary.profile,
                         env={"PRIMARY_DB_HOST": "localhost"})
    assert refused.returncode != 0
    assert "not resynced, nothing was changed: the snapshot failed" in refused.stderr
    assert re.search(r"certificate|TLS|SSL", refused.stderr), refused.stderr
    assert replica_threads(secondary) == ("Yes", "Yes")
    assert secondary.sql("SELECT COUNT(*) FROM strongroom.accounts_team") == before


def test_the_snapshot_account_reads_the_replicated_schema_and_writes_nothing(resync_pair):
    password_file = resync_pair.secondary.profile.ha_dir / "snapshot_password"
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    connection = snapshot_connection(resync_pair)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM strongroom.accounts_team")
        for statement in ("INSERT INTO strongroom.accounts_team (name) VALUES ('snapshot')",
                          "DELETE FROM strongroom.audit_auditevent",
                          "SELECT COUNT(*) FROM strongroom_local.ha_replicareport"):
            with pytest.raises(MySQLdb.OperationalError) as refused:
                cursor.execute(statement)
            assert refused.value.args[0] == COMMAND_DENIED, statement
    connection.close()
    with pytest.raises(MySQLdb.OperationalError) as refused:
        snapshot_connection(resync_pair, with_certificate=False)
    assert refused.value.args[0] == ACCESS_DENIED  # the password alone opens nothing


def test_resync_rebuilds_a_broken_secondary_keeping_undelivered_audit_rows(resync_pair):
    pair = resync_pair
    wait_healthy(pair)
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    _, account_id = admin.create_account(resource=f"db-{uuid.uuid4().hex[:6]}",
                                         login_name="dba", password="Before-resync-pw-1")
    pair.wait_replicated()
    team = conflicting_row_write(pair)
    broken = wait_for_statuses(pair.secondary, "alive", "failed")
    assert "Duplicate entry" in broken["replication"]["reason"]

    with shipping_held(pair.secondary):
        person = WebClient(pair.secondary.url)
        person.login("admin", pair.primary.admin_password())
        status, body, _ = person.post(f"/accounts/{account_id}/reveal/", {})
        assert status == 200 and "Before-resync-pw-1" in body
        reveal_uuid = pair.last_pending_reveal()
        resynced = run_manage("ha_resync", node=pair.secondary.profile)
        assert resynced.returncode == 0, resynced.stderr
        kept = int(re.search(r"undelivered audit rows kept in the outbox: (\d+)",
                             resynced.stdout).group(1))
        assert kept >= 1
        assert re.search(r"MB snapshot at GTID \d+-\d+-\d+, in [\d.]+ s", resynced.stdout)
        assert "need no restart" in resynced.stdout
        assert pair.secondary.sql(
            "SELECT delivered_at FROM strongroom_local.audit_auditoutbox WHERE uuid = %s",
            (reveal_uuid,)) == [(None,)]
        assert trail_count(pair.primary, reveal_uuid) == 0

    # Replication runs again, and the team is the primary's row, not the stray one.
    assert replica_threads(pair.secondary) == ("Yes", "Yes")
    query = "SELECT id FROM strongroom.accounts_team WHERE name = %s"
    assert pair.secondary.sql(query, (team,)) == pair.primary.sql(query, (team,))
    _, after = admin.create_account(resource=f"after-{uuid.uuid4().hex[:6]}",
                                    login_name="root", password="After-resync-pw-2")
    pair.wait_replicated()
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_account WHERE id = %s",
                              (after,))[0][0] == 1
    # The kept row reaches the primary's trail once, and comes back here by replication.
    wait_until(lambda: pair.pending_outbox() == 0, timeout=60,
               what="the secondary's outbox to be delivered")
    assert trail_count(pair.primary, reveal_uuid) == 1
    pair.wait_replicated()
    assert trail_count(pair.secondary, reveal_uuid) == 1
    wait_for_statuses(pair.secondary, "alive", "alive", timeout=60)
