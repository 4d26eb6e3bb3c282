from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vault.keyring import MasterKeyError, new_key_file


class Command(BaseCommand):
    help = "Write a new random 256-bit master key file (mode 0400)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            key = new_key_file(path)
        except MasterKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Wrote master key {key.key_id} to {path} (mode 0400). "
                          f"Keep a copy offline: without it the vault cannot be read.")
