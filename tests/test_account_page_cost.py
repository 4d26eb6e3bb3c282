"""Issue 12: the account page, and the reveal that answers with it, asks the database a
fixed number of questions however long the password history and the share list are; it
lists the newest versions and links to the whole history."""
from contextlib import ExitStack

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from vault import services
from vault.models import Account, Permission
from vault.views import HISTORY_SHOWN

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def _queries(call) -> tuple[object, list[str]]:
    with ExitStack() as stack:
        captures = [stack.enter_context(CaptureQueriesContext(connections[alias]))
                    for alias in connections]
        response = call()
    return response, [q["sql"] for capture in captures for q in capture.captured_queries]


def _age(account, alice, versions: int) -> Account:
    for number in range(versions):
        account = services.password_change(user=alice, account=account,
                                           new_password=f"Changed-{number:03d}-pw!")
    return account


def _share_widely(account, alice, bob, carol, dave) -> None:
    for person in (bob, carol, dave):
        services.share_grant(user=alice, target=account, permission=Permission.VIEW,
                             grantee_user=person)


def test_a_reveal_asks_the_same_few_questions_for_a_long_history(
        alice_client, alice, bob, carol, dave, server, root_account):
    fresh = services.account_create(user=alice, resource=server, login_name="fresh",
                                    password="Fresh-pw-123!")
    alice_client.get(f"/accounts/{fresh.pk}/")  # one-time start-up questions out of the count
    _, few = _queries(lambda: alice_client.post(f"/accounts/{fresh.pk}/reveal/",
                                                {"reason": "audit"}))
    _share_widely(root_account, alice, bob, carol, dave)
    aged = _age(root_account, alice, HISTORY_SHOWN + 5)
    response, many = _queries(lambda: alice_client.post(f"/accounts/{aged.pk}/reveal/",
                                                        {"reason": "audit"}))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert f"Changed-{HISTORY_SHOWN + 4:03d}-pw!" in response.content.decode()
    assert response.content.decode().count("bob") + response.content.decode().count(
        "carol") >= 2  # the shares are listed
    # The session and its user, the account with the permission, the audit row, the
    # navigation's permissions, the history page, the shares.
    assert len(many) == len(few) == 7, " | ".join(sql[:40] for sql in many)


def test_the_page_lists_the_newest_versions_and_links_to_the_whole_history(
        alice_client, alice, root_account):
    aged = _age(root_account, alice, HISTORY_SHOWN + 3)
    page = alice_client.get(f"/accounts/{aged.pk}/").content.decode()
    assert page.count("<tr><td>") == HISTORY_SHOWN
    assert f'href="/accounts/{aged.pk}/?history=all"' in page
    whole, queries = _queries(lambda: alice_client.get(f"/accounts/{aged.pk}/?history=all"))
    assert whole.content.decode().count("<tr><td>") == HISTORY_SHOWN + 3
    assert 'id="all-history"' not in whole.content.decode() and len(queries) == 6


def test_a_short_history_is_shown_whole_without_a_link(alice_client, alice, root_account):
    aged = _age(root_account, alice, HISTORY_SHOWN)
    page = alice_client.get(f"/accounts/{aged.pk}/").content.decode()
    assert page.count("<tr><td>") == HISTORY_SHOWN and 'id="all-history"' not in page


def test_the_history_names_who_replaced_each_password(alice_client, alice, root_account):
    aged = _age(root_account, alice, 1)
    page = alice_client.get(f"/accounts/{aged.pk}/").content.decode()
    assert "<td>alice</td></tr>" in page and "s3cr3t-Root-pw!" not in page
