from celery import shared_task

from ha.failover.fencing import epoch_announce
from ha.role import current_role
from ha.router import is_read_only_node
from ha.services import heartbeat_write
from ha.monitoring.status import replica_report_send, status_check


@shared_task
def write_heartbeat() -> None:
    if not is_read_only_node():
        heartbeat_write()


@shared_task
def check_status() -> None:
    status_check()


@shared_task
def report_to_primary() -> None:
    """A secondary reports what it sees; a promoted primary announces its epoch to
    the primary it replaced (ha/failover/fencing.py)."""
    role = current_role()
    if role == "secondary":
        replica_report_send()
    elif role == "primary":
        epoch_announce()
