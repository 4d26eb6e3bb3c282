"""Django's migrate, run as the node's admin account, then the app account's grants
for the node's role (ha.replication.grants): the app account may not DROP or ALTER tables, so it
could not run migrations, and must not (it could drop the append-only audit trail).
pytest-django's test_* databases keep the plain command and the test account."""
from contextlib import contextmanager

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from ha.replication.grants import app_grants_apply


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as DB_ADMIN_USER, then sets the app account's grants."

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if _is_test_database(connection.settings_dict):
            return super().handle(*args, **options)
        if not settings.DB_ADMIN_USER:
            self.stderr.write("DB_ADMIN_USER is not set: migrating as the app account, and "
                              "the database does not keep the audit trail append-only")
            return super().handle(*args, **options)
        with _as_admin(connection):
            super().handle(*args, **options)
        app_grants_apply()


def _is_test_database(settings_dict: dict) -> bool:
    return settings_dict["NAME"] == settings_dict.get("TEST", {}).get("NAME")


@contextmanager
def _as_admin(connection):
    original = connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]
    connection.close()
    connection.settings_dict["USER"] = settings.DB_ADMIN_USER
    connection.settings_dict["PASSWORD"] = settings.DB_ADMIN_PASSWORD
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"], connection.settings_dict["PASSWORD"] = original
