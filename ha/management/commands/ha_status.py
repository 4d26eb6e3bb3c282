from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from ha.monitoring.observe import ALIVE, FAILED, observe
from ha.role import current_role


class Command(BaseCommand):
    help = ("This node's two HA statuses, looked at now with the same code as the "
            "status checks: High Availability and Replication, their reasons and "
            "details. Exit 1 unless both are Alive (a standalone node exits 0).")

    def handle(self, *args, **options):
        self.stdout.write(f"node {settings.NODE_NAME}, role {current_role()}")
        try:
            seen = observe(now=timezone.now())
        except DatabaseError as exc:
            raise CommandError(f"this node's database does not answer: {exc}") from None
        for title, status, reason in (("High Availability", seen.ha, seen.ha_reason),
                                      ("Replication", seen.replication,
                                       seen.replication_reason)):
            self.stdout.write(f"{title} Status: {status.capitalize()}"
                              + (f" ({reason})" if reason else ""))
        if settings.HA_ZERO_DATA_LOSS:
            self.stdout.write(f"Zero-Data-Loss Status: {seen.semisync.capitalize()}"
                              + (f" ({seen.semisync_reason})" if seen.semisync_reason else ""))
        for name, value in seen.details.items():
            self.stdout.write(f"  {name}: {'-' if value is None else value}")
        if current_role() == "standalone":
            return
        problems = [reason or f"{title} is {status}" for title, status, reason in (
            ("High Availability", seen.ha, seen.ha_reason),
            ("Replication", seen.replication, seen.replication_reason)) if status != ALIVE]
        if settings.HA_ZERO_DATA_LOSS and seen.semisync == FAILED:
            problems.append(seen.semisync_reason)
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write("healthy: replicating and fresh")
