from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.failover.divergence import DivergenceError
from ha.failover.errors import FailoverError
from ha.replication.install import InstallError, ReplicationNotStarted
from ha.replication.pack import PackError
from ha.failover.rejoin import rejoin


class Command(BaseCommand):
    help = ("On a fenced old primary: write what it committed after the promotion point "
            "to a divergence report, carry its audit rows into the new primary's trail, "
            "then rebuild it as the new primary's secondary from a pack built there with "
            "ha_setup.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the pack ha_setup built on the new primary")
        parser.add_argument("--force", action="store_true",
                            help="install a pack built for another host name")
        parser.add_argument("--max-age-hours", type=float, default=24.0)
        parser.add_argument("--report-only", action="store_true",
                            help="write the divergence report and carry the audit rows, then "
                                 "stop: this node is not rebuilt (run again without it)")

    def handle(self, *args, path, force, max_age_hours, report_only, **options):
        try:
            result = rejoin(path=path, force_host=force, max_age=timedelta(hours=max_age_hours),
                            report_only=report_only,
                            progress=lambda message: self.stdout.write(f"  {message}"))
        except (PackError, FailoverError, HaConfigError, DivergenceError) as exc:
            raise CommandError(f"not rejoined, nothing was changed: {exc}") from None
        except ReplicationNotStarted as exc:
            raise CommandError(f"rebuilt, but replication did not start: {exc}") from None
        except InstallError as exc:
            raise CommandError(f"rebuilding failed: {exc}") from None
        count = len(result.divergence.transactions)
        if result.install is None:
            self.stdout.write("Not rebuilt (--report-only): this node is still fenced; run "
                              "ha_rejoin again without --report-only to rebuild it.")
        else:
            replica = result.install.replica
            self.stdout.write(f"Rejoined as a secondary: replicating from "
                              f"{replica.master_host}:{replica.master_port} over TLS.")
        self.stdout.write(f"Divergence report: {result.report} ({count} transaction(s) to "
                          f"review{'; re-apply what is still wanted on the new primary' if count else ''}).")
        self.stdout.write(f"Audit rows carried into the new primary's trail: "
                          f"{result.carried.new} (of {result.carried.found} recorded here "
                          f"after the promotion point or not yet delivered; the rest were "
                          f"there already).")
        if result.install is None:
            return
        self.stdout.write("Restart this node's web and Celery processes: they ship audit rows "
                          "to the new primary only after a restart.")
