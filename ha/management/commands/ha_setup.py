import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ha.replication.dbconnect import HaConfigError
from ha.replication.setup import HaSetupError, ha_setup
from vault.keyring import MasterKeyError


class Command(BaseCommand):
    help = ("On the primary: build the HA pack (snapshot, replication position, "
            "credentials, TLS material, the secondary's settings) while it keeps serving.")

    def add_arguments(self, parser):
        parser.add_argument("primary_fqdn")
        parser.add_argument("secondary_fqdn")
        parser.add_argument("--primary-address",
                            help="address the secondary connects to (default: the primary FQDN)")
        parser.add_argument("--primary-port", type=int,
                            help="the primary's MariaDB port (default: DB_PORT)")
        parser.add_argument("--output", type=Path,
                            default=settings.HA_DIR / "replication" / "HAPack.zip")
        parser.add_argument("--caller-restarts", action="store_true",
                            help="the caller restarts this node's processes next "
                                 "(strongroom-node pack does): do not ask for it")

    def handle(self, *args, primary_fqdn, secondary_fqdn, primary_address, primary_port,
               output, caller_restarts, **options):
        started = time.monotonic()
        try:
            result = ha_setup(
                primary_fqdn=primary_fqdn, secondary_fqdn=secondary_fqdn,
                primary_address=primary_address or primary_fqdn,
                primary_port=primary_port or int(settings.DATABASES["default"]["PORT"]),
                output=output, progress=lambda message: self.stdout.write(f"  {message}"))
        except (HaSetupError, HaConfigError, MasterKeyError) as exc:
            raise CommandError(str(exc)) from None
        name = result.pack_path.name
        self.stdout.write(f"HA pack ready in {time.monotonic() - started:.1f} s: "
                          f"{result.pack_path} (mode 0600, no master key inside).")
        if result.rejoin:
            self.stdout.write(
                f"Next, on {secondary_fqdn}, the primary this node replaced (it keeps its "
                f"master key): ha_rejoin {name} (strongroom-node manage ha_rejoin {name}).")
        else:
            self.stdout.write(
                f"Next, on {secondary_fqdn}, with a copy of this vault's master key: "
                f"ha_install_pack {name} (strongroom-node join {name} master.key).")
        if not caller_restarts:
            # Settings are read at start: running processes still think they are standalone.
            self.stdout.write("Restart this node's web and Celery processes: they then run "
                              "as the primary.")
