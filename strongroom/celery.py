import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")

app = Celery("strongroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def load_master_key(**_kwargs) -> None:
    # A worker decrypts nothing without the key; refuse to start like the web does.
    from vault.startup import start_up_or_exit

    start_up_or_exit()
