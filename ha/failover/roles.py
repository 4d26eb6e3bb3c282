"""Role changes (the role *reading* is ha/role.py): the role in ha.env, the app
account's grants and the server's read_only, kept in line with each other."""
from __future__ import annotations

import logging
import time

from django.db import connections, router
from django.utils import timezone

from ha.models import ReplicaReport
from ha.nodeconfig import write_ha_env
from ha.replication.dbconnect import admin_cursor, query_one
from ha.replication.grants import app_grants_apply
from ha.role import READ_ONLY_ROLES, current_role

logger = logging.getLogger(__name__)
# Requests under way when a node turns read-only: the slowest page takes well under this.
ROLE_CHANGE_DRAIN_SECONDS = 1.0


def role_change(role: str, **values: str) -> None:
    """The role first: the app follows it at once (refusing writes when read-only),
    and the status checks keep the server's read_only in line with it
    (server_read_only_enforce). Then the grants, then ha.env once more, so that every
    process reconnects with them (ha/role.py). A server turning read-only waits a
    moment first: a request already under way finishes instead of failing."""
    write_ha_env({"STRONGROOM_ROLE": role, **values})
    app_grants_apply(role=role)
    write_ha_env({"ROLE_SINCE": timezone.now().isoformat()})
    read_only = role in READ_ONLY_ROLES
    if read_only:
        time.sleep(ROLE_CHANGE_DRAIN_SECONDS)
    with admin_cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if read_only else 'OFF'}")
    connections.close_all()


def server_read_only_enforce() -> None:
    """The server's read_only follows the role, whatever its config file says: a
    fenced node's restarted server comes up writable, a promoted one read-only."""
    role = current_role()
    if role not in ("primary", "fenced", "secondary"):
        return
    wanted = 0 if role == "primary" else 1
    with connections[router.db_for_write(ReplicaReport)].cursor() as cursor:
        if query_one(cursor, "SELECT @@global.read_only") == wanted:
            return
    with admin_cursor() as cursor:
        cursor.execute(f"SET GLOBAL read_only = {'ON' if wanted else 'OFF'}")
    logger.warning("read_only set %s: this node is %s", "ON" if wanted else "OFF", role)
