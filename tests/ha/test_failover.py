"""S2/S4, R-H9, R-H15: the primary is lost (kill -9); the secondary is promoted with one
command while its processes keep running, and the old primary that comes back fences
itself. Its own pair: these tests change roles."""
import json
import re
import uuid
from pathlib import Path

import MySQLdb
import pytest

from localservices.installer import make_pack, pack_file
from localservices.processes import start_processes, stop_processes
from tests.ha.support import Node, Pair, WebClient, fetch, kill_node, running_pair, status_of
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def failover_pair(tmp_path_factory) -> Pair:
    with running_pair(tmp_path_factory.mktemp("failover"), server_id=41) as pair:
        yield pair


@pytest.fixture(scope="module")
def outage() -> dict:
    """What happened on A while the link was cut, for the tests after its return."""
    return {}


def _io_thread(node: Node) -> str:
    with node.app_connection().cursor(MySQLdb.cursors.DictCursor) as cursor:
        cursor.execute("SHOW SLAVE STATUS")
        return cursor.fetchone()["Slave_IO_Running"]


def test_promotion_is_refused_while_the_old_primary_is_reachable(failover_pair):
    failover_pair.wait_replicated()
    refused = run_manage("ha_promote", node=failover_pair.secondary.profile)
    assert refused.returncode != 0
    assert "still reachable" in refused.stderr and "split brain" in refused.stderr
    assert "last transaction received from the old primary" in refused.stdout
    secondary = failover_pair.secondary
    assert secondary.sql("SELECT @@global.read_only")[0][0] == 1
    running = secondary.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                            "WHERE USER = 'system user'")[0][0]
    assert running >= 1  # replication still runs: nothing was changed
    assert status_of(secondary)["role"] == "secondary"


def test_promotion_after_a_crash_accepts_writes_and_keeps_the_audit_chain(failover_pair,
                                                                         outage):
    pair = failover_pair
    site_a = WebClient(pair.primary.url)
    site_a.login("admin", pair.primary.admin_password())
    _, account_id = site_a.create_account(resource=f"db-{uuid.uuid4().hex[:6]}",
                                          login_name="sa", password="Before-crash-pw-1")
    pair.wait_replicated()
    pair.link.freeze()  # the link is cut first: this write never reaches B
    _, outage["cut_account"] = site_a.create_account(
        resource=f"cut-{uuid.uuid4().hex[:6]}", login_name="written-in-cut",
        password="During-cut-pw-3")
    # A reveal that happened: its audit row is in A's trail only.
    status, body, _ = site_a.post(f"/accounts/{account_id}/reveal/", {})
    assert status == 200 and "Before-crash-pw-1" in body
    outage["reveal_on_a"] = pair.primary.sql(
        "SELECT uuid FROM strongroom.audit_auditevent WHERE action = 'password_reveal' "
        "ORDER BY id DESC LIMIT 1")[0][0]
    kill_node(pair.primary)
    wait_until(lambda: _io_thread(pair.secondary) != "Yes", timeout=30,
               what="the secondary to lose its primary")
    site_b = WebClient(pair.secondary.url)
    site_b.login("admin", pair.primary.admin_password())
    status, body, _ = site_b.post(f"/accounts/{account_id}/reveal/", {})
    assert status == 200 and "Before-crash-pw-1" in body
    reveal_uuid = pair.last_pending_reveal()

    promoted = run_manage("ha_promote", "--reason", "site A lost", node=pair.secondary.profile)
    pair.link.resume()  # what it held back goes nowhere: the replica channel is gone
    assert promoted.returncode == 0, promoted.stderr
    assert "is the primary now (epoch 1, replacing primary.strongroom.test)" in promoted.stdout
    assert "zero-data-loss mode was OFF" in promoted.stdout

    # The same running processes (no restart) now take changes at both layers.
    _, new_account = site_b.create_account(resource=f"dr-{uuid.uuid4().hex[:6]}",
                                           login_name="root", password="After-promotion-pw-2")
    status, body, _ = site_b.post(f"/accounts/{new_account}/reveal/", {})
    assert status == 200 and "After-promotion-pw-2" in body
    node = pair.secondary
    assert node.sql("SELECT @@global.read_only")[0][0] == 0
    assert node.sql("SELECT number, node, previous_primary, reason FROM strongroom.ha_epoch") \
        == [(1, "secondary.strongroom.test", "primary.strongroom.test", "site A lost")]
    # The reveal audited during the outage is in the new primary's own trail, once.
    assert node.sql("SELECT COUNT(*) FROM strongroom.audit_auditevent WHERE uuid = %s",
                    (reveal_uuid,))[0][0] == 1
    assert _trail_count(node, outage["reveal_on_a"]) == 0  # A's reveal never came here
    assert fetch(node, "/health/primary")[0] == 200
    seal = run_manage("audit_seal", node=node.profile)
    assert seal.returncode == 0, seal.stderr
    verify = run_manage("audit_verify", node=node.profile)
    assert verify.returncode == 0 and "audit trail intact" in verify.stdout, verify.stderr


