"""Helpers for the tests on a real HA pair (tests/ha/conftest.py keeps only fixtures):
a node and the pair as a test sees them, and a person's browser session on a node."""
from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import MySQLdb

from localservices.installer import install
from localservices.linkproxy import LinkProxy
from localservices.node import APP_DB_USER, Profile
from localservices.process import stop_pid
from localservices.processes import PROCESS_NAMES, start_processes
from localservices.stack import loopback_pair, pair_down, prepare_secondary
from tests.support import run_manage, wait_until


@dataclass
class Node:
    profile: Profile

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.profile.web_port}"

    def sql(self, statement: str, args=None) -> list[tuple]:
        """Run SQL as the server's root over its unix socket (the test's own view)."""
        return self.profile.mariadb.query(statement, args)

    def app_connection(self) -> MySQLdb.connections.Connection:
        """The connection the node's web app uses: its own account, over TCP."""
        return MySQLdb.connect(host="127.0.0.1", port=self.profile.mariadb_port,
                               user=APP_DB_USER,
                               password=(self.profile.secrets_dir / "db_password").read_text(),
                               autocommit=True)

    def admin_password(self) -> str:
        return (self.profile.secrets_dir / "admin_password").read_text().strip()


@dataclass
class Pair:
    primary: Node
    secondary: Node
    link: LinkProxy
    setup_output: str

    def pending_outbox(self) -> int:
        """Audit rows on the secondary not yet delivered to the primary."""
        return self.secondary.sql("SELECT COUNT(*) FROM strongroom_local.audit_auditoutbox "
                                  "WHERE delivered_at IS NULL")[0][0]

    def last_pending_reveal(self) -> str:
        """The UUID of the secondary's newest reveal still waiting in its outbox."""
        return self.secondary.sql(
            "SELECT uuid FROM strongroom_local.audit_auditoutbox WHERE action = "
            "'password_reveal' AND delivered_at IS NULL ORDER BY id DESC LIMIT 1")[0][0]

    def ha_status(self) -> subprocess.CompletedProcess:
        """`manage.py ha_status` on the secondary, as an operator runs it."""
        return run_manage("ha_status", node=self.secondary.profile)

    def wait_replicated(self, timeout: float = 20) -> None:
        """MASTER_GTID_WAIT for everything the primary has written so far."""
        position = self.primary.sql("SELECT @@gtid_binlog_pos")[0][0]
        result = self.secondary.sql("SELECT MASTER_GTID_WAIT(%s, %s)", (position, timeout))
        assert result[0][0] == 0, f"the secondary did not reach {position} in {timeout}s"


@contextmanager
def running_pair(base: Path, *, server_id: int, **options) -> Iterator[Pair]:
    """A throw-away pair built with the operator's commands (install, pack, join), all
    its processes running, the secondary reaching the primary's database through a
    LinkProxy; torn down afterwards. `options` go to loopback_pair."""
    primary, secondary = loopback_pair(base, server_id=server_id, **options)
    install(primary)
    link = LinkProxy(primary.mariadb_port)
    try:
        output = prepare_secondary(secondary, primary, primary_port=link.port)
        start_processes(primary)
        start_processes(secondary)
        yield Pair(Node(primary), Node(secondary), link, output)
    finally:
        link.close()
        pair_down(primary, secondary)


def kill_node(node: Node) -> None:
    """A crash: kill -9 of the node's database and of its web and Celery processes."""
    node.profile.mariadb.stop(sig=signal.SIGKILL)
    for name in PROCESS_NAMES:
        pid_file = node.profile.run_dir / f"{name}.pid"
        stop_pid(int(pid_file.read_text()), sig=signal.SIGKILL)
        pid_file.unlink()


