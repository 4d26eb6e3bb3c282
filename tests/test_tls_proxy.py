"""The shipped nginx site (deploy/nginx/) in front of a node's real gunicorn, both on
loopback: HTTPS with a verified certificate, and the address the app audits and locks
out is the client's — the one nginx saw, never the proxy's nor one the client claims.
The clients connect from their own loopback addresses (Linux routes all of 127/8 to lo).
"""
from __future__ import annotations

import dataclasses
import http.client
import os
import pwd
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from axes.models import AccessAttempt

from audit.models import AuditEvent
from ha.replication.tls import issue, make_ca
from localservices.nginx import NginxServer, render_site
from localservices.node import PROFILES, ROOT
from localservices.process import free_port, pid_alive, start_detached, stop_pid_file, wait_for
from localservices.processes import process_command
from tests.support import PASSWORD, process_environment

# transaction=True: the web process sees only committed rows (bob, his attempts);
# serialized_rollback puts back the role groups the flush after each test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True,
                                   databases="__all__")

SERVER_NAME = "vault.strongroom.test"
CLIENT = "127.0.0.23"
OTHER_CLIENT = "127.0.0.24"


@dataclass(frozen=True)
class Proxy:
    https_port: int
    http_port: int
    ca_file: Path
    master_pid: int

    @property
    def origin(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"


@pytest.fixture(scope="module")
def proxy(django_db_setup, master_key_path, tmp_path_factory) -> Iterator[Proxy]:
    """A node's web process (the command `make run` starts) on the test databases, set
    up as behind the proxy, and nginx with the shipped site in front of it."""
    base = tmp_path_factory.mktemp("tls-proxy")
    ca = make_ca("Strongroom test CA")
    server = issue(ca, common_name=SERVER_NAME, names=[], server=True)
    for name, data in (("ca.pem", ca.cert_pem), ("server.pem", server.cert_pem),
                       ("server.key", server.key_pem)):
        (base / name).write_bytes(data)
    https_port, http_port = free_port(), free_port()
    web = dataclasses.replace(PROFILES["test"], web_port=free_port())
    nginx = NginxServer(base_dir=base / "nginx", server_name=SERVER_NAME,
                        certificate=base / "server.pem", certificate_key=base / "server.key",
                        upstream=f"127.0.0.1:{web.web_port}", https_port=https_port,
                        http_port=http_port)
    origin = f"https://{SERVER_NAME}:{https_port}"
    environment = process_environment(test_databases=True, env={
        "STRONGROOM_MASTER_KEY_FILE": str(master_key_path),
        "HTTPS": "true", "BEHIND_TLS_PROXY": "true", "AXES_PROXY_COUNT": "1",
        "ALLOWED_HOSTS": SERVER_NAME,
        # $host carries no port: off 443 the browser's origin must be listed.
        "CSRF_TRUSTED_ORIGINS": origin})
    web_pid_file = base / "web.pid"
    web_pid = start_detached(process_command(web, "web"), pid_file=web_pid_file,
                             log=open(base / "web.log", "ab"), env=environment, cwd=ROOT)
    try:
        nginx.ensure_started()
        proxy = Proxy(https_port=https_port, http_port=http_port, ca_file=base / "ca.pem",
                      master_pid=int(nginx.pid_file.read_text()))
        wait_for(lambda: _answers(proxy), what="the web process through nginx", timeout=60,
                 log_file=base / "web.log", alive=lambda: pid_alive(web_pid))
        yield proxy
    finally:
        nginx.stop()
        stop_pid_file(web_pid_file)


class _HttpsToLoopback(http.client.HTTPSConnection):
    """HTTPS to SERVER_NAME (the certificate is checked against it) at 127.0.0.1, so
    no resolver is needed, from the client's own source address."""

    def __init__(self, port: int, *, source: str, tls: ssl.SSLContext) -> None:
        super().__init__(SERVER_NAME, port, context=tls, source_address=(source, 0),
                         timeout=30)
        self.tls = tls

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout,
                                       self.source_address)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    tls_version: str | None


