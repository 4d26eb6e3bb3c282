"""`ha_rejoin` on a fenced old primary (S3/S4): report what it committed that never
reached the new primary, then rebuild it as the new primary's secondary from a pack
built there (the same install path as any secondary's)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from django.conf import settings

from ha.divergence import Divergence, divergence_find, report_write
from ha.failover import EpochNotice, FailoverError, fence, own_epoch
from ha.install import InstallResult, pack_apply, pack_open
from ha.role import current_role


@dataclass
class Rejoin:
    divergence: Divergence
    report: Path
    install: InstallResult


def rejoin(*, path: Path, max_age: timedelta = timedelta(hours=24), force_host: bool = False,
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
    return Rejoin(divergence=divergence, report=report,
                  install=pack_apply(pack, progress=progress))
