from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ha.router import is_read_only_node
from vault import keyring
from vault.rotation import RotationError, master_key_rotate, rotation_finish
from vault.startup import start_up


class Command(BaseCommand):
    help = ("Rotate the master key while every node serves. Phase 1 (with the old key "
            "configured): `master_key_rotate NEW_KEY_FILE`. Then configure NEW_KEY_FILE "
            "on both nodes and restart them. Phase 2: `master_key_rotate --finish`. "
            "Each phase is safe to rerun after an interruption.")

    def add_arguments(self, parser):
        parser.add_argument("new_key_path", type=Path, nargs="?")
        parser.add_argument("--finish", action="store_true",
                            help="retire the old master key (after both nodes restarted "
                                 "with the new one)")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, new_key_path: Path | None, finish: bool, batch_size: int,
               **options):
        if finish == (new_key_path is not None):
            raise CommandError("give either NEW_KEY_FILE (phase 1) or --finish (phase 2)")
        if is_read_only_node():
            raise CommandError("run master_key_rotate on the primary: this node is a "
                               "read-only secondary (it follows through replication)")
        try:
            start_up()
            if finish:
                self._finish(batch_size)
            else:
                self._begin(keyring.read_key_file(new_key_path), new_key_path, batch_size)
        except (keyring.MasterKeyError, RotationError) as exc:
            raise CommandError(str(exc)) from None

    def _begin(self, new_key: keyring.MasterKey, path: Path, batch_size: int) -> None:
        done = master_key_rotate(new_key=new_key, batch_size=batch_size,
                                 on_progress=self._progress)
        self.stdout.write(
            f"\nRe-encrypted {done} values under a new data key that master keys "
            f"{keyring.master_key().key_id} (old) and {new_key.key_id} (new) both open.\n"
            f"Next, on EVERY node (primary and secondary): point "
            f"STRONGROOM_MASTER_KEY_FILE at a copy of {path} and restart web and Celery.\n"
            f"Then, on the primary: manage.py master_key_rotate --finish")

    def _finish(self, batch_size: int) -> None:
        done = rotation_finish(batch_size=batch_size, on_progress=self._progress)
        self.stdout.write(f"\nRe-encrypted {done} more values. Only master key "
                          f"{keyring.master_key().key_id} opens this vault now; the old "
                          f"key is retired (start-up with it is refused).")

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
