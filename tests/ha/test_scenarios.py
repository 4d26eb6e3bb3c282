"""S1 and S2 end to end, over HTTP as people use it: site B's people keep finding and
revealing passwords on the secondary while the link is cut (S1) and while the primary
has crashed (S2), and are refused every change; site A keeps writing during the cut.
When the link or the primary comes back, everything converges by itself: the
secondary has applied all the primary wrote, B's audit rows are in A's trail exactly
once, and the audit chain verifies on both nodes. What is asserted is data, not logs."""
from __future__ import annotations

import uuid

import pytest

from localservices.processes import start_processes
from tests.ha.support import Node, WebClient, kill_node, status_of, wait_healthy
from tests.support import PASSWORD, run_manage, wait_until

pytestmark = pytest.mark.ha

B_ACTIONS = {"login", "password_reveal"}  # all a read-only node may audit of these people


@pytest.fixture(scope="module")
def site_b(pair) -> dict:
    """What the administrator set up on the primary for site B's people: a resource
    with two accounts; bob may view the whole resource, carol may modify one account,
    dave (a password administrator) may view the other account only."""
    suffix = uuid.uuid4().hex[:6]
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    resource = f"site-b-db-{suffix}"
    resource_id, root = admin.create_account(resource=resource, resource_type="database",
                                             login_name="root", password="Root-before-cut-1")
    _, backup = _add_account(admin, resource_id, login_name="backup",
                             password="Backup-before-cut-2")
    people = {name: f"{name}-{suffix}" for name in ("bob", "carol", "dave")}
    roles = {"bob": "Password user", "carol": "Password user",
             "dave": "Password administrator"}
    for name, username in people.items():
        status, body, _ = admin.post("/accounts/users/new/", {
            "username": username, "email": "", "role": roles[name], "password": PASSWORD})
        assert status == 302, body[:500]
    shares = [(f"/resources/{resource_id}/share/", "bob", "view"),
              (f"/accounts/{root}/share/", "carol", "modify"),
              (f"/accounts/{backup}/share/", "dave", "view")]
    for path, name, permission in shares:
        user_id = pair.primary.sql("SELECT id FROM strongroom.auth_user WHERE username = %s",
                                   (people[name],))[0][0]
        status, body, _ = admin.post(path, {"user": user_id, "permission": permission})
        assert status == 302, body[:500]
    pair.wait_replicated()
    return {"admin": admin, "resource": resource, "resource_id": resource_id,
            "root": root, "backup": backup, "people": people,
            # What each account's password is now; a scenario that changes one says so.
            "passwords": {root: "Root-before-cut-1", backup: "Backup-before-cut-2"}}


def test_s1_site_b_reads_during_a_cut_link_site_a_writes_and_both_converge(pair, site_b):
    site_a = site_b["admin"]
    first_outbox_id = _last_outbox_id(pair)
    pair.link.freeze()
    try:
        # Site A keeps writing: new accounts, and a new password for one B can see.
        written_on_a = [_add_account(site_a, site_b["resource_id"], login_name=f"svc-{n}",
                                     password=f"Written-in-cut-{n}")[1] for n in range(3)]
        status, body, _ = site_a.post(f"/accounts/{site_b['backup']}/password/",
                                      {"password": "Backup-changed-in-cut-3"})
        assert status == 302, body[:500]
        status, body, _ = site_a.post(f"/accounts/{site_b['root']}/password/",
                                      {"password": "Root-changed-in-cut-4"})
        assert status == 302, body[:500]

        # Site B: each person logs in on the secondary, finds and reveals, is refused.
        bob = _log_in(pair.secondary, site_b["people"]["bob"])
        _finds(bob, site_b["resource"], search=site_b["resource"][:12])
        assert _reveal(bob, site_b["root"]) == "Root-before-cut-1"  # the data B has
        assert _reveal(bob, site_b["backup"]) == "Backup-before-cut-2"
        carol = _log_in(pair.secondary, site_b["people"]["carol"])
        _finds(carol, site_b["resource"], search="root")
        assert _reveal(carol, site_b["root"]) == "Root-before-cut-1"
        dave = _log_in(pair.secondary, site_b["people"]["dave"])
        _finds(dave, site_b["resource"], search="backup")
        assert _reveal(dave, site_b["backup"]) == "Backup-before-cut-2"
        _refused_writes(pair, site_b, carol=carol, dave=dave)
        assert not any(_on_secondary(pair, account) for account in written_on_a)
        b_rows = _b_audit_rows(pair, site_b, after_id=first_outbox_id)
        assert len(b_rows) == 3 + 4  # three logins, four reveals
        assert _delivered(pair, after_id=first_outbox_id) == 0  # nothing reaches A while cut
    finally:
        pair.link.resume()

    _assert_converged(pair, b_uuids=[uuid_ for uuid_, _ in b_rows])
    assert all(_on_secondary(pair, account) for account in written_on_a)
    assert _reveal(bob, site_b["backup"]) == "Backup-changed-in-cut-3"  # A's change, on B
    assert _reveal(bob, site_b["root"]) == "Root-changed-in-cut-4"
    site_b["passwords"].update({site_b["root"]: "Root-changed-in-cut-4",
                                site_b["backup"]: "Backup-changed-in-cut-3"})
    wait_healthy(pair)


