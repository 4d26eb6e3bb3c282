from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.failover.errors import FailoverError
from ha.replication.setup import HaSetupError
from ha.failover.switchover import switchover
from vault.startup import master_key_loaded


class Command(BaseCommand):
    help = ("On the secondary, for planned maintenance: the primary stops taking changes, "
            "this node catches up and becomes the primary, and the old primary becomes its "
            "secondary; nothing is lost. Run it on the other node to swap back.")

    def add_arguments(self, parser):
        parser.add_argument("--address", required=True,
                            help="this node's database address as the other node reaches it")
        parser.add_argument("--port", type=int, default=None,
                            help="this node's database port (default: the one the app uses)")

    def handle(self, *args, address, port, **options):
        master_key_loaded()
        port = port or int(settings.DATABASES["default"]["PORT"])
        try:
            result = switchover(address=address, port=port,
                                progress=lambda line: self.stdout.write(f"  {line}"))
        except (FailoverError, HaConfigError, HaSetupError) as exc:
            raise CommandError(f"switchover stopped: {exc}") from None
        self.stdout.write(
            f"{settings.NODE_NAME} is the primary now (epoch {result.epoch}); "
            f"{result.old_primary} replicates from it. Changes were refused for "
            f"{result.read_only_seconds:.1f} s (from {result.old_primary} fencing itself to "
            f"this node taking changes); {result.total_seconds:.1f} s in all. "
            f"Run ha_switchover on {result.old_primary} to swap back.")
