"""Issue 12: sealing keeps up with a steady stream of audit rows. One run (beat's task,
the audit_seal command) seals in full batches until caught up and then stops, instead
of chasing each new row with a seal of its own."""
from io import StringIO

import pytest
from django.core.management import call_command

from audit import sealing
from audit.integrity import verify_trail
from audit.models import AuditEvent, AuditSeal
from audit.services import audit_record

pytestmark = pytest.mark.django_db(databases="__all__")
Action = AuditEvent.Action


def test_a_seal_run_under_a_steady_stream_of_rows_ends_once_caught_up(alice, monkeypatch):
    for _ in range(5):
        audit_record(action=Action.LOGIN, actor=alice)
    real_seal, calls = sealing.audit_seal, []

    def seal_while_a_row_arrives(**options):
        calls.append(options)
        assert len(calls) < 10, "the run chases every new row and never ends"
        seal = real_seal(**options)
        audit_record(action=Action.LOGIN, actor=alice)
        return seal

    monkeypatch.setattr(sealing, "audit_seal", seal_while_a_row_arrives)
    assert sealing.audit_seal_all(horizon_seconds=0, max_events=3) == 7
    assert list(AuditSeal.objects.order_by("id").values_list("event_count", flat=True)) \
        == [3, 3, 1]
    assert verify_trail().unsealed_events == 1  # the newest waits for the next run


def test_a_seal_run_covers_a_backlog_larger_than_one_seal(alice):
    for _ in range(7):
        audit_record(action=Action.LOGIN, actor=alice)
    assert sealing.audit_seal_all(horizon_seconds=0, max_events=3) == 7
    report = verify_trail()
    assert report.ok and report.seals_checked == 3 and report.unsealed_events == 0


def test_the_seal_command_reports_what_it_sealed(alice):
    for _ in range(4):
        audit_record(action=Action.LOGIN, actor=alice)
    out = StringIO()
    call_command("audit_seal", "--horizon", "0", stdout=out)
    assert "sealed 4 events" in out.getvalue()


def test_audit_verify_reports_how_long_it_took(alice):
    audit_record(action=Action.LOGIN, actor=alice)
    sealing.audit_seal_all(horizon_seconds=0)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "audit trail intact: 1 events, 1 seals" in out.getvalue()
    assert " s)" in out.getvalue() and "checked in" in out.getvalue()
