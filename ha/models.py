import uuid

from django.db import models


class Heartbeat(models.Model):
    """Written by the primary every second (replicated). Its age on the secondary is
    how fresh the secondary's data is and how fast a dead link is noticed."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node = models.CharField(max_length=255)
    beat_at = models.DateTimeField()


class ReplicaReport(models.Model):
    """What a secondary saw, inserted into the primary's local schema over the audit
    shipper's TLS account (INSERT only): the primary's own view of its replica.
    `reported_at` is the primary's clock (UTC_TIMESTAMP at insert), so no clock skew
    enters the freshness. Never replicated; the primary prunes old rows."""

    node = models.CharField(max_length=255)
    reported_at = models.DateTimeField(db_index=True)
    heartbeat_at = models.DateTimeField(null=True)
    io_running = models.CharField(max_length=16, blank=True)
    sql_running = models.CharField(max_length=16, blank=True)
    ha_status = models.CharField(max_length=16)
    replication_status = models.CharField(max_length=16)
    ha_reason = models.CharField(max_length=1000, blank=True)
    replication_reason = models.CharField(max_length=1000, blank=True)
    gtid_slave_pos = models.CharField(max_length=1000, blank=True)
    lag_ms = models.BigIntegerField(null=True)
    outbox_pending = models.IntegerField(default=0)


class NodeStatus(models.Model):
    """This node's confirmed statuses (local schema, one row), written by the check
    task every second; pages and endpoints only read it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    checked_at = models.DateTimeField(null=True)
    ha_status = models.CharField(max_length=16, default="unknown")
    ha_since = models.DateTimeField(null=True)
    ha_reason = models.CharField(max_length=1000, blank=True)
    ha_candidate = models.CharField(max_length=16, blank=True)
    ha_candidate_since = models.DateTimeField(null=True)
    ha_alerted = models.CharField(max_length=16, blank=True)
    replication_status = models.CharField(max_length=16, default="unknown")
    replication_since = models.DateTimeField(null=True)
    replication_reason = models.CharField(max_length=1000, blank=True)
    replication_candidate = models.CharField(max_length=16, blank=True)
    replication_candidate_since = models.DateTimeField(null=True)
    replication_alerted = models.CharField(max_length=16, blank=True)
    # Zero-data-loss mode (ha/semisync.py): Unknown while the mode is off.
    semisync_status = models.CharField(max_length=16, default="unknown")
    semisync_since = models.DateTimeField(null=True)
    semisync_reason = models.CharField(max_length=1000, blank=True)
    semisync_candidate = models.CharField(max_length=16, blank=True)
    semisync_candidate_since = models.DateTimeField(null=True)
    semisync_alerted = models.CharField(max_length=16, blank=True)
    details = models.JSONField(default=dict)


class Transition(models.Model):
    """A confirmed change of one status on this node (local schema): the history on
    the High Availability page and the key of the alerts it causes."""

    KINDS = (("ha", "High Availability"), ("replication", "Replication"),
             ("semisync", "Zero-Data-Loss"))

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=KINDS)
    old = models.CharField(max_length=16)
    new = models.CharField(max_length=16)
    since = models.DateTimeField()
    confirmed_at = models.DateTimeField(db_index=True)
    node = models.CharField(max_length=255)
    peer = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    # Whether alerts were asked for: a node's first status is history, not news,
    # unless it is a failure.
    alerted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-confirmed_at"]
