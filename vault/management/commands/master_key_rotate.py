from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vault import keyring
from vault.rotation import master_key_rotate


class Command(BaseCommand):
    help = ("Re-encrypt every stored value under a new master key (made with "
            "master_key_create). Safe to rerun after an interruption.")

    def add_arguments(self, parser):
        parser.add_argument("new_key_path", type=Path)
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, new_key_path: Path, batch_size: int, **options):
        try:
            keyring.start_up(rotating=True)
            new_key = keyring.read_key_file(new_key_path)
        except keyring.MasterKeyError as exc:
            raise CommandError(str(exc)) from None
        done = master_key_rotate(new_key=new_key, batch_size=batch_size,
                                 on_progress=self._progress)
        self.stdout.write(f"\nRe-encrypted {done} values under key {new_key.key_id}. "
                          f"Now point STRONGROOM_MASTER_KEY_FILE at {new_key_path} "
                          f"and restart the web and Celery processes.")

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