def test_the_old_primary_that_comes_back_is_fenced(failover_pair):
    pair = failover_pair
    old = pair.primary
    old.profile.mariadb.start()
    start_processes(old.profile)
    wait_until(lambda: status_of(old).get("role") == "fenced", timeout=30,
               what="the old primary to hear of epoch 1 and fence itself")
    summary = wait_until(lambda: (s := status_of(old))["ha"]["status"] == "failed"
                         and "fenced" in s["ha"]["reason"] and s, timeout=20,
                         what="the fence in /ha/status")
    assert "secondary.strongroom.test was promoted" in summary["ha"]["reason"]
    # The app layer: a person is told, and nothing changes.
    person = WebClient(old.url)
    person.login("admin", old.admin_password())
    status, body, _ = person.post("/resources/new/", {"name": "split-brain",
                                                       "resource_type": "server"})
    assert status == 503 and "fenced" in body
    status, body, _ = person.get("/")
    assert status == 200 and "fenced" in body.lower()
    # The database layer: read_only, and the app account has no write grant.
    assert old.sql("SELECT @@global.read_only")[0][0] == 1
    connection = old.app_connection()
    with pytest.raises(MySQLdb.OperationalError) as refused:
        connection.cursor().execute("INSERT INTO strongroom.accounts_team (name) "
                                    "VALUES ('split-brain')")
    assert refused.value.args[0] in (1142, 1290)
    assert old.sql("SELECT COUNT(*) FROM strongroom.vault_resource "
                   "WHERE name = 'split-brain'")[0][0] == 0
    # The fence is history, and it alerted.
    assert any("fenced" in row[0] for row in old.sql(
        "SELECT reason FROM strongroom_local.ha_transition WHERE alerted = 1"))


def _trail_count(node: Node, event_uuid: str) -> int:
    return node.sql("SELECT COUNT(*) FROM strongroom.audit_auditevent WHERE uuid = %s",
                    (event_uuid,))[0][0]


