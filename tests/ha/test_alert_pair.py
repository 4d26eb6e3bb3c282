"""On a real pair: the alert settings made on the primary replicate to the secondary,
which shows them read-only, refuses to change them, and sends by itself, through its
own Celery worker, the alerts for what it observes (the primary may be down)."""
import uuid

import pytest

from tests.alerts.receivers import SnmpTrapReceiver, SyslogUdpReceiver
from tests.alerts.syslog_grammar import parse
from tests.ha.support import WebClient, alert_settings
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha

SEND_FROM_SECONDARY = (
    "from django.utils import timezone; from alerts.services import alert_transition; "
    "alert_transition(event='ha_failed', node='secondary.strongroom.test', "
    "since=timezone.now(), peer='primary:3306', detail='Slave_IO_Running is Connecting', "
    "transition_id='{transition}')")


@pytest.fixture
def receivers():
    syslog, traps = SyslogUdpReceiver().start(), SnmpTrapReceiver(community="public").start()
    yield syslog, traps
    syslog.stop()
    traps.stop()


def test_the_secondary_sends_its_own_alerts_with_the_settings_made_on_the_primary(
        pair, receivers):
    syslog, traps = receivers
    settings = {"ha_failed__syslog": "on", "ha_failed__snmp": "on",
                "syslog_host": "127.0.0.1", "syslog_port": str(syslog.port),
                "syslog_transport": "udp", "snmp_host": "127.0.0.1",
                "snmp_port": str(traps.port), "email_recipients": ""}
    with alert_settings(pair, settings):
        on_secondary = WebClient(pair.secondary.url)
        on_secondary.login("admin", pair.primary.admin_password())
        status, page, _ = on_secondary.get("/alerts/")
        assert status == 200 and 'id="alerts-read-only"' in page
        assert 'name="ha_failed__syslog" disabled id="id_ha_failed__syslog" checked' in page
        status, _, _ = on_secondary.post("/alerts/", {**settings, "ha_failed__email": "on"})
        assert status == 503

        transition = str(uuid.uuid4())
        for _ in range(2):  # the same transition twice: one alert per channel
            result = run_manage("shell", "-c", SEND_FROM_SECONDARY.format(transition=transition),
                                node=pair.secondary.profile)
            assert result.returncode == 0, result.stderr
        # Real transitions of other tests may reach these receivers too: only ours count.
        def ours() -> tuple[list, list]:
            messages = [parse(raw) for raw in list(syslog.messages)]
            return ([m for m in messages if m["params"]["transition"] == transition],
                    [trap for trap in list(traps.traps)
                     if any(value == transition for _oid, value, _kind in trap[2:])])

        wait_until(lambda: all(ours()), timeout=60,
                   what="the secondary's worker to send the syslog message and the trap")
        [message], _ = ours()
        assert message["params"]["node"] == "secondary.strongroom.test"

        def sent() -> list[tuple]:
            return [tuple(row) for row in pair.secondary.sql(
                "SELECT channel, attempts FROM strongroom_local.alerts_alertdelivery "
                "WHERE status = 'sent' AND transition_id = %s ORDER BY channel",
                (uuid.UUID(transition).hex,))]

        wait_until(lambda: len(sent()) == 2, what="both deliveries recorded as sent")
        assert sent() == [("snmp", 1), ("syslog", 1)]
        messages, trapped = ours()
        assert len(messages) == 1 and len(trapped) == 1
