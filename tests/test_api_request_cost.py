"""Issue 12: the audited API retrieval asks the database a fixed, small number of
questions, and the one-query permission answers (with and without the token) are the
same as the step-by-step one."""
import itertools

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from accounts.models import Team
from accounts.services import api_token_create
from audit.models import AuditEvent
from vault import selectors, services
from vault.models import Account, AccountShare, Permission, ResourceShare

pytestmark = pytest.mark.django_db(databases="__all__")

# A grant a share can make: to bob himself, to his team, or to a team he is not in.
GRANTS = [None, ("user", Permission.VIEW), ("user", Permission.MODIFY),
          ("team", Permission.VIEW), ("team", Permission.MODIFY),
          ("other_team", Permission.MODIFY)]


def _share(model, target_field: str, target, grant, *, bob, teams) -> None:
    if grant is None:
        return
    grantee, permission = grant
    who = {"user": {"user": bob}, "team": {"team": teams["team"]},
           "other_team": {"team": teams["other_team"]}}[grantee]
    model.objects.create(**{target_field: target, "permission": permission, **who})


def test_the_one_query_permission_equals_the_step_by_step_one(alice, bob, mallory, server,
                                                               root_account):
    raw = {user.pk: api_token_create(user=user, name="script")[1]
           for user in (alice, bob, mallory)}
    teams = {"team": Team.objects.create(name="DBAs"),
             "other_team": Team.objects.create(name="Auditors")}
    teams["team"].members.add(bob)
    teams["other_team"].members.add(mallory)
    seen = set()
    for on_resource, on_account in itertools.product(GRANTS, GRANTS):
        ResourceShare.objects.all().delete()
        AccountShare.objects.all().delete()
        _share(ResourceShare, "resource", server, on_resource, bob=bob, teams=teams)
        _share(AccountShare, "account", root_account, on_account, bob=bob, teams=teams)
        for user in (alice, bob, mallory):
            expected = selectors.account_permission(
                user=user, account=Account.objects.get(pk=root_account.pk))
            found = selectors.account_for_user(user=user, pk=root_account.pk)
            got = None if found is None else selectors.account_permission(user=user,
                                                                          account=found)
            assert got == expected, (user.username, on_resource, on_account)
            token_user, with_token = selectors.account_for_token(raw_token=raw[user.pk],
                                                                 pk=root_account.pk)
            assert token_user == user
            got = None if with_token is None else selectors.account_permission(
                user=user, account=with_token)
            assert got == expected, ("token", user.username, on_resource, on_account)
            seen.add(expected)
    assert seen == {None, Permission.VIEW, Permission.MODIFY}


def test_an_unknown_account_is_none(bob):
    unknown = "00000000-0000-0000-0000-000000000000"
    assert selectors.account_for_user(user=bob, pk=unknown) is None
    raw = api_token_create(user=bob, name="script")[1]
    assert selectors.account_for_token(raw_token=raw, pk=unknown) == (bob, None)


def _queries(client, path: str, token: str, **kwargs) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connections["default"]) as default, \
            CaptureQueriesContext(connections["local"]) as local:
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)
    return response, [q["sql"] for q in (*default.captured_queries, *local.captured_queries)]


def test_an_audited_api_retrieval_costs_two_queries(client, alice, bob, server,
                                                       root_account):
    services.share_grant(user=alice, target=server, grantee_user=bob,
                         permission=Permission.VIEW)
    token = api_token_create(user=bob, name="script")[1]
    path = f"/api/v1/accounts/{root_account.pk}/password/"
    client.get(path, {"reason": "first use notes the token"},
               HTTP_AUTHORIZATION=f"Bearer {token}")
    response, queries = _queries(client, path, token, data={"reason": "nightly"})
    assert response.status_code == 200 and response.json()["password"] == "s3cr3t-Root-pw!"
    # The token with its user, the account with its resource and bob's permission, in
    # one statement; the audit row.
    assert len(queries) == 2, queries
    assert AuditEvent.objects.filter(action="password_reveal", actor="bob",
                                     reason="nightly").exists()


def test_a_refused_retrieval_costs_one_query_and_no_audit_row(client, mallory,
                                                                 root_account):
    token = api_token_create(user=mallory, name="script")[1]
    path = f"/api/v1/accounts/{root_account.pk}/password/"
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    response, queries = _queries(client, path, token)
    assert response.status_code == 404
    assert len(queries) == 1, queries
    assert not AuditEvent.objects.filter(action="password_reveal").exists()


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_hand_written_queries_give_the_same_objects_as_the_orm(alice, root_account):
    from accounts.models import ApiToken
    from accounts.services import api_token_user

    raw = api_token_create(user=alice, name="script")[1]
    user = api_token_user(raw)
    assert _fields(user) == _fields(type(user).objects.get(pk=alice.pk))
    assert isinstance(user.is_active, bool) and user.date_joined.tzinfo is not None
    token = ApiToken.objects.get(user=alice)
    assert token.last_used_at is not None  # noted by the first use, as before
    found = selectors.account_for_user(user=alice, pk=str(root_account.pk))
    expected = Account.objects.select_related("resource").get(pk=root_account.pk)
    assert _fields(found) == _fields(expected)
    assert _fields(found.resource) == _fields(expected.resource)
    assert services.account_password(found) == "s3cr3t-Root-pw!"
    user, with_token = selectors.account_for_token(raw_token=raw, pk=root_account.pk)
    assert _fields(user) == _fields(type(user).objects.get(pk=alice.pk))
    assert _fields(with_token) == _fields(expected)
    assert _fields(with_token.resource) == _fields(expected.resource)


def test_an_api_password_change_costs_six_queries(client, alice, root_account):
    token = api_token_create(user=alice, name="script")[1]
    path = f"/api/v1/accounts/{root_account.pk}/password/"
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")  # notes the token's first use
    with CaptureQueriesContext(connections["default"]) as default, \
            CaptureQueriesContext(connections["local"]) as local:
        response = client.post(path, data='{"password": "Rotated-by-api-1"}',
                               content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    queries = [q["sql"] for q in (*default.captured_queries, *local.captured_queries)
               if "SAVEPOINT" not in q["sql"]]  # the test's own transaction
    # Token, user, account, resource and grants; the current data key (once); the
    # account, updated only if unchanged since (no locked re-read); the old password's
    # history row; the audit row; the commit's GTID (a response header). The audit
    # row's description needs no query.
    assert len(queries) == 6, "\n".join(queries)
    root_account.refresh_from_db()
    assert services.account_password(root_account) == "Rotated-by-api-1"
