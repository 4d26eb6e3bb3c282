"""Gunicorn reads this file from the directory it starts in (the project root).

The master process loads the app, and with it the master key, before it forks:
a worker respawned after the key file was removed inherits the key in memory
instead of failing to boot (R-V3). Start-up closes its database connections, so
no worker shares the master's."""
preload_app = True
