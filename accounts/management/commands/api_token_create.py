from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--days", type=int, default=None,
                            help="Lifetime (default STRONGROOM_API_TOKEN_DAYS).")

    def handle(self, *args, user: str, name: str, days: int | None, **options):
        try:
            owner = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no active user {user!r}") from None
        try:
            _, raw = api_token_create(user=owner, name=name, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(raw)
