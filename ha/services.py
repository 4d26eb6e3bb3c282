"""HA writes that run all the time (the setup commands live in setup.py/install.py)."""
from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from ha.replication.dbconnect import query_dicts, query_one
from ha.models import Heartbeat


def heartbeat_write() -> None:
    """The primary stamps the time; replication carries it to the secondary, where its
    age says how fresh the data is and whether the link is alive. It also carries the
    primary's binlog position and whether zero-data-loss mode held: what a promotion
    needs to say what may be lost."""
    with connections[router.db_for_write(Heartbeat)].cursor() as cursor:
        position = query_one(cursor, "SELECT @@gtid_binlog_pos") or ""
        rows = query_dicts(cursor, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'")
    Heartbeat.objects.update_or_create(id=1, defaults={
        "node": settings.NODE_NAME, "beat_at": timezone.now(), "gtid_binlog_pos": position,
        "semi_sync": rows[0]["Value"] if rows else "", "handover_to": ""})
