"""Issue 19 item 12: while a rebuild (a rejoin, a switchover's, a pack install, a
resync) reloads this node's replicated schema (ha.replication.rebuilding marks it), pages and the
API answer 503 "rejoining" with a Retry-After, never a 500, even for a request that
was under way when the rebuild began; a marker left behind by a process that died
counts for nothing. (The real rebuild, with a client
writing throughout: tests/ha/test_switchover.py.)"""
import subprocess
from contextlib import ExitStack

import pytest
from django.http import HttpResponseServerError
from django.test import RequestFactory

from accounts.services import api_token_create
from ha.middleware import VersionSkewMiddleware
from ha.replication.rebuilding import marker_path, rebuilding

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def ha_dir(settings, tmp_path):
    settings.HA_DIR = tmp_path


def test_a_page_asked_during_the_rebuild_is_the_rejoining_page(client, alice):
    client.force_login(alice)
    with rebuilding():
        response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"This node is rejoining" in response.content
    assert client.get("/").status_code == 200  # and back once it is done


def test_the_api_asked_during_the_rebuild_answers_json(client, alice):
    token = api_token_create(user=alice, name="script")[1]
    with rebuilding():
        response = client.get("/api/v1/resources/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503 and response.json()["rejoining"] is True
    assert "rebuilt from the primary's snapshot" in response.json()["error"]


def test_a_request_under_way_when_the_rebuild_began_gets_503_not_its_500():
    with ExitStack() as rebuild:
        def meets_a_dropped_table(request):
            rebuild.enter_context(rebuilding())  # the rebuild begins meanwhile
            return HttpResponseServerError("Table 'strongroom.auth_user' doesn't exist")
        response = VersionSkewMiddleware(meets_a_dropped_table)(RequestFactory().get("/"))
    assert response.status_code == 503 and b"rejoining" in response.content


def test_a_marker_left_by_a_process_that_died_counts_for_nothing(client, alice):
    gone = subprocess.Popen(["true"])
    gone.wait()
    marker_path().write_text(f"{gone.pid}\n")
    client.force_login(alice)
    assert client.get("/").status_code == 200