def test_s2_site_b_reads_while_the_primary_is_down_and_it_converges_after_restart(
        pair, site_b):
    first_outbox_id = _last_outbox_id(pair)
    bob = _log_in(pair.secondary, site_b["people"]["bob"])  # logged in before the crash
    resource_id, passwords = site_b["resource_id"], site_b["passwords"]
    kill_node(pair.primary)
    crash_outbox_id = _last_outbox_id(pair)
    try:
        wait_until(lambda: status_of(pair.secondary).get("ha", {}).get("status") == "failed",
                   timeout=30, what="the secondary to see its primary gone")
        _finds(bob, site_b["resource"], search=site_b["resource"][:12])
        assert _reveal(bob, site_b["root"]) == passwords[site_b["root"]]
        carol = _log_in(pair.secondary, site_b["people"]["carol"])  # fresh logins
        _finds(carol, site_b["resource"], search="root")
        assert _reveal(carol, site_b["root"]) == passwords[site_b["root"]]
        dave = _log_in(pair.secondary, site_b["people"]["dave"])
        _finds(dave, site_b["resource"], search="backup")
        assert _reveal(dave, site_b["backup"]) == passwords[site_b["backup"]]
        _refused_writes(pair, site_b, carol=carol, dave=dave)
        b_rows = _b_audit_rows(pair, site_b, after_id=first_outbox_id)
        assert len(b_rows) == 3 + 3  # bob's login before the crash counts too
        assert _delivered(pair, after_id=crash_outbox_id) == 0  # nowhere to deliver to
    finally:
        # The operator restarts the crashed node; nothing else is done by hand.
        pair.primary.profile.mariadb.start()
        start_processes(pair.primary.profile)

    _assert_converged(pair, b_uuids=[uuid_ for uuid_, _ in b_rows])
    site_a = WebClient(pair.primary.url)  # the restarted primary takes writes again
    site_a.login("admin", pair.primary.admin_password())
    _, after = _add_account(site_a, resource_id, login_name="after-restart",
                            password="After-restart-pw-5")
    wait_until(lambda: _on_secondary(pair, after), timeout=30,
               what="a write after the restart to reach the secondary")
    wait_healthy(pair)
    for node in (pair.primary, pair.secondary):
        status = status_of(node)
        assert status["ha"]["status"] == "alive" and status["replication"]["status"] == "alive"


# --- What people do ----------------------------------------------------------------

def _log_in(node: Node, username: str) -> WebClient:
    person = WebClient(node.url)
    person.login(username, PASSWORD)
    return person


def _finds(person: WebClient, resource: str, *, search: str) -> None:
    status, body, _ = person.get(f"/?q={search}")
    assert status == 200 and resource in body, body[:500]


def _reveal(person: WebClient, account_id: str) -> str:
    status, body, _ = person.post(f"/accounts/{account_id}/reveal/",
                                  {"reason": "site B on call"})
    assert status == 200, body[:500]
    for password in ("Root-before-cut-1", "Backup-before-cut-2", "Backup-changed-in-cut-3",
                     "Root-changed-in-cut-4"):
        if password in body:
            return password
    raise AssertionError("no known password on the reveal page")


def _add_account(person: WebClient, resource_id: str, *, login_name: str,
                 password: str) -> tuple[str, str]:
    status, body, headers = person.post(f"/resources/{resource_id}/accounts/new/",
                                        {"login_name": login_name, "password": password})
    assert status == 302, body[:500]
    return resource_id, headers["Location"].rstrip("/").rsplit("/", 1)[1]


def _refused_writes(pair, site_b: dict, *, carol: WebClient, dave: WebClient) -> None:
    """Carol may modify root's password and dave may create resources, but not on the
    secondary: a 503 page that says so, and nothing in its database changed."""
    history = _history_count(pair.secondary, site_b["root"])
    status, body, _ = carol.post(f"/accounts/{site_b['root']}/password/",
                                 {"password": "Changed-on-b-never-1"})
    assert status == 503 and "read-only" in body
    name = f"made-on-b-{uuid.uuid4().hex[:6]}"
    status, body, _ = dave.post("/resources/new/", {"name": name, "resource_type": "server"})
    assert status == 503 and "read-only" in body
    assert _history_count(pair.secondary, site_b["root"]) == history
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_resource WHERE name = %s",
                              (name,))[0][0] == 0


