"""R-V7: the JSON API with per-user tokens (stored hashed); every error is JSON."""
import json

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from audit.models import AuditEvent
from vault import services
from vault.models import Permission

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="backup script")[1]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_only_the_tokens_hash_is_stored(alice_token):
    stored = ApiToken.objects.get()
    assert alice_token not in str(list(ApiToken.objects.values()))
    assert len(stored.token_hash) == 64 and alice_token.startswith(stored.prefix)


def test_alice_lists_what_she_may_see(client, alice_token, root_account):
    response = client.get("/api/v1/resources/", **bearer(alice_token))
    assert response.status_code == 200
    [resource] = response.json()["resources"]
    assert resource["name"] == "db-prod-1"
    assert resource["accounts"][0]["login_name"] == "root"
    assert "password" not in json.dumps(resource["accounts"][0]).replace("password_changed", "")


def test_alice_retrieves_a_password_and_it_is_audited(client, alice_token, root_account):
    response = client.get(f"/api/v1/accounts/{root_account.pk}/password/",
                          {"reason": "nightly backup"}, **bearer(alice_token))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json()["password"] == "s3cr3t-Root-pw!"
    row = AuditEvent.objects.get(action="password_reveal")
    assert (row.actor, row.reason) == ("alice", "nightly backup")


def test_alice_changes_a_password_through_the_api(client, alice_token, root_account):
    response = client.post(f"/api/v1/accounts/{root_account.pk}/password/",
                           data=json.dumps({"password": "from-the-api"}),
                           content_type="application/json", **bearer(alice_token))
    assert response.status_code == 200
    root_account.refresh_from_db()
    assert services.password_reveal(user=root_account.created_by,
                                    account=root_account) == "from-the-api"


def test_a_request_without_a_token_gets_401_json(client, root_account):
    response = client.get(f"/api/v1/accounts/{root_account.pk}/password/")
    assert response.status_code == 401 and "Bearer" in response.json()["error"]


def test_a_wrong_or_revoked_token_gets_401(client, alice, alice_token, root_account):
    url = f"/api/v1/accounts/{root_account.pk}/password/"
    assert client.get(url, **bearer("sr_not-a-real-token")).status_code == 401
    api_token_revoke(user=alice, token=ApiToken.objects.get())
    response = client.get(url, **bearer(alice_token))
    assert response.status_code == 401 and "revoked" in response.json()["error"]


def test_a_deactivated_users_token_stops_working(client, alice, alice_token, root_account):
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/resources/", **bearer(alice_token)).status_code == 401


def test_mallory_gets_404_for_alices_account(client, mallory, root_account):
    token = api_token_create(user=mallory, name="m")[1]
    response = client.get(f"/api/v1/accounts/{root_account.pk}/password/", **bearer(token))
    assert response.status_code == 404 and response.json()["error"]
    assert client.get("/api/v1/resources/", **bearer(token)).json() == {"resources": []}
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


def test_a_view_share_may_read_but_gets_403_on_change(client, alice, bob, server, root_account):
    services.share_grant(user=alice, target=server, grantee_user=bob, permission=Permission.VIEW)
    token = api_token_create(user=bob, name="b")[1]
    url = f"/api/v1/accounts/{root_account.pk}/password/"
    assert client.get(url, **bearer(token)).status_code == 200
    response = client.post(url, data=json.dumps({"password": "x"}),
                           content_type="application/json", **bearer(token))
    assert response.status_code == 403 and "permission" in response.json()["error"]


@pytest.mark.parametrize("body, message", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"password": 12}', "password"),
    ('{}', "password"),
])
def test_bad_bodies_get_400_and_change_nothing(client, alice_token, root_account, body, message):
    response = client.post(f"/api/v1/accounts/{root_account.pk}/password/", data=body,
                           content_type="application/json", **bearer(alice_token))
    assert response.status_code == 400 and message in json.dumps(response.json())
    assert services.password_reveal(user=root_account.created_by,
                                    account=root_account) == "s3cr3t-Root-pw!"
    assert not root_account.history.exists()


def test_a_wrong_method_gets_405_json(client, alice_token, root_account):
    response = client.delete(f"/api/v1/accounts/{root_account.pk}/password/",
                             **bearer(alice_token))
    assert response.status_code == 405 and response["Allow"] == "GET, POST"


def test_an_unknown_account_gets_404_json(client, alice_token):
    response = client.get("/api/v1/accounts/00000000-0000-0000-0000-000000000000/",
                          **bearer(alice_token))
    assert response.status_code == 404 and response.json()["error"]


def test_an_unknown_api_path_gets_404_json(client, alice_token):
    response = client.get("/api/v1/nothing-here/", **bearer(alice_token))
    assert response.status_code == 404 and response.json()["error"]


def _post_password(client, token, account, body: bytes | str,
                   content_type: str = "application/json"):
    return client.post(f"/api/v1/accounts/{account.pk}/password/", data=body,
                       content_type=content_type, **bearer(token))


def _nothing_changed(account) -> bool:
    account.refresh_from_db()
    return (services.account_password(account) == "s3cr3t-Root-pw!"
            and not account.history.exists())


@pytest.mark.parametrize("body, message", [
    ('{"password": "\\ud800x"}', "not valid text"),
    ('{"password": "nul\\u0000byte"}', "not valid text"),
    ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
    ('{"a":' * 10_000 + "1" + "}" * 10_000, "nested too deeply"),
])
def test_hostile_json_gets_a_clear_400_and_stores_nothing(client, alice_token, root_account,
                                                         body, message):
    response = _post_password(client, alice_token, root_account, body)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert message in json.dumps(response.json())
    assert _nothing_changed(root_account)


@pytest.mark.parametrize("length", ["limit + 1", 1_000_000])
def test_an_overlong_password_is_refused_with_json_and_stores_nothing(
        client, alice_token, root_account, length):
    from vault.limits import PASSWORD_MAX

    size = PASSWORD_MAX + 1 if length == "limit + 1" else length
    response = _post_password(client, alice_token, root_account,
                              json.dumps({"password": "x" * size}))
    assert response.status_code in (400, 413) and response["Content-Type"] == "application/json"
    if size == PASSWORD_MAX + 1:
        assert f"at most {PASSWORD_MAX}" in json.dumps(response.json())
    assert _nothing_changed(root_account)
    accepted = _post_password(client, alice_token, root_account,
                              json.dumps({"password": "x" * PASSWORD_MAX}))
    assert accepted.status_code == 200


def test_a_json_body_sent_as_text_plain_gets_415(client, alice_token, root_account):
    response = _post_password(client, alice_token, root_account, '{"password": "sneaky-1"}',
                              content_type="text/plain")
    assert response.status_code == 415 and "application/json" in response.json()["error"]
    assert _nothing_changed(root_account)


def test_a_10_mb_body_gets_a_json_413(client, alice_token, root_account):
    body = json.dumps({"password": "x", "padding": "y" * 10 * 1024 * 1024})
    response = _post_password(client, alice_token, root_account, body)
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert "too large" in response.json()["error"]
    assert _nothing_changed(root_account)
