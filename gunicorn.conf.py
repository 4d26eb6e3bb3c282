"""Gunicorn reads this file from the directory it starts in (the project root).

The master process loads the app, and with it the master key, before it forks:
a worker respawned after the key file was removed inherits the key in memory
instead of failing to boot (R-V3). Start-up closes its database connections, so
no worker shares the master's."""
preload_app = True

import os  # noqa: E402

# Threads per worker (STRONGROOM_WEB_THREADS): a request spends much of its time
# waiting for MariaDB (the audit row's durable commit), time another thread can use.
_threads = os.environ.get("STRONGROOM_WEB_THREADS", "1")
if not _threads.isdigit() or int(_threads) < 1:
    raise SystemExit(f"STRONGROOM_WEB_THREADS must be a whole number ≥ 1, not {_threads!r}")
threads = int(_threads)
worker_class = "gthread" if threads > 1 else "sync"
