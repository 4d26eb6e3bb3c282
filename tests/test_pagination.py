"""Issue 12: the resource list, its search and the user list come in keyset pages of 50
(next/previous links, stable order, no count), whose cost does not grow with the vault."""
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Team
from accounts.roles import ADMINISTRATOR, PASSWORD_USER, role_of
from accounts.selectors import roles_of, user_page
from strongroom.keyset import AFTER, PAGE_SIZE, encode_cursor, keyset_page
from tests.support import handler_reads
from vault import services
from vault.models import Permission, Resource

pytestmark = pytest.mark.django_db(databases="__all__")


def make_resources(owner, names, **fields) -> list[Resource]:
    return Resource.objects.bulk_create([
        Resource(name=name, resource_type=fields.get("resource_type", "server"), owner=owner)
        for name in names])


def names_on(response) -> list[str]:
    return [resource.name for resource in response.context["page"].rows]


def follow(client, response, rel: str):
    """The page behind the rendered link with rel=`rel` (None when there is none)."""
    found = re.search(rf'rel="{rel}"[^>]*href="([^"]+)"', response.content.decode())
    if found is None:
        return None
    return client.get(response.request["PATH_INFO"] + found.group(1).replace("&amp;", "&"))


def walk(client, first_url: str) -> list[list[str]]:
    pages, response = [], client.get(first_url)
    while response is not None:
        assert response.status_code == 200
        pages.append(names_on(response))
        response = follow(client, response, "next")
    return pages


def test_alice_walks_every_resource_once_in_name_order(client, alice):
    # Mixed case and shared prefixes: the database's collation decides the order,
    # and the cursor is compared by the same database, so the pages agree with it.
    make_resources(alice, [f"{prefix}-{n:03}" for prefix in ("alpha", "Beta", "beta-x")
                           for n in range(40)])
    client.force_login(alice)
    pages = walk(client, "/")
    assert [len(page) for page in pages] == [50, 50, 20]
    walked = [name for page in pages for name in page]
    assert walked == list(Resource.objects.order_by("name", "id").values_list("name", flat=True))
    assert len(set(walked)) == 120


def test_previous_links_lead_back_through_the_same_pages(client, alice):
    make_resources(alice, [f"host-{n:03}" for n in range(120)])
    client.force_login(alice)
    first = client.get("/")
    assert follow(client, first, "prev") is None
    second = follow(client, first, "next")
    last = follow(client, second, "next")
    assert follow(client, last, "next") is None
    back = follow(client, last, "prev")
    assert names_on(back) == names_on(second)
    assert names_on(follow(client, back, "prev")) == names_on(first)


def test_a_last_page_that_ends_exactly_at_the_page_size_has_no_next_link(client, alice):
    make_resources(alice, [f"host-{n:03}" for n in range(2 * PAGE_SIZE)])
    client.force_login(alice)
    assert [len(page) for page in walk(client, "/")] == [PAGE_SIZE, PAGE_SIZE]


