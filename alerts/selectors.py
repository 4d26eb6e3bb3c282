from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from alerts.events import EVENTS
from alerts.models import AlertDelivery, AlertRule, AlertTargets


def alert_targets() -> AlertTargets:
    """The saved targets, or the defaults (nothing configured) before the first save."""
    return AlertTargets.objects.filter(pk=1).first() or AlertTargets(pk=1)


def channels_for_event(*, event: str) -> list[str]:
    rule = AlertRule.objects.filter(event=event).first()
    return rule.channels() if rule else []


def alert_rules() -> dict[str, AlertRule]:
    saved = {rule.event: rule for rule in AlertRule.objects.all()}
    return {event: saved.get(event) or AlertRule(event=event) for event in EVENTS}


def deliveries_recent(*, limit: int = 50) -> list[AlertDelivery]:
    return list(AlertDelivery.objects.all()[:limit])


def due_filter(*, now: datetime, stuck_after_seconds: float) -> Q:
    """Pending deliveries whose time has come, and claims a worker died holding."""
    stuck = now - timedelta(seconds=stuck_after_seconds)
    return (Q(status=AlertDelivery.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=AlertDelivery.Status.SENDING, claimed_at__lte=stuck))


def deliveries_due(*, stuck_after_seconds: float) -> list[int]:
    due = due_filter(now=timezone.now(), stuck_after_seconds=stuck_after_seconds)
    return list(AlertDelivery.objects.filter(due).values_list("pk", flat=True))


def deliveries_failed_count() -> int:
    """Alerts this node gave up on (every attempt failed): for /metrics."""
    return AlertDelivery.objects.filter(status=AlertDelivery.Status.FAILED).count()


def chosen_channels_without_target(*, default_recipients: list[str]) -> list[str]:
    """Channels some event fires on that have nowhere to go: said on the page, since
    each such alert would fail."""
    targets = alert_targets()
    configured = {"email": bool(targets.email_recipient_list() or default_recipients),
                  "syslog": bool(targets.syslog_host), "snmp": bool(targets.snmp_host)}
    chosen = {channel for rule in AlertRule.objects.all() for channel in rule.channels()}
    return [channel for channel in ("email", "syslog", "snmp")
            if channel in chosen and not configured[channel]]
