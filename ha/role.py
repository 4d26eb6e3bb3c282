"""This node's role as its HA settings say now, not as they said when the process
started: a promotion (ha_promote) or a fence takes effect in the running web and
Celery processes at once, with no restart and no window in which they disagree.

ha.env (ha/nodeconfig.py) is the one place a role is kept; settings.NODE_ROLE is what
the process started with and stays the answer while ha.env names no role. The file is
re-read only when its modification time or size changes (one stat per call).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from django.conf import settings
from django.db import connections

from strongroom.envfile import read_env_file

ROLES = ("standalone", "primary", "secondary", "fenced")
# A fenced node is an old primary that learned of a newer epoch: read-only like a
# secondary, but replicating from nobody until ha_rejoin makes it one.
READ_ONLY_ROLES = frozenset({"secondary", "fenced"})

_cache: dict[str, object] = {"key": None, "role": "", "connected_as": None}


def current_role() -> str:
    path = _ha_env(settings.HA_DIR)
    try:
        status = os.stat(path)
        key = (path, status.st_mtime_ns, status.st_size)
    except FileNotFoundError:
        key = (path, None, None)
    if _cache["key"] != key:
        role = read_env_file(Path(path)).get("STRONGROOM_ROLE", "") if key[1] is not None \
            else ""
        _cache.update(key=key, role=role if role in ROLES else "")
    return _cache["role"] or settings.NODE_ROLE


@functools.lru_cache(maxsize=8)
def _ha_env(ha_dir: Path) -> str:
    # Asked several times per request: the path is built once (issue 12).
    return str(ha_dir / "ha.env")


def is_read_only_node() -> bool:
    return current_role() in READ_ONLY_ROLES


def connections_follow_role(**kwargs) -> None:
    """Before each request and task: after ha.env changed, drop this process's database
    connections. MariaDB applies global privileges (READ_ONLY ADMIN) only to new
    connections, so a connection opened before a role change's grants keeps the old
    ones (ha/failover/roles.py rewrites ha.env once the grants are in place)."""
    current_role()
    key = _cache["key"]
    if _cache["connected_as"] not in (None, key):
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
    _cache["connected_as"] = key
