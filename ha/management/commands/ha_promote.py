import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.failover.errors import FailoverError
from ha.failover.promote import promote
from vault.startup import master_key_loaded


class Command(BaseCommand):
    help = ("On the secondary, when the primary is lost: apply what was received, make "
            "this node the writable primary and record a new epoch (the old primary is "
            "fenced when it hears of it). Refused while the old primary is reachable.")

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="why (kept in the epoch and audit)")
        parser.add_argument("--force", action="store_true",
                            help="promote even though the old primary still answers (it is "
                                 "fenced as soon as it hears of the new epoch)")

    def handle(self, *args, reason, force, **options):
        master_key_loaded()
        self.stdout.write(f"Promoting {settings.NODE_NAME}. Data at risk:")
        try:
            result = promote(by=f"{getpass.getuser()} (ha_promote)", reason=reason,
                             force=force, progress=lambda line: self.stdout.write(f"  {line}"))
        except (FailoverError, HaConfigError) as exc:
            raise CommandError(f"not promoted: {exc}") from None
        epoch = result.epoch
        self.stdout.write(
            f"{settings.NODE_NAME} is the primary now (epoch {epoch.number}, replacing "
            f"{epoch.previous_primary or 'an unknown primary'}); its running web and Celery "
            f"processes accept changes without a restart.")
        self.stdout.write(f"  audit rows of this node moved into its trail: "
                          f"{result.audit_rows_moved}")
        self.stdout.write(
            f"  the old primary fences itself when its database is reachable from here; "
            f"before starting it where this node cannot reach it, copy "
            f"{result.notice_path} into its HA directory (STRONGROOM_HA_DIR).")
        self.stdout.write("  next: build a new secondary from this node (ha_setup), or make "
                          "the old primary one with ha_rejoin.")