class Visitor:
    """What a browser at `source` does with the vault: HTTPS only, the server's
    certificate checked against the CA, cookies kept between requests."""

    def __init__(self, proxy: Proxy, *, source: str = CLIENT,
                 tls: ssl.SSLContext | None = None) -> None:
        self.proxy, self.source = proxy, source
        self.tls = tls or ssl.create_default_context(cafile=proxy.ca_file)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Page:
        connection = _HttpsToLoopback(self.proxy.https_port, source=self.source,
                                      tls=self.tls)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            tls_version = connection.sock.version()
            response = connection.getresponse()
            response.read()
            page = Page(response.status, response.headers, tls_version)
        finally:
            connection.close()
        for header in page.headers.get_all("Set-Cookie") or ():
            self.cookies.update({name: morsel.value
                                 for name, morsel in SimpleCookie(header).items()})
        return page

    def log_in(self, username: str, password: str, **headers: str) -> int:
        self.request("GET", "/accounts/login/")
        return self.request(
            "POST", "/accounts/login/",
            form={"username": username, "password": password,
                  "csrfmiddlewaretoken": self.cookies["csrftoken"]},
            # Django checks the Referer of a POST over HTTPS, as a browser sends it.
            headers={"Referer": f"{self.proxy.origin}/accounts/login/", **headers}).status


def _answers(proxy: Proxy) -> bool:
    try:
        return Visitor(proxy).request("GET", "/accounts/login/").status == 200
    except OSError:  # nginx or gunicorn not listening yet
        return False


def plain_http(port: int, path: str) -> tuple[http.client.HTTPResponse, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(CLIENT, 0))
    try:
        connection.request("GET", path, headers={"Host": SERVER_NAME})
        response = connection.getresponse()
        return response, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_the_login_page_comes_over_verified_https_with_hsts_and_secure_cookies(proxy):
    page = Visitor(proxy).request("GET", "/accounts/login/")
    assert page.status == 200
    assert page.tls_version in {"TLSv1.2", "TLSv1.3"}
    assert "max-age=" in page.headers["Strict-Transport-Security"]  # the app's, via nginx
    csrf_cookie = next(header for header in page.headers.get_all("Set-Cookie")
                       if header.startswith("csrftoken="))
    assert "; Secure" in csrf_cookie


def test_pages_are_never_compressed_over_tls(proxy):
    # A revealed password in a compressed page leaks to BREACH; Debian turns gzip on.
    page = Visitor(proxy).request("GET", "/accounts/login/",
                                  headers={"Accept-Encoding": "gzip"})
    assert (page.status, page.headers["Content-Encoding"]) == (200, None)


def test_a_tls_1_2_client_is_served_too(proxy):
    tls = ssl.create_default_context(cafile=proxy.ca_file)
    tls.maximum_version = ssl.TLSVersion.TLSv1_2
    page = Visitor(proxy, tls=tls).request("GET", "/accounts/login/")
    assert (page.status, page.tls_version) == (200, "TLSv1.2")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_a_tls_1_1_client_is_refused_by_the_site(proxy):
    tls = ssl.create_default_context(cafile=proxy.ca_file)
    # OpenSSL's default security level would not even offer TLS 1.1: lower it, so the
    # refusal is the site's ssl_protocols (a "protocol version" alert from nginx).
    tls.set_ciphers("DEFAULT:@SECLEVEL=0")
    tls.minimum_version = tls.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        Visitor(proxy, tls=tls).request("GET", "/accounts/login/")
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"


def test_a_client_trusting_another_ca_refuses_the_certificate(proxy, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(make_ca("Someone else's CA").cert_pem)
    tls = ssl.create_default_context(cafile=other_ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        Visitor(proxy, tls=tls).request("GET", "/accounts/login/")


def test_plain_http_to_the_tls_port_never_reaches_the_app(proxy):
    response, text = plain_http(proxy.https_port, "/accounts/login/")
    assert response.status == 400
    assert "The plain HTTP request was sent to HTTPS port" in text  # nginx's own answer


def test_plain_http_is_redirected_to_the_https_site(proxy):
    response, _ = plain_http(proxy.http_port, "/accounts/login/?next=/vault/")
    assert response.status == 301
    assert response.headers["Location"] == f"{proxy.origin}/accounts/login/?next=/vault/"


def _children(pid: int) -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
            and _parent_of(entry) == pid]


def _parent_of(process: Path) -> int | None:
    try:
        return int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):  # gone meanwhile
        return None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root's nginx changes its workers' user")
