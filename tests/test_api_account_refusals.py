"""Issue 12: the account endpoints read the token and the account in one statement, and
still refuse as before: a token that does not authenticate is a 401 that says nothing
of the account, an account absent or not visible is the same 404, and the token's last
use is noted as on every other endpoint."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from audit.models import AuditEvent
from vault.models import Account

pytestmark = pytest.mark.django_db(databases="__all__")

UNKNOWN = "00000000-0000-0000-0000-000000000000"
ENDPOINTS = ["/api/v1/accounts/{}/", "/api/v1/accounts/{}/password/"]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _refused_token(alice, how: str) -> str:
    raw = api_token_create(user=alice, name="script")[1]
    if how == "wrong":
        return "sr_not-a-real-token"
    if how == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "revoked":
        api_token_revoke(user=alice, token=ApiToken.objects.get())
    elif how == "inactive":
        type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    return raw


def _answer(response) -> tuple[int, dict]:
    return response.status_code, response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("how", ["wrong", "expired", "revoked", "inactive"])
def test_a_refused_token_gets_the_same_401_whether_the_account_exists(client, alice,
                                                                     root_account, how,
                                                                     endpoint):
    raw = _refused_token(alice, how)
    existing = _answer(client.get(endpoint.format(root_account.pk), **bearer(raw)))
    unknown = _answer(client.get(endpoint.format(UNKNOWN), **bearer(raw)))
    assert existing[0] == 401 and "invalid, expired or revoked" in existing[1]["error"]
    assert existing == unknown
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


def test_a_refused_token_cannot_change_a_password(client, alice, root_account):
    raw = _refused_token(alice, "revoked")
    response = client.post(f"/api/v1/accounts/{root_account.pk}/password/",
                           data='{"password": "Not-from-a-revoked-token-1"}',
                           content_type="application/json", **bearer(raw))
    assert response.status_code == 401
    assert Account.objects.get(pk=root_account.pk).password_ct == root_account.password_ct


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_account_absent_or_not_visible_gets_the_same_404(client, mallory, root_account,
                                                            endpoint):
    raw = api_token_create(user=mallory, name="script")[1]
    hidden = _answer(client.get(endpoint.format(root_account.pk), **bearer(raw)))
    unknown = _answer(client.get(endpoint.format(UNKNOWN), **bearer(raw)))
    assert hidden == unknown == (404, {"error": "No such account."})
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


def test_a_retrieval_notes_the_tokens_last_use(client, alice, root_account):
    raw = api_token_create(user=alice, name="script")[1]
    response = client.get(f"/api/v1/accounts/{root_account.pk}/password/", **bearer(raw))
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_a_404_still_notes_the_tokens_last_use(client, mallory, root_account):
    raw = api_token_create(user=mallory, name="script")[1]
    response = client.get(f"/api/v1/accounts/{root_account.pk}/", **bearer(raw))
    assert response.status_code == 404
    assert ApiToken.objects.get().last_used_at is not None


def test_a_secondary_serves_an_account_without_writing_the_tokens_last_use(
        client, alice, root_account, settings):
    raw = api_token_create(user=alice, name="script")[1]
    settings.NODE_ROLE = "secondary"
    response = client.get(f"/api/v1/accounts/{root_account.pk}/", **bearer(raw))
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is None
