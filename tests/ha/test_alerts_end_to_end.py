"""R-H8 end to end on the real pair: each node's Celery beat check sees the transition,
its worker sends the alert to real receivers on loopback (RFC 5424 syslog over UDP,
SNMP v2c traps), exactly once per transition, observing node and channel, with the
right content. Email is proven the same way, with a real SMTP server, in
tests/alerts/ (the shared pair's env files name no SMTP server). Every test leaves
the pair healthy."""
from __future__ import annotations

import signal
from collections import Counter
from datetime import datetime, timezone

import pytest

from tests.alerts.receivers import SnmpTrapReceiver, SyslogUdpReceiver
from tests.alerts.syslog_grammar import parse
from tests.ha.support import alert_settings, conflicting_row, wait_for_statuses, wait_healthy
from tests.support import wait_until

pytestmark = pytest.mark.ha

EVENTS = ("ha_failed", "ha_alive", "replication_failed", "replication_alive")
MIB_ROOT = "1.3.6.1.4.1.32473"
TRAP_EVENTS = {f"{MIB_ROOT}.0.1": "ha_alive", f"{MIB_ROOT}.0.2": "ha_failed",
               f"{MIB_ROOT}.0.3": "replication_alive", f"{MIB_ROOT}.0.4": "replication_failed"}
SECONDARY, PRIMARY = "secondary.strongroom.test", "primary.strongroom.test"


class Receivers:
    def __init__(self) -> None:
        self.syslog = SyslogUdpReceiver().start()
        self.traps = SnmpTrapReceiver(community="public").start()

    def alerts_since(self, started: datetime) -> list[tuple[str, str, str, str]]:
        """(channel, node, event, text) of every alert about a transition since `started`
        (an earlier test's transitions may still be retried to whoever listens now)."""
        alerts = []
        for raw in list(self.syslog.messages):
            message = parse(raw)
            params = message["params"]
            if datetime.fromisoformat(params["since"]) >= started:
                alerts.append(("syslog", params["node"], params["event"], message["text"]))
        for trap in list(self.traps.traps):
            ours = {oid: value for oid, value, _kind in trap[2:]}
            if datetime.fromisoformat(ours[f"{MIB_ROOT}.1.3.0"]) >= started:
                alerts.append(("snmp", ours[f"{MIB_ROOT}.1.1.0"], TRAP_EVENTS[trap[1][1]],
                               ours[f"{MIB_ROOT}.1.4.0"]))
        return alerts

    def wait_for(self, started: datetime, expected: Counter) -> list:
        """Every expected (channel, node, event) arrived; then none more than once."""
        def arrived():
            seen = Counter(alert[:3] for alert in self.alerts_since(started))
            return all(seen[key] >= count for key, count in expected.items())

        wait_until(arrived, timeout=60, what=f"alerts {sorted(expected)}")
        return self.alerts_since(started)

    def stop(self) -> None:
        self.syslog.stop()
        self.traps.stop()


@pytest.fixture(scope="module")
def receivers(pair):
    """Every event fires syslog and SNMP, chosen by the administrator on the primary."""
    receivers = Receivers()
    choices = {f"{event}__{channel}": "on" for event in EVENTS for channel in ("syslog", "snmp")}
    with alert_settings(pair, {
            **choices, "syslog_host": "127.0.0.1", "syslog_port": str(receivers.syslog.port),
            "syslog_transport": "udp", "snmp_host": "127.0.0.1",
            "snmp_port": str(receivers.traps.port), "email_recipients": ""}):
        yield receivers
    receivers.stop()


def each_channel(*keys: tuple[str, str]) -> Counter:
    return Counter((channel, node, event) for node, event in keys
                   for channel in ("syslog", "snmp"))


def assert_exactly(alerts: list, expected: Counter) -> None:
    """Of the events expected, each alert came exactly once (no duplicate, no stray)."""
    events = {event for _channel, _node, event in expected}
    assert Counter(alert[:3] for alert in alerts if alert[2] in events) == expected


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_a_frozen_link_alerts_once_from_each_node_and_once_more_when_it_returns(
        pair, receivers):
    wait_healthy(pair)
    started = now()
    pair.link.freeze()
    try:
        wait_for_statuses(pair.secondary, "failed")
        failed = each_channel((SECONDARY, "ha_failed"), (PRIMARY, "ha_failed"))
        alerts = receivers.wait_for(started, failed)
    finally:
        pair.link.resume()
    wait_healthy(pair)
    alive = each_channel((SECONDARY, "ha_alive"), (PRIMARY, "ha_alive"))
    alerts = receivers.wait_for(started, failed + alive)
    assert_exactly(alerts, failed + alive)
    texts = [text for channel, node, event, text in alerts
             if (node, event) == (SECONDARY, "ha_failed")]
    assert texts and all(text.startswith(f"High Availability Failed on {SECONDARY}")
                         for text in texts)


def test_a_conflicting_row_alerts_replication_failed_with_the_database_error(
        pair, receivers):
    wait_healthy(pair)
    started = now()
    failed = each_channel((SECONDARY, "replication_failed"), (PRIMARY, "replication_failed"))
    with conflicting_row(pair):
        alerts = receivers.wait_for(started, failed)
    wait_healthy(pair)
    alive = each_channel((SECONDARY, "replication_alive"), (PRIMARY, "replication_alive"))
    alerts = receivers.wait_for(started, failed + alive)
    assert_exactly(alerts, failed + alive)
    assert any("Duplicate entry" in text for channel, node, event, text in alerts
               if (node, event) == (SECONDARY, "replication_failed"))


def test_a_killed_primary_database_is_alerted_by_the_secondary_alone(pair, receivers):
    wait_healthy(pair)
    started = now()
    mariadb = pair.primary.profile.mariadb
    mariadb.stop(sig=signal.SIGKILL)
    failed = each_channel((SECONDARY, "ha_failed"))
    try:
        wait_for_statuses(pair.secondary, "failed")
        receivers.wait_for(started, failed)
    finally:
        mariadb.start()
    wait_healthy(pair)
    alive = each_channel((SECONDARY, "ha_alive"))
    alerts = receivers.wait_for(started, failed + alive)
    from_secondary = [alert for alert in alerts if alert[1] == SECONDARY]
    assert_exactly(from_secondary, failed + alive)
