"""The High Availability page (administrators) and the machine endpoints (no
session): /ha/status, /health, /health/live, /health/primary, /health/replica, /metrics.

Health codes are stable: 200 yes, 503 no (always with the JSON body), 400 for a bad
parameter, 403 outside STATUS_NETWORKS (only /ha/status and /metrics)."""
from __future__ import annotations

import ipaddress
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
from ha.metrics import metrics_text
from ha.role import current_role, is_read_only_node


def status_network_required(view):
    """Open without a session to STATUS_NETWORKS (loopback by default), 403 elsewhere."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        address = client_ip(request)
        try:
            allowed = any(ipaddress.ip_address(address) in network
                          for network in settings.STATUS_NETWORKS)
        except ValueError:
            allowed = False
        if not allowed:
            return JsonResponse({"error": f"{address} is not in STATUS_NETWORKS"}, status=403)
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


@require_safe
@never_cache
def health_primary(request):
    if is_read_only_node():
        return _health(False, f"this node is a read-only {current_role()}")
    if not selectors.database_answers()["default"] or not selectors.database_writable():
        return _health(False, "this node's database is down or read-only")
    return _health(True, f"writable {current_role()}")


@require_safe
@never_cache
def health_replica(request):
    raw = request.GET.get("max_lag_ms")
    if raw is not None and not raw.isdigit():
        return JsonResponse({"ok": False, "reason": "max_lag_ms must be a whole number"},
                            status=400)
    if current_role() != "secondary":
        return _health(False, f"this node is a {current_role()}, not a secondary")
    summary = selectors.status_summary()
    for kind, title in (("ha", "High Availability"), ("replication", "Replication")):
        if summary[kind]["status"] != "alive":
            return _health(False, f"{title} Status is {summary[kind]['status']}: "
                                  f"{summary[kind]['reason']}", summary)
    lag = summary["details"].get("lag_ms")
    if raw is not None and (lag is None or lag > int(raw)):
        return _health(False, f"lag {lag} ms is over max_lag_ms={raw}", summary)
    return _health(True, "replicating, both statuses Alive", summary)
