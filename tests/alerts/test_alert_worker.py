"""A real Celery worker process sends the alerts alert_transition enqueues, and its
retries (with backoff) deliver an alert once a dead receiver comes back."""
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from django.db import connections

from alerts.models import AlertDelivery
from alerts.services import alert_transition
from tests.alerts.conftest import choose_channels, point_targets
from tests.alerts.receivers import COMMUNITY, SmtpReceiver
from tests.alerts.syslog_grammar import parse
from tests.support import wait_until

# serialized_rollback, as every transactional test here: the flush after it must not
# re-create content types that the next serialized test restores.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__",
                                   serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker(master_key_path, dead_port, tmp_path):
    """`celery worker` as `make run` starts it, on this test's databases; the SMTP server
    it is told about (dead_port) has nobody listening yet."""
    env = {**os.environ,
           "DB_NAME": connections["default"].settings_dict["NAME"],
           "DB_LOCAL_NAME": connections["local"].settings_dict["NAME"],
           "STRONGROOM_MASTER_KEY_FILE": str(master_key_path),
           "STRONGROOM_ALERT_SNMP_COMMUNITY": COMMUNITY,
           "STRONGROOM_ALERT_RETRY_SECONDS": "0.5", "STRONGROOM_ALERT_RETRY_MAX_SECONDS": "1",
           "STRONGROOM_ALERT_MAX_ATTEMPTS": "30",
           "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(dead_port)}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "strongroom", "worker", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()


def test_a_celery_worker_sends_each_alert_and_retries_a_dead_receiver_until_it_is_back(
        alert_settings, dead_port, syslog_udp, trap_receiver, celery_worker):
    point_targets(smtp_port=dead_port, syslog_port=syslog_udp.port,
                  snmp_port=trap_receiver.port, settings=alert_settings)
    choose_channels("ha_failed", "email", "syslog", "snmp")
    alert_transition(event="ha_failed", node="node-b.example.test",
                     since=datetime(2026, 11, 25, 17, 0, 5, tzinfo=timezone.utc),
                     peer="node-a.example.test:3306", detail="", transition_id=str(uuid.uuid4()))

    wait_until(lambda: syslog_udp.messages and trap_receiver.traps, timeout=60,
               what="the worker to send the syslog message and the trap")
    email = wait_until(lambda: AlertDelivery.objects.filter(
        channel="email", attempts__gte=1, status="pending").first(), timeout=30,
        what="the first email attempt to fail")
    assert "ConnectionRefusedError" in email.last_error

    smtp = SmtpReceiver(port=dead_port).start()  # the mail server comes back
    try:
        email = wait_until(lambda: AlertDelivery.objects.filter(
            channel="email", status="sent").first(), timeout=30, what="the retried email")
        wait_until(lambda: smtp.messages, what="the email to arrive")
    finally:
        smtp.stop()
    assert email.attempts >= 2 and email.last_error == ""
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Subject"].startswith("[Strongroom] High Availability Failed")
    assert len(syslog_udp.messages) == 1 and parse(syslog_udp.messages[0])["msgid"] == "ha_failed"
    assert len(trap_receiver.traps) == 1
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
