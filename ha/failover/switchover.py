"""`ha_switchover`: the planned role swap, with nothing lost. Run on the secondary;
run again on the other node to swap back (fail back).

1. The secondary asks the primary to hand over (a signed request in the primary's
   local schema, over the audit shipper's account).
2. The primary's status check fences it (no change is accepted from then on) and,
   after its last commit, marks the heartbeat row "handing over to <secondary>".
3. The secondary sees that row arrive by replication, so it has applied everything,
   and promotes itself (a new epoch). The time changes were refused is measured from
   the moment the primary fenced itself (which the row carries as its beat time) to
   the moment this node took changes (its epoch's promotion time), by the two nodes'
   clocks: what a client sees, give or take the requests under way.
4. It builds a pack for the old primary with ha_setup's code and sends it the same
   way; the old primary's status check rejoins with it (ha_rejoin's code) and
   replicates from the new primary; while its replicated schema is reloaded its pages
   and API answer 503 "rejoining" (ha/replication/rebuilding.py).
Users of either node see seconds of read-only, never an error. Each request's payload
(a whole pack) is deleted once handled, and handled requests are kept only for a while.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections
from django.utils import timezone

from ha.replication.dbconnect import admin_cursor, query_one
from ha.failover.errors import FailoverError
from ha.failover.fencing import EpochNotice, fence, own_epoch, peer_insert
from ha.failover.promote import promote
from ha.models import Heartbeat, PeerRequest, ReplicaReport
from ha.nodeconfig import write_private
from ha.failover.rejoin import rejoin
from ha.replication.replica import replica_state
from ha.role import current_role
from ha.replication.setup import ha_setup
from ha.replication.sql import quote_identifier
from vault import keyring

logger = logging.getLogger(__name__)
HANDOVER_WAIT_SECONDS = 30
REJOIN_WAIT_SECONDS = 120
# A handled request is kept (without its payload) this long, as a record.
PEER_REQUEST_KEEP = timedelta(days=7)


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
    if not handed_over:
        raise FailoverError(
            f"{old_primary} did not hand over within {HANDOVER_WAIT_SECONDS} s (are its "
            f"Celery worker and beat running?). If it did fence itself, it serves read-only "
            f"until this command is run again.")
    # The handover row's beat time: when the old primary stopped taking changes. Read
    # now: once this node is the primary, its own heartbeat overwrites the row.
    fenced_at = Heartbeat.objects.values_list("beat_at", flat=True).get(id=1)
    promotion = promote(by="ha_switchover", reason=f"planned switchover from {old_primary}",
                        force=True, handover=True, progress=progress)
    read_only_seconds = max(0.0, (promotion.epoch.promoted_at - fenced_at).total_seconds())
    progress(f"promoted at epoch {promotion.epoch.number}; changes were refused for "
             f"{read_only_seconds:.1f} s (from {old_primary} fencing itself to this node "
             f"taking changes)")
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
        try:
            _handle(request)
        finally:
            # Handled, well or not: the pack (the whole vault, encrypted) goes.
            PeerRequest.objects.filter(id=request.id).update(payload=b"")
    peer_requests_prune(now=timezone.now())


def _handle(request: PeerRequest) -> None:
    expected = _request_mac(request.kind, request.node, request.epoch, bytes(request.payload))
    if not hmac.compare_digest(expected, request.mac):
        logger.error("ignoring a %s request from %s: its signature does not match this "
                     "vault's key", request.kind, request.node)
    elif request.kind == PeerRequest.SWITCHOVER and current_role() == "primary":
        _hand_over(request)
    elif request.kind == PeerRequest.PACK and current_role() in ("primary", "fenced"):
        _rejoin_with(request)


def peer_requests_prune(*, now: datetime) -> int:
    """Requests older than PEER_REQUEST_KEEP go, handled or not (one never handled
    by then is stale: a pack expires within a day)."""
    return PeerRequest.objects.filter(reported_at__lt=now - PEER_REQUEST_KEEP).delete()[0]


def _hand_over(request: PeerRequest) -> None:
    if request.epoch <= own_epoch():
        logger.error("ignoring a switchover to %s at epoch %s: this node is at epoch %s",
                     request.node, request.epoch, own_epoch())
        return
    fenced_at = timezone.now()
    fence(EpochNotice(epoch=request.epoch, node=request.node, source="a planned switchover"),
          reason=f"handing over to {request.node} (planned switchover): this node accepts "
                 f"no changes and becomes its secondary in a moment")
    # read_only is on and every commit in flight has finished: the admin account (which
    # may still write) marks the end of this primary's history. Its beat time is when
    # this node stopped taking changes (its data is as of then): the other node measures
    # from it how long neither took changes.
    table = quote_identifier(Heartbeat._meta.db_table)
    with admin_cursor() as cursor:
        cursor.execute(f"USE {quote_identifier(settings.DATABASES['default']['NAME'])}")
        cursor.execute(f"UPDATE {table} SET handover_to = %s, beat_at = %s, "
                       f"gtid_binlog_pos = @@gtid_binlog_pos WHERE id = 1",
                       (request.node, fenced_at.replace(tzinfo=None)))
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
