from django.db import models


class Heartbeat(models.Model):
    """Written by the primary every second (replicated). Its age on the secondary is
    how fresh the secondary's data is and how fast a dead link is noticed."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node = models.CharField(max_length=255)
    beat_at = models.DateTimeField()
