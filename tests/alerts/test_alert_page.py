"""The alerts page: administrators choose each event's channels and the targets on the
primary (audited); a secondary shows them read-only and refuses a change."""
import pytest

from alerts.models import AlertDelivery, AlertRule, AlertTargets
from alerts.selectors import channels_for_event
from audit.models import AuditEvent
from tests.alerts.conftest import choose_channels

pytestmark = pytest.mark.django_db(databases="__all__")

FORM = {"ha_failed__email": "on", "ha_failed__syslog": "on", "ha_failed__snmp": "on",
        "replication_failed__syslog": "on",
        "email_recipients": "oncall@example.test, dba@example.test",
        "syslog_host": "127.0.0.1", "syslog_port": "6514", "syslog_transport": "tcp",
        "snmp_host": "127.0.0.1", "snmp_port": "1162"}


def test_an_administrator_chooses_channels_per_event_and_the_change_is_audited(client, alice):
    client.force_login(alice)
    page = client.get("/alerts/")
    assert page.status_code == 200
    for title in (b"High Availability Alive", b"High Availability Failed",
                  b"Replication Alive", b"Replication Failed"):
        assert title in page.content
    response = client.post("/alerts/", FORM)
    assert response.status_code == 302
    assert channels_for_event(event="ha_failed") == ["email", "syslog", "snmp"]
    assert channels_for_event(event="replication_failed") == ["syslog"]
    assert channels_for_event(event="ha_alive") == []
    targets = AlertTargets.objects.get(pk=1)
    assert targets.email_recipient_list() == ["oncall@example.test", "dba@example.test"]
    assert (targets.syslog_port, targets.syslog_transport, targets.snmp_port) == (6514, "tcp",
                                                                                   1162)
    [audited] = AuditEvent.objects.filter(action="ha_event", actor="alice")
    assert audited.reason == "Alert settings changed"
    assert audited.detail["rules"]["ha_failed"] == ["email", "snmp", "syslog"]
    assert audited.detail["targets"]["syslog_host"] == "127.0.0.1"


def test_a_bad_recipient_is_refused_with_a_message_and_nothing_is_saved(client, alice):
    client.force_login(alice)
    response = client.post("/alerts/", {**FORM, "email_recipients": "not-an-address"})
    assert response.status_code == 200 and b"valid email" in response.content
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize("person", ["bob", "carol", "mallory"])
def test_only_administrators_reach_the_alerts_page(client, person, request):
    client.force_login(request.getfixturevalue(person))
    assert client.get("/alerts/").status_code == 403
    assert client.post("/alerts/", FORM).status_code == 403
    assert not AlertRule.objects.exists()


def test_a_secondary_shows_the_settings_read_only_and_refuses_a_change(client, alice, settings):
    choose_channels("ha_failed", "email")  # made on the primary, replicated here
    settings.NODE_ROLE = "secondary"
    client.force_login(alice)
    page = client.get("/alerts/")
    assert page.status_code == 200
    assert b'id="alerts-read-only"' in page.content and b'id="save"' not in page.content
    assert b'name="ha_failed__email" disabled id="id_ha_failed__email" checked' in page.content
    assert b'name="syslog_host" maxlength="255" disabled' in page.content
    response = client.post("/alerts/", FORM)
    assert response.status_code == 503
    assert b"changes can only be made on the primary" in response.content
    assert channels_for_event(event="ha_failed") == ["email"]
    assert not AuditEvent.objects.filter(reason="Alert settings changed").exists()


def test_the_page_lists_what_this_node_sent_with_each_error(client, alice):
    from datetime import datetime, timezone
    from uuid import uuid4

    AlertDelivery.objects.create(
        transition_id=uuid4(), channel="email", event="ha_failed", node="node-b",
        since=datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc), status="failed", attempts=6,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        next_attempt_at=datetime(2026, 11, 25, 17, 1, tzinfo=timezone.utc))
    client.force_login(alice)
    page = client.get("/alerts/").content
    assert b"High Availability Failed" in page and b"Connection refused" in page
    assert b"status-failed" in page


def test_the_page_warns_of_a_chosen_channel_with_nowhere_to_send(client, alice, settings):
    settings.ALERT_EMAIL_TO = []
    choose_channels("ha_failed", "email", "snmp")
    client.force_login(alice)
    page = client.get("/alerts/").content.decode()
    assert "Chosen for an event but with nowhere to send: Email, SNMP trap." in page
    settings.ALERT_EMAIL_TO = ["oncall@example.test"]
    page = client.get("/alerts/").content.decode()
    assert "nowhere to send: SNMP trap." in page
