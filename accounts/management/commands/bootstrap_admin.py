import secrets
from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.roles import ADMINISTRATOR
from audit.services import Action, audit_record
from strongroom.env import without_line_ending


class Command(BaseCommand):
    help = ("Create the first administrator when the vault has no users. The password "
            "is read from --password-file when it holds one (it is never overwritten); "
            "otherwise one is generated into that file (mode 0600), never to the log.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password-file", type=Path, required=True)

    @transaction.atomic
    def handle(self, *args, username: str, password_file: Path, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Users exist already; no administrator created.")
            return
        password = _read_password(password_file)
        if password is None:
            password = secrets.token_urlsafe(15)
            _write_private(password_file, password + "\n")
        else:
            try:
                password_validation.validate_password(password, User(username=username))
            except ValidationError as exc:
                raise CommandError(f"the password in {password_file} is too weak: "
                                   f"{' '.join(exc.messages)}") from None
        user = User.objects.create_user(username, password=password)
        user.groups.add(Group.objects.get(name=ADMINISTRATOR))
        audit_record(action=Action.USER_CREATE, actor_name="system", target=user,
                     detail={"role": ADMINISTRATOR})
        self.stdout.write(f"Created administrator {username}; password in {password_file}")


def _read_password(path: Path) -> str | None:
    """An operator may choose the password: a file that holds one is read, not replaced."""
    try:
        return without_line_ending(path.read_text()) or None
    except FileNotFoundError:
        return None


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # an empty file someone made may have any mode
    path.write_text(content)
