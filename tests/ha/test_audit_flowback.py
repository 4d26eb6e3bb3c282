"""R-A2, R-H4, S2: while the primary is down the secondary serves read-only and audits
locally; when the primary is back the rows reach its trail by themselves, exactly
once, in order, with their original time and node, and the chain stays intact."""
import signal
import uuid

import pytest

from localservices.processes import manage
from tests.ha.support import WebClient
from tests.support import wait_until

pytestmark = pytest.mark.ha

OUTBOX = ("SELECT uuid, action, actor, node, occurred_at FROM strongroom_local.audit_auditoutbox "
          "ORDER BY id")


def _account_on_primary(pair) -> str:
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    _, account_id = admin.create_account(resource=f"pbx-{uuid.uuid4().hex[:6]}",
                                         login_name="root", password="Pbx-root-pw-1")
    pair.wait_replicated()
    return account_id


def test_audit_rows_from_a_lonely_secondary_reach_the_primary_exactly_once(pair):
    account_id = _account_on_primary(pair)
    already = {row[0] for row in pair.secondary.sql(OUTBOX)}
    pair.primary.profile.mariadb.stop(sig=signal.SIGKILL)  # the primary crashes
    try:
        person = WebClient(pair.secondary.url)
        person.get("/accounts/login/")
        status, _, _ = person.post("/accounts/login/", {"username": "admin",
                                                        "password": "wrong"})
        assert status == 200
        person.login("admin", pair.primary.admin_password())
        status, body, _ = person.post(f"/accounts/{account_id}/reveal/",
                                      {"reason": "primary down"})
        assert status == 200 and "Pbx-root-pw-1" in body
        person.post("/accounts/logout/")
        local = [row for row in pair.secondary.sql(OUTBOX) if row[0] not in already]
        assert [row[1] for row in local] == ["login_failed", "login", "password_reveal",
                                             "logout"]
        assert {row[3] for row in local} == {"secondary.strongroom.test"}
        assert pair.pending_outbox() >= 4
    finally:
        pair.primary.profile.mariadb.start()

    wait_until(lambda: pair.pending_outbox() == 0, timeout=30, what="the outbox to drain")
    uuids = [row[0] for row in local]
    placeholders = ", ".join(["%s"] * len(uuids))
    on_primary = pair.primary.sql(
        f"SELECT uuid, action, actor, node, occurred_at FROM strongroom.audit_auditevent "
        f"WHERE uuid IN ({placeholders}) ORDER BY id", uuids)
    assert on_primary == local  # exactly once, in order, original time and node

    # Delivered but not marked (the primary vanished before our commit was seen):
    # shipping again must not duplicate anything.
    pair.secondary.sql(f"UPDATE strongroom_local.audit_auditoutbox SET delivered_at = NULL "
                       f"WHERE uuid IN ({placeholders})", uuids)
    wait_until(lambda: pair.pending_outbox() == 0, timeout=30, what="the re-shipped rows")
    assert pair.primary.sql(f"SELECT COUNT(*) FROM strongroom.audit_auditevent "
                            f"WHERE uuid IN ({placeholders})", uuids)[0][0] == len(uuids)

    pair.wait_replicated()
    assert pair.secondary.sql(f"SELECT COUNT(*) FROM strongroom.audit_auditevent "
                              f"WHERE uuid IN ({placeholders})", uuids)[0][0] == len(uuids)
    manage(pair.primary.profile, "audit_seal", "--horizon", "0")
    assert "audit trail intact" in manage(pair.primary.profile, "audit_verify")
    pair.wait_replicated()
    manage(pair.secondary.profile, "audit_seal", "--horizon", "0")
    verified = manage(pair.secondary.profile, "audit_verify")
    assert "audit trail intact" in verified and "outbox intact" in verified


def test_replication_catches_up_after_the_primary_returns(pair):
    pair.primary.profile.mariadb.stop(sig=signal.SIGKILL)
    pair.primary.profile.mariadb.start()
    account_id = _account_on_primary(pair)  # written after the crash, replicated
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_account WHERE id = %s",
                              (account_id,))[0][0] == 1
