import pytest

from alerts.models import AlertRule, AlertTargets
from tests.alerts.receivers import (COMMUNITY, SmtpReceiver, SnmpTrapReceiver,
                                    SyslogTcpReceiver, SyslogUdpReceiver, free_port)


@pytest.fixture
def smtp_receiver():
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def syslog_udp():
    receiver = SyslogUdpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def syslog_tcp():
    receiver = SyslogTcpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def trap_receiver():
    receiver = SnmpTrapReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def dead_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def alert_settings(settings):
    """Fast retries, the test community and this node's SMTP account (none)."""
    settings.ALERT_SNMP_COMMUNITY = COMMUNITY
    settings.ALERT_RETRY_SECONDS = 0.2
    settings.ALERT_MAX_ATTEMPTS = 2
    settings.DEFAULT_FROM_EMAIL = "strongroom@node-a.example.test"
    settings.EMAIL_HOST = "127.0.0.1"
    return settings


def choose_channels(event: str, *channels: str) -> None:
    AlertRule.objects.update_or_create(event=event, defaults={
        name: name in channels for name in ("email", "syslog", "snmp")})


def point_targets(*, smtp_port: int, syslog_port: int, syslog_transport: str = "udp",
                  snmp_port: int, settings) -> None:
    settings.EMAIL_PORT = smtp_port
    AlertTargets.objects.update_or_create(pk=1, defaults={
        "email_recipients": "oncall@example.test", "syslog_host": "127.0.0.1",
        "syslog_port": syslog_port, "syslog_transport": syslog_transport,
        "snmp_host": "127.0.0.1", "snmp_port": snmp_port})
