from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.shipping import pending_count
from ha.dbconnect import HaConfigError, admin_cursor
from ha.models import Heartbeat
from ha.replica import replica_state
from ha.router import is_read_only_node

# The primary stamps its heartbeat every second; older than this, the link is down.
HEARTBEAT_STALE_SECONDS = 3.0


class Command(BaseCommand):
    help = ("This node's HA state for an operator: role, replication threads and errors, "
            "age of the primary's heartbeat, audit rows waiting. Exit 1 when unhealthy.")

    def handle(self, *args, **options):
        self.stdout.write(f"node {settings.NODE_NAME}, role {settings.NODE_ROLE}")
        if not is_read_only_node():
            return
        try:
            with admin_cursor() as cursor:
                state = replica_state(cursor)
        except HaConfigError as exc:
            raise CommandError(str(exc)) from None
        beat = Heartbeat.objects.filter(id=1).values_list("beat_at", flat=True).first()
        age = (timezone.now() - beat).total_seconds() if beat else None
        self.stdout.write(f"replica I/O: {state.io_running or 'not configured'}, "
                          f"SQL: {state.sql_running or '-'}, from "
                          f"{state.master_host}:{state.master_port}")
        self.stdout.write("primary heartbeat: " + (f"{age:.1f} s old" if age is not None
                                                   else "never received"))
        self.stdout.write(f"audit rows waiting for the primary: {pending_count()}")
        problems = [state.problem] if state.problem else []
        if state.io_running != "Yes" or state.sql_running != "Yes":
            problems.append("replication is not running")
        if age is None or age > HEARTBEAT_STALE_SECONDS:
            problems.append("the primary's heartbeat is stale: the primary or the link is down")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write("healthy: replicating and fresh")
