"""R-H3, R-H6 inside one process: a node whose role is `secondary` refuses every
vault write in the app, and its hidden writes (sessions, lockout, audit, one-time
codes, last_login) go to the local schema only."""
import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django_otp.oath import TOTP

from accounts.models import TotpDevice
from accounts.otp import otp_verify
from accounts.services import totp_device_start
from audit.models import AuditEvent, AuditOutbox
from ha.middleware import ReadOnlyNodeMiddleware
from ha.router import ReadOnlyNode
from tests.support import PASSWORD, run_manage
from vault import services
from vault.models import Resource

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def secondary(settings):
    settings.NODE_ROLE = "secondary"
    return settings


def test_the_router_refuses_a_vault_write_before_any_sql(alice, secondary):
    with pytest.raises(ReadOnlyNode, match="read-only secondary"):
        Resource.objects.create(name="x", resource_type="server", owner=alice)


def test_login_and_reveal_work_and_are_audited_to_the_local_outbox(client, alice, root_account,
                                                                  secondary):
    alice.refresh_from_db()
    last_login = alice.last_login
    assert client.post("/accounts/login/", {"username": "alice",
                                            "password": PASSWORD}).status_code == 302
    response = client.post(f"/accounts/{root_account.pk}/reveal/", {"reason": "outage"})
    assert b"s3cr3t-Root-pw!" in response.content and b"read-only-banner" in response.content
    alice.refresh_from_db()
    assert alice.last_login == last_login  # auth_user is replicated: never written here
    assert list(AuditOutbox.objects.values_list("action", flat=True)) == ["login",
                                                                          "password_reveal"]
    assert not AuditEvent.objects.filter(action__in=["login", "password_reveal"]).exists()


def test_a_web_write_gets_the_read_only_page_and_changes_nothing(client, alice, root_account,
                                                                secondary):
    client.force_login(alice)
    response = client.post(f"/accounts/{root_account.pk}/password/", {"password": "new-one"})
    assert response.status_code == 503
    assert b"changes can only be made on the primary" in response.content
    assert services.password_reveal(user=alice, account=root_account) == "s3cr3t-Root-pw!"
    assert b"New resource" not in client.get("/").content  # edit controls are hidden


def test_a_refused_delete_leaves_no_audit_row_to_ship(alice, server, root_account, secondary):
    with pytest.raises(ReadOnlyNode):
        services.account_delete(user=alice, account=root_account)
    with pytest.raises(ReadOnlyNode):
        services.resource_delete(user=alice, resource=server)
    assert not AuditOutbox.objects.exists()
    assert Resource.objects.filter(pk=server.pk).exists()


def test_a_refusal_by_the_database_is_shown_as_read_only_not_as_an_error():
    request = RequestFactory().post("/resources/new/")
    request.user = None
    refused = OperationalError(1142, "INSERT command denied to user 'strongroom'")
    response = ReadOnlyNodeMiddleware(lambda r: None).process_exception(request, refused)
    assert response.status_code == 503
    api = RequestFactory().post("/api/v1/accounts/x/password/")
    response = ReadOnlyNodeMiddleware(lambda r: None).process_exception(api, refused)
    assert response.status_code == 503 and b'"read_only": true' in response.content


def test_a_node_the_pack_made_secondary_stays_secondary_whatever_its_env_says(tmp_path):
    (tmp_path / "ha.env").write_text("STRONGROOM_ROLE=secondary\n")
    result = run_manage("shell", "-c",
                        "from django.conf import settings; print(settings.NODE_ROLE)",
                        env={"STRONGROOM_HA_DIR": str(tmp_path), "STRONGROOM_ROLE": "primary"})
    assert result.stdout.strip().splitlines()[-1] == "secondary", result.stderr


def _confirmed_device(user) -> TotpDevice:
    device = totp_device_start(user=user)
    device.confirmed = True
    device.save()
    return device


def _code(device: TotpDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += offset * device.step
    return f"{totp.token():06d}"


def test_totp_works_on_a_read_only_node_and_a_code_is_good_once(settings, bob):
    device = _confirmed_device(bob)
    settings.NODE_ROLE = "secondary"
    code = _code(device)
    assert otp_verify(user=bob, token=code) == device
    assert otp_verify(user=bob, token=code) is None  # replay refused
    device.refresh_from_db()
    assert device.last_t == -1  # the replicated device row was not written


def test_a_wrong_code_throttles_the_next_try_on_a_read_only_node(settings, bob):
    device = _confirmed_device(bob)
    settings.NODE_ROLE = "secondary"
    assert otp_verify(user=bob, token="000000" if _code(device) != "000000" else "111111") is None
    assert otp_verify(user=bob, token=_code(device, offset=1)) is None  # throttled
    assert otp_verify(user=bob, token="not-a-code") is None


def test_the_outbox_is_chained_so_a_dropped_row_is_detected(client, alice, root_account,
                                                           secondary):
    from audit.integrity import verify_trail
    from audit.models import OutboxSeal
    from audit.services import audit_seal

    from audit.sealkey import seal_key

    secondary.NODE_ROLE = "primary"  # the primary makes the seal key; the snapshot carries it
    seal_key(trail="outbox", create=True)
    secondary.NODE_ROLE = "secondary"
    for reason in ("one", "two", "three"):
        services.password_reveal(user=alice, account=root_account, reason=reason)
    assert audit_seal(horizon_seconds=0, events=AuditOutbox, seals=OutboxSeal) is not None
    assert verify_trail(events=AuditOutbox, seals=OutboxSeal).ok
    AuditOutbox.objects.filter(reason="two").delete()  # dropped before delivery
    report = verify_trail(events=AuditOutbox, seals=OutboxSeal)
    assert not report.ok and "edited, deleted or inserted" in report.problem


def test_the_audit_page_on_a_secondary_shows_what_is_not_delivered_yet(client, alice, carol,
                                                                      root_account, secondary):
    services.password_reveal(user=alice, account=root_account, reason="during the outage")
    client.force_login(carol)
    page = client.get("/audit/").content.decode()
    assert "not yet delivered to the primary" in page and "during the outage" in page
