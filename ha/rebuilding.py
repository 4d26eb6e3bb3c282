"""While this node's replicated schema is dropped and reloaded from the other node's
snapshot (a switchover's rejoin), every request that reads it would fail: tables
vanish and come back one by one. The process doing the rebuild sets a marker file
beside ha.env; the web processes see it (ha/middleware.py) and answer 503
"rejoining" with a Retry-After instead of a 500.

The marker names the process that set it: a marker left behind by a process that
died mid-rebuild no longer counts, so the node is not "rejoining" forever."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.conf import settings

from ha.nodeconfig import write_private

MARKER = "rebuilding"
MESSAGE = ("This node is rejoining: its data is being rebuilt from the primary's "
           "snapshot and comes back in a few seconds. Retry in a moment, or use the "
           "primary.")


def marker_path() -> Path:
    return settings.HA_DIR / MARKER


@contextmanager
def rebuilding() -> Iterator[None]:
    """Mark this node as being rebuilt for the duration of the block."""
    path = marker_path()
    write_private(path, f"{os.getpid()}\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def is_rebuilding() -> bool:
    """One failed open per call while no rebuild runs; a read and a signal 0 while
    one does."""
    try:
        pid = int(marker_path().read_text().strip() or 0)
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True  # being written this very moment, or unreadable: assume it holds
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