def _carried(output: str) -> tuple[int, int]:
    """(rows found here, rows new in the new primary's trail) from ha_rejoin's output."""
    found = re.search(r"(\d+) audit row\(s\) recorded here after the promotion point or "
                      r"not yet delivered: (\d+) carried", output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def _announcements(node: Node) -> int:
    return node.sql("SELECT COUNT(*) FROM strongroom_local.ha_replicareport "
                    "WHERE role = 'primary'")[0][0]


def _checks_pass(node: Node, seconds: int) -> None:
    """Wait while the node's beat runs its checks (and announcements) `seconds` more."""
    checked = "SELECT checked_at FROM strongroom_local.ha_nodestatus WHERE id = 1"
    first = node.sql(checked)[0][0]
    wait_until(lambda: (node.sql(checked)[0][0] - first).total_seconds() >= seconds,
               timeout=30, what=f"{node.profile.name}'s checks to run {seconds} s more")


def test_the_fenced_old_primary_hears_no_more_announcements_and_prunes_old_reports(
        failover_pair):
    pair = failover_pair
    new, old = pair.secondary, pair.primary
    # The new primary announced until the old one fenced (read-only): then no more.
    _checks_pass(new, 2)
    announced = _announcements(old)
    assert announced >= 1
    _checks_pass(new, 4)
    assert _announcements(old) == announced
    # Reports older than the window go on every role, a fenced node's too.
    old.sql("INSERT INTO strongroom_local.ha_replicareport (node, reported_at, io_running, "
            "sql_running, ha_status, replication_status, ha_reason, replication_reason, "
            "gtid_slave_pos, outbox_pending, role, epoch) SELECT 'stale.strongroom.test', "
            "UTC_TIMESTAMP(6) - INTERVAL seq HOUR, '', '', 'alive', 'alive', '', '', '', 0, "
            "'', 0 FROM mysql.seq_1_to_24")
    stale = ("SELECT COUNT(*) FROM strongroom_local.ha_replicareport "
             "WHERE node = 'stale.strongroom.test'")
    assert old.sql(stale)[0][0] == 24
    wait_until(lambda: old.sql(stale)[0][0] == 0, timeout=30,
               what="the fenced node to prune reports older than its window")


def test_installing_a_pack_is_refused_on_the_fenced_old_primary_and_on_the_primary(
        failover_pair):
    pair = failover_pair
    new, old = pair.secondary, pair.primary
    packed = make_pack(new.profile, secondary_name=old.profile.node_name, address="127.0.0.1")
    # The pack's next step for the node it replaced is ha_rejoin, not join.
    assert "the primary this node replaced" in packed and "ha_rejoin HAPack.zip" in packed
    # The fenced node's binary log is the evidence; the new primary's moves on with its
    # heartbeat every second, so only its read_only is compared.
    def state() -> dict:
        return {"old": old.sql("SELECT @@gtid_binlog_pos, @@global.read_only"),
                "new": new.sql("SELECT @@global.read_only")}

    before = state()
    for node in (old, new):
        refused = run_manage("ha_install_pack", str(pack_file(new.profile)), node=node.profile)
        assert refused.returncode == 1, refused.stdout
        message = refused.stderr.strip().splitlines()[-1]  # one line, after start-up logs
        assert message.startswith("CommandError: pack refused: this node is") \
            and "run ha_rejoin" in message, refused.stderr
    # Nothing changed: the evidence (binary log, divergent rows) and the roles stay.
    assert state() == before
    assert old.sql("SELECT COUNT(*) FROM strongroom.vault_account "
                   "WHERE login_name = 'written-in-cut'")[0][0] == 1
    assert status_of(old)["role"] == "fenced" and status_of(new)["role"] == "primary"


def test_rejoin_report_only_carries_the_old_primarys_audit_rows_and_names_the_accounts(
        failover_pair, outage):
    pair = failover_pair
    new, old = pair.secondary, pair.primary
    reported = run_manage("ha_rejoin", "--report-only", str(pack_file(new.profile)),
                          node=old.profile)
    assert reported.returncode == 0, reported.stderr
    report = json.loads(Path(re.search(r"Divergence report: (\S+)",
                                       reported.stdout).group(1)).read_text())
    # The report names the account by its id, which finds it (here, before the rebuild).
    touched = [row.split(" ", 1)[1] for row in report["rows_touched"]
               if row.startswith("vault_account ")]
    assert outage["cut_account"] in touched, report["rows_touched"]
    assert old.sql("SELECT login_name FROM strongroom.vault_account WHERE id = %s",
                   (outage["cut_account"],)) == [("written-in-cut",)]
    audit_rows = [change["after"] for transaction in report["transactions"]
                  for change in transaction["changes"] if change["table"] == "audit_auditevent"]
    assert outage["reveal_on_a"] in [row["uuid"] for row in audit_rows], audit_rows
    # A's reveal is in the new primary's trail; nothing changed here.
    assert _trail_count(new, outage["reveal_on_a"]) == 1
    found, carried = _carried(reported.stdout)
    assert found >= 1 and carried == found, reported.stdout
    assert status_of(old)["role"] == "fenced"


def test_rejoin_reports_what_the_old_primary_wrote_after_the_cut_and_rebuilds_it(
        failover_pair, outage):
    pair = failover_pair
    new, old = pair.secondary, pair.primary
    rejoined = run_manage("ha_rejoin", str(pack_file(new.profile)), node=old.profile)
    assert rejoined.returncode == 0, rejoined.stderr
    # Run again after the report-only run (as after a crash there): nothing twice.
    assert _trail_count(new, outage["reveal_on_a"]) == 1
    found, carried = _carried(rejoined.stdout)
    assert found >= 1 and carried == 0, rejoined.stdout
    report_file = Path(re.search(r"Divergence report: (\S+)", rejoined.stdout).group(1))
    text = report_file.read_text()
    report = json.loads(text)
    assert report["superseded_by"]["epoch"] == 1 and report["transaction_count"] >= 1, (
        rejoined.stdout + text)
    accounts = [change for transaction in report["transactions"]
                for change in transaction["changes"] if change["table"] == "vault_account"]
    lost = [change for change in accounts if change["operation"] == "insert"
            and change["after"].get("login_name") == "written-in-cut"]
    assert lost and lost[0]["after"]["password_ct"] == "(withheld: secret or encrypted)"
    assert "During-cut-pw-3" not in text and oct(report_file.stat().st_mode)[-3:] == "600"
    # Rebuilt from the new primary: its writes arrive, the divergent row is gone here.
    assert old.sql("SELECT COUNT(*) FROM strongroom.vault_account "
                   "WHERE login_name = 'written-in-cut'")[0][0] == 0
    stop_processes(old.profile)
    start_processes(old.profile)
    writer = WebClient(new.url)
    writer.login("admin", pair.primary.admin_password())
    _, after = writer.create_account(resource=f"rejoined-{uuid.uuid4().hex[:6]}",
                                     login_name="after-rejoin", password="After-rejoin-pw-4")
    wait_until(lambda: old.sql("SELECT COUNT(*) FROM strongroom.vault_account WHERE id = %s",
                               (after,))[0][0] == 1, what="the new primary's write on the old")
    assert status_of(old)["role"] == "secondary"
    assert old.sql("SELECT @@global.read_only")[0][0] == 1
    # The reveal A audited during the cut: in both trails once, and the chain holds.
    assert _trail_count(old, outage["reveal_on_a"]) == 1
    assert _trail_count(new, outage["reveal_on_a"]) == 1
    assert run_manage("audit_seal", node=new.profile).returncode == 0
    position = new.sql("SELECT @@gtid_binlog_pos")[0][0]
    assert old.sql("SELECT MASTER_GTID_WAIT(%s, 20)", (position,))[0][0] == 0
    for node in (new, old):
        verify = run_manage("audit_verify", node=node.profile)
        assert verify.returncode == 0 and "audit trail intact" in verify.stdout, verify.stderr
