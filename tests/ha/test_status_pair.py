"""R-H7 with the real pair: both statuses, computed honestly on both nodes by the
Celery beat checks, as /ha/status, /health* and /metrics show them. Every test
leaves the pair healthy (it is shared by all HA tests)."""
import json
import signal

import MySQLdb
import pytest

from tests.ha.nodefiles import audit_shipper_password, client_certificate
from tests.ha.support import WebClient, conflicting_row, fetch, status_of, wait_for_statuses, wait_healthy
from tests.support import wait_until

pytestmark = pytest.mark.ha


def test_a_healthy_pair_is_alive_on_both_nodes_with_its_details(pair):
    wait_healthy(pair)
    secondary, primary = status_of(pair.secondary), status_of(pair.primary)
    assert secondary["role"] == "secondary" and primary["role"] == "primary"
    details = secondary["details"]
    assert details["io_running"] == details["sql_running"] == "Yes"
    assert details["peer"] == f"127.0.0.1:{pair.link.port}"
    assert details["gtid_slave_pos"] and details["gtid_primary_received"]
    assert 0 <= details["lag_ms"] < 3000
    details = primary["details"]
    assert details["peer"] == "secondary.strongroom.test"
    assert details["binlog_dump_hosts"] and details["gtid_binlog_pos"]
    assert details["gtid_slave_pos"] and details["lag_ms"] is not None
    assert fetch(pair.secondary, "/health/replica?max_lag_ms=600000")[0] == 200
    assert fetch(pair.secondary, "/health/primary")[0] == 503
    assert fetch(pair.primary, "/health/primary")[0] == 200
    code, body = fetch(pair.primary, "/health/replica")
    assert code == 503 and json.loads(body)["ok"] is False
    _, metrics = fetch(pair.secondary, "/metrics")
    assert "strongroom_ha_status_alive 1.0" in metrics
    assert "strongroom_mysql_slave_status_slave_io_running 1.0" in metrics
    assert "strongroom_ha_check_seconds_since_success" in metrics


def test_a_frozen_link_fails_high_availability_on_both_nodes_until_it_returns(pair):
    wait_healthy(pair)
    pair.link.freeze()
    try:
        # How fast is make bench's to measure; here only that it happens.
        seen = wait_for_statuses(pair.secondary, "failed", "alive")
        assert "heartbeat is stale" in seen["ha"]["reason"]
        assert fetch(pair.secondary, "/health/replica")[0] == 503
        assert fetch(pair.secondary, "/health")[0] == 200  # still serving, read-only
        person = WebClient(pair.secondary.url)
        person.login("admin", pair.primary.admin_password())
        assert "High Availability Failed:" in person.get("/")[1]  # on every page
        primary = wait_for_statuses(pair.primary, "failed")
        assert "no report from the secondary" in primary["ha"]["reason"]
        assert primary["replication"]["status"] == "unknown"  # it cannot know: honest
    finally:
        pair.link.resume()
    wait_for_statuses(pair.secondary, "alive", "alive")
    wait_for_statuses(pair.primary, "alive", "alive")
    history = status_of(pair.secondary)["history"]
    assert [(t["status"], t["from"], t["to"]) for t in history[:2]] == [
        ("ha", "failed", "alive"), ("ha", "alive", "failed")]


def _outbox_pending(pair) -> int | None:
    return status_of(pair.secondary).get("details", {}).get("outbox_pending")


def test_the_secondary_counts_the_audit_rows_waiting_for_the_primary(pair, shared_account):
    wait_healthy(pair)
    admin = WebClient(pair.secondary.url)
    admin.login("admin", pair.primary.admin_password())
    wait_until(lambda: pair.pending_outbox() == 0 and _outbox_pending(pair) == 0,
               what="the outbox to be empty")
    pair.link.freeze()  # the outbox cannot ship: its rows wait
    try:
        for number in range(3):
            status, _, _ = admin.post(f"/accounts/{shared_account['account_id']}/reveal/",
                                      {"reason": f"counting the outbox, {number + 1} of 3"})
            assert status == 200
        assert pair.pending_outbox() == 3  # one audit row per reveal, all waiting
        wait_until(lambda: _outbox_pending(pair) == 3, what="outbox_pending to say 3")
    finally:
        pair.link.resume()
    wait_until(lambda: _outbox_pending(pair) == 0, timeout=40,
               what="the three rows to be delivered")
    wait_healthy(pair)


def test_a_conflicting_row_fails_replication_with_the_database_error(pair):
    wait_healthy(pair)
    with conflicting_row(pair):
        seen = wait_for_statuses(pair.secondary, "alive", "failed")
        assert "Duplicate entry" in seen["replication"]["reason"]
        primary = wait_for_statuses(pair.primary, "alive", "failed")
        assert "Duplicate entry" in primary["replication"]["reason"]
        code, body = fetch(pair.secondary, "/health/replica")
        assert code == 503 and "Duplicate entry" in json.loads(body)["reason"]
    wait_for_statuses(pair.secondary, "alive", "alive")
    wait_for_statuses(pair.primary, "alive", "alive")
    pair.wait_replicated()


def test_a_killed_primary_database_fails_high_availability_on_the_secondary(pair):
    wait_healthy(pair)
    pair.primary.profile.mariadb.stop(sig=signal.SIGKILL)
    try:
        seen = wait_for_statuses(pair.secondary, "failed")
        assert "primary" in seen["ha"]["reason"]
        # The primary's own page cannot read its database: it never shows a stale Alive.
        assert fetch(pair.primary, "/health")[0] == 503
    finally:
        pair.primary.profile.mariadb.start()
    wait_healthy(pair)


def test_the_secondary_reports_with_an_account_that_may_only_insert_reports(pair):
    wait_healthy(pair)
    shipper = MySQLdb.connect(
        host="127.0.0.1", port=pair.primary.profile.mariadb_port, user="strongroom_audit",
        password=audit_shipper_password(pair), connect_timeout=5, ssl_mode="VERIFY_IDENTITY",
        ssl=client_certificate(pair, "audit"))
    try:
        with shipper.cursor() as cursor:
            for statement in ("SELECT COUNT(*) FROM strongroom_local.ha_replicareport",
                              "DELETE FROM strongroom_local.ha_replicareport",
                              "UPDATE strongroom_local.ha_replicareport SET lag_ms = 0",
                              "SELECT COUNT(*) FROM strongroom_local.ha_nodestatus"):
                with pytest.raises(MySQLdb.OperationalError) as error:
                    cursor.execute(statement)
                assert error.value.args[0] == 1142, statement  # command denied
    finally:
        shipper.close()
    # Reports live in the primary's local schema: they never reach the secondary.
    assert pair.primary.sql("SELECT COUNT(*) FROM strongroom_local.ha_replicareport")[0][0] > 0
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom_local.ha_replicareport")[0][0] == 0
