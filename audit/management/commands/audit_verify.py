import time

from django.core.management.base import BaseCommand, CommandError

from audit.integrity import verify_trail
from audit.models import AuditOutbox, AuditSeal, OutboxSeal
from audit.services import audit_witness
from ha.router import is_read_only_node
from vault.startup import master_key_loaded
from vault import keyring


class Command(BaseCommand):
    help = ("Recompute every audit event hash and seal and compare the newest seal with "
            "what this node has seen; report the first broken link. On a secondary, its "
            "outbox chain is checked too.")

    def handle(self, *args, **options):
        try:
            master_key_loaded()  # the seals' HMAC key is sealed by the master key
        except keyring.MasterKeyError as exc:
            raise CommandError(str(exc)) from None
        trails = [("audit trail", {"seals": AuditSeal})]
        if is_read_only_node():
            trails.append(("outbox", {"events": AuditOutbox, "seals": OutboxSeal}))
        for name, models in trails:
            started = time.monotonic()
            report = verify_trail(**models)
            took = time.monotonic() - started
            if not report.ok:
                raise CommandError(f"{name} BROKEN: {report.problem}")
            audit_witness(seals=models["seals"])  # verified: this is now the seal to keep
            late = f", {report.late_events} sealed late" if report.late_events else ""
            self.stdout.write(f"{name} intact: {report.events_checked} events, "
                              f"{report.seals_checked} seals, {report.unsealed_events} events "
                              f"not sealed yet{late} (checked in {took:.1f} s)")
