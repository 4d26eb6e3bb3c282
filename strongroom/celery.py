import os

from celery import Celery
from celery.signals import worker_init

from strongroom.startup_errors import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")

app = Celery("strongroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def settings_first(**_kwargs) -> None:
    # Celery reads Django's settings lazily, deep inside its command line: a value
    # that does not parse must stop it here with one line, like manage.py.
    settings_or_exit()


@worker_init.connect
def load_master_key(**_kwargs) -> None:
    # A worker decrypts nothing without the key; refuse to start like the web does.
    from ha.startup import start_up_check
    from vault.startup import start_up_or_exit

    start_up_or_exit()
    start_up_check()
