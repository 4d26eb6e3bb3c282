import logging

import MySQLdb
from celery import shared_task

from audit.models import AuditSeal
from audit.sealing import audit_seal_all
from audit.services import audit_witness, this_node_trail
from audit.shipping import audit_outbox_ship
from ha.router import is_read_only_node

log = logging.getLogger(__name__)


@shared_task
def seal_audit_trail() -> None:
    events, seals = this_node_trail()
    audit_seal_all(events=events, seals=seals)
    audit_witness(seals=AuditSeal)  # on a secondary: the primary's seals, as they replicate


@shared_task
def ship_audit_outbox() -> None:
    if not is_read_only_node():
        return
    try:
        shipped = audit_outbox_ship()
    except MySQLdb.Error as exc:
        # Expected while the primary or the link is down; the rows stay pending.
        log.warning("audit shipping to the primary failed, will retry: %s", exc.args[-1])
        return
    if shipped:
        log.info("shipped %d audit rows to the primary", shipped)
