"""Process start-up (web, Celery worker, commands that read the vault): read the
master key file once, prove it is this database's key, hold the data keys it opens.
After this the key file may be removed or its device taken offline."""
from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections

from ha.router import is_read_only_node
from vault import datakeys, keyring


def start_up(path: Path | None = None) -> keyring.MasterKey:
    """Load the configured key and prove it is this database's key."""
    master = keyring.read_key_file(Path(path or settings.MASTER_KEY_FILE))
    keyring.forget_all()
    keyring.install(master)
    try:
        datakeys.unlock(master=master, writable=not is_read_only_node())
    except BaseException:
        keyring.forget_all()
        raise
    return master


def master_key_loaded() -> None:
    """Commands run outside the web and worker processes, which load the key at start."""
    try:
        keyring.master_key()
    except keyring.MasterKeyError:
        start_up()


def start_up_or_exit() -> None:
    try:
        start_up()
    except keyring.MasterKeyError as exc:
        sys.exit(f"strongroom: refusing to start: {exc}")
    except DatabaseError as exc:
        sys.exit(f"strongroom: refusing to start: cannot check the master key "
                 f"against the database ({exc.__class__.__name__}: {exc.args[-1]})")
    finally:
        # Start-up may run in a parent that forks workers (gunicorn --preload, the
        # Celery pool): a forked child must never share the parent's connection.
        connections.close_all()
