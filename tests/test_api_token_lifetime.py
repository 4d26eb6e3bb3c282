"""Item 6: the re-authentication window guards token creation and every reveal path;
tokens expire, and their owner sees when each was last used — recorded without a
write on every API read, and never on a read-only node."""
from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def reauth_window(settings):
    settings.REVEAL_REAUTH_SECONDS = settings.SENSITIVE_REAUTH_SECONDS = 60
    return settings


def test_a_session_past_the_window_cannot_create_a_token(client, bob, reauth_window):
    client.force_login(bob, password_typed=False)  # logged in long ago
    response = client.post("/accounts/tokens/new/", {"name": "backup"})
    assert response["Location"].startswith("/accounts/reauth/")
    assert not ApiToken.objects.exists()


def test_after_the_password_bob_gets_a_token_with_the_default_lifetime(client, bob,
                                                                       reauth_window):
    reauth_window.API_TOKEN_DEFAULT_DAYS = 30
    client.force_login(bob)
    client.post("/accounts/reauth/", {"password": PASSWORD, "next": "/"})
    response = client.post("/accounts/tokens/new/", {"name": "backup"})
    assert response.status_code == 200 and b"raw-token" in response.content
    token = ApiToken.objects.get()
    expected = timezone.now() + timedelta(days=30)
    assert abs((token.expires_at - expected).total_seconds()) < 60


def test_a_lifetime_above_the_maximum_is_refused(bob, settings):
    settings.API_TOKEN_MAX_DAYS = 90
    with pytest.raises(Exception, match="90"):
        api_token_create(user=bob, name="forever", days=3650)
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(client, alice, root_account):
    _, raw = api_token_create(user=alice, name="old script", days=1)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/api/v1/accounts/{root_account.pk}/password/", **bearer(raw))
    assert response.status_code == 401 and "expired" in response.json()["error"]


def _token_updates(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].startswith("UPDATE") and "accounts_apitoken" in q["sql"]]


def test_last_use_is_written_at_most_once_per_interval(client, alice, settings):
    settings.API_TOKEN_LAST_USED_SECONDS = 300
    _, raw = api_token_create(user=alice, name="monitor")
    with CaptureQueriesContext(connections["default"]) as first:
        assert client.get("/api/v1/resources/", **bearer(raw)).status_code == 200
    assert len(_token_updates(first)) == 1
    used = ApiToken.objects.get().last_used_at
    assert used is not None
    with CaptureQueriesContext(connections["default"]) as later:
        for _ in range(5):
            assert client.get("/api/v1/resources/", **bearer(raw)).status_code == 200
    assert _token_updates(later) == []
    ApiToken.objects.update(last_used_at=used - timedelta(seconds=301))
    client.get("/api/v1/resources/", **bearer(raw))
    assert ApiToken.objects.get().last_used_at > used


def test_a_secondary_serves_the_token_without_writing_its_last_use(client, alice, settings):
    _, raw = api_token_create(user=alice, name="monitor")
    settings.NODE_ROLE = "secondary"
    assert client.get("/api/v1/resources/", **bearer(raw)).status_code == 200
    assert ApiToken.objects.get().last_used_at is None


def test_the_owner_sees_expiry_and_last_use(client, alice):
    _, raw = api_token_create(user=alice, name="monitor")
    client.get("/api/v1/resources/", **bearer(raw))
    token = ApiToken.objects.get()
    client.force_login(alice)
    page = client.get("/accounts/profile/").content.decode()
    assert "Expires" in page and "Last used" in page
    assert token.expires_at.strftime("%Y-%m-%d") in page
    assert token.last_used_at.strftime("%Y-%m-%d %H:%M") in page


def test_the_edit_page_asks_again_before_showing_the_notes(client, alice, root_account,
                                                          reauth_window):
    client.force_login(alice, password_typed=False)
    response = client.get(f"/accounts/{root_account.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    client.post("/accounts/reauth/", {"password": PASSWORD, "next": "/"})
    assert b"rack 4" in client.get(f"/accounts/{root_account.pk}/edit/").content
