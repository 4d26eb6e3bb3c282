"""Issue 8 item 13: a row that commits after the sealer's horizon is sealed in a later
seal, so audit_verify never reports tampering that did not happen. Real commits on
real connections: a second connection holds a row lock that a delete's cascade needs
while the delete's own audit row waits, uncommitted, and the sealer runs meanwhile."""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from audit.integrity import verify_trail
from audit.models import AuditEvent
from audit.services import audit_record, audit_seal
from vault import services
from vault.models import Resource

# serialized_rollback puts back the role groups the flush after the test removes.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__",
                                   serialized_rollback=True)
Action = AuditEvent.Action


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _uncommitted_delete_row(reader) -> int | None:
    with reader.cursor() as cursor:
        cursor.execute("SELECT id FROM audit_auditevent WHERE action = %s",
                       [Action.RESOURCE_DELETE])
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_delete_that_commits_late_is_sealed_later_and_the_trail_verifies(
        alice, server, root_account):
    locker, reader = connections["default"].copy(), connections["default"].copy()
    with reader.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
    with locker.cursor() as cursor:
        cursor.execute("START TRANSACTION")
        cursor.execute("SELECT id FROM vault_account WHERE id = %s FOR UPDATE",
                       [root_account.pk])

    def delete():
        try:
            services.resource_delete(user=alice, resource=server)
        finally:
            connections.close_all()

    deleter = threading.Thread(target=delete)
    deleter.start()
    try:
        late_id = wait_until(lambda: _uncommitted_delete_row(reader), timeout=30,
                             what="the delete's audit row (written, not committed)")
        later = audit_record(action=Action.LOGIN, actor=alice)  # commits at once
        # The sealer, with its real 5 s horizon, runs once every row around the one in
        # flight is older than that: one seal spans the uncommitted id.
        wait_until(lambda: timezone.now() - later.recorded_at > timedelta(seconds=5.5),
                   timeout=30, what="the horizon to pass")
        seal = audit_seal()
        assert seal.first_event_id < late_id < later.pk <= seal.last_event_id
        assert not AuditEvent.objects.filter(pk=late_id).exists()  # still in flight
        assert verify_trail().ok
    finally:
        with locker.cursor() as cursor:
            cursor.execute("COMMIT")
        deleter.join(timeout=60)
        locker.close()
        reader.close()
    assert not deleter.is_alive() and not Resource.objects.filter(pk=server.pk).exists()
    assert AuditEvent.objects.filter(pk=late_id).exists()
    report = verify_trail()
    assert report.ok, report.problem  # before the next seal: pending, not tampering
    audit_seal(horizon_seconds=0)
    report = verify_trail()
    assert report.ok, report.problem
    assert report.unsealed_events == 0 and report.late_events == 1
