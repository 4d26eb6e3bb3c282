"""Issue 12: audit flow-back ships a batch of outbox rows as one statement (not a round
trip per row over the link), still in order and exactly once."""
import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.integrity import event_hash, verify_trail
from audit.models import AuditEvent, AuditOutbox
from audit.shipping import (COLUMNS, _mark_delivered, _pending_rows, trail_insert,
                            trail_insert_rows)

pytestmark = pytest.mark.django_db(databases="__all__")


def _outbox_batch(count: int) -> list[dict]:
    rows = []
    for i in range(count):
        row = AuditOutbox(occurred_at=timezone.now(), node="secondary.strongroom.test",
                          actor="alice", action="password_reveal", object_type="account",
                          object_id=str(i), object_repr=f"svc{i} «rack» 'x' \\ %s",
                          reason=f"r{i}", detail={"n": i, "why": "it's \"odd\""},
                          source_ip="192.0.2.7" if i % 2 else None)
        row.row_hash = event_hash(row.__dict__)
        rows.append(row)
    AuditOutbox.objects.bulk_create(rows)
    return list(AuditOutbox.objects.order_by("id").values("id", *COLUMNS))


def _inserts_so_far(cursor) -> int:
    """The server's own count of INSERT statements on this connection."""
    cursor.execute("SHOW SESSION STATUS LIKE 'Com_insert'")
    return int(cursor.fetchone()[1])


def test_a_batch_reaches_the_trail_in_one_statement_in_order_and_only_once():
    batch = _outbox_batch(25)
    trail = connections[router.db_for_write(AuditEvent)]
    with trail.cursor() as cursor:
        before = _inserts_so_far(cursor)
        assert trail_insert(cursor, batch) == 25
        assert _inserts_so_far(cursor) - before == 1
    shipped = list(AuditEvent.objects.order_by("id").values_list("uuid", "reason"))
    assert shipped == [(row["uuid"], row["reason"]) for row in batch]
    with trail.cursor() as cursor:
        assert trail_insert(cursor, batch) == 0  # shipped again after a lost ack
    assert AuditEvent.objects.count() == 25
    assert verify_trail().ok  # every row's content hash still matches


def test_an_empty_batch_sends_nothing():
    trail = connections[router.db_for_write(AuditEvent)]
    with CaptureQueriesContext(trail) as queries, trail.cursor() as cursor:
        assert trail_insert(cursor, []) == 0
    assert len(queries) == 0


def test_pending_rows_reach_the_trail_unconverted_and_identical():
    batch = _outbox_batch(12)
    pending = _pending_rows(10)
    assert [row[0] for row in pending] == [row["id"] for row in batch[:10]]  # oldest first
    trail = connections[router.db_for_write(AuditEvent)]
    with trail.cursor() as cursor:
        assert trail_insert_rows(cursor, [row[1:] for row in pending]) == 10
    shipped = list(AuditEvent.objects.order_by("id").values(*COLUMNS))
    assert shipped == [{name: row[name] for name in COLUMNS} for row in batch[:10]]
    assert verify_trail().ok  # content hashes match: the values arrived exactly


def test_marking_delivered_touches_exactly_the_shipped_rows_with_the_current_time():
    batch = _outbox_batch(5)
    shipped = [batch[0]["id"], batch[2]["id"]]
    _mark_delivered(shipped)
    delivered = dict(AuditOutbox.objects.values_list("id", "delivered_at"))
    assert {i for i, when in delivered.items() if when is not None} == set(shipped)
    assert all(abs((delivered[i] - timezone.now()).total_seconds()) < 60 for i in shipped)
    assert _pending_rows(10)[0][0] == batch[1]["id"]