class WebClient:
    """A person with a browser session against one node (cookies and CSRF)."""

    def __init__(self, base_url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        """`ssl_context` verifies an https node (behind its TLS proxy)."""
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect(),
            urllib.request.HTTPSHandler(context=ssl_context))

    def request(self, method: str, path: str, data: dict | None = None,
                headers: dict | None = None, body: bytes | None = None):
        if data is not None:
            token = next((c.value for c in self.cookies if c.name == "csrftoken"), "")
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        # A browser's Referer: over https, Django's CSRF check requires it.
        request = urllib.request.Request(self.base_url + path, data=body, method=method,
                                         headers={"Referer": self.base_url + path,
                                                  **(headers or {})})
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None):
        return self.request("POST", path, data=data or {})

    def create_account(self, *, resource: str, login_name: str, password: str,
                       resource_type: str = "server") -> tuple[str, str]:
        """Create a resource and one account on it; (resource id, account id)."""
        _, _, headers = self.post("/resources/new/", {"name": resource,
                                                      "resource_type": resource_type})
        resource_id = created_id(headers, "resources")
        _, _, headers = self.post(f"/resources/{resource_id}/accounts/new/",
                                  {"login_name": login_name, "password": password})
        return resource_id, created_id(headers, "accounts")

    def login(self, username: str, password: str) -> None:
        self.get("/accounts/login/")
        status, body, headers = self.post("/accounts/login/",
                                          {"username": username, "password": password})
        assert status == 302, f"login of {username} failed: {status} {body[:300]}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def created_id(headers: dict, kind: str) -> str:
    match = re.search(rf"/{kind}/([0-9a-f-]+)/", headers.get("Location", ""))
    assert match, f"no {kind} id in redirect {headers.get('Location')!r}"
    return match.group(1)


def key_material(profile: Profile) -> bytes:
    return Path(profile.master_key_file).read_text().strip().split(":", 1)[1].encode()


# --- The statuses as a monitor reads them (/ha/status) ------------------------------

def fetch(node, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(node.url + path, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def status_of(node) -> dict:
    code, body = fetch(node, "/ha/status")
    return json.loads(body) if code == 200 else {}


def wait_for_statuses(node, ha: str, replication: str | None = None, *,
                      timeout: float = 30) -> dict:
    def reached():
        status = status_of(node)
        return status and status["ha"]["status"] == ha and (
            replication is None or status["replication"]["status"] == replication) and status
    return wait_until(reached, timeout=timeout,
                      what=f"{node.profile.name}: HA {ha}, replication {replication}")


def wait_healthy(pair) -> None:
    for node in (pair.secondary, pair.primary):
        wait_for_statuses(node, "alive", "alive", timeout=60)


@contextmanager
def alert_settings(pair, settings: dict):
    """The administrator's alert choices, made on the primary, for the duration; then
    every channel off again, so that later tests' transitions alert nobody (and leave
    no audited delivery in their trail)."""
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    status, body, _ = admin.post("/alerts/", settings)
    assert status == 302, body[:500]
    pair.wait_replicated()
    try:
        yield
    finally:
        status, body, _ = admin.post("/alerts/", {name: value for name, value in
                                                  settings.items() if "__" not in name})
        assert status == 302, body[:500]
        pair.wait_replicated()


def conflicting_row_write(pair) -> str:
    """Someone with root on the secondary writes a team the primary then creates too:
    replication stops on a duplicate key. Returns the team's name."""
    name = f"conflict-{uuid.uuid4().hex[:6]}"
    pair.secondary.profile.mariadb.run_sql(
        f"SET sql_log_bin = 0; INSERT INTO strongroom.accounts_team (name) VALUES ('{name}');")
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    assert admin.post("/accounts/teams/new/", {"name": name})[0] == 302
    return name


@contextmanager
def conflicting_row(pair):
    """A conflicting row (conflicting_row_write); on exit, the operator's repair by
    hand: drop the stray row and apply the primary's again."""
    name = conflicting_row_write(pair)
    try:
        yield
    finally:
        pair.secondary.profile.mariadb.run_sql(
            f"SET sql_log_bin = 0; DELETE FROM strongroom.accounts_team WHERE name = '{name}';"
            f" START SLAVE SQL_THREAD;")
