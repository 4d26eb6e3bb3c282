from celery import shared_task

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


@shared_task
def report_to_primary() -> None:
    if is_read_only_node():
        replica_report_send()
