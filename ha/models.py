import uuid
from datetime import datetime, timedelta

from django.db import models


class Heartbeat(models.Model):
    """Written by the primary every second (replicated). Its age on the secondary is
    how fresh the secondary's data is and how fast a dead link is noticed."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node = models.CharField(max_length=255)
    beat_at = models.DateTimeField()
    # What the primary had written and whether zero-data-loss mode held at that beat:
    # after a crash, the secondary's best knowledge of what it may have missed.
    gtid_binlog_pos = models.CharField(max_length=1000, blank=True, default="")
    semi_sync = models.CharField(max_length=16, blank=True, default="")
    # Set once by a primary handing over in a planned switchover, after its last
    # change: the secondary that has applied this row has applied everything.
    handover_to = models.CharField(max_length=255, blank=True, default="")


class Epoch(models.Model):
    """One promotion (replicated): the number only grows. A node that was primary in
    an older epoch and hears of a newer one fences itself (ha/failover/fencing.py)."""

    number = models.PositiveIntegerField(primary_key=True)
    node = models.CharField(max_length=255)
    promoted_at = models.DateTimeField()
    promoted_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True)
    previous_primary = models.CharField(max_length=255, blank=True)
    # Where the old primary's history ends on this node: its transactions beyond this
    # position never reached the new primary (ha_rejoin reports them).
    gtid_position = models.CharField(max_length=1000, blank=True)
    forced = models.BooleanField(default=False)


class ReplicaReport(models.Model):
    """What a secondary saw, inserted into the primary's local schema over the audit
    shipper's TLS account (INSERT only): the primary's own view of its replica.
    `reported_at` is the primary's clock (UTC_TIMESTAMP at insert), so no clock skew
    enters the freshness. Never replicated; every node prunes old rows (prune)."""

    # The freshest rows are all any reader needs; a node of any role keeps at most this.
    KEEP = timedelta(minutes=10)

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
    # A promoted node announces itself here to the primary it replaced (role
    # "primary", its epoch): how an old primary that comes back learns it is fenced.
    role = models.CharField(max_length=16, blank=True, default="")
    epoch = models.PositiveIntegerField(default=0)

    @classmethod
    def prune(cls, *, now: datetime) -> int:
        """On every role: a fenced node or a secondary receives rows too (a promoted
        node's announcement, ha/failover/fencing.py), and kept them forever."""
        return cls.objects.filter(reported_at__lt=now - cls.KEEP).delete()[0]


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
    # Zero-data-loss mode (ha/monitoring/semisync.py): Unknown while the mode is off.
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


class PeerRequest(models.Model):
    """What the other node asks of this one in a planned switchover (local schema,
    inserted over the audit shipper's TLS account and signed with a key derived from
    the vault's master key): "hand over to me" to a primary, "rejoin with this pack"
    to the primary it replaced."""

    SWITCHOVER, PACK = "switchover", "pack"

    kind = models.CharField(max_length=16)
    node = models.CharField(max_length=255)
    epoch = models.PositiveIntegerField()
    payload = models.BinaryField(blank=True, default=b"")
    mac = models.CharField(max_length=64)
    reported_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True)
