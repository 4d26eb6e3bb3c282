"""The status check (a Celery beat task every second) and the secondary's report to
the primary: the writes behind the High Availability page, /ha/status, /health*,
/metrics and the alerts.

A status changes only once the new value has held for a short confirmation window
(flapping stays out of the history and the alerts), except when the observation is
itself a window of silence (a heartbeat or report older than its threshold)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

import MySQLdb
from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from ha.replication.dbconnect import HaConfigError, primary_audit_connection
from ha.failover.fencing import fence_if_superseded, own_epoch
from ha.failover.roles import server_read_only_enforce
from ha.models import NodeStatus, ReplicaReport, Transition
from ha.monitoring.observe import ALIVE, FAILED, Observation, observe
from ha.replication.sql import quote_identifier
from ha.failover.switchover import peer_requests_handle
from ha.monitoring.transitions import on_transition

logger = logging.getLogger(__name__)
CHECK_LOCK = "strongroom_ha_check"
REPORT_LOCK = "strongroom_ha_report"
KINDS = ("ha", "replication", "semisync")  # semisync: zero-data-loss mode


class _NodeLock:
    """A MariaDB user lock on the local schema's connection: two workers never run
    the same periodic job at once (the second one simply skips its turn)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connection = connections[router.db_for_write(NodeStatus)]

    def __enter__(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", [self.name])
            self.held = cursor.fetchone()[0] == 1
        return self.held

    def __exit__(self, *exc_info) -> None:
        if self.held:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT RELEASE_LOCK(%s)", [self.name])


def status_check() -> NodeStatus | None:
    """Fence this node if it was superseded, observe, confirm, store; None when
    another check is running."""
    try:
        peer_requests_handle()
        fenced = fence_if_superseded()
        server_read_only_enforce()
    except HaConfigError as error:  # no admin account in this process: cannot act
        logger.warning("cannot check this node's epoch: %s", error)
        fenced = None
    with _NodeLock(CHECK_LOCK) as held:
        if not held:
            return None
        observation = observe(now=timezone.now())
        status = _store(observation, now=timezone.now(), fenced=fenced is not None)
    ReplicaReport.prune(now=timezone.now())  # on every role: announcements land anywhere
    return status


def _store(observation: Observation, *, now: datetime, fenced: bool = False) -> NodeStatus:
    database = router.db_for_write(NodeStatus)
    with transaction.atomic(using=database):
        status, _ = NodeStatus.objects.select_for_update().get_or_create(id=1)
        first = status.checked_at is None
        for kind in KINDS:
            if fenced and kind == "ha":
                transition = _fencing(status, observation=observation, now=now)
            else:
                transition = _confirm(status, kind=kind, observation=observation, now=now,
                                      first=first)
            if transition is not None:
                transition.save()
                transaction.on_commit(partial(on_transition, transition), using=database)
        status.details = observation.details
        status.checked_at = now
        status.save()
    return status


def _confirm(status: NodeStatus, *, kind: str, observation: Observation, now: datetime,
             first: bool) -> Transition | None:
    observed = getattr(observation, kind)
    reason = getattr(observation, f"{kind}_reason")
    current = getattr(status, f"{kind}_status")
    if observed == current:
        setattr(status, f"{kind}_reason", reason)
        setattr(status, f"{kind}_candidate", "")
        setattr(status, f"{kind}_candidate_since", None)
        return None
    if getattr(status, f"{kind}_candidate") != observed:
        setattr(status, f"{kind}_candidate", observed)
        setattr(status, f"{kind}_candidate_since", now)
    since = getattr(status, f"{kind}_candidate_since")
    immediate = first or observation.immediate
    window = timedelta(seconds=settings.HA_CONFIRM_SECONDS[observed == ALIVE])
    if not immediate and now - since < window:
        return None
    alerted = getattr(status, f"{kind}_alerted")
    # Alert on every change between Alive and Failed; a node's first status is news
    # only when it is a failure. Unknown (the primary cannot tell) is history only.
    alert = observed in (ALIVE, FAILED) and observed != alerted \
        and (bool(alerted) or observed == FAILED)
    if observed in (ALIVE, FAILED):
        setattr(status, f"{kind}_alerted", observed)
    for name, value in (("status", observed), ("since", since), ("reason", reason),
                        ("candidate", ""), ("candidate_since", None)):
        setattr(status, f"{kind}_{name}", value)
    return Transition(kind=kind, old=current, new=observed, since=since, confirmed_at=now,
                      node=settings.NODE_NAME, peer=observation.peer, reason=reason,
                      alerted=alert)


def _fencing(status: NodeStatus, *, observation: Observation, now: datetime) -> Transition:
    """Being fenced is news even when High Availability was already Failed (a primary
    whose secondary was gone): always a transition, always an alert."""
    transition = Transition(kind="ha", old=status.ha_status, new=FAILED, since=now,
                            confirmed_at=now, node=settings.NODE_NAME, peer=observation.peer,
                            reason=observation.ha_reason, alerted=True)
    status.ha_status, status.ha_since, status.ha_reason = FAILED, now, observation.ha_reason
    status.ha_candidate, status.ha_candidate_since, status.ha_alerted = "", None, FAILED
    return transition


def _report_insert() -> str:
    table = (f"{quote_identifier(settings.DATABASES['local']['NAME'])}."
             f"{quote_identifier(ReplicaReport._meta.db_table)}")
    return (f"INSERT INTO {table} (node, reported_at, heartbeat_at, io_running, "
            f"sql_running, ha_status, replication_status, ha_reason, replication_reason, "
            f"gtid_slave_pos, lag_ms, outbox_pending, role, epoch) "
            f"VALUES (%s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"'secondary', %s)")


def replica_report_send() -> bool:
    """The secondary tells the primary what it sees (its confirmed statuses and the
    details behind them), over the audit shipper's TLS account, which may INSERT
    here and nowhere else but the audit trail. False when the primary is unreachable:
    the primary then hears nothing, which it reads as Failed."""
    status = NodeStatus.objects.filter(id=1).first()
    if status is None or status.checked_at is None:
        return False
    with _NodeLock(REPORT_LOCK) as held:
        if not held:
            return False
        details = status.details
        beat = details.get("heartbeat_at")
        row = (settings.NODE_NAME,
               datetime.fromisoformat(beat).replace(tzinfo=None) if beat else None,
               details.get("io_running", ""), details.get("sql_running", ""),
               status.ha_status, status.replication_status, status.ha_reason[:1000],
               status.replication_reason[:1000], details.get("gtid_slave_pos", ""),
               details.get("lag_ms"), details.get("outbox_pending", 0), own_epoch())
        try:
            primary = primary_audit_connection(timeout=1, io_timeout=1)
        except MySQLdb.Error as error:
            logger.info("cannot report to the primary: %s", error)
            return False
        try:
            with primary.cursor() as cursor:
                cursor.execute(_report_insert(), row)
            primary.commit()
        except MySQLdb.Error as error:
            logger.info("cannot report to the primary: %s", error)
            return False
        finally:
            primary.close()
    return True
