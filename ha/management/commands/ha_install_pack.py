import time
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.replication.install import InstallError, ReplicationNotStarted, pack_install
from ha.replication.pack import PackError


class Command(BaseCommand):
    help = ("On the secondary: verify an HA pack, load its snapshot and start TLS "
            "replication from the primary. A bad pack is refused and changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--force", action="store_true",
                            help="install a pack built for another host name")
        parser.add_argument("--max-age-hours", type=float, default=24.0)
        parser.add_argument("--caller-restarts", action="store_true",
                            help="the caller restarts this node's processes next "
                                 "(strongroom-node join does): do not ask for it")

    def handle(self, *args, path, force, max_age_hours, caller_restarts, **options):
        started = time.monotonic()
        try:
            result = pack_install(path=path, force_host=force,
                                  max_age=timedelta(hours=max_age_hours),
                                  progress=lambda message: self.stdout.write(f"  {message}"))
        except (PackError, HaConfigError) as exc:
            raise CommandError(f"pack refused: {exc}") from None
        except ReplicationNotStarted as exc:
            raise CommandError(f"the pack is installed, but replication did not start: "
                               f"{exc}") from None
        except InstallError as exc:
            raise CommandError(f"installation failed: {exc}") from None
        replica = result.replica
        self.stdout.write(f"Installed in {time.monotonic() - started:.1f} s: replicating "
                          f"from {replica.master_host}:{replica.master_port} over TLS.")
        if not caller_restarts:
            self.stdout.write("Start (or restart) this node's web and Celery processes: it "
                              "now serves read-only.")
