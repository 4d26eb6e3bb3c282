"""HA writes that run all the time (the setup commands live in setup.py/install.py)."""
from django.conf import settings
from django.utils import timezone

from ha.models import Heartbeat


def heartbeat_write() -> None:
    """The primary stamps the time; replication carries it to the secondary, where its
    age says how fresh the data is and whether the link is alive."""
    Heartbeat.objects.update_or_create(id=1, defaults={"node": settings.NODE_NAME,
                                                       "beat_at": timezone.now()})
