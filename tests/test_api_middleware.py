"""Issue 12: the WSGI application sends /api/ through the API's own middleware chain
(settings.API_MIDDLEWARE): a bearer-token request does no session, CSRF, messages,
two-factor or lockout work, and keeps the layers it needs (security headers, version
skew, staleness, the read-only node, an unreachable database)."""
import io
import sys

import pytest
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CsrfViewMiddleware

from accounts.services import api_token_create
from strongroom.handlers import PathDispatch

pytestmark = pytest.mark.django_db(databases="__all__")
WEB_ONLY = ("SessionMiddleware", "CsrfViewMiddleware", "AuthenticationMiddleware",
            "OTPMiddleware", "RequireVerifiedOTPMiddleware", "MessageMiddleware", "AxesMiddleware")


@pytest.fixture
def application():
    """The WSGI application as gunicorn calls it. As in Django's test client, requests do
    not close the connections, which hold the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield PathDispatch()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def call(application, path: str, **headers) -> tuple[int, dict, bytes]:
    """One request through a WSGI application, as gunicorn makes it."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
               **{f"HTTP_{name.upper()}": value for name, value in headers.items()}}
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def never(*args, **kwargs):
    raise AssertionError("a web-only middleware ran for an API request")


def test_the_api_chain_keeps_the_web_chains_layers_it_needs_in_the_same_order():
    kept = [name for name in settings.MIDDLEWARE if name in settings.API_MIDDLEWARE]
    assert kept == settings.API_MIDDLEWARE
    assert not [name for name in settings.API_MIDDLEWARE if name.rsplit(".", 1)[1] in WEB_ONLY]


def test_an_api_request_runs_no_session_csrf_or_messages_work(monkeypatch, application, alice,
                                                              root_account):
    for layer, method in ((SessionMiddleware, "process_request"),
                          (CsrfViewMiddleware, "process_view"),
                          (MessageMiddleware, "process_request")):
        monkeypatch.setattr(layer, method, never)
    _, raw = api_token_create(user=alice, name="cli")
    status, headers, body = call(application, f"/api/v1/accounts/{root_account.pk}/password/",
                                 authorization=f"Bearer {raw}")
    assert status == 200 and b"s3cr3t-Root-pw!" in body
    assert headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert "Set-Cookie" not in headers
    with pytest.raises(AssertionError, match="web-only"):
        call(application, "/accounts/login/")  # people's pages keep the whole chain


def test_a_session_cookie_does_not_open_the_api(client, alice):
    client.force_login(alice)
    response = client.get("/api/v1/resources/")
    assert response.status_code == 401
    assert response.json() == {"error": "Send an API token: Authorization: Bearer <token>."}
