"""The SMTP account's password never reaches an alert's recorded error, the audit
trail or the log, even when the mail server refuses the login."""
import uuid
from datetime import datetime, timezone

import pytest

from alerts.models import AlertDelivery
from alerts.services import alert_transition, deliveries_sweep
from audit.models import AuditEvent
from tests.alerts.conftest import choose_channels, point_targets
from tests.alerts.receivers import SmtpReceiver

pytestmark = pytest.mark.django_db(databases="__all__")
SMTP_PASSWORD = "smtp-Pa55word-never-shown"


# The receiver asks for a login over plain text on loopback: only here, to refuse it.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_refused_smtp_login_is_recorded_without_the_password(alert_settings, caplog):
    smtp = SmtpReceiver(refuse_logins=True).start()
    try:
        alert_settings.EMAIL_HOST_USER = "strongroom"
        alert_settings.EMAIL_HOST_PASSWORD = SMTP_PASSWORD
        alert_settings.ALERT_MAX_ATTEMPTS = 1
        point_targets(smtp_port=smtp.port, syslog_port=9, snmp_port=9, settings=alert_settings)
        choose_channels("ha_failed", "email")
        alert_transition(event="ha_failed", node="node-b", peer="node-a:3306",
                         since=datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc), detail="",
                         transition_id=str(uuid.uuid4()))
        deliveries_sweep()
    finally:
        smtp.stop()
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed" and "SMTPAuthenticationError" in delivery.last_error
    [audited] = AuditEvent.objects.filter(detail__outcome="failed")
    for text in (delivery.last_error, str(audited.detail), audited.reason, caplog.text):
        assert SMTP_PASSWORD not in text
    assert not smtp.messages
