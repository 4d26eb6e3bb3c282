"""Settings that do not parse stop a process with one line naming the variable and
exit 1, never a traceback: shared by every entry point (manage.py, the WSGI import,
Celery). The master key's start-up errors look the same (vault/startup.py)."""
import sys

from django.core.exceptions import ImproperlyConfigured


def settings_or_exit() -> None:
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # imports strongroom.settings, which checks every value
    except ImproperlyConfigured as exc:
        sys.exit(f"strongroom: {exc}")
