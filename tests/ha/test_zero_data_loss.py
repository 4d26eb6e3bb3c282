"""R-H12 on a real pair installed with --zero-data-loss: both servers run MariaDB's
semi-synchronous replication with AFTER_SYNC and a synced relay log; a cut link makes
the primary fall back to asynchronous after its timeout, and the return, both confirmed
transitions of the Zero-Data-Loss status with their alerts. Then, on the same pair, a
password change the primary acknowledged survives a kill -9 of the primary's database
at a random point of a stream of changes: once the secondary has applied what it
received, it holds every acknowledged change, and the last crash ends with ha_promote
(the pair is spent: these tests run last, in this order). Without the mode, a crash
while the secondary lags loses acknowledged changes: make bench runs that pair and
reports the count."""
import pytest

from bench.cluster import BenchPair, seed
from bench.crash import crash_writes, restore_after_crash
from localservices.processes import manage

from tests.alerts.receivers import SyslogUdpReceiver
from tests.alerts.syslog_grammar import parse
from tests.ha.support import Node, Pair, WebClient, alert_settings, running_pair, status_of
from tests.support import wait_until

pytestmark = pytest.mark.ha
CHANGES = 200
# Shorter than the semi-sync timeout (5 s): the primary has not fallen back yet.
LINK_DOWN_SECONDS = 1.5


@pytest.fixture(scope="module")
def zdl_pair(tmp_path_factory) -> Pair:
    with running_pair(tmp_path_factory.mktemp("zdl"), server_id=71, tag="zdl", zero_data_loss=True) as pair:
        yield pair


def _variable(node: Node, name: str) -> str:
    return node.sql(f"SELECT @@global.{name}")[0][0]


def _semi_sync(node: Node) -> dict[str, str]:
    return dict(node.sql("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'"))


def _semisync_status(pair: Pair, expected: str) -> dict:
    return wait_until(lambda: (s := status_of(pair.primary)) and s["semisync"]["status"]
                      == expected and s, timeout=90,
                      what=f"the primary's Zero-Data-Loss status {expected}")


def _transitions(status: dict, to: str) -> list[dict]:
    return [t for t in status["history"] if t["status"] == "semisync" and t["to"] == to]


def test_both_servers_run_semi_sync_after_sync_with_a_synced_relay_log(zdl_pair):
    for node in (zdl_pair.primary, zdl_pair.secondary):
        assert _variable(node, "rpl_semi_sync_master_enabled") == 1
        assert _variable(node, "rpl_semi_sync_slave_enabled") == 1
        assert _variable(node, "rpl_semi_sync_master_wait_point") == "AFTER_SYNC"
        assert _variable(node, "sync_relay_log") == 1
    wait_until(lambda: _semi_sync(zdl_pair.primary)["Rpl_semi_sync_master_status"] == "ON"
               and _semi_sync(zdl_pair.primary)["Rpl_semi_sync_master_clients"] == "1",
               timeout=60, what="the secondary to acknowledge the primary's commits")
    status = _semisync_status(zdl_pair, "alive")
    assert status["semisync"]["expected"] is True
    assert status["details"]["semi_sync_mode"] == "on"


@pytest.fixture
def syslog(zdl_pair):
    receiver = SyslogUdpReceiver().start()
    settings = {"semisync_failed__syslog": "on", "semisync_alive__syslog": "on",
                "syslog_host": "127.0.0.1", "syslog_port": str(receiver.port),
                "syslog_transport": "udp", "snmp_host": "", "snmp_port": "162",
                "email_recipients": ""}
    with alert_settings(zdl_pair, settings):
        yield receiver
    receiver.stop()


def test_a_cut_link_falls_back_to_async_and_back_with_transitions_and_alerts(
        zdl_pair, syslog):
    _semisync_status(zdl_pair, "alive")
    admin = WebClient(zdl_pair.primary.url)
    admin.login("admin", zdl_pair.primary.admin_password())
    unacknowledged = int(_semi_sync(zdl_pair.primary)["Rpl_semi_sync_master_no_tx"])
    zdl_pair.link.freeze()
    try:
        # A commit waits for the acknowledgement until the timeout, then succeeds.
        admin.create_account(resource="semi-sync-fallback", login_name="root",
                             password="Fallback-pw-1")
        seen = _semi_sync(zdl_pair.primary)
        assert seen["Rpl_semi_sync_master_status"] == "OFF"
        assert int(seen["Rpl_semi_sync_master_no_tx"]) > unacknowledged
        fell_back = _semisync_status(zdl_pair, "failed")
        assert "fell back to asynchronous" in fell_back["semisync"]["reason"]
        assert _transitions(fell_back, "failed")
    finally:
        zdl_pair.link.resume()
    back = _semisync_status(zdl_pair, "alive")
    assert _transitions(back, "alive") and _transitions(back, "failed")
    assert _semi_sync(zdl_pair.primary)["Rpl_semi_sync_master_status"] == "ON"

    def events() -> set[str]:
        return {message["params"]["event"] for message in map(parse, list(syslog.messages))
                if message["params"]["node"] == zdl_pair.primary.profile.node_name}

    wait_until(lambda: {"semisync_failed", "semisync_alive"} <= events(), timeout=60,
               what="the primary's alerts for the fall back and the return")
    status, page, _ = admin.get("/ha/")
    assert status == 200 and 'id="semisync-status"' in page
    assert "Zero-Data-Loss</td><td>Alive → Failed" in page
    assert "Zero-Data-Loss</td><td>Failed → Alive" in page


@pytest.fixture(scope="module")
def crash_pair(zdl_pair) -> BenchPair:
    """The same pair as the benchmark's crash runs see it: seeded accounts and an API
    token of the admin's."""
    primary = zdl_pair.primary.profile
    seed(primary, 20)
    token = manage(primary, "api_token_create", "--user", "admin", "--name", "crash")
    ids = [str(row[0]) for row in primary.mariadb.query("SELECT id FROM strongroom.vault_account")]
    pair = BenchPair(primary, zdl_pair.secondary.profile, zdl_pair.link,
                     token.strip().splitlines()[-1], ids)
    pair.wait_replicated()
    return pair


def test_no_acknowledged_password_change_is_lost_when_the_primary_crashes(crash_pair):
    result = crash_writes(crash_pair, changes=CHANGES)
    restore_after_crash(crash_pair)
    assert result["killed_after_acknowledged"] > 0
    assert result["lost"] == 0, result


def test_a_crash_while_the_secondary_lags_loses_only_unacknowledged_changes_in_the_mode(
        crash_pair):
    # The pair's last crash: the secondary is promoted with ha_promote, and every
    # acknowledged change must be on the new primary.
    result = crash_writes(crash_pair, changes=CHANGES,
                          link_down_before_kill=LINK_DOWN_SECONDS, promote=True)
    assert result["killed_after_acknowledged"] > 0
    assert result["lost"] == 0, result
