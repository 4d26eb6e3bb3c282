"""Sealing the trail in batches, off the request path (DESIGN-NOTES: the chain must
not serialize reveals). A transaction that commits late (a delete waiting on a lock
after writing its audit row) is not lost or mistaken for tampering: the seal records
the ids still in flight and a later seal covers them once they commit."""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from audit import idsets
from audit.integrity import GENESIS_HASH, seal_mac
from audit.models import AuditEvent, AuditSeal, OutboxSeal, SealWitness
from audit.sealkey import seal_key
from ha.router import is_read_only_node


def audit_seal(*, horizon_seconds: float = 5, max_events: int = 10000, events=AuditEvent,
               seals=AuditSeal) -> AuditSeal | OutboxSeal | None:
    """Seal what committed since the last seal (older than a short horizon, so an
    INSERT still being written is never skipped) and what earlier seals left in
    flight. Two sealers cannot fork the chain: previous_hash is unique, so the
    loser's insert fails and it simply stops."""
    key = seal_key(trail=seals.TRAIL, create=not is_read_only_node())
    if key is None:
        return None  # a secondary before the primary's key has replicated: seal later
    last = seals.objects.order_by("-id").first()
    previous_hash = last.seal_hash if last else GENESIS_HASH
    high = last.last_event_id if last else 0
    carried = idsets.decode(last.pending_ids) if last else []
    cutoff = timezone.now() - timedelta(seconds=horizon_seconds)
    rows = []
    for event_id, row_hash, recorded_at in (
            events.objects.filter(id__gt=high).order_by("id")
            .values_list("id", "row_hash", "recorded_at")[:max_events]):
        if recorded_at > cutoff:
            break
        rows.append((event_id, row_hash))
    last_event_id = rows[-1][0] if rows else high
    if carried:
        rows += list(events.objects.filter(id__in=carried).values_list("id", "row_hash"))
    if not rows:
        return None
    covered = {event_id for event_id, _ in rows}
    pending = idsets.encode(_ids_written(events, after=high, up_to=last_event_id,
                                         carried=carried) - covered)
    try:
        with transaction.atomic(using=router.db_for_write(seals)):
            seal = seals.objects.create(
                first_event_id=min(covered), last_event_id=last_event_id,
                event_count=len(rows), event_ids=idsets.encode(covered), pending_ids=pending,
                previous_hash=previous_hash,
                seal_hash=seal_mac(key=key, previous_hash=previous_hash,
                                   last_event_id=last_event_id, pending_ids=pending, rows=rows))
    except IntegrityError:
        return None
    audit_witness(seals=seals)
    return seal


def audit_seal_all(*, horizon_seconds: float = 5, max_events: int = 10000, events=AuditEvent,
                   seals=AuditSeal) -> int:
    """Seal until caught up; returns how many events were sealed. A seal that is not
    full means caught up: stopping there (rather than when nothing is left) keeps a
    steady stream of new rows from turning one run into an endless series of tiny seals,
    each a few commits of overhead; those rows wait for the next run."""
    sealed = 0
    while (seal := audit_seal(horizon_seconds=horizon_seconds, max_events=max_events,
                              events=events, seals=seals)) is not None:
        sealed += seal.event_count
        if seal.event_count < max_events:
            break
    return sealed


def _ids_written(events, *, after: int, up_to: int, carried: list[int]) -> set[int]:
    """Ids of rows that exist, committed or not, in (after, up_to] and among `carried`:
    a dirty read on a connection of its own (our own may be inside a transaction).
    Those not committed are in flight; an id absent here was rolled back or never used,
    so a row that shows up with it later was inserted behind the sealer's back."""
    connection = connections[router.db_for_read(events)].copy()
    table = connection.ops.quote_name(events._meta.db_table)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
            cursor.execute(f"SELECT id FROM {table} WHERE id > %s AND id <= %s", [after, up_to])
            ids = {row[0] for row in cursor.fetchall()}
            if carried:
                cursor.execute(f"SELECT id FROM {table} WHERE id IN "
                               f"({', '.join(['%s'] * len(carried))})", carried)
                ids |= {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    return ids


def audit_witness(*, seals=AuditSeal) -> SealWitness | None:
    """Remember the newest seal of a trail in this node's local schema (insert-only).
    On a secondary this witnesses the primary's seals as replication brings them."""
    newest = seals.objects.order_by("-id").values_list("id", "seal_hash").first()
    if newest is None:
        return None
    seen = (SealWitness.objects.filter(trail=seals.TRAIL).order_by("-seal_id")
            .values_list("seal_id", flat=True).first())
    if seen is not None and seen >= newest[0]:
        return None
    return SealWitness.objects.create(trail=seals.TRAIL, seal_id=newest[0], seal_hash=newest[1])
