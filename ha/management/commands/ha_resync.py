import getpass

from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.replication.install import InstallError, ReplicationNotStarted
from ha.replication.resync import resync
from ha.replication.snapshot import SnapshotError


class Command(BaseCommand):
    help = ("On a secondary whose replication broke: rebuild its replicated schema from a "
            "fresh snapshot of the primary, taken over the network (no pack to copy), and "
            "replicate again. Audit rows not yet delivered to the primary are kept.")

    def handle(self, *args, **options):
        try:
            result = resync(by=f"{getpass.getuser()} (ha_resync)",
                            progress=lambda message: self.stdout.write(f"  {message}"))
        except (HaConfigError, SnapshotError) as exc:
            raise CommandError(f"not resynced, nothing was changed: {exc}") from None
        except ReplicationNotStarted as exc:
            raise CommandError(f"rebuilt, but replication did not start: {exc}") from None
        except InstallError as exc:
            raise CommandError(f"rebuilding failed (once the cause is fixed, run ha_resync "
                               f"again): {exc}") from None
        replica = result.replica
        self.stdout.write(
            f"Resynced from {replica.master_host}:{replica.master_port}: "
            f"{result.snapshot_bytes / 1e6:.2f} MB snapshot at GTID {result.gtid_position}, "
            f"in {result.seconds:.1f} s; replicating again over TLS.")
        self.stdout.write(f"  undelivered audit rows kept in the outbox: {result.outbox_kept}")
        self.stdout.write("  this node's web and Celery processes need no restart (same "
                          "accounts and certificates).")
