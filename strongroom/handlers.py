"""Two middleware chains (issue 12). People's pages get settings.MIDDLEWARE; the
bearer-token API (/api/) gets settings.API_MIDDLEWARE: it reads no cookie, so the
session, CSRF, login, two-factor, messages and lockout layers would only cost time on
every request."""
from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class ApiMiddlewareMixin:
    """For a Django handler: build the chain from API_MIDDLEWARE in place of MIDDLEWARE."""

    def load_middleware(self, is_async=False):
        # Django's handler reads settings.MIDDLEWARE; it is swapped only while the chain
        # is built, which happens once, before this handler serves a request.
        web_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = web_middleware


class ApiWSGIHandler(ApiMiddlewareMixin, WSGIHandler):
    pass


class PathDispatch:
    """The WSGI application: /api/ to the API's handler, everything else to the web's."""

    def __init__(self) -> None:
        self.web = WSGIHandler()
        self.api = ApiWSGIHandler()

    def __call__(self, environ, start_response):
        handler = self.api if is_api_path(environ.get("PATH_INFO", "")) else self.web
        return handler(environ, start_response)
