"""`ha_switchover`: the planned role swap, with nothing lost. Run on the secondary;
run again on the other node to swap back (fail back).

1. The secondary asks the primary to hand over (a signed request in the primary's
   local schema, over the audit shipper's account).
2. The primary's status check fences it (no change is accepted from then on) and,
   after its last commit, marks the heartbeat row "handing over to <secondary>".
3. The secondary sees that row arrive by replication, so it has applied everything,
   and promotes itself (a new epoch).
4. It builds a pack for the old primary with ha_setup's code and sends it the same
   way; the old primary's status check rejoins with it (ha_rejoin's code) and
   replicates from the new primary.
Users of either node see seconds of read-only, never an error.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections
from django.utils import timezone

from ha.dbconnect import admin_cursor, query_one
from ha.failover import EpochNotice, FailoverError, fence, own_epoch, peer_insert, promote
from ha.models import Heartbeat, PeerRequest, ReplicaReport
from ha.nodeconfig import write_private
from ha.rejoin import rejoin
from ha.replica import replica_state
from ha.role import current_role
from ha.setup import ha_setup
from ha.sql import quote_identifier
from vault import keyring

logger = logging.getLogger(__name__)
HANDOVER_WAIT_SECONDS = 30
REJOIN_WAIT_SECONDS = 120


def _request_mac(kind: str, node: str, epoch: int, payload: bytes) -> str:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"strongroom switchover request v1").derive(keyring.master_key().material)
    message = f"{kind}\n{node}\n{epoch}\n".encode() + hashlib.sha256(payload).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _request_send(kind: str, epoch: int, payload: bytes = b"") -> bool:
    return peer_insert(PeerRequest, {
        "kind": kind, "node": settings.NODE_NAME, "epoch": epoch, "payload": payload,
        "mac": _request_mac(kind, settings.NODE_NAME, epoch, payload)})


@dataclass
class Switchover:
    old_primary: str
    epoch: int
    read_only_seconds: float
    total_seconds: float


def switchover(*, address: str, port: int,
               progress: Callable[[str], None] = lambda message: None) -> Switchover:
    """On the secondary: become the primary, and make the primary this node's secondary.
    `address`/`port`: where the old primary reaches this node's database."""
    started = time.monotonic()
    if current_role() != "secondary":
        raise FailoverError(f"this node is {current_role()}: run ha_switchover on the "
                            f"secondary that is to become the primary")
    keyring.master_key()
    with admin_cursor() as cursor:
        state = replica_state(cursor)
    if state.io_running != "Yes" or state.sql_running != "Yes":
        raise FailoverError(f"replication is not running ({state.problem or 'stopped'}): a "
                            f"switchover loses nothing only from a replica that follows its "
                            f"primary. If the primary is lost, use ha_promote. Nothing was "
                            f"changed.")
    old_primary = Heartbeat.objects.filter(id=1).values_list("node", flat=True).first() or ""
    epoch = own_epoch() + 1
    if not _request_send(PeerRequest.SWITCHOVER, epoch):
        raise FailoverError("the primary's database cannot be reached over the audit "
                            "shipper's account. Nothing was changed.")
    progress(f"asked {old_primary} to hand over; waiting for its last change")
    handed_over = _wait(lambda: Heartbeat.objects.filter(
        id=1, handover_to=settings.NODE_NAME).exists(), HANDOVER_WAIT_SECONDS)
    read_only_from = time.monotonic()
    if not handed_over:
        raise FailoverError(
            f"{old_primary} did not hand over within {HANDOVER_WAIT_SECONDS} s (are its "
            f"Celery worker and beat running?). If it did fence itself, it serves read-only "
            f"until this command is run again.")
    promotion = promote(by="ha_switchover", reason=f"planned switchover from {old_primary}",
                        force=True, progress=progress)
    read_only_seconds = time.monotonic() - read_only_from
    progress(f"promoted at epoch {promotion.epoch.number}; changes were refused for "
             f"{read_only_seconds:.1f} s")
    pack = _pack_for(old_primary, address=address, port=port)
    if not _request_send(PeerRequest.PACK, promotion.epoch.number, pack):
        raise FailoverError(f"this node is the primary now, but {old_primary} could not be "
                            f"sent its pack: build one with ha_setup and run ha_rejoin there")
    progress(f"sent {old_primary} its pack ({len(pack) / 1e6:.1f} MB); waiting for it to "
             f"replicate from here")
    rejoined = _wait(lambda: ReplicaReport.objects.filter(
        node=old_primary, role="secondary", epoch=promotion.epoch.number,
        replication_status="alive").exists(), REJOIN_WAIT_SECONDS)
    if not rejoined:
        raise FailoverError(f"this node is the primary now, but {old_primary} has not "
                            f"reported as its secondary within {REJOIN_WAIT_SECONDS} s: "
                            f"see its /ha/status and worker log")
    return Switchover(old_primary=old_primary, epoch=promotion.epoch.number,
                      read_only_seconds=read_only_seconds,
                      total_seconds=time.monotonic() - started)


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _pack_for(node: str, *, address: str, port: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="strongroom-switchover-") as directory:
        output = Path(directory) / "HAPack.zip"
        ha_setup(primary_fqdn=settings.NODE_NAME, secondary_fqdn=node, primary_address=address,
                 primary_port=port, output=output)
        return output.read_bytes()


