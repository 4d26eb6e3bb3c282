"""alert_transition against real receivers on loopback (SMTP, syslog, SNMP): one
message per chosen channel, never twice for one transition, a dead receiver retried
and recorded while the others are sent. The sending is the service the Celery task
calls (test_alert_worker.py runs it in a real worker)."""
import uuid
from datetime import datetime, timezone

import pytest

from alerts.channels.snmp import MIB_ROOT
from alerts.models import AlertDelivery
from alerts.selectors import deliveries_failed_count
from alerts.services import alert_transition, deliveries_sweep
from audit.models import AuditEvent, AuditOutbox
from tests.alerts.conftest import choose_channels, point_targets
from tests.alerts.syslog_grammar import parse
from tests.support import wait_until

pytestmark = pytest.mark.django_db(databases="__all__")
SINCE = datetime(2026, 11, 25, 17, 0, 5, tzinfo=timezone.utc)
SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"


def _transition(event: str = "ha_failed", transition_id: str | None = None) -> str:
    transition_id = transition_id or str(uuid.uuid4())
    alert_transition(event=event, node="node-b.example.test", since=SINCE,
                     peer="node-a.example.test:3306",
                     detail="Slave_IO_Running is Connecting", transition_id=transition_id)
    return transition_id


@pytest.fixture
def receivers(alert_settings, smtp_receiver, syslog_udp, trap_receiver):
    point_targets(smtp_port=smtp_receiver.port, syslog_port=syslog_udp.port,
                  snmp_port=trap_receiver.port, settings=alert_settings)
    return smtp_receiver, syslog_udp, trap_receiver


def test_one_transition_sends_one_message_per_chosen_channel_with_the_right_content(receivers):
    smtp, syslog, traps = receivers
    choose_channels("ha_failed", "email", "syslog", "snmp")
    transition_id = _transition()
    assert deliveries_sweep() == 3
    wait_until(lambda: smtp.messages and syslog.messages and traps.traps, what="3 alerts")

    [mail] = smtp.messages
    assert mail["Subject"] == "[Strongroom] High Availability Failed on node-b.example.test"
    assert mail["X-Envelope-To"] == "oncall@example.test"
    assert mail["X-Strongroom-Transition"] == transition_id
    body = mail.get_payload().replace("\r\n", "\n").strip()
    for said in ("High Availability Failed on node-b.example.test since 2026-11-25 17:00:05 UTC",
                 "node-b.example.test and its peer node-a.example.test:3306 cannot talk",
                 "Detail: Slave_IO_Running is Connecting",
                 "What to do: Check that MariaDB runs on both nodes"):
        assert said in body

    [raw] = syslog.messages
    message = parse(raw)
    assert message["sd_id"] == "strongroom@32473"
    assert message["params"]["event"] == "ha_failed"
    assert message["params"]["node"] == "node-b.example.test"
    assert message["params"]["peer"] == "node-a.example.test:3306"
    assert message["text"] == body

    [trap] = traps.traps
    assert [oid for oid, _value, _kind in trap[:2]] == [SYS_UP_TIME, SNMP_TRAP_OID]
    assert trap[0][2] == "TimeTicks"
    assert trap[1][1] == f"{MIB_ROOT}.0.2"  # STRONGROOM-MIB::strongroomHaFailed
    ours = {oid: value for oid, value, _kind in trap[2:]}
    assert ours[f"{MIB_ROOT}.1.1.0"] == "node-b.example.test"
    assert ours[f"{MIB_ROOT}.1.2.0"] == "node-a.example.test:3306"
    assert ours[f"{MIB_ROOT}.1.3.0"] == "2026-11-25T17:00:05+00:00"
    assert ours[f"{MIB_ROOT}.1.4.0"].startswith("High Availability Failed on node-b")
    assert ours[f"{MIB_ROOT}.1.5.0"] == transition_id

    assert set(AlertDelivery.objects.values_list("channel", "status", "attempts")) == {
        ("email", "sent", 1), ("syslog", "sent", 1), ("snmp", "sent", 1)}
    audited = AuditEvent.objects.filter(action="ha_event", reason__startswith="Alert ")
    assert sorted(event.detail["channel"] for event in audited) == ["email", "snmp", "syslog"]


