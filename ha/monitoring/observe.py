"""One look at the pair from this node: what the two statuses are right now, and why.
Unconfirmed: ha/monitoring/status.py turns observations into confirmed statuses and transitions.

The secondary reads its replica threads and the primary's heartbeat; the primary reads
the reports its secondary inserts (ReplicaReport) and its own binlog dump threads.
Silence is never Alive: no fresh heartbeat or report means Failed (or, for what the
primary cannot know, Unknown)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connections, router

from audit.shipping import pending_count
from ha.replication.dbconnect import HaConfigError, admin_cursor, query_dicts, query_one
from ha.models import Heartbeat, NodeStatus, ReplicaReport
from ha.nodeconfig import read_ha_env
from ha.replication.replica import replica_state
from ha.role import current_role
from ha.monitoring.semisync import semisync_observe

ALIVE, FAILED, UNKNOWN = "alive", "failed", "unknown"


@dataclass
class Observation:
    ha: str
    replication: str
    ha_reason: str = ""
    replication_reason: str = ""
    # A heartbeat or report older than its threshold is itself a window of silence:
    # what it shows is confirmed at once.
    immediate: bool = False
    peer: str = ""
    details: dict = field(default_factory=dict)
    # Zero-data-loss mode (ha/monitoring/semisync.py), judged on the primary only.
    semisync: str = UNKNOWN
    semisync_reason: str = ""


def observe(*, now: datetime) -> Observation:
    role = current_role()
    if role == "secondary":
        return observe_secondary(now=now)
    if role == "primary":
        observation = observe_primary(now=now)
        observation.semisync, observation.semisync_reason, semisync_details = semisync_observe()
        observation.details.update(semisync_details)
        return observation
    if role == "fenced":
        reason = read_ha_env().get("FENCED_REASON") or "fenced: another node was promoted"
        return Observation(ha=FAILED, replication=FAILED, ha_reason=reason,
                           replication_reason="a fenced node replicates from nobody until "
                                              "ha_rejoin makes it a secondary",
                           immediate=True, details={"fenced": reason})
    reason = "this node is standalone: no HA pair is configured (see ha_setup)"
    return Observation(ha=UNKNOWN, replication=UNKNOWN, ha_reason=reason,
                       replication_reason=reason)


def _status_variable(cursor, name: str) -> str | None:
    rows = query_dicts(cursor, "SHOW GLOBAL STATUS LIKE %s", (name,))
    return rows[0]["Value"] if rows else None


def observe_secondary(*, now: datetime) -> Observation:
    # The app account holds SLAVE MONITOR on a secondary (ha/replication/grants.py).
    with connections[router.db_for_write(NodeStatus)].cursor() as cursor:
        state = replica_state(cursor)
        slave_pos = query_one(cursor, "SELECT @@gtid_slave_pos") or ""
        semi_sync = _status_variable(cursor, "Rpl_semi_sync_slave_status")
    beat = Heartbeat.objects.filter(id=1).values_list("beat_at", flat=True).first()
    age = (now - beat).total_seconds() if beat else None
    peer = f"{state.master_host}:{state.master_port}" if state.configured else ""
    details = {
        "io_running": state.io_running, "sql_running": state.sql_running,
        "last_io_errno": state.last_io_errno, "last_sql_errno": state.last_sql_errno,
        "problem": state.problem, "heartbeat_at": beat.isoformat() if beat else None,
        "heartbeat_age_seconds": round(age, 3) if age is not None else None,
        # Heartbeat-based, like pt-heartbeat: Seconds_Behind_Master is NULL exactly
        # when the link is down. Includes up to one heartbeat period.
        "lag_ms": max(0, round(age * 1000)) if age is not None else None,
        "gtid_slave_pos": slave_pos, "gtid_primary_received": state.gtid_io_pos,
        "peer": peer, "outbox_pending": pending_count(),
        "semi_sync": semi_sync,
    }
    if not state.configured:
        reason = "replication is not configured on this secondary: install an HA pack"
        return Observation(ha=FAILED, replication=FAILED, ha_reason=reason,
                           replication_reason=reason, immediate=True, details=details)
    ha, ha_reason, immediate = ALIVE, "", False
    # The heartbeat is applied by the SQL thread: while that is stopped its age says
    # nothing about the link, and the I/O thread alone tells.
    applying = state.sql_running == "Yes" and not state.last_sql_errno
    if applying and age is None:
        ha, ha_reason, immediate = FAILED, "no heartbeat from the primary has arrived yet", True
    elif applying and age > settings.HA_HEARTBEAT_STALE_SECONDS:
        ha, immediate = FAILED, True
        ha_reason = (f"the primary's heartbeat is stale ({age:.1f} s old): the primary "
                     f"or the link to it is down")
    elif state.io_running != "Yes":
        ha = FAILED
        ha_reason = f"the replica's connection to the primary is {state.io_running or 'off'}"
    if ha == FAILED and state.last_io_errno:
        ha_reason += f" ({state.problem})"
    replication, replication_reason = ALIVE, ""
    if state.last_sql_errno:
        replication, replication_reason = FAILED, state.problem
    elif state.sql_running != "Yes":
        replication = FAILED
        replication_reason = "the replica's SQL thread is stopped: changes are not applied"
    return Observation(ha=ha, replication=replication, ha_reason=ha_reason,
                       replication_reason=replication_reason, immediate=immediate,
                       peer=peer, details=details)


def _dump_threads() -> list[str] | None:
    """Hosts of the replicas streaming this primary's binlog (None: cannot tell,
    the admin account is not configured for this process)."""
    try:
        with admin_cursor() as cursor:
            rows = query_dicts(cursor, "SELECT HOST FROM information_schema.PROCESSLIST "
                                       "WHERE COMMAND LIKE %s", ("Binlog Dump%",))
    except HaConfigError:
        return None
    return [row["HOST"] for row in rows]


def observe_primary(*, now: datetime) -> Observation:
    report = ReplicaReport.objects.order_by("-id").first()
    dumps = _dump_threads()
    with connections[router.db_for_read(ReplicaReport)].cursor() as cursor:
        binlog_pos = query_one(cursor, "SELECT @@gtid_binlog_pos") or ""
        semi_sync = _status_variable(cursor, "Rpl_semi_sync_master_status")
    age = (now - report.reported_at).total_seconds() if report else None
    peer = report.node if report else ""
    details = {
        "gtid_binlog_pos": binlog_pos, "binlog_dump_hosts": dumps, "semi_sync": semi_sync,
        "report_age_seconds": round(age, 3) if age is not None else None, "peer": peer,
        "gtid_slave_pos": report.gtid_slave_pos if report else None,
        "lag_ms": report.lag_ms if report else None,
        "io_running": report.io_running if report else None,
        "sql_running": report.sql_running if report else None,
        "outbox_pending": report.outbox_pending if report else None,
    }
    if age is None or age > settings.HA_REPORT_STALE_SECONDS:
        reason = ("no secondary has reported to this primary yet: none has joined, or "
                  "the secondary or the link is down" if age is None else
                  f"no report from the secondary for {age:.1f} s: the secondary or the "
                  f"link is down")
        return Observation(ha=FAILED, replication=UNKNOWN, ha_reason=reason,
                           replication_reason=reason + "; its replication status is unknown",
                           immediate=True, peer=peer, details=details)
    ha, ha_reason = ALIVE, ""
    if report.ha_status != ALIVE:
        ha, ha_reason = FAILED, f"the secondary reports: {report.ha_reason}"
    elif dumps == []:
        ha, ha_reason = FAILED, "no replica is connected to this primary's binary log"
    return Observation(ha=ha, replication=report.replication_status, ha_reason=ha_reason,
                       replication_reason=report.replication_reason, peer=peer,
                       details=details)
