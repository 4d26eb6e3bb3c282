"""While this node's replicated schema is dropped and reloaded from the other node's
snapshot (ha.replication.install.replica_rebuild: a rejoin, a switchover's included, a pack
install, a resync), every request that reads it would fail: tables
vanish and come back one by one, and an empty user table sends a signed-in person
to the login page. The process doing the rebuild sets a marker file beside ha.env;
the web processes see it (ha/middleware.py) and answer 503 "rejoining" with a
Retry-After instead.

A web process looks at the file at most every CHECK_SECONDS (a stat costs several
microseconds here, as much as a request's URL resolution), and the rebuild waits
longer than that after setting it, so every process knows before a table goes.
The marker names the process that set it: one left behind by a process that died
mid-rebuild no longer counts, so the node is not "rejoining" forever."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.conf import settings

from ha.nodeconfig import write_private

MARKER = "rebuilding"
CHECK_SECONDS = 0.1
MESSAGE = ("This node is rejoining: its data is being rebuilt from the primary's "
           "snapshot and comes back in a few seconds. Retry in a moment, or use the "
           "primary.")

_seen = {"at": float("-inf"), "rebuilding": False}


def marker_path() -> Path:
    return settings.HA_DIR / MARKER


@contextmanager
def rebuilding() -> Iterator[None]:
    """Mark this node as being rebuilt for the duration of the block."""
    path = marker_path()
    write_private(path, f"{os.getpid()}\n")
    time.sleep(CHECK_SECONDS * 2.5)  # every web process has looked again
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        forget()


def is_rebuilding(*, fresh: bool = False) -> bool:
    """As the marker said at most CHECK_SECONDS ago (`fresh`: now)."""
    now = time.monotonic()
    if fresh or now - _seen["at"] >= CHECK_SECONDS:
        _seen.update(at=now, rebuilding=_marker_holds())
    return _seen["rebuilding"]


def forget() -> None:
    _seen.update(at=float("-inf"), rebuilding=False)


def _marker_holds() -> bool:
    try:
        pid = int(marker_path().read_text().strip() or 0)
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True  # unreadable: assume it holds
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
