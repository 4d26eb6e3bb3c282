"""R-A1, R-A3: every auditable action leaves exactly one row; the trail is tamper-evident."""
import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services as account_services
from audit.integrity import verify_trail
from audit.models import AuditEvent, AuditSeal
from audit.services import audit_record, audit_seal
from tests.support import PASSWORD
from vault import services
from vault.models import Permission

pytestmark = pytest.mark.django_db(databases="__all__")
Action = AuditEvent.Action


class Trail:
    """Counts the rows a block of code adds, by action."""

    def __init__(self):
        self.last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new_actions(self) -> list[str]:
        rows = AuditEvent.objects.filter(id__gt=self.last_id).order_by("id")
        actions = list(rows.values_list("action", flat=True))
        self.last_id = rows.last().id if actions else self.last_id
        return actions


def test_every_vault_action_leaves_exactly_one_row(alice, bob):
    trail = Trail()
    resource = services.resource_create(user=alice, name="fw-1", resource_type="network")
    assert trail.new_actions() == [Action.RESOURCE_CREATE]
    services.resource_update(user=alice, resource=resource, name="fw-1", resource_type="network",
                             address="10.0.0.1", description="", policy=None)
    assert trail.new_actions() == [Action.RESOURCE_UPDATE]
    account = services.account_create(user=alice, resource=resource, login_name="admin",
                                      password="pw-one")
    assert trail.new_actions() == [Action.ACCOUNT_CREATE]
    services.account_update(user=alice, account=account, login_name="admin", notes="n")
    assert trail.new_actions() == [Action.ACCOUNT_UPDATE]
    services.password_change(user=alice, account=account, new_password="pw-two")
    assert trail.new_actions() == [Action.PASSWORD_CHANGE]
    services.password_reveal(user=alice, account=account, reason="incident 42")
    assert trail.new_actions() == [Action.PASSWORD_REVEAL]
    share = services.share_grant(user=alice, target=resource, grantee_user=bob,
                                 permission=Permission.VIEW)
    assert trail.new_actions() == [Action.RESOURCE_SHARE]
    services.share_grant(user=alice, target=account, grantee_user=bob, permission=Permission.VIEW)
    assert trail.new_actions() == [Action.ACCOUNT_SHARE]
    services.share_revoke(user=alice, share=share)
    assert trail.new_actions() == [Action.SHARE_REVOKE]
    services.account_delete(user=alice, account=account)
    assert trail.new_actions() == [Action.ACCOUNT_DELETE]
    services.resource_delete(user=alice, resource=resource)
    assert trail.new_actions() == [Action.RESOURCE_DELETE]


def test_every_user_action_leaves_exactly_one_row(alice):
    trail = Trail()
    erin = account_services.user_create(admin=alice, username="erin", email="", role="Auditor",
                                        password=PASSWORD)
    assert trail.new_actions() == [Action.USER_CREATE]
    account_services.user_update(admin=alice, user=erin, role="Password user", is_active=True)
    assert trail.new_actions() == [Action.ROLE_CHANGE]
    account_services.user_update(admin=alice, user=erin, role="Password user", is_active=False)
    assert trail.new_actions() == [Action.USER_UPDATE]
    account_services.team_save(admin=alice, name="Ops", members=[alice])
    assert trail.new_actions() == [Action.TEAM_CHANGE]
    token, _ = account_services.api_token_create(user=alice, name="script")
    assert trail.new_actions() == [Action.TOKEN_CREATE]
    account_services.api_token_revoke(user=alice, token=token)
    assert trail.new_actions() == [Action.TOKEN_REVOKE]


def test_login_logout_and_failed_login_each_leave_one_row(client, bob):
    trail = Trail()
    client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    assert trail.new_actions() == [Action.LOGIN_FAILED]
    client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    assert trail.new_actions() == [Action.LOGIN]
    client.post("/accounts/logout/")
    assert trail.new_actions() == [Action.LOGOUT]
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert login.actor == "bob" and login.source_ip == "127.0.0.1" and login.node


