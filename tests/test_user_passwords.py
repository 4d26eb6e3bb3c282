"""Item 10: a user changes their own password, an administrator resets one; both
with Django's validators, both audited (never the password), refused on a secondary."""
import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent, AuditOutbox
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")
NEW = "Plum-orchard-lantern-41"


def has_password(username: str, password: str) -> bool:
    return User.objects.get(username=username).check_password(password)


def change_own(client, old: str, new: str, again: str | None = None):
    return client.post("/accounts/password/", {"old_password": old, "new_password1": new,
                                               "new_password2": again or new})


def test_bob_changes_his_own_password_and_stays_logged_in(client, bob):
    client.force_login(bob)
    response = change_own(client, PASSWORD, NEW)
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session survives the change
    assert has_password("bob", NEW)
    assert not has_password("bob", PASSWORD)
    row = AuditEvent.objects.get(action="user_update", actor="bob")
    assert row.object_id == str(bob.pk) and row.detail == {"password": "changed"}
    assert NEW not in str(row.__dict__)


def test_a_wrong_current_password_changes_nothing(client, bob):
    client.force_login(bob)
    response = change_own(client, "not-my-password", NEW)
    assert response.status_code == 200
    assert has_password("bob", PASSWORD)
    assert not AuditEvent.objects.filter(action="user_update").exists()


@pytest.mark.parametrize("weak", ["short1A!", "password1234", "123456789012",
                                  "bob@example.test"])
def test_django_validators_refuse_a_weak_new_password(client, bob, weak):
    client.force_login(bob)
    assert change_own(client, PASSWORD, weak).status_code == 200
    assert has_password("bob", PASSWORD)


def test_alice_resets_bobs_password_and_his_sessions_end(client, alice, bob):
    bobs_browser = client.__class__()
    bobs_browser.force_login(bob)
    client.force_login(alice)
    response = client.post(f"/accounts/users/{bob.pk}/password/",
                           {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert has_password("bob", NEW)
    assert bobs_browser.get("/")["Location"].startswith("/accounts/login/")
    row = AuditEvent.objects.get(action="user_update", actor="alice")
    assert row.object_id == str(bob.pk) and row.detail == {"password": "reset"}


def test_the_reset_uses_django_validators_too(client, alice, bob):
    client.force_login(alice)
    response = client.post(f"/accounts/users/{bob.pk}/password/",
                           {"new_password1": "bob", "new_password2": "bob"})
    assert response.status_code == 200
    assert has_password("bob", PASSWORD)


def test_a_reset_asks_alice_for_her_password_past_the_window(client, alice, bob, settings):
    settings.SENSITIVE_REAUTH_SECONDS = 60
    client.force_login(alice, password_typed=False)
    response = client.post(f"/accounts/users/{bob.pk}/password/",
                           {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"].startswith("/accounts/reauth/")
    assert has_password("bob", PASSWORD)


def test_bob_cannot_reset_mallorys_password(client, bob, mallory):
    client.force_login(bob)
    response = client.post(f"/accounts/users/{mallory.pk}/password/",
                           {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 403
    assert has_password("mallory", PASSWORD)


def test_the_profile_links_to_the_password_change(client, bob):
    client.force_login(bob)
    assert b'href="/accounts/password/"' in client.get("/accounts/profile/").content


def test_a_secondary_refuses_both_changes(client, alice, bob, settings):
    settings.NODE_ROLE = "secondary"
    client.force_login(bob)
    assert change_own(client, PASSWORD, NEW).status_code == 503
    client.force_login(alice)
    response = client.post(f"/accounts/users/{bob.pk}/password/",
                           {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 503
    assert has_password("bob", PASSWORD)
    assert not AuditOutbox.objects.filter(action="user_update").exists()
