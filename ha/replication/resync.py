"""`ha_resync` on a secondary (S3): rebuild it from its primary over the network, after
replication broke on a conflicting row or the replica was damaged. A fresh consistent
snapshot is dumped from the primary over TLS with the snapshot account ha_setup made
(the pack's third account), then loaded through the same rebuild as a pack's. The
local schema, with the audit rows the primary has not received yet, is kept; the
replication account and certificates stay as they are, so no process needs a restart."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from django.conf import settings

from audit.models import AuditOutbox
from audit.services import Action, audit_record
from ha.replication.dbconnect import HaConfigError, audit_tls_files, client_options
from ha.replication.install import ReplicationNotStarted, replica_rebuild, replication_failure
from ha.nodeconfig import peer
from ha.replication.replica import ReplicaState, wait_until_connected
from ha.role import current_role
from ha.replication.snapshot import gtid_of, snapshot_take


@dataclass
class Resync:
    snapshot_bytes: int
    gtid_position: str
    seconds: float
    outbox_kept: int
    replica: ReplicaState


def resync(*, by: str, progress: Callable[[str], None] = lambda message: None) -> Resync:
    """HaConfigError (nothing changed) when this node cannot be resynced, SnapshotError
    (nothing changed) when the dump fails, InstallError when the rebuild fails."""
    _refuse_unfit_node()
    started = time.monotonic()
    primary = peer()
    host, port = primary.host, primary.port
    database = settings.DATABASES["default"]["NAME"]
    progress(f"taking a consistent snapshot of {host}:{port} over TLS (the primary keeps "
             f"serving)")
    with client_options(_snapshot_client_settings(host=host, port=port)) as options:
        snapshot = snapshot_take(options, database)
    position = gtid_of(snapshot)
    progress(f"snapshot taken: {len(snapshot) / 1e6:.1f} MB at GTID {position}")
    replica_rebuild(snapshot=snapshot, position=position, host=host, port=port, user=None,
                    progress=progress)
    progress("replication restarted; waiting for the primary")
    replica = wait_until_connected()
    if replica.io_running != "Yes" or replica.sql_running != "Yes":
        raise ReplicationNotStarted(replication_failure(replica))
    kept = undelivered_outbox_rows()
    audit_record(action=Action.HA_EVENT, actor_name=by,
                 detail={"event": "ha_resync", "primary": f"{host}:{port}", "gtid": position,
                         "snapshot_bytes": len(snapshot), "outbox_kept": kept})
    return Resync(snapshot_bytes=len(snapshot), gtid_position=position,
                  seconds=time.monotonic() - started, outbox_kept=kept, replica=replica)


def undelivered_outbox_rows() -> int:
    return AuditOutbox.objects.filter(delivered_at__isnull=True).count()


def _refuse_unfit_node() -> None:
    role = current_role()
    if role == "fenced":
        raise HaConfigError("this node is a fenced old primary: ha_rejoin makes it a "
                            "secondary of the new primary")
    if role != "secondary":
        raise HaConfigError(f"this node is {role}: ha_resync rebuilds a secondary from its "
                            f"primary, run it on the secondary")
    if not peer().host:
        raise HaConfigError("this node's HA settings name no primary (PRIMARY_DB_HOST)")
    if not settings.SNAPSHOT_USER or not settings.SNAPSHOT_PASSWORD:
        raise HaConfigError("this node's pack predates the snapshot account ha_resync "
                            "dumps with: build a new pack with ha_setup on the primary and "
                            "install it with ha_install_pack")


def _snapshot_client_settings(*, host: str, port: int) -> dict[str, str]:
    """The snapshot account requires the audit shipper's client certificate (the app's,
    in the HA directory); the primary's certificate and host name are verified."""
    files = audit_tls_files(settings.HA_DIR)
    return {"host": host, "port": str(port), "user": settings.SNAPSHOT_USER,
            "password": settings.SNAPSHOT_PASSWORD, "ssl-ca": files["ca"],
            "ssl-cert": files["cert"], "ssl-key": files["key"], "ssl-verify-server-cert": "1"}
