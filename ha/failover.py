"""Promotion and fencing (S4, R-H9, R-H15).

`promote` turns this secondary into the primary in one step and records a new epoch
(a number that only grows, in the replicated schema). An old primary learns of a
newer epoch in two ways and then fences itself (read-only at both layers, role
`fenced` in ha.env, a Failed transition that alerts):
- announced: the promoted node inserts "primary, epoch N" into the old primary's
  local report table every second over the audit shipper's TLS account, which it
  still holds, as soon as that database answers, for as long as it is writable (once
  fenced it is read-only: nothing more is announced);
- a notice file: `promote` writes epoch-notice.json (signed with a key derived from
  the vault's master key) for the administrator to copy into the old primary's HA
  directory; a node that finds it there starts fenced.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import MySQLdb
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections, router
from django.db.models import Max
from django.utils import timezone

from audit.models import AuditOutbox
from audit.services import Action, audit_record
from audit.shipping import COLUMNS, trail_insert
from ha.dbconnect import HaConfigError, admin_cursor, primary_audit_connection, query_one
from ha.grants import app_grants_apply
from ha.models import Epoch, Heartbeat, ReplicaReport
from ha.nodeconfig import peer, write_ha_env, write_private
from ha.replica import ReplicaState, replica_state
from ha.role import READ_ONLY_ROLES, current_role
from ha.sql import quote_identifier
from vault import keyring

logger = logging.getLogger(__name__)
NOTICE_FILE = "epoch-notice.json"
RELAY_LOG_WAIT_SECONDS = 120
# Requests under way when a node turns read-only: the slowest page takes well under this.
ROLE_CHANGE_DRAIN_SECONDS = 1.0


class FailoverError(Exception):
    """A promotion or fence was refused or failed; the message says why and what to do."""


# --- GTID positions ---------------------------------------------------------------

def gtid_map(position: str) -> dict[int, int]:
    """'0-11-57,12-12-3' -> {domain: sequence}."""
    result = {}
    for gtid in filter(None, (part.strip() for part in (position or "").split(","))):
        domain, _, sequence = gtid.split("-")
        result[int(domain)] = int(sequence)
    return result


def gtid_covers(position: str, other: str) -> bool:
    """Every transaction of `other` is within `position` (domain by domain)."""
    have = gtid_map(position)
    return all(have.get(domain, -1) >= sequence for domain, sequence in gtid_map(other).items())


# --- What a promotion may lose -----------------------------------------------------

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


# --- Promotion ---------------------------------------------------------------------

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


# --- Epochs and notices --------------------------------------------------------------

@dataclass(frozen=True)
class EpochNotice:
    epoch: int
    node: str
    source: str


def own_epoch() -> int:
    return Epoch.objects.aggregate(top=Max("number"))["top"] or 0


def _notice_key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"strongroom epoch notice v1").derive(keyring.master_key().material)


def _notice_mac(body: dict) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_notice_key(), text, hashlib.sha256).hexdigest()


def notice_path() -> Path:
    return settings.HA_DIR / NOTICE_FILE


def notice_write(epoch: Epoch) -> Path:
    body = {"epoch": epoch.number, "node": epoch.node,
            "promoted_at": epoch.promoted_at.isoformat()}
    write_private(notice_path(), json.dumps({**body, "mac": _notice_mac(body)}, indent=2))
    return notice_path()


def notice_read(path: Path) -> EpochNotice | None:
    """A notice signed by this vault's key, or None (absent, unreadable, or forged:
    an unsigned file must not fence a primary)."""
    try:
        data = json.loads(path.read_text())
        body = {name: data[name] for name in ("epoch", "node", "promoted_at")}
        valid = hmac.compare_digest(_notice_mac(body), str(data["mac"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not valid:
        logger.warning("ignoring %s: its signature does not match this vault's key", path)
        return None
    return EpochNotice(epoch=int(body["epoch"]), node=str(body["node"]),
                       source=f"the notice file {path}")


def superseding_notice() -> EpochNotice | None:
    """A newer epoch of another node, announced or in the notice file."""
    own = own_epoch()
    report = (ReplicaReport.objects.filter(role="primary", epoch__gt=own)
              .exclude(node=settings.NODE_NAME).order_by("-epoch").first())
    if report is not None:
        return EpochNotice(epoch=report.epoch, node=report.node,
                           source=f"{report.node}, which announced it at "
                                  f"{report.reported_at:%Y-%m-%d %H:%M:%S} UTC")
    notice = notice_read(notice_path())
    if notice is not None and notice.epoch > own and notice.node != settings.NODE_NAME:
        return notice
    return None


# --- Fencing -------------------------------------------------------------------------

def fence_reason(notice: EpochNotice) -> str:
    return (f"fenced: {notice.node} was promoted to primary (epoch {notice.epoch}, learned "
            f"from {notice.source}); this node accepts no changes. Make it the new "
            f"primary's secondary with ha_rejoin")


def fence_if_superseded() -> EpochNotice | None:
    """On a primary: fence it if another node holds a newer epoch."""
    if current_role() != "primary":
        return None
    notice = superseding_notice()
    if notice is not None:
        fence(notice)
    return notice


def fence(notice: EpochNotice, *, reason: str = "") -> None:
    """Read-only at both layers: the role, which every process of this node reads per
    request (ha/role.py); the app account (no write grant on the replicated schema,
    like a secondary's) and the server (read_only)."""
    reason = reason or fence_reason(notice)
    role_change("fenced", FENCED_REASON=reason)
    logger.error("%s", reason)


def role_change(role: str, **values: str) -> None:
    """The role first: the app follows it at once (refusing writes when read-only),
    and the status checks keep the server's read_only in line with it
    (server_read_only_enforce). Then the grants, then ha.env once more, so that every
    process reconnects with them (ha/role.py). A server turning read-only waits a
    moment first: a request already under way finishes instead of failing."""
    write_ha_env({"STRONGROOM_ROLE": role, **values})
    app_grants_apply(role=role)
    write_ha_env({"ROLE_SINCE": timezone.now().isoformat()})
    read_only = role in READ_ONLY_ROLES
    if read_only:
        time.sleep(ROLE_CHANGE_DRAIN_SECONDS)
    with admin_cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if read_only else 'OFF'}")
    connections.close_all()


