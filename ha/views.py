"""The High Availability page (administrators) and the machine endpoints (no
session): /ha/status, /health, /health/live, /health/primary, /health/replica, /metrics.

Health codes are stable: 200 yes, 503 no (always with the JSON body), 400 for a bad
parameter, 403 outside STATUS_NETWORKS (only /ha/status and /metrics). A failed
/health/replica gives the database's error text only inside STATUS_NETWORKS."""
from __future__ import annotations

import ipaddress
import re
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from accounts.client_address import client_ip
from ha import selectors
from ha.monitoring.metrics import metrics_text
from ha.role import current_role, is_read_only_node


def in_status_networks(request) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in settings.STATUS_NETWORKS)


def status_network_required(view):
    """Open without a session to STATUS_NETWORKS (loopback by default), 403 elsewhere."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not in_status_networks(request):
            return JsonResponse({"error": f"{client_ip(request)} is not in STATUS_NETWORKS"},
                                status=403)
        return view(request, *args, **kwargs)
    return wrapper


@login_required
@permission_required("accounts.manage_users", raise_exception=True)
def ha_page(request):
    return render(request, "ha/status.html", {
        "summary": selectors.status_summary(), "history": selectors.transitions_recent(),
        "error_log": selectors.error_log_location()})


@require_safe
@never_cache
@status_network_required
def ha_status(request):
    summary = selectors.status_summary()
    summary["history"] = selectors.transition_dicts()
    summary["error_log"] = selectors.error_log_location()
    return JsonResponse(summary)


@require_safe
@never_cache
@status_network_required
def metrics(request):
    return HttpResponse(metrics_text(selectors.status_summary()),
                        content_type=CONTENT_TYPE_LATEST)


def _health(ok: bool, reason: str, summary: dict | None = None) -> JsonResponse:
    body = {"ok": ok, "reason": reason, "node": settings.NODE_NAME, "role": current_role()}
    if summary is not None:
        body.update({"ha_status": summary["ha"]["status"],
                     "replication_status": summary["replication"]["status"],
                     "lag_ms": summary["details"].get("lag_ms")})
    return JsonResponse(body, status=200 if ok else 503)


@require_safe
@never_cache
def health_live(request):
    # Liveness: the process answers, whatever its databases do. A probe that restarts
    # app servers must not restart them for a database outage; it is also the stack's
    # cheapest JSON answer, the floor `make bench` compares every workload with.
    return _health(True, "the process answers")


@require_safe
@never_cache
def health(request):
    answers = selectors.database_answers()
    down = [alias for alias, answered in answers.items() if not answered]
    if down:
        return _health(False, f"database not answering: {', '.join(down)}")
    return _health(True, "serving")


# What each role is, as the subject of a health reason.
_ROLE_NOUNS = {"standalone": "a standalone node", "primary": "the primary",
               "secondary": "a secondary", "fenced": "a fenced old primary"}
_READ_ONLY_WHY = {"secondary": "it is read-only",
                  "fenced": "it is read-only until it rejoins"}
# A lag bound above a day is no bound; the digits are ASCII only (str.isdigit() also
# takes "²" and other scripts' digits, which int() then refuses or reads).
MAX_LAG_MS_LIMIT = 86_400_000
_MAX_LAG_MS = re.compile(r"[0-9]{1,8}")
# Outside STATUS_NETWORKS a failed status says only this: MariaDB's error text names
# key values, hosts and addresses, which stay on /ha/status.
_DETAIL_ELSEWHERE = "the detail is on /ha/status, from the status networks"


def _role_noun(role: str) -> str:
    return _ROLE_NOUNS.get(role, f"a {role} node")


def _max_lag_ms(raw: str | None) -> int | None:
    """The parsed bound, None when absent; ValueError when it is not one."""
    if raw is None:
        return None
    if not _MAX_LAG_MS.fullmatch(raw) or int(raw) > MAX_LAG_MS_LIMIT:
        raise ValueError(f"max_lag_ms must be a whole number of milliseconds from 0 to "
                         f"{MAX_LAG_MS_LIMIT}")
    return int(raw)


@require_safe
@never_cache
def health_primary(request):
    role = current_role()
    if is_read_only_node():
        return _health(False, f"this node is {_role_noun(role)}: {_READ_ONLY_WHY[role]}")
    if not selectors.database_answers()["default"] or not selectors.database_writable():
        return _health(False, "this node's database is down or read-only")
    return _health(True, f"this node is {_role_noun(role)} and accepts writes")


@require_safe
@never_cache
def health_replica(request):
    try:
        max_lag = _max_lag_ms(request.GET.get("max_lag_ms"))
    except ValueError as exc:
        return JsonResponse({"ok": False, "reason": str(exc)}, status=400)
    role = current_role()
    if role != "secondary":
        return _health(False, f"this node is {_role_noun(role)}, not a secondary")
    summary = selectors.status_summary()
    for kind, title in (("ha", "High Availability"), ("replication", "Replication")):
        if summary[kind]["status"] != "alive":
            detail = summary[kind]["reason"] if in_status_networks(request) \
                else _DETAIL_ELSEWHERE
            return _health(False, f"{title} Status is {summary[kind]['status']}: {detail}",
                           summary)
    lag = summary["details"].get("lag_ms")
    if max_lag is not None and (lag is None or lag > max_lag):
        return _health(False, f"lag {lag} ms is over max_lag_ms={max_lag}", summary)
    return _health(True, "replicating, both statuses Alive", summary)
