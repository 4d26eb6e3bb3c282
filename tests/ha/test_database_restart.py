"""Issue 12: no ping per request, yet a restart of the node's MariaDB costs no failed
request once it is back. A read that meets a connection the server dropped reconnects
and runs again (strongroom.mysql); while the server is down, the answer is a clear 503.
A standalone node (its own MariaDB, Redis and gunicorn) so no other test sees the
restart."""
from __future__ import annotations

import http.client
import threading
import time

import pytest

from localservices.installer import install, stop
from localservices.processes import manage, start_processes
from localservices.stack import loopback_pair
from tests.ha.support import WebClient
from tests.support import wait_until


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    primary, _ = loopback_pair(tmp_path_factory.mktemp("restart"), server_id=71)
    install(primary)
    try:
        start_processes(primary, ("web",))
        admin = WebClient(f"http://127.0.0.1:{primary.web_port}")
        admin.login("admin", (primary.secrets_dir / "admin_password").read_text().strip())
        _, account_id = admin.create_account(resource="db-restart", login_name="root",
                                             password="Restart-pw-1!")
        token = manage(primary, "api_token_create", "--user", "admin", "--name", "restart")
        yield primary, token.strip().splitlines()[-1], account_id
    finally:
        stop(primary)


class Reader:
    """One keep-alive API client retrieving the password; remembers each answer's
    status with the time its request was sent."""

    def __init__(self, profile, token: str, account_id: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", profile.web_port, timeout=20)
        self.path = f"/api/v1/accounts/{account_id}/password/?reason=restart-test"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.answers: list[tuple[float, int]] = []

    def read(self) -> int:
        sent = time.monotonic()
        self.connection.request("GET", self.path, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        self.answers.append((sent, response.status))
        return response.status


def _restart(profile) -> float:
    """Stop and start the node's MariaDB; when it answers again."""
    profile.mariadb.stop()
    profile.mariadb.start()
    return time.monotonic()


def test_idle_workers_reconnect_after_a_restart_without_a_failed_request(node):
    profile, token, account_id = node
    reader = Reader(profile, token, account_id)
    for _ in range(20):  # every worker holds a database connection now
        assert reader.read() == 200
    _restart(profile)
    answers = [reader.read() for _ in range(20)]
    assert answers == [200] * 20


def test_a_restart_under_steady_reads_fails_no_request_once_the_server_is_back(node):
    profile, token, account_id = node
    readers = [Reader(profile, token, account_id) for _ in range(4)]
    stop_reading = threading.Event()
    failures: list[BaseException] = []

    def keep_reading(reader: Reader) -> None:
        try:
            while not stop_reading.is_set():
                reader.read()
        except Exception as error:  # the test asserts none happened
            failures.append(error)
            stop_reading.set()

    threads = [threading.Thread(target=keep_reading, args=(r,)) for r in readers]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: all(len(r.answers) >= 5 for r in readers), what="steady reads")
        back = _restart(profile)
        wait_until(lambda: stop_reading.is_set() or sum(
            sent > back for r in readers for sent, _ in r.answers) >= 40,
            timeout=60, what="reads after the restart")
    finally:
        stop_reading.set()
        for thread in threads:
            thread.join()
    assert not failures
    # While the server was down a request may be refused with a 503, never a 500.
    assert {status for r in readers for _, status in r.answers} <= {200, 503}
    after = [status for r in readers for sent, status in r.answers if sent > back]
    assert after and set(after) == {200}
