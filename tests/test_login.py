"""R-V6: login, lockout (django-axes), TOTP two-factor (django-otp), re-auth before reveal."""
import pytest
from axes.models import AccessAttempt
from django_otp.oath import TOTP

from accounts.models import TotpDevice
from audit.models import AuditEvent
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


def login(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def current_code(device: TotpDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():06d}"


def test_bob_logs_in_and_out(client, bob):
    response = login(client, "bob", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_a_wrong_password_is_refused_with_a_message(client, bob):
    response = login(client, "bob", "nope")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_bob_is_locked_out_after_the_configured_failures(client, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "bob", "wrong")
    response = login(client, "bob", PASSWORD)  # even the right password is refused now
    assert response.status_code == 429 and b"Too many failed logins" in response.content
    assert AccessAttempt.objects.using("local").filter(username="bob").exists()
    assert AuditEvent.objects.filter(action="lockout", actor="bob").count() == 1
    refused = AuditEvent.objects.filter(action="login_failed", actor="bob").order_by("id").last()
    assert refused.detail == {"locked_out": True}
    assert not AuditEvent.objects.filter(action="login").exists()


def test_a_lockout_of_bob_does_not_lock_out_alice(client, bob, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "bob", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 302


def _enrol(client, user) -> TotpDevice:
    client.force_login(user)
    assert client.get("/accounts/two-factor/").status_code == 200
    device = TotpDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/two-factor/", {"token": current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post("/accounts/logout/")
    return device


def test_enrolment_shows_a_qr_code_and_refuses_a_wrong_code(client, bob):
    client.force_login(bob)
    page = client.get("/accounts/two-factor/")
    assert b"<svg" in page.content
    response = client.post("/accounts/two-factor/", {"token": "000000"})
    assert b"That code is not valid" in response.content
    assert not TotpDevice.objects.filter(user=bob, confirmed=True).exists()


def test_totp_login_needs_the_code_before_anything_is_reachable(client, bob):
    device = _enrol(client, bob)
    response = login(client, "bob", PASSWORD)
    assert response["Location"].startswith("/accounts/verify/")
    assert client.get("/")["Location"].startswith("/accounts/verify/")
    device.refresh_from_db()
    ok = client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_enrolled", actor="bob").count() == 1


def test_a_wrong_code_is_refused_and_throttles_the_next_try(client, bob):
    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    wrong = client.post("/accounts/verify/", {"token": "123456", "next": "/"})
    assert b"That code is not valid" in wrong.content
    device.refresh_from_db()
    right_too_soon = client.post("/accounts/verify/",
                                 {"token": current_code(device, offset=1), "next": "/"})
    assert right_too_soon.status_code == 200
    assert client.get("/")["Location"].startswith("/accounts/verify/")


def test_verify_refuses_to_redirect_off_site(client, bob):
    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    response = client.post("/accounts/verify/", {"token": current_code(device, offset=1),
                                                 "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_reveal_asks_for_the_password_again_when_configured(client, alice, root_account,
                                                           settings):
    settings.REVEAL_REAUTH_SECONDS = 60
    client.force_login(alice, password_typed=False)
    url = f"/accounts/{root_account.pk}/reveal/"
    response = client.post(url)
    assert response["Location"].startswith("/accounts/reauth/")
    assert not AuditEvent.objects.filter(action="password_reveal").exists()
    bad = client.post("/accounts/reauth/", {"password": "wrong", "next": "/"})
    assert b"That password is not right" in bad.content
    client.post("/accounts/reauth/", {"password": PASSWORD, "next": "/"})
    response = client.post(url)
    assert response.status_code == 200 and b"s3cr3t-Root-pw!" in response.content


def test_the_totp_seed_is_sealed_with_the_master_key(client, bob):
    device = _enrol(client, bob)
    stored = bytes(TotpDevice.objects.values_list("key_ct", flat=True).get(pk=device.pk))
    assert device.bin_key.hex().encode() not in stored and device.bin_key not in stored
    assert len(device.bin_key) == 20
