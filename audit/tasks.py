import logging

import MySQLdb
from celery import shared_task

from audit.services import audit_seal
from audit.shipping import audit_outbox_ship
from ha.router import is_read_only_node

log = logging.getLogger(__name__)


@shared_task
def seal_audit_trail() -> None:
    if is_read_only_node():
        return  # the primary seals; its seals replicate here
    while audit_seal() is not None:  # each seal holds at most max_events rows
        pass


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