# --- What the databases hold ---------------------------------------------------------

def _history_count(node: Node, account_id: str) -> int:
    return node.sql("SELECT COUNT(*) FROM strongroom.vault_passwordversion "
                    "WHERE account_id = %s", (account_id,))[0][0]


def _on_secondary(pair, account_id: str) -> bool:
    return pair.secondary.sql("SELECT COUNT(*) FROM strongroom.vault_account WHERE id = %s",
                              (account_id,))[0][0] == 1


def _last_outbox_id(pair) -> int:
    return pair.secondary.sql("SELECT COALESCE(MAX(id), 0) "
                              "FROM strongroom_local.audit_auditoutbox")[0][0]


def _delivered(pair, *, after_id: int) -> int:
    return pair.secondary.sql("SELECT COUNT(*) FROM strongroom_local.audit_auditoutbox "
                              "WHERE id > %s AND delivered_at IS NOT NULL", (after_id,))[0][0]


def _b_audit_rows(pair, site_b: dict, *, after_id: int) -> list[tuple]:
    """(uuid, action) of what B's people did, from the secondary's outbox: only what a
    read-only node may audit (no row for a refused change)."""
    people = list(site_b["people"].values())
    rows = pair.secondary.sql(
        "SELECT uuid, action FROM strongroom_local.audit_auditoutbox WHERE id > %s "
        f"AND actor IN ({', '.join(['%s'] * len(people))})", (after_id, *people))
    assert {action for _, action in rows} == B_ACTIONS, rows
    return rows


def _gtid_positions(text: str) -> dict[int, int]:
    """'0-11-42,22-22-7' → {domain: sequence number}."""
    positions = {}
    for gtid in filter(None, text.split(",")):
        domain, _, sequence = gtid.strip().split("-")
        positions[int(domain)] = int(sequence)
    return positions


def _covers(applied: str, written: str) -> bool:
    applied_positions = _gtid_positions(applied)
    return all(applied_positions.get(domain, -1) >= sequence
               for domain, sequence in _gtid_positions(written).items())


def _trail_counts(node: Node, uuids: list) -> dict:
    rows = node.sql("SELECT uuid, COUNT(*) FROM strongroom.audit_auditevent WHERE uuid IN "
                    f"({', '.join(['%s'] * len(uuids))}) GROUP BY uuid", tuple(uuids))
    return dict(rows)


def _assert_converged(pair, *, b_uuids: list) -> None:
    """No manual step: B's rows reach A by themselves (once each), the secondary applies
    all A wrote, the chain covers B's rows and verifies on both nodes."""
    wait_until(lambda: len(_trail_counts(pair.primary, b_uuids)) == len(b_uuids),
               timeout=45, what="B's audit rows in the primary's trail")
    assert set(_trail_counts(pair.primary, b_uuids).values()) == {1}
    written = pair.primary.sql("SELECT @@gtid_binlog_pos")[0][0]
    wait_until(lambda: _covers(pair.secondary.sql("SELECT @@gtid_slave_pos")[0][0], written),
               timeout=30, what=f"the secondary to apply the primary's {written}")
    assert _trail_counts(pair.secondary, b_uuids) == _trail_counts(pair.primary, b_uuids)
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom_local.audit_auditoutbox "
                              "WHERE delivered_at IS NULL AND uuid IN "
                              f"({', '.join(['%s'] * len(b_uuids))})", tuple(b_uuids)
                              )[0][0] == 0

    sealed = run_manage("audit_seal", "--horizon", "0", node=pair.primary.profile)
    assert sealed.returncode == 0, sealed.stderr
    newest_b_row = pair.primary.sql(
        "SELECT MAX(id) FROM strongroom.audit_auditevent WHERE uuid IN "
        f"({', '.join(['%s'] * len(b_uuids))})", tuple(b_uuids))[0][0]
    assert pair.primary.sql("SELECT MAX(last_event_id) FROM strongroom.audit_auditseal"
                            )[0][0] >= newest_b_row
    pair.wait_replicated()
    for node in (pair.primary, pair.secondary):
        sealed = run_manage("audit_seal", node=node.profile)
        assert sealed.returncode == 0, sealed.stderr
        verified = run_manage("audit_verify", node=node.profile)
        assert verified.returncode == 0, verified.stderr
        assert "audit trail intact" in verified.stdout
    assert "outbox intact" in verified.stdout  # the secondary's own chain, checked last

