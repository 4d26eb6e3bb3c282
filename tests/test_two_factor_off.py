"""R-H11 in one process: two-factor turned off in the product. An administrator resets
a user's two-factor from the user's page, a user turns their own off after giving the
password again; both audited as otp_removed, both refused on a read-only node, and a
session whose device is gone is not stuck at the code page."""
import pytest

from accounts.models import TotpDevice
from audit.models import AuditEvent, AuditOutbox
from tests.support import PASSWORD, Client as SuiteClient
from tests.test_login import _enrol, current_code, login

pytestmark = pytest.mark.django_db(databases="__all__")


def reset_url(user) -> str:
    return f"/accounts/users/{user.pk}/two-factor/reset/"


def test_alice_resets_bobs_two_factor_and_bob_logs_in_with_the_password_alone(client, alice,
                                                                              bob):
    device = _enrol(client, bob)
    client.force_login(alice)
    page = client.get(f"/accounts/users/{bob.pk}/")
    assert b"Two-factor authentication: <strong>on</strong>" in page.content
    assert reset_url(bob).encode() in page.content

    response = client.post(reset_url(bob))
    assert response.status_code == 302 and response["Location"] == "/accounts/users/"
    assert not TotpDevice.objects.filter(user=bob).exists()
    removed = AuditEvent.objects.get(action="otp_removed")
    assert (removed.actor, removed.object_type, removed.object_repr) == ("alice", "user", "bob")
    assert removed.detail == {"devices": 1, "by": "administrator"}
    assert device.bin_key.hex() not in str(removed.__dict__)

    client.post("/accounts/logout/")
    assert login(client, "bob", PASSWORD)["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_reset_is_a_post_by_a_user_manager_only(client, alice, bob, mallory):
    _enrol(client, bob)
    client.force_login(alice)
    assert client.get(reset_url(bob)).status_code == 405
    client.force_login(mallory)
    assert client.post(reset_url(bob)).status_code == 403
    assert b"two-factor/reset" not in client.get("/accounts/profile/").content
    assert TotpDevice.objects.filter(user=bob, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="otp_removed").exists()


def test_a_reset_of_a_user_without_two_factor_changes_and_audits_nothing(client, alice, bob):
    client.force_login(alice)
    page = client.get(f"/accounts/users/{bob.pk}/")
    assert b"Two-factor authentication: off" in page.content
    assert reset_url(bob).encode() not in page.content
    client.post(reset_url(bob))
    assert not AuditEvent.objects.filter(action="otp_removed").exists()


def test_the_reset_asks_alice_for_her_password_again_when_configured(client, alice, bob,
                                                                    settings):
    settings.SENSITIVE_REAUTH_SECONDS = 60
    _enrol(client, bob)
    client.force_login(alice, password_typed=False)
    assert client.post(reset_url(bob))["Location"].startswith("/accounts/reauth/")
    assert TotpDevice.objects.filter(user=bob).exists()


def test_bob_turns_his_own_two_factor_off_only_with_his_password(client, bob):
    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    profile = client.get("/accounts/profile/")
    assert b'action="/accounts/two-factor/off/"' in profile.content

    wrong = client.post("/accounts/two-factor/off/", {"password": "not-it"})
    assert wrong.status_code == 200 and b"That password is not right" in wrong.content
    assert TotpDevice.objects.filter(user=bob).exists()
    assert client.get("/accounts/two-factor/off/").status_code == 200  # the form

    response = client.post("/accounts/two-factor/off/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert not TotpDevice.objects.filter(user=bob).exists()
    removed = AuditEvent.objects.get(action="otp_removed")
    assert (removed.actor, removed.object_repr, removed.detail) == (
        "bob", "bob", {"devices": 1, "by": "self"})
    assert PASSWORD not in str(removed.__dict__)
    assert client.get("/").status_code == 200
    assert b"turn it on" in client.get("/accounts/profile/").content


def test_a_session_verified_with_a_removed_device_is_not_stuck_at_verify(client, alice, bob):
    from django.test import Client

    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    assert client.get("/").status_code == 200
    waiting = Client()  # another browser of bob's: password given, code not yet
    assert login(waiting, "bob", PASSWORD)["Location"].startswith("/accounts/verify/")

    admin = SuiteClient()  # the suite's client: alice signed in with her password
    admin.force_login(alice)
    assert admin.post(reset_url(bob)).status_code == 302
    assert not TotpDevice.objects.filter(user=bob).exists()

    # Both sessions gave the password, which is all the account asks for now.
    assert client.get("/").status_code == 200
    assert waiting.get("/").status_code == 200


def test_a_session_is_still_asked_for_the_code_of_a_new_device(client, alice, bob):
    from django.test import Client

    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    admin = Client()
    admin.force_login(alice)
    admin.post(reset_url(bob))
    _enrol(Client(), bob)  # bob's new phone, enrolled in another browser
    assert client.get("/")["Location"].startswith("/accounts/verify/")


@pytest.fixture
def secondary(settings):
    settings.NODE_ROLE = "secondary"
    return settings


def test_a_read_only_node_refuses_both_and_hides_their_buttons(client, alice, bob, secondary):
    secondary.NODE_ROLE = "primary"
    _enrol(client, bob)
    secondary.NODE_ROLE = "secondary"
    client.force_login(alice)
    assert reset_url(bob).encode() not in client.get(f"/accounts/users/{bob.pk}/").content
    assert client.post(reset_url(bob)).status_code == 503
    client.force_login(bob)
    assert b"two-factor/off" not in client.get("/accounts/profile/").content
    assert client.post("/accounts/two-factor/off/", {"password": PASSWORD}).status_code == 503
    assert TotpDevice.objects.filter(user=bob, confirmed=True).count() == 1
    assert not AuditOutbox.objects.filter(action="otp_removed").exists()
    assert not AuditEvent.objects.filter(action="otp_removed").exists()


def test_a_session_whose_device_an_operator_deleted_is_not_stuck_at_verify(client, bob):
    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    TotpDevice.objects.filter(user=bob).delete()  # outside the product, e.g. a shell
    assert client.get("/").status_code == 200
