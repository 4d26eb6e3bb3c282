"""Promotion (S4, R-H9): what a promotion may lose, whether the old primary still
answers, and turning this secondary into the primary in one step with a new epoch
(a number that only grows, in the replicated schema)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import MySQLdb
from django.conf import settings
from django.db import connections, router
from django.db.models import Max
from django.utils import timezone

from audit.models import AuditOutbox
from audit.services import Action, audit_record
from audit.shipping import COLUMNS, trail_insert
from ha.failover.errors import FailoverError
from ha.failover.fencing import notice_write
from ha.failover.gtid import gtid_covers
from ha.failover.roles import role_change
from ha.models import Epoch, Heartbeat
from ha.role import current_role
from ha.nodeconfig import peer
from ha.replication.dbconnect import HaConfigError, admin_cursor, primary_audit_connection, query_one
from ha.replication.replica import ReplicaState, replica_state
from vault import keyring

RELAY_LOG_WAIT_SECONDS = 120


@dataclass
class DataAtRisk:
    received: str
    applied: str
    primary_position: str
    heartbeat_at: datetime | None
    semi_sync: str

    def all_applied(self) -> bool:
        """Everything the old primary had written at its last heartbeat is applied here."""
        return gtid_covers(self.applied, self.primary_position)

    def lines(self) -> list[str]:
        beat = (f"{self.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if self.heartbeat_at
                else "never")
        lines = [f"last transaction received from the old primary: {self.received or 'none'}",
                 f"applied here so far:                            {self.applied or 'none'}",
                 f"the old primary's position at its last heartbeat ({beat}): "
                 f"{self.primary_position or 'unknown'}"]
        if self.primary_position and not gtid_covers(self.received, self.primary_position):
            lines.append("the old primary had written transactions this node never received: "
                         "they are not on the new primary (ha_rejoin reports them)")
        if self.semi_sync == "ON":
            lines.append("zero-data-loss mode was ON at the last heartbeat: every write the "
                         "old primary acknowledged reached this node")
        elif self.semi_sync == "OFF":
            lines.append("zero-data-loss mode was OFF at the last heartbeat (asynchronous): "
                         "writes the old primary acknowledged after the last transaction "
                         "received here are lost")
        else:
            lines.append("zero-data-loss mode at the moment of failure: unknown")
        return lines


def data_at_risk(cursor, state: ReplicaState) -> DataAtRisk:
    beat = Heartbeat.objects.filter(id=1).first()
    return DataAtRisk(received=state.gtid_io_pos,
                      applied=query_one(cursor, "SELECT @@gtid_slave_pos") or "",
                      primary_position=beat.gtid_binlog_pos if beat else "",
                      heartbeat_at=beat.beat_at if beat else None,
                      semi_sync=beat.semi_sync if beat else "")


def old_primary_reachable(state: ReplicaState) -> str:
    """Why the old primary looks alive ('' when nothing answers): promoting then
    would make two writable primaries."""
    if state.io_running == "Yes":
        return (f"this node's replica is connected to it "
                f"({state.master_host}:{state.master_port})")
    try:
        connection = primary_audit_connection(timeout=2, io_timeout=2)
    except (MySQLdb.Error, HaConfigError):
        return ""
    connection.close()
    other = peer()
    return f"its database accepts connections at {other.host}:{other.port}"


@dataclass
class Promotion:
    epoch: Epoch
    risk: DataAtRisk
    audit_rows_moved: int
    notice_path: Path


def promote(*, by: str, reason: str = "", force: bool = False, handover: bool = False,
            progress: Callable[[str], None] = lambda message: None) -> Promotion:
    """`handover`: the old primary fenced itself and marked its last change (a planned
    switchover); once this node has applied it, nothing is at risk and nothing to warn of."""
    role = current_role()
    if role != "secondary":
        raise FailoverError(f"this node is {role}, not a secondary: only a secondary can "
                            f"be promoted")
    keyring.master_key()  # the notice is signed with it: fail before changing anything
    with admin_cursor() as cursor:
        state = replica_state(cursor)
        risk = data_at_risk(cursor, state)
    clean = handover and risk.all_applied()
    if clean:
        progress(f"the old primary handed over at {risk.primary_position or 'its start'} "
                 f"and all of it is applied here: nothing is at risk")
    else:
        for line in risk.lines():
            progress(line)
    reachable = "" if clean else old_primary_reachable(state)
    if reachable and not force:
        raise FailoverError(
            f"the old primary is still reachable: {reachable}. Promoting now would leave "
            f"two writable primaries (a split brain). For planned maintenance use "
            f"ha_switchover; otherwise stop the old primary first, or use --force (the old "
            f"primary is then fenced as soon as it hears of the new epoch). Nothing was "
            f"changed.")
    if reachable:
        progress(f"--force: promoting although {reachable}")
    with admin_cursor() as cursor:
        _apply_relay_log(cursor, force=force, progress=progress)
        cursor.execute("STOP SLAVE")
        # Forget the old primary's channel: this node never replicates from it again.
        cursor.execute("RESET SLAVE ALL")
        position = query_one(cursor, "SELECT @@gtid_slave_pos") or ""
    role_change("primary")
    moved = outbox_into_trail()
    previous = Heartbeat.objects.filter(id=1).values_list("node", flat=True).first() or ""
    number = (Epoch.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    epoch = Epoch.objects.create(number=number, node=settings.NODE_NAME,
                                 promoted_at=timezone.now(), promoted_by=by[:150],
                                 reason=reason[:500], previous_primary=previous,
                                 gtid_position=position, forced=force)
    audit_record(action=Action.HA_EVENT, actor_name=by, reason=reason,
                 detail={"event": "promoted", "epoch": number, "previous_primary": previous,
                         "gtid_position": position, "forced": force,
                         "audit_rows_moved": moved})
    notice_path = notice_write(epoch)
    return Promotion(epoch=epoch, risk=risk, audit_rows_moved=moved, notice_path=notice_path)


def _apply_relay_log(cursor, *, force: bool, progress: Callable[[str], None]) -> None:
    """Stop receiving, then let the SQL thread apply everything already received:
    a transaction in the relay log is one the old primary may have acknowledged."""
    cursor.execute("STOP SLAVE IO_THREAD")
    state = replica_state(cursor)
    if state.last_sql_errno or state.sql_running != "Yes":
        problem = state.problem or "the SQL thread is stopped"
        if not force:
            raise FailoverError(f"what this node received cannot be applied ({problem}); "
                                f"fix replication first, or --force to promote without it. "
                                f"Nothing was changed but the replica's I/O thread, which "
                                f"is stopped (START SLAVE resumes it).")
        progress(f"--force: not applying the rest of the relay log ({problem})")
        return
    if state.gtid_io_pos:
        progress(f"applying what was received, up to {state.gtid_io_pos}")
        waited = query_one(cursor, "SELECT MASTER_GTID_WAIT(%s, %s)",
                           (state.gtid_io_pos, RELAY_LOG_WAIT_SECONDS))
        if waited != 0:
            raise FailoverError(f"the relay log was not applied within "
                                f"{RELAY_LOG_WAIT_SECONDS} s; run ha_promote again")


def outbox_into_trail(*, batch_size: int = 1000) -> int:
    """Every row of this node's outbox into its own trail, exactly once (rows the old
    primary already had came back through replication and are skipped by UUID;
    rows it took but never replicated back are restored)."""
    moved, last_id = 0, 0
    connection = connections[router.db_for_write(Epoch)]
    while True:
        batch = list(AuditOutbox.objects.filter(id__gt=last_id).order_by("id")
                     .values("id", *COLUMNS)[:batch_size])
        if not batch:
            return moved
        with connection.cursor() as cursor:
            moved += trail_insert(cursor, batch)
        AuditOutbox.objects.filter(id__in=[row["id"] for row in batch],
                                   delivered_at__isnull=True).update(delivered_at=timezone.now())
        last_id = batch[-1]["id"]