def server_read_only_enforce() -> None:
    """The server's read_only follows the role, whatever its config file says: a
    fenced node's restarted server comes up writable, a promoted one read-only."""
    role = current_role()
    if role not in ("primary", "fenced", "secondary"):
        return
    wanted = 0 if role == "primary" else 1
    with connections[router.db_for_write(ReplicaReport)].cursor() as cursor:
        if query_one(cursor, "SELECT @@global.read_only") == wanted:
            return
    with admin_cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if wanted else 'OFF'}")
    logger.warning("read_only set %s: this node is %s", "ON" if wanted else "OFF", role)


def epoch_announce() -> bool:
    """On a promoted primary: tell the primary it replaced (still in ha.env as
    PRIMARY_DB_HOST) that it is superseded, over the audit shipper's account, which
    may insert into that node's report table. Only while that node's server is
    writable: read-only, it has fenced itself (or become a secondary) and takes no
    change, and a row a second would pile up there for as long as it lives. False
    when it cannot be reached."""
    mine = Epoch.objects.filter(node=settings.NODE_NAME).order_by("-number").first()
    if mine is None or not peer().host:
        return False
    return peer_insert(ReplicaReport, {
        "node": settings.NODE_NAME, "io_running": "", "sql_running": "", "ha_status": "",
        "replication_status": "", "ha_reason": f"promoted at epoch {mine.number}",
        "replication_reason": "", "gtid_slave_pos": "", "outbox_pending": 0,
        "role": "primary", "epoch": mine.number}, only_if_writable=True)


def peer_insert(model, values: dict, *, only_if_writable: bool = False) -> bool:
    """One row into the other node's local schema (reported_at: its clock), over the
    audit shipper's TLS account; False when that node cannot be reached.
    `only_if_writable`: nothing is inserted while that node's server is read-only."""
    table = (f"{quote_identifier(settings.DATABASES['local']['NAME'])}."
             f"{quote_identifier(model._meta.db_table)}")
    names = ", ".join(quote_identifier(name) for name in values)
    try:
        connection = primary_audit_connection(timeout=1, io_timeout=5)
    except (MySQLdb.Error, HaConfigError):
        return False
    try:
        with connection.cursor() as cursor:
            if only_if_writable and query_one(cursor, "SELECT @@global.read_only"):
                return True
            cursor.execute(f"INSERT INTO {table} ({names}, reported_at) VALUES "
                           f"({', '.join(['%s'] * len(values))}, UTC_TIMESTAMP(6))",
                           tuple(values.values()))
        connection.commit()
    except MySQLdb.Error as error:
        logger.info("cannot write to the other node (%s): %s", model._meta.db_table, error)
        return False
    finally:
        connection.close()
    return True
