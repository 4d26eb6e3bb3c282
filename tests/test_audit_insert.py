"""Issue 12: the audit row is written with a statement built once, not compiled by the
ORM on every reveal; the stored row is exactly the event that was hashed, and the
trail over such rows seals and verifies."""
import pytest
from django.test import RequestFactory

from audit.integrity import HASHED_FIELDS, event_hash, verify_trail
from audit.models import AuditEvent
from audit.services import audit_record, audit_seal
from vault import services

pytestmark = pytest.mark.django_db(databases="__all__")
Action = AuditEvent.Action


def test_the_stored_row_is_the_event_that_was_hashed(alice, root_account):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    event = audit_record(action=Action.PASSWORD_REVEAL, actor=alice, request=request,
                         target=root_account, reason="  rotation ",
                         detail={"version": "x", "nested": {"n": 1, "ü": [1, 2]}})
    stored = (AuditEvent.objects.values("id", "row_hash", "recorded_at", *HASHED_FIELDS)
              .get(action=Action.PASSWORD_REVEAL))
    assert stored["id"] == event.pk and not event._state.adding
    assert {name: stored[name] for name in HASHED_FIELDS} == \
        {name: getattr(event, name) for name in HASHED_FIELDS}
    assert stored["source_ip"] == "192.0.2.7" and stored["detail"]["nested"]["ü"] == [1, 2]
    assert event_hash(stored) == stored["row_hash"] == event.row_hash
    assert stored["recorded_at"] is not None


def test_reveals_written_this_way_seal_and_verify(alice, root_account):
    for reason in ("one", "two", "three"):
        services.password_reveal(user=alice, account=root_account, reason=reason)
    audit_record(action=Action.LOGIN, actor_name="anonymous")  # no target, no request
    assert audit_seal(horizon_seconds=0) is not None
    report = verify_trail()
    assert report.ok, report.problem
    assert report.events_checked == AuditEvent.objects.count() >= 4
