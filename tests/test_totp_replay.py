"""Item 8 and the gaps of item 21, inside one process: a one-time code is good once
on the primary, a step a secondary took (its login row in the trail) is refused on
the primary, and a secondary locks out and audits locally."""
import pytest
from axes.models import AccessAttempt
from django_otp.oath import TOTP

from accounts.models import TotpDevice
from accounts.services import totp_device_start
from audit.models import AuditEvent, AuditOutbox
from audit.services import Action, audit_record
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def bobs_device(bob) -> TotpDevice:
    device = totp_device_start(user=bob)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def code(device: TotpDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += offset * device.step
    return f"{totp.token():06d}"


def log_in_with_code(client, token: str):
    client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    return client.post("/accounts/verify/", {"token": token, "next": "/"})


def test_a_code_is_good_once_on_the_primary(client, bobs_device):
    token = code(bobs_device)
    assert log_in_with_code(client, token).status_code == 302
    client.post("/accounts/logout/")
    replay = log_in_with_code(client, token)
    assert replay.status_code == 200 and b"That code is not valid" in replay.content
    assert client.get("/")["Location"].startswith("/accounts/verify/")


def test_the_login_row_carries_the_used_time_step(client, bobs_device):
    log_in_with_code(client, code(bobs_device))
    bobs_device.refresh_from_db()
    row = AuditEvent.objects.filter(action="login", actor="bob").order_by("id").last()
    assert row.detail == {"second_factor": "totp", "totp_device": bobs_device.pk,
                          "totp_step": bobs_device.last_t}


def test_a_step_used_on_the_secondary_is_refused_on_the_primary(client, settings, bob,
                                                               bobs_device):
    token = code(bobs_device)
    settings.NODE_ROLE = "secondary"
    assert log_in_with_code(client, token).status_code == 302
    client.post("/accounts/logout/")
    # What the audit shipping delivers to the primary's trail (tested on the pair).
    settings.NODE_ROLE = "primary"
    for row in AuditOutbox.objects.order_by("id"):
        audit_record(action=row.action, actor_name=row.actor, detail=row.detail)
    replay = log_in_with_code(client, token)
    assert replay.status_code == 200 and b"That code is not valid" in replay.content


def test_the_next_code_after_a_step_the_secondary_used_is_accepted(client, bob, bobs_device):
    step = bobs_device.totp().t()
    audit_record(action=Action.LOGIN, actor=bob,
                 detail={"totp_device": bobs_device.pk, "totp_step": step})
    assert log_in_with_code(client, code(bobs_device, offset=1)).status_code == 302


def test_a_secondary_locks_bob_out_and_audits_it_locally(client, settings, bob):
    settings.NODE_ROLE = "secondary"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert AccessAttempt.objects.using("local").filter(username="bob").exists()
    actions = list(AuditOutbox.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("login_failed") == settings.AXES_FAILURE_LIMIT + 1
    assert actions.count("lockout") == 1 and "login" not in actions
    assert not AuditEvent.objects.exists()  # nothing written to the replicated trail
