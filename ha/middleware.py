from django.conf import settings
from django.db import DatabaseError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from accounts.api_auth import json_error
from accounts.services import api_token_user
from ha.monitoring import staleness
from ha.replication.rebuilding import MESSAGE as REJOINING, is_rebuilding
from ha.router import ReadOnlyNode, is_read_only_node
from ha.monitoring.versions import forget, node_skew
from strongroom.handlers import is_api_path

# What MariaDB says when the read-only layer in the database refuses a write: no
# write grant (1142), read_only server (1290). Reaching them means the app layer was
# misconfigured; the user still gets the read-only answer, not a 500.
DATABASE_READ_ONLY_ERRORS = {1142, 1290}
# Unknown column (1054), missing table (1146): what a schema of another release gives.
SCHEMA_MISMATCH_ERRORS = {1054, 1146}
# The database cannot be reached: connection refused (2002, 2003), gone away (2006),
# lost during the query (2013).
DATABASE_UNREACHABLE_ERRORS = {2002, 2003, 2006, 2013}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Machine endpoints keep answering on a skewed node: monitoring must see it.
VERSION_SKEW_EXEMPT = ("/static/", "/health", "/metrics", "/ha/status")


class ReadOnlyNodeMiddleware:
    """A write refused on a read-only node becomes a clear 503 (a page for people,
    JSON for the API), never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DatabaseError) and exception.args \
                and exception.args[0] in DATABASE_READ_ONLY_ERRORS:
            exception = ReadOnlyNode("This node's database refused the change: it is "
                                     "read-only: changes can only be made on the primary.")
        if not isinstance(exception, ReadOnlyNode):
            return None
        if is_api_path(request.path):
            return JsonResponse({"error": str(exception), "read_only": True}, status=503)
        try:
            return render(request, "ha/read_only.html", {"message": str(exception)},
                          status=503)
        except DatabaseError:
            # The page's context reads the database, which a role change may be
            # narrowing this very moment: the answer is still "read-only", never a 500.
            return HttpResponse(str(exception), status=503, content_type="text/plain")


class DatabaseUnavailableMiddleware:
    """The node's database is down or restarting: a clear 503 to retry shortly, not a
    500. (A read on a connection the server dropped earlier reconnects by itself:
    strongroom.mysql.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (isinstance(exception, OperationalError) and exception.args
                and exception.args[0] in DATABASE_UNREACHABLE_ERRORS):
            return None
        message = "This node's database cannot be reached just now; retry in a moment."
        if is_api_path(request.path):
            response = json_error(503, message)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain")
        return _retry_soon(response)


class VersionSkewMiddleware:
    """The replicated schema is not what this code expects. Code and schema of different
    releases: a 503 that names the migrations that differ and what to do, before any
    view can fail on a missing column. The check is remembered for VERSION_CHECK_SECONDS
    (ha.monitoring.versions), so it costs no query per request. The schema being rebuilt from the
    primary's snapshot (ha.replication.rebuilding): a 503 "rejoining", whatever part of the request
    (a middleware reading the session's user, a view) meets a missing table."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(VERSION_SKEW_EXEMPT):
            if is_rebuilding():
                return _rejoining_response(request)
            skews = node_skew()
            if skews:
                return _version_skew_response(request, skews)
        response = self.get_response(request)
        # A request under way when the rebuild began: its error is the rebuild's.
        if response.status_code == 500 and is_rebuilding(fresh=True):
            return _rejoining_response(request)
        return response

    def process_exception(self, request, exception):
        # The schema changed between two checks: look again now, so the answer is the
        # version-skew page rather than a 500.
        if not (isinstance(exception, DatabaseError) and exception.args
                and exception.args[0] in SCHEMA_MISMATCH_ERRORS):
            return None
        forget()
        skews = node_skew()
        return _version_skew_response(request, skews) if skews else None


def _rejoining_response(request) -> HttpResponse:
    if is_api_path(request.path):
        response = json_error(503, REJOINING, rejoining=True)
    else:
        # No request context: the context processors read tables being reloaded.
        response = HttpResponse(render_to_string("ha/rejoining.html",
                                                 {"message": REJOINING}), status=503)
    response["Retry-After"] = "5"  # a rebuild takes seconds
    return response


def _version_skew_response(request, skews) -> HttpResponse:
    message = ("This node's code and its database schema are from different releases: "
               + "; ".join(skew.describe() for skew in skews) + ".")
    if is_api_path(request.path):
        response = json_error(503, message, version_skew=[skew.as_json() for skew in skews])
    else:
        # No request context: the usual context processors read tables that may have
        # changed shape, and this page must render whatever the schema is.
        html = render_to_string("ha/version_skew.html", {"message": message, "skews": skews})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "60"
    return response


class StalenessMiddleware:
    """The API's staleness contract (ha.monitoring.staleness): age headers and max_staleness on a
    secondary, the write's GTID from the primary, and the wait for it on a secondary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path):
            return self.get_response(request)
        try:
            limit = staleness.requested_max_staleness(request)
            gtid = staleness.requested_gtid(request)
        except staleness.StalenessRequestError as error:
            response = json_error(400, str(error))
            return _stamped(response, staleness.data_age()) if is_read_only_node() else response
        if is_read_only_node():
            return self._on_secondary(request, limit=limit, gtid=gtid)
        return self._on_primary(request)

    def _on_primary(self, request):
        # The primary's data is current and holds its own writes: max_staleness and a
        # GTID to wait for are met as sent, without a query.
        if request.method in SAFE_METHODS:
            response = self.get_response(request)
        else:
            watch = staleness.WriteWatch()
            with connections["default"].execute_wrapper(watch):
                response = self.get_response(request)
            if watch.wrote and response.status_code < 400:
                gtid = staleness.last_commit_gtid()
                if gtid:
                    response[staleness.GTID_HEADER] = gtid
        response[staleness.AGE_HEADER] = "0"
        return response

    def _on_secondary(self, request, *, limit: float | None, gtid: str | None):
        # Only a valid token may hold a worker while replication catches up.
        if gtid and _has_valid_token(request) \
                and not staleness.wait_for_gtid(gtid=gtid):
            age = staleness.data_age()
            return _stamped(_retry_soon(json_error(
                503, f"This node has not applied the write {gtid} yet (waited "
                     f"{settings.GTID_WAIT_SECONDS:g} s): replication is behind or "
                     f"the link to the primary is down. Retry, or ask the primary.",
                gtid=gtid, waited_seconds=settings.GTID_WAIT_SECONDS,
                **age.as_json())), age)
        age = staleness.data_age()
        seconds = age.seconds
        if limit is not None and (seconds is None or seconds > limit):
            return _stamped(_retry_soon(json_error(
                503, "This node's data is older than max_staleness allows"
                     + (f" ({seconds:.1f} s > {limit:g} s)." if seconds is not None
                        else ": it has never heard from the primary."),
                stale=True, max_staleness=limit, **age.as_json())), age)
        return _stamped(self.get_response(request), age)


def _has_valid_token(request) -> bool:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(raw.strip()) \
        and api_token_user(raw.strip()) is not None


def _stamped(response: HttpResponse, age: staleness.DataAge) -> HttpResponse:
    for name, value in age.headers().items():
        response[name] = value
    return response


def _retry_soon(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = "1"
    return response
