"""Issue 9 item 5 inside one process: the API's staleness headers and max_staleness on
a secondary, and the write's GTID from the primary (the pair test, tests/ha/
test_read_your_writes.py, sends it back to a real secondary)."""
import json
from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_token_create
from ha.models import Heartbeat


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="sync script")[1]


def bearer(token: str, **headers) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


@pytest.fixture
def stale_secondary(settings):
    """A secondary whose last applied heartbeat from the primary is 30 s old."""
    Heartbeat.objects.create(id=1, node="primary", beat_at=timezone.now() - timedelta(seconds=30))
    settings.NODE_ROLE = "secondary"
    settings.GTID_WAIT_SECONDS = 0.3
    return settings


def _binlog_position() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        return cursor.fetchone()[0]


@pytest.mark.django_db(databases="__all__")
def test_every_api_answer_on_a_secondary_carries_its_datas_age(client, alice_token,
                                                                 stale_secondary):
    response = client.get("/api/v1/resources/", **bearer(alice_token))
    assert response.status_code == 200
    assert 30 <= float(response["Strongroom-Data-Age"]) < 40
    assert response["Strongroom-Data-As-Of"] == Heartbeat.objects.get().beat_at.isoformat()
    refused = client.get("/api/v1/resources/")  # even a 401 says how old the data is
    assert refused.status_code == 401 and float(refused["Strongroom-Data-Age"]) >= 30


@pytest.mark.django_db(databases="__all__")
def test_a_secondary_refuses_data_older_than_max_staleness_with_its_age(client, alice_token,
                                                                        stale_secondary):
    response = client.get("/api/v1/resources/", {"max_staleness": "10"}, **bearer(alice_token))
    assert response.status_code == 503 and response["Retry-After"] == "1"
    body = response.json()
    assert body["stale"] is True and body["max_staleness"] == 10
    assert body["data_age_seconds"] >= 30 and "resources" not in body
    header = bearer(alice_token, HTTP_STRONGROOM_MAX_STALENESS="60")
    assert client.get("/api/v1/resources/", **header).status_code == 200
    both = bearer(alice_token, HTTP_STRONGROOM_MAX_STALENESS="60")
    assert client.get("/api/v1/resources/?max_staleness=5", **both).status_code == 503


@pytest.mark.django_db(databases="__all__")
def test_a_max_staleness_that_is_not_a_number_is_a_400(client, alice_token, stale_secondary):
    response = client.get("/api/v1/resources/?max_staleness=soon", **bearer(alice_token))
    assert response.status_code == 400 and "max_staleness" in response.json()["error"]
    assert float(response["Strongroom-Data-Age"]) >= 30


@pytest.mark.django_db(databases="__all__")
def test_a_secondary_that_never_heard_from_the_primary_has_no_age_to_promise(
        client, alice_token, settings):
    settings.NODE_ROLE = "secondary"
    response = client.get("/api/v1/resources/?max_staleness=3600", **bearer(alice_token))
    assert response.status_code == 503 and response.json()["data_age_seconds"] is None
    assert response["Strongroom-Data-Age"] == "unknown"


@pytest.mark.django_db(databases="__all__")
def test_a_secondary_without_the_write_answers_503_with_the_reason(client, alice_token,
                                                                    stale_secondary):
    gtid = "77-77-123456"  # a write this node has not applied (nor will)
    response = client.get("/api/v1/resources/", **bearer(alice_token, HTTP_STRONGROOM_GTID=gtid))
    assert response.status_code == 503
    body = response.json()
    assert body["gtid"] == gtid and "has not applied the write" in body["error"]
    malformed = client.get("/api/v1/resources/",
                           **bearer(alice_token, HTTP_STRONGROOM_GTID="0-1-2; SELECT 1"))
    assert malformed.status_code == 400


@pytest.mark.django_db(databases="__all__", transaction=True, serialized_rollback=True)
def test_a_write_on_the_primary_answers_with_its_own_commits_gtid(client, alice_token,
                                                                   root_account):
    response = client.post(f"/api/v1/accounts/{root_account.pk}/password/",
                           data=json.dumps({"password": "rotated-by-the-api"}),
                           content_type="application/json", **bearer(alice_token))
    assert response.status_code == 200
    # Nothing else writes to this test server: the binlog ends with the request's commit.
    domain = response["Strongroom-Gtid"].split("-")[0]
    assert response["Strongroom-Gtid"] in _binlog_position().split(",")
    assert domain and response["Strongroom-Data-Age"] == "0"


@pytest.mark.django_db(databases="__all__", transaction=True, serialized_rollback=True)
def test_reads_and_refused_writes_on_the_primary_ask_for_no_gtid(client, alice_token,
                                                                  root_account):
    url = f"/api/v1/accounts/{root_account.pk}/password/"
    with CaptureQueriesContext(connections["default"]) as queries:
        read = client.get(url, **bearer(alice_token))
    assert read.status_code == 200 and "Strongroom-Gtid" not in read
    assert not any("last_gtid" in query["sql"] for query in queries.captured_queries)
    refused = client.post(url, data="not json", content_type="application/json",
                          **bearer(alice_token))
    assert refused.status_code == 400 and "Strongroom-Gtid" not in refused
