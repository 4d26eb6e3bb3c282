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
