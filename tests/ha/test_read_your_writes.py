"""Issue 9 item 5 on the real pair (R-H14): the secondary's API answers say how old
its data is, `max_staleness` turns data older than the client accepts into a 503 with
the age, and a write's GTID from the primary makes the secondary answer only once it
has applied that write: read-your-writes across nodes."""
import json
import time
from datetime import datetime, timezone

import pytest

from tests.ha.support import WebClient
from tests.support import wait_until

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def api_token(pair) -> str:
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    _, body, _ = admin.post("/accounts/tokens/new/", {"name": "read-your-writes"})
    token = body.split('id="raw-token">')[1].split("<")[0]
    pair.wait_replicated()
    return token


def _api(node, token: str, method: str, path: str, *, headers: dict | None = None,
         body: dict | None = None):
    sent = {"Authorization": f"Bearer {token}", **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/json"
    status, text, received = WebClient(node.url).request(
        method, path, headers=sent, body=json.dumps(body).encode() if body else None)
    return status, json.loads(text), received


def _data_age(pair, token: str) -> float:
    _, _, headers = _api(pair.secondary, token, "GET", "/api/v1/resources/")
    return float(headers["Strongroom-Data-Age"])


def _applied_heartbeat(pair) -> datetime:
    """The primary's last heartbeat as the secondary has applied it."""
    beat = pair.secondary.sql("SELECT beat_at FROM strongroom.ha_heartbeat WHERE id = 1")[0][0]
    return beat.replace(tzinfo=timezone.utc)


def _fresh_again(pair, token: str) -> None:
    """Leave the shared pair as found: replicating, its data fresh."""
    wait_until(lambda: _api(pair.secondary, token, "GET",
                            "/api/v1/resources/?max_staleness=3")[0] == 200,
               timeout=40, what="the secondary's data to be fresh again")


def test_every_answer_of_the_secondary_says_how_old_its_data_is(pair, api_token):
    status, _, headers = _api(pair.secondary, api_token, "GET", "/api/v1/resources/")
    assert status == 200
    assert 0 <= float(headers["Strongroom-Data-Age"]) < 5
    assert headers["Strongroom-Data-As-Of"].startswith("20")
    status, _, headers = _api(pair.primary, api_token, "GET", "/api/v1/resources/")
    assert status == 200 and headers["Strongroom-Data-Age"] == "0"


def test_a_frozen_link_turns_a_strict_max_staleness_into_a_503_with_the_age(pair, api_token):
    pair.link.freeze()
    try:
        wait_until(lambda: _data_age(pair, api_token) > 3, what="the data to age past 3 s")
        status, body, headers = _api(pair.secondary, api_token, "GET",
                                     "/api/v1/resources/?max_staleness=2")
        assert status == 503 and body["stale"] is True and body["data_age_seconds"] > 3
        assert float(headers["Strongroom-Data-Age"]) > 3
        status, body, _ = _api(pair.secondary, api_token, "GET", "/api/v1/resources/",
                               headers={"Strongroom-Max-Staleness": "600"})
        assert status == 200 and "resources" in body  # a lenient client is still served
    finally:
        pair.link.resume()
    _fresh_again(pair, api_token)


def test_a_client_reads_its_own_write_on_the_secondary_by_sending_its_gtid(
        pair, api_token, shared_account):
    path = f"/api/v1/accounts/{shared_account['account_id']}/password/"
    pair.link.freeze()
    try:
        status, _, headers = _api(pair.primary, api_token, "POST", path,
                                  body={"password": "Written-on-A-read-on-B-7"})
        assert status == 200
        gtid = headers["Strongroom-Gtid"]
        started = time.monotonic()
        held_back = _applied_heartbeat(pair)
        sent = datetime.now(timezone.utc)
        status, body, _ = _api(pair.secondary, api_token, "GET", path,
                               headers={"Strongroom-Gtid": gtid})
        answered = datetime.now(timezone.utc)
        assert status == 503 and body["gtid"] == gtid and "password" not in body
        assert "has not applied the write" in body["error"]
        # The age is that of the last heartbeat the secondary applied, which the frozen
        # link holds back: as old as the test's clock says between asking and answer.
        as_of = datetime.fromisoformat(body["data_as_of"])
        assert held_back <= as_of <= _applied_heartbeat(pair)
        assert (sent - as_of).total_seconds() - 0.001 <= body["data_age_seconds"] \
            <= (answered - as_of).total_seconds() + 0.001
        assert time.monotonic() - started < 10  # a bounded wait, not a hung worker
    finally:
        pair.link.resume()
    # Once the write is applied, the same request answers, and with the write in it.
    status, body = wait_until(
        lambda: (r := _api(pair.secondary, api_token, "GET", path,
                           headers={"Strongroom-Gtid": gtid}))[0] == 200 and r[:2],
        timeout=40, what="the secondary to apply the write")
    assert body["password"] == "Written-on-A-read-on-B-7"
    _fresh_again(pair, api_token)
