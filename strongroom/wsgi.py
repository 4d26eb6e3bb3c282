import os

import django

from strongroom.startup_errors import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
settings_or_exit()
# What django.core.wsgi.get_wsgi_application does, with the API's own chain.
django.setup(set_prefix=False)
from strongroom.handlers import PathDispatch  # noqa: E402

application = PathDispatch()

# The master key is read once, here, before the first request; after this the
# key file may be removed or its device taken offline.
from vault.startup import start_up_or_exit  # noqa: E402
from ha.startup import start_up_check  # noqa: E402

start_up_or_exit()
start_up_check()
