"""Epochs and fencing (R-H15). An old primary learns of a newer epoch in two ways and
then fences itself (read-only at both layers, role `fenced` in ha.env, a Failed
transition that alerts):
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
from dataclasses import dataclass
from pathlib import Path

import MySQLdb
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db.models import Max

from ha.failover.roles import role_change
from ha.models import Epoch, ReplicaReport
from ha.nodeconfig import peer, write_private
from ha.replication.dbconnect import HaConfigError, primary_audit_connection, query_one
from ha.replication.sql import quote_identifier
from ha.role import current_role
from vault import keyring

logger = logging.getLogger(__name__)
NOTICE_FILE = "epoch-notice.json"


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
