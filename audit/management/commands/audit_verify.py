from django.core.management.base import BaseCommand, CommandError

from audit.integrity import verify_trail


class Command(BaseCommand):
    help = "Recompute every audit event hash and seal; report the first broken link."

    def handle(self, *args, **options):
        report = verify_trail()
        if not report.ok:
            raise CommandError(f"audit trail BROKEN: {report.problem}")
        self.stdout.write(f"audit trail intact: {report.events_checked} events, "
                          f"{report.seals_checked} seals, {report.unsealed_events} events "
                          f"not sealed yet")
