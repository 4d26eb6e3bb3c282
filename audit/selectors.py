from django.db.models import QuerySet

from audit.models import AuditEvent, AuditOutbox


def events_filtered(*, actor: str = "", action: str = "", node: str = "", since=None,
                    until=None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-id")
    if actor:
        events = events.filter(actor__iexact=actor)
    if action:
        events = events.filter(action=action)
    if node:
        events = events.filter(node__icontains=node)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lte=until)
    return events


def outbox_pending(*, limit: int = 200) -> QuerySet[AuditOutbox]:
    """Events of this (secondary) node not yet in the primary's trail, newest first."""
    return AuditOutbox.objects.filter(delivered_at__isnull=True).order_by("-id")[:limit]
