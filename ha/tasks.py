from celery import shared_task

from ha.router import is_read_only_node
from ha.services import heartbeat_write


@shared_task
def write_heartbeat() -> None:
    if not is_read_only_node():
        heartbeat_write()
