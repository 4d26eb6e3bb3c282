"""Every form: good input does the thing; bad input gets a clear message and changes nothing."""
import pytest
from django.contrib.auth.models import User

from accounts.models import ApiToken, Team
from audit.models import AuditEvent
from vault.models import Account, AccountShare, PasswordPolicy, Resource, ResourceShare
from vault.services import account_password

pytestmark = pytest.mark.django_db(databases="__all__")


def snapshot() -> tuple:
    """Everything a bad form could have changed."""
    return (list(Resource.objects.values()), list(Account.objects.values()),
            list(ResourceShare.objects.values()), list(AccountShare.objects.values()),
            list(User.objects.values("username", "is_active")), list(Team.objects.values()),
            ApiToken.objects.count(), AuditEvent.objects.count())


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_alice_creates_a_resource_and_an_account_with_a_generated_password(alice_client):
    response = alice_client.post("/resources/new/", {"name": "web-1", "resource_type": "server",
                                                     "address": "web1.example.test"})
    resource = Resource.objects.get(name="web-1")
    assert response["Location"] == f"/resources/{resource.pk}/"
    response = alice_client.post(f"/resources/{resource.pk}/accounts/new/",
                                 {"login_name": "deploy", "generate": "on", "notes": ""})
    account = Account.objects.get(login_name="deploy")
    assert len(account_password(account)) == 20


def test_alice_reveals_through_the_page(alice_client, root_account):
    response = alice_client.post(f"/accounts/{root_account.pk}/reveal/", {"reason": "audit"})
    assert b"s3cr3t-Root-pw!" in response.content and response["Cache-Control"] == "no-store"
    assert b"rack 4" in response.content
    page = alice_client.get(f"/accounts/{root_account.pk}/")
    assert b"s3cr3t-Root-pw!" not in page.content and b"rack 4" not in page.content


