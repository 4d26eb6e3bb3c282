"""Sensitive administrator actions honour the re-authentication window, like a reveal:
resetting someone's password or two-factor, changing a role, creating an API token and
the alert settings (which can silence every failover alert). Without a fresh password
entry each is sent to /accounts/reauth/ and changes nothing; with one it works
(issue 19, item 4)."""
import pytest
from django.contrib.auth.models import User

from accounts.decorators import SESSION_AUTH_AT
from accounts.models import ApiToken, TotpDevice
from accounts.roles import AUDITOR, role_of
from alerts.selectors import channels_for_event
from tests.alerts.conftest import choose_channels
from tests.support import PASSWORD
from tests.test_login import _enrol

pytestmark = pytest.mark.django_db(databases="__all__")
NEW = "Plum-orchard-lantern-41"
ALERT_TARGETS = {"email_recipients": "oncall@example.test", "syslog_host": "",
                 "syslog_port": "514", "syslog_transport": "udp", "snmp_host": "",
                 "snmp_port": "162"}

# Each action: what alice posts, and whether it took effect on bob or the node.
ACTIONS = {
    "password reset": (lambda bob: (f"/accounts/users/{bob.pk}/password/",
                                    {"new_password1": NEW, "new_password2": NEW}),
                       lambda bob: User.objects.get(pk=bob.pk).check_password(NEW)),
    "two-factor reset": (lambda bob: (f"/accounts/users/{bob.pk}/two-factor/reset/", {}),
                         lambda bob: not TotpDevice.objects.filter(user=bob).exists()),
    "role change": (lambda bob: (f"/accounts/users/{bob.pk}/",
                                 {"role": AUDITOR, "is_active": "on"}),
                    lambda bob: role_of(User.objects.get(pk=bob.pk)) == AUDITOR),
    "token creation": (lambda bob: ("/accounts/tokens/new/", {"name": "backup script"}),
                       lambda bob: ApiToken.objects.exists()),
    "alert settings": (lambda bob: ("/alerts/", ALERT_TARGETS),  # every box unticked
                       lambda bob: channels_for_event(event="ha_failed") == []),
}


@pytest.fixture
def alices_stale_session(client, alice, bob, settings):
    settings.SENSITIVE_REAUTH_SECONDS = 60
    _enrol(client, bob)
    choose_channels("ha_failed", "email")
    client.force_login(alice, password_typed=False)
    return client


@pytest.mark.parametrize("action", ACTIONS)
def test_without_a_fresh_password_the_action_asks_again_and_changes_nothing(
        alices_stale_session, bob, action):
    request, took_effect = ACTIONS[action]
    response = alices_stale_session.post(*request(bob))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    assert not took_effect(bob)


@pytest.mark.parametrize("action", ACTIONS)
def test_after_alice_types_her_password_again_the_action_works(alices_stale_session, bob,
                                                               action):
    request, took_effect = ACTIONS[action]
    alices_stale_session.post("/accounts/reauth/", {"password": PASSWORD, "next": "/"})
    response = alices_stale_session.post(*request(bob))
    assert response.status_code in (200, 302)
    assert not response.get("Location", "").startswith("/accounts/reauth/")
    assert took_effect(bob)


def test_by_default_a_password_typed_over_fifteen_minutes_ago_is_asked_for_again(
        client, alice, bob):
    client.force_login(alice)  # the default window, as a node runs with no setting
    session = client.session
    session[SESSION_AUTH_AT] -= 901
    session.save()
    response = client.post(f"/accounts/users/{bob.pk}/", {"role": AUDITOR, "is_active": "on"})
    assert response["Location"].startswith("/accounts/reauth/")
    assert role_of(User.objects.get(pk=bob.pk)) != AUDITOR
