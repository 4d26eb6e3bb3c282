from django.core.management.base import BaseCommand, CommandError

from audit.integrity import verify_trail
from audit.models import AuditOutbox, OutboxSeal
from ha.router import is_read_only_node


class Command(BaseCommand):
    help = ("Recompute every audit event hash and seal; report the first broken link. "
            "On a secondary, its outbox chain is checked too.")

    def handle(self, *args, **options):
        trails = [("audit trail", {})]
        if is_read_only_node():
            trails.append(("outbox", {"events": AuditOutbox, "seals": OutboxSeal}))
        for name, models in trails:
            report = verify_trail(**models)
            if not report.ok:
                raise CommandError(f"{name} BROKEN: {report.problem}")
            self.stdout.write(f"{name} intact: {report.events_checked} events, "
                              f"{report.seals_checked} seals, {report.unsealed_events} events "
                              f"not sealed yet")
