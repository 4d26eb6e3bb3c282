from django.db.models import QuerySet

from audit.models import AuditEvent


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
