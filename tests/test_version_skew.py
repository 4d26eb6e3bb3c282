"""Issue 9 item 6: a node whose code and schema come from different releases refuses
to serve vault pages and the API with a 503 that names the migrations and what to do,
and it checks once per interval, not on every request."""
import pytest
from django.db import connections

from accounts.services import api_token_create
from ha.monitoring import versions

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def fresh_version_check():
    versions.forget()
    yield
    versions.forget()


def _latest_vault_migration() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'vault' "
                       "ORDER BY name DESC LIMIT 1")
        return cursor.fetchone()[0]


def _record(statement: str, args) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute(statement, args)


def test_a_schema_from_a_newer_release_stops_vault_pages_with_what_to_do(client, alice):
    _record("INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('vault', '9999_from_a_newer_release', NOW())", [])
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "vault.9999_from_a_newer_release" in page and "replicated schema" in page
    assert "upgrade this node to the release the primary runs" in page


def test_code_newer_than_the_schema_gets_json_on_the_api_naming_the_migration(client, alice):
    missing = _latest_vault_migration()
    _record("DELETE FROM django_migrations WHERE app = 'vault' AND name = %s", [missing])
    token = api_token_create(user=alice, name="script")[1]
    response = client.get("/api/v1/resources/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503
    [skew] = response.json()["version_skew"]
    assert skew["not_applied_to_schema"] == [f"vault.{missing}"]
    assert skew["unknown_to_this_code"] == [] and "manage.py migrate" in skew["advice"]


def test_a_secondary_whose_code_is_newer_is_told_to_wait_for_the_primary(client, settings):
    settings.NODE_ROLE = "secondary"
    _record("DELETE FROM django_migrations WHERE app = 'vault' AND name = %s",
            [_latest_vault_migration()])
    response = client.get("/accounts/login/")
    assert response.status_code == 503 and b"upgrade and migrate the primary" in response.content


def test_matching_code_and_schema_serve_and_the_check_is_not_repeated_per_request(
        client, alice, django_assert_max_num_queries):
    assert versions.node_skew() == []
    with django_assert_max_num_queries(0):
        assert versions.node_skew() == []  # remembered for VERSION_CHECK_SECONDS
    _record("INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('vault', '9999_from_a_newer_release', NOW())", [])
    client.force_login(alice)
    assert client.get("/").status_code == 200  # seen at the next check, not before
    versions.forget()
    assert client.get("/").status_code == 503


@pytest.mark.django_db(databases="__all__", transaction=True, serialized_rollback=True)
def test_a_column_gone_between_two_checks_gives_the_skew_page_not_a_500(client, alice,
                                                                        server):
    # `server`: the list reads its resources' columns only when it has a page of them.
    client.force_login(alice)
    assert client.get("/").status_code == 200  # checked and remembered: no skew
    _record("INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('vault', '9999_renames_address', NOW())", [])
    _record("ALTER TABLE vault_resource RENAME COLUMN address TO address_v2", [])
    try:
        response = client.get("/")
        assert response.status_code == 503 and b"vault.9999_renames_address" in response.content
    finally:
        _record("ALTER TABLE vault_resource RENAME COLUMN address_v2 TO address", [])
        _record("DELETE FROM django_migrations WHERE name = '9999_renames_address'", [])
