import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.roles import ADMINISTRATOR
from audit.services import Action, audit_record


class Command(BaseCommand):
    help = ("Create the first administrator when the vault has no users; the generated "
            "password is written to a 0600 file, never to the terminal log.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password-file", type=Path, required=True)

    @transaction.atomic
    def handle(self, *args, username: str, password_file: Path, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Users exist already; no administrator created.")
            return
        password = secrets.token_urlsafe(15)
        user = User.objects.create_user(username, password=password)
        user.groups.add(Group.objects.get(name=ADMINISTRATOR))
        audit_record(action=Action.USER_CREATE, actor_name="system", target=user,
                     detail={"role": ADMINISTRATOR})
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
        self.stdout.write(f"Created administrator {username}; password in {password_file}")
