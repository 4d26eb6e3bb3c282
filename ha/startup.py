"""HA's own start-up check, run by each web and worker process after the vault's
(strongroom/wsgi.py, strongroom/celery.py): an old primary that comes back learns
of a newer epoch before it serves (the status check repeats this every second)."""
from __future__ import annotations

from django.db import DatabaseError, connections

from ha.failover.fencing import fence_if_superseded
from ha.replication.dbconnect import HaConfigError


def start_up_check() -> None:
    try:
        fence_if_superseded()
    except (HaConfigError, DatabaseError):
        pass  # no admin account here, or an older schema: the status check fences
    finally:
        # Start-up may run in a parent that forks workers: a child never shares it.
        connections.close_all()
