"""The syslog channel writes RFC 5424: checked against the RFC's grammar."""
import uuid
from datetime import datetime, timezone

import pytest

from alerts.channels.syslog import alert_message, format_message
from alerts.models import AlertDelivery
from tests.alerts.syslog_grammar import parse

SINCE = datetime(2026, 11, 25, 17, 0, 5, tzinfo=timezone.utc)


def _delivery(**fields) -> AlertDelivery:
    values = {"transition_id": uuid.uuid4(), "channel": "syslog", "event": "ha_failed",
              "node": "node-b.example.test", "peer": "node-a.example.test:3306",
              "since": SINCE, "detail": "Slave_IO_Running: Connecting"}
    return AlertDelivery(**{**values, **fields})


def test_an_alert_is_an_rfc_5424_message_with_the_strongroom_structured_data(settings):
    settings.ALERT_SYSLOG_FACILITY = "local0"
    delivery = _delivery()
    message = parse(alert_message(delivery))
    assert message["prival"] == str(16 * 8 + 3)  # local0, error: a failure
    assert message["version"] == "1"
    assert (message["hostname"], message["app"], message["msgid"]) == (
        "node-b.example.test", "strongroom", "ha_failed")
    assert message["sd_id"] == "strongroom@32473"
    assert message["params"] == {"event": "ha_failed", "node": "node-b.example.test",
                                 "peer": "node-a.example.test:3306",
                                 "since": "2026-11-25T17:00:05+00:00",
                                 "transition": str(delivery.transition_id)}
    assert message["text"].startswith(
        "High Availability Failed on node-b.example.test since 2026-11-25 17:00:05 UTC.")
    assert "What to do:" in message["text"]


def test_the_enterprise_number_is_a_setting_and_alive_is_a_notice(settings):
    settings.ALERT_ENTERPRISE_NUMBER = 99999
    message = parse(alert_message(_delivery(event="ha_alive")))
    assert message["sd_id"] == "strongroom@99999"
    assert message["prival"] == str(16 * 8 + 5)


@pytest.mark.parametrize("peer", ['db"1', "db]1", "db\\1", "dé-1 ünïcode"])
def test_parameter_values_are_escaped_so_they_read_back_unchanged(peer):
    raw = format_message(facility=1, severity=3, timestamp=SINCE, hostname="node a",
                         msgid="ha_failed", params={"peer": peer}, text="x",
                         enterprise=32473).encode()
    message = parse(raw)
    assert message["params"] == {"peer": peer}
    assert message["hostname"] == "node_a"  # HOSTNAME has no space


def test_a_bad_facility_is_a_channel_error_not_a_crash(settings):
    from alerts.channels import ChannelError

    settings.ALERT_SYSLOG_FACILITY = "nonsense"
    with pytest.raises(ChannelError, match="not a facility"):
        alert_message(_delivery())
