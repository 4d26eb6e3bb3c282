from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditSeal
from audit.sealing import audit_seal_all
from audit.services import audit_witness, this_node_trail
from vault.startup import master_key_loaded
from vault import keyring


class Command(BaseCommand):
    help = ("Seal the audit events recorded since the last seal (beat does this every "
            "10 s); on a secondary, its outbox.")

    def add_arguments(self, parser):
        parser.add_argument("--horizon", type=float, default=5.0,
                            help="leave events younger than this many seconds unsealed")

    def handle(self, *args, horizon: float, **options):
        try:
            master_key_loaded()  # the seals' HMAC key is sealed by the master key
        except keyring.MasterKeyError as exc:
            raise CommandError(str(exc)) from None
        events, seals = this_node_trail()
        sealed = audit_seal_all(horizon_seconds=horizon, events=events, seals=seals)
        audit_witness(seals=AuditSeal)
        self.stdout.write(f"sealed {sealed} events")
