from celery import shared_task
from django.utils import timezone

from ha.failover import epoch_announce
from ha.models import ReplicaReport
from ha.role import current_role
from ha.router import is_read_only_node
from ha.services import heartbeat_write
from ha.status import replica_report_send, status_check


@shared_task
def write_heartbeat() -> None:
    if not is_read_only_node():
        heartbeat_write()


@shared_task
def check_status() -> None:
    status_check()
    ReplicaReport.prune(now=timezone.now())


@shared_task
def report_to_primary() -> None:
    """A secondary reports what it sees; a promoted primary announces its epoch to
    the primary it replaced (ha/failover.py)."""
    role = current_role()
    if role == "secondary":
        replica_report_send()
    elif role == "primary":
        epoch_announce()
