"""What an administrator chose (replicated: edited on the primary, read on both nodes)
and what this node sent (local: a read-only secondary must record its own alerts)."""
from django.db import models

from alerts.events import EVENT_TITLES


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SYSLOG = "syslog", "Syslog"
    SNMP = "snmp", "SNMP trap"


class AlertRule(models.Model):
    """Which channels fire for one event. No row: no channel fires."""

    event = models.CharField(max_length=32, unique=True, choices=list(EVENT_TITLES.items()))
    email = models.BooleanField(default=False)
    syslog = models.BooleanField(default=False)
    snmp = models.BooleanField(default=False)

    def channels(self) -> list[str]:
        return [channel for channel in Channel.values if getattr(self, channel)]


class AlertTargets(models.Model):
    """Where each channel sends: one row (pk 1). The SMTP server, its account and the
    SNMP community come from the node's settings, never from this replicated row."""

    class Transport(models.TextChoices):
        UDP = "udp", "UDP"
        TCP = "tcp", "TCP"

    email_recipients = models.CharField(
        max_length=1000, blank=True,
        help_text="Comma-separated; empty uses STRONGROOM_ALERT_EMAIL_TO.")
    syslog_host = models.CharField(max_length=255, blank=True)
    syslog_port = models.PositiveIntegerField(default=514)
    syslog_transport = models.CharField(max_length=3, choices=Transport.choices,
                                        default=Transport.UDP)
    snmp_host = models.CharField(max_length=255, blank=True)
    snmp_port = models.PositiveIntegerField(default=162)
    updated_at = models.DateTimeField(auto_now=True)

    def email_recipient_list(self) -> list[str]:
        return [address.strip() for address in self.email_recipients.split(",")
                if address.strip()]


class AlertDelivery(models.Model):
    """One alert for one transition on one channel: created once (unique), claimed by
    a conditional update before each attempt, so no two workers send it twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    transition_id = models.UUIDField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    event = models.CharField(max_length=32, choices=list(EVENT_TITLES.items()))
    node = models.CharField(max_length=255)
    peer = models.CharField(max_length=255, blank=True)
    since = models.DateTimeField()
    detail = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["transition_id", "channel"],
                                               name="alert_once_per_transition_channel")]

    def __str__(self) -> str:
        return f"{EVENT_TITLES.get(self.event, self.event)} by {self.get_channel_display()}"
