"""An administrator's own password changes only through *Change your password*, which
asks for the current one: the Users page's reset refuses it, even within the
re-authentication window (issue 19, item 4: a hostile form submission reset the
administrator's password and locked her out). Her own two-factor likewise goes off only
on her page, with her password."""
import pytest
from django.contrib.auth.models import User

from accounts.models import TotpDevice
from audit.models import AuditEvent
from tests.support import PASSWORD
from tests.test_login import _enrol

pytestmark = pytest.mark.django_db(databases="__all__")
HOSTILE = "Mallory-owns-this-now-77"


def test_a_hostile_post_to_reset_alices_own_password_changes_nothing(client, alice):
    client.force_login(alice)
    response = client.post(f"/accounts/users/{alice.pk}/password/",
                           {"new_password1": HOSTILE, "new_password2": HOSTILE})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
    alice = User.objects.get(pk=alice.pk)
    assert alice.check_password(PASSWORD) and not alice.check_password(HOSTILE)
    assert not AuditEvent.objects.filter(action="user_update").exists()


def test_alice_is_told_to_use_change_your_password(client, alice):
    client.force_login(alice)
    page = client.get(f"/accounts/users/{alice.pk}/password/", follow=True)
    assert page.redirect_chain == [("/accounts/password/", 302)]
    assert "Change your password" in page.content.decode()
    assert "asks for your current password" in page.content.decode()


def test_the_users_page_offers_alice_her_own_change_not_a_reset(client, alice, bob):
    client.force_login(alice)
    page = client.get("/accounts/users/").content.decode()
    assert f"/accounts/users/{alice.pk}/password/" not in page
    assert f"/accounts/users/{bob.pk}/password/" in page
    assert 'href="/accounts/password/"' in page


def test_a_post_to_reset_alices_own_two_factor_removes_nothing(client, alice):
    _enrol(client, alice)
    client.force_login(alice)
    response = client.post(f"/accounts/users/{alice.pk}/two-factor/reset/")
    assert response["Location"] == "/accounts/two-factor/off/"
    assert TotpDevice.objects.filter(user=alice, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="otp_removed").exists()
