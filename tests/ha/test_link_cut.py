"""S1 and R-H10: the link between the sites is cut (bytes stop, sockets stay open);
both sides keep serving; when it returns everything catches up by itself. A moved
primary is repointed without a rebuild."""
import uuid

import pytest

from localservices.linkproxy import LinkProxy
from tests.ha.support import WebClient
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha


def _new_account(client: WebClient, password: str) -> str:
    return client.create_account(resource=f"edge-{uuid.uuid4().hex[:6]}", login_name="admin",
                                 password=password)[1]


def _on_secondary(pair, account_id: str) -> bool:
    return pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_account WHERE id = %s",
                              (account_id,))[0][0] == 1


def test_a_cut_link_leaves_both_sites_serving_and_heals_by_itself(pair):
    site_a = WebClient(pair.primary.url)
    site_a.login("admin", pair.primary.admin_password())
    before_cut = _new_account(site_a, "Before-cut-pw-1")
    pair.wait_replicated()
    pair.link.freeze()
    try:
        during_cut = _new_account(site_a, "During-cut-pw-2")  # A keeps read/write
        site_b = WebClient(pair.secondary.url)
        site_b.login("admin", pair.primary.admin_password())
        status, body, _ = site_b.post(f"/accounts/{before_cut}/reveal/", {})
        assert status == 200 and "Before-cut-pw-1" in body  # B serves read-only
        assert not _on_secondary(pair, during_cut)
        assert pair.pending_outbox() >= 2  # login + reveal wait in B's outbox
        stale = wait_until(lambda: (r := pair.ha_status()).returncode != 0 and r,
                           what="ha_status to notice the cut")
        assert "heartbeat is stale" in stale.stderr
    finally:
        pair.link.resume()
    wait_until(lambda: _on_secondary(pair, during_cut), timeout=30, what="catch-up")
    wait_until(lambda: pair.pending_outbox() == 0, timeout=30, what="B's audit to reach A")
    healthy = wait_until(lambda: (r := pair.ha_status()).returncode == 0 and r,
                         what="ha_status to report healthy again")
    assert "healthy: replicating and fresh" in healthy.stdout


def test_a_moved_primary_is_repointed_without_a_rebuild(pair):
    moved = LinkProxy(pair.primary.profile.mariadb_port)
    try:
        assert _reconfigure(pair, moved.port).returncode == 0
        client = WebClient(pair.primary.url)
        client.login("admin", pair.primary.admin_password())
        account = _new_account(client, "After-move-pw-3")
        wait_until(lambda: _on_secondary(pair, account), what="replication via the new port")
        bad = _reconfigure(pair, 1)  # nothing listens there: said clearly, not silently
        assert bad.returncode != 0 and "replication is not running" in bad.stderr
    finally:
        assert _reconfigure(pair, pair.link.port).returncode == 0
        moved.close()


def _reconfigure(pair, port: int):
    return run_manage("ha_reconfigure", "--primary-host",
                      "127.0.0.1", "--primary-port", str(port), node=pair.secondary.profile)
