"""alert_transition never fails the check that calls it: with the broker down, the
deliveries stay recorded and the beat sweep sends them later."""
import uuid
from datetime import datetime, timezone

import pytest

from alerts.models import AlertDelivery
from alerts.services import alert_transition, deliveries_sweep
from strongroom.celery import app
from tests.alerts.conftest import choose_channels, point_targets
from tests.support import wait_until

# serialized_rollback, as every transactional test here: the flush after it must not
# re-create content types that the next serialized test restores.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__",
                                   serialized_rollback=True)


@pytest.fixture
def broker_down(dead_port):
    """Celery's publishing pools are built from broker_write_url on first use."""
    saved = app.conf.broker_write_url
    app.conf.broker_write_url = f"redis://127.0.0.1:{dead_port}/0"
    app._pool = app.amqp._producer_pool = None
    yield
    app.conf.broker_write_url = saved
    app._pool = app.amqp._producer_pool = None


def test_with_the_broker_down_the_transition_is_recorded_and_the_sweep_sends_it(
        alert_settings, syslog_udp, trap_receiver, dead_port, broker_down, caplog):
    point_targets(smtp_port=dead_port, syslog_port=syslog_udp.port,
                  snmp_port=trap_receiver.port, settings=alert_settings)
    choose_channels("replication_failed", "syslog")
    alert_transition(event="replication_failed", node="node-b", peer="node-a:3306",
                     since=datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc),
                     detail="Duplicate entry '7' for key 'PRIMARY'",
                     transition_id=str(uuid.uuid4()))
    assert AlertDelivery.objects.get().status == "pending"
    assert "not enqueued: the broker is unreachable" in caplog.text
    assert deliveries_sweep() == 1
    wait_until(lambda: syslog_udp.messages, what="the swept syslog alert")
    assert b"Duplicate entry '7' for key 'PRIMARY'" in syslog_udp.messages[0]
