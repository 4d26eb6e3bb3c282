from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.replication.replica import reconfigure


class Command(BaseCommand):
    help = "On the secondary: repoint replication at the primary's new address or port."

    def add_arguments(self, parser):
        parser.add_argument("--primary-host", required=True)
        parser.add_argument("--primary-port", type=int, required=True)

    def handle(self, *args, primary_host, primary_port, **options):
        try:
            state = reconfigure(host=primary_host, port=primary_port)
        except HaConfigError as exc:
            raise CommandError(str(exc)) from None
        if state.problem or state.io_running != "Yes":
            raise CommandError(f"repointed to {primary_host}:{primary_port}, but replication "
                               f"is not running: {state.problem or state.io_running}")
        self.stdout.write(f"Replicating from {primary_host}:{primary_port}. Restart this "
                          f"node's Celery processes so audit shipping follows.")
