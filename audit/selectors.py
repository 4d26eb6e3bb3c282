from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from django.db.models import QuerySet

from audit.models import AuditEvent, AuditOutbox

PAGE_SIZE = 50


def events_filtered(*, actor: str = "", action: str = "", node: str = "", since=None,
                    until=None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-id")
    if actor:
        # The column's collation is case-insensitive (utf8mb4_general_ci): = matches as
        # iexact did, but as an equality the (actor, action, occurred_at) index serves it.
        events = events.filter(actor=actor)
    if action:
        events = events.filter(action=action)
    if node:
        events = events.filter(node__icontains=node)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lte=until)
    return events


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer: int | None  # the cursor (?after=) of the page before, None on the newest
    older: int | None  # the cursor (?before=) of the page after, None on the oldest


def events_page(*, events: QuerySet[AuditEvent], before: int | None = None,
                after: int | None = None, size: int = PAGE_SIZE) -> EventPage:
    """One page of a newest-first trail by keyset on the id: no COUNT(*) and no OFFSET,
    so a page costs the same on the millionth row as on the first."""
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[:size + 1])
        if len(rows) <= size:
            return events_page(events=events, size=size)  # reached the newest page
        rows = rows[:size][::-1]
        return EventPage(rows, newer=rows[0].id, older=_older(events, rows))
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events[:size + 1])
    newer = rows[0].id if before is not None and rows else None
    return EventPage(rows[:size], newer=newer, older=rows[size - 1].id if len(rows) > size
                     else None)


def _older(events: QuerySet[AuditEvent], rows: list[AuditEvent]) -> int | None:
    return rows[-1].id if events.filter(id__lt=rows[-1].id).exists() else None


def events_in_chunks(events: QuerySet[AuditEvent], *fields: str,
                     chunk_size: int = 2000) -> Iterator[tuple]:
    """The rows' `fields` newest first (the first field must be "id"), fetched as keyset
    chunks: mysqlclient buffers a whole result client-side, even with .iterator(), so
    memory stays bounded only if no single query returns the whole trail."""
    if fields[0] != "id":
        raise ValueError("events_in_chunks needs the id as its first field")
    last_id = None
    while True:
        chunk = events if last_id is None else events.filter(id__lt=last_id)
        rows = list(chunk.order_by("-id").values_list(*fields)[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        last_id = rows[-1][0]


def outbox_pending(*, limit: int = 200) -> QuerySet[AuditOutbox]:
    """Events of this (secondary) node not yet in the primary's trail, newest first."""
    return AuditOutbox.objects.filter(delivered_at__isnull=True).order_by("-id")[:limit]
