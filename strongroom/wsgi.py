import os

from django.core.wsgi import get_wsgi_application

from strongroom.startup_errors import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
settings_or_exit()
application = get_wsgi_application()

# The master key is read once, here, before the first request; after this the
# key file may be removed or its device taken offline.
from vault.startup import start_up_or_exit  # noqa: E402

start_up_or_exit()