def test_a_reveal_row_names_who_what_when_where_and_why(alice, root_account):
    services.password_reveal(user=alice, account=root_account, reason="incident 42")
    row = AuditEvent.objects.get(action=Action.PASSWORD_REVEAL)
    assert (row.actor, row.object_id, row.reason) == ("alice", str(root_account.pk), "incident 42")
    assert row.node == "test.strongroom.test" and row.occurred_at is not None


def test_no_audit_row_ever_holds_a_secret(alice, bob, root_account):
    services.password_change(user=alice, account=root_account, new_password="NEW-secret-77")
    services.account_update(user=alice, account=root_account, login_name="root",
                            notes="secret-note-55")
    services.password_reveal(user=alice, account=root_account)
    dump = str(list(AuditEvent.objects.values()))
    for secret in ("s3cr3t-Root-pw!", "NEW-secret-77", "secret-note-55", "rack 4", PASSWORD):
        assert secret not in dump


def test_audit_rows_are_append_only_through_the_orm(alice, root_account):
    row = AuditEvent.objects.first()
    row.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


def _sealed_trail(alice, root_account) -> list[AuditEvent]:
    for reason in ("one", "two", "three"):
        services.password_reveal(user=alice, account=root_account, reason=reason)
    assert audit_seal(horizon_seconds=0) is not None
    return list(AuditEvent.objects.order_by("id"))


def test_an_intact_trail_verifies(alice, root_account):
    _sealed_trail(alice, root_account)
    audit_record(action=Action.LOGIN, actor=alice)  # not sealed yet: still hash-checked
    report = verify_trail()
    assert report.ok and report.seals_checked == 1 and report.unsealed_events == 1
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "audit trail intact" in out.getvalue()


def test_the_chain_detects_an_edited_row(alice, root_account):
    rows = _sealed_trail(alice, root_account)
    AuditEvent.objects.filter(pk=rows[2].pk).update(reason="nothing to see")
    with pytest.raises(CommandError, match=f"audit event {rows[2].pk} does not match its hash"):
        call_command("audit_verify", stdout=StringIO())


def test_the_chain_detects_an_edited_row_whose_hash_was_recomputed(alice, root_account):
    from audit.integrity import event_hash

    rows = _sealed_trail(alice, root_account)
    forged = AuditEvent.objects.filter(pk=rows[1].pk).values().get()
    forged["actor"] = "somebody-else"
    AuditEvent.objects.filter(pk=rows[1].pk).update(actor="somebody-else",
                                                    row_hash=event_hash(forged))
    report = verify_trail()
    assert not report.ok and "is broken" in report.problem


def test_the_chain_detects_a_deleted_row(alice, root_account):
    rows = _sealed_trail(alice, root_account)
    AuditEvent.objects.filter(pk=rows[1].pk).delete()
    report = verify_trail()
    assert "edited, deleted or inserted" in report.problem


def test_seals_chain_one_after_another(alice, root_account):
    _sealed_trail(alice, root_account)
    services.password_reveal(user=alice, account=root_account)
    second = audit_seal(horizon_seconds=0)
    first = AuditSeal.objects.order_by("id").first()
    assert second.previous_hash == first.seal_hash and verify_trail().seals_checked == 2


def test_the_audit_page_filters_and_exports_csv_for_auditors(client, carol, alice, root_account):
    services.password_reveal(user=alice, account=root_account, reason="why not")
    client.force_login(carol)
    page = client.get("/audit/", {"action": "password_reveal"})
    assert page.status_code == 200 and b"why not" in page.content
    export = client.get("/audit/export.csv", {"actor": "alice", "action": "password_reveal"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:5] == ["id", "occurred_at", "node", "actor", "action"]
    assert [r[4] for r in rows[1:]] == ["password_reveal"]


def test_the_audit_page_is_closed_to_password_users(client, bob):
    client.force_login(bob)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_a_bad_audit_filter_shows_an_error_and_lists_everything(client, carol):
    client.force_login(carol)
    page = client.get("/audit/", {"since": "yesterday-ish"})
    assert page.status_code == 200 and b"Enter a valid date/time" in page.content