def test_only_the_channels_chosen_for_the_event_fire(receivers):
    smtp, syslog, traps = receivers
    choose_channels("replication_failed", "syslog")
    choose_channels("ha_failed", "email", "snmp")
    _transition("replication_failed")
    assert deliveries_sweep() == 1
    wait_until(lambda: syslog.messages, what="the syslog alert")
    assert parse(syslog.messages[0])["msgid"] == "replication_failed"
    assert list(AlertDelivery.objects.values_list("channel", flat=True)) == ["syslog"]
    assert not smtp.messages and not traps.traps


def test_an_event_no_channel_is_chosen_for_records_nothing(receivers):
    _transition("ha_alive")
    assert not AlertDelivery.objects.exists()


def test_a_repeated_call_for_one_transition_sends_nothing_more(receivers):
    smtp, syslog, traps = receivers
    choose_channels("ha_failed", "email", "syslog", "snmp")
    choose_channels("ha_alive", "email", "syslog", "snmp")
    failed = _transition("ha_failed")
    deliveries_sweep()
    _transition("ha_failed", transition_id=failed)  # the check ran twice
    _transition("ha_failed", transition_id=failed)
    assert deliveries_sweep() == 0
    # A later transition's alerts arrive after any duplicate would have.
    _transition("ha_alive")
    assert deliveries_sweep() == 3
    wait_until(lambda: len(smtp.messages) == 2 and len(syslog.messages) == 2
               and len(traps.traps) == 2, what="the Alive alerts")
    assert [m["Subject"].split(" on ")[0] for m in smtp.messages] == [
        "[Strongroom] High Availability Failed", "[Strongroom] High Availability Alive"]
    assert [parse(m)["msgid"] for m in syslog.messages] == ["ha_failed", "ha_alive"]
    assert [t[1][1] for t in traps.traps] == [f"{MIB_ROOT}.0.2", f"{MIB_ROOT}.0.1"]
    assert AlertDelivery.objects.count() == 6


def test_a_dead_receiver_is_retried_then_failed_with_its_error_and_the_others_are_sent(
        alert_settings, dead_port, syslog_tcp, trap_receiver):
    point_targets(smtp_port=dead_port, syslog_port=syslog_tcp.port, syslog_transport="tcp",
                  snmp_port=trap_receiver.port, settings=alert_settings)
    choose_channels("ha_failed", "email", "syslog", "snmp")
    _transition()
    deliveries_sweep()
    wait_until(lambda: syslog_tcp.messages and trap_receiver.traps, what="syslog and trap")
    email = AlertDelivery.objects.get(channel="email")
    assert (email.status, email.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > email.claimed_at  # backoff before the next attempt

    wait_until(lambda: deliveries_sweep() == 1, what="the retry to come due")
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 2)  # ALERT_MAX_ATTEMPTS
    assert "ConnectionRefusedError" in email.last_error
    assert deliveries_sweep() == 0  # failed for good: not sent again
    assert deliveries_failed_count() == 1  # what /metrics reports
    assert set(AlertDelivery.objects.exclude(channel="email").values_list(
        "status", flat=True)) == {"sent"}
    [failure] = AuditEvent.objects.filter(action="ha_event", detail__outcome="failed")
    assert failure.detail["channel"] == "email" and failure.detail["attempts"] == 2
    assert "ConnectionRefusedError" in failure.detail["error"]
    assert len(syslog_tcp.messages) == 1 and parse(syslog_tcp.messages[0])["msgid"] == "ha_failed"


def test_a_secondary_records_sends_and_audits_its_alerts_by_itself(receivers, settings):
    smtp, syslog, traps = receivers
    choose_channels("ha_failed", "email", "syslog", "snmp")  # made on the primary
    settings.NODE_ROLE = "secondary"
    _transition()
    assert deliveries_sweep() == 3
    wait_until(lambda: smtp.messages and syslog.messages and traps.traps, what="3 alerts")
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert AuditOutbox.objects.filter(action="ha_event").count() == 3
    assert not AuditEvent.objects.filter(action="ha_event").exists()


def test_an_unknown_event_is_a_programming_error(receivers):
    with pytest.raises(ValueError, match="unknown alert event"):
        _transition("ha_sideways")