def test_pages_split_ties_of_the_first_key_without_losing_or_repeating_a_row(alice):
    # Resource names are unique; the resource type has ties across every boundary.
    make_resources(alice, [f"r{n:03}" for n in range(40)], resource_type="server")
    make_resources(alice, [f"s{n:03}" for n in range(45)], resource_type="database")
    make_resources(alice, [f"t{n:03}" for n in range(35)], resource_type="network")
    seen, cursor = [], ""
    while True:
        page = keyset_page(Resource.objects.all(), fields=("resource_type", "id"),
                           types=(str, int), cursor=cursor, size=7)
        seen += [(r.resource_type, r.pk) for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(Resource.objects.order_by("resource_type", "id")
                        .values_list("resource_type", "id"))


def test_search_results_are_paged_and_the_links_keep_the_search(client, alice):
    make_resources(alice, [f"web-{n:03}" for n in range(70)] + [f"db-{n:03}" for n in range(70)])
    client.force_login(alice)
    first = client.get("/", {"q": "web"})
    assert 'q=web' in re.search(r'rel="next"[^>]*href="([^"]+)"',
                                first.content.decode()).group(1)
    pages = walk(client, "/?q=web")
    assert [len(page) for page in pages] == [50, 20]
    assert all(name.startswith("web-") for page in pages for name in page)


def test_bob_pages_through_exactly_what_was_shared_with_him(client, alice, bob, mallory):
    resources = make_resources(alice, [f"host-{n:03}" for n in range(130)])
    by_user, by_team, by_account = resources[3], resources[64], resources[120]
    services.share_grant(user=alice, target=by_user, grantee_user=bob,
                         permission=Permission.VIEW)
    team = Team.objects.create(name="DBAs")
    team.members.add(bob)
    services.share_grant(user=alice, target=by_team, grantee_team=team,
                         permission=Permission.MODIFY)
    account = services.account_create(user=alice, resource=by_account, login_name="root",
                                      password="Only-this-one-1")
    services.share_grant(user=alice, target=account, grantee_user=bob,
                         permission=Permission.VIEW)
    client.force_login(bob)
    assert walk(client, "/") == [["host-003", "host-064", "host-120"]]
    client.force_login(mallory)
    assert walk(client, "/") == [[]]


@pytest.mark.parametrize("cursor", [
    "garbage", "%%%", encode_cursor("z", ("host-001",)), encode_cursor(AFTER, ("x", 1)),
    encode_cursor(AFTER, (1,)), "bnVsbA", "W10"])  # "null", "[]"
def test_a_bad_page_link_shows_the_first_page_with_a_message(client, alice, cursor):
    make_resources(alice, [f"host-{n:03}" for n in range(60)])
    client.force_login(alice)
    response = client.get("/?" + urlencode({"page": cursor}))
    assert response.status_code == 200
    assert names_on(response)[0] == "host-000"
    assert "That page link is not valid" in response.content.decode()
    users = client.get("/accounts/users/?" + urlencode({"page": cursor}))
    assert users.status_code == 200 and "That page link is not valid" in users.content.decode()


def test_a_forged_cursor_only_moves_within_what_the_user_may_see(client, alice, bob):
    resources = make_resources(alice, [f"host-{n:03}" for n in range(60)])
    services.share_grant(user=alice, target=resources[30], grantee_user=bob,
                         permission=Permission.VIEW)
    client.force_login(bob)
    response = client.get("/?" + urlencode({"page": encode_cursor(AFTER, ("host-010",))}))
    assert response.status_code == 200 and names_on(response) == ["host-030"]


def test_the_user_list_pages_by_username_with_each_role(client, alice):
    role = Group.objects.get(name=PASSWORD_USER)
    users = User.objects.bulk_create([User(username=f"user{n:03}") for n in range(110)])
    role.user_set.add(*users)
    client.force_login(alice)
    response, seen = client.get("/accounts/users/"), []
    while response is not None:
        seen += [user.username for user, _ in response.context["users"]]
        assert all(role == PASSWORD_USER for user, role in response.context["users"]
                   if user.username.startswith("user"))
        response = follow(client, response, "next")
    assert seen == sorted(seen) and set(seen) == {"alice", *(u.username for u in users)}


def _queries(client, url: str) -> list[str]:
    """The statements a page runs, with the values taken out."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    values = [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in captured]
    return [re.sub(r"IN \(\?(, \?)*\)", "IN (…)", sql) for sql in values]


def test_a_page_asks_the_database_as_often_with_5_resources_as_with_300(client, alice, bob):
    make_resources(alice, [f"host-{n:03}" for n in range(5)])
    client.force_login(alice)
    client.get("/")  # the session's first use
    small = _queries(client, "/"), _queries(client, "/?q=host")
    make_resources(alice, [f"more-{n:03}" for n in range(295)])
    assert (_queries(client, "/"), _queries(client, "/?q=host")) == small


def test_the_user_list_asks_as_often_with_3_users_as_with_200(client, alice, bob, mallory):
    client.force_login(alice)
    client.get("/accounts/users/")
    small = _queries(client, "/accounts/users/")
    role = Group.objects.get(name=PASSWORD_USER)
    role.user_set.add(*User.objects.bulk_create([User(username=f"u{n:03}") for n in range(200)]))
    assert _queries(client, "/accounts/users/") == small


def _teams_part(client) -> str:
    return client.get("/accounts/users/").content.decode().split("<h2>Teams</h2>")[1]


def test_the_user_list_shows_each_team_s_size_not_every_member(client, alice, bob):
    # Every member of every team on each visit made the page grow with the teams.
    team = Team.objects.create(name="ops")
    team.members.add(alice, bob)
    client.force_login(alice)
    small = _teams_part(client)
    team.members.add(*User.objects.bulk_create([User(username=f"u{n:03}") for n in range(300)]))
    assert "2 members" in small and "bob" not in small
    assert _teams_part(client) == small.replace("2 members", "302 members")


def test_the_api_pages_resources_through_the_link_header(client, alice, bob):
    from accounts.services import api_token_create

    resources = make_resources(alice, [f"host-{n:03}" for n in range(75)])
    for resource in resources[:2]:
        services.account_create(user=alice, resource=resource, login_name="root",
                                password="Api-pw-12345!")
    hidden = services.account_create(user=alice, resource=resources[1], login_name="backup",
                                     password="Api-pw-12345!")
    shown = resources[1].accounts.get(login_name="root")
    services.share_grant(user=alice, target=shown, grantee_user=bob, permission=Permission.VIEW)
    header = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=alice, name='t')[1]}"}
    first = client.get("/api/v1/resources/", **header)
    assert len(first.json()["resources"]) == 50
    next_url = re.search(r'<([^>]+)>; rel="next"', first["Link"]).group(1)
    second = client.get(next_url, **header)
    assert [r["name"] for r in second.json()["resources"]] == [
        f"host-{n:03}" for n in range(50, 75)]
    assert 'rel="prev"' in second["Link"] and 'rel="next"' not in second["Link"]
    bobs = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=bob, name='t')[1]}"}
    [only] = client.get("/api/v1/resources/", **bobs).json()["resources"]
    assert [a["id"] for a in only["accounts"]] == [str(shown.pk)] != [str(hidden.pk)]
    bad = client.get("/api/v1/resources/?page=garbage", **header)
    assert bad.status_code == 400 and "not valid" in bad.json()["error"]


@pytest.mark.parametrize("candidates", [1000, 2])
def test_a_login_search_finds_the_same_pages_with_few_or_many_matches(
        client, alice, bob, monkeypatch, candidates):
    # Below LOGIN_CANDIDATES matches the search collects them first; above, it walks
    # the name order. Both ways, only logins bob may see count.
    from vault import selectors

    monkeypatch.setattr(selectors, "LOGIN_CANDIDATES", candidates)
    resources = make_resources(alice, [f"host-{n:03}" for n in range(60)])
    for resource in resources[:55]:
        services.account_create(user=alice, resource=resource, login_name="deploy",
                                password="Deploy-pw-123!")
    services.account_create(user=alice, resource=resources[57], login_name="other",
                            password="Other-pw-123!")
    client.force_login(alice)
    assert walk(client, "/?q=deplo") == [[f"host-{n:03}" for n in range(50)],
                                         [f"host-{n:03}" for n in range(50, 55)]]
    for resource in resources[10:14]:
        services.share_grant(user=alice, target=resource.accounts.get(), grantee_user=bob,
                             permission=Permission.VIEW)
    client.force_login(bob)
    assert walk(client, "/?q=deplo") == [[f"host-{n:03}" for n in range(10, 14)]]


def test_a_user_pages_roles_read_that_pages_memberships_only(alice, bob):
    role = Group.objects.get(name=PASSWORD_USER)
    role.user_set.add(*User.objects.bulk_create([User(username=f"u{n:03}") for n in range(600)]))
    page = user_page()
    before = handler_reads()
    roles = roles_of(page.rows)
    read = handler_reads() - before - 1  # the first SHOW reads one row of its own
    assert roles == {user.pk: role_of(user) for user in page.rows}
    assert set(roles.values()) == {PASSWORD_USER, ADMINISTRATOR}
    # Was every membership of every group (the whole user table) through prefetch_related.
    assert read <= 2 * PAGE_SIZE + 10