def test_started_as_root_the_proxys_workers_run_as_www_data(proxy):
    # Debian's own nginx does the same: only the master, which binds the ports and
    # reads the private key, stays root.
    workers = _children(proxy.master_pid)
    assert workers
    assert {pwd.getpwuid(Path(f"/proc/{pid}").stat().st_uid).pw_name
            for pid in workers} == {"www-data"}


def test_a_request_body_too_big_for_memory_reaches_the_app(proxy):
    """nginx keeps a body past its 16 KB buffer in a temporary file, which the
    workers (www-data as root) must be able to write: otherwise a 500 from nginx."""
    visitor = Visitor(proxy)
    visitor.request("GET", "/accounts/login/")
    page = visitor.request("POST", "/accounts/login/", form={
        "username": "", "padding": "x" * 200_000,
        "csrfmiddlewaretoken": visitor.cookies["csrftoken"]},
        headers={"Referer": f"{proxy.origin}/accounts/login/"})
    assert page.status == 200  # the form again, "this field is required": the app saw it


def test_the_audit_row_names_the_client_not_the_proxy(proxy, bob):
    assert Visitor(proxy, source=CLIENT).log_in("bob", PASSWORD) == 302
    assert AuditEvent.objects.get(action="login").source_ip == CLIENT


def test_a_forwarded_for_header_the_client_sends_is_not_believed(proxy, bob):
    visitor = Visitor(proxy, source=CLIENT)
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    assert visitor.log_in("bob", "wrong", **spoofed) == 200
    assert AuditEvent.objects.get(action="login_failed").source_ip == CLIENT
    assert AccessAttempt.objects.using("local").get().ip_address == CLIENT  # the lockout's key
    assert visitor.log_in("bob", PASSWORD, **spoofed) == 302
    assert AuditEvent.objects.get(action="login").source_ip == CLIENT


def test_a_lockout_from_one_address_leaves_the_same_user_free_from_another(
        proxy, bob, settings):
    visitor = Visitor(proxy, source=CLIENT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        visitor.log_in("bob", "wrong")
    assert visitor.log_in("bob", PASSWORD) == 429
    assert AuditEvent.objects.get(action="lockout").source_ip == CLIENT
    assert Visitor(proxy, source=OTHER_CLIENT).log_in("bob", PASSWORD) == 302


def _site(**overrides) -> str:
    values = {"server_name": "vault1.example.com", "listen_address": "0.0.0.0",
              "certificate": Path("/etc/strongroom/tls/vault1.pem"),
              "certificate_key": Path("/etc/strongroom/tls/vault1.key"),
              "upstream": "127.0.0.1:8000"}
    return render_site(**{**values, **overrides})


def test_the_site_for_a_host_listens_on_443_and_redirects_80_to_its_name():
    listens = [line.strip() for line in _site().splitlines()
               if line.strip().startswith(("listen", "return"))]
    assert listens == ["listen 0.0.0.0:443 ssl;", "listen 0.0.0.0:80;",
                       "return 301 https://vault1.example.com$request_uri;"]


def test_without_an_http_port_the_site_has_no_plain_http_server():
    assert [line.strip() for line in _site(http_port=None).splitlines()
            if line.strip().startswith("listen")] == ["listen 0.0.0.0:443 ssl;"]


@pytest.mark.parametrize("overrides", [
    {"server_name": "vault1.example.com; include /etc/shadow"},
    {"upstream": "127.0.0.1:8000 backup"},
    {"certificate": Path("tls/vault1.pem")},
    {"https_port": 0},
])
def test_a_value_that_would_change_the_site_is_refused_by_name(overrides):
    name = next(iter(overrides))
    with pytest.raises(ValueError, match=f"nginx site: {name}="):
        _site(**overrides)
