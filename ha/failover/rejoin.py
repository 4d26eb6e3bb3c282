"""`ha_rejoin` on a fenced old primary (S3/S4): report what it committed that never
reached the new primary, carry its audit rows there (R-H17: an audited act that
happened is never lost), then rebuild it as the new primary's secondary from a pack
built there (the same install path as any secondary's)."""
from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import MySQLdb
from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent, AuditOutbox
from audit.shipping import COLUMNS, trail_insert
from ha.failover.divergence import Divergence, divergence_find, report_write
from ha.failover.errors import FailoverError
from ha.failover.fencing import EpochNotice, fence, own_epoch
from ha.replication.install import InstallResult, pack_apply, pack_open
from ha.replication.pack import Pack
from ha.role import current_role

CARRY_BATCH = 1000


@dataclass
class Carried:
    found: int  # this node's rows the new primary may lack
    new: int  # of them, the ones its trail did not have yet


@dataclass
class Rejoin:
    divergence: Divergence
    report: Path
    carried: Carried
    install: InstallResult | None  # None: report only, nothing rebuilt


def rejoin(*, path: Path, max_age: timedelta = timedelta(hours=24), force_host: bool = False,
           report_only: bool = False,
           progress: Callable[[str], None] = lambda message: None) -> Rejoin:
    role = current_role()
    pack = pack_open(path=path, force_host=force_host, max_age=max_age)
    promotion = pack.manifest.get("promotion")
    if not promotion:
        raise FailoverError("this pack was not built on a promoted node (its vault has no "
                            "epoch): build it with ha_setup on the node that was promoted")
    if role == "primary":
        # It has not heard of the promotion yet (the link may still be down): the pack,
        # signed with the vault's key, is the news.
        if promotion["epoch"] <= own_epoch():
            raise FailoverError(f"this node is the primary of epoch {own_epoch()}; the pack's "
                                f"node is not newer (epoch {promotion['epoch']})")
        fence(EpochNotice(epoch=promotion["epoch"], node=promotion["node"],
                          source=f"the pack {path}"))
    elif role != "fenced":
        raise FailoverError(f"this node is {role}: ha_rejoin turns a fenced old primary into "
                            f"a secondary (a secondary is rebuilt with ha_resync)")
    progress(f"{promotion['node']} was promoted at epoch {promotion['epoch']}, from "
             f"position {promotion['gtid_position'] or 'none'}")
    divergence = divergence_find(promotion_position=promotion["gtid_position"])
    report = report_write(divergence, epoch=promotion, directory=settings.HA_DIR)
    if divergence.transactions:
        progress(f"{len(divergence.transactions)} transaction(s) committed here after the "
                 f"promotion point ({divergence.gtids}) never reached the new primary: "
                 f"written to {report} for review")
    else:
        progress(f"nothing was committed here after the promotion point ({report})")
    # Before the rebuild wipes this node's trail; a failure here stops the rejoin.
    carried = audit_rows_carry(pack=pack, event_ids=divergence.audit_event_ids)
    progress(f"{carried.found} audit row(s) recorded here after the promotion point or not "
             f"yet delivered: {carried.new} carried into {promotion['node']}'s trail, "
             f"{carried.found - carried.new} were there already")
    install = None if report_only else pack_apply(pack, progress=progress)
    return Rejoin(divergence=divergence, report=report, carried=carried, install=install)


def audit_rows_carry(*, pack: Pack, event_ids: list[int]) -> Carried:
    """This node's audit rows committed after the promotion point (in its trail, which
    the rebuild replaces) and its outbox rows not yet delivered, into the new primary's
    trail, each at most once (INSERT IGNORE by UUID, as the shipping does): run again
    after a crash, it adds nothing twice. One transaction there; the outbox rows are
    marked delivered only after it committed."""
    events = []
    for start in range(0, len(event_ids), CARRY_BATCH):
        events += AuditEvent.objects.filter(id__in=event_ids[start:start + CARRY_BATCH]) \
            .order_by("id").values(*COLUMNS)
    outbox = list(AuditOutbox.objects.filter(delivered_at__isnull=True).order_by("id")
                  .values("id", *COLUMNS))
    rows = [*events, *outbox]
    if not rows:
        return Carried(found=0, new=0)
    new = 0
    try:
        with pack_audit_connection(pack) as connection:
            with connection.cursor() as cursor:
                for start in range(0, len(rows), CARRY_BATCH):
                    new += trail_insert(cursor, rows[start:start + CARRY_BATCH])
            connection.commit()
    except MySQLdb.Error as error:
        raise FailoverError(f"this node's audit rows could not be carried into the new "
                            f"primary's trail ({error}); make sure its database answers "
                            f"at {pack.manifest['primary_address']}:"
                            f"{pack.manifest['primary_port']} and run ha_rejoin again") from None
    AuditOutbox.objects.filter(id__in=[row["id"] for row in outbox],
                               delivered_at__isnull=True).update(delivered_at=timezone.now())
    return Carried(found=len(rows), new=new)


@contextmanager
def pack_audit_connection(pack: Pack) -> Iterator[MySQLdb.connections.Connection]:
    """The new primary's database, over TLS with the audit shipper's account the pack
    carries (the server's certificate checked against the pack's CA and address), as
    a secondary ships its audit rows. This node's own settings still name no primary."""
    manifest = pack.manifest
    credentials = json.loads(pack.files["credentials.json"])
    with tempfile.TemporaryDirectory(prefix="strongroom-rejoin-") as directory:  # 0700
        files = {}
        for role, name in (("ca", "ca.pem"), ("cert", "audit.pem"), ("key", "audit.key")):
            files[role] = str(Path(directory) / name)
            Path(files[role]).write_bytes(pack.files[f"tls/{name}"])
        connection = MySQLdb.connect(
            host=manifest["primary_address"], port=int(manifest["primary_port"]),
            user=credentials["audit_user"], password=credentials["audit_password"],
            database=settings.DATABASES["default"]["NAME"], ssl=files,
            ssl_mode="VERIFY_IDENTITY", charset="utf8mb4", connect_timeout=5,
            read_timeout=60, write_timeout=60)
    try:
        yield connection
    finally:
        connection.close()
