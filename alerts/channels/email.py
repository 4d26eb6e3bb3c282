"""Email through Django's SMTP backend, named here so a test or a dev setting that
swaps EMAIL_BACKEND cannot turn a real alert into a no-op."""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from alerts.channels import ChannelError
from alerts.events import alert_subject, alert_text
from alerts.models import AlertDelivery, AlertTargets

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def send(*, delivery: AlertDelivery, targets: AlertTargets) -> None:
    recipients = targets.email_recipient_list() or settings.ALERT_EMAIL_TO
    if not recipients:
        raise ChannelError("no recipient: set them on the alerts page or in "
                           "STRONGROOM_ALERT_EMAIL_TO")
    connection = get_connection(SMTP_BACKEND, fail_silently=False,
                                timeout=settings.ALERT_SEND_TIMEOUT)
    message = EmailMessage(
        subject=alert_subject(event=delivery.event, node=delivery.node),
        body=alert_text(event=delivery.event, node=delivery.node, peer=delivery.peer,
                        since=delivery.since, detail=delivery.detail),
        from_email=settings.DEFAULT_FROM_EMAIL, to=recipients, connection=connection,
        headers={"X-Strongroom-Event": delivery.event,
                 "X-Strongroom-Transition": str(delivery.transition_id)})
    message.send()
