"""Reads for the High Availability page and the machine endpoints: the statuses the
check task stored, never computed in a web request (no request waits on a database
link that may be down)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, router
from django.utils import timezone

from ha.models import NodeStatus, Transition
from ha.monitoring.observe import UNKNOWN
from ha.role import current_role


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def status_summary() -> dict:
    """Both statuses with their details. When the checks have stopped (no Celery
    worker or beat, or this node's database is down) both are Unknown: never a
    stale Alive."""
    now = timezone.now()
    status = NodeStatus.objects.filter(id=1).first()
    checked_at = status.checked_at if status else None
    since_check = (now - checked_at).total_seconds() if checked_at else None
    running = since_check is not None and since_check <= settings.HA_CHECK_STALE_SECONDS
    stale_reason = ("no status check has run on this node yet" if since_check is None else
                    f"no status check for {since_check:.0f} s: are this node's Celery "
                    f"worker and beat running?")

    def one(kind: str) -> dict:
        if not running:
            return {"status": UNKNOWN, "since": None, "reason": stale_reason}
        return {"status": getattr(status, f"{kind}_status"),
                "since": _iso(getattr(status, f"{kind}_since")),
                "reason": getattr(status, f"{kind}_reason")}

    return {"node": settings.NODE_NAME, "role": current_role(),
            "checked_at": _iso(checked_at),
            "seconds_since_check": round(since_check, 3) if since_check is not None else None,
            "checks_running": running, "ha": one("ha"), "replication": one("replication"),
            "semisync": {**one("semisync"), "expected": settings.HA_ZERO_DATA_LOSS},
            "details": status.details if status else {}}


def transitions_recent(*, limit: int = 50) -> list[Transition]:
    return list(Transition.objects.order_by("-confirmed_at")[:limit])


def transition_dicts(*, limit: int = 20) -> list[dict]:
    return [{"id": str(t.uuid), "status": t.kind, "from": t.old, "to": t.new,
             "since": _iso(t.since), "confirmed_at": _iso(t.confirmed_at), "node": t.node,
             "peer": t.peer, "reason": t.reason} for t in transitions_recent(limit=limit)]


def error_log_location() -> str:
    """Where this node's MariaDB writes its error log (a relative name is in its
    data directory)."""
    with connections[router.db_for_read(NodeStatus)].cursor() as cursor:
        cursor.execute("SELECT @@log_error, @@datadir")
        log_error, data_dir = cursor.fetchone()
    if not log_error:
        return "the server's standard error (journalctl -u mariadb on a packaged server)"
    return str(Path(data_dir) / log_error) if not Path(log_error).is_absolute() else log_error


def database_answers() -> dict[str, bool]:
    """Each database alias answers a trivial query."""
    answers = {}
    for alias in ("default", "local"):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                answers[alias] = cursor.fetchone()[0] == 1
        except DatabaseError:
            answers[alias] = False
    return answers


def database_writable() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT @@global.read_only")
        return cursor.fetchone()[0] == 0