# --- The other side: run by the status check ------------------------------------------

def peer_requests_handle() -> None:
    """Act on the other node's signed requests, each once."""
    for request in PeerRequest.objects.filter(handled_at__isnull=True).order_by("id"):
        claimed = PeerRequest.objects.filter(id=request.id, handled_at__isnull=True).update(
            handled_at=timezone.now())
        if not claimed:
            continue  # another worker took it
        expected = _request_mac(request.kind, request.node, request.epoch,
                                bytes(request.payload))
        if not hmac.compare_digest(expected, request.mac):
            logger.error("ignoring a %s request from %s: its signature does not match this "
                         "vault's key", request.kind, request.node)
        elif request.kind == PeerRequest.SWITCHOVER and current_role() == "primary":
            _hand_over(request)
        elif request.kind == PeerRequest.PACK and current_role() in ("primary", "fenced"):
            _rejoin_with(request)


def _hand_over(request: PeerRequest) -> None:
    if request.epoch <= own_epoch():
        logger.error("ignoring a switchover to %s at epoch %s: this node is at epoch %s",
                     request.node, request.epoch, own_epoch())
        return
    fence(EpochNotice(epoch=request.epoch, node=request.node, source="a planned switchover"),
          reason=f"handing over to {request.node} (planned switchover): this node accepts "
                 f"no changes and becomes its secondary in a moment")
    # read_only is on and every commit in flight has finished: the admin account (which
    # may still write) marks the end of this primary's history.
    table = quote_identifier(Heartbeat._meta.db_table)
    with admin_cursor() as cursor:
        cursor.execute(f"USE {quote_identifier(settings.DATABASES['default']['NAME'])}")
        cursor.execute(f"UPDATE {table} SET handover_to = %s, beat_at = UTC_TIMESTAMP(6), "
                       f"gtid_binlog_pos = @@gtid_binlog_pos WHERE id = 1", (request.node,))
        position = query_one(cursor, "SELECT @@gtid_binlog_pos")
    logger.warning("handed over to %s at %s", request.node, position)


def _rejoin_with(request: PeerRequest) -> None:
    path = settings.HA_DIR / "switchover-pack.zip"
    write_private(path, bytes(request.payload))
    try:
        result = rejoin(path=path, progress=lambda line: logger.warning("rejoin: %s", line))
    finally:
        path.unlink(missing_ok=True)
    connections.close_all()
    logger.warning("rejoined as %s's secondary (divergence report %s)", request.node,
                   result.report)