@pytest.mark.parametrize("data, message", [
    ({"name": "", "resource_type": "server"}, "This field is required"),
    ({"name": "db-prod-1", "resource_type": "server"}, "already exists"),
    ({"name": "x", "resource_type": "toaster"}, "Select a valid choice"),
])
def test_bad_resource_input_is_refused(alice_client, server, data, message):
    before = snapshot()
    response = alice_client.post("/resources/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("data, message", [
    ({"login_name": "svc", "password": ""}, "Enter a password or tick"),
    ({"login_name": "root", "password": "whatever-1"}, "already has that login name"),
    ({"login_name": "", "password": "whatever-1"}, "This field is required"),
])
def test_bad_account_input_is_refused(alice_client, server, root_account, data, message):
    before = snapshot()
    response = alice_client.post(f"/resources/{server.pk}/accounts/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert snapshot() == before


def test_a_password_breaking_the_resource_policy_is_refused(alice_client, server, root_account):
    server.policy = PasswordPolicy.objects.get()
    server.save()
    before = snapshot()
    response = alice_client.post(f"/accounts/{root_account.pk}/password/", {"password": "short"})
    assert "must be at least 20 characters long" in response.content.decode()
    assert snapshot() == before and not root_account.history.exists()


def test_an_empty_password_change_is_refused(alice_client, root_account):
    before = snapshot()
    response = alice_client.post(f"/accounts/{root_account.pk}/password/", {"password": ""})
    assert "Enter a new password or tick" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("data", [{"permission": "view"},
                                  {"permission": "admin", "user": "BOB"},
                                  {"permission": "view", "user": "BOB", "team": "TEAM"}])
def test_bad_share_input_is_refused(alice_client, bob, server, data):
    team = Team.objects.create(name="Ops")
    data = {k: {"BOB": bob.pk, "TEAM": team.pk}.get(v, v) for k, v in data.items()}
    before = snapshot()
    response = alice_client.post(f"/resources/{server.pk}/share/", data)
    assert response.status_code == 200 and b"errorlist" in response.content
    assert snapshot() == before


def test_a_too_long_reveal_reason_is_refused_and_reveals_nothing(alice_client, root_account):
    response = alice_client.post(f"/accounts/{root_account.pk}/reveal/", {"reason": "x" * 501})
    assert b"at most 500 characters" in response.content
    assert b"s3cr3t-Root-pw!" not in response.content
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


@pytest.mark.parametrize("data, message", [
    ({"username": "erin", "role": "Auditor", "password": "short"}, "too short"),
    ({"username": "bob", "role": "Auditor", "password": "Long-enough-pw-42"}, "already exists"),
    ({"username": "erin", "role": "Overlord", "password": "Long-enough-pw-42"}, "valid choice"),
])
def test_bad_user_input_is_refused(alice_client, bob, data, message):
    before = snapshot()
    response = alice_client.post("/accounts/users/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert snapshot() == before


def test_alice_cannot_demote_herself(alice_client, alice):
    before = snapshot()
    response = alice_client.post(f"/accounts/users/{alice.pk}/", {"role": "Auditor",
                                                                  "is_active": "on"})
    assert "cannot change your own role" in response.content.decode()
    assert snapshot() == before


def test_bad_team_and_token_input_is_refused(alice_client):
    before = snapshot()
    assert b"This field is required" in alice_client.post("/accounts/teams/new/",
                                                          {"name": ""}).content
    alice_client.post("/accounts/tokens/new/", {"name": ""})
    assert snapshot() == before


def test_bob_cannot_reach_the_user_admin(client, bob):
    client.force_login(bob)
    assert client.get("/accounts/users/").status_code == 403
    assert client.post("/accounts/users/new/", {"username": "x"}).status_code == 403


def test_a_post_without_csrf_token_is_refused(alice, server):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    before = snapshot()
    assert strict.post(f"/resources/{server.pk}/delete/").status_code == 403
    assert snapshot() == before


def test_opening_the_edit_form_shows_the_notes_and_is_audited(alice_client, root_account):
    page = alice_client.get(f"/accounts/{root_account.pk}/edit/")
    assert b"rack 4" in page.content and page["Cache-Control"] == "no-store"
    row = AuditEvent.objects.get(action="password_reveal")
    assert row.detail == {"field": "notes", "purpose": "edit"}


def test_a_view_only_user_cannot_open_the_edit_form(client, alice, bob, server, root_account):
    from vault.services import share_grant

    share_grant(user=alice, target=server, grantee_user=bob, permission="view")
    client.force_login(bob)
    assert client.get(f"/accounts/{root_account.pk}/edit/").status_code == 403
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


@pytest.mark.parametrize("field, value, message", [
    ("password", "x" * 1_000_000, "at most"),
    ("password", "nul\x00byte", "Null characters are not allowed"),
    ("login_name", "r" * 201, "at most 200"),
    ("notes", "n" * 100_000, "at most"),
])
def test_the_web_form_refuses_what_the_api_refuses(alice_client, server, field, value, message):
    before = snapshot()
    data = {"login_name": "svc", "password": "Fine-password-1", "notes": "", field: value}
    response = alice_client.post(f"/resources/{server.pk}/accounts/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert snapshot() == before


def test_the_services_enforce_the_same_limits_for_every_caller(alice, server):
    from django.core.exceptions import ValidationError

    from vault import limits, services

    for kwargs in ({"login_name": "x" * (limits.NAME_MAX + 1), "password": "ok-pw-1"},
                   {"login_name": "svc", "password": "p" * (limits.PASSWORD_MAX + 1)},
                   {"login_name": "svc", "password": "ok-pw-1",
                    "notes": "n" * (limits.NOTES_MAX + 1)},
                   {"login_name": "line\nbreak", "password": "ok-pw-1"},
                   {"login_name": "svc", "password": "lone\ud800surrogate"}):
        with pytest.raises(ValidationError):
            services.account_create(user=alice, resource=server, **kwargs)
    assert not Account.objects.exists()
